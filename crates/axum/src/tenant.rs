//! Which tenant a client-side request belongs to.

use async_trait::async_trait;
use http::request::Parts;
use portal_access_core::TenantId;

/// Finds the tenant of a client-side request (sign-in and forgot-password
/// look accounts up within it; a session of another tenant is refused).
///
/// A single-tenant host uses [`FixedTenant`]; a multi-tenant one resolves
/// from the host name or a path segment. `None` answers 404 `not_found`.
///
/// ```
/// use async_trait::async_trait;
/// use http::request::Parts;
/// use portal_access_axum::TenantResolver;
/// use portal_access_core::TenantId;
///
/// /// `acme.portal.example.com` -> tenant `acme`.
/// struct BySubdomain;
///
/// #[async_trait]
/// impl TenantResolver for BySubdomain {
///     async fn resolve(&self, parts: &Parts) -> Option<TenantId> {
///         let host = parts.headers.get(http::header::HOST)?.to_str().ok()?;
///         let (sub, _) = host.split_once('.')?;
///         TenantId::new(sub).ok()
///     }
/// }
/// ```
#[async_trait]
pub trait TenantResolver: Send + Sync + 'static {
    /// The tenant of this request, if it has one.
    async fn resolve(&self, parts: &Parts) -> Option<TenantId>;
}

/// Always the same tenant.
#[derive(Debug, Clone)]
pub struct FixedTenant(TenantId);

impl FixedTenant {
    /// Every request belongs to `tenant`.
    pub fn new(tenant: TenantId) -> Self {
        Self(tenant)
    }
}

#[async_trait]
impl TenantResolver for FixedTenant {
    async fn resolve(&self, _parts: &Parts) -> Option<TenantId> {
        Some(self.0.clone())
    }
}
