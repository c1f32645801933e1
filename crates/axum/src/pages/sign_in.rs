//! Sign-in, sign-out and the forgot-password request.

use axum::extract::State;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::Response;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use super::form::{CsrfForm, NoFields, SessionForm, Unsettled};
use super::render::{anonymous_csrf, answer, outcome_redirect, page_failure, see_other, Page};
use crate::extract::{session_of, ClientContext, Tenant};
use crate::state::PortalHttp;

#[derive(Deserialize)]
pub(super) struct SignInForm {
    #[serde(default)]
    login: String,
    password: Option<SecretString>,
}

pub(super) async fn sign_in_page(State(http): State<PortalHttp>, parts: Parts) -> Response {
    match session_of(&parts, &http).await {
        Ok(Some(_)) => return see_other(&http, "/"),
        Ok(None) => {}
        Err(error) => return page_failure(error),
    }
    Page::new("sign_in.html", json!({}))
        .csrf(anonymous_csrf(&http, &parts.headers))
        .render(&http)
}

pub(super) async fn sign_in(
    State(http): State<PortalHttp>,
    Tenant(tenant): Tenant,
    ClientContext(ctx): ClientContext,
    headers: HeaderMap,
    CsrfForm { fields: form, csrf }: CsrfForm<SignInForm>,
) -> Response {
    let password = form.password.unwrap_or_else(empty);
    let device = http.device_token(headers);
    let result = http
        .service()
        .sign_in_on_device(&tenant, &ctx, &form.login, password, device.as_deref())
        .await;
    answer(
        result,
        |done| outcome_redirect(&http, done),
        |error| {
            Page::new("sign_in.html", json!({ "values": { "login": form.login } }))
                .csrf(csrf)
                .error("form", &error)
                .render(&http)
        },
    )
}

pub(super) async fn sign_out(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    form: SessionForm<NoFields, Unsettled>,
) -> Response {
    let result = http.service().sign_out(&ctx, &form.session).await;
    answer(
        result,
        |()| Page::message("signed_out").render_signed_out(&http),
        page_failure,
    )
}

#[derive(Deserialize)]
pub(super) struct ForgotForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    captcha_response: Option<SecretString>,
}

pub(super) async fn forgot_page(State(http): State<PortalHttp>, headers: HeaderMap) -> Response {
    Page::new("forgot_password.html", json!({}))
        .csrf(anonymous_csrf(&http, &headers))
        .render(&http)
}

pub(super) async fn forgot(
    State(http): State<PortalHttp>,
    Tenant(tenant): Tenant,
    ClientContext(ctx): ClientContext,
    CsrfForm { fields: form, csrf }: CsrfForm<ForgotForm>,
) -> Response {
    let result = http
        .service()
        .forgot_password(&tenant, &ctx, &form.email, form.captcha_response)
        .await;
    answer(
        result,
        |()| Page::message("reset_link_sent").render(&http),
        |error| {
            Page::new(
                "forgot_password.html",
                json!({ "values": { "email": form.email } }),
            )
            .csrf(csrf)
            .error("form", &error)
            .render(&http)
        },
    )
}

/// An absent password field is an empty password (refused by the policy).
pub(super) fn empty() -> SecretString {
    SecretString::from("")
}
