//! The directory and SMTP mailers: the shared Mailer conformance suite,
//! then each mailer's own behaviour. SMTP tests talk to a real SMTP server
//! (aiosmtpd, `tests/support/smtp_sink.py`; `pip install aiosmtpd`).

mod directory;
mod smtp;
mod support;
