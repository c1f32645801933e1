//! What the console needs besides the portal's own configuration: the
//! CAPTCHA widget of the human verification page.

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
