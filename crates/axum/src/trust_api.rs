//! The client's sessions and remembered devices (SPEC.md section 8,
//! "Sessions and devices page"), merged into the client API's router:
//!
//! - `GET /api/portal/sessions` → `{"sessions": [{id, created_at,
//!   last_seen_at, ip, location, os, browser, current}]}`;
//!   `DELETE /api/portal/sessions/{id}` → 204 (an id that is not one of the
//!   caller's live sessions: 404 `not_found`, nothing changed);
//!   `POST /api/portal/sessions/revoke-others` → 204.
//! - `GET /api/portal/devices` → `{"devices": [{id, created_at,
//!   expires_at, ip, location, os, browser}]}`;
//!   `DELETE /api/portal/devices/{id}` → 204 (404 as above);
//!   `DELETE /api/portal/devices` → 204.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::Router;

use crate::answers::{Devices, Sessions};
use crate::error::ApiError;
use crate::extract::{ClientContext, Session};
use crate::failure::json_response;
use crate::state::PortalHttp;

/// The session and device routes.
pub(crate) fn routes() -> Router<PortalHttp> {
    Router::new()
        .route("/api/portal/sessions", get(sessions))
        .route("/api/portal/sessions/revoke-others", post(revoke_others))
        .route("/api/portal/sessions/{id}", delete(revoke_session))
        .route("/api/portal/devices", get(devices).delete(forget_devices))
        .route("/api/portal/devices/{id}", delete(forget_device))
}

/// The client's live sessions, its own marked `current`.
#[utoipa::path(
    get,
    path = "/api/portal/sessions",
    responses((status = 200, description = "The sessions, newest first.", body = Sessions)),
)]
async fn sessions(
    State(http): State<PortalHttp>,
    Session(session): Session,
) -> Result<Response, ApiError> {
    let sessions = http
        .service()
        .sessions::<portal_access_core::NoRefusal>(&session)
        .await?;
    Ok(json_response(StatusCode::OK, &Sessions { sessions }))
}

/// Ends one of the client's sessions.
#[utoipa::path(
    delete,
    path = "/api/portal/sessions/{id}",
    responses((status = 204, description = "Ended.")),
)]
async fn revoke_session(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    Session(session): Session,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    http.service().revoke_session(&ctx, &session, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the client but this one.
#[utoipa::path(
    post,
    path = "/api/portal/sessions/revoke-others",
    responses((status = 204, description = "Ended.")),
)]
async fn revoke_others(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    Session(session): Session,
) -> Result<StatusCode, ApiError> {
    http.service().revoke_other_sessions(&ctx, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The client's remembered devices.
#[utoipa::path(
    get,
    path = "/api/portal/devices",
    responses((status = 200, description = "The devices.", body = Devices)),
)]
async fn devices(
    State(http): State<PortalHttp>,
    Session(session): Session,
) -> Result<Response, ApiError> {
    let devices = http
        .service()
        .devices::<portal_access_core::NoRefusal>(&session)
        .await?;
    Ok(json_response(StatusCode::OK, &Devices { devices }))
}

/// Forgets one remembered device.
#[utoipa::path(
    delete,
    path = "/api/portal/devices/{id}",
    responses((status = 204, description = "Forgotten.")),
)]
async fn forget_device(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    Session(session): Session,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    http.service().forget_device(&ctx, &session, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Forgets every remembered device.
#[utoipa::path(
    delete,
    path = "/api/portal/devices",
    responses((status = 204, description = "Forgotten.")),
)]
async fn forget_devices(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    Session(session): Session,
) -> Result<StatusCode, ApiError> {
    http.service().forget_devices(&ctx, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}
