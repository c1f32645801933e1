//! # portal-access-smtp
//!
//! Two [`Mailer`](portal_access_core::Mailer)s built on one message
//! builder ([`MessageComposer`]):
//!
//! - [`SmtpMailer`]: delivers over SMTP (lettre's pooled async transport on
//!   tokio + rustls), configured from a URL:
//!   `smtp://host[:port]` (plain, port 25), `smtp://host?tls=opportunistic`
//!   (STARTTLS when offered, port 25), `smtp://host?tls=starttls` (STARTTLS
//!   required, port 587), `smtps://host` (implicit TLS, port 465), with
//!   optional percent-encoded credentials `smtp://user:pass@host`.
//! - [`DirectoryMailer`]: writes each message as an `.eml` file and logs its
//!   links, for development.
//!
//! Both refuse (permanently) a recipient, display name or subject carrying
//! CR or LF: no header can be injected.
//!
//! ```no_run
//! use std::time::Duration;
//! use portal_access_smtp::{DirectoryMailer, MessageComposer, Sender, SmtpMailer};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let from: Sender = "Client portal <portal@firm.example>".parse()?;
//!
//! let smtp = SmtpMailer::builder(
//!     "smtp://portal%40firm.example:s3cret@mail.firm.example?tls=starttls",
//!     from.clone(),
//! )?
//! .timeout(Duration::from_secs(10))
//! .build()?;
//! smtp.check_connection().await?;
//!
//! let dev = DirectoryMailer::new(
//!     "target/mail",
//!     MessageComposer::new(from).with_message_id_domain("portal.firm.example")?,
//! )?;
//! # let _ = (smtp, dev);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod compose;
mod connection;
mod directory;
mod endpoint;
mod error;
mod smtp;

pub use compose::{ComposeError, InvalidSender, MessageComposer, Sender};
pub use directory::{links, DirectoryMailer};
pub use endpoint::{
    SmtpEndpoint, TlsMode, DEFAULT_SMTPS_PORT, DEFAULT_SMTP_PORT, DEFAULT_SUBMISSION_PORT,
};
pub use error::{ConnectError, SmtpConfigError, SmtpTimeout};
pub use smtp::{SmtpMailer, SmtpMailerBuilder, DEFAULT_MAX_CONNECTIONS, DEFAULT_TIMEOUT};

/// lettre, whose [`Message`](lettre::Message) [`MessageComposer::compose`] returns.
pub use lettre;
