//! Security headers of the portal pages and APIs.
//!
//! Every page: `X-Content-Type-Options: nosniff`, the restrictive
//! [`PAGE_CSP`], `X-Frame-Options: DENY`. Pages carry CSRF tokens, personal
//! data or link tokens, so every page is also `Cache-Control: no-store` and
//! `Referrer-Policy: no-referrer` (a token in the URL never leaks through a
//! `Referer`). The stylesheet is the exception: public and long-cached.
//!
//! When the public URL is https, every answer also carries
//! `Strict-Transport-Security` ([`Hsts`](crate::Hsts)); over plain http never (a browser
//! ignores it there, and a portal reached by http has no https to pin).

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;

use crate::failure::report_internal_errors;
use crate::state::PortalHttp;

/// The Content-Security-Policy of every page: no script at all, styles and
/// images only from the portal, forms only to the portal, never framed.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The Content-Security-Policy of JSON answers: nothing may load from them.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// What [`security_headers`] adds to an answer.
#[derive(Clone)]
struct SecurityHeaders {
    csp: &'static str,
    /// `Strict-Transport-Security`, when the public URL is https.
    hsts: Option<HeaderValue>,
}

/// Middleware: the security headers of every answer, with its CSP
/// ([`PAGE_CSP`] or [`API_CSP`]) and, over https, HSTS; a handler's own
/// value wins.
async fn security_headers(
    State(SecurityHeaders { csp, hsts }): State<SecurityHeaders>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if let Some(hsts) = hsts {
        response
            .headers_mut()
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(hsts);
    }
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CONTENT_SECURITY_POLICY, csp),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        response
            .headers_mut()
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// The layers of every router: the body limit, the report of internal
/// failures (with the request id) and the security headers with `csp`.
pub(crate) fn finish(router: Router<PortalHttp>, state: PortalHttp, csp: &'static str) -> Router {
    let headers = SecurityHeaders {
        csp,
        hsts: state.strict_transport_security().cloned(),
    };
    router
        .layer(DefaultBodyLimit::max(state.body_limit()))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            report_internal_errors,
        ))
        .layer(middleware::from_fn_with_state(headers, security_headers))
        .with_state(state)
}
