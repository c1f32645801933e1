//! Who is at the console: the host's [`StaffAuthenticator`] (the same one
//! the staff API uses) or, once a staff member signed in through the
//! console's form, the console cookie.
//!
//! The cookie (`__Host-portal_staff` when the public URL is https, then
//! `Secure`; else `portal_staff`; `HttpOnly`, `SameSite=Strict`, `Path=/`,
//! no `Domain`) holds a random reference, never the staff token: the
//! server keeps only the reference's SHA-256 hash, with the staff member it
//! names and when it ends ([`CONSOLE_SESSION_TTL`]). Signing out forgets it.
//! The references live in the process's memory: a restart signs every
//! staff member out of the console (they sign in again with their token).
//!
//! [`StaffAuthenticator`]: crate::StaffAuthenticator

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use portal_access_core::service::StaffActor;
use portal_access_core::SecureRandom;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::session::{cookie, cookie_value};
use crate::state::PortalHttp;

/// How long a console sign-in lasts.
pub const CONSOLE_SESSION_TTL: Duration = Duration::hours(8);
/// The most console sign-ins kept at once (the oldest goes first).
const MAX_SESSIONS: usize = 10_000;

/// A console sign-in: whom it names and until when.
#[derive(Clone)]
struct ConsoleSession {
    staff: StaffActor,
    expires_at: OffsetDateTime,
}

/// The console sign-ins, by the SHA-256 of their cookie's value.
#[derive(Default)]
pub(crate) struct ConsoleSessions {
    by_hash: Mutex<HashMap<[u8; 32], ConsoleSession>>,
}

impl std::fmt::Debug for ConsoleSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsoleSessions(<redacted>)")
    }
}

fn hash_of(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

impl ConsoleSessions {
    /// Starts a sign-in for `staff`: the cookie's raw value (random, 32 bytes).
    pub(crate) fn start(
        &self,
        staff: StaffActor,
        random: &dyn SecureRandom,
        now: OffsetDateTime,
    ) -> SecretString {
        let mut bytes = [0u8; 32];
        random.fill(&mut bytes);
        let value = URL_SAFE_NO_PAD.encode(bytes);
        let mut sessions = self.by_hash.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.retain(|_, s| s.expires_at > now);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.expires_at)
                .map(|(hash, _)| *hash)
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(
            hash_of(&value),
            ConsoleSession {
                staff,
                expires_at: now + CONSOLE_SESSION_TTL,
            },
        );
        SecretString::from(value)
    }

    /// The staff member of a cookie value, if it names a live sign-in, and
    /// the hash the console's CSRF tokens are bound to.
    pub(crate) fn find(&self, value: &str, now: OffsetDateTime) -> Option<(StaffActor, [u8; 32])> {
        let hash = hash_of(value);
        let sessions = self.by_hash.lock().unwrap_or_else(PoisonError::into_inner);
        sessions
            .get(&hash)
            .filter(|s| s.expires_at > now)
            .map(|s| (s.staff.clone(), hash))
    }

    /// Forgets a sign-in.
    pub(crate) fn end(&self, value: &str) {
        self.by_hash
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&hash_of(value));
    }
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
    sessions: &ConsoleSessions,
) -> Option<(StaffActor, Recognized)> {
    if let Some(staff) = http.staff_auth().authenticate(parts).await {
        return Some((staff, Recognized::Host));
    }
    let value = ConsoleCookie::of(http).value(&parts.headers)?;
    sessions
        .find(value, http.service().now())
        .map(|(staff, hash)| (staff, Recognized::Console(hash)))
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
    use portal_access_core::{OsRandom, StaffId, TenantId};

    fn staff() -> StaffActor {
        StaffActor {
            tenant: TenantId::new("firm").unwrap(),
            staff_id: StaffId::new("alice").unwrap(),
        }
    }

    #[test]
    fn a_console_sign_in_is_found_until_it_ends_or_expires() {
        let sessions = ConsoleSessions::default();
        let now = OffsetDateTime::now_utc();
        let value = sessions.start(staff(), &OsRandom, now);
        let found = sessions.find(value.expose_secret(), now).unwrap();
        assert_eq!(found.0.staff_id.as_str(), "alice");
        assert!(sessions
            .find(value.expose_secret(), now + CONSOLE_SESSION_TTL)
            .is_none());
        assert!(sessions.find("guess", now).is_none());
        sessions.end(value.expose_secret());
        assert!(sessions.find(value.expose_secret(), now).is_none());
    }

    #[test]
    fn only_the_hash_of_a_console_cookie_is_kept() {
        let sessions = ConsoleSessions::default();
        let value = sessions.start(staff(), &OsRandom, OffsetDateTime::now_utc());
        let kept = sessions.by_hash.lock().unwrap();
        assert!(kept.contains_key(&hash_of(value.expose_secret())));
        assert_eq!(format!("{sessions:?}"), "ConsoleSessions(<redacted>)");
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
