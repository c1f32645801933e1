//! # portal-access-captcha
//!
//! [`SiteVerifyCaptcha`]: the [`CaptchaVerifier`] port for the three
//! "siteverify" APIs: hCaptcha, Google reCAPTCHA (v2, and v3 with a score
//! threshold and an optional expected action) and Cloudflare Turnstile.
//! Each is a form POST of `secret`, `response` and `remoteip` (plus
//! `sitekey` for hCaptcha when configured) answered by JSON
//! `{"success", "error-codes", "score"?, "action"?, "hostname"?}`.
//!
//! A refusal by the provider is [`CaptchaVerdict::Failed`] with its error
//! codes. A provider that cannot be reached, times out, answers an HTTP
//! error or a body that is not the expected JSON is a [`CaptchaError`]:
//! an infrastructure failure, never a pass.
//!
//! ```no_run
//! use std::time::Duration;
//! use portal_access_captcha::{Provider, SiteVerifyCaptcha};
//! use portal_access_core::{CaptchaVerdict, CaptchaVerifier};
//! use secrecy::SecretString;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let captcha = SiteVerifyCaptcha::builder(
//!     Provider::RecaptchaV3 { min_score: 0.5, expected_action: Some("forgot_password".into()) },
//!     SecretString::from(std::env::var("RECAPTCHA_SECRET")?),
//! )
//! .expected_hostname("portal.firm.example")
//! .timeout(Duration::from_secs(5))
//! .build()?;
//!
//! let response = SecretString::from("token the widget gave the browser");
//! match captcha.verify(&response, Some("203.0.113.7".parse()?)).await? {
//!     CaptchaVerdict::Passed => println!("a person"),
//!     CaptchaVerdict::Failed { error_codes } => println!("refused: {error_codes:?}"),
//! }
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use portal_access_core::{CaptchaError, CaptchaVerdict, CaptchaVerifier};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// hCaptcha's siteverify endpoint.
pub const HCAPTCHA_VERIFY_URL: &str = "https://api.hcaptcha.com/siteverify";
/// Google reCAPTCHA's siteverify endpoint (v2 and v3).
pub const RECAPTCHA_VERIFY_URL: &str = "https://www.google.com/recaptcha/api/siteverify";
/// Cloudflare Turnstile's siteverify endpoint.
pub const TURNSTILE_VERIFY_URL: &str = "https://challenges.cloudflare.com/turnstile/v0/siteverify";

/// The default bound on one verification (connect + answer).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Google's suggested reCAPTCHA v3 threshold.
pub const DEFAULT_RECAPTCHA_V3_MIN_SCORE: f64 = 0.5;
/// The largest answer read; a siteverify answer is a few hundred bytes.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Error code of a reCAPTCHA v3 score under the threshold.
pub const SCORE_TOO_LOW: &str = "score-too-low";
/// Error code of a reCAPTCHA v3 answer without a score (a v2 secret?).
pub const SCORE_MISSING: &str = "score-missing";
/// Error code of a reCAPTCHA v3 action other than the expected one.
pub const ACTION_MISMATCH: &str = "action-mismatch";
/// Error code of a hostname other than the expected one.
pub const HOSTNAME_MISMATCH: &str = "hostname-mismatch";
/// Error code of an empty response (answered without asking the provider).
pub const MISSING_INPUT_RESPONSE: &str = "missing-input-response";

/// Which CAPTCHA service, and its rules.
#[derive(Debug, Clone, PartialEq)]
pub enum Provider {
    /// hCaptcha.
    HCaptcha,
    /// reCAPTCHA v2 (checkbox or invisible).
    RecaptchaV2,
    /// reCAPTCHA v3: passes only with `score >= min_score` and, when set,
    /// the expected `action`.
    RecaptchaV3 {
        /// Lowest passing score, 0.0 to 1.0 (Google suggests 0.5).
        min_score: f64,
        /// The action the page declared (`grecaptcha.execute(…, {action})`).
        expected_action: Option<String>,
    },
    /// Cloudflare Turnstile.
    Turnstile,
}

impl Provider {
    /// The provider's public siteverify URL.
    pub fn default_verify_url(&self) -> &'static str {
        match self {
            Self::HCaptcha => HCAPTCHA_VERIFY_URL,
            Self::RecaptchaV2 | Self::RecaptchaV3 { .. } => RECAPTCHA_VERIFY_URL,
            Self::Turnstile => TURNSTILE_VERIFY_URL,
        }
    }
}

/// A configuration the verifier refuses.
#[derive(Debug, thiserror::Error)]
pub enum CaptchaConfigError {
    /// Not a URL.
    #[error("invalid siteverify URL")]
    Url(#[source] url::ParseError),
    /// A URL that would send the secret in clear text (http:// to a host
    /// that is not loopback) or is not http(s).
    #[error("the siteverify URL must be https:// (http:// only to loopback): {0}")]
    InsecureUrl(String),
    /// A reCAPTCHA v3 threshold outside 0.0..=1.0.
    #[error("reCAPTCHA v3 min_score must be between 0.0 and 1.0, not {0}")]
    MinScore(f64),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    Client(#[source] reqwest::Error),
}

/// Why the provider could not give a verdict (the `source` of a
/// [`CaptchaError`]).
#[derive(Debug, thiserror::Error)]
pub enum SiteVerifyError {
    /// Connection failed or timed out.
    #[error("siteverify request failed")]
    Request(#[source] reqwest::Error),
    /// The provider answered an HTTP error.
    #[error("siteverify answered HTTP {0}")]
    Status(reqwest::StatusCode),
    /// The answer was larger than any siteverify answer.
    #[error("siteverify answer exceeds {MAX_ANSWER_BYTES} bytes")]
    TooLarge,
    /// The answer was not the expected JSON.
    #[error("siteverify answer is not the expected JSON")]
    Malformed(#[source] serde_json::Error),
}

impl From<SiteVerifyError> for CaptchaError {
    fn from(error: SiteVerifyError) -> Self {
        CaptchaError::new(error)
    }
}

/// Builds a [`SiteVerifyCaptcha`]; see [`SiteVerifyCaptcha::builder`].
pub struct SiteVerifyBuilder {
    provider: Provider,
    secret: SecretString,
    verify_url: Option<String>,
    timeout: Duration,
    expected_hostname: Option<String>,
    site_key: Option<String>,
}

impl SiteVerifyBuilder {
    /// Posts to `url` instead of the provider's public endpoint (a proxy,
    /// hCaptcha Enterprise, a test server). Must be `https://`, or
    /// `http://` to a loopback host.
    pub fn verify_url(mut self, url: impl Into<String>) -> Self {
        self.verify_url = Some(url.into());
        self
    }

    /// Bound on one verification (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Fails (`hostname-mismatch`) unless the provider says the CAPTCHA was
    /// solved on this host name.
    pub fn expected_hostname(mut self, hostname: impl Into<String>) -> Self {
        self.expected_hostname = Some(hostname.into());
        self
    }

    /// Sends `sitekey` with each verification (hCaptcha checks that the
    /// response was issued for it).
    pub fn site_key(mut self, site_key: impl Into<String>) -> Self {
        self.site_key = Some(site_key.into());
        self
    }

    /// Builds the verifier.
    pub fn build(self) -> Result<SiteVerifyCaptcha, CaptchaConfigError> {
        if let Provider::RecaptchaV3 { min_score, .. } = self.provider {
            if !(0.0..=1.0).contains(&min_score) {
                return Err(CaptchaConfigError::MinScore(min_score));
            }
        }
        let text = self
            .verify_url
            .unwrap_or_else(|| self.provider.default_verify_url().to_owned());
        let url = url::Url::parse(&text).map_err(CaptchaConfigError::Url)?;
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        if !(url.scheme() == "https" || (url.scheme() == "http" && loopback)) {
            return Err(CaptchaConfigError::InsecureUrl(text));
        }
        let client = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .build()
            .map_err(CaptchaConfigError::Client)?;
        Ok(SiteVerifyCaptcha {
            client,
            url,
            provider: self.provider,
            secret: self.secret,
            expected_hostname: self.expected_hostname,
            site_key: self.site_key,
        })
    }
}

impl fmt::Debug for SiteVerifyBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SiteVerifyBuilder")
            .field("provider", &self.provider)
            .field("secret", &"[redacted]")
            .field("verify_url", &self.verify_url)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Verifies CAPTCHA responses with a provider's siteverify API.
pub struct SiteVerifyCaptcha {
    client: reqwest::Client,
    url: url::Url,
    provider: Provider,
    secret: SecretString,
    expected_hostname: Option<String>,
    site_key: Option<String>,
}

impl SiteVerifyCaptcha {
    /// Starts configuring a verifier for `provider` with its `secret` key.
    pub fn builder(provider: Provider, secret: SecretString) -> SiteVerifyBuilder {
        SiteVerifyBuilder {
            provider,
            secret,
            verify_url: None,
            timeout: DEFAULT_TIMEOUT,
            expected_hostname: None,
            site_key: None,
        }
    }

    /// The provider and its rules.
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// The URL verifications are posted to.
    pub fn verify_url(&self) -> &str {
        self.url.as_str()
    }

    async fn ask(
        &self,
        response: &SecretString,
        remote_ip: Option<IpAddr>,
    ) -> Result<Answer, SiteVerifyError> {
        let remote_ip = remote_ip.map(|ip| ip.to_string());
        let mut form: Vec<(&str, &str)> = vec![
            ("secret", self.secret.expose_secret()),
            ("response", response.expose_secret()),
        ];
        if let Some(ip) = &remote_ip {
            form.push(("remoteip", ip));
        }
        if let Some(site_key) = &self.site_key {
            form.push(("sitekey", site_key));
        }
        let mut answer = self
            .client
            .post(self.url.clone())
            .form(&form)
            .send()
            .await
            .map_err(SiteVerifyError::Request)?;
        if !answer.status().is_success() {
            return Err(SiteVerifyError::Status(answer.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = answer.chunk().await.map_err(SiteVerifyError::Request)? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(SiteVerifyError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(SiteVerifyError::Malformed)
    }

    /// The verdict on an answer: the provider's, then this site's rules.
    fn judge(&self, answer: Answer) -> CaptchaVerdict {
        let fail = |code: &str| CaptchaVerdict::Failed {
            error_codes: vec![code.to_owned()],
        };
        if !answer.success {
            return CaptchaVerdict::Failed {
                error_codes: answer.error_codes,
            };
        }
        if let Some(expected) = &self.expected_hostname {
            if answer.hostname.as_deref() != Some(expected.as_str()) {
                return fail(HOSTNAME_MISMATCH);
            }
        }
        if let Provider::RecaptchaV3 {
            min_score,
            expected_action,
        } = &self.provider
        {
            match answer.score {
                None => return fail(SCORE_MISSING),
                // NaN never passes: it is not greater or equal.
                Some(score)
                    if score
                        .partial_cmp(min_score)
                        .is_some_and(std::cmp::Ordering::is_ge) => {}
                Some(_) => return fail(SCORE_TOO_LOW),
            }
            if let Some(expected) = expected_action {
                if answer.action.as_deref() != Some(expected.as_str()) {
                    return fail(ACTION_MISMATCH);
                }
            }
        }
        CaptchaVerdict::Passed
    }
}

/// A siteverify answer (fields the providers share).
#[derive(Debug, Deserialize)]
struct Answer {
    success: bool,
    #[serde(rename = "error-codes", default)]
    error_codes: Vec<String>,
    score: Option<f64>,
    action: Option<String>,
    hostname: Option<String>,
}

#[async_trait]
impl CaptchaVerifier for SiteVerifyCaptcha {
    async fn verify(
        &self,
        response: &SecretString,
        remote_ip: Option<IpAddr>,
    ) -> Result<CaptchaVerdict, CaptchaError> {
        if response.expose_secret().trim().is_empty() {
            return Ok(CaptchaVerdict::Failed {
                error_codes: vec![MISSING_INPUT_RESPONSE.to_owned()],
            });
        }
        let answer = self.ask(response, remote_ip).await?;
        Ok(self.judge(answer))
    }
}

impl fmt::Debug for SiteVerifyCaptcha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SiteVerifyCaptcha")
            .field("provider", &self.provider)
            .field("url", &self.url.as_str())
            .field("secret", &"[redacted]")
            .field("expected_hostname", &self.expected_hostname)
            .field("site_key", &self.site_key)
            .finish()
    }
}
