//! The `Mailer` port: sends one rendered message.
//!
//! The dispatcher calls it for each leased outbox message; its error says
//! whether to retry ([`MailerError::is_transient`]) or give up at once
//! ([`MailerError::is_permanent`]).
//!
//! ```
//! use async_trait::async_trait;
//! use portal_access_core::{Mailer, MailerError, NewMessage};
//!
//! /// Prints messages instead of sending them.
//! struct StdoutMailer;
//!
//! #[async_trait]
//! impl Mailer for StdoutMailer {
//!     async fn send(&self, message: &NewMessage) -> Result<(), MailerError> {
//!         if message.to.contains(['\r', '\n']) {
//!             return Err(MailerError::permanent("bad recipient"));
//!         }
//!         println!("To: {}\nSubject: {}\n\n{}", message.to, message.subject, message.text_body);
//!         Ok(())
//!     }
//! }
//! ```

use std::error::Error as StdError;
use std::fmt;

use async_trait::async_trait;

use crate::NewMessage;

/// Whether a mail error is worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailerErrorKind {
    /// Try again later (connection refused, timeout, 4xx).
    Transient,
    /// Will not succeed (5xx, bad address, bad message).
    Permanent,
}

/// A mail delivery failure. `Display` says only which kind; the cause is
/// kept as [`source`](std::error::Error::source), so a logged cause chain
/// names it once.
#[derive(Debug, thiserror::Error)]
pub struct MailerError {
    kind: MailerErrorKind,
    #[source]
    source: Box<dyn StdError + Send + Sync + 'static>,
}

impl fmt::Display for MailerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            MailerErrorKind::Transient => f.write_str("transient mail delivery failure"),
            MailerErrorKind::Permanent => f.write_str("permanent mail delivery failure"),
        }
    }
}

impl MailerError {
    /// A failure worth retrying.
    pub fn transient(source: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Self {
            kind: MailerErrorKind::Transient,
            source: source.into(),
        }
    }

    /// A failure not worth retrying.
    pub fn permanent(source: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Self {
            kind: MailerErrorKind::Permanent,
            source: source.into(),
        }
    }

    /// Which kind.
    pub fn kind(&self) -> MailerErrorKind {
        self.kind
    }

    /// Worth retrying.
    pub fn is_transient(&self) -> bool {
        self.kind == MailerErrorKind::Transient
    }

    /// Not worth retrying.
    pub fn is_permanent(&self) -> bool {
        self.kind == MailerErrorKind::Permanent
    }
}

/// Sends one message. Implementations: the recording fake
/// (`testing::fakes::RecordingMailer`), the SMTP
/// mailer and the directory mailer (crate `portal-access-smtp`).
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends `message` to `message.to`. A mailer must refuse (permanently)
    /// any header value with CR or LF rather than send it.
    async fn send(&self, message: &NewMessage) -> Result<(), MailerError>;
}
