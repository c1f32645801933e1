//! The pages of mailed links: set a new password, accept an invitation,
//! "this wasn't me", and the request for a fresh invitation.
//!
//! A GET (or HEAD) opens the link: it records the opening on the staff
//! timeline and shows the form, or the page of a link that no longer
//! works. A POST uses the token; a refusal shows the form again from what
//! the form itself carried, without opening the link again (an opening is
//! a fact staff read).

use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use portal_access_core::service::{LinkView, ServiceError, SignInOutcome};
use portal_access_core::workflow::{ErrorCode, Refusal};
use portal_access_core::TokenKind;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use super::form::CsrfForm;
use super::render::{
    anonymous_csrf, answer, field_of, outcome_redirect, page_failure, FormCsrf, Page,
};
use super::sign_in::empty;
use crate::error::{status_for, ApiError, HttpCode};
use crate::extract::ClientContext;
use crate::state::PortalHttp;

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// Opens the link of the request's `?token=` (records the opening; never
/// consumes the token).
async fn open(
    http: &PortalHttp,
    parts: &Parts,
    kind: TokenKind,
) -> Result<(String, LinkView), Response> {
    let token = Query::<TokenQuery>::try_from_uri(&parts.uri)
        .map(|q| q.0.token)
        .unwrap_or_default();
    let ctx = ClientContext::from_parts(parts, http).0;
    match http.service().open_link(&ctx, kind, &token).await {
        Ok(view) => Ok((token, view)),
        Err(error) => Err(page_failure(error.into())),
    }
}

/// The page of a link that does not work (any more).
fn link_invalid(
    kind: TokenKind,
    token: &str,
    fresh_invitation_available: bool,
    csrf: FormCsrf,
) -> Page {
    Page::new(
        "link_invalid.html",
        json!({
            "kind": kind.as_str(),
            "token": token,
            "fresh_invitation_available": fresh_invitation_available,
        }),
    )
    .status(status_for(ErrorCode::TokenInvalid))
    .csrf(csrf)
}

/// Whether a refusal says the token no longer works.
fn token_invalid(error: &ApiError) -> bool {
    error.code() == Some(HttpCode::Core(ErrorCode::TokenInvalid))
}

/// The answer of a link form that signs the client in: home (or the
/// password page); on a refusal, the page of a link that no longer works
/// (`invalid`) when the token is what was refused, else the form again
/// with the error next to its field.
fn signed_in_or_refused<E: Refusal>(
    http: &PortalHttp,
    result: Result<SignInOutcome, ServiceError<E>>,
    csrf: FormCsrf,
    invalid: impl FnOnce(FormCsrf) -> Page,
    form: impl FnOnce(FormCsrf) -> Page,
) -> Response {
    answer(
        result,
        |done| outcome_redirect(http, done),
        |error| {
            let page = if token_invalid(&error) {
                invalid(csrf)
            } else {
                form(csrf).error(field_of(&error), &error)
            };
            page.render(http)
        },
    )
}

#[derive(Deserialize)]
pub(super) struct ResetForm {
    #[serde(default)]
    token: String,
    /// The address the page showed (the form carries it for password
    /// managers, as `username`).
    #[serde(default, rename = "username")]
    email: String,
    password: Option<SecretString>,
    password_confirmation: Option<SecretString>,
}

fn reset_form(token: &str, email: &str, csrf: FormCsrf) -> Page {
    Page::new(
        "reset_password.html",
        json!({ "token": token, "email": email }),
    )
    .csrf(csrf)
}

pub(super) async fn reset_page(State(http): State<PortalHttp>, parts: Parts) -> Response {
    let csrf = anonymous_csrf(&http, &parts.headers);
    match open(&http, &parts, TokenKind::PasswordReset).await {
        Ok((token, LinkView::Valid { email, .. })) => {
            reset_form(&token, &email, csrf).render(&http)
        }
        Ok((token, LinkView::Invalid { .. })) => {
            link_invalid(TokenKind::PasswordReset, &token, false, csrf).render(&http)
        }
        Err(response) => response,
    }
}

pub(super) async fn reset(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    CsrfForm { fields: form, csrf }: CsrfForm<ResetForm>,
) -> Response {
    let result = http
        .service()
        .reset_password(
            &ctx,
            &form.token,
            form.password.unwrap_or_else(empty),
            form.password_confirmation.unwrap_or_else(empty),
        )
        .await;
    signed_in_or_refused(
        &http,
        result,
        csrf,
        |csrf| link_invalid(TokenKind::PasswordReset, &form.token, false, csrf),
        |csrf| reset_form(&form.token, &form.email, csrf),
    )
}

#[derive(Deserialize)]
pub(super) struct AcceptForm {
    #[serde(default)]
    token: String,
    /// The address the page showed.
    #[serde(default)]
    email: String,
    #[serde(default)]
    username: String,
    password: Option<SecretString>,
    password_confirmation: Option<SecretString>,
}

fn invitation_form(token: &str, email: &str, username: Option<&str>, csrf: FormCsrf) -> Page {
    Page::new(
        "invitation.html",
        json!({ "token": token, "email": email, "values": { "username": username } }),
    )
    .csrf(csrf)
}

pub(super) async fn invitation_page(State(http): State<PortalHttp>, parts: Parts) -> Response {
    let csrf = anonymous_csrf(&http, &parts.headers);
    match open(&http, &parts, TokenKind::Invitation).await {
        Ok((
            token,
            LinkView::Valid {
                email, username, ..
            },
        )) => invitation_form(&token, &email, username.as_deref(), csrf).render(&http),
        Ok((
            token,
            LinkView::Invalid {
                fresh_invitation_available,
            },
        )) => link_invalid(
            TokenKind::Invitation,
            &token,
            fresh_invitation_available,
            csrf,
        )
        .render(&http),
        Err(response) => response,
    }
}

pub(super) async fn accept_invitation(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    CsrfForm { fields: form, csrf }: CsrfForm<AcceptForm>,
) -> Response {
    let result = http
        .service()
        .accept_invitation(
            &ctx,
            &form.token,
            &form.username,
            form.password.unwrap_or_else(empty),
            form.password_confirmation.unwrap_or_else(empty),
        )
        .await;
    signed_in_or_refused(
        &http,
        result,
        csrf,
        // "Send me a fresh one" answers the same whatever the token, so
        // offering it reveals nothing.
        |csrf| link_invalid(TokenKind::Invitation, &form.token, true, csrf),
        |csrf| invitation_form(&form.token, &form.email, Some(&form.username), csrf),
    )
}

#[derive(Deserialize)]
pub(super) struct TokenForm {
    #[serde(default)]
    token: String,
}

pub(super) async fn fresh_invitation(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    CsrfForm { fields: form, .. }: CsrfForm<TokenForm>,
) -> Response {
    let result = http
        .service()
        .request_fresh_invitation(&ctx, &form.token)
        .await;
    answer(
        result,
        |()| {
            Page::message("fresh_invitation_sent")
                .status(StatusCode::ACCEPTED)
                .render(&http)
        },
        page_failure,
    )
}

pub(super) async fn not_me_page(State(http): State<PortalHttp>, parts: Parts) -> Response {
    let csrf = anonymous_csrf(&http, &parts.headers);
    match open(&http, &parts, TokenKind::NotMe).await {
        Ok((token, LinkView::Valid { email, .. })) => {
            Page::new("not_me.html", json!({ "token": token, "email": email }))
                .csrf(csrf)
                .render(&http)
        }
        Ok((token, LinkView::Invalid { .. })) => {
            link_invalid(TokenKind::NotMe, &token, false, csrf).render(&http)
        }
        Err(response) => response,
    }
}

pub(super) async fn not_me(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    CsrfForm { fields: form, csrf }: CsrfForm<TokenForm>,
) -> Response {
    let result = http.service().secure_account(&ctx, &form.token).await;
    answer(
        result,
        |()| Page::message("account_secured").render_signed_out(&http),
        // Every refusal of this link means it no longer works.
        |_| link_invalid(TokenKind::NotMe, &form.token, false, csrf).render(&http),
    )
}
