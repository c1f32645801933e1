//! Refusals and failures as HTTP answers, in one place.
//!
//! A refusal carries a stable code ([`HttpCode`]: one of core's
//! [`ErrorCode`]s, or `csrf_failed` which only HTTP has); [`status_for`] is
//! the one `match` from code to status. The JSON body is
//! `{"error":{"code":"…","message":"…"}}`, plus `reasons` for
//! `password_rejected`; the portal pages render the same [`ApiError`] as a
//! page. A body axum could not take (JSON or form) becomes
//! `validation_failed` in one mapper (`From<JsonRejection>` /
//! `From<FormRejection>`). An infrastructure failure answers 500 with a
//! generic message and a request id (503 `service_unavailable` with
//! `Retry-After` when the database was unavailable for now); the failure
//! itself, with its cause chain, goes to the log under that id.

use std::error::Error as StdError;
use std::sync::Arc;

use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portal_access_core::service::ServiceError;
use portal_access_core::workflow::{ErrorCode, Refusal};
use portal_access_core::StoreUnavailable;

use crate::csrf::CsrfError;
pub use crate::failure::Reason;
use crate::failure::{
    json_response, ErrorBody, ErrorDetail, FailureAnswer, FailureFormat, InternalFailure,
    INTERNAL_MESSAGE, UNAVAILABLE_MESSAGE,
};

/// A stable error code of the HTTP layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpCode {
    /// A refusal code of the service.
    Core(ErrorCode),
    /// `csrf_failed`: a browser said the request came from another site,
    /// or a form's CSRF token is missing or wrong.
    CsrfFailed,
    /// `service_unavailable`: the database could not be reached, dropped
    /// the connection or stayed busy ([`StoreUnavailable`](portal_access_core::StoreUnavailable));
    /// nothing is promised done, and the same request may be sent again.
    ServiceUnavailable,
}

impl HttpCode {
    /// The stable text of the code (`token_invalid`, `csrf_failed`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Core(code) => code.as_str(),
            Self::CsrfFailed => "csrf_failed",
            Self::ServiceUnavailable => "service_unavailable",
        }
    }
}

impl From<ErrorCode> for HttpCode {
    fn from(code: ErrorCode) -> Self {
        Self::Core(code)
    }
}

/// The HTTP status of each stable error code. The only place this mapping
/// lives: a new code does not compile until its status is decided here.
pub fn status_for(code: impl Into<HttpCode>) -> StatusCode {
    use ErrorCode::*;
    match code.into() {
        HttpCode::Core(TokenInvalid) => StatusCode::BAD_REQUEST,
        HttpCode::Core(PasswordRejected) => StatusCode::UNPROCESSABLE_ENTITY,
        HttpCode::Core(PasswordMismatch) => StatusCode::UNPROCESSABLE_ENTITY,
        HttpCode::Core(UsernameInvalid) => StatusCode::UNPROCESSABLE_ENTITY,
        HttpCode::Core(UsernameTaken) => StatusCode::CONFLICT,
        HttpCode::Core(EmailTaken) => StatusCode::CONFLICT,
        HttpCode::Core(InvalidCredentials) => StatusCode::UNAUTHORIZED,
        HttpCode::Core(AccessDisabled) => StatusCode::FORBIDDEN,
        HttpCode::Core(AccountArchived) => StatusCode::CONFLICT,
        HttpCode::Core(NotInvited) => StatusCode::CONFLICT,
        HttpCode::Core(InvitationPending) => StatusCode::CONFLICT,
        HttpCode::Core(HumanVerificationRequired) => StatusCode::FORBIDDEN,
        HttpCode::Core(CaptchaFailed) => StatusCode::BAD_REQUEST,
        HttpCode::Core(MailerNotConfigured) => StatusCode::SERVICE_UNAVAILABLE,
        HttpCode::Core(RateLimited) => StatusCode::TOO_MANY_REQUESTS,
        HttpCode::Core(NotFound) => StatusCode::NOT_FOUND,
        HttpCode::Core(Unauthenticated) => StatusCode::UNAUTHORIZED,
        HttpCode::Core(ValidationFailed) => StatusCode::BAD_REQUEST,
        HttpCode::Core(SecondFactorInvalid) => StatusCode::BAD_REQUEST,
        HttpCode::Core(SecondFactorRequired) => StatusCode::FORBIDDEN,
        HttpCode::Core(StaleVersion) => StatusCode::CONFLICT,
        HttpCode::CsrfFailed => StatusCode::FORBIDDEN,
        HttpCode::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// An error answer of the JSON APIs (and, rendered differently, of the pages).
#[derive(Debug)]
pub enum ApiError {
    /// A refusal the user can act on.
    Refused {
        /// The stable code.
        code: ErrorCode,
        /// A message fit to show.
        message: String,
        /// For `password_rejected`: why.
        reasons: Vec<Reason>,
        /// What names its sentence on a page ([`Refusal::message_key`]).
        key: &'static str,
    },
    /// The request body could not be taken: `validation_failed` with a
    /// transport status (400 malformed, 413 too large, 415 wrong content type).
    Body {
        /// 400, 413 or 415.
        status: StatusCode,
        /// What was wrong, fit to show.
        message: String,
    },
    /// `csrf_failed` (403): a possible forgery (see [`crate::csrf`]).
    Csrf(CsrfError),
    /// Something underneath failed: 500, logged, never shown.
    Internal(Arc<dyn StdError + Send + Sync + 'static>),
}

impl ApiError {
    /// A refusal with this code and message.
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Refused {
            code,
            message: message.into(),
            reasons: Vec::new(),
            key: code.as_str(),
        }
    }

    /// The same refusal, its sentence on a page named `key` (the Fluent
    /// message `refusal-<key>`).
    pub(crate) fn keyed(mut self, new_key: &'static str) -> Self {
        if let Self::Refused { key, .. } = &mut self {
            *key = new_key;
        }
        self
    }

    /// What names the sentence a page shows for this refusal (the Fluent
    /// message `refusal-<key>`): [`Refusal::message_key`], else the code's
    /// text.
    pub(crate) fn message_key(&self) -> &'static str {
        match self {
            Self::Refused { key, .. } => key,
            Self::Body { .. } | Self::Csrf(_) | Self::Internal(_) => self
                .code()
                .map_or(HttpCode::ServiceUnavailable.as_str(), HttpCode::as_str),
        }
    }

    /// `validation_failed` (400) with this message.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::refused(ErrorCode::ValidationFailed, message)
    }

    /// `unauthenticated` (401).
    pub fn unauthenticated() -> Self {
        Self::refused(
            ErrorCode::Unauthenticated,
            "Sign in first: there is no valid session.",
        )
    }

    /// `not_found` (404).
    pub fn not_found() -> Self {
        Self::refused(ErrorCode::NotFound, "No such account.")
    }

    /// `csrf_failed` (403), logged and counted
    /// (`portal_http_csrf_refusals_total`).
    pub fn csrf(error: CsrfError) -> Self {
        tracing::info!(%error, "request refused by the CSRF check");
        metrics::counter!("portal_http_csrf_refusals_total").increment(1);
        Self::Csrf(error)
    }

    /// An infrastructure failure.
    pub fn internal(error: impl StdError + Send + Sync + 'static) -> Self {
        Self::Internal(Arc::new(error))
    }

    /// The code, or `None` for an internal failure.
    pub fn code(&self) -> Option<HttpCode> {
        match self {
            Self::Refused { code, .. } => Some(HttpCode::Core(*code)),
            Self::Body { .. } => Some(HttpCode::Core(ErrorCode::ValidationFailed)),
            Self::Csrf(_) => Some(HttpCode::CsrfFailed),
            Self::Internal(_) => None,
        }
    }

    /// The status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Refused { code, .. } => status_for(*code),
            Self::Body { status, .. } => *status,
            Self::Csrf(_) => status_for(HttpCode::CsrfFailed),
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message fit to show (a generic one for an internal failure).
    pub fn message(&self) -> &str {
        match self {
            Self::Refused { message, .. } | Self::Body { message, .. } => message,
            Self::Csrf(CsrfError::CrossSite) => "Refused: the request came from another site.",
            Self::Csrf(CsrfError::MissingToken) => "Refused: the form's security token is missing.",
            Self::Csrf(CsrfError::WrongToken) => {
                "Refused: the form's security token does not match."
            }
            Self::Internal(_) => INTERNAL_MESSAGE,
        }
    }

    /// The 500 answer of an internal failure (logged by the middleware). A
    /// refusal where none was expected is reported as an internal failure.
    pub(crate) fn failure(self, format: FailureFormat) -> Response {
        let error = match self {
            Self::Internal(error) => error,
            Self::Refused { .. } | Self::Body { .. } | Self::Csrf(_) => {
                Arc::new(UnexpectedRefusal(self.message().to_owned()))
            }
        };
        let answer = if is_unavailable(error.as_ref()) {
            let code = HttpCode::ServiceUnavailable;
            FailureAnswer {
                status: status_for(code),
                code: code.as_str(),
                message: UNAVAILABLE_MESSAGE,
                retry: true,
            }
        } else {
            FailureAnswer::INTERNAL
        };
        InternalFailure {
            error,
            format,
            answer,
        }
        .response()
    }

    /// For `password_rejected`: the reasons.
    pub fn reasons(&self) -> &[Reason] {
        match self {
            Self::Refused { reasons, .. } => reasons,
            Self::Body { .. } | Self::Csrf(_) | Self::Internal(_) => &[],
        }
    }
}

/// Whether a failure is the database being unavailable for now
/// ([`StoreUnavailable`] anywhere in its cause chain): answered 503, to retry.
fn is_unavailable(error: &(dyn StdError + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<StoreUnavailable>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// A refusal where none was expected: reported as an internal failure.
#[derive(Debug, thiserror::Error)]
#[error("unexpected refusal: {0}")]
struct UnexpectedRefusal(String);

impl<E: Refusal> From<ServiceError<E>> for ApiError {
    fn from(error: ServiceError<E>) -> Self {
        match error {
            ServiceError::Refused(refusal) => {
                let reasons = refusal
                    .password_reasons()
                    .unwrap_or_default()
                    .iter()
                    .map(|r| Reason {
                        code: r.code(),
                        message: r.message(),
                        reason: *r,
                    })
                    .collect();
                Self::Refused {
                    key: refusal.message_key(),
                    code: refusal.code(),
                    message: refusal.to_string(),
                    reasons,
                }
            }
            ServiceError::Infrastructure(infra) => Self::Internal(Arc::new(infra)),
        }
    }
}

/// The one mapping of a body that could not be taken to a refusal:
/// `validation_failed`, 413 and 415 kept, every other status 400.
fn body_refused(status: StatusCode, message: Option<String>) -> ApiError {
    let (status, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (status, "The request body is too large.".to_owned()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            status,
            message.unwrap_or_else(|| "The request body has the wrong content type.".to_owned()),
        ),
        _ => (
            StatusCode::BAD_REQUEST,
            message.unwrap_or_else(|| "The request body could not be read.".to_owned()),
        ),
    };
    ApiError::Body { status, message }
}

/// What the body parser said, after a fixed lead.
fn detail(lead: &str, rejection: &(dyn StdError + 'static), text: String) -> Option<String> {
    let cause = rejection.source().map(|s| s.to_string()).unwrap_or(text);
    Some(format!("{lead}: {cause}"))
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let message = match &rejection {
            JsonRejection::MissingJsonContentType(_) => {
                Some("Send the body as JSON, with `Content-Type: application/json`.".to_owned())
            }
            JsonRejection::JsonSyntaxError(_) => detail(
                "The body is not valid JSON",
                &rejection,
                rejection.body_text(),
            ),
            JsonRejection::JsonDataError(_) => detail(
                "The JSON body does not have the expected fields",
                &rejection,
                rejection.body_text(),
            ),
            JsonRejection::BytesRejection(_) => None,
            // `JsonRejection` is axum's, non-exhaustive.
            _ => None,
        };
        body_refused(rejection.status(), message)
    }
}

impl From<FormRejection> for ApiError {
    fn from(rejection: FormRejection) -> Self {
        let message = match &rejection {
            FormRejection::InvalidFormContentType(_) => Some(
                "Send the form as `Content-Type: application/x-www-form-urlencoded`.".to_owned(),
            ),
            FormRejection::FailedToDeserializeForm(_)
            | FormRejection::FailedToDeserializeFormBody(_) => detail(
                "The form does not have the expected fields",
                &rejection,
                rejection.body_text(),
            ),
            FormRejection::BytesRejection(_) => None,
            // `FormRejection` is axum's, non-exhaustive.
            _ => None,
        };
        body_refused(rejection.status(), message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let Some(code) = self.code() else {
            return self.failure(FailureFormat::Json);
        };
        metrics::counter!("portal_http_refusals_total", "code" => code.as_str()).increment(1);
        let mut response = json_response(
            self.status(),
            &ErrorBody {
                error: ErrorDetail {
                    code: code.as_str(),
                    message: self.message().to_owned(),
                    reasons: self.reasons().to_vec(),
                    request_id: None,
                },
            },
        );
        if code == HttpCode::Core(ErrorCode::Unauthenticated) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_client_error_status_except_mailer_not_configured() {
        use ErrorCode::*;
        for (code, status) in [
            (TokenInvalid, StatusCode::BAD_REQUEST),
            (PasswordRejected, StatusCode::UNPROCESSABLE_ENTITY),
            (PasswordMismatch, StatusCode::UNPROCESSABLE_ENTITY),
            (UsernameInvalid, StatusCode::UNPROCESSABLE_ENTITY),
            (UsernameTaken, StatusCode::CONFLICT),
            (EmailTaken, StatusCode::CONFLICT),
            (InvalidCredentials, StatusCode::UNAUTHORIZED),
            (AccessDisabled, StatusCode::FORBIDDEN),
            (AccountArchived, StatusCode::CONFLICT),
            (NotInvited, StatusCode::CONFLICT),
            (InvitationPending, StatusCode::CONFLICT),
            (HumanVerificationRequired, StatusCode::FORBIDDEN),
            (CaptchaFailed, StatusCode::BAD_REQUEST),
            (RateLimited, StatusCode::TOO_MANY_REQUESTS),
            (NotFound, StatusCode::NOT_FOUND),
            (Unauthenticated, StatusCode::UNAUTHORIZED),
            (ValidationFailed, StatusCode::BAD_REQUEST),
        ] {
            assert_eq!(status_for(code), status, "{code:?}");
            assert!(status_for(code).is_client_error(), "{code:?}");
        }
        assert_eq!(
            status_for(MailerNotConfigured),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn csrf_refusals_have_their_own_code_at_403() {
        assert_eq!(status_for(HttpCode::CsrfFailed), StatusCode::FORBIDDEN);
        let error = ApiError::csrf(CsrfError::CrossSite);
        assert_eq!(error.code(), Some(HttpCode::CsrfFailed));
        assert_eq!(error.code().map(HttpCode::as_str), Some("csrf_failed"));
        assert_eq!(error.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn an_internal_error_shows_no_internal_text() {
        let error = ApiError::internal(std::io::Error::other("password=hunter2 at db:5432"));
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!error.message().contains("hunter2"));
        assert_eq!(error.code(), None);
    }
}
