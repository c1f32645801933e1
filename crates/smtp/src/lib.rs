//! portal-access adapter: smtp.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
