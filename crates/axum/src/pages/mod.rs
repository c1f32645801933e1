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
//! - [`account`]: the signed-in pages (home with the language of the
//!   client's mail, username, password);
//! - [`second_factor`]: the second-factor step of a sign-in (the code,
//!   "email me a code", the enrolment a `required` policy leads to);
//! - [`factors`]: the signed-in security page (add, remove, recovery
//!   codes) and the QR and recovery-code pages enrolment shares;
//! - [`trust`]: the security page's sessions and remembered devices (end
//!   one session or every other one, forget one device or all).
//!
//! Every word a page shows is a Fluent message (`locales/*/portal.ftl`)
//! in the request's language ([`crate::language`]: the switch `?lang=`,
//! its cookie, `Accept-Language`): the templates say them with `t()`, the
//! handlers pass codes (`message`, `code`, `kind`), and a refusal next to
//! a field is its [`message_key`](portal_access_core::workflow::Refusal::message_key)'s
//! sentence, said when the page is rendered.
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
mod factors;
mod form;
mod links;
pub(crate) mod render;
mod second_factor;
mod sign_in;
mod trust;

use axum::extract::State;
use axum::middleware;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use self::account::{
    change_password, change_username, home, password_page, set_language, username_page,
};
use self::links::{
    accept_invitation, fresh_invitation, invitation_page, not_me, not_me_page, reset, reset_page,
};
use self::sign_in::{forgot, forgot_page, sign_in, sign_in_page, sign_out};
use crate::headers::{self, PAGE_CSP};
use crate::language;
use crate::state::PortalHttp;

pub(crate) fn router(state: PortalHttp) -> Router {
    let p = state
        .service()
        .config()
        .portal_path
        .trim_end_matches('/')
        .to_owned();
    let at = |page: &str| format!("{p}{page}");
    let mut router = Router::new()
        .route(&at("/"), get(home))
        .route(&at("/sign-in"), get(sign_in_page).post(sign_in))
        .route(&at("/sign-out"), post(sign_out))
        .route(&at("/forgot-password"), get(forgot_page).post(forgot))
        .route(&at("/reset-password"), get(reset_page).post(reset))
        .route(
            &at("/invitation"),
            get(invitation_page).post(accept_invitation),
        )
        .route(&at("/invitation/fresh"), post(fresh_invitation))
        .route(&at("/not-me"), get(not_me_page).post(not_me))
        .route(&at("/username"), get(username_page).post(change_username))
        .route(&at("/password"), get(password_page).post(change_password))
        .route(&at("/language"), post(set_language))
        .route(
            &at("/sign-in/second-factor"),
            get(second_factor::code_page).post(second_factor::complete),
        )
        .route(&at("/sign-in/email-code"), post(second_factor::email_code))
        .route(&at("/sign-in/enrol"), get(second_factor::enrol_page))
        .route(&at("/sign-in/enrol/totp"), post(second_factor::enrol_totp))
        .route(
            &at("/sign-in/enrol/totp/confirm"),
            post(second_factor::enrol_totp_confirm),
        )
        .route(
            &at("/sign-in/enrol/email"),
            post(second_factor::enrol_email),
        )
        .route(&at("/security"), get(factors::security))
        .route(&at("/security/totp"), post(factors::start_totp))
        .route(&at("/security/totp/confirm"), post(factors::confirm_totp))
        .route(&at("/security/email"), post(factors::add_email))
        .route(&at("/security/remove"), post(factors::remove))
        .route(
            &at("/security/recovery-codes"),
            post(factors::recovery_codes),
        )
        .route(
            &at("/security/sessions/revoke"),
            post(trust::revoke_session),
        )
        .route(
            &at("/security/sessions/revoke-others"),
            post(trust::revoke_others),
        )
        .route(&at("/security/devices/forget"), post(trust::forget_device))
        .route(
            &at("/security/devices/forget-all"),
            post(trust::forget_devices),
        )
        .route(&at("/static/portal.css"), get(render::stylesheet));
    if !p.is_empty() {
        router = router.route(&p, get(to_home));
    }
    let router = router.layer(middleware::from_fn_with_state(
        state.clone(),
        language::pick_for_pages,
    ));
    headers::finish(router, state, PAGE_CSP)
}

async fn to_home(State(http): State<PortalHttp>) -> Response {
    render::see_other(&http, "/")
}
