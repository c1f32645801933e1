//! The SMTP adapter's errors, and how a lettre error becomes a transient
//! or permanent [`MailerError`].

use std::io;
use std::time::Duration;

use portal_access_core::MailerError;

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
    /// [`SmtpMailerBuilder::build`](crate::SmtpMailerBuilder::build) was
    /// called outside a Tokio runtime.
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

/// The TCP connection could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("could not connect to the SMTP server {host}:{port}")]
pub struct ConnectError {
    pub(crate) host: String,
    pub(crate) port: u16,
    #[source]
    pub(crate) source: io::Error,
}
