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
//! - [`staff_console_router`]: the staff console (`/staff/console/...`),
//!   server-rendered staff pages over the same service calls.
//! - [`router`]: the staff API, the client API and the portal pages.
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

mod answers;
mod audit;
mod client_api;
pub mod client_ip;
mod console;
pub mod csrf;
pub mod error;
pub mod export;
mod extract;
mod failure;
pub mod headers;
pub mod hsts;
mod language;
mod mfa_api;
mod openapi;
mod page_templates;
mod pages;
pub mod qr;
pub mod session;
mod sign_in_answer;
mod staff;
mod staff_auth;
mod state;
mod tenant;
mod trust_api;

use axum::Router;

pub use client_ip::{ForwardedHeader, InvalidProxyList, TrustedProxies};
pub use console::{CaptchaWidget, ConsoleOptions, CONSOLE_PATH};
pub use csrf::CsrfKey;
pub use error::{status_for, ApiError, HttpCode};
pub use extract::ClientContext;
pub use hsts::Hsts;
pub use openapi::{openapi, openapi_json};
pub use page_templates::{PageTemplateError, PageTemplates};
pub use session::SessionCookie;
pub use staff_auth::{BearerTokens, StaffAuthenticator};
pub use state::{HttpConfigError, PortalHttp, PortalHttpBuilder, DEFAULT_BODY_LIMIT};
pub use tenant::{FixedTenant, TenantResolver};

/// The staff JSON API (`/staff/...`): see SPEC.md section 4.
pub fn staff_router(state: PortalHttp) -> Router {
    staff::router(state)
}

/// The staff console (`/staff/console/...`): server-rendered staff pages
/// behind the same [`StaffAuthenticator`] as [`staff_router`] (plus, for
/// bearer-token staff, a sign-in form and an `HttpOnly`, `SameSite=Strict`
/// console cookie): see SPEC.md section 12 and docs/console.md.
pub fn staff_console_router(state: PortalHttp, options: ConsoleOptions) -> Router {
    console::router(state, options)
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
