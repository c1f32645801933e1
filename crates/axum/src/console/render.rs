//! The console's page skeleton: its templates, [`ConsolePage`] (template,
//! status, variables, cookies), and the extractors every handler starts
//! with, [`ConsoleStaff`] for a page and [`ConsoleForm`] for a form: the
//! staff member (else 303 to the console's sign-in), the form within the
//! body limit, the origin and the CSRF token (else the error page).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use portal_access_core::service::StaffActor;
use portal_access_core::RequestContext;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::auth::{recognize, Recognized};
use super::state::{at, Console, CONSOLE_PATH};
use crate::csrf::{self, Binding, CsrfError};
use crate::error::ApiError;
use crate::extract::ClientContext;
use crate::failure::FailureFormat;
use crate::language::{self, Picked};
use crate::pages::render::{anonymous_csrf, FormCsrf, CSS_VERSION};
use crate::session;

/// A console page answer.
pub(crate) struct ConsolePage {
    template: &'static str,
    status: StatusCode,
    vars: Map<String, Value>,
    csp: Option<&'static str>,
}

impl ConsolePage {
    /// The page `template` (under `console/`) with its own variables.
    pub(crate) fn new(template: &'static str, vars: Value) -> Self {
        Self {
            template,
            status: StatusCode::OK,
            vars: match vars {
                Value::Object(map) => map,
                _ => Map::new(),
            },
            csp: None,
        }
    }

    pub(crate) fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// A Content-Security-Policy of this page's own (the widget's).
    pub(crate) fn csp(mut self, csp: &'static str) -> Self {
        self.csp = Some(csp);
        self
    }

    /// Renders the page for `staff` (its menu and the forms' CSRF token),
    /// in their language.
    pub(crate) fn render(self, console: &Console, staff: &ConsoleStaff) -> Response {
        let picked = staff.picked.clone();
        self.render_with(console, Some(staff), &picked)
    }

    /// Renders a page without a staff member (the sign-in frame).
    pub(crate) fn render_with(
        self,
        console: &Console,
        staff: Option<&ConsoleStaff>,
        picked: &Picked,
    ) -> Response {
        let http = console.http();
        let mut vars = self.vars;
        vars.insert("lang".into(), picked.lang.clone().into());
        vars.insert(
            "languages".into(),
            http.service()
                .locales()
                .languages()
                .collect::<Vec<_>>()
                .into(),
        );
        let tz = match staff {
            Some(staff) => http.service().config().time_zone_of(&staff.staff.tenant),
            None => &http.service().config().time_zone,
        };
        vars.insert("tz".into(), tz.iana_name().unwrap_or("UTC").into());
        vars.insert(
            "product_name".into(),
            http.service().config().product_name.clone().into(),
        );
        vars.insert("console".into(), CONSOLE_PATH.into());
        vars.insert(
            "css_url".into(),
            format!("{CONSOLE_PATH}/static/portal.css?v={}", *CSS_VERSION).into(),
        );
        vars.insert(
            "password_min".into(),
            http.service().config().password_policy.min_chars().into(),
        );
        let mut cookie = None;
        if let Some(staff) = staff {
            vars.insert("staff_id".into(), staff.staff.staff_id.as_str().into());
            vars.insert(
                "signed_in_here".into(),
                matches!(staff.recognized, Recognized::Console(_)).into(),
            );
            vars.insert("csrf_token".into(), staff.csrf.token.clone().into());
            cookie.clone_from(&staff.csrf.cookie);
        }
        for key in ["errors", "values"] {
            vars.entry(key).or_insert_with(|| json!({}));
        }
        vars.entry("reasons").or_insert_with(|| json!([]));
        match console
            .templates()
            .render(&format!("console/{}", self.template), &Value::Object(vars))
        {
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
                if let Some(csp) = self.csp {
                    response.headers_mut().insert(
                        header::CONTENT_SECURITY_POLICY,
                        HeaderValue::from_static(csp),
                    );
                }
                for cookie in cookie.into_iter().chain(picked.cookie.clone()) {
                    session::append(response.headers_mut(), cookie);
                }
                response
            }
            Err(error) => ApiError::internal(error).failure(FailureFormat::Html),
        }
    }
}

/// The console's error page: `code` names the sentence it shows
/// (`csrf_failed`, `validation_failed`, `not_found`, `stale_version`, ...).
pub(crate) fn error_page(
    console: &Console,
    staff: Option<&ConsoleStaff>,
    picked: &Picked,
    error: ApiError,
    account: Option<String>,
) -> Response {
    match error.code() {
        Some(code) => ConsolePage::new(
            "error.html",
            json!({
                "code": code.as_str(),
                "message": error.message(),
                "account": account,
            }),
        )
        .status(error.status())
        .render_with(console, staff, picked),
        None => error.failure(FailureFormat::Html),
    }
}

/// 303 to a console page.
pub(crate) fn see_other(page: &str) -> Response {
    Redirect::to(&at(page)).into_response()
}

/// The staff member at the console, how they were recognized, the token
/// of the page's forms and where the request comes from.
pub(crate) struct ConsoleStaff {
    pub(crate) staff: StaffActor,
    pub(crate) recognized: Recognized,
    pub(crate) csrf: FormCsrf,
    pub(crate) ctx: RequestContext,
    pub(crate) picked: Picked,
}

impl ConsoleStaff {
    /// The staff member of the request; a store failure is an error page.
    async fn of(parts: &Parts, console: &Console) -> Result<Self, ConsoleRejection> {
        let http = console.http();
        let (staff, recognized) = match recognize(parts, http).await {
            Ok(Some(found)) => found,
            Ok(None) => return Err(ConsoleRejection::SignIn),
            Err(error) => {
                let picked = language::pick(http, parts);
                let error = ApiError::internal(error);
                return Err(ConsoleRejection::Error(
                    console.clone(),
                    None,
                    picked,
                    error,
                ));
            }
        };
        let csrf = match &recognized {
            Recognized::Console(hash) => FormCsrf {
                token: http.csrf().token(Binding::Session(hash)),
                cookie: None,
            },
            Recognized::Host => anonymous_csrf(http, &parts.headers),
        };
        Ok(Self {
            staff,
            recognized,
            csrf,
            ctx: ClientContext::from_parts(parts, http).0,
            picked: language::pick(http, parts),
        })
    }

    /// Whether `submitted` is this staff member's form token (and the
    /// request comes from our own site).
    fn check(&self, parts: &Parts, console: &Console, submitted: &str) -> Result<(), CsrfError> {
        let http = console.http();
        csrf::check_origin(&parts.headers, http.public_origin())?;
        match &self.recognized {
            Recognized::Console(hash) => http.csrf().verify(Binding::Session(hash), submitted),
            Recognized::Host => {
                let value = http
                    .session_cookie()
                    .csrf_value(&parts.headers)
                    .ok_or(CsrfError::MissingToken)?;
                http.csrf().verify(Binding::PreSession(value), submitted)
            }
        }
    }
}

/// Why a console request was not served: to sign-in, or an error page.
pub(crate) enum ConsoleRejection {
    SignIn,
    Error(Console, Option<Box<ConsoleStaff>>, Picked, ApiError),
}

impl IntoResponse for ConsoleRejection {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn => see_other("/sign-in"),
            Self::Error(console, staff, picked, error) => {
                error_page(&console, staff.as_deref(), &picked, error, None)
            }
        }
    }
}

impl FromRequestParts<Console> for ConsoleStaff {
    type Rejection = ConsoleRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Console,
    ) -> Result<Self, ConsoleRejection> {
        Self::of(parts, console).await
    }
}

/// A submitted console form: its CSRF token and its own fields.
#[derive(Deserialize)]
struct Submitted<T> {
    #[serde(default)]
    csrf_token: String,
    #[serde(flatten)]
    fields: T,
}

/// A console form of a staff member: checked origin and token.
pub(crate) struct ConsoleForm<T> {
    pub(crate) staff: ConsoleStaff,
    pub(crate) fields: T,
}

impl<T: DeserializeOwned + Send> FromRequest<Console> for ConsoleForm<T> {
    type Rejection = ConsoleRejection;

    async fn from_request(request: Request, console: &Console) -> Result<Self, ConsoleRejection> {
        let (parts, body) = request.into_parts();
        let staff = ConsoleStaff::of(&parts, console).await?;
        let request = Request::from_parts(parts.clone(), body);
        let submitted = match Form::<Submitted<T>>::from_request(request, console).await {
            Ok(Form(submitted)) => submitted,
            Err(rejection) => {
                let picked = staff.picked.clone();
                return Err(ConsoleRejection::Error(
                    console.clone(),
                    Some(Box::new(staff)),
                    picked,
                    ApiError::from(rejection),
                ));
            }
        };
        if let Err(error) = staff.check(&parts, console, &submitted.csrf_token) {
            let picked = staff.picked.clone();
            return Err(ConsoleRejection::Error(
                console.clone(),
                Some(Box::new(staff)),
                picked,
                ApiError::csrf(error),
            ));
        }
        Ok(Self {
            staff,
            fields: submitted.fields,
        })
    }
}

/// A form before the console's sign-in: the signed double submit of the
/// portal's forms before sign-in.
pub(crate) struct AnonymousForm<T> {
    pub(crate) fields: T,
    pub(crate) picked: Picked,
}

impl<T: DeserializeOwned + Send> FromRequest<Console> for AnonymousForm<T> {
    type Rejection = ConsoleRejection;

    async fn from_request(request: Request, console: &Console) -> Result<Self, ConsoleRejection> {
        let http = console.http();
        let (parts, body) = request.into_parts();
        let request = Request::from_parts(parts.clone(), body);
        let picked = language::pick(http, &parts);
        let refuse = |error| ConsoleRejection::Error(console.clone(), None, picked.clone(), error);
        let Form(submitted) = Form::<Submitted<T>>::from_request(request, console)
            .await
            .map_err(|rejection| refuse(ApiError::from(rejection)))?;
        csrf::check_origin(&parts.headers, http.public_origin())
            .and_then(|()| {
                let value = http
                    .session_cookie()
                    .csrf_value(&parts.headers)
                    .ok_or(CsrfError::MissingToken)?;
                http.csrf()
                    .verify(Binding::PreSession(value), &submitted.csrf_token)
            })
            .map_err(|error| refuse(ApiError::csrf(error)))?;
        Ok(Self {
            fields: submitted.fields,
            picked,
        })
    }
}

/// The token of the sign-in form (and the pre-session cookie if new).
pub(crate) fn sign_in_csrf(console: &Console, parts_headers: &axum::http::HeaderMap) -> FormCsrf {
    anonymous_csrf(console.http(), parts_headers)
}

/// What a template needs to say a refusal: its code, its message (the
/// service's sentence), and for `password_rejected` the reasons.
#[derive(Serialize)]
pub(crate) struct Said {
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) reasons: Vec<String>,
}

impl Said {
    pub(crate) fn of(error: &ApiError) -> Self {
        Self {
            code: error.code().map(|c| c.as_str()).unwrap_or("internal"),
            message: error.message().to_owned(),
            reasons: error.reasons().iter().map(|r| r.message.clone()).collect(),
        }
    }
}
