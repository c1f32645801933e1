//! The directory and SMTP mailers: the shared Mailer conformance suite,
//! then each mailer's own behaviour. SMTP tests talk to a real SMTP server
//! (aiosmtpd, `tests/support/smtp_sink.py`; `pip install aiosmtpd`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod directory;
mod language;
mod slow;
mod smtp;
mod support;
