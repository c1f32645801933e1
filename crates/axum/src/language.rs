//! Which language a page speaks: the switch (`?lang=es`, remembered in a
//! cookie), else the cookie, else `Accept-Language`, else English; only a
//! language the service's [`Locales`](portal_access_core::i18n::Locales)
//! have. The cookie (`__Host-portal_lang` under https, then `Secure`; else
//! `portal_lang`; `Path=/`, `SameSite=Lax`, a year) holds only the tag.
//!
//! The portal pages pick it once per request, in [`pick_for_pages`]: the
//! handlers run with it at hand ([`current`]), and the answer, whatever it
//! is (a page, a redirect), carries the cookie when the switch was used.
//! A page's switch links to the same page (its query kept, but `lang`)
//! when it was a GET; a page answering a form links to the portal's home
//! (a form's answer cannot be asked for again with a link).

use axum::extract::{Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use portal_access_core::i18n::DEFAULT_LANGUAGE;
use serde::Deserialize;

use crate::failure::{FailureLanguage, InternalFailure};
use crate::session::{self, cookie, cookie_value};
use crate::state::PortalHttp;

/// The language of the portal page being answered, and where its switch
/// links to.
#[derive(Debug, Clone)]
pub(crate) struct PageLanguage {
    /// The language tag.
    pub(crate) lang: String,
    /// The switch's link without its `lang=<tag>`: `?` and the other
    /// parameters of the page's query, each followed by `&`.
    pub(crate) switch: String,
}

tokio::task_local! {
    static PAGE_LANGUAGE: PageLanguage;
}

/// The language of the portal page being answered (English, switching to
/// the same page, outside one).
pub(crate) fn current() -> PageLanguage {
    PAGE_LANGUAGE
        .try_with(Clone::clone)
        .unwrap_or_else(|_| PageLanguage {
            lang: DEFAULT_LANGUAGE.to_owned(),
            switch: "?".to_owned(),
        })
}

/// Where the switch of the page answering `parts` links to (see the
/// module documentation).
fn switch_of(http: &PortalHttp, parts: &Parts) -> String {
    if parts.method != Method::GET && parts.method != Method::HEAD {
        return format!("{}/?", http.portal_base());
    }
    let mut switch = "?".to_owned();
    let query = parts.uri.query().unwrap_or_default();
    let mut kept = url::form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if name != "lang" {
            kept.append_pair(&name, &value);
            any = true;
        }
    }
    if any {
        switch.push_str(&kept.finish());
        switch.push('&');
    }
    switch
}

/// The portal pages' middleware: picks the request's language, answers
/// with it (see [`current`]), and remembers a switch in the cookie.
pub(crate) async fn pick_for_pages(
    State(http): State<PortalHttp>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let picked = pick(&http, &parts);
    let failure = FailureLanguage(picked.lang.clone());
    let page = PageLanguage {
        lang: picked.lang,
        switch: switch_of(&http, &parts),
    };
    let request = Request::from_parts(parts, body);
    let mut response = PAGE_LANGUAGE.scope(page, next.run(request)).await;
    if response.extensions().get::<InternalFailure>().is_some() {
        response.extensions_mut().insert(failure);
    }
    if let Some(cookie) = picked.cookie {
        session::append(response.headers_mut(), cookie);
    }
    response
}

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
