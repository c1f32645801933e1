//! portal-access adapter: axum.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
