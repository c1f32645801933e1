//! Security headers of the portal pages and APIs.
//!
//! Every page: `X-Content-Type-Options: nosniff`, the restrictive
//! [`PAGE_CSP`], `X-Frame-Options: DENY`. Pages carry CSRF tokens, personal
//! data or link tokens, so every page is also `Cache-Control: no-store` and
//! `Referrer-Policy: no-referrer` (a token in the URL never leaks through a
//! `Referer`). The stylesheet is the exception: public and long-cached.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The Content-Security-Policy of every page: no script at all, styles and
/// images only from the portal, forms only to the portal, never framed.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The Content-Security-Policy of JSON answers: nothing may load from them.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

fn set_default(response: &mut Response, name: header::HeaderName, value: &'static str) {
    response
        .headers_mut()
        .entry(name)
        .or_insert(HeaderValue::from_static(value));
}

/// Middleware: the headers of every portal page.
pub(crate) async fn page_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    set_default(&mut response, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set_default(&mut response, header::CONTENT_SECURITY_POLICY, PAGE_CSP);
    set_default(&mut response, header::X_FRAME_OPTIONS, "DENY");
    set_default(&mut response, header::REFERRER_POLICY, "no-referrer");
    set_default(&mut response, header::CACHE_CONTROL, "no-store");
    response
}

/// Middleware: the headers of every JSON answer.
pub(crate) async fn api_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    set_default(&mut response, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set_default(&mut response, header::CONTENT_SECURITY_POLICY, API_CSP);
    set_default(&mut response, header::X_FRAME_OPTIONS, "DENY");
    set_default(&mut response, header::REFERRER_POLICY, "no-referrer");
    set_default(&mut response, header::CACHE_CONTROL, "no-store");
    response
}
