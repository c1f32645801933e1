//! The SMTP mailer: lettre's SMTP client over a pool of our own
//! `TCP_NODELAY` connections (see [`crate::connection`]), configured from a URL.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use percent_encoding::percent_decode_str;
use portal_access_core::{Mailer, MailerError, NewMessage};
use secrecy::{ExposeSecret, SecretString};

use crate::compose::MessageComposer;
use crate::connection::{ConnectionPool, ConnectionSettings, Security};

/// The default bound on one delivery (connect, TLS, AUTH, the whole SMTP
/// transaction).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default number of connections to the server open at once (and kept
/// open for reuse).
pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;

/// Default port of `smtp://` without TLS or with `tls=opportunistic`.
pub const DEFAULT_SMTP_PORT: u16 = 25;
/// Default port of `smtp://…?tls=starttls` (submission).
pub const DEFAULT_SUBMISSION_PORT: u16 = 587;
/// Default port of `smtps://` (submission over implicit TLS).
pub const DEFAULT_SMTPS_PORT: u16 = 465;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain text (`smtp://`, the default, or `?tls=none`).
    None,
    /// STARTTLS when the server offers it, plain text otherwise
    /// (`?tls=opportunistic`).
    Opportunistic,
    /// STARTTLS, required: refuse to send if the server does not offer it
    /// (`?tls=starttls`, alias `?tls=required`).
    StartTls,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

/// A parsed `smtp://` / `smtps://` URL.
#[derive(Clone)]
pub struct SmtpEndpoint {
    host: String,
    port: u16,
    tls: TlsMode,
    credentials: Option<(String, SecretString)>,
}

impl SmtpEndpoint {
    /// Parses `smtp[s]://[user[:password]@]host[:port][?tls=none|opportunistic|starttls]`.
    /// User and password are percent-decoded.
    ///
    /// ```
    /// use portal_access_smtp::{SmtpEndpoint, TlsMode};
    ///
    /// let e = SmtpEndpoint::parse("smtp://mailer%40firm:p%2Fss@mail.firm.example?tls=starttls")?;
    /// assert_eq!((e.host(), e.port(), e.tls()), ("mail.firm.example", 587, TlsMode::StartTls));
    /// assert_eq!(e.username(), Some("mailer@firm"));
    /// assert_eq!(SmtpEndpoint::parse("smtps://mail.firm.example")?.port(), 465);
    /// assert!(SmtpEndpoint::parse("smtp://user:pw@mail.firm.example").is_err()); // cleartext AUTH
    /// # Ok::<(), portal_access_smtp::SmtpConfigError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, SmtpConfigError> {
        let url = url::Url::parse(text).map_err(SmtpConfigError::Url)?;
        let implicit = match url.scheme() {
            "smtp" => false,
            "smtps" => true,
            other => return Err(SmtpConfigError::Scheme(other.to_owned())),
        };
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(SmtpConfigError::MissingHost),
        };
        if !matches!(url.path(), "" | "/") || url.fragment().is_some() {
            return Err(SmtpConfigError::Path);
        }
        let mut tls = if implicit {
            TlsMode::Implicit
        } else {
            TlsMode::None
        };
        for (key, value) in url.query_pairs() {
            tls = match (key.as_ref(), value.as_ref(), implicit) {
                ("tls", "none", false) => TlsMode::None,
                ("tls", "opportunistic", false) => TlsMode::Opportunistic,
                ("tls", "starttls" | "required", false) => TlsMode::StartTls,
                ("tls", _, _) => return Err(SmtpConfigError::TlsParameter(value.into_owned())),
                _ => return Err(SmtpConfigError::UnknownParameter(key.into_owned())),
            };
        }
        let port = url.port().unwrap_or(match tls {
            TlsMode::None | TlsMode::Opportunistic => DEFAULT_SMTP_PORT,
            TlsMode::StartTls => DEFAULT_SUBMISSION_PORT,
            TlsMode::Implicit => DEFAULT_SMTPS_PORT,
        });
        let credentials = if url.username().is_empty() {
            None
        } else {
            let decode = |s: &str| {
                percent_decode_str(s)
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(SmtpConfigError::PercentEncoding)
            };
            let user = decode(url.username())?;
            let password = decode(url.password().unwrap_or(""))?;
            Some((user, SecretString::from(password)))
        };
        let loopback =
            host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if credentials.is_some()
            && !loopback
            && matches!(tls, TlsMode::None | TlsMode::Opportunistic)
        {
            return Err(SmtpConfigError::CleartextCredentials { host });
        }
        Ok(Self {
            host,
            port,
            tls,
            credentials,
        })
    }

    /// Host name or IP address.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// TLS mode.
    pub fn tls(&self) -> TlsMode {
        self.tls
    }

    /// The AUTH user name, if credentials were given.
    pub fn username(&self) -> Option<&str> {
        self.credentials.as_ref().map(|(u, _)| u.as_str())
    }
}

impl fmt::Debug for SmtpEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpEndpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username())
            .field("password", &self.credentials.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// A configuration the SMTP mailer refuses.
#[derive(Debug, thiserror::Error)]
pub enum SmtpConfigError {
    /// Not a URL.
    #[error("invalid SMTP URL")]
    Url(#[source] url::ParseError),
    /// Neither `smtp` nor `smtps`.
    #[error("unsupported scheme {0:?}: use smtp:// or smtps://")]
    Scheme(String),
    /// No host.
    #[error("the SMTP URL has no host")]
    MissingHost,
    /// A path or fragment (an SMTP URL has none).
    #[error("an SMTP URL has no path or fragment")]
    Path,
    /// A query parameter other than `tls`.
    #[error("unknown SMTP URL parameter {0:?} (only `tls` is known)")]
    UnknownParameter(String),
    /// A `tls` value other than `none`, `opportunistic`, `starttls` (or any on `smtps://`).
    #[error("invalid tls mode {0:?}: none, opportunistic or starttls (smtps:// takes none)")]
    TlsParameter(String),
    /// User or password is not valid percent-encoded UTF-8.
    #[error("user or password is not percent-encoded UTF-8")]
    PercentEncoding(#[source] std::str::Utf8Error),
    /// Credentials without required TLS to a host that is not loopback.
    #[error(
        "refusing to send SMTP credentials in clear text to {host}: use smtps:// or ?tls=starttls"
    )]
    CleartextCredentials {
        /// The host.
        host: String,
    },
    /// [`SmtpMailerBuilder::build`] was called outside a Tokio runtime.
    #[error("the SMTP mailer must be built within a Tokio runtime")]
    NoRuntime,
    /// A root certificate that is not PEM, or TLS set-up failed.
    #[error("TLS configuration refused")]
    Tls(#[source] lettre::transport::smtp::Error),
}

/// The error carried (as `source` of a [`MailerError`]) when the server
/// did not finish a delivery within the configured timeout.
#[derive(Debug, thiserror::Error)]
#[error("the SMTP server did not complete the delivery within {0:?}")]
pub struct SmtpTimeout(pub Duration);

/// Builds an [`SmtpMailer`]; see [`SmtpMailer::builder`].
pub struct SmtpMailerBuilder {
    endpoint: SmtpEndpoint,
    composer: MessageComposer,
    timeout: Duration,
    max_connections: u32,
    root_certificates: Vec<Vec<u8>>,
    accept_invalid_certs: bool,
}

impl SmtpMailerBuilder {
    /// Bound on one delivery, connection included (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Most connections open at once, each kept for reuse (default
    /// [`DEFAULT_MAX_CONNECTIONS`]); further sends wait for one, and the
    /// timeout starts once they have it.
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Also trusts this CA (PEM), e.g. a company CA or a test's self-signed
    /// certificate. The public web PKI roots stay trusted.
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// DANGER: accepts any certificate, so anyone on the path can read the
    /// mail and the credentials. Only for local development and tests.
    pub fn dangerous_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.accept_invalid_certs = accept;
        self
    }

    /// Builds the mailer. Connects lazily, on the first send. Must be
    /// called within a Tokio runtime (its connections are Tokio sockets).
    pub fn build(self) -> Result<SmtpMailer, SmtpConfigError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(SmtpConfigError::NoRuntime);
        }
        let e = &self.endpoint;
        let security = if e.tls == TlsMode::None {
            Security::None
        } else {
            let mut params = TlsParameters::builder(e.host.clone())
                .dangerous_accept_invalid_certs(self.accept_invalid_certs);
            for pem in &self.root_certificates {
                params = params.add_root_certificate(
                    Certificate::from_pem(pem).map_err(SmtpConfigError::Tls)?,
                );
            }
            let params = params.build_rustls().map_err(SmtpConfigError::Tls)?;
            match e.tls {
                TlsMode::Opportunistic => Security::Opportunistic(params),
                TlsMode::StartTls => Security::StartTls(params),
                TlsMode::Implicit | TlsMode::None => Security::Implicit(params),
            }
        };
        let settings = ConnectionSettings {
            host: e.host.clone(),
            port: e.port,
            security,
            credentials: e.credentials.as_ref().map(|(user, password)| {
                Credentials::new(user.clone(), password.expose_secret().to_owned())
            }),
            hello: ClientId::default(),
        };
        Ok(SmtpMailer {
            pool: ConnectionPool::new(settings, self.max_connections),
            composer: self.composer,
            timeout: self.timeout,
            endpoint: self.endpoint,
        })
    }
}

impl fmt::Debug for SmtpMailerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailerBuilder")
            .field("endpoint", &self.endpoint)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Delivers messages over SMTP with a pool of connections.
///
/// Errors: 4xx replies, refused or dropped connections, TLS failures,
/// timeouts and authentication failures (530, 534, 535, 538: a
/// configuration problem whose fix should let queued mail through) are
/// transient; other 5xx replies, invalid addresses, header injection and
/// messages that cannot be built are permanent. The lettre error is kept as
/// `source`.
pub struct SmtpMailer {
    pool: ConnectionPool,
    composer: MessageComposer,
    timeout: Duration,
    endpoint: SmtpEndpoint,
}

impl SmtpMailer {
    /// Starts configuring a mailer for `url` (see [`SmtpEndpoint::parse`])
    /// sending from `composer`'s sender.
    pub fn builder(
        url: &str,
        composer: impl Into<MessageComposer>,
    ) -> Result<SmtpMailerBuilder, SmtpConfigError> {
        Ok(SmtpMailerBuilder {
            endpoint: SmtpEndpoint::parse(url)?,
            composer: composer.into(),
            timeout: DEFAULT_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            root_certificates: Vec::new(),
            accept_invalid_certs: false,
        })
    }

    /// The server this mailer talks to.
    pub fn endpoint(&self) -> &SmtpEndpoint {
        &self.endpoint
    }

    /// Connects (TLS, AUTH included) and says NOOP: a start-up check.
    pub async fn check_connection(&self) -> Result<(), MailerError> {
        self.pool
            .with_connection(self.timeout, async |connection| {
                if connection.test_connected().await {
                    Ok(())
                } else {
                    Err(MailerError::transient(
                        "the SMTP server did not answer NOOP",
                    ))
                }
            })
            .await
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: &NewMessage) -> Result<(), MailerError> {
        let email = self.composer.compose(message)?;
        let envelope = email.envelope().clone();
        let raw = email.formatted();
        self.pool
            .with_connection(self.timeout, async |connection| {
                connection
                    .send(&envelope, &raw)
                    .await
                    .map(drop)
                    .map_err(classify)
            })
            .await
    }
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("endpoint", &self.endpoint)
            .field("from", self.composer.sender())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Authentication failures: a configuration problem, not the message's.
const AUTH_FAILURE_CODES: [&str; 4] = ["530", "534", "535", "538"];

/// Permanent only when the server refused this message or recipient for
/// good (a 5xx reply other than an authentication failure). Everything else
/// (4xx, network, TLS, lettre's own refusals such as "STARTTLS is not
/// supported on this server") concerns the server or the configuration and
/// is retried, within the dispatcher's bound on attempts.
pub(crate) fn classify(error: lettre::transport::smtp::Error) -> MailerError {
    let auth_failure = error
        .status()
        .is_some_and(|code| AUTH_FAILURE_CODES.contains(&code.to_string().as_str()));
    if error.is_permanent() && !auth_failure {
        MailerError::permanent(error)
    } else {
        MailerError::transient(error)
    }
}
