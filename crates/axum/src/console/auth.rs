//! Who is at the console: the host's [`StaffAuthenticator`] (the same one
//! the staff API uses) or, once a staff member signed in through the
//! console's form, the console cookie.
//!
//! The cookie (`__Host-portal_staff` when the public URL is https, then
//! `Secure`; else `portal_staff`; `HttpOnly`, `SameSite=Strict`, `Path=/`,
//! no `Domain`) holds a random reference, never the staff token: the
//! store keeps only the reference's SHA-256 hash, with the staff member it
//! names and when it ends ([`CONSOLE_SESSION_TTL`]), so every instance on
//! the database knows it and a restart keeps it. Signing out deletes it.
//!
//! [`StaffAuthenticator`]: crate::StaffAuthenticator

use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use portal_access_core::service::StaffActor;
use portal_access_core::{ConsoleSignIn, StoreError, TokenHash};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use time::Duration;

use crate::session::{cookie, cookie_value};
use crate::state::PortalHttp;

/// How long a console sign-in lasts.
pub const CONSOLE_SESSION_TTL: Duration = Duration::hours(8);

fn hash_of(value: &str) -> TokenHash {
    TokenHash::from_bytes(Sha256::digest(value.as_bytes()).into())
}

/// Starts a console sign-in for `staff`: the cookie's raw value (random,
/// 32 bytes); the store keeps its hash.
pub(crate) async fn start_sign_in(
    http: &PortalHttp,
    staff: StaffActor,
) -> Result<SecretString, StoreError> {
    let mut bytes = [0u8; 32];
    http.random().fill(&mut bytes);
    let value = URL_SAFE_NO_PAD.encode(bytes);
    let now = http.service().now();
    let sign_in = ConsoleSignIn {
        hash: hash_of(&value),
        tenant: staff.tenant,
        staff_id: staff.staff_id,
        created_at: now,
        expires_at: now + CONSOLE_SESSION_TTL,
    };
    http.service()
        .store()
        .insert_console_sign_in(&sign_in)
        .await?;
    Ok(SecretString::from(value))
}

/// The staff member of a cookie value, if it names a live sign-in, and
/// the hash the console's CSRF tokens are bound to.
async fn find_sign_in(
    http: &PortalHttp,
    value: &str,
) -> Result<Option<(StaffActor, [u8; 32])>, StoreError> {
    let hash = hash_of(value);
    let found = http
        .service()
        .store()
        .console_sign_in(&hash, http.service().now())
        .await?;
    Ok(found.map(|sign_in| {
        let staff = StaffActor {
            tenant: sign_in.tenant,
            staff_id: sign_in.staff_id,
        };
        (staff, *hash.as_bytes())
    }))
}

/// Ends the sign-in of a cookie value (signing out).
pub(crate) async fn end_sign_in(http: &PortalHttp, value: &str) -> Result<(), StoreError> {
    http.service()
        .store()
        .end_console_sign_in(&hash_of(value))
        .await
}

/// The console cookie's name and attributes.
pub(crate) struct ConsoleCookie {
    secure: bool,
}

impl ConsoleCookie {
    pub(crate) fn of(http: &PortalHttp) -> Self {
        Self {
            secure: http.service().config().is_https(),
        }
    }

    /// `__Host-portal_staff` under https, else `portal_staff`.
    pub(crate) fn name(&self) -> &'static str {
        if self.secure {
            "__Host-portal_staff"
        } else {
            "portal_staff"
        }
    }

    fn attributes(&self) -> &'static str {
        if self.secure {
            "; Path=/; HttpOnly; SameSite=Strict; Secure"
        } else {
            "; Path=/; HttpOnly; SameSite=Strict"
        }
    }

    pub(crate) fn set(&self, value: &SecretString) -> HeaderValue {
        cookie_value(format!(
            "{}={}; Max-Age={}{}",
            self.name(),
            value.expose_secret(),
            CONSOLE_SESSION_TTL.whole_seconds(),
            self.attributes()
        ))
    }

    pub(crate) fn clear(&self) -> HeaderValue {
        cookie_value(format!("{}=; Max-Age=0{}", self.name(), self.attributes()))
    }

    pub(crate) fn value<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        cookie(headers, self.name())
    }
}

/// How the staff member of a request was recognized.
#[derive(Clone)]
pub(crate) enum Recognized {
    /// By the host's authenticator (a bearer token, a gateway header...).
    Host,
    /// By the console cookie: the hash of its value.
    Console([u8; 32]),
}

/// The staff member of a console request, if any: the host's authenticator
/// first, then the console cookie. A client's session cookie is neither.
pub(crate) async fn recognize(
    parts: &Parts,
    http: &PortalHttp,
) -> Result<Option<(StaffActor, Recognized)>, StoreError> {
    if let Some(staff) = http.staff_auth().authenticate(parts).await {
        return Ok(Some((staff, Recognized::Host)));
    }
    let Some(value) = ConsoleCookie::of(http).value(&parts.headers) else {
        return Ok(None);
    };
    let found = find_sign_in(http, value).await?;
    Ok(found.map(|(staff, hash)| (staff, Recognized::Console(hash))))
}

/// The staff member a token names, asked of the host's authenticator as an
/// `Authorization: Bearer` request would (the console's sign-in form).
pub(crate) async fn staff_of_token(http: &PortalHttp, token: &SecretString) -> Option<StaffActor> {
    let token = token.expose_secret().trim();
    if token.is_empty() {
        return None;
    }
    let header = HeaderValue::from_str(&format!("Bearer {token}")).ok()?;
    let (mut parts, ()) = http::Request::new(()).into_parts();
    parts.headers.insert(http::header::AUTHORIZATION, header);
    http.staff_auth().authenticate(&parts).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_hash_of_a_console_cookie_is_kept() {
        let value = "a-cookie-value";
        let kept = hash_of(value);
        assert_eq!(kept.as_bytes()[..], Sha256::digest(value.as_bytes())[..]);
        assert!(!format!("{kept:?}").contains(value));
    }

    #[test]
    fn the_console_cookie_is_strict_and_host_prefixed_under_https() {
        let secure = ConsoleCookie { secure: true };
        let text = secure
            .set(&SecretString::from("v"))
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            text.starts_with("__Host-portal_staff=v; Max-Age=28800;"),
            "{text}"
        );
        for attr in ["Path=/", "HttpOnly", "SameSite=Strict", "Secure"] {
            assert!(text.contains(attr), "{text}");
        }
        let plain = ConsoleCookie { secure: false };
        assert_eq!(
            plain.clear().to_str().unwrap(),
            "portal_staff=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"
        );
    }
}
