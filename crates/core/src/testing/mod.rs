//! What tests and demos use (feature `testing`, and core's own tests):
//!
//! - [`MemoryStore`]: the complete in-memory [`AccountStore`](crate::AccountStore),
//!   the reference every other store is checked against;
//! - [`fakes`]: deterministic clock, randomness, mailer, captcha and GeoIP;
//! - the conformance suites shared by every adapter crate's tests: one for
//!   [`AccountStore`](crate::AccountStore) ([`store`]), one for
//!   [`Mailer`](crate::Mailer) ([`mailer`]). Each adapter runs the same
//!   suite against its own backend.

pub mod fakes;
pub mod mailer;
pub mod memory;
pub mod store;

pub use memory::MemoryStore;
