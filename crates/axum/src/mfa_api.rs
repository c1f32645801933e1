//! The second-factor half of the client JSON API (SPEC.md section 8):
//! the challenge step of a sign-in and the factors of an account.
//!
//! - A correct password on an account that needs a factor answers `200
//!   {"second_factor_required": true, "enrolment_required": …, "methods":
//!   […]}` with the challenge cookie and no session (`sign_in_answer`,
//!   shared by sign-in, reset and invitation).
//! - `POST /api/portal/sign-in/second-factor {method, code,
//!   remember_device?}` turns the challenge into a session (and, when
//!   `remember_device` is true and the policy remembers devices, sets the
//!   device cookie); `POST /api/portal/sign-in/email-code` sends
//!   a code (202).
//! - `GET /api/portal/security`, `POST /api/portal/mfa/totp`, `POST
//!   /api/portal/mfa/totp/confirm`, `DELETE /api/portal/mfa/totp`, `POST
//!   /api/portal/mfa/email`, `DELETE /api/portal/mfa/email`, `POST
//!   /api/portal/mfa/recovery-codes`. Enrolment (the TOTP calls and `POST
//!   mfa/email`) also accepts the challenge cookie while enrolment is
//!   required; confirming then issues the session.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use portal_access_core::service::{ClientSession, SecurityView};
use portal_access_core::{FactorKind, RequestContext, SecondFactorMethod};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::answers::{Notice, RecoveryCodes, TotpSetup};
use crate::error::ApiError;
use crate::extract::{ApiJson, Challenge, ClientContext, FactorCaller, Session};
use crate::failure::json_response;
use crate::sign_in_answer::{signed_in_response, Me};
use crate::state::PortalHttp;

/// The second-factor routes, merged into the client API's router.
pub(crate) fn routes() -> Router<PortalHttp> {
    Router::new()
        .route("/api/portal/sign-in/second-factor", post(second_factor))
        .route("/api/portal/sign-in/email-code", post(email_code))
        .route("/api/portal/security", get(security))
        .route("/api/portal/mfa/totp", post(start_totp).delete(remove_totp))
        .route("/api/portal/mfa/totp/confirm", post(confirm_totp))
        .route(
            "/api/portal/mfa/email",
            post(add_email).delete(remove_email),
        )
        .route("/api/portal/mfa/recovery-codes", post(recovery_codes))
}

#[derive(Deserialize, ToSchema)]
struct CodeBody {
    /// How the step is passed.
    #[schema(value_type = SecondFactorMethod)]
    method: String,
    /// The code the method gives (from the app, the mail or a recovery code).
    code: String,
    /// Remember this browser for the policy's days (its own cookie).
    #[serde(default)]
    remember_device: bool,
}

/// Passes the second-factor step of a sign-in: a TOTP, emailed or recovery code
/// turns the challenge into a session.
#[utoipa::path(
    post,
    path = "/api/portal/sign-in/second-factor",
    request_body = CodeBody,
    responses(
        (
            status = 200,
            description = "Signed in: the session cookie is set (and the device cookie, when remembered).",
            body = Me,
        ),
    ),
)]
async fn second_factor(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    Challenge(challenge): Challenge,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Response, ApiError> {
    let done = http
        .service()
        .complete_second_factor_remembering(
            &ctx,
            &challenge,
            &body.method,
            &body.code,
            body.remember_device,
        )
        .await?;
    Ok(signed_in_response(&http, &done))
}

/// Emails a sign-in code for the second-factor step.
#[utoipa::path(
    post,
    path = "/api/portal/sign-in/email-code",
    responses((status = 202, description = "A code is on its way.", body = Notice)),
)]
async fn email_code(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    Challenge(challenge): Challenge,
) -> Result<Response, ApiError> {
    http.service().send_sign_in_code(&ctx, &challenge).await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &Notice {
            message: "A sign-in code is on its way to your email address.",
        },
    ))
}

/// The client's factors, sessions and remembered devices.
#[utoipa::path(
    get,
    path = "/api/portal/security",
    responses((status = 200, description = "The security view.", body = SecurityView)),
)]
async fn security(
    State(http): State<PortalHttp>,
    Session(session): Session,
) -> Result<Response, ApiError> {
    let view = http.service().security(&session).await?;
    Ok(json_response(StatusCode::OK, &view))
}

/// Begins a TOTP enrolment: the secret to put in an authenticator app.
#[utoipa::path(
    post,
    path = "/api/portal/mfa/totp",
    responses((status = 200, description = "The secret, its URI and QR code.", body = TotpSetup)),
)]
async fn start_totp(
    State(http): State<PortalHttp>,
    caller: FactorCaller,
) -> Result<Response, ApiError> {
    let enrolment = http.service().start_totp(caller.auth()).await?;
    let qr_svg = crate::qr::svg(&enrolment.otpauth_uri).map_err(ApiError::internal)?;
    Ok(json_response(
        StatusCode::OK,
        &TotpSetup {
            secret: enrolment.secret,
            otpauth_uri: enrolment.otpauth_uri,
            qr_svg,
        },
    ))
}

#[derive(Deserialize, ToSchema)]
struct ConfirmBody {
    /// A code the authenticator app shows now.
    code: String,
}

/// Confirms the TOTP enrolment with a code; answers the recovery codes (and,
/// when enrolling at sign-in, the session).
#[utoipa::path(
    post,
    path = "/api/portal/mfa/totp/confirm",
    request_body = ConfirmBody,
    responses(
        (
            status = 200,
            description = "Enrolled: the recovery codes, shown once.",
            body = RecoveryCodes,
        ),
    ),
)]
async fn confirm_totp(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    caller: FactorCaller,
    ApiJson(body): ApiJson<ConfirmBody>,
) -> Result<Response, ApiError> {
    let confirmed = http
        .service()
        .confirm_totp(&ctx, caller.auth(), &body.code)
        .await?;
    let mut response = json_response(
        StatusCode::OK,
        &RecoveryCodes::of(&confirmed.recovery_codes),
    );
    if let Some(done) = &confirmed.signed_in {
        http.set_session_cookie(response.headers_mut(), done);
        http.clear_challenge_cookie(response.headers_mut());
    }
    Ok(response)
}

#[derive(Deserialize, ToSchema)]
#[schema(as = CurrentPasswordBody)]
struct PasswordBody {
    /// The client's password, confirming the change.
    #[schema(value_type = String, format = Password)]
    current_password: SecretString,
}

/// Removes one factor of the signed-in client (the current password
/// confirms it): what `DELETE /mfa/totp` and `DELETE /mfa/email` share.
async fn remove(
    http: &PortalHttp,
    ctx: &RequestContext,
    session: &ClientSession,
    kind: FactorKind,
    body: PasswordBody,
) -> Result<StatusCode, ApiError> {
    http.service()
        .remove_factor(ctx, session, kind, body.current_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the authenticator app (the current password confirms it).
#[utoipa::path(
    delete,
    path = "/api/portal/mfa/totp",
    request_body = PasswordBody,
    responses((status = 204, description = "Removed.")),
)]
async fn remove_totp(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    Session(session): Session,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    remove(&http, &ctx, &session, FactorKind::Totp, body).await
}

/// Adds emailed codes as a second factor (the current password confirms it).
#[utoipa::path(
    post,
    path = "/api/portal/mfa/email",
    request_body = PasswordBody,
    responses((status = 204, description = "Added.")),
)]
async fn add_email(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    caller: FactorCaller,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    http.service()
        .add_email_factor(&ctx, caller.auth(), body.current_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes emailed codes as a second factor (the current password confirms it).
#[utoipa::path(
    delete,
    path = "/api/portal/mfa/email",
    request_body = PasswordBody,
    responses((status = 204, description = "Removed.")),
)]
async fn remove_email(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    Session(session): Session,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    remove(&http, &ctx, &session, FactorKind::EmailCode, body).await
}

/// Replaces the recovery codes (the current password confirms it); the old ones stop working.
#[utoipa::path(
    post,
    path = "/api/portal/mfa/recovery-codes",
    request_body = PasswordBody,
    responses((status = 200, description = "The new codes, shown once.", body = RecoveryCodes)),
)]
async fn recovery_codes(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    Session(session): Session,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<Response, ApiError> {
    let codes = http
        .service()
        .regenerate_recovery_codes(&ctx, &session, body.current_password)
        .await?;
    Ok(json_response(StatusCode::OK, &RecoveryCodes::of(&codes)))
}
