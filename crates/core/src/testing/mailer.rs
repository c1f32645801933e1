//! The Mailer conformance suite (under construction).
