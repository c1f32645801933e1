//! Staff authentication is the host's: it implements [`StaffAuthenticator`]
//! over its own sessions or tokens. [`BearerTokens`] is a ready-made one
//! (the example server's): static bearer tokens, each naming a staff member
//! and their tenant.

use std::collections::HashMap;

use async_trait::async_trait;
use http::request::Parts;
use portal_access_core::service::StaffActor;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Tells who the staff member behind a request is.
///
/// Return `None` for "not a staff member" (the API answers 401
/// `unauthenticated`). The returned actor's tenant scopes every staff call:
/// accounts of other tenants are `not_found`.
///
/// ```
/// use async_trait::async_trait;
/// use http::request::Parts;
/// use portal_access_axum::StaffAuthenticator;
/// use portal_access_core::{service::StaffActor, StaffId, TenantId};
///
/// /// Trusts a header set by the host's own authenticating gateway.
/// struct GatewayHeader;
///
/// #[async_trait]
/// impl StaffAuthenticator for GatewayHeader {
///     async fn authenticate(&self, parts: &Parts) -> Option<StaffActor> {
///         let staff = parts.headers.get("x-staff-id")?.to_str().ok()?;
///         Some(StaffActor {
///             tenant: TenantId::new("firm").ok()?,
///             staff_id: StaffId::new(staff).ok()?,
///         })
///     }
/// }
/// ```
#[async_trait]
pub trait StaffAuthenticator: Send + Sync + 'static {
    /// The staff member making this request, if any.
    async fn authenticate(&self, parts: &Parts) -> Option<StaffActor>;
}

/// Static bearer tokens (`Authorization: Bearer <token>`), each for one
/// staff member of one tenant. Tokens are kept as SHA-256 hashes and
/// compared in constant time. `Debug` shows only the staff ids.
///
/// ```
/// use portal_access_axum::BearerTokens;
/// use portal_access_core::{service::StaffActor, StaffId, TenantId};
///
/// let mut tokens = BearerTokens::new();
/// tokens.insert(
///     "s3cret-token-of-alice".to_owned().into(),
///     StaffActor { tenant: TenantId::new("firm").unwrap(), staff_id: StaffId::new("alice").unwrap() },
/// );
/// assert_eq!(tokens.find("s3cret-token-of-alice").unwrap().staff_id.as_str(), "alice");
/// assert!(tokens.find("guess").is_none());
/// ```
#[derive(Default)]
pub struct BearerTokens {
    by_hash: HashMap<[u8; 32], StaffActor>,
}

impl BearerTokens {
    /// No tokens.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a token for `staff`.
    pub fn insert(&mut self, token: SecretString, staff: StaffActor) {
        self.by_hash.insert(
            Sha256::digest(token.expose_secret().as_bytes()).into(),
            staff,
        );
    }

    /// How many tokens there are.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// The staff member of this token. Every stored hash is compared (in
    /// constant time), so the answer takes the same time whichever matches.
    pub fn find(&self, token: &str) -> Option<&StaffActor> {
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for (hash, staff) in &self.by_hash {
            if bool::from(hash.ct_eq(&presented)) {
                found = Some(staff);
            }
        }
        found
    }
}

impl std::fmt::Debug for BearerTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.by_hash.values().map(|s| (&s.tenant, &s.staff_id)))
            .finish()
    }
}

#[async_trait]
impl StaffAuthenticator for BearerTokens {
    async fn authenticate(&self, parts: &Parts) -> Option<StaffActor> {
        let value = parts
            .headers
            .get(http::header::AUTHORIZATION)?
            .to_str()
            .ok()?;
        let (scheme, token) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        self.find(token.trim()).cloned()
    }
}
