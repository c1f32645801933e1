//! The second factors of a signed-in client (the security page: add an
//! authenticator, use emailed codes, remove a factor, new recovery codes),
//! and the two pages enrolment shares with the sign-in step: the
//! authenticator's QR page and the recovery codes shown once.
//!
//! Starting an authenticator and showing recovery codes answer the POST
//! with the page itself: the secret and the codes are never in a URL and
//! are shown once. The QR page's confirm form carries the secret and its
//! URI back (the page already shows both), so a mistyped code shows the
//! same QR code again instead of a new secret.

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use portal_access_core::domain::factor::RecoveryCode;
use portal_access_core::service::{
    ClientSession, FactorAuth, SecurityView, ServiceError, TotpEnrolment,
};
use portal_access_core::workflow::{ErrorCode, Refusal};
use portal_access_core::FactorKind;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use super::form::{NoFields, SessionForm, SignedIn};
use super::render::{answer, done_of, field_of, page_failure, see_other, Page};
use super::sign_in::empty;
use crate::error::ApiError;
use crate::extract::ClientContext;
use crate::qr;
use crate::state::PortalHttp;

/// The confirm form of the QR page.
#[derive(Deserialize)]
pub(super) struct TotpForm {
    /// The sign-in step's offered methods (enrolment at sign-in only).
    #[serde(default)]
    pub(super) methods: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    otpauth_uri: String,
    #[serde(default)]
    pub(super) code: String,
}

impl TotpForm {
    /// The form of a started enrolment.
    pub(super) fn of(enrolment: &TotpEnrolment, methods: &str) -> Self {
        Self {
            methods: methods.to_owned(),
            secret: enrolment.secret.clone(),
            otpauth_uri: enrolment.otpauth_uri.clone(),
            code: String::new(),
        }
    }
}

/// The QR page of an authenticator being set up, its form posting to
/// `action`. A URI too long for a QR code (never ours) leaves the key as
/// text alone.
pub(super) fn totp_page(action: &'static str, form: &TotpForm) -> Page {
    let svg = qr::svg(&form.otpauth_uri)
        .inspect_err(|error| tracing::warn!(%error, "no QR code for the authenticator"))
        .ok();
    Page::new(
        "totp.html",
        json!({
            "action": action,
            "methods": form.methods,
            "qr_svg": svg,
            "secret": form.secret,
            "otpauth_uri": form.otpauth_uri,
        }),
    )
}

/// The recovery codes, shown this once.
pub(super) fn recovery_codes_page(codes: &[RecoveryCode]) -> Page {
    let codes: Vec<&str> = codes.iter().map(RecoveryCode::as_str).collect();
    Page::new("recovery_codes.html", json!({ "codes": codes }))
}

const DONE: [&str; 8] = [
    "totp_added",
    "email_added",
    "removed",
    "codes_saved",
    "session_revoked",
    "others_revoked",
    "device_forgotten",
    "devices_forgotten",
];

fn security_page(view: &SecurityView, done: Option<String>) -> Page {
    Page::new(
        "security.html",
        json!({
            "policy": view.policy,
            "allowed": view.allowed,
            "factors": view.factors,
            "recovery_codes_left": view.recovery_codes_left,
            "remember_device_days": view.remember_device_days,
            "sessions": view.sessions,
            "devices": view.devices,
            "done": done,
        }),
    )
}

/// The factors page again with a refusal next to its field; the failure
/// page if the factors cannot be read.
pub(super) async fn security_refused(
    http: &PortalHttp,
    session: &ClientSession,
    field: &str,
    error: &ApiError,
) -> Response {
    answer(
        http.service().security(session).await,
        |view| {
            security_page(&view, None)
                .signed_in(http, session)
                .error(field, error)
                .render(http)
        },
        page_failure,
    )
}

/// A factor change's answer: `done` with its result; on a refusal, the
/// factors page with the error (a wrong password next to `password_field`);
/// on a failure, the failure page.
async fn on_security_page<T, E: Refusal>(
    http: &PortalHttp,
    session: &ClientSession,
    password_field: &str,
    result: Result<T, ServiceError<E>>,
    done: impl FnOnce(T) -> Response,
) -> Response {
    match result {
        Ok(value) => done(value),
        Err(refusal @ ServiceError::Refused(_)) => {
            let error = ApiError::from(refusal);
            let field = match field_of(&error) {
                "current_password" => password_field,
                other => other,
            };
            security_refused(http, session, field, &error).await
        }
        Err(failure @ ServiceError::Infrastructure(_)) => page_failure(failure.into()),
    }
}

pub(super) async fn security(
    State(http): State<PortalHttp>,
    SignedIn { session, .. }: SignedIn,
    uri: Uri,
) -> Response {
    let done = done_of(&uri, &DONE);
    answer(
        http.service().security(&session).await,
        |view| {
            security_page(&view, done)
                .signed_in(&http, &session)
                .render(&http)
        },
        page_failure,
    )
}

pub(super) async fn start_totp(
    State(http): State<PortalHttp>,
    SessionForm { session, .. }: SessionForm<NoFields>,
) -> Response {
    let result = http
        .service()
        .start_totp(FactorAuth::Session(&session))
        .await;
    on_security_page(&http, &session, "current_password", result, |enrolment| {
        totp_page("/security/totp/confirm", &TotpForm::of(&enrolment, ""))
            .signed_in(&http, &session)
            .render(&http)
    })
    .await
}

pub(super) async fn confirm_totp(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    SessionForm {
        fields: form,
        session,
        ..
    }: SessionForm<TotpForm>,
) -> Response {
    let result = http
        .service()
        .confirm_totp(&ctx, FactorAuth::Session(&session), form.code.trim())
        .await;
    answer(
        result,
        |confirmed| {
            recovery_codes_page(&confirmed.recovery_codes)
                .signed_in(&http, &session)
                .render(&http)
        },
        |error| {
            totp_page("/security/totp/confirm", &form)
                .signed_in(&http, &session)
                .error(field_of(&error), &error)
                .render(&http)
        },
    )
}

#[derive(Deserialize)]
pub(super) struct PasswordForm {
    #[serde(alias = "email_current_password")]
    current_password: Option<SecretString>,
}

#[derive(Deserialize)]
pub(super) struct RemoveForm {
    #[serde(default)]
    kind: String,
    current_password: Option<SecretString>,
}

pub(super) async fn add_email(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    SessionForm {
        fields: form,
        session,
        ..
    }: SessionForm<PasswordForm>,
) -> Response {
    let result = http
        .service()
        .add_email_factor(
            &ctx,
            FactorAuth::Session(&session),
            form.current_password.unwrap_or_else(empty),
        )
        .await;
    on_security_page(&http, &session, "email_current_password", result, |()| {
        see_other(&http, "/security?done=email_added")
    })
    .await
}

pub(super) async fn remove(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    SessionForm {
        fields: form,
        session,
        ..
    }: SessionForm<RemoveForm>,
) -> Response {
    let kind = match form.kind.as_str() {
        "totp" => FactorKind::Totp,
        "email_code" => FactorKind::EmailCode,
        _ => {
            let error =
                ApiError::refused(ErrorCode::ValidationFailed, "Choose a factor to remove.")
                    .keyed("choose_factor");
            return security_refused(&http, &session, "form", &error).await;
        }
    };
    let result = http
        .service()
        .remove_factor(
            &ctx,
            &session,
            kind,
            form.current_password.unwrap_or_else(empty),
        )
        .await;
    on_security_page(&http, &session, "current_password", result, |()| {
        see_other(&http, "/security?done=removed")
    })
    .await
}

pub(super) async fn recovery_codes(
    State(http): State<PortalHttp>,
    ClientContext(ctx): ClientContext,
    SessionForm {
        fields: form,
        session,
        ..
    }: SessionForm<PasswordForm>,
) -> Response {
    let result = http
        .service()
        .regenerate_recovery_codes(&ctx, &session, form.current_password.unwrap_or_else(empty))
        .await;
    on_security_page(&http, &session, "current_password", result, |codes| {
        recovery_codes_page(&codes)
            .signed_in(&http, &session)
            .render(&http)
    })
    .await
}
