//! Which language a page speaks: the switch (`?lang=es`, remembered in a
//! cookie), else the cookie, else `Accept-Language`, else English; only a
//! language the service's [`Locales`](portal_access_core::i18n::Locales)
//! have. The cookie (`__Host-portal_lang` under https, then `Secure`; else
//! `portal_lang`; `Path=/`, `SameSite=Lax`, a year) holds only the tag.

use axum::extract::Query;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use serde::Deserialize;

use crate::session::{cookie, cookie_value};
use crate::state::PortalHttp;

/// How long the switch is remembered.
const YEAR_SECONDS: i64 = 365 * 24 * 3600;

/// The language of a page, and the cookie to set when the switch was used.
#[derive(Debug, Clone)]
pub(crate) struct Picked {
    pub(crate) lang: String,
    pub(crate) cookie: Option<HeaderValue>,
}

fn cookie_name(http: &PortalHttp) -> &'static str {
    if http.service().config().is_https() {
        "__Host-portal_lang"
    } else {
        "portal_lang"
    }
}

#[derive(Deserialize)]
struct Switch {
    lang: Option<String>,
}

/// The language of this request (see the module documentation).
pub(crate) fn pick(http: &PortalHttp, parts: &Parts) -> Picked {
    let locales = http.service().locales();
    let switched = Query::<Switch>::try_from_uri(&parts.uri)
        .ok()
        .and_then(|Query(s)| s.lang)
        .and_then(|tag| locales.supported(&tag).map(str::to_owned));
    if let Some(lang) = switched {
        let secure = if http.service().config().is_https() {
            "; Secure"
        } else {
            ""
        };
        let set = cookie_value(format!(
            "{}={lang}; Max-Age={YEAR_SECONDS}; Path=/; SameSite=Lax{secure}",
            cookie_name(http)
        ));
        return Picked {
            lang,
            cookie: Some(set),
        };
    }
    let remembered =
        cookie(&parts.headers, cookie_name(http)).and_then(|tag| locales.supported(tag));
    let lang = match remembered {
        Some(lang) => lang.to_owned(),
        None => locales
            .negotiate(
                parts
                    .headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default(),
            )
            .to_owned(),
    };
    Picked { lang, cookie: None }
}
