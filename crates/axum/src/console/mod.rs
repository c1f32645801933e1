//! The staff console (SPEC.md section 12): server-rendered staff pages in
//! the portal's look, working without JavaScript, every form
//! CSRF-protected, behind the same staff authentication as the staff API.
//!
//! Pages, under [`CONSOLE_PATH`] (`/staff/console`):
//! - `/` finds accounts by email, username or contact reference, a page at
//!   a time, each with its badges (access, invitation, archived);
//! - `/accounts/new` creates an account and invites it in one form;
//! - `/accounts/{id}` the account: its state, the actions that apply now as
//!   buttons (each a form posting to `/accounts/{id}/<action>`), the
//!   delivery timeline of its mail with the openings of its links, and its
//!   audit events;
//! - `/human-verification` the CAPTCHA staff pass after many reset links,
//!   with the configured provider's widget; it returns to the account that
//!   asked for it;
//! - `/sign-in` and `/sign-out`: for hosts whose staff authenticate with a
//!   bearer token (portal-server), the token is given once in a form and a
//!   console cookie follows (see [`auth`]).
//!
//! Every refusal is shown as a sentence that says what to do (the words are
//! in `templates/console/`); every change form carries the account version
//! it was read at, so a change made after another staff member's is refused
//! (`stale_version`) and nothing is changed.
//!
//! By concern: [`auth`] (who is at the console), [`render`] (templates,
//! the page skeleton, the extractors and their rejections), [`accounts`]
//! (find, create, the account page), [`actions`] (the account's buttons),
//! [`verification`] (human verification).

mod accounts;
mod actions;
pub(crate) mod auth;
mod options;
mod render;
mod state;
mod templates;
mod verification;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

pub use self::options::{CaptchaWidget, ConsoleOptions};
pub use self::state::CONSOLE_PATH;
use self::state::{at, Console, Inner};
use self::templates::ConsoleTemplates;
use crate::headers::{self, PAGE_CSP};
use crate::state::PortalHttp;

pub(crate) fn router(http: PortalHttp, options: ConsoleOptions) -> Router {
    let console = Console {
        http: http.clone(),
        inner: Arc::new(Inner {
            templates: ConsoleTemplates::builtin(
                http.service().locales().clone(),
                http.service().config().time_zone.clone(),
            ),
            options,
        }),
    };
    let routes = Router::new()
        .route(CONSOLE_PATH, get(accounts::find))
        .route(&at("/"), get(accounts::find))
        .route(
            &at("/sign-in"),
            get(accounts::sign_in_page).post(accounts::sign_in),
        )
        .route(&at("/sign-out"), post(accounts::sign_out))
        .route(&at("/accounts/new"), get(accounts::new_account_page))
        .route(&at("/accounts"), post(accounts::create))
        .route(&at("/accounts/{id}"), get(accounts::account_page))
        .route(&at("/accounts/{id}/{action}"), post(actions::act))
        .route(
            &at("/human-verification"),
            get(verification::page).post(verification::pass),
        )
        .route(
            &at("/static/portal.css"),
            get(crate::pages::render::stylesheet),
        )
        .with_state::<PortalHttp>(console);
    headers::finish(routes, http, PAGE_CSP)
}
