//! The page skeleton: every page answer is a [`Page`] (template, status,
//! variables, cookies) rendered with the variables every page gets; the
//! error page; and [`answer`], the one way a service call becomes a page.

use std::sync::LazyLock;

use axum::extract::Query;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use fluent_bundle::FluentValue;
use portal_access_core::i18n::Locales;
use portal_access_core::service::{ClientSession, ServiceError, SignInOutcome, SignedIn};
use portal_access_core::workflow::{ErrorCode, Refusal};
use portal_access_core::PasswordReason;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::csrf::{self, Binding};
use crate::error::{ApiError, HttpCode, Reason};
use crate::failure::FailureFormat;
use crate::state::PortalHttp;
use crate::{language, session};

static CSS: &str = include_str!("../../static/portal.css");

/// A short hash of the stylesheet, so its URL changes with its content and
/// it can be cached for a year.
pub(crate) static CSS_VERSION: LazyLock<String> = LazyLock::new(|| {
    Sha256::digest(CSS.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
});

/// The stylesheet: public and long-cached (its URL carries its hash).
pub(crate) async fn stylesheet() -> Response {
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

/// A page answer: template, status, variables, cookies to set, and the
/// refusals to say next to their fields (in the page's language, when it
/// is rendered).
pub(super) struct Page {
    template: &'static str,
    status: StatusCode,
    vars: Map<String, Value>,
    cookies: Vec<HeaderValue>,
    refusals: Vec<(String, &'static str)>,
    reasons: Vec<Reason>,
}

impl Page {
    /// The page `template` with its own variables (a JSON object).
    pub(super) fn new(template: &'static str, vars: Value) -> Self {
        let vars = match vars {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Self {
            template,
            status: StatusCode::OK,
            vars,
            cookies: Vec::new(),
            refusals: Vec::new(),
            reasons: Vec::new(),
        }
    }

    /// A page of `message.html`: `message` names the text it shows.
    pub(super) fn message(message: &'static str) -> Self {
        Self::new("message.html", json!({ "message": message }))
    }

    pub(super) fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The form's CSRF token, and the pre-session cookie if it is new.
    pub(super) fn csrf(mut self, form: FormCsrf) -> Self {
        self.vars.insert("csrf_token".into(), form.token.into());
        self.cookies.extend(form.cookie);
        self
    }

    /// A page of a signed-in client: the account menu and its sign-out
    /// form (with the session's CSRF token), times in the firm's time zone.
    pub(super) fn signed_in(mut self, http: &PortalHttp, session: &ClientSession) -> Self {
        self.vars.insert("signed_in".into(), true.into());
        let tz = http
            .service()
            .config()
            .time_zone_of(&session.account.tenant);
        self.vars
            .insert("tz".into(), tz.iana_name().unwrap_or("UTC").into());
        self.csrf(session_csrf(http, session))
    }

    /// Puts a refusal next to its field (or on the whole form, `form`):
    /// `errors.<field>` is its sentence in the page's language,
    /// `error_codes.<field>` its stable code.
    pub(super) fn error(mut self, field: &str, error: &ApiError) -> Self {
        insert_into(
            &mut self.vars,
            "error_codes",
            field,
            error
                .code()
                .map(HttpCode::as_str)
                .unwrap_or_default()
                .into(),
        );
        self.refusals.push((field.to_owned(), error.message_key()));
        if !error.reasons().is_empty() {
            self.reasons = error.reasons().to_vec();
        }
        self.status = error.status();
        self
    }

    /// Renders the page and ends the browser's session cookie (the session
    /// itself was revoked by the call that led here).
    pub(super) fn render_signed_out(self, http: &PortalHttp) -> Response {
        let mut response = self.render(http);
        http.clear_session_cookie(response.headers_mut());
        response
    }

    pub(super) fn render(self, http: &PortalHttp) -> Response {
        let mut vars = self.vars;
        let config = http.service().config();
        let locales = http.service().locales();
        let language::PageLanguage { lang, switch } = language::current();
        for (field, key) in &self.refusals {
            let sentence = locales.message(&lang, &refusal_message(key), &[]);
            insert_into(&mut vars, "errors", field, sentence.into());
        }
        if !self.reasons.is_empty() {
            let reasons: Vec<Value> = self
                .reasons
                .iter()
                .map(|r| json!({ "code": r.code, "message": reason_sentence(locales, &lang, r) }))
                .collect();
            vars.insert("reasons".into(), reasons.into());
        }
        vars.insert("lang".into(), lang.clone().into());
        vars.insert("switch".into(), switch.into());
        vars.insert(
            "languages".into(),
            locales.languages().collect::<Vec<_>>().into(),
        );
        vars.entry("tz")
            .or_insert_with(|| config.time_zone.iana_name().unwrap_or("UTC").into());
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
        for key in ["errors", "error_codes", "values"] {
            vars.entry(key).or_insert_with(|| json!({}));
        }
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
            Err(error) => ApiError::internal(error).failure(FailureFormat::Html),
        }
    }
}

/// `vars[map][field] = value`, making the map if it is not there.
fn insert_into(vars: &mut Map<String, Value>, map: &str, field: &str, value: Value) {
    let mut entries = match vars.remove(map) {
        Some(Value::Object(entries)) => entries,
        _ => Map::new(),
    };
    entries.insert(field.to_owned(), value);
    vars.insert(map.into(), Value::Object(entries));
}

/// The Fluent message of a refusal's key (`refusal-<key>`, `_` as `-`).
fn refusal_message(key: &str) -> String {
    format!("refusal-{}", key.replace('_', "-"))
}

/// Why a password was refused, in `lang` (`reason-<code>`, with its limit).
fn reason_sentence(locales: &Locales, lang: &str, reason: &Reason) -> String {
    let key = format!("reason-{}", reason.code.replace('_', "-"));
    let args: Vec<(&str, FluentValue<'_>)> = match reason.reason {
        PasswordReason::TooShort { min } => vec![("min", min.into())],
        PasswordReason::TooLong { max } => vec![("max", max.into())],
        PasswordReason::Common | PasswordReason::SameAsUsername | PasswordReason::SameAsEmail => {
            Vec::new()
        }
    };
    locales.message(lang, &key, &args)
}

/// The `?done=` of a page's URI, if it is one of `known` (a success the
/// page says).
pub(super) fn done_of(uri: &Uri, known: &[&str]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct DoneQuery {
        done: Option<String>,
    }
    Query::<DoneQuery>::try_from_uri(uri)
        .ok()
        .and_then(|q| q.0.done)
        .filter(|d| known.contains(&d.as_str()))
}

/// 303 to a portal page.
pub(super) fn see_other(http: &PortalHttp, page: &str) -> Response {
    Redirect::to(&http.page_path(page)).into_response()
}

/// After a correct password (sign-in, reset, invitation): signed in (see
/// [`signed_in_redirect`]), or 303 with the challenge cookie to the
/// second-factor step (or to enrolment, when a `required` policy finds no
/// factor), its query naming the methods the page offers.
pub(super) fn outcome_redirect(http: &PortalHttp, outcome: SignInOutcome) -> Response {
    match outcome {
        SignInOutcome::SignedIn(done) => signed_in_redirect(http, &done),
        SignInOutcome::SecondFactor(challenge) => {
            let methods: Vec<&str> = challenge.methods.iter().map(|m| m.as_str()).collect();
            let page = if challenge.enrolment_required {
                "/sign-in/enrol"
            } else {
                "/sign-in/second-factor"
            };
            let mut response = see_other(http, &format!("{page}?methods={}", methods.join(",")));
            http.set_challenge_cookie(response.headers_mut(), &challenge);
            response
        }
    }
}

/// 303 home (or to the password page while a change is required), setting
/// the new session's cookie.
pub(super) fn signed_in_redirect(http: &PortalHttp, done: &SignedIn) -> Response {
    let page = if done.account.must_change_password {
        "/password"
    } else {
        "/?done=signed_in"
    };
    let mut response = see_other(http, page);
    http.set_session_cookie(response.headers_mut(), done);
    response
}

/// The error page of a refusal that has no form to go back to (a CSRF
/// refusal, a body that could not be read, ...): `error.html` with the
/// refusal's status and `code`. An internal failure is the failure page.
pub(super) fn error_page(http: &PortalHttp, error: ApiError) -> Response {
    match error.code() {
        Some(code) => Page::new(
            "error.html",
            json!({ "status": error.status().as_u16(), "code": code.as_str() }),
        )
        .status(error.status())
        .render(http),
        None => error.failure(FailureFormat::Html),
    }
}

/// An internal failure as a page; refusals never reach here.
pub(super) fn page_failure(error: ApiError) -> Response {
    error.failure(FailureFormat::Html)
}

/// The one way a page answers a service call: `done` with the result; on
/// a refusal, `refused` (the form again with the error, or another page);
/// on a failure, the internal-error page.
pub(super) fn answer<T, E: Refusal>(
    result: Result<T, ServiceError<E>>,
    done: impl FnOnce(T) -> Response,
    refused: impl FnOnce(ApiError) -> Response,
) -> Response {
    match result {
        Ok(value) => done(value),
        Err(refusal @ ServiceError::Refused(_)) => refused(ApiError::from(refusal)),
        Err(failure @ ServiceError::Infrastructure(_)) => page_failure(failure.into()),
    }
}

/// Where a refusal goes on a form with a username or password fields.
pub(super) fn field_of(error: &ApiError) -> &'static str {
    use ErrorCode::*;
    match error.code() {
        Some(HttpCode::Core(PasswordMismatch)) => "password_confirmation",
        Some(HttpCode::Core(PasswordRejected)) => "password",
        Some(HttpCode::Core(InvalidCredentials)) => "current_password",
        Some(HttpCode::Core(UsernameInvalid | UsernameTaken)) => "username",
        Some(HttpCode::Core(
            TokenInvalid
            | EmailTaken
            | AccessDisabled
            | AccountArchived
            | NotInvited
            | InvitationPending
            | HumanVerificationRequired
            | CaptchaFailed
            | MailerNotConfigured
            | RateLimited
            | NotFound
            | Unauthenticated
            | ValidationFailed
            | SecondFactorInvalid
            | SecondFactorRequired
            | StaleVersion,
        ))
        | Some(HttpCode::CsrfFailed | HttpCode::ServiceUnavailable)
        | None => "form",
    }
}

/// The token of a page's forms, and the cookie to set with it.
#[derive(Clone)]
pub(crate) struct FormCsrf {
    pub(crate) token: String,
    pub(crate) cookie: Option<HeaderValue>,
}

/// Forms before sign-in: a signed double submit on the pre-session cookie
/// (a new cookie if the request has none, or a malformed one).
pub(crate) fn anonymous_csrf(http: &PortalHttp, headers: &HeaderMap) -> FormCsrf {
    let cookie = http.session_cookie();
    match cookie.csrf_value(headers).filter(|v| well_formed(v)) {
        Some(value) => pre_session_csrf(http, value),
        None => {
            let value = csrf::new_pre_session_value(http.random());
            FormCsrf {
                cookie: Some(cookie.set_csrf(&value)),
                ..pre_session_csrf(http, &value)
            }
        }
    }
}

/// The token bound to a pre-session cookie value the request carries.
fn pre_session_csrf(http: &PortalHttp, value: &str) -> FormCsrf {
    FormCsrf {
        token: http.csrf().token(Binding::PreSession(value)),
        cookie: None,
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

#[cfg(test)]
mod tests {
    use portal_access_core::workflow::second_factor::SecondFactorError;

    use super::*;

    #[test]
    fn every_refusal_a_page_can_show_has_its_own_sentence_in_every_shipped_language() {
        use ErrorCode::*;
        use SecondFactorError as F;
        let locales = Locales::builtin();
        let codes = [
            TokenInvalid,
            PasswordRejected,
            PasswordMismatch,
            UsernameInvalid,
            UsernameTaken,
            EmailTaken,
            InvalidCredentials,
            AccessDisabled,
            AccountArchived,
            NotInvited,
            InvitationPending,
            HumanVerificationRequired,
            CaptchaFailed,
            MailerNotConfigured,
            RateLimited,
            NotFound,
            Unauthenticated,
            ValidationFailed,
            SecondFactorInvalid,
            SecondFactorRequired,
            StaleVersion,
        ];
        let factor = [
            F::InvalidCode,
            F::NoChallenge,
            F::InvalidCredentials,
            F::FactorRequired,
            F::NotAllowed,
            F::NothingToConfirm,
            F::AlreadyEnrolled,
            F::NotEnrolled,
            F::RateLimited,
            F::SecretUnreadable,
        ];
        let keys = codes
            .iter()
            .map(|c| c.as_str())
            .chain(factor.iter().map(|f| f.message_key()))
            .chain([
                "choose_factor",
                "username_length",
                "username_characters",
                HttpCode::CsrfFailed.as_str(),
                HttpCode::ServiceUnavailable.as_str(),
            ]);
        for key in keys {
            let message = refusal_message(key);
            for lang in locales.languages() {
                assert_ne!(
                    locales.message(lang, &message, &[]),
                    message,
                    "{lang}: {key}"
                );
            }
        }
        let spanish = locales.message("es", &refusal_message(F::NoChallenge.message_key()), &[]);
        assert_eq!(
            spanish,
            "Su inicio de sesión venció; inicie sesión de nuevo."
        );
    }

    #[test]
    fn password_form_refusals_go_next_to_their_field() {
        let at = |code| field_of(&ApiError::refused(code, "x"));
        assert_eq!(at(ErrorCode::PasswordMismatch), "password_confirmation");
        assert_eq!(at(ErrorCode::PasswordRejected), "password");
        assert_eq!(at(ErrorCode::InvalidCredentials), "current_password");
        assert_eq!(at(ErrorCode::RateLimited), "form");
    }
}
