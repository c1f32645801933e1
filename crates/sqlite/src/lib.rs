//! portal-access adapter: sqlite.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
