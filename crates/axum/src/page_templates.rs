//! The portal pages' templates (minijinja, HTML auto-escaped): the
//! built-ins, each of which the host may override by name.
//!
//! Every page extends `layout.html`; every page gets these variables:
//! `lang` (the page's language, e.g. `es`), `languages` (those the
//! switch offers), `switch` (its link but `lang=<tag>`: `?`, or the page's
//! query and `&`), `tz` (the firm's time zone), `product_name`, `base`
//! (the portal's path, e.g. `/portal`), `css_url`,
//! `signed_in` (bool), `csrf_token` (the token of the page's forms),
//! `password_min` (the policy's minimum length),
//! `errors` (field name -> message; `form` for the whole form),
//! `error_codes` (field name -> the refusal's stable code), `values`
//! (what the user typed, never a password) and `reasons` (why a password
//! was refused). Page-specific variables are listed in [`PAGES`].
//!
//! Words are Fluent messages in `lang`: `t("key", name=value)` (the
//! shipped ones in `locales/*/portal.ftl`, which a host overrides with
//! [`Locales::with_dir`]), and `value | when` writes an RFC 3339 time for
//! `lang` in `tz`.
//!
//! ```
//! use portal_access_axum::PageTemplates;
//!
//! let pages = PageTemplates::builtin()
//!     .with_override(
//!         "home.html",
//!         r#"{% extends "layout.html" %}{% block content %}<h1>Hello {{ username or email }}</h1>{% endblock %}"#,
//!     )
//!     .expect("a known page that compiles");
//! assert!(pages.validate().is_ok());
//! assert!(PageTemplates::builtin().with_override("nope.html", "x").is_err());
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::Environment;
/// `t()` and `| when` (see [`add_language_functions`]); shared with mail and the console.
pub(crate) use portal_access_core::i18n::add_language_functions;
use portal_access_core::i18n::{Locales, DEFAULT_LANGUAGE};
use serde::Serialize;

/// Every page template, and the variables it gets besides the common ones.
pub const PAGES: &[(&str, &str)] = &[
    ("layout.html", "the frame: blocks `title` and `content`"),
    ("macros.html", "the `field` and `csrf` macros the forms use"),
    ("sign_in.html", "values.login"),
    ("forgot_password.html", "values.email"),
    (
        "reset_password.html",
        "token, email (posted back as `username`)",
    ),
    (
        "invitation.html",
        "token, email (posted back as `email`), values.username",
    ),
    (
        "link_invalid.html",
        "kind (invitation | password_reset | not_me), token, fresh_invitation_available",
    ),
    ("home.html", "username, email, must_change_password, done, factors [{kind, created_at, last_used_at}], language (the tag of the client's mail, or null), languages (the tags the portal speaks)"),
    ("username.html", "username, values.username"),
    ("password.html", "must_change_password"),
    ("not_me.html", "token, email"),
    (
        "second_factor.html",
        "methods (offered, comma-separated), method (totp | recovery_code | email_code), email_code, recovery_code, done (sent), remember_days (0: no \"remember this device\" box)",
    ),
    ("enrol.html", "methods, totp, email_code (the factors that can be set up)"),
    (
        "totp.html",
        "action, methods, qr_svg (inline SVG), secret (base32), otpauth_uri",
    ),
    ("recovery_codes.html", "codes"),
    (
        "security.html",
        "policy (off | optional | required | required_from), allowed, factors [{kind, created_at, last_used_at}], recovery_codes_left, remember_device_days, sessions [{id, created_at, last_seen_at, ip, location, os, browser, current}], devices [{id, created_at, expires_at, ip, location, os, browser}], done",
    ),
    (
        "message.html",
        "message (signed_out | reset_link_sent | fresh_invitation_sent | account_secured)",
    ),
    (
        "error.html",
        "status, code (csrf_failed | validation_failed | any stable error code)",
    ),
];

/// The built-in source of each page of [`PAGES`], from `templates/`.
macro_rules! builtins {
    ($name:ident, $($page:literal),* $(,)?) => {
        match $name {
            $($page => Some(include_str!(concat!("../templates/", $page))),)*
            _ => None,
        }
    };
}

fn builtin_source(name: &str) -> Option<&'static str> {
    builtins!(
        name,
        "layout.html",
        "macros.html",
        "sign_in.html",
        "forgot_password.html",
        "reset_password.html",
        "invitation.html",
        "link_invalid.html",
        "home.html",
        "username.html",
        "password.html",
        "not_me.html",
        "second_factor.html",
        "enrol.html",
        "totp.html",
        "recovery_codes.html",
        "security.html",
        "message.html",
        "error.html",
    )
}

/// A page template that does not exist, compile or render.
#[derive(Debug, thiserror::Error)]
pub enum PageTemplateError {
    /// No page of this name.
    #[error("there is no page template named {0:?}")]
    Unknown(String),
    /// The template does not compile or render.
    #[error("page template {name}")]
    Template {
        /// Which.
        name: String,
        /// Why.
        #[source]
        source: minijinja::Error,
    },
}

/// The page templates: the built-ins, with the host's overrides, and the
/// language functions (`t`, `when`) of the service's locales.
#[derive(Clone)]
pub struct PageTemplates {
    overrides: BTreeMap<String, String>,
    locales: Arc<Locales>,
    default_tz: jiff::tz::TimeZone,
    env: Arc<Environment<'static>>,
}

impl std::fmt::Debug for PageTemplates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageTemplates")
            .field("overridden", &self.overrides.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Default for PageTemplates {
    fn default() -> Self {
        Self::builtin()
    }
}

impl PageTemplates {
    /// The built-in pages.
    #[allow(
        clippy::expect_used,
        reason = "the built-ins are compiled in and tested by `the_built_in_pages_render`"
    )]
    pub fn builtin() -> Self {
        let overrides = BTreeMap::new();
        let locales = Arc::new(Locales::builtin());
        let default_tz = jiff::tz::TimeZone::UTC;
        let env = Arc::new(
            build_env(&overrides, &locales, &default_tz)
                .expect("the built-in page templates compile"),
        );
        Self {
            overrides,
            locales,
            default_tz,
            env,
        }
    }

    /// The same pages speaking the service's `locales`, times in
    /// `default_tz` when a page names no time zone.
    pub(crate) fn speaking(
        mut self,
        locales: Arc<Locales>,
        default_tz: jiff::tz::TimeZone,
    ) -> Result<Self, PageTemplateError> {
        self.env = Arc::new(build_env(&self.overrides, &locales, &default_tz)?);
        self.locales = locales;
        self.default_tz = default_tz;
        Ok(self)
    }

    /// Replaces the page `name` (one of [`PAGES`]) with `source`. Fails if
    /// the name is unknown or the source does not compile.
    pub fn with_override(
        mut self,
        name: &str,
        source: impl Into<String>,
    ) -> Result<Self, PageTemplateError> {
        if builtin_source(name).is_none() {
            return Err(PageTemplateError::Unknown(name.to_owned()));
        }
        self.overrides.insert(name.to_owned(), source.into());
        self.env = Arc::new(build_env(&self.overrides, &self.locales, &self.default_tz)?);
        Ok(self)
    }

    /// Renders every page with sample values: an override that fails is
    /// found at start, not in front of a client.
    pub fn validate(&self) -> Result<(), PageTemplateError> {
        let mut sample = serde_json::json!({
            "lang": DEFAULT_LANGUAGE,
            "languages": self.locales.languages().collect::<Vec<_>>(),
            "tz": "UTC",
            "switch": "?token=sample&",
            "product_name": "Client portal",
            "base": "/portal",
            "css_url": "/portal/static/portal.css",
            "signed_in": true,
            "csrf_token": "sample",
            "password_min": 15,
            "errors": {"form": "Sample error.", "password": "Sample error."},
            "error_codes": {"form": "rate_limited", "password": "password_rejected"},
            "values": {"login": "ann", "email": "ann@example.com", "username": "ann"},
            "reasons": [{"code": "too_short", "message": "Use at least 15 characters."}],
            "token": "sample",
            "email": "ann@example.com",
            "username": "ann",
            "must_change_password": true,
            "done": "password",
            "kind": "invitation",
            "fresh_invitation_available": true,
            "message": "signed_out",
            "status": 403,
            "code": "csrf_failed",
            "methods": "totp,recovery_code,email_code",
            "method": "totp",
            "totp": true,
            "email_code": true,
            "recovery_code": true,
            "action": "/security/totp/confirm",
            "qr_svg": "<svg role=\"img\"></svg>",
            "secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            "otpauth_uri": "otpauth://totp/Client%20portal:ann@example.com?secret=GEZDGNBV",
            "codes": ["ABCDE23456", "FGHJK23456"],
            "policy": "required",
            "allowed": ["totp", "email_code"],
            "factors": [{"kind": "totp", "created_at": "2026-12-05T10:00:00Z", "last_used_at": null}],
            "recovery_codes_left": 10,
            "remember_days": 30,
            "remember_device_days": 30,
        });
        sample["language"] = "es".into();
        sample["sessions"] = serde_json::json!([{
            "id": "0123456789abcdef0123456789abcdef", "created_at": "2026-12-05T10:00:00Z",
            "last_seen_at": "2026-12-05T10:05:00Z", "ip": "203.0.113.9",
            "location": "Lyon, France", "os": "Linux", "browser": "Firefox 121.0", "current": true,
        }]);
        sample["devices"] = serde_json::json!([{
            "id": "fedcba9876543210fedcba9876543210", "created_at": "2026-12-05T10:00:00Z",
            "expires_at": "2027-01-04T10:00:00Z", "ip": null, "location": null, "os": null,
            "browser": null,
        }]);
        for (name, _) in PAGES {
            self.render(name, &sample)?;
        }
        Ok(())
    }

    /// Renders the page `name`.
    pub(crate) fn render(
        &self,
        name: &str,
        context: &impl Serialize,
    ) -> Result<String, PageTemplateError> {
        let template =
            self.env
                .get_template(name)
                .map_err(|source| PageTemplateError::Template {
                    name: name.to_owned(),
                    source,
                })?;
        template
            .render(context)
            .map_err(|source| PageTemplateError::Template {
                name: name.to_owned(),
                source,
            })
    }
}

fn build_env(
    overrides: &BTreeMap<String, String>,
    locales: &Arc<Locales>,
    default_tz: &jiff::tz::TimeZone,
) -> Result<Environment<'static>, PageTemplateError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    add_language_functions(&mut env, locales.clone(), default_tz.clone());
    for (name, _) in PAGES {
        let source = match overrides
            .get(*name)
            .map(String::as_str)
            .or(builtin_source(name))
        {
            Some(source) => source.to_owned(),
            None => return Err(PageTemplateError::Unknown(name.to_string())),
        };
        env.add_template_owned(name.to_string(), source)
            .map_err(|source| PageTemplateError::Template {
                name: name.to_string(),
                source,
            })?;
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_pages_render() {
        PageTemplates::builtin().validate().unwrap();
    }

    #[test]
    fn values_are_html_escaped() {
        let html = PageTemplates::builtin()
            .render(
                "sign_in.html",
                &serde_json::json!({
                    "base": "/portal", "css_url": "/c.css", "product_name": "P",
                    "values": { "login": "<script>alert(1)</script>" },
                }),
            )
            .unwrap();
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
    }

    #[test]
    fn an_override_speaks_the_pages_language_with_t() {
        let pages = PageTemplates::builtin()
            .with_override(
                "home.html",
                r#"{% extends "layout.html" %}{% block content %}<h1>{{ t("home-title") }}</h1>{% endblock %}"#,
            )
            .unwrap();
        pages.validate().unwrap();
        let html = pages
            .render(
                "home.html",
                &serde_json::json!({ "lang": "es", "base": "/portal" }),
            )
            .unwrap();
        assert!(html.contains("<html lang=\"es\">"), "{html}");
        assert!(html.contains("<h1>Su cuenta</h1>"), "{html}");
    }

    #[test]
    fn an_override_that_does_not_compile_is_refused() {
        let error = PageTemplates::builtin()
            .with_override("home.html", "{% if %}")
            .unwrap_err();
        assert!(matches!(error, PageTemplateError::Template { .. }));
    }
}
