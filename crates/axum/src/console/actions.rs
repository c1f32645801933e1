//! The account page's buttons: each a form posting to
//! `/staff/console/accounts/{id}/<action>` with the account version it was
//! read at. Done: 303 back to the account page, which says what was done.
//! Refused: the account page again with the sentence that says what to do
//! (`stale_version` and `not_found` have their own page); nothing changed.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use portal_access_core::service::{InvitationSent, ServiceError, SetPasswordInput};
use portal_access_core::workflow::{ErrorCode, Refusal};
use portal_access_core::AccountId;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use super::accounts::account_view;
use super::render::{error_page, see_other, ConsoleForm, ConsoleStaff, Said};
use super::state::Console;
use crate::error::{ApiError, HttpCode};
use crate::extract::parse_account_id;
use crate::failure::FailureFormat;

/// The fields of every action's form (each uses its own).
#[derive(Deserialize)]
pub(super) struct ActionFields {
    /// The account version the page showed (a number; text here because a
    /// flattened form field is read as text).
    version: String,
    #[serde(default)]
    password: Option<SecretString>,
    #[serde(default)]
    password_confirmation: Option<SecretString>,
    /// The checkbox: present when ticked.
    #[serde(default)]
    must_change: Option<String>,
    /// `on` or `off`.
    #[serde(default)]
    access: Option<String>,
    #[serde(default)]
    email: Option<String>,
    /// A language tag; blank: the firm's default.
    #[serde(default)]
    language: Option<String>,
}

/// `POST /staff/console/accounts/{id}/{action}`.
pub(super) async fn act(
    State(console): State<Console>,
    Path((id, action)): Path<(String, String)>,
    form: ConsoleForm<ActionFields>,
) -> Response {
    let ConsoleForm { mut staff, fields } = form;
    let Ok(id) = parse_account_id(&id) else {
        return error_page(
            &console,
            Some(&staff),
            &staff.picked,
            ApiError::not_found(),
            None,
        );
    };
    let Ok(version) = fields.version.trim().parse::<i64>() else {
        let error = ApiError::validation("`version` must be the number the page showed.");
        return error_page(
            &console,
            Some(&staff),
            &staff.picked,
            error,
            Some(id.to_string()),
        );
    };
    staff.ctx.expected_version = Some(version);
    let service = console.http().service();
    let (who, ctx) = (&staff.staff, &staff.ctx);
    let call = Call {
        console: &console,
        staff: &staff,
        id,
    };
    match action.as_str() {
        "invitation" => {
            let result = service.send_invitation(who, ctx, id).await;
            let done = match &result {
                Ok(InvitationSent::Invitation) => "invitation",
                Ok(InvitationSent::Reinvitation) | Err(_) => "reinvitation",
            };
            call.answer(result, done, "send_invitation", json!({}))
                .await
        }
        "password-reset" => {
            let result = service.send_password_reset(who, ctx, id).await;
            call.answer(result, "password_reset", "send_password_reset", json!({}))
                .await
        }
        "password" => {
            let empty = || SecretString::from(String::new());
            let input = SetPasswordInput {
                password: fields.password.unwrap_or_else(empty),
                password_confirmation: fields.password_confirmation.unwrap_or_else(empty),
                must_change: fields.must_change.is_some(),
            };
            let result = service.set_password(who, ctx, id, input).await;
            call.answer(result, "password", "set_password", json!({}))
                .await
        }
        "access" => {
            let Some(enabled) = fields.access.as_deref().and_then(on_off) else {
                return error_page(
                    &console,
                    Some(&staff),
                    &staff.picked,
                    ApiError::validation("`access` must be `on` or `off`."),
                    Some(id.to_string()),
                );
            };
            let result = service.set_access(who, ctx, id, enabled).await;
            let done = if enabled {
                "access_enabled"
            } else {
                "access_disabled"
            };
            call.answer(result, done, "access", json!({})).await
        }
        "archive" => {
            let result = service.archive(who, ctx, id).await;
            call.answer(result, "archived", "archive", json!({})).await
        }
        "unarchive" => {
            let result = service.unarchive(who, ctx, id).await;
            call.answer(result, "unarchived", "unarchive", json!({}))
                .await
        }
        "email" => {
            let email = fields.email.unwrap_or_default();
            let result = service.change_email(who, ctx, id, &email).await;
            call.answer(result, "email", "change_email", json!({ "email": email }))
                .await
        }
        "language" => {
            let result = service
                .set_language(who, ctx, id, fields.language.as_deref())
                .await;
            call.answer(result, "language_set", "set_language", json!({}))
                .await
        }
        "mfa-reset" => {
            let result = service.mfa_reset(who, ctx, id).await;
            call.answer(result, "mfa_reset", "mfa_reset", json!({}))
                .await
        }
        _ => error_page(
            &console,
            Some(&staff),
            &staff.picked,
            ApiError::not_found(),
            None,
        ),
    }
}

fn on_off(text: &str) -> Option<bool> {
    match text {
        "on" => Some(true),
        "off" => Some(false),
        _ => None,
    }
}

/// One action on one account, and how its result becomes a page.
struct Call<'a> {
    console: &'a Console,
    staff: &'a ConsoleStaff,
    id: AccountId,
}

impl Call<'_> {
    async fn answer<T, E: Refusal>(
        &self,
        result: Result<T, ServiceError<E>>,
        done: &str,
        action: &str,
        values: serde_json::Value,
    ) -> Response {
        let error = match result {
            Ok(_) => return see_other(&format!("/accounts/{}?done={done}", self.id)),
            Err(failure @ ServiceError::Infrastructure(_)) => {
                return ApiError::from(failure).failure(FailureFormat::Html)
            }
            Err(refused @ ServiceError::Refused(_)) => ApiError::from(refused),
        };
        let own_page = matches!(
            error.code(),
            Some(HttpCode::Core(
                ErrorCode::StaleVersion | ErrorCode::NotFound
            ))
        );
        if own_page {
            return error_page(
                self.console,
                Some(self.staff),
                &self.staff.picked,
                error,
                Some(self.id.to_string()),
            );
        }
        let status = error.status();
        account_view(
            self.console,
            self.staff,
            self.id,
            json!({ "refused": Said::of(&error), "action": action, "values": values }),
            if status.is_server_error() {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                status
            },
        )
        .await
    }
}
