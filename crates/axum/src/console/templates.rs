//! The console's templates, compiled once, with the language functions.

use std::sync::Arc;

use minijinja::Environment;
use portal_access_core::i18n::Locales;
use serde_json::Value;

/// The console's templates (`templates/console/`), with the portal's
/// `macros.html`.
const TEMPLATES: &[(&str, &str)] = &[
    ("macros.html", include_str!("../../templates/macros.html")),
    (
        "console/layout.html",
        include_str!("../../templates/console/layout.html"),
    ),
    (
        "console/advice.html",
        include_str!("../../templates/console/advice.html"),
    ),
    (
        "console/sign_in.html",
        include_str!("../../templates/console/sign_in.html"),
    ),
    (
        "console/find.html",
        include_str!("../../templates/console/find.html"),
    ),
    (
        "console/new_account.html",
        include_str!("../../templates/console/new_account.html"),
    ),
    (
        "console/account.html",
        include_str!("../../templates/console/account.html"),
    ),
    (
        "console/verification.html",
        include_str!("../../templates/console/verification.html"),
    ),
    (
        "console/error.html",
        include_str!("../../templates/console/error.html"),
    ),
];

/// The compiled console templates.
pub(crate) struct ConsoleTemplates {
    env: Environment<'static>,
}

impl ConsoleTemplates {
    #[allow(
        clippy::expect_used,
        reason = "the built-ins are compiled in and rendered by the console's tests"
    )]
    pub(crate) fn builtin(locales: Arc<Locales>, default_tz: jiff::tz::TimeZone) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        crate::page_templates::add_language_functions(&mut env, locales, default_tz);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .expect("the console templates compile");
        }
        Self { env }
    }

    pub(crate) fn render(&self, name: &str, vars: &Value) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(vars)
    }
}
