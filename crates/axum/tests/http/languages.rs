//! The portal pages in the client's language (SPEC.md section 11): picked
//! from `Accept-Language`, or the switch `?lang=` remembered in a cookie;
//! refusals, password reasons and times said in it.

use reqwest::{Client, StatusCode};

use crate::common::*;

const SPANISH: &str = "es-MX,es;q=0.9,en;q=0.5";

/// The HTML of a page asked for with `Accept-Language: accept`.
async fn page_in(app: &TestApp, browser: &Client, path: &str, accept: &str) -> String {
    sent(browser.get(app.url(path)).header("accept-language", accept))
        .await
        .text()
        .await
        .unwrap()
}

/// Signs in through the form with `password`, asking for `accept`.
async fn sign_in_in(
    app: &TestApp,
    browser: &Client,
    password: &str,
    accept: &str,
) -> reqwest::Response {
    let html = page_in(app, browser, "/portal/sign-in", accept).await;
    let csrf = hidden_field(&html, "csrf_token");
    let form = [
        ("csrf_token", csrf.as_str()),
        ("login", "ann"),
        ("password", password),
    ];
    sent(
        browser
            .post(app.url("/portal/sign-in"))
            .header("accept-language", accept)
            .form(&form),
    )
    .await
}

pub async fn accept_language_es_gives_the_spanish_sign_in_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let browser = app.client();
    let spanish = page_in(&app, &browser, "/portal/sign-in", SPANISH).await;
    assert!(spanish.contains("<html lang=\"es\">"), "{spanish}");
    assert!(spanish.contains("<h1>Iniciar sesión</h1>"), "{spanish}");
    assert!(spanish.contains("Nombre de usuario o correo electrónico"));
    assert!(spanish.contains("¿Olvidó su contraseña?"));
    assert!(!spanish.contains("Forgot your password?"));
    assert!(
        spanish.contains("href=\"?lang=en\""),
        "the switch offers English: {spanish}"
    );

    for accept in ["en-US,en;q=0.9", "fr-FR", ""] {
        let english = page_in(&app, &browser, "/portal/sign-in", accept).await;
        assert!(
            english.contains("<html lang=\"en\">"),
            "{accept}: {english}"
        );
        assert!(english.contains("<h1>Sign in</h1>"), "{accept}");
        assert!(english.contains("Forgot your password?"), "{accept}");
    }
}

pub async fn the_language_switch_is_remembered_on_later_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.signed_in("ann@example.com", "ann").await;
    let browser = app.client();

    let response = sent(browser.get(app.url("/portal/sign-in?lang=es"))).await;
    let cookie = set_cookie(&response, "portal_lang").expect("the switch is remembered");
    assert!(cookie.starts_with("portal_lang=es;"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax") && cookie.contains("Path=/"));
    assert!(body_text(response)
        .await
        .contains("<h1>Iniciar sesión</h1>"));

    let later = page_in(&app, &browser, "/portal/forgot-password", "en").await;
    assert!(
        later.contains("<html lang=\"es\">") && later.contains("Enviarme un enlace"),
        "the cookie comes before Accept-Language: {later}"
    );
    let response = sign_in_in(&app, &browser, PASSWORD, "en").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let home = app.page(&browser, "/portal/?done=signed_in").await;
    assert!(home.contains("Inició sesión correctamente."), "{home}");
    assert!(home.contains("Cerrar sesión"));

    let switched = app.page(&browser, "/portal/?lang=en").await;
    assert!(switched.contains("<html lang=\"en\">"), "{switched}");
    let back = app.page(&browser, "/portal/").await;
    assert!(
        back.contains("<html lang=\"en\">") && back.contains("Sign out"),
        "{back}"
    );
}

pub async fn refusals_read_in_spanish_and_english_stays_english(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.invited("ann@example.com").await;
    let browser = app.client();

    let path = format!("/portal/invitation?token={token}");
    let html = page_in(&app, &browser, &path, SPANISH).await;
    assert!(html.contains("Active su cuenta del portal"), "{html}");
    assert!(
        html.contains(&format!("href=\"?token={token}&amp;lang=en\"")),
        "the switch keeps the link's token: {html}"
    );
    let csrf = hidden_field(&html, "csrf_token");
    let short = "short";
    let form = [
        ("csrf_token", csrf.as_str()),
        ("token", token.as_str()),
        ("email", "ann@example.com"),
        ("username", "ann"),
        ("password", short),
        ("password_confirmation", short),
    ];
    let refused = sent(
        browser
            .post(app.url("/portal/invitation"))
            .header("accept-language", SPANISH)
            .form(&form),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    assert!(html.contains("No se puede usar esta contraseña:"), "{html}");
    assert!(
        html.contains("Use al menos "),
        "the reason in Spanish: {html}"
    );
    assert!(!html.contains("Use at least"));

    let english = sent(browser.post(app.url("/portal/invitation")).form(&form)).await;
    let html = english.text().await.unwrap();
    assert!(html.contains("This password cannot be used:"), "{html}");
    assert!(html.contains("Use at least "), "{html}");

    let accepted = [("password", PASSWORD), ("password_confirmation", PASSWORD)];
    let mut form = form.to_vec();
    form.retain(|(name, _)| !name.starts_with("password"));
    form.extend_from_slice(&accepted);
    let done = sent(browser.post(app.url("/portal/invitation")).form(&form)).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);

    let stranger = app.client();
    let refused = sign_in_in(&app, &stranger, OTHER_PASSWORD, SPANISH).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let html = refused.text().await.unwrap();
    assert_contains(
        &html,
        "El nombre de usuario, el correo o la contraseña no son correctos.",
    );
    let refused = sign_in_in(&app, &stranger, OTHER_PASSWORD, "en").await;
    let html = refused.text().await.unwrap();
    assert!(html.contains("The login or password is wrong."), "{html}");

    let forged = sent(
        stranger
            .post(app.url("/portal/sign-in"))
            .header("accept-language", SPANISH)
            .form(&[
                ("csrf_token", "forged"),
                ("login", "ann"),
                ("password", PASSWORD),
            ]),
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(body_text(forged).await.contains("Inténtelo de nuevo"));
}

pub async fn the_security_page_writes_times_in_spanish_in_the_firms_time_zone(backend: Backend) {
    let options = Options {
        tune: Some(|config| {
            config.time_zone = portal_access_core::i18n::time_zone("America/Chicago").unwrap();
        }),
        ..Options::default()
    };
    let app = TestApp::spawn_with(backend, options).await;
    let (_, browser) = app.signed_in("ann@example.com", "ann").await;
    let html = page_in(&app, &browser, "/portal/security", SPANISH).await;
    assert!(html.contains("Dónde tiene la sesión iniciada"), "{html}");
    assert!(html.contains("inició sesión el "), "{html}");
    let months = [
        "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic",
    ];
    assert!(
        months.iter().any(|m| html.contains(&format!(" {m} 20"))),
        "dates are written in Spanish: {html}"
    );
    assert!(
        html.contains(" CST") || html.contains(" CDT"),
        "in the firm's time zone: {html}"
    );
    let english = app.page(&browser, "/portal/security").await;
    assert!(english.contains("signed in "), "{english}");
    assert!(english.contains(" CST") || english.contains(" CDT"));
}
