//! # portal-access-axum
//!
//! portal-access over HTTP, as [axum] routers a host mounts next to its own
//! routes (SPEC.md section 4):
//!
//! - [`staff_router`]: the staff JSON API (`/staff/...`). Staff are
//!   authenticated by the host through a [`StaffAuthenticator`]; every call
//!   is scoped to the staff member's tenant.
//! - [`client_api_router`]: the client JSON API (`/api/portal/...`), with the
//!   session cookie (`__Host-portal_session` over https, else `portal_session`).
//! - [`portal_pages_router`]: the server-rendered portal pages
//!   (`/portal/...`), working without JavaScript, CSRF-protected, with one
//!   small stylesheet; the page templates are host-overridable
//!   ([`PageTemplates`]).
//! - [`router`]: all three.
//!
//! Refusals map to a status and `{"error":{"code","message"}}` in one place
//! ([`error::status_for`]); an infrastructure failure answers 500 with a
//! request id and is logged with its cause chain, never shown.
//!
//! ```
//! use std::sync::Arc;
//! use portal_access_axum::{router, BearerTokens, PortalHttp};
//! use portal_access_core::{config::PortalConfig, testing::MemoryStore, service::PortalService, TenantId};
//!
//! let service = PortalService::builder(Arc::new(MemoryStore::new()))
//!     .config(PortalConfig::new("https://portal.example.com"))
//!     .build()
//!     .expect("valid configuration");
//! let tenant = TenantId::new("firm").unwrap();
//! let staff = BearerTokens::new();
//! let http = PortalHttp::builder(service, Arc::new(staff))
//!     .tenant(tenant)
//!     .build()
//!     .expect("valid HTTP configuration");
//! // Mount it as it is, or under a prefix with `Router::nest`.
//! let app: axum::Router = axum::Router::new().merge(router(http));
//! # let _ = app;
//! ```
//!
//! Serve the router with
//! `into_make_service_with_connect_info::<std::net::SocketAddr>()` so the
//! client's IP reaches the audit trail and the password-changed notice.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client_api;
pub mod client_ip;
pub mod csrf;
pub mod error;
mod extract;
pub mod headers;
mod page_templates;
mod pages;
pub mod session;
mod staff;
mod staff_auth;
mod tenant;

use std::sync::Arc;

use axum::Router;
use portal_access_core::service::PortalService;
use portal_access_core::TenantId;

pub use client_ip::{ForwardedHeader, InvalidProxyList, TrustedProxies};
pub use csrf::CsrfKey;
pub use error::{status_for, ApiError};
pub use extract::ClientContext;
pub use page_templates::{PageTemplateError, PageTemplates};
pub use session::SessionCookie;
pub use staff_auth::{BearerTokens, StaffAuthenticator};
pub use tenant::{FixedTenant, TenantResolver};

/// The default limit of a request body: 16 KiB. Every body this API takes
/// is far smaller (a password is at most 128 characters); a larger one is
/// refused with 413 before it is parsed.
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024;

/// The state of the routers: the service and what the HTTP layer needs
/// around it. Cheap to clone.
#[derive(Clone)]
pub struct PortalHttp {
    inner: Arc<Inner>,
}

struct Inner {
    service: PortalService,
    staff_auth: Arc<dyn StaffAuthenticator>,
    tenants: Arc<dyn TenantResolver>,
    proxies: TrustedProxies,
    csrf: CsrfKey,
    cookie: SessionCookie,
    pages: PageTemplates,
    body_limit: usize,
    /// Path of the portal pages as the browser sees them, e.g. `/portal`
    /// or `/app/portal` when the public URL has a path.
    portal_base: String,
    /// `scheme://host[:port]` of the public URL.
    public_origin: String,
}

impl std::fmt::Debug for PortalHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalHttp")
            .field("service", &self.inner.service)
            .field("proxies", &self.inner.proxies)
            .field("csrf", &self.inner.csrf)
            .field("cookie", &self.inner.cookie)
            .field("body_limit", &self.inner.body_limit)
            .field("portal_base", &self.inner.portal_base)
            .finish_non_exhaustive()
    }
}

/// Why a [`PortalHttp`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum HttpConfigError {
    /// The service's public base URL does not parse as a URL.
    #[error("the public base URL {url:?} is not a valid URL")]
    PublicUrl {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: url::ParseError,
    },
    /// A page template override does not compile or render.
    #[error("invalid page template")]
    Templates(#[source] PageTemplateError),
}

/// Builds a [`PortalHttp`].
pub struct PortalHttpBuilder {
    service: PortalService,
    staff_auth: Arc<dyn StaffAuthenticator>,
    tenants: Option<Arc<dyn TenantResolver>>,
    proxies: TrustedProxies,
    csrf: Option<CsrfKey>,
    pages: PageTemplates,
    body_limit: usize,
}

impl PortalHttpBuilder {
    /// The client side serves one fixed tenant (the common single-tenant host).
    pub fn tenant(mut self, tenant: TenantId) -> Self {
        self.tenants = Some(Arc::new(FixedTenant::new(tenant)));
        self
    }

    /// How the client side finds the tenant of a request (by host name,
    /// path, ...). Default: the tenant `default`.
    pub fn tenant_resolver(mut self, resolver: Arc<dyn TenantResolver>) -> Self {
        self.tenants = Some(resolver);
        self
    }

    /// Proxies whose `X-Forwarded-For` / `Forwarded` header is believed.
    /// Default: none (the client IP is the socket's peer).
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = proxies;
        self
    }

    /// The CSRF key. Default: 32 random bytes drawn at build, which is
    /// right for one instance; instances behind one load balancer must
    /// share a key.
    pub fn csrf_key(mut self, key: CsrfKey) -> Self {
        self.csrf = Some(key);
        self
    }

    /// The page templates (default: the built-in ones).
    pub fn page_templates(mut self, pages: PageTemplates) -> Self {
        self.pages = pages;
        self
    }

    /// The largest request body accepted, in bytes (default
    /// [`DEFAULT_BODY_LIMIT`]).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Checks the configuration and builds the state.
    pub fn build(self) -> Result<PortalHttp, HttpConfigError> {
        let config = self.service.config();
        let url = url::Url::parse(&config.public_base_url).map_err(|source| {
            HttpConfigError::PublicUrl {
                url: config.public_base_url.clone(),
                source,
            }
        })?;
        let public_origin = url.origin().ascii_serialization();
        let mut portal_base = url.path().trim_end_matches('/').to_owned();
        let portal_path = config.portal_path.trim_end_matches('/');
        if !portal_path.starts_with('/') && !portal_path.is_empty() {
            portal_base.push('/');
        }
        portal_base.push_str(portal_path);
        self.pages.validate().map_err(HttpConfigError::Templates)?;
        let cookie = SessionCookie::for_config(config);
        let tenants = self.tenants.unwrap_or_else(|| {
            Arc::new(FixedTenant::new(
                TenantId::new("default").expect("`default` is a valid tenant id"),
            ))
        });
        Ok(PortalHttp {
            inner: Arc::new(Inner {
                service: self.service,
                staff_auth: self.staff_auth,
                tenants,
                proxies: self.proxies,
                csrf: self.csrf.unwrap_or_else(CsrfKey::generate),
                cookie,
                pages: self.pages,
                body_limit: self.body_limit,
                portal_base,
                public_origin,
            }),
        })
    }
}

impl PortalHttp {
    /// Starts building the state around `service`, with the host's staff
    /// authentication.
    pub fn builder(
        service: PortalService,
        staff_auth: Arc<dyn StaffAuthenticator>,
    ) -> PortalHttpBuilder {
        PortalHttpBuilder {
            service,
            staff_auth,
            tenants: None,
            proxies: TrustedProxies::none(),
            csrf: None,
            pages: PageTemplates::builtin(),
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// The service.
    pub fn service(&self) -> &PortalService {
        &self.inner.service
    }

    /// The session cookie's name and attributes.
    pub fn session_cookie(&self) -> &SessionCookie {
        &self.inner.cookie
    }

    /// The path of the portal pages as the browser sees them (`/portal`).
    pub fn portal_base(&self) -> &str {
        &self.inner.portal_base
    }

    pub(crate) fn staff_auth(&self) -> &dyn StaffAuthenticator {
        self.inner.staff_auth.as_ref()
    }

    pub(crate) fn tenants(&self) -> &dyn TenantResolver {
        self.inner.tenants.as_ref()
    }

    pub(crate) fn proxies(&self) -> &TrustedProxies {
        &self.inner.proxies
    }

    pub(crate) fn csrf(&self) -> &CsrfKey {
        &self.inner.csrf
    }

    pub(crate) fn pages(&self) -> &PageTemplates {
        &self.inner.pages
    }

    pub(crate) fn body_limit(&self) -> usize {
        self.inner.body_limit
    }

    pub(crate) fn public_origin(&self) -> &str {
        &self.inner.public_origin
    }

    /// A path under the portal pages, e.g. `page_path("/sign-in")`.
    pub(crate) fn page_path(&self, page: &str) -> String {
        format!("{}{}", self.inner.portal_base, page)
    }
}

/// The staff JSON API (`/staff/...`): see SPEC.md section 4.
pub fn staff_router(state: PortalHttp) -> Router {
    staff::router(state)
}

/// The client JSON API (`/api/portal/...`): see SPEC.md section 4.
pub fn client_api_router(state: PortalHttp) -> Router {
    client_api::router(state)
}

/// The portal pages (`/portal/...` by default, under
/// [`PortalConfig::portal_path`](portal_access_core::config::PortalConfig::portal_path))
/// and their stylesheet.
pub fn portal_pages_router(state: PortalHttp) -> Router {
    pages::router(state)
}

/// The staff API, the client API and the portal pages together.
pub fn router(state: PortalHttp) -> Router {
    Router::new()
        .merge(staff_router(state.clone()))
        .merge(client_api_router(state.clone()))
        .merge(portal_pages_router(state))
}
