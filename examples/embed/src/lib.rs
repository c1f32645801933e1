//! # A CRM that embeds portal-access
//!
//! An existing axum application (a CRM with its own `/crm/...` routes, its
//! own staff sign-in and its own firms) that adds client portal accounts by
//! mounting the portal-access routers under [`PORTAL_PREFIX`]:
//!
//! - `/clients/staff/...`: the staff JSON API, authenticated by the CRM's
//!   **own** staff session ([`CrmStaffAuth`], a [`StaffAuthenticator`]): no
//!   second login, no second user table;
//! - `/clients/api/portal/...`: the client JSON API;
//! - `/clients/portal/...`: the portal pages the invitation and reset links
//!   point to (the public URL given to the service includes the prefix).
//!
//! The CRM's own routes call the same [`PortalService`] in process
//! (`POST /crm/contacts/{id}/portal-invitation` creates the contact's portal
//! account and invites it), and the outbox [`Dispatcher`] runs next to the
//! server.
//!
//! `cargo run -p portal-embed-example` serves it on 127.0.0.1:3000 with
//! SQLite and a mail directory; the test (`tests/embed.rs`) serves it on
//! port 0 with the in-memory store and a recording mailer.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use portal_access::axum::{router as portal_router, status_for, ClientContext, PortalHttp};
use portal_access::axum::{HttpConfigError, StaffAuthenticator};
use portal_access::config::PortalConfig;
use portal_access::dispatch::{Dispatcher, DispatcherConfig};
use portal_access::service::{ConfigError, NewAccountInput, PortalService, StaffActor};
use portal_access::{
    AccountStore, Mailer, OsRandom, Refusal, SecureRandom, ServiceError, StaffId, SystemClock,
    TenantId,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

/// Where the CRM mounts the portal routers.
pub const PORTAL_PREFIX: &str = "/clients";

/// The CRM's own staff session cookie.
pub const CRM_SESSION_COOKIE: &str = "crm_session";

/// A member of the CRM's staff, as the CRM knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrmUser {
    /// The CRM's user id (becomes the portal's staff id in audit events).
    pub id: String,
    /// The firm they work for (becomes the portal's tenant).
    pub firm: TenantId,
}

/// The CRM's own staff sessions: a stand-in for the session store the CRM
/// already has. Cheap to clone; `Debug` shows only how many there are.
#[derive(Clone, Default)]
pub struct CrmSessions {
    by_id: Arc<RwLock<HashMap<String, CrmUser>>>,
}

impl std::fmt::Debug for CrmSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.by_id.read().map(|s| s.len()).unwrap_or_default();
        write!(f, "CrmSessions({count} open)")
    }
}

impl CrmSessions {
    /// No sessions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Signs `user` in; the returned session id is the cookie's value.
    pub fn start(&self, user: CrmUser) -> SecretString {
        let mut bytes = [0u8; 32];
        OsRandom.fill(&mut bytes);
        let id = URL_SAFE_NO_PAD.encode(bytes);
        // Only inserts and reads happen under the lock: a poisoned map is still valid.
        self.by_id
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id.clone(), user);
        SecretString::from(id)
    }

    /// The user of a session id, if it is open.
    pub fn user(&self, session_id: &str) -> Option<CrmUser> {
        self.by_id.read().ok()?.get(session_id).cloned()
    }

    /// The user of the request's `crm_session` cookie, if any.
    pub fn user_of(&self, parts: &Parts) -> Option<CrmUser> {
        let jar = CookieJar::from_headers(&parts.headers);
        self.user(jar.get(CRM_SESSION_COOKIE)?.value())
    }
}

/// The bridge between the CRM and the portal's staff API: a request is from
/// a staff member when it carries an open CRM staff session. The CRM user's
/// firm is the tenant, so staff only ever see their own firm's accounts.
///
/// The CRM's session cookie is `SameSite=Strict` ([`session_set_cookie`]),
/// so a page of another site cannot make a browser call the staff API with it.
#[derive(Debug, Clone)]
pub struct CrmStaffAuth {
    sessions: CrmSessions,
}

#[async_trait]
impl StaffAuthenticator for CrmStaffAuth {
    async fn authenticate(&self, parts: &Parts) -> Option<StaffActor> {
        let user = self.sessions.user_of(parts)?;
        Some(StaffActor {
            tenant: user.firm,
            staff_id: StaffId::new(user.id).ok()?,
        })
    }
}

/// A client contact in the CRM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// The CRM's id (stored as the portal account's `contact_ref`).
    pub id: String,
    /// The name.
    pub name: String,
    /// The email address.
    pub email: String,
}

/// What the CRM is configured with.
#[derive(Debug, Clone)]
pub struct CrmConfig {
    /// The CRM's public base URL, e.g. `https://crm.example.com` (the
    /// portal's links are built from it plus [`PORTAL_PREFIX`]).
    pub public_url: String,
    /// The firm this CRM instance serves; its clients sign in to its portal.
    pub firm: TenantId,
    /// The firm's contacts.
    pub contacts: Vec<Contact>,
}

impl CrmConfig {
    /// A demo firm with two contacts.
    #[expect(
        clippy::expect_used,
        reason = "a constant tenant id, checked by the tests"
    )]
    pub fn demo(public_url: impl Into<String>) -> Self {
        Self {
            public_url: public_url.into(),
            firm: TenantId::new("acme-accounting").expect("acme-accounting is a valid tenant id"),
            contacts: vec![
                Contact {
                    id: "c-1001".into(),
                    name: "Ann Client".into(),
                    email: "ann@client.example".into(),
                },
                Contact {
                    id: "c-1002".into(),
                    name: "Bo Customer".into(),
                    email: "bo@client.example".into(),
                },
            ],
        }
    }
}

/// Why the CRM could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The portal service configuration is invalid.
    #[error("invalid portal configuration")]
    Service(#[source] ConfigError),
    /// The portal HTTP configuration is invalid.
    #[error("invalid portal HTTP configuration")]
    Http(#[source] HttpConfigError),
}

/// The CRM, built and ready to serve.
pub struct Crm {
    /// Every route: the CRM's and the portal's.
    pub router: Router,
    /// The portal service (the CRM's own code calls it too).
    pub service: PortalService,
    /// The CRM's staff sessions.
    pub sessions: CrmSessions,
    dispatcher: Dispatcher,
}

impl std::fmt::Debug for Crm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crm")
            .field("service", &self.service)
            .field("sessions", &self.sessions)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct CrmState {
    sessions: CrmSessions,
    firm: TenantId,
    contacts: Arc<Vec<Contact>>,
    portal: PortalHttp,
}

/// Builds the CRM: the portal service over `store` and `mailer`, the
/// portal routers behind the CRM's staff sessions, the CRM's own routes.
pub fn build(
    config: CrmConfig,
    store: Arc<dyn AccountStore>,
    mailer: Arc<dyn Mailer>,
) -> Result<Crm, BuildError> {
    // Links in mail point under the prefix the routers are mounted at.
    let portal_url = format!("{}{PORTAL_PREFIX}", config.public_url.trim_end_matches('/'));
    let service = PortalService::builder(store.clone())
        .config(PortalConfig::new(portal_url))
        .mailer(mailer.clone())
        .build()
        .map_err(BuildError::Service)?;

    let sessions = CrmSessions::new();
    let staff_auth = CrmStaffAuth {
        sessions: sessions.clone(),
    };
    let portal = PortalHttp::builder(service.clone(), Arc::new(staff_auth))
        .tenant(config.firm.clone())
        .build()
        .map_err(BuildError::Http)?;

    let crm_routes = Router::new()
        .route("/crm/contacts", get(list_contacts))
        .route(
            "/crm/contacts/{id}/portal-invitation",
            post(invite_to_portal),
        )
        .with_state(CrmState {
            sessions: sessions.clone(),
            firm: config.firm,
            contacts: Arc::new(config.contacts),
            portal: portal.clone(),
        });
    let router = Router::new()
        .merge(crm_routes)
        .nest(PORTAL_PREFIX, portal_router(portal));

    let dispatcher = Dispatcher::new(
        store,
        mailer,
        Arc::new(SystemClock),
        DispatcherConfig::default(),
    );
    Ok(Crm {
        router,
        service,
        sessions,
        dispatcher,
    })
}

impl Crm {
    /// Serves on `listener` with the outbox dispatcher until `shutdown`
    /// resolves; then finishes in-flight requests and the dispatcher's
    /// current batch.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut dispatcher_stop = stopped.clone();
        let dispatcher = tokio::spawn(self.dispatcher.run(async move {
            let _ = dispatcher_stop.wait_for(|stop| *stop).await;
        }));
        // The client IP reaches the audit trail through ConnectInfo.
        let served = axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        let _ = stop.send(true);
        let _ = dispatcher.await;
        served
    }
}

/// The staff member of a CRM route (401 without a CRM session).
struct CrmStaff(CrmUser);

impl FromRequestParts<CrmState> for CrmStaff {
    type Rejection = CrmError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &CrmState,
    ) -> Result<Self, Self::Rejection> {
        state
            .sessions
            .user_of(parts)
            .filter(|user| user.firm == state.firm)
            .map(CrmStaff)
            .ok_or(CrmError::SignInRequired)
    }
}

/// A failure of a CRM route.
#[derive(Debug, thiserror::Error)]
enum CrmError {
    #[error("sign in to the CRM first")]
    SignInRequired,
    #[error("no such contact")]
    NoSuchContact,
    /// The portal refused, with its stable code.
    #[error("{message}")]
    Portal {
        code: portal_access::ErrorCode,
        message: String,
    },
    #[error("the portal failed")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl<E: Refusal> From<ServiceError<E>> for CrmError {
    fn from(error: ServiceError<E>) -> Self {
        match error {
            ServiceError::Refused(refusal) => Self::Portal {
                code: refusal.code(),
                message: refusal.to_string(),
            },
            ServiceError::Infrastructure(infra) => Self::Internal(Box::new(infra)),
        }
    }
}

impl IntoResponse for CrmError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            Self::SignInRequired => (StatusCode::UNAUTHORIZED, "sign_in_required"),
            Self::NoSuchContact => (StatusCode::NOT_FOUND, "no_such_contact"),
            Self::Portal { code, .. } => (status_for(*code), code.as_str()),
            Self::Internal(error) => {
                tracing::error!(error = %error, source = ?std::error::Error::source(error.as_ref()), "portal call failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
            }
        };
        let message = match &self {
            Self::Internal(_) => "Something went wrong on our side.".to_owned(),
            other => other.to_string(),
        };
        let body = serde_json::json!({ "error": { "code": code, "message": message } });
        (status, Json(body)).into_response()
    }
}

/// `GET /crm/contacts`: the firm's contacts (a CRM route like any other).
async fn list_contacts(
    State(crm): State<CrmState>,
    CrmStaff(user): CrmStaff,
) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "firm": user.firm.as_str(),
        "contacts": crm.contacts.as_slice(),
    }))
}

/// `POST /crm/contacts/{id}/portal-invitation`: the CRM's "invite to the
/// portal" button. It calls the service in process: creates the contact's
/// portal account and sends the invitation (delivered by the dispatcher).
async fn invite_to_portal(
    State(crm): State<CrmState>,
    CrmStaff(user): CrmStaff,
    Path(contact_id): Path<String>,
    parts: Parts,
) -> Result<Response, CrmError> {
    let contact = crm
        .contacts
        .iter()
        .find(|c| c.id == contact_id)
        .ok_or(CrmError::NoSuchContact)?;
    let staff = StaffActor {
        tenant: user.firm,
        staff_id: StaffId::new(user.id).map_err(|e| CrmError::Internal(Box::new(e)))?,
    };
    // IP and User-Agent for the audit trail, as the portal routes read them.
    let ClientContext(ctx) = ClientContext::from_parts(&parts, &crm.portal);
    let service = crm.portal.service();
    let account = service
        .create_account(
            &staff,
            &ctx,
            NewAccountInput {
                email: contact.email.clone(),
                contact_ref: Some(contact.id.clone()),
                display_name: Some(contact.name.clone()),
                language: None,
            },
        )
        .await?;
    let sent = service.send_invitation(&staff, &ctx, account.id).await?;
    let body = serde_json::json!({
        "account_id": account.id,
        "sent": sent,
        "status": format!("{PORTAL_PREFIX}/staff/accounts/{}", account.id),
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The `Set-Cookie` value the CRM's sign-in answers with: `HttpOnly`,
/// `SameSite=Strict`, and `Secure` when the CRM is served over https.
pub fn session_set_cookie(session: &SecretString, https: bool) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!(
        "{CRM_SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/{secure}",
        session.expose_secret()
    )
}

/// The value of a `Cookie` header carrying a CRM session (for HTTP clients
/// and tests).
pub fn session_cookie(session: &SecretString) -> String {
    format!("{CRM_SESSION_COOKIE}={}", session.expose_secret())
}
