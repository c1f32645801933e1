//! Conformance suites shared by every adapter crate's tests (feature
//! `testing`): one for [`AccountStore`](crate::AccountStore), one for
//! [`Mailer`](crate::Mailer). Each adapter runs the same suite against its
//! own backend.

pub mod mailer;
pub mod store;
