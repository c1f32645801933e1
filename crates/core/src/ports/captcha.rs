//! The `CaptchaVerifier` port: checks a CAPTCHA response with its provider.
//!
//! ```
//! use async_trait::async_trait;
//! use portal_access_core::{CaptchaVerifier, CaptchaVerdict, CaptchaError};
//! use secrecy::{ExposeSecret, SecretString};
//! use std::net::IpAddr;
//! use subtle::ConstantTimeEq;
//!
//! /// Accepts one fixed answer (for a demo).
//! struct FixedAnswer(&'static str);
//!
//! #[async_trait]
//! impl CaptchaVerifier for FixedAnswer {
//!     async fn verify(&self, response: &SecretString, _ip: Option<IpAddr>) -> Result<CaptchaVerdict, CaptchaError> {
//!         // Compared in constant time, as every secret is.
//!         Ok(if bool::from(response.expose_secret().as_bytes().ct_eq(self.0.as_bytes())) {
//!             CaptchaVerdict::Passed
//!         } else {
//!             CaptchaVerdict::Failed { error_codes: vec!["invalid-input-response".into()] }
//!         })
//!     }
//! }
//! ```

use std::error::Error as StdError;
use std::net::IpAddr;

use async_trait::async_trait;
use secrecy::SecretString;

/// The provider's verdict on a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptchaVerdict {
    /// A person passed.
    Passed,
    /// Refused (`captcha_failed`), with the provider's error codes.
    Failed {
        /// e.g. `invalid-input-response`, `timeout-or-duplicate`, `score-too-low`.
        error_codes: Vec<String>,
    },
}

/// The provider could not be asked, or answered nonsense: an infrastructure
/// failure, never a pass.
#[derive(Debug, thiserror::Error)]
#[error("captcha verification unavailable")]
pub struct CaptchaError {
    #[source]
    source: Box<dyn StdError + Send + Sync + 'static>,
}

impl CaptchaError {
    /// Wraps the cause.
    pub fn new(source: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Self {
            source: source.into(),
        }
    }
}

/// Verifies CAPTCHA responses (hCaptcha, reCAPTCHA, Turnstile: crate
/// `portal-access-captcha`; a scripted fake, `testing::fakes::CaptchaScript`).
#[async_trait]
pub trait CaptchaVerifier: Send + Sync + 'static {
    /// Asks the provider about `response`, given by a person at `remote_ip`.
    async fn verify(
        &self,
        response: &SecretString,
        remote_ip: Option<IpAddr>,
    ) -> Result<CaptchaVerdict, CaptchaError>;
}
