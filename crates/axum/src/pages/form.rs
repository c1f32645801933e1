//! The extractors of the pages: every POST handler is "extract, one
//! service call, one response" on these.
//!
//! - [`CsrfForm`]: a form before sign-in;
//! - [`SessionForm`]: a form of a signed-in client;
//! - [`SignedIn`]: the client of a signed-in GET page.
//!
//! A form extractor takes the urlencoded body within the body limit, checks
//! that the request comes from our own site and that its `csrf_token` is
//! the one our page gave (see [`crate::csrf`]). Its rejection
//! ([`PageRejection`]) is the answer: the error page (400/413/415
//! `validation_failed`, 403 `csrf_failed`), a redirect to sign-in (or to
//! the password page while a change is required), or the failure page.

use std::marker::PhantomData;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::Form;
use portal_access_core::service::ClientSession;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::render::{anonymous_csrf, error_page, see_other, FormCsrf};
use crate::csrf::{self, Binding, CsrfError};
use crate::error::ApiError;
use crate::extract::session_of;
use crate::state::PortalHttp;

/// A submitted form: its CSRF token and its own fields.
#[derive(Deserialize)]
struct Submitted<T> {
    #[serde(default)]
    csrf_token: String,
    #[serde(flatten)]
    fields: T,
}

/// The answer of a request a page extractor refused.
pub(super) struct PageRejection {
    http: PortalHttp,
    kind: Rejected,
}

enum Rejected {
    /// 303 to a portal page; `clear_session` also removes a session cookie
    /// that no longer works.
    Redirect {
        page: &'static str,
        clear_session: bool,
    },
    /// The error page of a refusal, or the failure page.
    Error(ApiError),
}

impl PageRejection {
    fn error(http: &PortalHttp, error: ApiError) -> Self {
        Self {
            http: http.clone(),
            kind: Rejected::Error(error),
        }
    }
}

impl IntoResponse for PageRejection {
    fn into_response(self) -> Response {
        match self.kind {
            Rejected::Redirect {
                page,
                clear_session,
            } => {
                let mut response = see_other(&self.http, page);
                if clear_session {
                    self.http.clear_session_cookie(response.headers_mut());
                }
                response
            }
            Rejected::Error(error) => error_page(&self.http, error),
        }
    }
}

/// The body as a form (the body limit is the router's layer).
async fn parse<T: DeserializeOwned>(
    parts: &Parts,
    body: axum::body::Body,
    http: &PortalHttp,
) -> Result<Submitted<T>, PageRejection> {
    let request = Request::from_parts(parts.clone(), body);
    match Form::<Submitted<T>>::from_request(request, http).await {
        Ok(Form(submitted)) => Ok(submitted),
        Err(rejection) => Err(PageRejection::error(http, ApiError::from(rejection))),
    }
}

fn refused(http: &PortalHttp, check: Result<(), CsrfError>) -> Result<(), PageRejection> {
    check.map_err(|error| PageRejection::error(http, ApiError::csrf(error)))
}

/// A form before sign-in: a signed double submit on the pre-session cookie.
pub(super) struct CsrfForm<T> {
    /// The form's fields.
    pub(super) fields: T,
    /// The token to render the form again with.
    pub(super) csrf: FormCsrf,
}

impl<T: DeserializeOwned + Send> FromRequest<PortalHttp> for CsrfForm<T> {
    type Rejection = PageRejection;

    async fn from_request(request: Request, http: &PortalHttp) -> Result<Self, PageRejection> {
        let (parts, body) = request.into_parts();
        let submitted = parse::<T>(&parts, body, http).await?;
        refused(
            http,
            csrf::check_origin(&parts.headers, http.public_origin()).and_then(|()| {
                let value = http
                    .session_cookie()
                    .csrf_value(&parts.headers)
                    .ok_or(CsrfError::MissingToken)?;
                http.csrf()
                    .verify(Binding::PreSession(value), &submitted.csrf_token)
            }),
        )?;
        Ok(Self {
            fields: submitted.fields,
            csrf: anonymous_csrf(http, &parts.headers),
        })
    }
}

/// Which signed-in clients a page serves.
pub(super) trait Gate: Send + Sync + 'static {
    /// Whether it serves a client who must change their password first
    /// (the others are taken to the password page).
    const WHILE_MUST_CHANGE: bool;
}

/// Every signed-in page but the password page and sign-out.
pub(super) enum Settled {}

impl Gate for Settled {
    const WHILE_MUST_CHANGE: bool = false;
}

/// The password page and sign-out: also while a change is required.
pub(super) enum Unsettled {}

impl Gate for Unsettled {
    const WHILE_MUST_CHANGE: bool = true;
}

/// The signed-in client of a page request; without a session the request
/// goes to sign-in (removing a session cookie that no longer works).
async fn require_session<G: Gate>(
    http: &PortalHttp,
    parts: &Parts,
) -> Result<ClientSession, PageRejection> {
    let redirect = |page, clear_session| PageRejection {
        http: http.clone(),
        kind: Rejected::Redirect {
            page,
            clear_session,
        },
    };
    match session_of(parts, http).await {
        Ok(Some(session)) if session.account.must_change_password && !G::WHILE_MUST_CHANGE => {
            Err(redirect("/password", false))
        }
        Ok(Some(session)) => Ok(session),
        Ok(None) => Err(redirect(
            "/sign-in",
            http.session_cookie().token(&parts.headers).is_some(),
        )),
        Err(error) => Err(PageRejection::error(http, error)),
    }
}

/// The client of a signed-in GET page.
pub(super) struct SignedIn<G: Gate = Settled> {
    /// The client.
    pub(super) session: ClientSession,
    gate: PhantomData<G>,
}

impl<G: Gate> FromRequestParts<PortalHttp> for SignedIn<G> {
    type Rejection = PageRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        http: &PortalHttp,
    ) -> Result<Self, PageRejection> {
        Ok(Self {
            session: require_session::<G>(http, parts).await?,
            gate: PhantomData,
        })
    }
}

/// A form of a signed-in client: the token is bound to the session.
pub(super) struct SessionForm<T, G: Gate = Settled> {
    /// The form's fields.
    pub(super) fields: T,
    /// The client.
    pub(super) session: ClientSession,
    gate: PhantomData<G>,
}

impl<T: DeserializeOwned + Send, G: Gate> FromRequest<PortalHttp> for SessionForm<T, G> {
    type Rejection = PageRejection;

    async fn from_request(request: Request, http: &PortalHttp) -> Result<Self, PageRejection> {
        let (parts, body) = request.into_parts();
        let submitted = parse::<T>(&parts, body, http).await?;
        let session = require_session::<G>(http, &parts).await?;
        refused(
            http,
            csrf::check_origin(&parts.headers, http.public_origin()).and_then(|()| {
                http.csrf().verify(
                    Binding::Session(session.session.hash.as_bytes()),
                    &submitted.csrf_token,
                )
            }),
        )?;
        Ok(Self {
            fields: submitted.fields,
            session,
            gate: PhantomData,
        })
    }
}

/// A form with no field but its token (sign-out).
#[derive(Deserialize)]
pub(super) struct NoFields {}
