//! The client session cookie (SPEC.md section 4): `__Host-portal_session`
//! when the public URL is https (then `Secure`), else `portal_session`;
//! always `HttpOnly`, `SameSite=Lax`, `Path=/`, no `Domain`. Its value is
//! the session's raw token; the store keeps only its SHA-256 hash. A new
//! token is issued at every sign-in and after every password change.
//!
//! The sign-in challenge (password right, second factor pending) has its
//! own cookie with the same attributes: `__Host-portal_mfa` under https,
//! else `portal_mfa`; it lives as long as the challenge (5 minutes) and is
//! cleared when a session is issued.
//!
//! A remembered device (the "remember this device" box at the code step)
//! has its own cookie too: `__Host-portal_device` under https, else
//! `portal_device`, same attributes, living as long as the device is
//! remembered (the policy's days). Signing out keeps it: remembering the
//! browser is its point. It only ever skips the second factor of the
//! account it was remembered for.
//!
//! ```
//! use portal_access_axum::SessionCookie;
//! use portal_access_core::config::PortalConfig;
//!
//! let cookie = SessionCookie::for_config(&PortalConfig::new("https://portal.example.com"));
//! assert_eq!(cookie.name(), "__Host-portal_session");
//! let cookie = SessionCookie::for_config(&PortalConfig::new("http://127.0.0.1:8080"));
//! assert_eq!(cookie.name(), "portal_session");
//! ```

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use portal_access_core::config::PortalConfig;
use time::OffsetDateTime;

/// The name and attributes of the portal's cookies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCookie {
    secure: bool,
}

impl SessionCookie {
    /// The cookie for this configuration (https or not).
    pub fn for_config(config: &PortalConfig) -> Self {
        Self {
            secure: config.is_https(),
        }
    }

    /// The session cookie's name.
    pub fn name(&self) -> &'static str {
        if self.secure {
            "__Host-portal_session"
        } else {
            "portal_session"
        }
    }

    /// The sign-in challenge cookie's name.
    pub fn challenge_name(&self) -> &'static str {
        if self.secure {
            "__Host-portal_mfa"
        } else {
            "portal_mfa"
        }
    }

    /// The remembered-device cookie's name.
    pub fn device_name(&self) -> &'static str {
        if self.secure {
            "__Host-portal_device"
        } else {
            "portal_device"
        }
    }

    /// `Set-Cookie` for a device remembered until `expires_at`.
    pub fn set_device(
        &self,
        token: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> HeaderValue {
        let max_age = (expires_at - now).whole_seconds().max(0);
        cookie_value(format!(
            "{}={token}; Max-Age={max_age}{}",
            self.device_name(),
            self.attributes()
        ))
    }

    /// The remembered-device token the request carries, if any.
    pub fn device_token<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        cookie(headers, self.device_name())
    }

    /// The name of the pre-session CSRF cookie (see [`crate::csrf`]).
    pub fn csrf_name(&self) -> &'static str {
        if self.secure {
            "__Host-portal_csrf"
        } else {
            "portal_csrf"
        }
    }

    fn attributes(&self) -> &'static str {
        if self.secure {
            "; Path=/; HttpOnly; SameSite=Lax; Secure"
        } else {
            "; Path=/; HttpOnly; SameSite=Lax"
        }
    }

    /// `Set-Cookie` for a new session that ends at `expires_at` (`now` is
    /// the service's clock).
    pub fn set(&self, token: &str, expires_at: OffsetDateTime, now: OffsetDateTime) -> HeaderValue {
        let max_age = (expires_at - now).whole_seconds().max(0);
        cookie_value(format!(
            "{}={token}; Max-Age={max_age}{}",
            self.name(),
            self.attributes()
        ))
    }

    /// `Set-Cookie` that removes the session cookie.
    pub fn clear(&self) -> HeaderValue {
        cookie_value(format!("{}=; Max-Age=0{}", self.name(), self.attributes()))
    }

    /// `Set-Cookie` for a sign-in challenge that ends at `expires_at`.
    pub fn set_challenge(
        &self,
        token: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> HeaderValue {
        let max_age = (expires_at - now).whole_seconds().max(0);
        cookie_value(format!(
            "{}={token}; Max-Age={max_age}{}",
            self.challenge_name(),
            self.attributes()
        ))
    }

    /// `Set-Cookie` that removes the challenge cookie.
    pub fn clear_challenge(&self) -> HeaderValue {
        cookie_value(format!(
            "{}=; Max-Age=0{}",
            self.challenge_name(),
            self.attributes()
        ))
    }

    /// The challenge token the request carries, if any.
    pub fn challenge_token<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        cookie(headers, self.challenge_name())
    }

    /// `Set-Cookie` for the pre-session CSRF cookie (a browser-session cookie).
    pub fn set_csrf(&self, value: &str) -> HeaderValue {
        cookie_value(format!("{}={value}{}", self.csrf_name(), self.attributes()))
    }

    /// The session token the request carries, if any.
    pub fn token<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        cookie(headers, self.name())
    }

    /// The pre-session CSRF value the request carries, if any.
    pub fn csrf_value<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        cookie(headers, self.csrf_name())
    }
}

#[allow(
    clippy::expect_used,
    reason = "our cookie names, attributes and token alphabets are header-safe"
)]
pub(crate) fn cookie_value(text: String) -> HeaderValue {
    // Our names and token alphabets are header-safe.
    HeaderValue::from_str(&text).expect("cookie text is a valid header value")
}

/// The value of the cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .into_iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim_matches('"'))
        .filter(|v| !v.is_empty())
}

/// Appends a `Set-Cookie` header.
pub(crate) fn append(headers: &mut HeaderMap, value: HeaderValue) {
    headers.append(SET_COOKIE, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_cookies_are_host_prefixed_and_secure() {
        let c = SessionCookie::for_config(&PortalConfig::new("https://p.example"));
        let now = OffsetDateTime::now_utc();
        let set = c.set("tok", now + time::Duration::hours(1), now);
        let text = set.to_str().unwrap();
        assert!(text.starts_with("__Host-portal_session=tok; Max-Age=3600;"));
        for attr in ["Path=/", "HttpOnly", "SameSite=Lax", "Secure"] {
            assert!(text.contains(attr), "{text}");
        }
        assert!(!text.contains("Domain"));
    }

    #[test]
    fn http_cookies_are_not_secure() {
        let c = SessionCookie::for_config(&PortalConfig::new("http://127.0.0.1:8080"));
        let text = c.clear().to_str().unwrap().to_owned();
        assert_eq!(
            text,
            "portal_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn the_challenge_cookie_has_its_own_name_and_the_session_attributes() {
        let c = SessionCookie::for_config(&PortalConfig::new("https://p.example"));
        let now = OffsetDateTime::now_utc();
        let text = c.set_challenge("tok", now + time::Duration::minutes(5), now);
        let text = text.to_str().unwrap();
        assert!(
            text.starts_with("__Host-portal_mfa=tok; Max-Age=300;"),
            "{text}"
        );
        for attr in ["Path=/", "HttpOnly", "SameSite=Lax", "Secure"] {
            assert!(text.contains(attr), "{text}");
        }
        let plain = SessionCookie::for_config(&PortalConfig::new("http://x"));
        assert_eq!(plain.challenge_name(), "portal_mfa");
        let mut h = HeaderMap::new();
        h.append(COOKIE, "portal_session=a; portal_mfa=b".parse().unwrap());
        assert_eq!(plain.challenge_token(&h), Some("b"));
        assert_eq!(plain.token(&h), Some("a"));
    }

    #[test]
    fn the_device_cookie_has_its_own_name_and_the_session_attributes() {
        let c = SessionCookie::for_config(&PortalConfig::new("https://p.example"));
        let now = OffsetDateTime::now_utc();
        let text = c.set_device("tok", now + time::Duration::days(30), now);
        let text = text.to_str().unwrap();
        assert!(
            text.starts_with("__Host-portal_device=tok; Max-Age=2592000;"),
            "{text}"
        );
        for attr in ["Path=/", "HttpOnly", "SameSite=Lax", "Secure"] {
            assert!(text.contains(attr), "{text}");
        }
        assert!(!text.contains("Domain"));
        let plain = SessionCookie::for_config(&PortalConfig::new("http://x"));
        let mut h = HeaderMap::new();
        h.append(COOKIE, "portal_session=a; portal_device=d".parse().unwrap());
        assert_eq!(plain.device_token(&h), Some("d"));
    }

    #[test]
    fn the_token_is_found_among_other_cookies() {
        let c = SessionCookie::for_config(&PortalConfig::new("http://x"));
        let mut h = HeaderMap::new();
        h.append(COOKIE, "a=1; portal_session=abc; b=2".parse().unwrap());
        assert_eq!(c.token(&h), Some("abc"));
        let mut h = HeaderMap::new();
        h.append(COOKIE, "xportal_session=abc".parse().unwrap());
        assert_eq!(c.token(&h), None);
    }
}
