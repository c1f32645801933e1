//! Mail templates (minijinja): for every [`MessageKind`] a subject, a plain
//! text body and an HTML body.
//!
//! - The built-in set is compiled in (`templates/mail/` of this crate). The
//!   HTML bodies extend one small, email-safe `layout.html` (tables, inline
//!   styles) and use the helpers of `macros.html`.
//! - A host overrides any template by name, from a map
//!   ([`Templates::with_override`]) or a directory ([`Templates::from_dir`]);
//!   overrides are looked up first, in that order, then the built-ins.
//!   Names: `<kind>.subject.txt`, `<kind>.txt`, `<kind>.html`, `layout.html`,
//!   `macros.html`, where `<kind>` is [`MessageKind::as_str`].
//! - Undefined variables are errors (strict), so a typo in an override is
//!   caught by [`Templates::validate`] at start-up, not in a client's inbox.
//! - Values are HTML-escaped in `.html` templates only; subjects are
//!   rendered without escaping and collapsed to one line (CR, LF and other
//!   control characters become spaces), so no header can be injected.
//!
//! The variables each kind gets are listed in [`Templates::sample_vars`].
//!
//! Words are Fluent messages (`locales/<language>/mail.ftl`, see
//! [`crate::i18n`]): templates write `{{ t("mail-invitation-intro",
//! product=product_name) }}`, in the language of the variable `lang` (the
//! account's language; English when absent). Times are RFC 3339 values
//! written with `{{ link_expires_at | when }}`: for `lang`, in the time zone
//! `tz` (the firm's, an IANA name; UTC when absent). A host changes the
//! words by overriding messages ([`Locales::with_dir`]) or whole templates.
//!
//! ```
//! use portal_access_core::mail::Templates;
//! use portal_access_core::MessageKind;
//!
//! let templates = Templates::builtin()
//!     .with_override("invitation.subject.txt", "Welcome to {{ product_name }}, {{ recipient_name }}");
//! templates.validate().unwrap();
//! let mut vars = Templates::sample_vars(MessageKind::Invitation);
//! vars["recipient_name"] = "Ann\r\nBcc: x@example.com".into();
//! let rendered = templates.render(MessageKind::Invitation, &vars).unwrap();
//! assert_eq!(rendered.subject, "Welcome to Client portal, Ann Bcc: x@example.com");
//! assert!(rendered.html.contains("Set up my account"));
//!
//! vars["lang"] = "es".into();
//! vars["tz"] = "America/Chicago".into();
//! let spanish = Templates::builtin().render(MessageKind::Invitation, &vars).unwrap();
//! assert!(spanish.html.contains("Activar mi cuenta"));
//! assert!(spanish.text.contains("hasta el 9 mar 2026, 5:00 CDT"));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::i18n::{add_language_functions, Locales, TimeZone};
use crate::MessageKind;

/// A template failed to load, compile or render.
#[derive(Debug, thiserror::Error)]
#[error("template {name} failed")]
pub struct TemplateError {
    name: String,
    #[source]
    source: minijinja::Error,
}

impl TemplateError {
    fn new(name: impl Into<String>, source: minijinja::Error) -> Self {
        Self {
            name: name.into(),
            source,
        }
    }

    /// The template's name, e.g. `invitation.html`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject (one line).
    pub subject: String,
    /// Plain text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

macro_rules! builtin_set {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/mail/", $name)))),*]
    };
}

/// The built-in templates, by name.
const BUILTIN: &[(&str, &str)] = builtin_set![
    "layout.html",
    "macros.html",
    "invitation.subject.txt",
    "invitation.txt",
    "invitation.html",
    "reinvitation.subject.txt",
    "reinvitation.txt",
    "reinvitation.html",
    "password_reset.subject.txt",
    "password_reset.txt",
    "password_reset.html",
    "password_changed.subject.txt",
    "password_changed.txt",
    "password_changed.html",
    "username_changed.subject.txt",
    "username_changed.txt",
    "username_changed.html",
    "email_changed.subject.txt",
    "email_changed.txt",
    "email_changed.html",
    "no_account.subject.txt",
    "no_account.txt",
    "no_account.html",
    "account_secured.subject.txt",
    "account_secured.txt",
    "sign_in_code.subject.txt",
    "sign_in_code.txt",
    "sign_in_code.html",
    "factor_added.subject.txt",
    "factor_added.txt",
    "factor_added.html",
    "factor_removed.subject.txt",
    "factor_removed.txt",
    "factor_removed.html",
    "recovery_code_used.subject.txt",
    "recovery_code_used.txt",
    "recovery_code_used.html",
    "mfa_reset.subject.txt",
    "mfa_reset.txt",
    "mfa_reset.html",
    "account_secured.html",
];

fn builtin(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// Only plain file names may be looked up in an override directory.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// The mail template set: built-ins, with host overrides checked first.
/// Cheap to clone; compiled templates are cached.
#[derive(Clone)]
pub struct Templates {
    overrides: Arc<BTreeMap<String, String>>,
    dir: Option<PathBuf>,
    locales: Arc<Locales>,
    env: Arc<Environment<'static>>,
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Templates")
            .field("overrides", &self.overrides.keys().collect::<Vec<_>>())
            .field("dir", &self.dir)
            .finish()
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Templates {
    /// The built-in templates, with the shipped messages.
    pub fn builtin() -> Self {
        Self::assemble(BTreeMap::new(), None, Arc::new(Locales::builtin()))
    }

    /// The built-ins, overridden by the files of `dir` that carry a
    /// template's name (e.g. `dir/invitation.html`). Other files are ignored.
    pub fn from_dir(dir: impl AsRef<Path>) -> Self {
        Self::assemble(
            BTreeMap::new(),
            Some(dir.as_ref().to_path_buf()),
            Arc::new(Locales::builtin()),
        )
    }

    /// Overrides the template `name` with `source` (checked before the
    /// override directory and the built-ins).
    pub fn with_override(self, name: impl Into<String>, source: impl Into<String>) -> Self {
        let mut overrides = (*self.overrides).clone();
        overrides.insert(name.into(), source.into());
        Self::assemble(overrides, self.dir, self.locales)
    }

    /// The same templates speaking these messages (the service gives its
    /// own, with the host's, at build).
    pub fn with_locales(self, locales: Arc<Locales>) -> Self {
        Self::assemble((*self.overrides).clone(), self.dir, locales)
    }

    fn assemble(
        overrides: BTreeMap<String, String>,
        dir: Option<PathBuf>,
        locales: Arc<Locales>,
    ) -> Self {
        let overrides = Arc::new(overrides);
        let mut env = Environment::new();
        add_language_functions(&mut env, Arc::clone(&locales), TimeZone::UTC);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        env.set_formatter(|out, state, value| {
            // HTML-escape strings with the five characters that matter, so
            // URLs keep their slashes (an entity-encoded URL looks like
            // obfuscation to spam filters); everything else as minijinja does.
            if state.auto_escape() == AutoEscape::Html && !value.is_safe() {
                if let Some(text) = value.as_str() {
                    return out
                        .write_str(&escape_html(text))
                        .map_err(|_| minijinja::Error::from(ErrorKind::WriteFailure));
                }
            }
            minijinja::escape_formatter(out, state, value)
        });
        let loader_overrides = Arc::clone(&overrides);
        let loader_dir = dir.clone();
        env.set_loader(move |name| {
            if let Some(source) = loader_overrides.get(name) {
                return Ok(Some(source.clone()));
            }
            if let (Some(dir), true) = (&loader_dir, is_plain_name(name)) {
                let path = dir.join(name);
                match std::fs::read_to_string(&path) {
                    Ok(source) => return Ok(Some(source)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(minijinja::Error::new(
                            ErrorKind::InvalidOperation,
                            format!("cannot read template file {}", path.display()),
                        )
                        .with_source(e))
                    }
                }
            }
            Ok(builtin(name).map(str::to_owned))
        });
        Self {
            overrides,
            dir,
            locales,
            env: Arc::new(env),
        }
    }

    /// Every template name the set knows.
    pub fn names() -> impl Iterator<Item = &'static str> {
        BUILTIN.iter().map(|(name, _)| *name)
    }

    /// Checks the set: override names are known, the override directory
    /// exists, and every kind's templates compile and render with sample
    /// values (including absent optional values) in every language. Run at
    /// start-up by the service builder; it also warms the template cache.
    pub fn validate(&self) -> Result<(), TemplateError> {
        if let Some(unknown) = self.overrides.keys().find(|n| builtin(n).is_none()) {
            return Err(TemplateError::new(
                unknown.clone(),
                minijinja::Error::new(
                    ErrorKind::TemplateNotFound,
                    "no such template to override (see Templates::names)",
                ),
            ));
        }
        if let Some(dir) = &self.dir {
            if !dir.is_dir() {
                return Err(TemplateError::new(
                    dir.display().to_string(),
                    minijinja::Error::new(
                        ErrorKind::InvalidOperation,
                        "the template override directory does not exist",
                    ),
                ));
            }
        }
        for kind in MessageKind::ALL {
            for mut vars in samples(kind) {
                for lang in self.locales.languages() {
                    vars["lang"] = lang.into();
                    self.render(kind, &vars)?;
                }
            }
        }
        Ok(())
    }

    /// Renders `kind` with `vars` (a JSON object holding every variable
    /// the kind uses; absent optional values are `null`).
    pub fn render(
        &self,
        kind: MessageKind,
        vars: &serde_json::Value,
    ) -> Result<Rendered, TemplateError> {
        let kind = kind.as_str();
        let subject = self.render_one(&format!("{kind}.subject.txt"), vars)?;
        let text = self.render_one(&format!("{kind}.txt"), vars)?;
        let html = self.render_one(&format!("{kind}.html"), vars)?;
        Ok(Rendered {
            subject: one_line(&subject),
            text,
            html,
        })
    }

    fn render_one(&self, name: &str, vars: &serde_json::Value) -> Result<String, TemplateError> {
        self.env
            .get_template(name)
            .and_then(|template| template.render(vars))
            .map_err(|source| TemplateError::new(name, source))
    }

    /// Sample values of every variable `kind` gets (the service adds
    /// `product_name`, `recipient_name`, `recipient_email`, `portal_url`,
    /// `lang` (the account's language), `tz` (the firm's time zone), and
    /// `link` with `link_expires_at` when the message carries a link).
    /// Times are RFC 3339, for `| when`.
    pub fn sample_vars(kind: MessageKind) -> serde_json::Value {
        let mut vars = serde_json::json!({
            "product_name": "Client portal",
            "recipient_name": "Ann Client",
            "recipient_email": "ann.client@example.com",
            "portal_url": "https://portal.example.com/portal/",
            "lang": "en",
            "tz": "UTC",
        });
        let link = |page: &str| {
            serde_json::json!({
                "link": format!("https://portal.example.com/portal{page}?token=q0sbH0vOnfT4tY0e6jZ8kLm3nP5rS7uW9xY1zA2bC4d"),
                "link_expires_at": "2026-03-09T10:00:00Z",
            })
        };
        let extra = match kind {
            MessageKind::Invitation | MessageKind::Reinvitation => link("/invitation"),
            MessageKind::PasswordReset => link("/reset-password"),
            MessageKind::PasswordChanged => {
                let mut extra = link("/not-me");
                extra["reason"] = "reset".into();
                extra["changed_at"] = "2026-03-02T10:00:00Z".into();
                extra["ip"] = "203.0.113.9".into();
                extra["location"] = "Leeds, England, United Kingdom".into();
                extra["os"] = "Windows 10".into();
                extra["browser"] = "Firefox 121.0".into();
                extra["reset_url"] = "https://portal.example.com/portal/forgot-password".into();
                extra
            }
            MessageKind::UsernameChanged => serde_json::json!({
                "old_username": "ann.c",
                "new_username": "ann.client",
                "changed_at": "2026-03-02T10:00:00Z",
            }),
            MessageKind::EmailChanged => serde_json::json!({
                "old_email": "ann.client@example.com",
                "new_email": "ann@new.example",
                "changed_at": "2026-03-02T10:00:00Z",
            }),
            MessageKind::NoAccount => serde_json::json!({
                "forgot_url": "https://portal.example.com/portal/forgot-password",
            }),
            MessageKind::AccountSecured => serde_json::json!({
                "account_email": "ann.client@example.com",
                "account_id": "0b6f2a52-3c4e-4b8e-9a51-6f1f3c2d8e77",
                "secured_at": "2026-03-02T10:00:00Z",
                "ip": "203.0.113.9",
            }),
            MessageKind::SignInCode => serde_json::json!({
                "code": "042917",
                "expires_at": "2026-03-02T10:10:00Z",
            }),
            MessageKind::FactorAdded | MessageKind::FactorRemoved => {
                let mut extra = link("/not-me");
                extra["factor"] = "totp".into();
                extra["changed_at"] = "2026-03-02T10:00:00Z".into();
                extra
            }
            MessageKind::MfaReset => {
                let mut extra = link("/not-me");
                extra["changed_at"] = "2026-03-02T10:00:00Z".into();
                extra["enrolment_required"] = true.into();
                extra
            }
            MessageKind::RecoveryCodeUsed => {
                let mut extra = link("/not-me");
                extra["factor"] = "recovery_code".into();
                extra["changed_at"] = "2026-03-02T10:00:00Z".into();
                extra["codes_left"] = 9.into();
                extra
            }
        };
        if let (Some(vars), serde_json::Value::Object(extra)) = (vars.as_object_mut(), extra) {
            vars.extend(extra);
        }
        vars
    }
}

/// The samples [`Templates::validate`] renders: the full sample, and
/// variants with every optional value absent and every wording branch.
fn samples(kind: MessageKind) -> Vec<serde_json::Value> {
    let full = Templates::sample_vars(kind);
    let mut sparse = full.clone();
    sparse["recipient_name"] = serde_json::Value::Null;
    let mut out = vec![full.clone()];
    match kind {
        MessageKind::PasswordChanged => {
            for key in ["ip", "location", "os", "browser"] {
                sparse[key] = serde_json::Value::Null;
            }
            for reason in ["staff", "self"] {
                let mut v = full.clone();
                v["reason"] = reason.into();
                out.push(v);
            }
        }
        MessageKind::UsernameChanged => sparse["old_username"] = serde_json::Value::Null,
        MessageKind::AccountSecured => sparse["ip"] = serde_json::Value::Null,
        MessageKind::FactorAdded | MessageKind::FactorRemoved => {
            let mut v = full.clone();
            v["factor"] = "email_code".into();
            out.push(v);
        }
        MessageKind::Invitation
        | MessageKind::Reinvitation
        | MessageKind::PasswordReset
        | MessageKind::EmailChanged
        | MessageKind::NoAccount
        | MessageKind::SignInCode
        | MessageKind::RecoveryCodeUsed => {}
        MessageKind::MfaReset => {
            let mut v = full.clone();
            v["enrolment_required"] = false.into();
            out.push(v);
        }
    }
    out.push(sparse);
    out
}

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and attribute values.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// Collapses a rendered subject to one line: control characters (CR, LF,
/// tabs…) become spaces, runs of white space one space, ends trimmed.
fn one_line(subject: &str) -> String {
    subject
        .split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A time as a mail template variable: RFC 3339 in UTC
/// (`2026-11-23T14:05:00Z`), which a template writes with `| when` for
/// the reader's language and the firm's time zone.
pub fn mail_time(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

#[cfg(test)]
mod tests;
