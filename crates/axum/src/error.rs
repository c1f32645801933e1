//! Refusals and failures as HTTP answers, in one place.
//!
//! A refusal ([`Refusal`]) carries a stable [`ErrorCode`]; [`status_for`] is
//! the one `match` from code to status. The body is
//! `{"error":{"code":"…","message":"…"}}`, plus `reasons` for
//! `password_rejected`. An infrastructure failure answers 500 with a generic
//! message and a request id; the failure itself, with its cause chain, goes
//! to the log under that id ([`report_internal_errors`]).

use std::error::Error as StdError;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use portal_access_core::service::ServiceError;
use portal_access_core::workflow::{ErrorCode, Refusal};
use serde::Serialize;

/// The HTTP status of each stable error code. The only place this mapping lives.
pub fn status_for(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::TokenInvalid => StatusCode::BAD_REQUEST,
        ErrorCode::PasswordRejected => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::PasswordMismatch => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::UsernameInvalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::UsernameTaken => StatusCode::CONFLICT,
        ErrorCode::EmailTaken => StatusCode::CONFLICT,
        ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
        ErrorCode::AccessDisabled => StatusCode::FORBIDDEN,
        ErrorCode::AccountArchived => StatusCode::CONFLICT,
        ErrorCode::NotInvited => StatusCode::CONFLICT,
        ErrorCode::InvitationPending => StatusCode::CONFLICT,
        ErrorCode::HumanVerificationRequired => StatusCode::FORBIDDEN,
        ErrorCode::CaptchaFailed => StatusCode::BAD_REQUEST,
        ErrorCode::MailerNotConfigured => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::ValidationFailed => StatusCode::BAD_REQUEST,
    }
}

/// One reason a password was refused, for the `reasons` array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// Stable code (`too_short`, `common`, ...).
    pub code: &'static str,
    /// A sentence for a person.
    pub message: String,
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
    },
    /// The request body could not be taken: `validation_failed` with a
    /// transport status (400 malformed, 413 too large, 415 wrong content type).
    Body {
        /// 400, 413 or 415.
        status: StatusCode,
        /// What was wrong, fit to show.
        message: String,
    },
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

    /// An infrastructure failure.
    pub fn internal(error: impl StdError + Send + Sync + 'static) -> Self {
        Self::Internal(Arc::new(error))
    }

    /// The code, or `None` for an internal failure.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Refused { code, .. } => Some(*code),
            Self::Body { .. } => Some(ErrorCode::ValidationFailed),
            Self::Internal(_) => None,
        }
    }

    /// The status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Refused { code, .. } => status_for(*code),
            Self::Body { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message fit to show (a generic one for an internal failure).
    pub fn message(&self) -> &str {
        match self {
            Self::Refused { message, .. } | Self::Body { message, .. } => message,
            Self::Internal(_) => INTERNAL_MESSAGE,
        }
    }

    /// For `password_rejected`: the reasons.
    pub fn reasons(&self) -> &[Reason] {
        match self {
            Self::Refused { reasons, .. } => reasons,
            _ => &[],
        }
    }
}

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
                    })
                    .collect();
                Self::Refused {
                    code: refusal.code(),
                    message: refusal.to_string(),
                    reasons,
                }
            }
            ServiceError::Infrastructure(infra) => Self::Internal(Arc::new(infra)),
        }
    }
}

/// What a 500 says to the user.
pub(crate) const INTERNAL_MESSAGE: &str =
    "Something went wrong on our side. Please try again in a moment.";

#[derive(Serialize)]
struct Body<'a> {
    error: BodyError<'a>,
}

#[derive(Serialize)]
struct BodyError<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    reasons: &'a [Reason],
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

/// How an internal failure is answered once the request id is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailureFormat {
    Json,
    Html,
}

/// Carried on a 500 response until [`report_internal_errors`] logs it and
/// writes the body with the request id.
#[derive(Clone)]
pub(crate) struct InternalFailure {
    pub(crate) error: Arc<dyn StdError + Send + Sync + 'static>,
    pub(crate) format: FailureFormat,
}

impl InternalFailure {
    pub(crate) fn response(self) -> Response {
        let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

pub(crate) fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            bytes,
        )
            .into_response(),
        Err(error) => InternalFailure {
            error: Arc::new(error),
            format: FailureFormat::Json,
        }
        .response(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(code) = self.code() {
            metrics::counter!("portal_http_refusals_total", "code" => code.as_str()).increment(1);
        }
        match self {
            Self::Internal(error) => InternalFailure {
                error,
                format: FailureFormat::Json,
            }
            .response(),
            other => {
                let code = other.code().unwrap_or(ErrorCode::ValidationFailed);
                let status = other.status();
                let mut response = json_response(
                    status,
                    &Body {
                        error: BodyError {
                            code: code.as_str(),
                            message: other.message(),
                            reasons: other.reasons(),
                            request_id: None,
                        },
                    },
                );
                if code == ErrorCode::Unauthenticated {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                }
                response
            }
        }
    }
}

/// The request id of a request: its `x-request-id` header (set by the
/// host's request-id layer), or a fresh one.
pub(crate) fn request_id_of(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The cause chain of an error, one line: `a: b: c`.
pub(crate) fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Middleware: logs an internal failure with its cause chain and the
/// request id, and answers a body that carries only the request id.
pub(crate) async fn report_internal_errors(request: Request, next: Next) -> Response {
    let request_id = request_id_of(request.headers());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let Some(failure) = response.extensions_mut().remove::<InternalFailure>() else {
        return response;
    };
    metrics::counter!("portal_http_internal_errors_total").increment(1);
    tracing::error!(
        request_id = %request_id,
        %method,
        path = %path,
        error = %chain(failure.error.as_ref()),
        "request failed"
    );
    let mut response = match failure.format {
        FailureFormat::Json => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &Body {
                error: BodyError {
                    code: "internal_error",
                    message: INTERNAL_MESSAGE,
                    reasons: &[],
                    request_id: Some(&request_id),
                },
            },
        ),
        FailureFormat::Html => crate::pages::internal_error_page(&request_id),
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_client_error_status_except_mailer_not_configured() {
        use ErrorCode::*;
        for code in [
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
            RateLimited,
            NotFound,
            Unauthenticated,
            ValidationFailed,
        ] {
            assert!(status_for(code).is_client_error(), "{code:?}");
        }
        assert_eq!(
            status_for(MailerNotConfigured),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn the_cause_chain_is_joined_for_the_log() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let error = Outer(std::io::Error::other("disk on fire"));
        assert_eq!(chain(&error), "outer: disk on fire");
    }

    #[test]
    fn an_internal_error_shows_no_internal_text() {
        let error = ApiError::internal(std::io::Error::other("password=hunter2 at db:5432"));
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!error.message().contains("hunter2"));
        assert_eq!(error.code(), None);
    }
}
