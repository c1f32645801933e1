//! The client JSON API (SPEC.md section 4), with the session cookie.
//!
//! State-changing calls are refused when a browser says they come from
//! another site (`Sec-Fetch-Site` / `Origin`, see [`crate::csrf`]); their
//! JSON content type already forces a CORS preflight, which this API never
//! grants.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use secrecy::SecretString;
use serde::Deserialize;

use crate::csrf;
use crate::error::ApiError;
use crate::extract::{ApiJson, ClientContext, Session, Tenant};
use crate::failure::json_response;
use crate::headers::{self, API_CSP};
use crate::mfa_api;
use crate::sign_in_answer::{outcome_response, Me};
use crate::state::PortalHttp;
use crate::trust_api;

pub(crate) fn router(state: PortalHttp) -> Router {
    let router = Router::new()
        .route("/api/portal/forgot-password", post(forgot_password))
        .route("/api/portal/reset-password", post(reset_password))
        .route("/api/portal/invitation/accept", post(accept_invitation))
        .route("/api/portal/sign-in", post(sign_in))
        .route("/api/portal/sign-out", post(sign_out))
        .route("/api/portal/me", get(me))
        .route("/api/portal/username", put(change_username))
        .route("/api/portal/password", put(change_password))
        .route("/api/portal/language", put(set_language))
        .merge(mfa_api::routes())
        .merge(trust_api::routes())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            refuse_cross_site,
        ));
    headers::finish(router, state, API_CSP)
}

/// Middleware: a state-changing call a browser says is cross-site is
/// refused (403 `csrf_failed`).
async fn refuse_cross_site(
    State(http): State<PortalHttp>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe {
        if let Err(error) = csrf::check_origin(request.headers(), http.public_origin()) {
            return ApiError::csrf(error).into_response();
        }
    }
    next.run(request).await
}

#[derive(Deserialize)]
struct ForgotBody {
    email: String,
    #[serde(default)]
    captcha_response: Option<SecretString>,
}

async fn forgot_password(
    State(http): State<PortalHttp>,
    Tenant(tenant): Tenant,
    ClientContext(ctx): ClientContext,
    ApiJson(body): ApiJson<ForgotBody>,
) -> Result<Response, ApiError> {
    http.service()
        .forgot_password(&tenant, &ctx, &body.email, body.captcha_response)
        .await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &serde_json::json!({
            "message": "If a portal account uses this address, a message is on its way to it."
        }),
    ))
}

#[derive(Deserialize)]
struct ResetBody {
    token: String,
    password: SecretString,
    password_confirmation: SecretString,
}

async fn reset_password(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<Response, ApiError> {
    let done = http
        .service()
        .reset_password(&ctx, &body.token, body.password, body.password_confirmation)
        .await?;
    Ok(outcome_response(&http, done))
}

#[derive(Deserialize)]
struct AcceptBody {
    token: String,
    username: String,
    password: SecretString,
    password_confirmation: SecretString,
}

async fn accept_invitation(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    ApiJson(body): ApiJson<AcceptBody>,
) -> Result<Response, ApiError> {
    let done = http
        .service()
        .accept_invitation(
            &ctx,
            &body.token,
            &body.username,
            body.password,
            body.password_confirmation,
        )
        .await?;
    Ok(outcome_response(&http, done))
}

#[derive(Deserialize)]
struct SignInBody {
    login: String,
    password: SecretString,
}

async fn sign_in(
    State(http): State<PortalHttp>,
    Tenant(tenant): Tenant,
    ClientContext(ctx): ClientContext,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SignInBody>,
) -> Result<Response, ApiError> {
    let device = http.device_token(&headers);
    let done = http
        .service()
        .sign_in_on_device(&tenant, &ctx, &body.login, body.password, device)
        .await?;
    Ok(outcome_response(&http, done))
}

async fn sign_out(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    Session(session): Session,
) -> Result<Response, ApiError> {
    http.service().sign_out(&ctx, &session).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    http.clear_session_cookie(response.headers_mut());
    Ok(response)
}

async fn me(Session(session): Session) -> Response {
    json_response(StatusCode::OK, &Me::of(&session.account))
}

#[derive(Deserialize)]
struct UsernameBody {
    username: String,
}

async fn change_username(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    Session(session): Session,
    ApiJson(body): ApiJson<UsernameBody>,
) -> Result<StatusCode, ApiError> {
    http.service()
        .change_username(&session, &ctx, &body.username)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_language(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    Session(session): Session,
    ApiJson(body): ApiJson<crate::staff::LanguageBody>,
) -> Result<StatusCode, ApiError> {
    http.service()
        .set_own_language(&session, &ctx, body.language.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct PasswordBody {
    current_password: SecretString,
    password: SecretString,
    password_confirmation: SecretString,
}

async fn change_password(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    Session(session): Session,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<Response, ApiError> {
    let done = http
        .service()
        .change_password(
            &session,
            &ctx,
            body.current_password,
            body.password,
            body.password_confirmation,
        )
        .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    http.set_session_cookie(response.headers_mut(), &done);
    Ok(response)
}
