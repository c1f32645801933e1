//! The state of the routers ([`PortalHttp`]) and its builder.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue};
use portal_access_core::service::{PortalService, SecondFactorChallenge, SignedIn};
use portal_access_core::{OsRandom, SecureRandom, TenantId};

use crate::client_ip::TrustedProxies;
use crate::csrf::CsrfKey;
use crate::hsts::Hsts;
use crate::page_templates::{PageTemplateError, PageTemplates};
use crate::session::{self, SessionCookie};
use crate::staff_auth::StaffAuthenticator;
use crate::tenant::{FixedTenant, TenantResolver};

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
    random: Arc<dyn SecureRandom>,
    body_limit: usize,
    /// Path of the portal pages as the browser sees them, e.g. `/portal`
    /// or `/app/portal` when the public URL has a path.
    portal_base: String,
    /// `scheme://host[:port]` of the public URL.
    public_origin: String,
    /// `Strict-Transport-Security`, when the public URL is https.
    hsts: Option<HeaderValue>,
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
            .field("hsts", &self.inner.hsts)
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
    random: Arc<dyn SecureRandom>,
    body_limit: usize,
    hsts: Hsts,
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

    /// The CSRF key. Default: 32 random bytes drawn at build from the
    /// random source ([`random`](Self::random)), which is right for one
    /// instance; instances behind one load balancer must share a key.
    pub fn csrf_key(mut self, key: CsrfKey) -> Self {
        self.csrf = Some(key);
        self
    }

    /// The page templates (default: the built-in ones).
    pub fn page_templates(mut self, pages: PageTemplates) -> Self {
        self.pages = pages;
        self
    }

    /// The random source of the HTTP layer: the default CSRF key, the
    /// pre-session CSRF cookies and generated request ids (default
    /// [`OsRandom`], the OS CSPRNG). Give it the service's source when the
    /// service was built with another one.
    pub fn random(mut self, random: Arc<dyn SecureRandom>) -> Self {
        self.random = random;
        self
    }

    /// The largest request body accepted, in bytes (default
    /// [`DEFAULT_BODY_LIMIT`]).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The `Strict-Transport-Security` policy every answer carries when the
    /// public URL is https (default [`Hsts::default`]: one year, without
    /// `includeSubDomains`). Over plain http the header is never sent.
    pub fn hsts(mut self, hsts: Hsts) -> Self {
        self.hsts = hsts;
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
        let pages = self
            .pages
            .speaking(self.service.locales().clone(), config.time_zone.clone())
            .map_err(HttpConfigError::Templates)?;
        pages.validate().map_err(HttpConfigError::Templates)?;
        let cookie = SessionCookie::for_config(config);
        let tenants = match self.tenants {
            Some(tenants) => tenants,
            None => Arc::new(FixedTenant::new(default_tenant())),
        };
        let csrf = match self.csrf {
            Some(key) => key,
            None => CsrfKey::generate(self.random.as_ref()),
        };
        let hsts = config.is_https().then(|| self.hsts.header_value());
        Ok(PortalHttp {
            inner: Arc::new(Inner {
                service: self.service,
                staff_auth: self.staff_auth,
                tenants,
                proxies: self.proxies,
                csrf,
                cookie,
                pages,
                random: self.random,
                body_limit: self.body_limit,
                portal_base,
                public_origin,
                hsts,
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
            random: Arc::new(OsRandom),
            body_limit: DEFAULT_BODY_LIMIT,
            hsts: Hsts::default(),
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

    /// The `Strict-Transport-Security` value the routers add to every answer
    /// (`None` when the public URL is plain http). A host that serves other
    /// routes beside the portal's adds it to those too.
    pub fn strict_transport_security(&self) -> Option<&HeaderValue> {
        self.inner.hsts.as_ref()
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

    pub(crate) fn random(&self) -> &dyn SecureRandom {
        self.inner.random.as_ref()
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

    /// Sets the cookie of a session that just started (sign-in, or the
    /// new session of a password change), and the device cookie when the
    /// sign-in remembered this browser.
    pub(crate) fn set_session_cookie(&self, headers: &mut HeaderMap, done: &SignedIn) {
        let now = self.service().now();
        let cookie = self
            .inner
            .cookie
            .set(done.session_token.expose(), done.expires_at, now);
        session::append(headers, cookie);
        if let Some(device) = &done.remembered_device {
            let cookie =
                self.inner
                    .cookie
                    .set_device(device.token.expose(), device.expires_at, now);
            session::append(headers, cookie);
        }
    }

    /// The remembered-device token the request carries, if any, owned: the
    /// header map is dropped here, before a sign-in waits for the hashing
    /// pool. Its values are slices of the connection's read buffer and
    /// would keep it alive through that wait while hyper reads on into a
    /// second one: 8 KiB more per sign-in in flight (docs/performance.md,
    /// (e)).
    pub(crate) fn device_token(&self, headers: HeaderMap) -> Option<String> {
        self.inner.cookie.device_token(&headers).map(str::to_owned)
    }

    /// Removes the session cookie.
    pub(crate) fn clear_session_cookie(&self, headers: &mut HeaderMap) {
        session::append(headers, self.inner.cookie.clear());
    }

    /// Sets the cookie of a sign-in challenge (no session yet).
    pub(crate) fn set_challenge_cookie(
        &self,
        headers: &mut HeaderMap,
        challenge: &SecondFactorChallenge,
    ) {
        let cookie = self.inner.cookie.set_challenge(
            challenge.token.expose(),
            challenge.expires_at,
            self.service().now(),
        );
        session::append(headers, cookie);
    }

    /// Removes the challenge cookie (a session was issued).
    pub(crate) fn clear_challenge_cookie(&self, headers: &mut HeaderMap) {
        session::append(headers, self.inner.cookie.clear_challenge());
    }

    /// The sign-in challenge token the request carries, if any.
    pub(crate) fn challenge_token<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        self.inner.cookie.challenge_token(headers)
    }
}

#[allow(clippy::expect_used, reason = "a constant that is a valid tenant id")]
fn default_tenant() -> TenantId {
    TenantId::new("default").expect("`default` is a valid tenant id")
}
