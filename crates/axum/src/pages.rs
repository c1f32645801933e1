//! The server-rendered portal pages: no JavaScript, CSRF-protected forms,
//! errors next to their fields, POST-redirect-GET after every success.
//!
//! Opening a link page (GET or HEAD) only calls
//! [`open_link`](portal_access_core::service::PortalService::open_link),
//! which records the opening and never consumes the token: mail scanners
//! prefetch links. Only the form's POST uses it.
//!
//! A client whose password was set by staff (`must_change_password`) is
//! taken to the password page from every other signed-in page until they
//! choose their own.

// `Result<_, Response>` is the early answer of a handler (a redirect or an
// error page), built once per request: its size does not matter.
#![allow(clippy::result_large_err)]

use std::sync::LazyLock;

use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{middleware, Form, Router};
use portal_access_core::service::{ClientSession, LinkView, SignedIn};
use portal_access_core::workflow::ErrorCode;
use portal_access_core::TokenKind;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::csrf::{self, Binding, CsrfError};
use crate::error::{report_internal_errors, ApiError, FailureFormat, InternalFailure};
use crate::extract::{session_of, ClientContext, Tenant};
use crate::headers::page_headers;
use crate::{session, PortalHttp};

static CSS: &str = include_str!("../static/portal.css");

/// A short hash of the stylesheet, so its URL changes with its content and
/// it can be cached for a year.
static CSS_VERSION: LazyLock<String> = LazyLock::new(|| {
    Sha256::digest(CSS.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
});

pub(crate) fn router(state: PortalHttp) -> Router {
    let p = state
        .service()
        .config()
        .portal_path
        .trim_end_matches('/')
        .to_owned();
    let mut router = Router::new()
        .route(&format!("{p}/"), get(home))
        .route(&format!("{p}/sign-in"), get(sign_in_page).post(sign_in))
        .route(&format!("{p}/sign-out"), post(sign_out))
        .route(
            &format!("{p}/forgot-password"),
            get(forgot_page).post(forgot),
        )
        .route(&format!("{p}/reset-password"), get(reset_page).post(reset))
        .route(
            &format!("{p}/invitation"),
            get(invitation_page).post(accept_invitation),
        )
        .route(&format!("{p}/invitation/fresh"), post(fresh_invitation))
        .route(&format!("{p}/not-me"), get(not_me_page).post(not_me))
        .route(
            &format!("{p}/username"),
            get(username_page).post(change_username),
        )
        .route(
            &format!("{p}/password"),
            get(password_page).post(change_password),
        )
        .route(&format!("{p}/static/portal.css"), get(stylesheet));
    if !p.is_empty() {
        router = router.route(&p, get(to_home));
    }
    router
        .layer(DefaultBodyLimit::max(state.body_limit()))
        .layer(middleware::from_fn(report_internal_errors))
        .layer(middleware::from_fn(page_headers))
        .with_state(state)
}

// ---------------------------------------------------------------------------
// Rendering

/// A page answer: template, status, variables, cookies to set.
struct Page {
    template: &'static str,
    status: StatusCode,
    vars: Map<String, Value>,
    cookies: Vec<HeaderValue>,
}

impl Page {
    fn new(template: &'static str, vars: Value) -> Self {
        let vars = match vars {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Self {
            template,
            status: StatusCode::OK,
            vars,
            cookies: Vec::new(),
        }
    }

    fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    fn set(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.vars.insert(key.to_owned(), value.into());
        self
    }

    /// The form's CSRF token, and the pre-session cookie if it is new.
    fn csrf(mut self, form: FormCsrf) -> Self {
        self.vars.insert("csrf_token".into(), form.token.into());
        self.cookies.extend(form.cookie);
        self
    }

    fn signed_in(self, yes: bool) -> Self {
        self.set("signed_in", yes)
    }

    /// Puts a refusal next to its field (or on the whole form).
    fn error(mut self, field: &str, error: &ApiError) -> Self {
        let mut errors = match self.vars.remove("errors") {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        errors.insert(field.to_owned(), error.message().into());
        self.vars.insert("errors".into(), Value::Object(errors));
        if !error.reasons().is_empty() {
            self.vars.insert(
                "reasons".into(),
                serde_json::to_value(error.reasons()).unwrap_or_default(),
            );
        }
        self.status = error.status();
        self
    }

    fn render(self, http: &PortalHttp) -> Response {
        let mut vars = self.vars;
        let config = http.service().config();
        vars.insert("product_name".into(), config.product_name.clone().into());
        vars.insert("base".into(), http.portal_base().into());
        vars.insert(
            "css_url".into(),
            format!(
                "{}/static/portal.css?v={}",
                http.portal_base(),
                *CSS_VERSION
            )
            .into(),
        );
        vars.insert(
            "password_min".into(),
            config.password_policy.min_chars().into(),
        );
        vars.entry("errors").or_insert_with(|| json!({}));
        vars.entry("values").or_insert_with(|| json!({}));
        vars.entry("reasons").or_insert_with(|| json!([]));
        vars.entry("signed_in").or_insert(Value::Bool(false));
        match http.pages().render(self.template, &Value::Object(vars)) {
            Ok(html) => {
                let mut response = (
                    self.status,
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    )],
                    html,
                )
                    .into_response();
                for cookie in self.cookies {
                    session::append(response.headers_mut(), cookie);
                }
                response
            }
            Err(error) => html_failure(error),
        }
    }
}

fn html_failure(error: impl std::error::Error + Send + Sync + 'static) -> Response {
    InternalFailure {
        error: std::sync::Arc::new(error),
        format: FailureFormat::Html,
    }
    .response()
}

/// The answer of an internal failure on a page (no template: a template
/// may be what failed).
pub(crate) fn internal_error_page(request_id: &str) -> Response {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Something went wrong</title></head><body><main>\
         <h1>Something went wrong</h1><p>{}</p><p>Reference: <code>{}</code></p>\
         </main></body></html>\n",
        crate::error::INTERNAL_MESSAGE,
        html_escape(request_id)
    );
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

fn html_escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// 303 to a portal page.
fn see_other(http: &PortalHttp, page: &str) -> Response {
    Redirect::to(&http.page_path(page)).into_response()
}

/// 303 to a portal page, setting the new session's cookie.
fn signed_in_redirect(http: &PortalHttp, done: &SignedIn) -> Response {
    let page = if done.account.must_change_password {
        "/password"
    } else {
        "/?done=signed_in"
    };
    let mut response = see_other(http, page);
    session::append(
        response.headers_mut(),
        http.session_cookie().set(
            done.session_token.expose(),
            done.expires_at,
            http.service().now(),
        ),
    );
    response
}

/// An error page (CSRF refusal, malformed form, unknown page ...).
fn error_page(http: &PortalHttp, status: StatusCode, title: &str, message: &str) -> Response {
    Page::new(
        "error.html",
        json!({ "status": status.as_u16(), "title": title, "message": message }),
    )
    .status(status)
    .render(http)
}

fn csrf_refused(http: &PortalHttp, error: CsrfError) -> Response {
    tracing::info!(%error, "form refused by the CSRF check");
    metrics::counter!("portal_http_csrf_refusals_total").increment(1);
    error_page(
        http,
        StatusCode::FORBIDDEN,
        "Please try again",
        "This form expired or was sent from another site. Go back, reload the page and send it again.",
    )
}

/// A form body, or the error page of a malformed one.
fn form_or_error<T>(
    http: &PortalHttp,
    form: Result<Form<T>, FormRejection>,
) -> Result<T, Response> {
    match form {
        Ok(Form(value)) => Ok(value),
        Err(rejection) => {
            let status = match rejection.status() {
                s @ (StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE) => s,
                _ => StatusCode::BAD_REQUEST,
            };
            Err(error_page(
                http,
                status,
                "The form could not be read",
                "Go back, reload the page and send the form again.",
            ))
        }
    }
}

// ---------------------------------------------------------------------------
// CSRF

/// The token of a page's forms, and the cookie to set with it.
struct FormCsrf {
    token: String,
    cookie: Option<HeaderValue>,
}

/// Forms before sign-in: a signed double submit on the pre-session cookie.
fn anonymous_csrf(http: &PortalHttp, headers: &HeaderMap) -> FormCsrf {
    let cookie = http.session_cookie();
    match cookie.csrf_value(headers).filter(|v| well_formed(v)) {
        Some(value) => FormCsrf {
            token: http.csrf().token(Binding::PreSession(value)),
            cookie: None,
        },
        None => {
            let value = csrf::new_pre_session_value();
            FormCsrf {
                token: http.csrf().token(Binding::PreSession(&value)),
                cookie: Some(cookie.set_csrf(&value)),
            }
        }
    }
}

fn well_formed(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Forms of a signed-in client: bound to the session.
fn session_csrf(http: &PortalHttp, session: &ClientSession) -> FormCsrf {
    FormCsrf {
        token: http
            .csrf()
            .token(Binding::Session(session.session.hash.as_bytes())),
        cookie: None,
    }
}

fn check_anonymous(
    http: &PortalHttp,
    headers: &HeaderMap,
    submitted: &str,
) -> Result<(), CsrfError> {
    csrf::check_origin(headers, http.public_origin())?;
    let value = http
        .session_cookie()
        .csrf_value(headers)
        .ok_or(CsrfError::MissingToken)?;
    http.csrf().verify(Binding::PreSession(value), submitted)
}

fn check_session(
    http: &PortalHttp,
    headers: &HeaderMap,
    session: &ClientSession,
    submitted: &str,
) -> Result<(), CsrfError> {
    csrf::check_origin(headers, http.public_origin())?;
    http.csrf()
        .verify(Binding::Session(session.session.hash.as_bytes()), submitted)
}

/// The signed-in client of a page request; `Err` answers the request
/// (to sign-in without a session, to the password page while a change is
/// required, or an internal failure).
async fn require_session(
    http: &PortalHttp,
    parts: &Parts,
    allow_must_change: bool,
) -> Result<ClientSession, Response> {
    match session_of(parts, http).await {
        Ok(Some(session)) => {
            if session.account.must_change_password && !allow_must_change {
                Err(see_other(http, "/password"))
            } else {
                Ok(session)
            }
        }
        Ok(None) => {
            let mut response = see_other(http, "/sign-in");
            if http.session_cookie().token(&parts.headers).is_some() {
                session::append(response.headers_mut(), http.session_cookie().clear());
            }
            Err(response)
        }
        Err(error) => Err(page_failure(error)),
    }
}

/// An internal failure as a page; refusals never reach here.
fn page_failure(error: ApiError) -> Response {
    match error {
        ApiError::Internal(error) => InternalFailure {
            error,
            format: FailureFormat::Html,
        }
        .response(),
        other => html_failure(UnexpectedRefusal(other.message().to_owned())),
    }
}

/// A refusal where none was expected: reported as an internal failure.
#[derive(Debug, thiserror::Error)]
#[error("unexpected refusal: {0}")]
struct UnexpectedRefusal(String);

// ---------------------------------------------------------------------------
// Handlers

async fn stylesheet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        CSS,
    )
        .into_response()
}

async fn to_home(State(http): State<PortalHttp>) -> Response {
    see_other(&http, "/")
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

async fn home(State(http): State<PortalHttp>, parts: Parts) -> Response {
    let session = match require_session(&http, &parts, false).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let done = Query::<DoneQuery>::try_from_uri(&parts.uri)
        .ok()
        .and_then(|q| q.0.done)
        .filter(|d| ["password", "username", "signed_in"].contains(&d.as_str()));
    let account = &session.account;
    Page::new(
        "home.html",
        json!({
            "username": account.username.as_ref().map(|u| u.as_str()),
            "email": account.email.as_str(),
            "must_change_password": account.must_change_password,
            "done": done,
        }),
    )
    .signed_in(true)
    .csrf(session_csrf(&http, &session))
    .render(&http)
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    login: String,
    password: Option<SecretString>,
}

async fn sign_in_page(State(http): State<PortalHttp>, parts: Parts) -> Response {
    match session_of(&parts, &http).await {
        Ok(Some(_)) => return see_other(&http, "/"),
        Ok(None) => {}
        Err(error) => return page_failure(error),
    }
    Page::new("sign_in.html", json!({}))
        .csrf(anonymous_csrf(&http, &parts.headers))
        .render(&http)
}

async fn sign_in(
    State(http): State<PortalHttp>,
    Tenant(tenant): Tenant,
    ClientContext(ctx): ClientContext,
    headers: HeaderMap,
    form: Result<Form<SignInForm>, FormRejection>,
) -> Response {
    let form = match form_or_error(&http, form) {
        Ok(form) => form,
        Err(response) => return response,
    };
    if let Err(error) = check_anonymous(&http, &headers, &form.csrf_token) {
        return csrf_refused(&http, error);
    }
    let password = form.password.unwrap_or_else(|| SecretString::from(""));
    match http
        .service()
        .sign_in(&tenant, &ctx, &form.login, password)
        .await
    {
        Ok(done) => signed_in_redirect(&http, &done),
        Err(error) => {
            let error = ApiError::from(error);
            if error.code().is_none() {
                return page_failure(error);
            }
            Page::new("sign_in.html", json!({ "values": { "login": form.login } }))
                .csrf(anonymous_csrf(&http, &headers))
                .error("form", &error)
                .render(&http)
        }
    }
}

#[derive(Deserialize)]
struct CsrfOnlyForm {
    #[serde(default)]
    csrf_token: String,
}

async fn sign_out(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    parts: Parts,
    form: Result<Form<CsrfOnlyForm>, FormRejection>,
) -> Response {
    let form = match form_or_error(&http, form) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let session = match session_of(&parts, &http).await {
        Ok(Some(session)) => session,
        Ok(None) => return see_other(&http, "/sign-in"),
        Err(error) => return page_failure(error),
    };
    if let Err(error) = check_session(&http, &parts.headers, &session, &form.csrf_token) {
        return csrf_refused(&http, error);
    }
    if let Err(error) = http.service().sign_out(&ctx, &session).await {
        return page_failure(error.into());
    }
    let mut response = Page::new(
        "message.html",
        json!({
            "title": "Signed out",
            "lead": "You are signed out.",
            "paragraphs": [],
            "link": { "href": http.page_path("/sign-in"), "text": "Sign in again" },
        }),
    )
    .render(&http);
    session::append(response.headers_mut(), http.session_cookie().clear());
    response
}

#[derive(Deserialize)]
struct ForgotForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    captcha_response: Option<SecretString>,
}

async fn forgot_page(State(http): State<PortalHttp>, headers: HeaderMap) -> Response {
    Page::new("forgot_password.html", json!({}))
        .csrf(anonymous_csrf(&http, &headers))
        .render(&http)
}

async fn forgot(
    State(http): State<PortalHttp>,
    Tenant(tenant): Tenant,
    ClientContext(ctx): ClientContext,
    headers: HeaderMap,
    form: Result<Form<ForgotForm>, FormRejection>,
) -> Response {
    let form = match form_or_error(&http, form) {
        Ok(form) => form,
        Err(response) => return response,
    };
    if let Err(error) = check_anonymous(&http, &headers, &form.csrf_token) {
        return csrf_refused(&http, error);
    }
    match http
        .service()
        .forgot_password(&tenant, &ctx, &form.email, form.captcha_response)
        .await
    {
        Ok(()) => Page::new(
            "message.html",
            json!({
                "title": "Check your email",
                "lead": "If a portal account uses this address, a message is on its way to it.",
                "paragraphs": [
                    "It holds a link to set a new password. The link works once, for a limited time.",
                    "Nothing after a few minutes? Look in your spam folder, or ask your firm to check the address they have for you.",
                ],
                "link": { "href": http.page_path("/sign-in"), "text": "Back to sign in" },
            }),
        )
        .render(&http),
        Err(error) => {
            let error = ApiError::from(error);
            if error.code().is_none() {
                return page_failure(error);
            }
            Page::new("forgot_password.html", json!({ "values": { "email": form.email } }))
                .csrf(anonymous_csrf(&http, &headers))
                .error("form", &error)
                .render(&http)
        }
    }
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn token_of(parts: &Parts) -> String {
    Query::<TokenQuery>::try_from_uri(&parts.uri)
        .map(|q| q.0.token)
        .unwrap_or_default()
}

/// The page of a link that does not work (any more).
fn link_invalid(
    http: &PortalHttp,
    headers: &HeaderMap,
    kind: TokenKind,
    token: &str,
    fresh_invitation_available: bool,
) -> Response {
    Page::new(
        "link_invalid.html",
        json!({
            "kind": kind.as_str(),
            "token": token,
            "fresh_invitation_available": fresh_invitation_available,
        }),
    )
    .status(crate::error::status_for(ErrorCode::TokenInvalid))
    .csrf(anonymous_csrf(http, headers))
    .render(http)
}

/// Opens a link (records the opening; never consumes the token).
async fn open(
    http: &PortalHttp,
    parts: &Parts,
    kind: TokenKind,
) -> Result<(String, LinkView), Response> {
    let token = token_of(parts);
    let ctx = ClientContext::from_parts(parts, http).0;
    match http.service().open_link(&ctx, kind, &token).await {
        Ok(view) => Ok((token, view)),
        Err(error) => Err(page_failure(error.into())),
    }
}

#[derive(Deserialize)]
struct ResetForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    token: String,
    password: Option<SecretString>,
    password_confirmation: Option<SecretString>,
}

async fn reset_page(State(http): State<PortalHttp>, parts: Parts) -> Response {
    match open(&http, &parts, TokenKind::PasswordReset).await {
        Ok((token, LinkView::Valid { email, .. })) => Page::new(
            "reset_password.html",
            json!({ "token": token, "email": email }),
        )
        .csrf(anonymous_csrf(&http, &parts.headers))
        .render(&http),
        Ok((token, LinkView::Invalid { .. })) => link_invalid(
            &http,
            &parts.headers,
            TokenKind::PasswordReset,
            &token,
            false,
        ),
        Err(response) => response,
    }
}

/// Where a refusal goes on a password form.
fn password_field(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::PasswordMismatch => "password_confirmation",
        ErrorCode::PasswordRejected => "password",
        ErrorCode::InvalidCredentials => "current_password",
        ErrorCode::UsernameInvalid | ErrorCode::UsernameTaken => "username",
        _ => "form",
    }
}

async fn reset(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    headers: HeaderMap,
    form: Result<Form<ResetForm>, FormRejection>,
) -> Response {
    let form = match form_or_error(&http, form) {
        Ok(form) => form,
        Err(response) => return response,
    };
    if let Err(error) = check_anonymous(&http, &headers, &form.csrf_token) {
        return csrf_refused(&http, error);
    }
    let result = http
        .service()
        .reset_password(
            &ctx,
            &form.token,
            form.password.unwrap_or_else(|| SecretString::from("")),
            form.password_confirmation
                .unwrap_or_else(|| SecretString::from("")),
        )
        .await;
    match result {
        Ok(done) => signed_in_redirect(&http, &done),
        Err(error) => {
            let error = ApiError::from(error);
            match error.code() {
                None => page_failure(error),
                Some(ErrorCode::TokenInvalid) => link_invalid(
                    &http,
                    &headers,
                    TokenKind::PasswordReset,
                    &form.token,
                    false,
                ),
                Some(code) => {
                    // Show the address again: the token is still valid.
                    let email = match http
                        .service()
                        .open_link(&ctx, TokenKind::PasswordReset, &form.token)
                        .await
                    {
                        Ok(LinkView::Valid { email, .. }) => Some(email),
                        _ => None,
                    };
                    Page::new(
                        "reset_password.html",
                        json!({ "token": form.token, "email": email }),
                    )
                    .csrf(anonymous_csrf(&http, &headers))
                    .error(password_field(code), &error)
                    .render(&http)
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct AcceptForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    username: String,
    password: Option<SecretString>,
    password_confirmation: Option<SecretString>,
}

async fn invitation_page(State(http): State<PortalHttp>, parts: Parts) -> Response {
    match open(&http, &parts, TokenKind::Invitation).await {
        Ok((
            token,
            LinkView::Valid {
                email, username, ..
            },
        )) => Page::new(
            "invitation.html",
            json!({ "token": token, "email": email, "values": { "username": username } }),
        )
        .csrf(anonymous_csrf(&http, &parts.headers))
        .render(&http),
        Ok((
            token,
            LinkView::Invalid {
                fresh_invitation_available,
            },
        )) => link_invalid(
            &http,
            &parts.headers,
            TokenKind::Invitation,
            &token,
            fresh_invitation_available,
        ),
        Err(response) => response,
    }
}

async fn accept_invitation(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    headers: HeaderMap,
    form: Result<Form<AcceptForm>, FormRejection>,
) -> Response {
    let form = match form_or_error(&http, form) {
        Ok(form) => form,
        Err(response) => return response,
    };
    if let Err(error) = check_anonymous(&http, &headers, &form.csrf_token) {
        return csrf_refused(&http, error);
    }
    let result = http
        .service()
        .accept_invitation(
            &ctx,
            &form.token,
            &form.username,
            form.password.unwrap_or_else(|| SecretString::from("")),
            form.password_confirmation
                .unwrap_or_else(|| SecretString::from("")),
        )
        .await;
    match result {
        Ok(done) => signed_in_redirect(&http, &done),
        Err(error) => {
            let error = ApiError::from(error);
            match error.code() {
                None => page_failure(error),
                Some(ErrorCode::TokenInvalid) => {
                    // "Send me a fresh one" answers the same whatever the
                    // token, so offering it reveals nothing.
                    link_invalid(&http, &headers, TokenKind::Invitation, &form.token, true)
                }
                Some(code) => {
                    let email = match http
                        .service()
                        .open_link(&ctx, TokenKind::Invitation, &form.token)
                        .await
                    {
                        Ok(LinkView::Valid { email, .. }) => Some(email),
                        _ => None,
                    };
                    Page::new(
                        "invitation.html",
                        json!({
                            "token": form.token,
                            "email": email,
                            "values": { "username": form.username },
                        }),
                    )
                    .csrf(anonymous_csrf(&http, &headers))
                    .error(password_field(code), &error)
                    .render(&http)
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    token: String,
}

async fn fresh_invitation(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let form = match form_or_error(&http, form) {
        Ok(form) => form,
        Err(response) => return response,
    };
    if let Err(error) = check_anonymous(&http, &headers, &form.csrf_token) {
        return csrf_refused(&http, error);
    }
    if let Err(error) = http
        .service()
        .request_fresh_invitation(&ctx, &form.token)
        .await
    {
        return page_failure(error.into());
    }
    Page::new(
        "message.html",
        json!({
            "title": "Check your email",
            "lead": "If this invitation can be renewed, a fresh one is on its way to the address your firm has on file.",
            "paragraphs": [
                "Use the link in the newest message: earlier links stop working.",
                "Nothing after a few minutes? Look in your spam folder, or ask your firm to send a new invitation.",
            ],
        }),
    )
    .status(StatusCode::ACCEPTED)
    .render(&http)
}

async fn not_me_page(State(http): State<PortalHttp>, parts: Parts) -> Response {
    match open(&http, &parts, TokenKind::NotMe).await {
        Ok((token, LinkView::Valid { email, .. })) => {
            Page::new("not_me.html", json!({ "token": token, "email": email }))
                .csrf(anonymous_csrf(&http, &parts.headers))
                .render(&http)
        }
        Ok((token, LinkView::Invalid { .. })) => {
            link_invalid(&http, &parts.headers, TokenKind::NotMe, &token, false)
        }
        Err(response) => response,
    }
}

async fn not_me(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let form = match form_or_error(&http, form) {
        Ok(form) => form,
        Err(response) => return response,
    };
    if let Err(error) = check_anonymous(&http, &headers, &form.csrf_token) {
        return csrf_refused(&http, error);
    }
    match http.service().secure_account(&ctx, &form.token).await {
        Ok(()) => {
            let mut response = Page::new(
                "message.html",
                json!({
                    "title": "Your account is secured",
                    "lead": "Every device was signed out and the password was removed. Your firm was told.",
                    "paragraphs": [
                        "To use the portal again, set a new password with a link sent to your email address.",
                    ],
                    "link": { "href": http.page_path("/forgot-password"), "text": "Set a new password" },
                }),
            )
            .render(&http);
            session::append(response.headers_mut(), http.session_cookie().clear());
            response
        }
        Err(error) => {
            let error = ApiError::from(error);
            match error.code() {
                None => page_failure(error),
                Some(_) => link_invalid(&http, &headers, TokenKind::NotMe, &form.token, false),
            }
        }
    }
}

#[derive(Deserialize)]
struct UsernameForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    username: String,
}

fn username_form(http: &PortalHttp, session: &ClientSession, typed: Option<&str>) -> Page {
    let current = session.account.username.as_ref().map(|u| u.as_str());
    Page::new(
        "username.html",
        json!({ "username": current, "values": { "username": typed.or(current) } }),
    )
    .signed_in(true)
    .csrf(session_csrf(http, session))
}

async fn username_page(State(http): State<PortalHttp>, parts: Parts) -> Response {
    match require_session(&http, &parts, false).await {
        Ok(session) => username_form(&http, &session, None).render(&http),
        Err(response) => response,
    }
}

async fn change_username(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    parts: Parts,
    form: Result<Form<UsernameForm>, FormRejection>,
) -> Response {
    let form = match form_or_error(&http, form) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let session = match require_session(&http, &parts, false).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if let Err(error) = check_session(&http, &parts.headers, &session, &form.csrf_token) {
        return csrf_refused(&http, error);
    }
    match http
        .service()
        .change_username(&session, &ctx, &form.username)
        .await
    {
        Ok(()) => see_other(&http, "/?done=username"),
        Err(error) => {
            let error = ApiError::from(error);
            match error.code() {
                None => page_failure(error),
                Some(code) => username_form(&http, &session, Some(&form.username))
                    .error(password_field(code), &error)
                    .render(&http),
            }
        }
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    csrf_token: String,
    current_password: Option<SecretString>,
    password: Option<SecretString>,
    password_confirmation: Option<SecretString>,
}

fn password_form(http: &PortalHttp, session: &ClientSession) -> Page {
    Page::new(
        "password.html",
        json!({ "must_change_password": session.account.must_change_password }),
    )
    .signed_in(true)
    .csrf(session_csrf(http, session))
}

async fn password_page(State(http): State<PortalHttp>, parts: Parts) -> Response {
    match require_session(&http, &parts, true).await {
        Ok(session) => password_form(&http, &session).render(&http),
        Err(response) => response,
    }
}

async fn change_password(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    parts: Parts,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Response {
    let form = match form_or_error(&http, form) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let session = match require_session(&http, &parts, true).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if let Err(error) = check_session(&http, &parts.headers, &session, &form.csrf_token) {
        return csrf_refused(&http, error);
    }
    let empty = || SecretString::from("");
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
    match result {
        Ok(done) => {
            let mut response = see_other(&http, "/?done=password");
            session::append(
                response.headers_mut(),
                http.session_cookie().set(
                    done.session_token.expose(),
                    done.expires_at,
                    http.service().now(),
                ),
            );
            response
        }
        Err(error) => {
            let error = ApiError::from(error);
            match error.code() {
                None => page_failure(error),
                Some(code) => password_form(&http, &session)
                    .error(password_field(code), &error)
                    .render(&http),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_escaped_on_the_failure_page() {
        assert_eq!(html_escape("<a&\"'>"), "&lt;a&amp;&quot;&#39;&gt;");
    }

    #[test]
    fn password_form_refusals_go_next_to_their_field() {
        assert_eq!(
            password_field(ErrorCode::PasswordMismatch),
            "password_confirmation"
        );
        assert_eq!(password_field(ErrorCode::PasswordRejected), "password");
        assert_eq!(
            password_field(ErrorCode::InvalidCredentials),
            "current_password"
        );
        assert_eq!(password_field(ErrorCode::RateLimited), "form");
    }
}
