//! portal-access adapter: postgres.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
