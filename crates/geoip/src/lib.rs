//! portal-access adapter: geoip.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
