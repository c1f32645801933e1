//! The SMTP mailer: lettre's SMTP client over a pool of our own
//! `TCP_NODELAY` connections (see [`crate::connection`]), configured from a
//! URL ([`crate::endpoint`]).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use portal_access_core::{Mailer, MailerError, NewMessage};
use secrecy::ExposeSecret;

use crate::compose::MessageComposer;
use crate::connection::{ConnectionPool, ConnectionSettings, Security};
use crate::endpoint::{SmtpEndpoint, TlsMode};
use crate::error::{classify, SmtpConfigError};

/// The default bound on one delivery (connect, TLS, AUTH, the whole SMTP
/// transaction).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default number of connections to the server open at once (and kept
/// open for reuse).
pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;

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
