//! portal-access adapter: captcha.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
