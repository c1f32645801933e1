//! CSRF refusals, malformed / oversized / mistyped bodies, and internal
//! failures that never show their cause.

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

async fn sign_in_csrf(app: &TestApp, browser: &reqwest::Client) -> String {
    let html = app.page(browser, "/portal/sign-in").await;
    hidden_field(&html, "csrf_token")
}

/// Ann's sign-in through the form with this token and these extra headers.
async fn sign_in_as_ann(
    app: &TestApp,
    browser: &reqwest::Client,
    csrf: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = browser.post(app.url("/portal/sign-in"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let form = [
        ("csrf_token", csrf),
        ("login", "ann"),
        ("password", PASSWORD),
    ];
    sent(request.form(&form)).await
}

pub async fn forms_without_or_with_a_wrong_csrf_token_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.signed_in("ann@example.com", "ann").await;
    let browser = app.client();
    let csrf = sign_in_csrf(&app, &browser).await;
    let attempts: Vec<Vec<(&str, &str)>> = vec![
        vec![("login", "ann"), ("password", PASSWORD)],
        vec![("csrf_token", ""), ("login", "ann"), ("password", PASSWORD)],
        vec![
            ("csrf_token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            ("login", "ann"),
            ("password", PASSWORD),
        ],
    ];
    for form in attempts {
        let response = app.post_form(&browser, "/portal/sign-in", &form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{form:?}");
        assert!(body_text(response).await.contains("reload the page"));
    }
    // A valid token from a browser without the pre-session cookie is refused too.
    let other = app.client();
    let response = sign_in_as_ann(&app, &other, &csrf, &[]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // The right one passes.
    let response = sign_in_as_ann(&app, &browser, &csrf, &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

pub async fn cross_site_forms_are_refused_even_with_a_valid_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.signed_in("ann@example.com", "ann").await;
    let browser = app.client();
    let csrf = sign_in_csrf(&app, &browser).await;
    for (name, value) in [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let response = sign_in_as_ann(&app, &browser, &csrf, &[(name, value)]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {value}");
    }
    let response = sign_in_as_ann(
        &app,
        &browser,
        &csrf,
        &[
            ("origin", app.base.as_str()),
            ("sec-fetch-site", "same-origin"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

pub async fn a_signed_in_forms_token_is_bound_to_its_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, ann) = app.signed_in("ann@example.com", "ann").await;
    let (_, bea) = app.signed_in("bea@example.com", "bea").await;
    let bea_html = app.page(&bea, "/portal/username").await;
    let bea_csrf = hidden_field(&bea_html, "csrf_token");
    let filled: &[(&str, &str)] = &[("username", "hijacked")];
    let response = app
        .submit(&ann, "/portal/username", &bea_csrf, filled)
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let me = app.me(&ann).await;
    assert_eq!(me["username"], "ann");
    // Nor does a sign-in page token work on a signed-in form.
    let forgot = app.page(&ann, "/portal/forgot-password").await;
    let anonymous_csrf = hidden_field(&forgot, "csrf_token");
    let response = app
        .submit(&ann, "/portal/sign-out", &anonymous_csrf, &[])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

pub async fn the_client_api_refuses_cross_site_calls(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, client) = app.signed_in("ann@example.com", "ann").await;
    let state_changing = [
        client
            .put(app.url("/api/portal/username"))
            .header("sec-fetch-site", "cross-site")
            .json(&json!({ "username": "hijacked" })),
        client
            .post(app.url("/api/portal/sign-out"))
            .header("origin", "https://evil.example"),
    ];
    for request in state_changing {
        assert_error(request.sent().await, StatusCode::FORBIDDEN, "csrf_failed").await;
    }
    // Reading is not state-changing; and the session survived.
    let me = client
        .get(app.url("/api/portal/me"))
        .header("sec-fetch-site", "cross-site")
        .sent()
        .await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.json::<Value>().await.unwrap()["username"], "ann");
}

pub async fn malformed_mistyped_and_oversized_bodies_are_validation_failed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let send = |path: &'static str, body: String, content_type: &'static str| {
        let mut request = app
            .client()
            .post(app.url(path))
            .header(CONTENT_TYPE, content_type)
            .body(body);
        if path.starts_with("/staff") {
            request = request.bearer_auth(ALICE);
        }
        request.sent()
    };
    for path in ["/staff/accounts", "/api/portal/sign-in"] {
        let send =
            |body: &str, content_type: &'static str| send(path, body.to_owned(), content_type);
        let body = assert_error(
            send("{\"email\": ", "application/json").await,
            StatusCode::BAD_REQUEST,
            "validation_failed",
        )
        .await;
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"));
        let body = assert_error(
            send("{\"unexpected\": 1}", "application/json").await,
            StatusCode::BAD_REQUEST,
            "validation_failed",
        )
        .await;
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("missing field"),
            "{body}"
        );
        assert_error(
            send("[1, 2]", "application/json").await,
            StatusCode::BAD_REQUEST,
            "validation_failed",
        )
        .await;
        assert_error(
            send("email=ann@example.com", "application/x-www-form-urlencoded").await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "validation_failed",
        )
        .await;
        let huge = format!(
            "{{\"email\": \"{}\", \"login\": \"x\", \"password\": \"y\"}}",
            "a".repeat(64 * 1024)
        );
        assert_error(
            send(&huge, "application/json").await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "validation_failed",
        )
        .await;
    }
    // Wrong JSON types are refused too.
    let id = app.create_account("ann@example.com").await;
    let access = format!("/staff/accounts/{id}/access");
    let payload = json!({ "enabled": "yes" });
    let response = app.staff_json(Method::PUT, &access, payload).await;
    assert_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    // Forms: wrong content type and oversized bodies are refused before parsing.
    let response = app
        .post_json(&app.client(), "/portal/sign-in", json!({ "login": "ann" }))
        .await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let response = app
        .post_form(
            &app.client(),
            "/portal/sign-in",
            &[("login", "a".repeat(64 * 1024).as_str())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

pub async fn internal_failures_answer_500_with_a_request_id_and_no_internal_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.break_database().await;
    let response = sent(
        app.staff(Method::POST, "/staff/accounts")
            .header("x-request-id", "req-test-42")
            .json(&json!({ "email": "ann@example.com" })),
    )
    .await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()["x-request-id"], "req-test-42");
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"]["code"], "internal_error");
    assert_eq!(body["error"]["request_id"], "req-test-42");
    for leak in [
        "accounts", "table", "sqlite", "postgres", "relation", "store",
    ] {
        assert!(!text.to_lowercase().contains(leak), "{leak} leaked: {text}");
    }
    // A page says the same, with a generated reference.
    let browser = app.client();
    let csrf = sign_in_csrf(&app, &browser).await;
    let response = sign_in_as_ann(&app, &browser, &csrf, &[]).await;
    assert_eq!(
        response.status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "{:?}",
        response.headers()
    );
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let html = response.text().await.unwrap();
    assert!(html.contains(&id));
    assert!(!html.to_lowercase().contains("accounts"));
    assert!(
        html.contains("<html lang=\"en\">") && html.contains("Something went wrong"),
        "{html}"
    );
    // In the page's language.
    let spanish = [("accept-language", "es-MX,es;q=0.9")];
    let response = sign_in_as_ann(&app, &browser, &csrf, &spanish).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("<html lang=\"es\">")
            && html.contains("Algo salió mal de nuestro lado")
            && !html.contains("Something went wrong"),
        "{html}"
    );
}

/// The `Strict-Transport-Security` of an answer of each router (a page, a
/// redirect, the stylesheet, a staff call, a client API refusal), by path.
async fn hsts_of_every_router(app: &TestApp) -> Vec<(&'static str, Option<String>)> {
    let browser = app.client();
    let mut seen = Vec::new();
    for path in [
        "/portal/sign-in",
        "/portal/",
        "/portal/static/portal.css",
        "/api/portal/me",
    ] {
        let response = browser.get(app.url(path)).sent().await;
        seen.push((path, hsts_header(&response)));
    }
    let staff = app.staff_call(Method::GET, "/staff/accounts/unknown").await;
    seen.push(("/staff/accounts/unknown", hsts_header(&staff)));
    seen
}

fn hsts_header(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("strict-transport-security")
        .map(|v| v.to_str().unwrap().to_owned())
}

/// Options with HSTS for 600 s, `includeSubDomains`.
fn ten_minutes_of_hsts_with_subdomains() -> Options {
    Options {
        hsts: Some(portal_access_axum::Hsts {
            max_age: 600,
            include_subdomains: true,
        }),
        ..Options::default()
    }
}

pub async fn an_https_portal_sends_hsts_on_every_answer(backend: Backend) {
    let options = Options {
        public_url: Some("https://portal.example.com".into()),
        ..Options::default()
    };
    let app = TestApp::spawn_with(backend, options).await;

    for (path, hsts) in hsts_of_every_router(&app).await {
        assert_eq!(hsts.as_deref(), Some("max-age=31536000"), "{path}");
    }

    let options = Options {
        public_url: Some("https://portal.example.com".into()),
        ..ten_minutes_of_hsts_with_subdomains()
    };
    let configured = TestApp::spawn_with(backend, options).await;
    for (path, hsts) in hsts_of_every_router(&configured).await {
        assert_eq!(
            hsts.as_deref(),
            Some("max-age=600; includeSubDomains"),
            "{path}"
        );
    }
}

pub async fn a_plain_http_portal_never_sends_hsts(backend: Backend) {
    let app = TestApp::spawn_with(backend, ten_minutes_of_hsts_with_subdomains()).await;

    for (path, hsts) in hsts_of_every_router(&app).await {
        assert_eq!(hsts, None, "{path}");
    }
}
