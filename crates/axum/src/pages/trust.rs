//! The sessions and remembered devices of the security page: end one
//! session or every other one, forget one device or all. Each form posts
//! here (CSRF-checked, no script) and comes back to the security page with
//! what was done; an id that is not one of the client's own is refused
//! (`not_found`) on the security page, nothing changed.

use axum::extract::State;
use axum::response::Response;
use portal_access_core::service::{ClientSession, ServiceError};
use portal_access_core::workflow::Refusal;
use serde::Deserialize;

use super::factors::security_refused;
use super::form::{NoFields, SessionForm};
use super::render::{page_failure, see_other};
use crate::error::ApiError;
use crate::extract::ClientContext;
use crate::state::PortalHttp;

/// A form naming one session or device by its listed id.
#[derive(Deserialize)]
pub(super) struct IdForm {
    #[serde(default)]
    id: String,
}

/// Back to the security page with `done`, or the page with the refusal.
async fn back<E: Refusal>(
    http: &PortalHttp,
    session: &ClientSession,
    result: Result<(), ServiceError<E>>,
    done: &str,
) -> Response {
    match result {
        Ok(()) => see_other(http, &format!("/security?done={done}")),
        Err(refusal @ ServiceError::Refused(_)) => {
            security_refused(http, session, "sessions", &ApiError::from(refusal)).await
        }
        Err(failure @ ServiceError::Infrastructure(_)) => page_failure(failure.into()),
    }
}

pub(super) async fn revoke_session(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    SessionForm {
        fields: form,
        session,
        ..
    }: SessionForm<IdForm>,
) -> Response {
    let result = http
        .service()
        .revoke_session(&ctx, &session, &form.id)
        .await;
    back(&http, &session, result, "session_revoked").await
}

pub(super) async fn revoke_others(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    SessionForm { session, .. }: SessionForm<NoFields>,
) -> Response {
    let result = http.service().revoke_other_sessions(&ctx, &session).await;
    back(&http, &session, result, "others_revoked").await
}

pub(super) async fn forget_device(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    SessionForm {
        fields: form,
        session,
        ..
    }: SessionForm<IdForm>,
) -> Response {
    let result = http.service().forget_device(&ctx, &session, &form.id).await;
    back(&http, &session, result, "device_forgotten").await
}

pub(super) async fn forget_devices(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    SessionForm { session, .. }: SessionForm<NoFields>,
) -> Response {
    let result = http.service().forget_devices(&ctx, &session).await;
    back(&http, &session, result, "devices_forgotten").await
}
