//! The second-factor step of a sign-in (the challenge cookie, no session
//! yet): the code page, "email me a code", and the enrolment a `required`
//! policy leads a client without a factor to before any session.
//!
//! The methods the page offers travel in its query (`?methods=…`), put
//! there by [`outcome_redirect`](super::render::outcome_redirect): they only
//! choose which forms to show; the service decides what a code is worth.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portal_access_core::service::FactorAuth;
use portal_access_core::workflow::ErrorCode;
use portal_access_core::TenantId;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use super::factors::{recovery_codes_page, totp_page, TotpForm};
use super::form::CsrfForm;
use super::render::{
    anonymous_csrf, answer, field_of, see_other, signed_in_redirect, FormCsrf, Page,
};
use super::sign_in::empty;
use crate::error::{ApiError, HttpCode};
use crate::extract::{ClientContext, Tenant};
use crate::state::PortalHttp;

/// The query of the code and enrolment pages.
#[derive(Deserialize, Default)]
pub(super) struct StepQuery {
    /// The methods (or, when enrolling, the factors) offered, comma-separated.
    #[serde(default)]
    methods: String,
    /// The method whose form is shown.
    #[serde(default)]
    method: Option<String>,
    /// `sent` once a code was emailed.
    #[serde(default)]
    done: Option<String>,
    /// How long "remember this device" lasts under the tenant's policy
    /// (0: the box is not shown). Never read from the query.
    #[serde(skip)]
    remember_days: u32,
}

impl StepQuery {
    fn offers(&self, method: &str) -> bool {
        self.methods.split(',').any(|m| m == method)
    }

    /// The form to show: the one asked for if offered, else the
    /// authenticator, else the emailed code, else a recovery code.
    fn shown(&self) -> &str {
        let asked = self.method.as_deref().filter(|m| self.offers(m));
        asked.unwrap_or_else(|| {
            ["totp", "email_code", "recovery_code"]
                .into_iter()
                .find(|m| self.offers(m))
                .unwrap_or("totp")
        })
    }
}

/// The code page that offers `methods` and shows `method`.
pub(super) fn step_path(methods: &str, method: Option<&str>) -> String {
    match method {
        Some(method) => format!("/sign-in/second-factor?methods={methods}&method={method}"),
        None => format!("/sign-in/second-factor?methods={methods}"),
    }
}

fn code_form(query: &StepQuery, csrf: FormCsrf) -> Page {
    Page::new(
        "second_factor.html",
        json!({
            "methods": query.methods,
            "method": query.shown(),
            "email_code": query.offers("email_code"),
            "recovery_code": query.offers("recovery_code"),
            "done": query.done,
            "remember_days": query.remember_days,
        }),
    )
    .csrf(csrf)
}

/// A page of the step (`form`), or sign-in without a challenge cookie.
fn step_page(
    http: &PortalHttp,
    headers: &HeaderMap,
    query: &StepQuery,
    form: fn(&StepQuery, FormCsrf) -> Page,
) -> Response {
    if http.challenge_token(headers).is_none() {
        return see_other(http, "/sign-in");
    }
    form(query, anonymous_csrf(http, headers)).render(http)
}

/// The tenant's "remember this device" days (0: not offered).
fn remember_days(http: &PortalHttp, tenant: &TenantId) -> u32 {
    http.service()
        .config()
        .mfa_policy(tenant)
        .remember_device_days
}

pub(super) async fn code_page(
    State(http): State<PortalHttp>,
    Tenant(tenant): Tenant,
    Query(mut query): Query<StepQuery>,
    headers: HeaderMap,
) -> Response {
    query.remember_days = remember_days(&http, &tenant);
    step_page(&http, &headers, &query, code_form)
}

#[derive(Deserialize)]
pub(super) struct CodeForm {
    #[serde(default)]
    methods: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    code: String,
    /// The "remember this device" box (`on` when ticked).
    #[serde(default)]
    remember_device: Option<String>,
}

/// A refusal of the step: an unusable challenge (expired, used, or dead
/// after too many wrong codes) goes back to sign-in; anything else is the
/// form again with the error.
fn step_refused(http: &PortalHttp, error: &ApiError, form: Page) -> Response {
    if error.code() == Some(HttpCode::Core(ErrorCode::Unauthenticated)) {
        let mut response = Page::new("sign_in.html", json!({ "challenge_expired": true }))
            .status(StatusCode::UNAUTHORIZED)
            .render(http);
        http.clear_challenge_cookie(response.headers_mut());
        return response;
    }
    form.error(field_of(error), error).render(http)
}

pub(super) async fn complete(
    State(http): State<PortalHttp>,
    Tenant(tenant): Tenant,
    ClientContext(ctx): ClientContext,
    headers: HeaderMap,
    CsrfForm { fields: form, csrf }: CsrfForm<CodeForm>,
) -> Response {
    let challenge = http.challenge_token(&headers).unwrap_or_default();
    let remember = form.remember_device.is_some();
    let result = http
        .service()
        .complete_second_factor_remembering(
            &ctx,
            challenge,
            &form.method,
            form.code.trim(),
            remember,
        )
        .await;
    let query = StepQuery {
        methods: form.methods,
        method: Some(form.method),
        done: None,
        remember_days: remember_days(&http, &tenant),
    };
    answer(
        result,
        |done| {
            let mut response = signed_in_redirect(&http, &done);
            http.clear_challenge_cookie(response.headers_mut());
            response
        },
        |error| step_refused(&http, &error, code_form(&query, csrf)),
    )
}

#[derive(Deserialize)]
pub(super) struct MethodsForm {
    #[serde(default)]
    methods: String,
}

pub(super) async fn email_code(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    headers: HeaderMap,
    CsrfForm { fields: form, csrf }: CsrfForm<MethodsForm>,
) -> Response {
    let challenge = http.challenge_token(&headers).unwrap_or_default();
    let result = http.service().send_sign_in_code(&ctx, challenge).await;
    let query = StepQuery {
        methods: form.methods,
        method: Some("email_code".into()),
        done: None,
        ..StepQuery::default()
    };
    answer(
        result,
        |()| {
            let path = step_path(&query.methods, Some("email_code"));
            see_other(&http, &format!("{path}&done=sent"))
        },
        |error| step_refused(&http, &error, code_form(&query, csrf)),
    )
}

fn enrol_form(query: &StepQuery, csrf: FormCsrf) -> Page {
    Page::new(
        "enrol.html",
        json!({
            "methods": query.methods,
            "totp": query.offers("totp"),
            "email_code": query.offers("email_code"),
        }),
    )
    .csrf(csrf)
}

/// Enrolment required at sign-in: the factors the client can set up.
pub(super) async fn enrol_page(
    State(http): State<PortalHttp>,
    Query(query): Query<StepQuery>,
    headers: HeaderMap,
) -> Response {
    step_page(&http, &headers, &query, enrol_form)
}

/// Starts an authenticator during a required enrolment: the QR page.
pub(super) async fn enrol_totp(
    State(http): State<PortalHttp>,
    headers: HeaderMap,
    CsrfForm { fields: form, csrf }: CsrfForm<MethodsForm>,
) -> Response {
    let challenge = http.challenge_token(&headers).unwrap_or_default();
    let result = http
        .service()
        .start_totp(FactorAuth::Challenge(challenge))
        .await;
    let query = StepQuery {
        methods: form.methods,
        ..StepQuery::default()
    };
    let again = csrf.clone();
    answer(
        result,
        |enrolment| {
            let form = TotpForm::of(&enrolment, &query.methods);
            totp_page("/sign-in/enrol/totp/confirm", &form)
                .csrf(csrf)
                .render(&http)
        },
        |error| step_refused(&http, &error, enrol_form(&query, again)),
    )
}

/// Confirms the authenticator of a required enrolment: the session, and
/// the recovery codes shown once.
pub(super) async fn enrol_totp_confirm(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    headers: HeaderMap,
    CsrfForm { fields: form, csrf }: CsrfForm<TotpForm>,
) -> Response {
    let challenge = http.challenge_token(&headers).unwrap_or_default();
    let result = http
        .service()
        .confirm_totp(&ctx, FactorAuth::Challenge(challenge), form.code.trim())
        .await;
    answer(
        result,
        |confirmed| {
            let mut response = recovery_codes_page(&confirmed.recovery_codes).render(&http);
            if let Some(done) = &confirmed.signed_in {
                http.set_session_cookie(response.headers_mut(), done);
                http.clear_challenge_cookie(response.headers_mut());
            }
            response
        },
        |error| {
            let page = totp_page("/sign-in/enrol/totp/confirm", &form).csrf(csrf);
            step_refused(&http, &error, page)
        },
    )
}

#[derive(Deserialize)]
pub(super) struct EmailFactorForm {
    #[serde(default)]
    methods: String,
    current_password: Option<SecretString>,
}

/// Chooses emailed codes during a required enrolment (the password again):
/// then the code step, with a code to ask for.
pub(super) async fn enrol_email(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    headers: HeaderMap,
    CsrfForm { fields: form, csrf }: CsrfForm<EmailFactorForm>,
) -> Response {
    let challenge = http.challenge_token(&headers).unwrap_or_default();
    let result = http
        .service()
        .add_email_factor(
            &ctx,
            FactorAuth::Challenge(challenge),
            form.current_password.unwrap_or_else(empty),
        )
        .await;
    answer(
        result,
        |()| {
            let path = step_path("email_code", Some("email_code"));
            see_other(&http, &path)
        },
        |error| {
            let query = StepQuery {
                methods: form.methods,
                ..StepQuery::default()
            };
            step_refused(&http, &error, enrol_form(&query, csrf))
        },
    )
}
