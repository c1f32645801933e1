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
mod render;
mod verification;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

use self::auth::ConsoleSessions;
use self::render::ConsoleTemplates;
use crate::headers::{self, PAGE_CSP};
use crate::state::PortalHttp;

/// Where the console's pages are.
pub const CONSOLE_PATH: &str = "/staff/console";

/// A CAPTCHA provider's widget, for the human verification page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptchaWidget {
    /// hCaptcha, with the site key.
    HCaptcha(String),
    /// Google reCAPTCHA v2 (checkbox), with the site key.
    Recaptcha(String),
    /// Cloudflare Turnstile, with the site key.
    Turnstile(String),
}

impl CaptchaWidget {
    /// The site key.
    pub fn site_key(&self) -> &str {
        match self {
            Self::HCaptcha(key) | Self::Recaptcha(key) | Self::Turnstile(key) => key,
        }
    }

    /// `hcaptcha`, `recaptcha` or `turnstile` (what the template shows).
    pub fn provider(&self) -> &'static str {
        match self {
            Self::HCaptcha(_) => "hcaptcha",
            Self::Recaptcha(_) => "recaptcha",
            Self::Turnstile(_) => "turnstile",
        }
    }

    /// The widget's script.
    pub(crate) fn script(&self) -> &'static str {
        match self {
            Self::HCaptcha(_) => "https://js.hcaptcha.com/1/api.js",
            Self::Recaptcha(_) => "https://www.google.com/recaptcha/api.js",
            Self::Turnstile(_) => "https://challenges.cloudflare.com/turnstile/v0/api.js",
        }
    }

    /// The Content-Security-Policy of the page that shows the widget: the
    /// provider's script and frames, nothing else.
    pub(crate) fn csp(&self) -> &'static str {
        match self {
            Self::HCaptcha(_) => {
                "default-src 'none'; style-src 'self' https://hcaptcha.com https://*.hcaptcha.com; \
                 img-src 'self'; script-src https://js.hcaptcha.com https://*.hcaptcha.com; \
                 frame-src https://hcaptcha.com https://*.hcaptcha.com; \
                 connect-src https://hcaptcha.com https://*.hcaptcha.com; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            }
            Self::Recaptcha(_) => {
                "default-src 'none'; style-src 'self'; img-src 'self'; \
                 script-src https://www.google.com/recaptcha/ https://www.gstatic.com/recaptcha/; \
                 frame-src https://www.google.com/recaptcha/ https://recaptcha.google.com/recaptcha/; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            }
            Self::Turnstile(_) => {
                "default-src 'none'; style-src 'self'; img-src 'self'; \
                 script-src https://challenges.cloudflare.com; \
                 frame-src https://challenges.cloudflare.com; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            }
        }
    }
}

/// What the console needs besides the portal's own configuration.
///
/// ```
/// use portal_access_axum::{CaptchaWidget, ConsoleOptions};
///
/// let options = ConsoleOptions::default()
///     .captcha_widget(CaptchaWidget::Turnstile("0x4AAAAAAA-site-key".into()));
/// assert_eq!(options.widget().unwrap().provider(), "turnstile");
/// ```
#[derive(Debug, Clone, Default)]
pub struct ConsoleOptions {
    widget: Option<CaptchaWidget>,
}

impl ConsoleOptions {
    /// The widget the human verification page shows (it must be the
    /// provider the service's [`CaptchaVerifier`](portal_access_core::CaptchaVerifier)
    /// checks with). Without one the page says that no check is configured.
    pub fn captcha_widget(mut self, widget: CaptchaWidget) -> Self {
        self.widget = Some(widget);
        self
    }

    /// The configured widget.
    pub fn widget(&self) -> Option<&CaptchaWidget> {
        self.widget.as_ref()
    }
}

/// The console's state: the portal's, its sign-ins, its templates.
#[derive(Clone)]
pub(crate) struct Console {
    http: PortalHttp,
    inner: Arc<Inner>,
}

struct Inner {
    sessions: ConsoleSessions,
    templates: ConsoleTemplates,
    options: ConsoleOptions,
}

impl Console {
    pub(crate) fn http(&self) -> &PortalHttp {
        &self.http
    }

    pub(crate) fn sessions(&self) -> &ConsoleSessions {
        &self.inner.sessions
    }

    pub(crate) fn templates(&self) -> &ConsoleTemplates {
        &self.inner.templates
    }

    pub(crate) fn options(&self) -> &ConsoleOptions {
        &self.inner.options
    }
}

/// A console path: `CONSOLE_PATH` + `page`.
pub(crate) fn at(page: &str) -> String {
    format!("{CONSOLE_PATH}{page}")
}

pub(crate) fn router(http: PortalHttp, options: ConsoleOptions) -> Router {
    let console = Console {
        http: http.clone(),
        inner: Arc::new(Inner {
            sessions: ConsoleSessions::default(),
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
