//! The local SMTP server: aiosmtpd running `crates/smtp/tests/support/smtp_sink.py`,
//! which writes each message it accepts to a directory. The sink and the
//! reading of what it received are the SMTP mailer tests' own
//! (`crates/smtp/tests/support/sink.rs`, shared with the load driver).

#[path = "../../crates/smtp/tests/support/sink.rs"]
mod sink;

pub use portal_access_core::testing::mailer::ReceivedMessage;
pub use sink::{SinkOptions, SmtpSink};

use super::Result;

/// The first link in the plain-text body of `mail` that starts with
/// `prefix` (e.g. `http://127.0.0.1:4321/portal/invitation?token=`); an
/// error naming the message when there is none.
pub fn link_in(mail: &ReceivedMessage, prefix: &str) -> Result<String> {
    portal_access::smtp::links(&mail.text)
        .into_iter()
        .find(|link| link.starts_with(prefix))
        .map(str::to_owned)
        .ok_or_else(|| {
            format!(
                "no link starting {prefix} in {:?}: {}",
                mail.subject, mail.text
            )
            .into()
        })
}
