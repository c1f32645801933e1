//! Infrastructure failures: answered 500 with a generic message and a
//! request id, logged under that id with their cause chain, never shown.
//!
//! A handler answers [`InternalFailure::response`]; the middleware
//! [`report_internal_errors`] logs it and writes the body (JSON for the
//! APIs, a minimal HTML page for the portal pages) with the request id.

use std::error::Error as StdError;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use portal_access_core::PasswordReason;
use serde::Serialize;
use utoipa::ToSchema;

use portal_access_core::i18n::DEFAULT_LANGUAGE;

use crate::state::PortalHttp;

/// What a 500 says to the user.
pub(crate) const INTERNAL_MESSAGE: &str =
    "Something went wrong on our side. Please try again in a moment.";

/// What a 503 says to the user.
pub(crate) const UNAVAILABLE_MESSAGE: &str =
    "The service is briefly unavailable and nothing was changed. Please try again in a moment.";

/// The language of the page whose answer is an [`InternalFailure`] (set by
/// the pages' language middleware), so the failure page speaks it.
#[derive(Debug, Clone)]
pub(crate) struct FailureLanguage(pub(crate) String);

/// One reason a password was refused, for the `reasons` array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Reason {
    /// Stable code (`too_short`, `common`, ...).
    pub code: &'static str,
    /// A sentence for a person.
    pub message: String,
    /// The reason itself (its limit), for the page's sentence in its
    /// language.
    #[serde(skip)]
    pub(crate) reason: PasswordReason,
}

/// The JSON body of every refusal and failure of the APIs:
/// `{"error": {"code", "message", ...}}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// What went wrong.
    pub(crate) error: ErrorDetail,
}

/// What went wrong: the `error` of an `ErrorBody`.
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorDetail {
    /// The stable code: what a program decides on (the document's
    /// `ErrorCode` schema lists every one).
    pub(crate) code: &'static str,
    /// A message fit to show.
    pub(crate) message: String,
    /// For `password_rejected`: every reason the password was refused.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub(crate) reasons: Vec<Reason>,
    /// For `internal_error` and `service_unavailable`: the id the failure
    /// was logged under (also the `x-request-id` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub(crate) request_id: Option<String>,
}

/// The status, code and message of a failure's answer; its cause is only
/// logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FailureAnswer {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: &'static str,
    /// Answered with `Retry-After: 1`, logged as a warning: the database
    /// was unavailable for now.
    pub(crate) retry: bool,
}

impl FailureAnswer {
    /// 500 `internal_error`.
    pub(crate) const INTERNAL: Self = Self {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        code: "internal_error",
        message: INTERNAL_MESSAGE,
        retry: false,
    };
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
    pub(crate) answer: FailureAnswer,
}

impl InternalFailure {
    pub(crate) fn response(self) -> Response {
        let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// A JSON answer (`no-store`); a body that does not serialize is an
/// internal failure.
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
            answer: FailureAnswer::INTERNAL,
        }
        .response(),
    }
}

/// The request id of a request: its `x-request-id` header (set by the
/// host's request-id layer), or a fresh one from the random source.
pub(crate) fn request_id_of(headers: &axum::http::HeaderMap, http: &PortalHttp) -> String {
    match headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
    {
        Some(id) => id.to_owned(),
        None => {
            let mut bytes = [0u8; 16];
            http.random().fill(&mut bytes);
            uuid::Builder::from_random_bytes(bytes)
                .into_uuid()
                .to_string()
        }
    }
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
pub(crate) async fn report_internal_errors(
    State(http): State<PortalHttp>,
    request: Request,
    next: Next,
) -> Response {
    let request_id = request_id_of(request.headers(), &http);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let Some(failure) = response.extensions_mut().remove::<InternalFailure>() else {
        return response;
    };
    let FailureAnswer {
        status,
        code,
        message,
        retry,
    } = failure.answer;
    if retry {
        metrics::counter!("portal_http_unavailable_total").increment(1);
        tracing::warn!(
            request_id = %request_id,
            %method,
            path = %path,
            error = %chain(failure.error.as_ref()),
            "request failed: the database is unavailable for now"
        );
    } else {
        metrics::counter!("portal_http_internal_errors_total").increment(1);
        tracing::error!(
            request_id = %request_id,
            %method,
            path = %path,
            error = %chain(failure.error.as_ref()),
            "request failed"
        );
    }
    let mut response = match failure.format {
        FailureFormat::Json => json_response(
            status,
            &ErrorBody {
                error: ErrorDetail {
                    code,
                    message: message.to_owned(),
                    reasons: Vec::new(),
                    request_id: Some(request_id.clone()),
                },
            },
        ),
        FailureFormat::Html => {
            let lang = response
                .extensions()
                .get::<FailureLanguage>()
                .map_or(DEFAULT_LANGUAGE, |l| l.0.as_str());
            let say = |key| http.service().locales().message(lang, key, &[]);
            let page = FailurePage {
                lang,
                title: say("failure-title"),
                message: say(if retry {
                    "failure-unavailable"
                } else {
                    "failure-internal"
                }),
                reference: say("failure-reference"),
            };
            internal_error_page(status, &page, &request_id)
        }
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    if retry {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// The words of the failure page, in the page's language.
struct FailurePage<'a> {
    lang: &'a str,
    title: String,
    message: String,
    reference: String,
}

/// The answer of an internal failure on a page. No template: a template
/// may be what failed, so this one page is written here.
fn internal_error_page(status: StatusCode, page: &FailurePage<'_>, request_id: &str) -> Response {
    let title = html_escape(&page.title);
    let body = format!(
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body><main>\
         <h1>{title}</h1><p>{}</p><p>{} <code>{}</code></p>\
         </main></body></html>\n",
        html_escape(page.lang),
        html_escape(&page.message),
        html_escape(&page.reference),
        html_escape(request_id)
    );
    (
        status,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_escaped_on_the_failure_page() {
        assert_eq!(html_escape("<a&\"'>"), "&lt;a&amp;&quot;&#39;&gt;");
    }

    #[test]
    fn the_cause_chain_is_joined_for_the_log() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let error = Outer(std::io::Error::other("disk on fire"));
        assert_eq!(chain(&error), "outer: disk on fire");
    }
}
