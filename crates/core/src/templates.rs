//! Mail templates (minijinja). INTERFACE STUB: the workflows engineer
//! replaces the bodies with the real template set; the signatures stay.

use time::OffsetDateTime;

use crate::MessageKind;

/// A template failed to compile or render.
#[derive(Debug, thiserror::Error)]
#[error("template {name}: {source}")]
pub struct TemplateError {
    name: String,
    #[source]
    source: minijinja::Error,
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

/// The mail template set: built-ins, with host overrides checked first.
#[derive(Debug, Clone, Default)]
pub struct Templates {}

impl Templates {
    /// The built-in templates.
    pub fn builtin() -> Self {
        Self {}
    }

    /// Checks every template compiles and renders with sample values.
    pub fn validate(&self) -> Result<(), TemplateError> {
        Ok(())
    }

    /// Renders `kind` with `vars` (a JSON object).
    pub fn render(
        &self,
        kind: MessageKind,
        vars: &serde_json::Value,
    ) -> Result<Rendered, TemplateError> {
        let env = minijinja::Environment::new();
        let text = env
            .render_str("{{ link }}", vars)
            .map_err(|source| TemplateError {
                name: kind.as_str().into(),
                source,
            })?;
        Ok(Rendered {
            subject: kind.as_str().into(),
            text: text.clone(),
            html: text,
        })
    }
}

/// A time as people read it in mail: `2026-11-23 14:05 UTC`.
pub fn human_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}
