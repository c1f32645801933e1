//! The staff JSON API (SPEC.md section 4). Every handler is scoped to the
//! authenticated staff member's tenant by the service: an account of
//! another tenant is `not_found`.

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{middleware, Router};
use portal_access_core::service::{NewAccountInput, NoticeDelivery, SetPasswordInput};
use secrecy::SecretString;
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::{parse_account_id, ApiJson, ClientContext, Staff};
use crate::failure::{json_response, report_internal_errors};
use crate::headers::api_headers;
use crate::state::PortalHttp;

/// The most audit events one call returns.
const MAX_EVENTS: u32 = 500;
/// Audit events returned when no `limit` is given.
const DEFAULT_EVENTS: u32 = 100;

pub(crate) fn router(state: PortalHttp) -> Router {
    Router::new()
        .route("/staff/accounts", post(create_account))
        .route("/staff/accounts/{id}", get(account_status))
        .route("/staff/accounts/{id}/invitation", post(send_invitation))
        .route(
            "/staff/accounts/{id}/password-reset",
            post(send_password_reset),
        )
        .route("/staff/accounts/{id}/password", put(set_password))
        .route("/staff/accounts/{id}/access", put(set_access))
        .route("/staff/accounts/{id}/archive", post(archive))
        .route("/staff/accounts/{id}/unarchive", post(unarchive))
        .route("/staff/accounts/{id}/email", put(change_email))
        .route("/staff/accounts/{id}/events", get(account_events))
        .route("/staff/human-verification", post(human_verification))
        .layer(DefaultBodyLimit::max(state.body_limit()))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            report_internal_errors,
        ))
        .layer(middleware::from_fn(api_headers))
        .with_state(state)
}

#[derive(Deserialize)]
struct NewAccountBody {
    email: String,
    #[serde(default)]
    contact_ref: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

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
            },
        )
        .await?;
    let status = service.account_status(&staff, account.id).await?;
    let mut response = json_response(StatusCode::CREATED, &status);
    if let Ok(location) = HeaderValue::from_str(&format!("/staff/accounts/{}", account.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn account_status(
    State(http): State<PortalHttp>,
    Staff(staff): Staff,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_account_id(&id)?;
    let status = http.service().account_status(&staff, id).await?;
    Ok(json_response(StatusCode::OK, &status))
}

async fn send_invitation(
    State(http): State<PortalHttp>,
    Staff(staff): Staff,
    ClientContext(ctx): ClientContext,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_account_id(&id)?;
    let sent = http.service().send_invitation(&staff, &ctx, id).await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &serde_json::json!({ "sent": sent }),
    ))
}

async fn send_password_reset(
    State(http): State<PortalHttp>,
    Staff(staff): Staff,
    ClientContext(ctx): ClientContext,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_account_id(&id)?;
    http.service().send_password_reset(&staff, &ctx, id).await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &serde_json::json!({ "sent": "password_reset" }),
    ))
}

fn must_change_by_default() -> bool {
    true
}

#[derive(Deserialize)]
struct SetPasswordBody {
    password: SecretString,
    password_confirmation: SecretString,
    #[serde(default = "must_change_by_default")]
    must_change: bool,
}

/// The header that tells whether the password-changed notice was queued
/// (`queued`) or skipped because no mailer is configured (`skipped_no_mailer`).
pub(crate) const NOTICE_HEADER: &str = "portal-notice";

async fn set_password(
    State(http): State<PortalHttp>,
    Staff(staff): Staff,
    ClientContext(ctx): ClientContext,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetPasswordBody>,
) -> Result<Response, ApiError> {
    let id = parse_account_id(&id)?;
    let outcome = http
        .service()
        .set_password(
            &staff,
            &ctx,
            id,
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

#[derive(Deserialize)]
struct AccessBody {
    enabled: bool,
}

async fn set_access(
    State(http): State<PortalHttp>,
    Staff(staff): Staff,
    ClientContext(ctx): ClientContext,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AccessBody>,
) -> Result<StatusCode, ApiError> {
    let id = parse_account_id(&id)?;
    http.service()
        .set_access(&staff, &ctx, id, body.enabled)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn archive(
    State(http): State<PortalHttp>,
    Staff(staff): Staff,
    ClientContext(ctx): ClientContext,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_account_id(&id)?;
    http.service().archive(&staff, &ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unarchive(
    State(http): State<PortalHttp>,
    Staff(staff): Staff,
    ClientContext(ctx): ClientContext,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_account_id(&id)?;
    http.service().unarchive(&staff, &ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct EmailBody {
    email: String,
}

async fn change_email(
    State(http): State<PortalHttp>,
    Staff(staff): Staff,
    ClientContext(ctx): ClientContext,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EmailBody>,
) -> Result<StatusCode, ApiError> {
    let id = parse_account_id(&id)?;
    http.service()
        .change_email(&staff, &ctx, id, &body.email)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct EventsQuery {
    limit: Option<u32>,
}

async fn account_events(
    State(http): State<PortalHttp>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let id = parse_account_id(&id)?;
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
    let events = http.service().account_events(&staff, id, limit).await?;
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({ "events": events }),
    ))
}

#[derive(Deserialize)]
struct CaptchaBody {
    captcha_response: SecretString,
}

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
