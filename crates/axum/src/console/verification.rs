//! Human verification (the seeds' "direct link, pass the captcha"): a
//! staff member past the reset-link rate passes the configured provider's
//! CAPTCHA here, then goes back to the account whose reset asked for it.

use axum::extract::{Query, State};
use axum::response::Response;
use portal_access_core::service::ServiceError;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use super::render::{see_other, ConsoleForm, ConsolePage, ConsoleStaff, Said};
use super::state::Console;
use crate::error::ApiError;
use crate::extract::parse_account_id;
use crate::failure::FailureFormat;

#[derive(Deserialize)]
pub(super) struct Return {
    #[serde(default)]
    account: Option<String>,
}

/// The account to go back to, if the text names one.
fn account_of(text: Option<&str>) -> Option<String> {
    text.and_then(|t| parse_account_id(t).ok())
        .map(|id| id.to_string())
}

fn show(
    console: &Console,
    staff: &ConsoleStaff,
    account: Option<String>,
    refused: Option<Said>,
) -> Response {
    let widget = console.options().widget();
    let page = ConsolePage::new(
        "verification.html",
        json!({
            "account": account,
            "widget": widget.map(|w| json!({
                "provider": w.provider(),
                "site_key": w.site_key(),
                "script": w.script(),
            })),
            "configured": console.http().service().captcha().is_some(),
            "refused": refused,
        }),
    );
    let page = match widget {
        Some(widget) => page.csp(widget.csp()),
        None => page,
    };
    page.render(console, staff)
}

/// `GET /staff/console/human-verification?account={id}`.
pub(super) async fn page(
    State(console): State<Console>,
    staff: ConsoleStaff,
    query: Result<Query<Return>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let account = query
        .ok()
        .and_then(|Query(q)| account_of(q.account.as_deref()));
    show(&console, &staff, account, None)
}

#[derive(Deserialize)]
pub(super) struct Passed {
    /// What the widget put in the form, under its provider's field name.
    #[serde(
        default,
        alias = "h-captcha-response",
        alias = "g-recaptcha-response",
        alias = "cf-turnstile-response"
    )]
    captcha_response: Option<SecretString>,
    #[serde(default)]
    account: Option<String>,
}

/// `POST /staff/console/human-verification`: passed, back to the account
/// (its reset button ready again); refused, the page again with why.
pub(super) async fn pass(State(console): State<Console>, form: ConsoleForm<Passed>) -> Response {
    let ConsoleForm { staff, fields } = form;
    let account = account_of(fields.account.as_deref());
    let response = fields
        .captcha_response
        .unwrap_or_else(|| SecretString::from(String::new()));
    match console
        .http()
        .service()
        .pass_human_verification(&staff.staff, &staff.ctx, response)
        .await
    {
        Ok(()) => match account {
            Some(id) => see_other(&format!("/accounts/{id}?done=verified")),
            None => see_other("/"),
        },
        Err(refused @ ServiceError::Refused(_)) => {
            let error = ApiError::from(refused);
            let status = error.status();
            let mut page = show(&console, &staff, account, Some(Said::of(&error)));
            *page.status_mut() = status;
            page
        }
        Err(failure) => ApiError::from(failure).failure(FailureFormat::Html),
    }
}
