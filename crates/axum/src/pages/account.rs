//! The signed-in pages: home (with its second-factor summary), the
//! username and the password.

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use portal_access_core::service::{ClientSession, SecurityView};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use super::form::{SessionForm, SignedIn, Unsettled};
use super::render::{answer, done_of, field_of, see_other, Page};
use super::sign_in::empty;
use crate::extract::ClientContext;
use crate::state::PortalHttp;

pub(super) async fn home(
    State(http): State<PortalHttp>,
    SignedIn { session, .. }: SignedIn,
    uri: Uri,
) -> Response {
    let done = done_of(&uri, &["password", "username", "signed_in", "language"]);
    home_page(&http, &session, done.as_deref()).render(&http)
}

fn home_page(http: &PortalHttp, session: &ClientSession, done: Option<&str>) -> Page {
    let account = &session.account;
    let config = http.service().config();
    let factors = SecurityView::of(
        account,
        config.mfa_policy(&account.tenant),
        http.service().now(),
    )
    .factors;
    Page::new(
        "home.html",
        json!({
            "username": account.username.as_ref().map(|u| u.as_str()),
            "email": account.email.as_str(),
            "must_change_password": account.must_change_password,
            "done": done,
            "factors": factors,
            "language": account.language.as_ref().map(|l| l.as_str()),
            "languages": http.service().locales().languages().collect::<Vec<_>>(),
        }),
    )
    .signed_in(http, session)
}

#[derive(Deserialize)]
pub(super) struct LanguageForm {
    #[serde(default)]
    language: String,
}

/// `POST /language`: the language of the client's mail (blank: the
/// firm's default); then home, which says so.
pub(super) async fn set_language(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    SessionForm {
        fields: form,
        session,
        ..
    }: SessionForm<LanguageForm>,
) -> Response {
    let result = http
        .service()
        .set_own_language(&session, &ctx, Some(&form.language))
        .await;
    answer(
        result,
        |()| see_other(&http, "/?done=language"),
        |error| {
            home_page(&http, &session, None)
                .error("language", &error)
                .render(&http)
        },
    )
}

#[derive(Deserialize)]
pub(super) struct UsernameForm {
    #[serde(default)]
    username: String,
}

fn username_form(http: &PortalHttp, session: &ClientSession, typed: Option<&str>) -> Page {
    let current = session.account.username.as_ref().map(|u| u.as_str());
    Page::new(
        "username.html",
        json!({ "username": current, "values": { "username": typed.or(current) } }),
    )
    .signed_in(http, session)
}

pub(super) async fn username_page(
    State(http): State<PortalHttp>,
    SignedIn { session, .. }: SignedIn,
) -> Response {
    username_form(&http, &session, None).render(&http)
}

pub(super) async fn change_username(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    SessionForm {
        fields: form,
        session,
        ..
    }: SessionForm<UsernameForm>,
) -> Response {
    let result = http
        .service()
        .change_username(&session, &ctx, &form.username)
        .await;
    answer(
        result,
        |()| see_other(&http, "/?done=username"),
        |error| {
            username_form(&http, &session, Some(&form.username))
                .error(field_of(&error), &error)
                .render(&http)
        },
    )
}

#[derive(Deserialize)]
pub(super) struct PasswordForm {
    current_password: Option<SecretString>,
    password: Option<SecretString>,
    password_confirmation: Option<SecretString>,
}

fn password_form(http: &PortalHttp, session: &ClientSession) -> Page {
    Page::new(
        "password.html",
        json!({ "must_change_password": session.account.must_change_password }),
    )
    .signed_in(http, session)
}

pub(super) async fn password_page(
    State(http): State<PortalHttp>,
    SignedIn { session, .. }: SignedIn<Unsettled>,
) -> Response {
    password_form(&http, &session).render(&http)
}

pub(super) async fn change_password(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    SessionForm {
        fields: form,
        session,
        ..
    }: SessionForm<PasswordForm, Unsettled>,
) -> Response {
    let result = http
        .service()
        .change_password(
            &session,
            &ctx,
            form.current_password.unwrap_or_else(empty),
            form.password.unwrap_or_else(empty),
            form.password_confirmation.unwrap_or_else(empty),
        )
        .await;
    answer(
        result,
        |done| {
            let mut response = see_other(&http, "/?done=password");
            http.set_session_cookie(response.headers_mut(), &done);
            response
        },
        |error| {
            password_form(&http, &session)
                .error(field_of(&error), &error)
                .render(&http)
        },
    )
}
