//! Cross-site request forgery protection for the portal's forms, in two
//! layers:
//!
//! 1. **Where the request comes from** ([`check_origin`]): a browser says so
//!    in `Sec-Fetch-Site` (only `same-origin` and `none` pass) or, older
//!    ones, in `Origin` (it must be the public URL's origin or the request's
//!    own host). A request that says neither is not from a modern browser's
//!    cross-site form and goes on to the token check.
//! 2. **A token only our pages can know** ([`CsrfKey`]): an HMAC-SHA256
//!    under a server key, bound to the session when signed in, or, before
//!    sign-in, to a random value in a `__Host-` cookie (a *signed double
//!    submit*: a cookie an attacker manages to plant cannot carry a matching
//!    token without the key). Compared in constant time.
//!
//! ```
//! use portal_access_axum::csrf::{CsrfKey, Binding};
//!
//! let key = CsrfKey::from_bytes([7; 32]);
//! let binding = Binding::PreSession("cookie-value");
//! let token = key.token(binding);
//! assert!(key.verify(binding, &token).is_ok());
//! assert!(key.verify(Binding::PreSession("other-cookie"), &token).is_err());
//! ```

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::HeaderMap;
use portal_access_core::{AccountStore, SecureRandom, ServerSecret, StoreError};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The form field that carries the token.
pub const FIELD: &str = "csrf_token";

/// The name of the CSRF key among the store's server secrets
/// ([`CsrfKey::shared`]).
pub const SECRET_NAME: &str = "csrf_key";

/// The HMAC key of the CSRF tokens. `Debug` is redacted.
#[derive(Clone)]
pub struct CsrfKey([u8; 32]);

impl CsrfKey {
    /// 32 fresh bytes from the random source (in production
    /// [`OsRandom`](portal_access_core::OsRandom), the OS CSPRNG).
    pub fn generate(random: &dyn SecureRandom) -> Self {
        let mut bytes = [0u8; 32];
        random.fill(&mut bytes);
        Self(bytes)
    }

    /// The key every instance on `store` shares: the one kept among the
    /// store's server secrets under [`SECRET_NAME`], drawn from `random` and
    /// kept by the first instance that ever asks
    /// ([`AccountStore::server_secret`], an atomic insert-if-absent). Every
    /// instance on one database, and every restart, then accepts the forms
    /// the others rendered.
    pub async fn shared(
        store: &dyn AccountStore,
        random: &dyn SecureRandom,
    ) -> Result<Self, SharedKeyError> {
        let candidate = Self::generate(random);
        let stored = store
            .server_secret(SECRET_NAME, &ServerSecret::new(candidate.0.to_vec()))
            .await
            .map_err(SharedKeyError::Store)?;
        <[u8; 32]>::try_from(stored.expose())
            .map(Self)
            .map_err(|_| SharedKeyError::NotAKey)
    }

    /// A key from bytes the host keeps (instances behind one load balancer
    /// must share it).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A key from its base64 (standard or URL-safe) text form.
    pub fn from_base64(text: &str) -> Result<Self, InvalidCsrfKey> {
        let text = text.trim();
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .or_else(|_| base64::engine::general_purpose::STANDARD.decode(text))
            .map_err(|_| InvalidCsrfKey)?;
        <[u8; 32]>::try_from(bytes.as_slice())
            .map(Self)
            .map_err(|_| InvalidCsrfKey)
    }

    #[allow(clippy::expect_used, reason = "HMAC takes a key of any length")]
    fn mac(&self, binding: Binding<'_>) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(b"portal-access csrf v1\0");
        match binding {
            Binding::Session(hash) => {
                mac.update(b"session\0");
                mac.update(hash);
            }
            Binding::PreSession(value) => {
                mac.update(b"pre-session\0");
                mac.update(value.as_bytes());
            }
        }
        mac.finalize().into_bytes().into()
    }

    /// The token of forms under this binding.
    pub fn token(&self, binding: Binding<'_>) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(binding))
    }

    /// Checks a submitted token against the binding, in constant time.
    pub fn verify(&self, binding: Binding<'_>, submitted: &str) -> Result<(), CsrfError> {
        if submitted.is_empty() {
            return Err(CsrfError::MissingToken);
        }
        let Ok(submitted) = URL_SAFE_NO_PAD.decode(submitted.trim()) else {
            return Err(CsrfError::WrongToken);
        };
        let expected = self.mac(binding);
        if submitted.len() == expected.len() && bool::from(submitted.ct_eq(&expected)) {
            Ok(())
        } else {
            Err(CsrfError::WrongToken)
        }
    }
}

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(<redacted>)")
    }
}

/// Why [`CsrfKey::shared`] has no key.
#[derive(Debug, thiserror::Error)]
pub enum SharedKeyError {
    /// The store could not read or keep it.
    #[error("the store could not keep the shared CSRF key")]
    Store(#[source] StoreError),
    /// What the store keeps under [`SECRET_NAME`] is not 32 bytes.
    #[error("the stored CSRF key is not 32 bytes")]
    NotAKey,
}

/// A CSRF key that is not 32 bytes of base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a CSRF key must be 32 bytes, base64-encoded")]
pub struct InvalidCsrfKey;

/// What a token is bound to.
#[derive(Debug, Clone, Copy)]
pub enum Binding<'a> {
    /// The signed-in session (the SHA-256 hash of its token).
    Session(&'a [u8; 32]),
    /// Before sign-in: the random value of the pre-session cookie.
    PreSession(&'a str),
}

/// Why a form submission was refused as a possible forgery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CsrfError {
    /// The browser said the request came from another site.
    #[error("the request came from another site")]
    CrossSite,
    /// No token was submitted (or no pre-session cookie was sent).
    #[error("the form's security token is missing")]
    MissingToken,
    /// The token does not match.
    #[error("the form's security token does not match")]
    WrongToken,
}

/// A fresh random value for the pre-session cookie.
pub fn new_pre_session_value(random: &dyn SecureRandom) -> String {
    let mut bytes = [0u8; 32];
    random.fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Refuses a state-changing request a browser says came from another site.
///
/// `public_origin` is the configured public URL's origin
/// (`https://portal.example.com`); the request's own `Host` is accepted too,
/// so a portal reached by another name of the same server still works.
pub fn check_origin(headers: &HeaderMap, public_origin: &str) -> Result<(), CsrfError> {
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.as_bytes() {
            b"same-origin" | b"none" => Ok(()),
            _ => Err(CsrfError::CrossSite),
        };
    }
    let Some(origin) = headers.get(http::header::ORIGIN) else {
        return Ok(());
    };
    let Ok(origin) = origin.to_str() else {
        return Err(CsrfError::CrossSite);
    };
    if origin.eq_ignore_ascii_case(public_origin) {
        return Ok(());
    }
    let Ok(url) = url::Url::parse(origin) else {
        // Includes `Origin: null` (sandboxed frames, data: URLs, ...).
        return Err(CsrfError::CrossSite);
    };
    let authority = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => return Err(CsrfError::CrossSite),
    };
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !host.is_empty() && authority.eq_ignore_ascii_case(host) {
        Ok(())
    } else {
        Err(CsrfError::CrossSite)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://portal.example.com";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, value.parse().unwrap());
        }
        h
    }

    #[test]
    fn a_token_verifies_only_under_its_own_binding() {
        let key = CsrfKey::from_bytes([1; 32]);
        let session = [9u8; 32];
        let token = key.token(Binding::Session(&session));
        assert_eq!(key.verify(Binding::Session(&session), &token), Ok(()));
        assert_eq!(
            key.verify(Binding::Session(&[8u8; 32]), &token),
            Err(CsrfError::WrongToken)
        );
        assert_eq!(
            key.verify(Binding::PreSession("x"), &token),
            Err(CsrfError::WrongToken)
        );
    }

    #[test]
    fn a_token_of_another_key_is_wrong() {
        let binding = Binding::PreSession("value");
        let forged = CsrfKey::from_bytes([2; 32]).token(binding);
        assert_eq!(
            CsrfKey::from_bytes([1; 32]).verify(binding, &forged),
            Err(CsrfError::WrongToken)
        );
    }

    #[test]
    fn a_missing_or_garbled_token_is_refused() {
        let key = CsrfKey::generate(&portal_access_core::OsRandom);
        let binding = Binding::PreSession("value");
        assert_eq!(key.verify(binding, ""), Err(CsrfError::MissingToken));
        assert_eq!(key.verify(binding, "%%%"), Err(CsrfError::WrongToken));
        let token = key.token(binding);
        assert_eq!(
            key.verify(binding, &token[..token.len() - 2]),
            Err(CsrfError::WrongToken)
        );
    }

    #[test]
    fn cross_site_fetch_metadata_is_refused() {
        for site in ["cross-site", "same-site"] {
            let h = headers(&[("sec-fetch-site", site), ("origin", ORIGIN)]);
            assert_eq!(check_origin(&h, ORIGIN), Err(CsrfError::CrossSite));
        }
        for site in ["same-origin", "none"] {
            let h = headers(&[("sec-fetch-site", site)]);
            assert_eq!(check_origin(&h, ORIGIN), Ok(()));
        }
    }

    #[test]
    fn a_foreign_or_null_origin_is_refused() {
        let h = headers(&[
            ("origin", "https://evil.example"),
            ("host", "portal.example.com"),
        ]);
        assert_eq!(check_origin(&h, ORIGIN), Err(CsrfError::CrossSite));
        let h = headers(&[("origin", "null"), ("host", "portal.example.com")]);
        assert_eq!(check_origin(&h, ORIGIN), Err(CsrfError::CrossSite));
    }

    #[test]
    fn the_public_origin_or_the_requests_own_host_passes() {
        let h = headers(&[("origin", ORIGIN)]);
        assert_eq!(check_origin(&h, ORIGIN), Ok(()));
        let h = headers(&[
            ("origin", "http://localhost:8080"),
            ("host", "localhost:8080"),
        ]);
        assert_eq!(check_origin(&h, ORIGIN), Ok(()));
    }

    #[test]
    fn a_request_without_browser_headers_goes_on_to_the_token_check() {
        assert_eq!(check_origin(&HeaderMap::new(), ORIGIN), Ok(()));
    }

    #[tokio::test]
    async fn the_shared_key_is_drawn_once_and_then_read_by_every_caller() {
        let store = portal_access_core::testing::MemoryStore::new();
        let seeded = |seed| portal_access_core::testing::fakes::SeededRandom::new(seed);
        let binding = Binding::PreSession("value");

        let first = CsrfKey::shared(&store, &seeded(1)).await.unwrap();
        let second = CsrfKey::shared(&store, &seeded(2)).await.unwrap();

        let token = first.token(binding);
        assert_eq!(second.verify(binding, &token), Ok(()));
        let unshared = CsrfKey::generate(&seeded(2));
        assert_eq!(unshared.verify(binding, &token), Err(CsrfError::WrongToken));
    }

    #[tokio::test]
    async fn a_stored_csrf_key_of_the_wrong_length_is_refused() {
        let store = portal_access_core::testing::MemoryStore::new();
        let short = ServerSecret::new(vec![1; 16]);
        store.server_secret(SECRET_NAME, &short).await.unwrap();

        let refused = CsrfKey::shared(&store, &portal_access_core::OsRandom).await;

        assert!(matches!(refused, Err(SharedKeyError::NotAKey)));
    }

    #[test]
    fn keys_parse_from_base64_and_debug_is_redacted() {
        let key = CsrfKey::from_base64(&URL_SAFE_NO_PAD.encode([3u8; 32])).unwrap();
        assert_eq!(format!("{key:?}"), "CsrfKey(<redacted>)");
        assert!(CsrfKey::from_base64("c2hvcnQ=").is_err());
    }
}
