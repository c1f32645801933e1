//! The portal pages: headers, link pages that survive mail scanners, the
//! forms end to end.

use reqwest::{Client, Method, StatusCode};
use serde_json::json;

use crate::common::*;

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn assert_page_headers(response: &reqwest::Response, what: &str) {
    let h = response.headers();
    if !response.status().is_redirection() {
        assert_eq!(h["content-type"], "text/html; charset=utf-8", "{what}");
    }
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["content-security-policy"], CSP, "{what}");
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(h["cache-control"], "no-store", "{what}");
}

async fn get(
    client: &Client,
    app: &TestApp,
    path: &str,
) -> (StatusCode, String, reqwest::header::HeaderMap) {
    let response = client.get(app.url(path)).sent().await;
    assert_page_headers(&response, path);
    let status = response.status();
    let headers = response.headers().clone();
    (status, response.text().await.unwrap(), headers)
}

/// Asserts a form page answered `status` with the error of `field` next
/// to it; returns its HTML.
pub(crate) async fn assert_field_error(
    response: reqwest::Response,
    status: StatusCode,
    field: &str,
) -> String {
    assert_eq!(response.status(), status, "{field}");
    let html = response.text().await.unwrap();
    assert!(
        html.contains(&format!("id=\"{field}-error\"")),
        "{field}: {html}"
    );
    html
}

/// The HTML of a page that must answer 200.
async fn get_ok(client: &Client, app: &TestApp, path: &str) -> String {
    let (status, html, _) = get(client, app, path).await;
    assert_eq!(status, StatusCode::OK, "{path}");
    html
}

/// Asserts a 303 answer that leads to `to`.
fn assert_redirect(response: &reqwest::Response, to: &str) {
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "to {to}");
    assert_eq!(location(response.headers()), to);
}

fn location(headers: &reqwest::header::HeaderMap) -> &str {
    headers["location"].to_str().unwrap()
}

/// Staff sends the account `id` a password reset; the token of its link.
async fn mailed_reset(app: &TestApp, id: &str, email: &str) -> String {
    let path = format!("/staff/accounts/{id}/password-reset");
    app.staff_call(Method::POST, &path).await;
    app.latest_token(email).await
}

pub async fn every_page_sends_the_security_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, invitation) = app.invited("bea@example.com").await;
    let (id, client) = app.signed_in("ann@example.com", "ann").await;
    let reset = mailed_reset(&app, &id, "ann@example.com").await;
    let anonymous = app.client();
    for path in [
        "/portal/sign-in".to_owned(),
        "/portal/forgot-password".to_owned(),
        format!("/portal/reset-password?token={reset}"),
        format!("/portal/invitation?token={invitation}"),
        "/portal/invitation?token=expired-or-unknown".to_owned(),
        format!("/portal/not-me?token={}", "C".repeat(43)),
    ] {
        let (status, html, _) = get(&anonymous, &app, &path).await;
        assert!(
            status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
            "{path}: {status}"
        );
        assert!(html.contains("<main"), "{path}");
    }
    for path in ["/portal/", "/portal/username", "/portal/password"] {
        let html = get_ok(&client, &app, path).await;
        assert!(html.contains("Sign out"), "{path}");
    }
    // Redirects and error pages carry them too.
    let (status, _, headers) = get(&anonymous, &app, "/portal/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&headers), "/portal/sign-in");

    let css = anonymous
        .get(app.url("/portal/static/portal.css"))
        .sent()
        .await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(css.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age=31536000"));
    assert_eq!(css.headers()["x-content-type-options"], "nosniff");
}

pub async fn opening_a_link_page_with_get_or_head_leaves_the_token_usable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, token) = app.invited("ann@example.com").await;
    let scanner = app.client();
    for _ in 0..2 {
        let path = format!("/portal/invitation?token={token}");
        let head = scanner.head(app.url(&path)).sent().await;
        assert_eq!(head.status(), StatusCode::OK);
        assert_page_headers(&head, "HEAD invitation");
        let html = get_ok(&scanner, &app, &path).await;
        assert!(html.contains("ann@example.com"));
    }
    // The openings are on the staff timeline.
    let status = app.status_of(&id).await;
    let openings = status["messages"][0]["link"]["openings"]
        .as_array()
        .unwrap()
        .len();
    assert!(openings >= 4, "{status}");
    let response = app.post_json(&app.client(), "/api/portal/invitation/accept", json!({ "token": token, "username": "ann", "password": PASSWORD, "password_confirmation": PASSWORD })).await;
    assert_eq!(response.status(), StatusCode::OK);

    // Same for a reset link.
    let reset = mailed_reset(&app, &id, "ann@example.com").await;
    let path = format!("/portal/reset-password?token={reset}");
    assert_eq!(
        scanner.head(app.url(&path)).sent().await.status(),
        StatusCode::OK
    );
    assert_eq!(get(&scanner, &app, &path).await.0, StatusCode::OK);
    let response = app.post_json(&app.client(), "/api/portal/reset-password", json!({ "token": reset, "password": OTHER_PASSWORD, "password_confirmation": OTHER_PASSWORD })).await;
    assert_eq!(response.status(), StatusCode::OK);
}

pub async fn the_invitation_form_sets_up_the_account_and_signs_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.invited("ann@example.com").await;
    let browser = app.client();
    let (_, html, _) = get(&browser, &app, &format!("/portal/invitation?token={token}")).await;
    let csrf = hidden_field(&html, "csrf_token");
    assert_eq!(hidden_field(&html, "token"), token);
    assert!(html.contains("<label for=\"username\">"));

    let fields = |confirmation: &'static str| {
        [
            ("token", token.as_str()),
            ("username", "ann"),
            ("password", PASSWORD),
            ("password_confirmation", confirmation),
        ]
    };
    // A refusal re-renders the form with the error next to the field.
    let response = app
        .submit(
            &browser,
            "/portal/invitation",
            &csrf,
            &fields(OTHER_PASSWORD),
        )
        .await;
    let html = assert_field_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_confirmation",
    )
    .await;
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(!html.contains(PASSWORD), "a password is never echoed");

    let response = app
        .submit(&browser, "/portal/invitation", &csrf, &fields(PASSWORD))
        .await;
    assert_redirect(&response, "/portal/?done=signed_in");
    let html = get_ok(&browser, &app, "/portal/").await;
    assert!(html.contains("ann") && html.contains("ann@example.com"));
}

/// Signs in through the form; returns the answer.
async fn sign_in_form(
    app: &TestApp,
    browser: &Client,
    login: &str,
    password: &str,
) -> reqwest::Response {
    let (_, html, _) = get(browser, app, "/portal/sign-in").await;
    let csrf = hidden_field(&html, "csrf_token");
    app.submit(
        browser,
        "/portal/sign-in",
        &csrf,
        &[("login", login), ("password", password)],
    )
    .await
}

pub async fn the_sign_in_form_shows_a_refusal_and_signs_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.signed_in("ann@example.com", "ann").await;
    let browser = app.client();
    let response = sign_in_form(&app, &browser, "ann", OTHER_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_page_headers(&response, "refused sign-in");
    let html = response.text().await.unwrap();
    assert!(html.contains("role=\"alert\""), "{html}");
    assert!(html.contains("value=\"ann\""), "the login is kept");

    let response = sign_in_form(&app, &browser, "ann", PASSWORD).await;
    assert_redirect(&response, "/portal/?done=signed_in");
    // Signed in, the sign-in page leads home.
    let (status, _, headers) = get(&browser, &app, "/portal/sign-in").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&headers), "/portal/");

    // Sign out through the form.
    let (_, html, _) = get(&browser, &app, "/portal/").await;
    let csrf = hidden_field(&html, "csrf_token");
    let response = app.submit(&browser, "/portal/sign-out", &csrf, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (status, _, headers) = get(&browser, &app, "/portal/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&headers), "/portal/sign-in");
}

pub async fn a_staff_set_password_takes_the_client_to_the_password_page_until_changed(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_account("ann@example.com").await;
    app.staff_json(
        Method::PUT,
        &format!("/staff/accounts/{id}/password"),
        json!({ "password": PASSWORD, "password_confirmation": PASSWORD }),
    )
    .await;
    let browser = app.client();
    let response = sign_in_form(&app, &browser, "ann@example.com", PASSWORD).await;
    assert_redirect(&response, "/portal/password");
    for path in ["/portal/", "/portal/username"] {
        let (status, _, headers) = get(&browser, &app, path).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&headers), "/portal/password");
    }
    let html = get_ok(&browser, &app, "/portal/password").await;
    assert!(html.contains("temporary password"));
    let csrf = hidden_field(&html, "csrf_token");
    let fields = |current: &'static str| {
        [
            ("current_password", current),
            ("password", OTHER_PASSWORD),
            ("password_confirmation", OTHER_PASSWORD),
        ]
    };
    let response = app
        .submit(
            &browser,
            "/portal/password",
            &csrf,
            &fields("wrong wrong wrong wrong"),
        )
        .await;
    assert_field_error(response, StatusCode::UNAUTHORIZED, "current_password").await;
    let response = app
        .submit(&browser, "/portal/password", &csrf, &fields(PASSWORD))
        .await;
    assert_redirect(&response, "/portal/?done=password");
    let html = get_ok(&browser, &app, "/portal/?done=password").await;
    assert!(html.contains("Your password was changed"));
}

pub async fn the_username_page_changes_the_username(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.signed_in("bea@example.com", "bea").await;
    let (_, browser) = app.signed_in("ann@example.com", "ann").await;
    let (_, html, _) = get(&browser, &app, "/portal/username").await;
    let csrf = hidden_field(&html, "csrf_token");
    let rename = |username: &'static str| [("username", username)];
    let response = app
        .submit(&browser, "/portal/username", &csrf, &rename("bea"))
        .await;
    assert_field_error(response, StatusCode::CONFLICT, "username").await;
    let response = app
        .submit(&browser, "/portal/username", &csrf, &rename("ann_new"))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, html, _) = get(&browser, &app, "/portal/?done=username").await;
    assert!(html.contains("ann_new"));
}

pub async fn the_forgot_password_and_reset_pages_set_a_new_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.signed_in("ann@example.com", "ann").await;
    let browser = app.client();
    let (_, html, _) = get(&browser, &app, "/portal/forgot-password").await;
    let csrf = hidden_field(&html, "csrf_token");
    let mut answers = Vec::new();
    for email in ["ann@example.com", "nobody@example.com"] {
        let filled: &[(&str, &str)] = &[("email", email)];
        let response = app
            .submit(&browser, "/portal/forgot-password", &csrf, filled)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        answers.push(response.text().await.unwrap());
    }
    assert_eq!(answers[0], answers[1]);

    let token = app.latest_token("ann@example.com").await;
    let (_, html, _) = get(
        &browser,
        &app,
        &format!("/portal/reset-password?token={token}"),
    )
    .await;
    let csrf = hidden_field(&html, "csrf_token");
    let fields = |password: &'static str| {
        [
            ("token", token.as_str()),
            ("password", password),
            ("password_confirmation", password),
        ]
    };
    let response = app
        .submit(&browser, "/portal/reset-password", &csrf, &fields("short"))
        .await;
    let html = assert_field_error(response, StatusCode::UNPROCESSABLE_ENTITY, "password").await;
    assert!(html.contains("<li>"), "{html}");
    let response = app
        .submit(
            &browser,
            "/portal/reset-password",
            &csrf,
            &fields(OTHER_PASSWORD),
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // The used link now says so.
    let (status, html, _) = get(
        &app.client(),
        &app,
        &format!("/portal/reset-password?token={token}"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("no longer works"));
}

pub async fn an_expired_invitation_page_offers_a_fresh_invitation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.invited("ann@example.com").await;
    app.clock.advance(time::Duration::days(8));
    let browser = app.client();
    let (status, html, _) = get(&browser, &app, &format!("/portal/invitation?token={token}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("Send me a fresh invitation"), "{html}");
    let csrf = hidden_field(&html, "csrf_token");
    let fields = [("token", token.as_str())];
    let before = app.mailer.sent_to("ann@example.com").len();
    let response = app
        .submit(&browser, "/portal/invitation/fresh", &csrf, &fields)
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let fresh = app.latest_token("ann@example.com").await;
    assert!(app.mailer.sent_to("ann@example.com").len() > before);
    assert_ne!(fresh, token);
    let (status, _, _) = get(&browser, &app, &format!("/portal/invitation?token={fresh}")).await;
    assert_eq!(status, StatusCode::OK);
}

pub async fn this_wasnt_me_secures_the_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, client) = app.signed_in("ann@example.com", "ann").await;
    let response = app.put_json(&client, "/api/portal/password", json!({ "current_password": PASSWORD, "password": OTHER_PASSWORD, "password_confirmation": OTHER_PASSWORD })).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let token = app.latest_token("ann@example.com").await;
    let browser = app.client();
    let path = format!("/portal/not-me?token={token}");
    assert_eq!(
        browser.head(app.url(&path)).sent().await.status(),
        StatusCode::OK
    );
    let html = get_ok(&browser, &app, &path).await;
    assert!(html.contains("Secure my account"));
    let csrf = hidden_field(&html, "csrf_token");
    let fields = [("token", token.as_str())];
    let response = app.submit(&browser, "/portal/not-me", &csrf, &fields).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body_text(response)
        .await
        .contains("Your account is secured"));
    // Every session is gone and the password no longer works.
    let me = client.get(app.url("/api/portal/me")).sent().await;
    assert_error(me, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let response = app.api_sign_in("ann", OTHER_PASSWORD).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    // The link is single use.
    let response = app.submit(&browser, "/portal/not-me", &csrf, &fields).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

/// The openings recorded on the staff timeline for the link of `kind`.
async fn openings(app: &TestApp, id: &str, kind: &str) -> usize {
    let status = app.status_of(id).await;
    let messages = status["messages"].as_array().unwrap();
    let link = messages
        .iter()
        .map(|m| &m["link"])
        .find(|link| link["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} link in {status}"));
    link["openings"].as_array().unwrap().len()
}

pub async fn a_refused_link_form_records_no_second_opening(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (bea, invitation) = app.invited("bea@example.com").await;
    let (ann, _) = app.signed_in("ann@example.com", "ann").await;
    let reset = mailed_reset(&app, &ann, "ann@example.com").await;
    let cases = [
        (
            &bea,
            "invitation",
            "/portal/invitation",
            invitation,
            "bea@example.com",
        ),
        (
            &ann,
            "password_reset",
            "/portal/reset-password",
            reset,
            "ann@example.com",
        ),
    ];
    for (id, kind, path, token, email) in cases {
        let browser = app.client();
        let (status, html, _) = get(&browser, &app, &format!("{path}?token={token}")).await;
        assert_eq!(status, StatusCode::OK, "{kind}");
        assert_eq!(openings(&app, id, kind).await, 1, "{kind}: opened once");
        let csrf = hidden_field(&html, "csrf_token");
        let response = app
            .submit(
                &browser,
                path,
                &csrf,
                &[
                    ("token", token.as_str()),
                    ("username", if kind == "invitation" { "bea" } else { email }),
                    ("email", email),
                    ("password", "short"),
                    ("password_confirmation", "short"),
                ],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{kind}"
        );
        let html = response.text().await.unwrap();
        assert!(html.contains("id=\"password-error\""), "{kind}: {html}");
        assert!(html.contains(email), "{kind}: the address is shown again");
        assert_eq!(
            openings(&app, id, kind).await,
            1,
            "{kind}: a refused form is not a second opening"
        );
    }
}
