//! The staff JSON API (SPEC.md section 4). Every handler is scoped to the
//! authenticated staff member's tenant by the service: an account of
//! another tenant is `not_found`.

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use portal_access_core::service::{
    NewAccountInput, NoticeDelivery, PortalService, SetPasswordInput, StaffActor,
};
use portal_access_core::{AccountId, RequestContext};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::answers::{Events, InvitationQueued, ResetQueued, ResetSent, Sessions};
use crate::error::ApiError;
use crate::extract::{parse_account_id, ApiJson, ClientContext, Staff};
use crate::failure::json_response;
use crate::headers::{self, API_CSP};
use crate::state::PortalHttp;

/// The most audit events one call returns.
const MAX_EVENTS: u32 = 500;
/// Audit events returned when no `limit` is given.
const DEFAULT_EVENTS: u32 = 100;

/// A staff call on one account: the state, the staff member, where the
/// request comes from and the account of the path (an id that does not
/// parse names no account: 404).
struct AccountCall {
    http: PortalHttp,
    staff: StaffActor,
    ctx: RequestContext,
    id: AccountId,
}

impl FromRequestParts<PortalHttp> for AccountCall {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, http: &PortalHttp) -> Result<Self, ApiError> {
        let Staff(staff) = Staff::from_request_parts(parts, http).await?;
        let Path(id) = Path::<String>::from_request_parts(parts, http)
            .await
            .map_err(|_| ApiError::not_found())?;
        Ok(Self {
            http: http.clone(),
            staff,
            ctx: ClientContext::from_parts(parts, http).0,
            id: parse_account_id(&id)?,
        })
    }
}

impl AccountCall {
    fn service(&self) -> &PortalService {
        self.http.service()
    }
}

pub(crate) fn router(state: PortalHttp) -> Router {
    let router = Router::new()
        .route("/staff/accounts", post(create_account))
        .route("/staff/accounts/{id}", get(account_status))
        .route("/staff/accounts/{id}/invitation", post(send_invitation))
        .route(
            "/staff/accounts/{id}/password-reset",
            post(send_password_reset),
        )
        .route("/staff/accounts/{id}/password", put(set_password))
        .route("/staff/accounts/{id}/access", put(set_access))
        .route("/staff/accounts/{id}/language", put(set_language))
        .route("/staff/accounts/{id}/archive", post(archive))
        .route("/staff/accounts/{id}/unarchive", post(unarchive))
        .route("/staff/accounts/{id}/email", put(change_email))
        .route("/staff/accounts/{id}/events", get(account_events))
        .route("/staff/accounts/{id}/mfa-reset", post(mfa_reset))
        .route(
            "/staff/accounts/{id}/sessions",
            get(account_sessions).delete(revoke_account_sessions),
        )
        .route("/staff/human-verification", post(human_verification))
        .route("/staff/audit", get(crate::audit::audit_trail));
    headers::finish(router, state, API_CSP)
}

#[derive(Deserialize, ToSchema)]
struct NewAccountBody {
    /// The client's email address (one account per address and tenant).
    email: String,
    /// The host's own reference to the client (e.g. its CRM contact id).
    #[serde(default)]
    contact_ref: Option<String>,
    /// The client's name, for display.
    #[serde(default)]
    display_name: Option<String>,
    /// The language of the client's mail (`en`, `es`); absent: the firm's
    /// default.
    #[serde(default)]
    language: Option<String>,
}

/// Creates an account (not yet invited) for a client of the host.
#[utoipa::path(
    post,
    path = "/staff/accounts",
    request_body = NewAccountBody,
    responses(
        (
            status = 201,
            description = "Created: the account's status.",
            body = StaffAccountView,
            headers(("location" = String, description = "The account's URL.")),
        ),
    ),
)]
async fn create_account(
    State(http): State<PortalHttp>,
    Staff(staff): Staff,
    ClientContext(ctx): ClientContext,
    ApiJson(body): ApiJson<NewAccountBody>,
) -> Result<Response, ApiError> {
    let service = http.service();
    let account = service
        .create_account(
            &staff,
            &ctx,
            NewAccountInput {
                email: body.email,
                contact_ref: body.contact_ref,
                display_name: body.display_name,
                language: body.language,
            },
        )
        .await?;
    let status = status_view(service, &staff, account.id).await?;
    let mut response = json_response(StatusCode::CREATED, &status);
    if let Ok(location) = HeaderValue::from_str(&format!("/staff/accounts/{}", account.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The account's status: access, invitation, messages with their links,
/// factors, sessions, webhooks.
#[utoipa::path(
    get,
    path = "/staff/accounts/{id}",
    responses((status = 200, description = "The account's status.", body = StaffAccountView)),
)]
async fn account_status(call: AccountCall) -> Result<Response, ApiError> {
    let status = status_view(call.service(), &call.staff, call.id).await?;
    Ok(json_response(StatusCode::OK, &status))
}

/// The staff view of an account: its status and, beside its messages, its
/// webhook deliveries.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct StaffAccountView {
    /// The account's status.
    #[serde(flatten)]
    pub status: portal_access_core::workflow::status::AccountStatus,
    /// Its recent webhook deliveries, newest first.
    pub webhooks: Vec<portal_access_core::WebhookStatus>,
}

async fn status_view(
    service: &PortalService,
    staff: &StaffActor,
    id: AccountId,
) -> Result<StaffAccountView, ApiError> {
    let status = service.account_status(staff, id).await?;
    let webhooks = service.account_webhooks(staff, id).await?;
    Ok(StaffAccountView { status, webhooks })
}

/// Sends (or resends) the invitation: a fresh link; an earlier one stops working.
#[utoipa::path(
    post,
    path = "/staff/accounts/{id}/invitation",
    responses((status = 202, description = "The invitation is queued.", body = InvitationQueued)),
)]
async fn send_invitation(call: AccountCall) -> Result<Response, ApiError> {
    let sent = call
        .service()
        .send_invitation(&call.staff, &call.ctx, call.id)
        .await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &InvitationQueued { sent },
    ))
}

/// Sends the client a password-reset link.
#[utoipa::path(
    post,
    path = "/staff/accounts/{id}/password-reset",
    responses((status = 202, description = "The reset link is queued.", body = ResetQueued)),
)]
async fn send_password_reset(call: AccountCall) -> Result<Response, ApiError> {
    call.service()
        .send_password_reset(&call.staff, &call.ctx, call.id)
        .await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &ResetQueued {
            sent: ResetSent::PasswordReset,
        },
    ))
}

fn must_change_by_default() -> bool {
    true
}

#[derive(Deserialize, ToSchema)]
struct SetPasswordBody {
    /// The new password (the policy applies).
    #[schema(value_type = String, format = Password)]
    password: SecretString,
    /// The same again.
    #[schema(value_type = String, format = Password)]
    password_confirmation: SecretString,
    /// The client must change it at next sign-in (default `true`).
    #[serde(default = "must_change_by_default")]
    must_change: bool,
}

/// The header that tells whether the password-changed notice was queued
/// (`queued`) or skipped because no mailer is configured (`skipped_no_mailer`).
pub(crate) const NOTICE_HEADER: &str = "portal-notice";

/// Sets the client's password (by default one they must change at next sign-
/// in); their sessions end.
#[utoipa::path(
    put,
    path = "/staff/accounts/{id}/password",
    request_body = SetPasswordBody,
    responses(
        (
            status = 204,
            description = "Set; the client is told by mail.",
            headers(("portal-notice" = String, description = "`queued`, or `skipped_no_mailer` when no mailer is configured.")),
        ),
    ),
)]
async fn set_password(
    call: AccountCall,
    ApiJson(body): ApiJson<SetPasswordBody>,
) -> Result<Response, ApiError> {
    let outcome = call
        .service()
        .set_password(
            &call.staff,
            &call.ctx,
            call.id,
            SetPasswordInput {
                password: body.password,
                password_confirmation: body.password_confirmation,
                must_change: body.must_change,
            },
        )
        .await?;
    let notice = match outcome.notice {
        NoticeDelivery::Queued => "queued",
        NoticeDelivery::SkippedNoMailer => "skipped_no_mailer",
    };
    Ok((
        StatusCode::NO_CONTENT,
        [(NOTICE_HEADER, HeaderValue::from_static(notice))],
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
struct AccessBody {
    /// `true`: the client may sign in; `false`: not, and their sessions end.
    enabled: bool,
}

/// Turns portal access on or off; turning it off ends the client's sessions.
#[utoipa::path(
    put,
    path = "/staff/accounts/{id}/access",
    request_body = AccessBody,
    responses((status = 204, description = "Done.")),
)]
async fn set_access(
    call: AccountCall,
    ApiJson(body): ApiJson<AccessBody>,
) -> Result<StatusCode, ApiError> {
    call.service()
        .set_access(&call.staff, &call.ctx, call.id, body.enabled)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{"language": "es"}`; `null` (or blank): the firm's default.
#[derive(Deserialize, ToSchema)]
pub(crate) struct LanguageBody {
    /// A language tag of the portal (`en`, `es`; `es-MX` is taken as `es`),
    /// or `null` for the firm's default.
    pub(crate) language: Option<String>,
}

/// Sets the language the client's mail is written in.
#[utoipa::path(
    put,
    path = "/staff/accounts/{id}/language",
    request_body = LanguageBody,
    responses((status = 204, description = "Saved.")),
)]
async fn set_language(
    call: AccountCall,
    ApiJson(body): ApiJson<LanguageBody>,
) -> Result<StatusCode, ApiError> {
    call.service()
        .set_language(&call.staff, &call.ctx, call.id, body.language.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Archives the account: no sign-in, links stop working, sessions end.
#[utoipa::path(
    post,
    path = "/staff/accounts/{id}/archive",
    responses((status = 204, description = "Archived.")),
)]
async fn archive(call: AccountCall) -> Result<StatusCode, ApiError> {
    call.service()
        .archive(&call.staff, &call.ctx, call.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Brings an archived account back.
#[utoipa::path(
    post,
    path = "/staff/accounts/{id}/unarchive",
    responses((status = 204, description = "Unarchived.")),
)]
async fn unarchive(call: AccountCall) -> Result<StatusCode, ApiError> {
    call.service()
        .unarchive(&call.staff, &call.ctx, call.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
struct EmailBody {
    /// The new address.
    email: String,
}

/// Changes the account's email address; pending links stop working.
#[utoipa::path(
    put,
    path = "/staff/accounts/{id}/email",
    request_body = EmailBody,
    responses((status = 204, description = "Changed.")),
)]
async fn change_email(
    call: AccountCall,
    ApiJson(body): ApiJson<EmailBody>,
) -> Result<StatusCode, ApiError> {
    call.service()
        .change_email(&call.staff, &call.ctx, call.id, &body.email)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the client's second factors, recovery codes and remembered devices,
/// and ends their sessions.
#[utoipa::path(
    post,
    path = "/staff/accounts/{id}/mfa-reset",
    responses((status = 204, description = "Reset.")),
)]
async fn mfa_reset(call: AccountCall) -> Result<StatusCode, ApiError> {
    call.service()
        .mfa_reset(&call.staff, &call.ctx, call.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The client's live sessions.
#[utoipa::path(
    get,
    path = "/staff/accounts/{id}/sessions",
    responses((status = 200, description = "The sessions, newest first.", body = Sessions)),
)]
async fn account_sessions(call: AccountCall) -> Result<Response, ApiError> {
    let sessions = call
        .service()
        .account_sessions(&call.staff, call.id)
        .await?;
    Ok(json_response(StatusCode::OK, &Sessions { sessions }))
}

/// Ends every session of the client.
#[utoipa::path(
    delete,
    path = "/staff/accounts/{id}/sessions",
    responses((status = 204, description = "Ended.")),
)]
async fn revoke_account_sessions(call: AccountCall) -> Result<StatusCode, ApiError> {
    call.service()
        .revoke_account_sessions(&call.staff, &call.ctx, call.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct EventsQuery {
    /// How many, 1 to 500 (default 100).
    limit: Option<u32>,
}

/// The account's audit events, newest first.
#[utoipa::path(
    get,
    path = "/staff/accounts/{id}/events",
    params(EventsQuery),
    responses((status = 200, description = "The events.", body = Events)),
)]
async fn account_events(
    call: AccountCall,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|_| {
        ApiError::validation(format!(
            "`limit` must be a whole number from 1 to {MAX_EVENTS}."
        ))
    })?;
    let limit = match query.limit {
        None => DEFAULT_EVENTS,
        Some(n) if (1..=MAX_EVENTS).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::validation(format!(
                "`limit` must be a whole number from 1 to {MAX_EVENTS}."
            )))
        }
    };
    let events = call
        .service()
        .account_events(&call.staff, call.id, limit)
        .await?;
    Ok(json_response(StatusCode::OK, &Events { events }))
}

#[derive(Deserialize, ToSchema)]
struct CaptchaBody {
    /// The CAPTCHA widget's response token.
    #[schema(value_type = String, format = Password)]
    captcha_response: SecretString,
}

/// Passes the CAPTCHA the staff member was asked for (`human_verification_required`).
#[utoipa::path(
    post,
    path = "/staff/human-verification",
    request_body = CaptchaBody,
    responses((status = 204, description = "Passed: staff resets go on.")),
)]
async fn human_verification(
    State(http): State<PortalHttp>,
    Staff(staff): Staff,
    ClientContext(ctx): ClientContext,
    ApiJson(body): ApiJson<CaptchaBody>,
) -> Result<StatusCode, ApiError> {
    http.service()
        .pass_human_verification(&staff, &ctx, body.captcha_response)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
