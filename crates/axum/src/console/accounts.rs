//! Finding accounts, creating one (and inviting it), the account page, and
//! the console's sign-in and sign-out.

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portal_access_core::service::{NewAccountInput, ServiceError, MAX_EVENTS};
use portal_access_core::AccountId;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{end_sign_in, staff_of_token, start_sign_in, ConsoleCookie, Recognized};
use super::render::{
    error_page, see_other, sign_in_csrf, AnonymousForm, ConsoleForm, ConsolePage, ConsoleStaff,
    Said,
};
use super::state::Console;
use crate::error::ApiError;
use crate::extract::parse_account_id;
use crate::failure::FailureFormat;
use crate::language::{self, Picked};
use crate::session;

/// How many audit events the account page shows.
const PAGE_EVENTS: u32 = 50;

/// The successes the account page can say (`?done=`).
const DONE: &[&str] = &[
    "created",
    "created_invited",
    "invitation",
    "reinvitation",
    "password_reset",
    "password",
    "access_enabled",
    "access_disabled",
    "archived",
    "unarchived",
    "email",
    "mfa_reset",
    "language_set",
    "verified",
];

/// The refusals a redirect can carry to the account page (`?refused=`):
/// an invitation that could not follow a creation.
const CARRIED: &[&str] = &[
    "mailer_not_configured",
    "access_disabled",
    "account_archived",
];

#[derive(Deserialize)]
pub(super) struct FindQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<u32>,
}

/// `GET /staff/console/`: the search form and a page of accounts.
pub(super) async fn find(
    State(console): State<Console>,
    staff: ConsoleStaff,
    query: Result<Query<FindQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (text, page) = match query {
        Ok(Query(query)) => (query.q, query.page.unwrap_or(1)),
        Err(_) => (String::new(), 1),
    };
    match console
        .http()
        .service()
        .find_accounts(&staff.staff, &text, page)
        .await
    {
        Ok(found) => ConsolePage::new(
            "find.html",
            json!({
                "q": text.trim(),
                "q_query": url::form_urlencoded::byte_serialize(text.trim().as_bytes())
                    .collect::<String>(),
                "found": found,
            }),
        )
        .render(&console, &staff),
        Err(failure) => ApiError::from(failure).failure(FailureFormat::Html),
    }
}

/// `GET /staff/console/sign-in`.
pub(super) async fn sign_in_page(State(console): State<Console>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let picked = language::pick(console.http(), &parts);
    sign_in_form(&console, &picked, &parts.headers, json!({}), StatusCode::OK)
}

fn sign_in_form(
    console: &Console,
    picked: &Picked,
    headers: &HeaderMap,
    vars: Value,
    status: StatusCode,
) -> Response {
    let csrf = sign_in_csrf(console, headers);
    let mut vars = vars;
    if let Value::Object(map) = &mut vars {
        map.insert("csrf_token".into(), csrf.token.clone().into());
    }
    let mut response = ConsolePage::new("sign_in.html", vars)
        .status(status)
        .render_with(console, None, picked);
    if let Some(cookie) = csrf.cookie {
        session::append(response.headers_mut(), cookie);
    }
    response
}

#[derive(Deserialize)]
pub(super) struct SignInFields {
    token: SecretString,
}

/// `POST /staff/console/sign-in`: the staff token, once; then the console
/// cookie (a random reference, never the token).
pub(super) async fn sign_in(
    State(console): State<Console>,
    headers: HeaderMap,
    form: AnonymousForm<SignInFields>,
) -> Response {
    let http = console.http();
    let Some(staff) = staff_of_token(http, &form.fields.token).await else {
        tracing::info!("console sign-in refused: unknown staff token");
        return sign_in_form(
            &console,
            &form.picked,
            &headers,
            json!({ "errors": { "token": "unknown" } }),
            StatusCode::UNAUTHORIZED,
        );
    };
    tracing::info!(staff_id = %staff.staff_id, "staff signed in to the console");
    let value = match start_sign_in(http, staff).await {
        Ok(value) => value,
        Err(error) => {
            let error = ApiError::internal(error);
            return error_page(&console, None, &form.picked, error, None);
        }
    };
    let mut response = see_other("/");
    session::append(response.headers_mut(), ConsoleCookie::of(http).set(&value));
    drop(value);
    response
}

#[derive(Deserialize)]
pub(super) struct NoFields {}

/// `POST /staff/console/sign-out`: forgets the console cookie's sign-in.
pub(super) async fn sign_out(
    State(console): State<Console>,
    headers: HeaderMap,
    form: ConsoleForm<NoFields>,
) -> Response {
    let cookie = ConsoleCookie::of(console.http());
    if matches!(form.staff.recognized, Recognized::Console(_)) {
        if let Some(value) = cookie.value(&headers) {
            if let Err(error) = end_sign_in(console.http(), value).await {
                let error = ApiError::internal(error);
                return error_page(&console, Some(&form.staff), &form.staff.picked, error, None);
            }
        }
    }
    let mut response = see_other("/sign-in");
    session::append(response.headers_mut(), cookie.clear());
    response
}

/// `GET /staff/console/accounts/new`.
pub(super) async fn new_account_page(
    State(console): State<Console>,
    staff: ConsoleStaff,
) -> Response {
    ConsolePage::new("new_account.html", json!({ "values": { "invite": true } }))
        .render(&console, &staff)
}

#[derive(Deserialize)]
pub(super) struct NewAccountFields {
    email: String,
    #[serde(default)]
    contact_ref: String,
    #[serde(default)]
    display_name: String,
    /// A language tag; blank: the firm's default.
    #[serde(default)]
    language: String,
    /// The checkbox: present when ticked.
    #[serde(default)]
    invite: Option<String>,
}

fn given(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// `POST /staff/console/accounts`: creates the account and, when asked,
/// sends the invitation; then the account page.
pub(super) async fn create(
    State(console): State<Console>,
    form: ConsoleForm<NewAccountFields>,
) -> Response {
    let ConsoleForm { staff, fields } = form;
    let service = console.http().service();
    let invite = fields.invite.is_some();
    let input = NewAccountInput {
        email: fields.email.clone(),
        contact_ref: given(&fields.contact_ref),
        display_name: given(&fields.display_name),
        language: given(&fields.language),
    };
    let account = match service
        .create_account(&staff.staff, &staff.ctx, input)
        .await
    {
        Ok(account) => account,
        Err(refused @ ServiceError::Refused(_)) => {
            let error = ApiError::from(refused);
            return ConsolePage::new(
                "new_account.html",
                json!({
                    "refused": Said::of(&error),
                    "values": {
                        "email": fields.email,
                        "contact_ref": fields.contact_ref,
                        "display_name": fields.display_name,
                        "language": fields.language,
                        "invite": invite,
                    },
                }),
            )
            .status(error.status())
            .render(&console, &staff);
        }
        Err(failure) => return ApiError::from(failure).failure(FailureFormat::Html),
    };
    let page = format!("/accounts/{}", account.id);
    if !invite {
        return see_other(&format!("{page}?done=created"));
    }
    match service
        .send_invitation(&staff.staff, &staff.ctx, account.id)
        .await
    {
        Ok(_) => see_other(&format!("{page}?done=created_invited")),
        Err(refused @ ServiceError::Refused(_)) => {
            let code = ApiError::from(refused)
                .code()
                .map(|c| c.as_str())
                .unwrap_or_default();
            see_other(&format!("{page}?done=created&refused={code}"))
        }
        Err(failure) => ApiError::from(failure).failure(FailureFormat::Html),
    }
}

#[derive(Deserialize)]
pub(super) struct AccountQuery {
    done: Option<String>,
    refused: Option<String>,
}

/// `GET /staff/console/accounts/{id}`.
pub(super) async fn account_page(
    State(console): State<Console>,
    staff: ConsoleStaff,
    Path(id): Path<String>,
    query: Result<Query<AccountQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(id) = parse_account_id(&id) else {
        return error_page(
            &console,
            Some(&staff),
            &staff.picked,
            ApiError::not_found(),
            None,
        );
    };
    let (done, refused) = match query {
        Ok(Query(q)) => (
            q.done.filter(|d| DONE.contains(&d.as_str())),
            q.refused.filter(|r| CARRIED.contains(&r.as_str())),
        ),
        Err(_) => (None, None),
    };
    let refused = refused.map(|code| json!({ "code": code, "message": "", "reasons": [] }));
    account_view(
        &console,
        &staff,
        id,
        json!({ "done": done, "refused": refused, "action": "send_invitation" }),
        StatusCode::OK,
    )
    .await
}

/// The account page with `extra` variables (`done`, `refused` with the
/// `action` it answers, `values`): what the GET shows, and what a refused
/// action shows again with its sentence.
pub(super) async fn account_view(
    console: &Console,
    staff: &ConsoleStaff,
    id: AccountId,
    extra: Value,
    status: StatusCode,
) -> Response {
    let service = console.http().service();
    let account = match service.account_status(&staff.staff, id).await {
        Ok(account) => account,
        Err(refused @ ServiceError::Refused(_)) => {
            return error_page(
                console,
                Some(staff),
                &staff.picked,
                ApiError::from(refused),
                None,
            )
        }
        Err(failure) => return ApiError::from(failure).failure(FailureFormat::Html),
    };
    let events = match service
        .account_events(&staff.staff, id, PAGE_EVENTS.min(MAX_EVENTS))
        .await
    {
        Ok(events) => events,
        Err(refused @ ServiceError::Refused(_)) => {
            return error_page(
                console,
                Some(staff),
                &staff.picked,
                ApiError::from(refused),
                None,
            )
        }
        Err(failure) => return ApiError::from(failure).failure(FailureFormat::Html),
    };
    let mut vars = json!({
        "account": account,
        "events": events,
        "mailer": service.mailer().is_some(),
        "verification": service.captcha().is_some(),
    });
    if let (Value::Object(vars), Value::Object(extra)) = (&mut vars, extra) {
        vars.extend(extra);
    }
    ConsolePage::new("account.html", vars)
        .status(status)
        .render(console, staff)
}
