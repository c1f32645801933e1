//! Where the SMTP mailer connects: the `smtp://` / `smtps://` URL, parsed
//! into host, port, TLS mode and credentials.

use std::fmt;
use std::net::IpAddr;

use percent_encoding::percent_decode_str;
use secrecy::SecretString;

use crate::error::SmtpConfigError;

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
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) tls: TlsMode,
    pub(crate) credentials: Option<(String, SecretString)>,
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
