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
use utoipa::ToSchema;

use crate::answers::Notice;
use crate::csrf;
use crate::error::ApiError;
use crate::extract::{ApiJson, ClientContext, Session, Tenant};
use crate::failure::json_response;
use crate::headers::{self, API_CSP};
use crate::mfa_api;
use crate::sign_in_answer::{outcome_response, Me, SignInAnswer, SIGN_IN_ANSWERED};
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
        .route("/api/portal/language", put(set_own_language))
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

#[derive(Deserialize, ToSchema)]
struct ForgotBody {
    /// The address the account uses.
    email: String,
    /// The CAPTCHA widget's response token, when the portal requires one.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    captcha_response: Option<SecretString>,
}

/// Sends a password-reset link to the address, if an account of the tenant uses
/// it; answers the same either way.
#[utoipa::path(
    post,
    path = "/api/portal/forgot-password",
    request_body = ForgotBody,
    responses(
        (status = 202, description = "Taken (whether or not the address is known).", body = Notice),
    ),
)]
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
        &Notice {
            message: "If a portal account uses this address, a message is on its way to it.",
        },
    ))
}

#[derive(Deserialize, ToSchema)]
struct ResetBody {
    /// The reset link's token.
    token: String,
    /// The new password (the policy applies).
    #[schema(value_type = String, format = Password)]
    password: SecretString,
    /// The same again.
    #[schema(value_type = String, format = Password)]
    password_confirmation: SecretString,
}

/// Sets a new password with a reset link's token, and signs in (or asks for the second factor).
#[utoipa::path(
    post,
    path = "/api/portal/reset-password",
    request_body = ResetBody,
    responses((status = 200, description = SIGN_IN_ANSWERED, body = SignInAnswer)),
)]
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

#[derive(Deserialize, ToSchema)]
struct AcceptBody {
    /// The invitation link's token.
    token: String,
    /// The username to sign in with.
    username: String,
    /// The password (the policy applies).
    #[schema(value_type = String, format = Password)]
    password: SecretString,
    /// The same again.
    #[schema(value_type = String, format = Password)]
    password_confirmation: SecretString,
}

/// Accepts an invitation: chooses a username and a password, and signs in (or
/// asks for the second factor).
#[utoipa::path(
    post,
    path = "/api/portal/invitation/accept",
    request_body = AcceptBody,
    responses((status = 200, description = SIGN_IN_ANSWERED, body = SignInAnswer)),
)]
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

#[derive(Deserialize, ToSchema)]
struct SignInBody {
    /// The username or the email address.
    login: String,
    /// The password.
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// Signs in with a username or email address and the password.
#[utoipa::path(
    post,
    path = "/api/portal/sign-in",
    request_body = SignInBody,
    responses((status = 200, description = SIGN_IN_ANSWERED, body = SignInAnswer)),
)]
async fn sign_in(
    State(http): State<PortalHttp>,
    Tenant(tenant): Tenant,
    ClientContext(ctx): ClientContext,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SignInBody>,
) -> Result<Response, ApiError> {
    let device = http.device_token(headers);
    let done = http
        .service()
        .sign_in_on_device(&tenant, &ctx, &body.login, body.password, device.as_deref())
        .await?;
    Ok(outcome_response(&http, done))
}

/// Signs out: the session ends and its cookie is cleared.
#[utoipa::path(
    post,
    path = "/api/portal/sign-out",
    responses((status = 204, description = "Signed out.")),
)]
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

/// The signed-in account.
#[utoipa::path(
    get,
    path = "/api/portal/me",
    responses((status = 200, description = "The account.", body = Me)),
)]
async fn me(Session(session): Session) -> Response {
    json_response(StatusCode::OK, &Me::of(&session.account))
}

#[derive(Deserialize, ToSchema)]
struct UsernameBody {
    /// The new username.
    username: String,
}

/// Changes the client's username.
#[utoipa::path(
    put,
    path = "/api/portal/username",
    request_body = UsernameBody,
    responses((status = 204, description = "Changed.")),
)]
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

/// Sets the language the client's mail (and the portal, once signed in) is
/// written in; `null`: the firm's default.
#[utoipa::path(
    put,
    path = "/api/portal/language",
    request_body = crate::staff::LanguageBody,
    responses((status = 204, description = "Saved.")),
)]
async fn set_own_language(
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

#[derive(Deserialize, ToSchema)]
struct PasswordBody {
    /// The password now.
    #[schema(value_type = String, format = Password)]
    current_password: SecretString,
    /// The new password (the policy applies).
    #[schema(value_type = String, format = Password)]
    password: SecretString,
    /// The same again.
    #[schema(value_type = String, format = Password)]
    password_confirmation: SecretString,
}

/// Changes the password (the current one confirms it); the other sessions end
/// and this one is renewed.
#[utoipa::path(
    put,
    path = "/api/portal/password",
    request_body = PasswordBody,
    responses((status = 204, description = "Changed; a new session cookie is set.")),
)]
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
