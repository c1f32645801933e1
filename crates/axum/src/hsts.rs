//! `Strict-Transport-Security` for a portal served over https (see
//! [`crate::headers`] for where it is sent).

use axum::http::HeaderValue;

/// The default `max-age` of [`Hsts`]: one year, in seconds.
pub const DEFAULT_HSTS_MAX_AGE: u64 = 31_536_000;

/// The `Strict-Transport-Security` policy sent when the public URL is https:
/// browsers then refuse plain http to the portal's host for `max_age`
/// seconds. `includeSubDomains` is opt-in, because it pins every subdomain
/// of the host too, which only the owner of the whole domain can promise.
///
/// ```
/// use portal_access_axum::hsts::Hsts;
///
/// assert_eq!(Hsts::default().header_value(), "max-age=31536000");
/// let strict = Hsts { max_age: 600, include_subdomains: true };
/// assert_eq!(strict.header_value(), "max-age=600; includeSubDomains");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hsts {
    /// How long browsers remember it, in seconds (default
    /// [`DEFAULT_HSTS_MAX_AGE`]; 0 tells them to forget it).
    pub max_age: u64,
    /// Whether every subdomain of the host is pinned too (default no).
    pub include_subdomains: bool,
}

impl Default for Hsts {
    fn default() -> Self {
        Self {
            max_age: DEFAULT_HSTS_MAX_AGE,
            include_subdomains: false,
        }
    }
}

impl Hsts {
    /// The header's value, e.g. `max-age=31536000`.
    #[allow(
        clippy::expect_used,
        reason = "digits and a fixed token are a valid header value"
    )]
    pub fn header_value(&self) -> HeaderValue {
        let subdomains = if self.include_subdomains {
            "; includeSubDomains"
        } else {
            ""
        };
        HeaderValue::from_str(&format!("max-age={}{subdomains}", self.max_age))
            .expect("digits and a fixed token are a valid header value")
    }
}
