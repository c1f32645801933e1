//! The language functions of a minijinja environment, shared by the mail
//! templates, the portal's pages and the staff console.

use std::sync::Arc;

use fluent_bundle::FluentValue;
use minijinja::Environment;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{Locales, TimeZone, DEFAULT_LANGUAGE};

/// Gives templates their language: `t("key", name=value, ...)` is the
/// Fluent message `key` in the template's `lang` (English when absent),
/// and `value | when` writes an RFC 3339 time for `lang` in the time zone
/// `tz` (an IANA name; `default_tz` when absent or unknown). A value that
/// is not an RFC 3339 time is written as it is.
///
/// ```
/// use std::sync::Arc;
/// use portal_access_core::i18n::{add_language_functions, Locales, TimeZone};
///
/// let mut env = minijinja::Environment::new();
/// add_language_functions(&mut env, Arc::new(Locales::builtin()), TimeZone::UTC);
/// let text = env
///     .render_str(
///         r#"{{ t("language-label") }}: {{ at | when }}"#,
///         minijinja::context! { lang => "es", tz => "America/Chicago", at => "2026-12-05T14:04:00Z" },
///     )
///     .unwrap();
/// assert_eq!(text, "Idioma de los correos: 5 dic 2026, 8:04 CST");
/// ```
pub fn add_language_functions(
    env: &mut Environment<'static>,
    locales: Arc<Locales>,
    default_tz: TimeZone,
) {
    fn lang_of(state: &minijinja::State<'_, '_>) -> String {
        state
            .lookup("lang")
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| DEFAULT_LANGUAGE.to_owned())
    }
    let messages = Arc::clone(&locales);
    env.add_function(
        "t",
        move |state: &minijinja::State<'_, '_>,
              key: String,
              kwargs: minijinja::value::Kwargs|
              -> Result<String, minijinja::Error> {
            let mut args = Vec::new();
            for name in kwargs.args() {
                let value: minijinja::Value = kwargs.get(name)?;
                args.push((name, FluentValue::from(value.to_string())));
            }
            Ok(messages.message(&lang_of(state), &key, &args))
        },
    );
    env.add_filter(
        "when",
        move |state: &minijinja::State<'_, '_>, value: String| -> String {
            let Ok(at) = OffsetDateTime::parse(&value, &Rfc3339) else {
                return value;
            };
            let tz = state
                .lookup("tz")
                .and_then(|v| v.as_str().and_then(|name| TimeZone::get(name).ok()))
                .unwrap_or_else(|| default_tz.clone());
            locales.when(&lang_of(state), at, &tz)
        },
    );
}
