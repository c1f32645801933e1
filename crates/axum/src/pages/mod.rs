//! The server-rendered portal pages: no JavaScript, CSRF-protected forms,
//! errors next to their fields, POST-redirect-GET after every success.
//!
//! By concern:
//! - [`render`]: the page skeleton ([`render::Page`]), the stylesheet, the
//!   error page and [`render::answer`], the one way a service call becomes a
//!   page (the success, a form again with the refusal, or another page);
//! - [`form`]: the extractors every POST goes through ([`form::CsrfForm`]
//!   before sign-in, [`form::SessionForm`] signed in): the body within its
//!   limit, the origin check and the CSRF token, their rejection being the
//!   error page; and [`form::SignedIn`] for the signed-in GET pages;
//! - [`sign_in`]: sign-in, sign-out, forgot password;
//! - [`links`]: the pages of mailed links (reset password, invitation,
//!   "this wasn't me", a fresh invitation);
//! - [`account`]: the signed-in pages (home, username, password).
//!
//! Every word a page shows is in its template (`templates/`), none here:
//! the handlers pass codes (`message`, `code`, `kind`), the templates say
//! them.
//!
//! Opening a link page (GET or HEAD) only calls
//! [`open_link`](portal_access_core::service::PortalService::open_link),
//! which records the opening and never consumes the token: mail scanners
//! prefetch links. Only the form's POST uses it.
//!
//! A client whose password was set by staff (`must_change_password`) is
//! taken to the password page from every other signed-in page until they
//! choose their own.

mod account;
mod form;
mod links;
mod render;
mod sign_in;

use axum::extract::{DefaultBodyLimit, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{middleware, Router};

use crate::failure::report_internal_errors;
use crate::headers::page_headers;
use crate::state::PortalHttp;

pub(crate) fn router(state: PortalHttp) -> Router {
    let p = state
        .service()
        .config()
        .portal_path
        .trim_end_matches('/')
        .to_owned();
    let mut router = Router::new()
        .route(&format!("{p}/"), get(account::home))
        .route(
            &format!("{p}/sign-in"),
            get(sign_in::sign_in_page).post(sign_in::sign_in),
        )
        .route(&format!("{p}/sign-out"), post(sign_in::sign_out))
        .route(
            &format!("{p}/forgot-password"),
            get(sign_in::forgot_page).post(sign_in::forgot),
        )
        .route(
            &format!("{p}/reset-password"),
            get(links::reset_page).post(links::reset),
        )
        .route(
            &format!("{p}/invitation"),
            get(links::invitation_page).post(links::accept_invitation),
        )
        .route(
            &format!("{p}/invitation/fresh"),
            post(links::fresh_invitation),
        )
        .route(
            &format!("{p}/not-me"),
            get(links::not_me_page).post(links::not_me),
        )
        .route(
            &format!("{p}/username"),
            get(account::username_page).post(account::change_username),
        )
        .route(
            &format!("{p}/password"),
            get(account::password_page).post(account::change_password),
        )
        .route(&format!("{p}/static/portal.css"), get(render::stylesheet));
    if !p.is_empty() {
        router = router.route(&p, get(to_home));
    }
    router
        .layer(DefaultBodyLimit::max(state.body_limit()))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            report_internal_errors,
        ))
        .layer(middleware::from_fn(page_headers))
        .with_state(state)
}

async fn to_home(State(http): State<PortalHttp>) -> Response {
    render::see_other(&http, "/")
}
