//! The second-factor pages: the security page (add an authenticator, codes
//! by email, remove, new recovery codes), the code step of a sign-in, the
//! enrolment a `required` policy leads to, and a reset that leads to the
//! code step. Every form: refused without its CSRF token, a wrong code or
//! password refused with a clear message and nothing changed.

use portal_access_core::crypto::totp;
use portal_access_core::{Clock, MfaMode};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;
use crate::pages::assert_field_error;

/// The test's authenticator app (shared with the browser journey).
#[path = "../../../../tests/support/totp.rs"]
#[allow(
    dead_code,
    reason = "the journey's real-clock helpers are not used here"
)]
mod authenticator;

/// The TOTP code of a base32 `secret` at the app's time, `steps` steps on.
fn code_for(app: &TestApp, secret: &str, steps: i64) -> String {
    let step = totp::step_of(app.clock.now()).saturating_add_signed(steps);
    authenticator::code(secret, step)
}

/// A code that is not the current one (nor the step either side).
fn wrong_code(app: &TestApp, secret: &str) -> String {
    let near: Vec<String> = (-1..=1).map(|s| code_for(app, secret, s)).collect();
    (0..)
        .map(|n| format!("{:06}", 123_456 + n))
        .find(|c| !near.contains(c))
        .unwrap()
}

/// The text of the element with `id="…"` (up to the next tag).
fn text_of(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in {html}"))
        + marker.len();
    html[start..].split('<').next().unwrap().trim().to_owned()
}

/// The codes of a recovery codes page.
fn recovery_codes(html: &str) -> Vec<String> {
    html.split("<li><code>")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap().to_owned())
        .collect()
}

fn location(response: &reqwest::Response) -> String {
    let Some(to) = response.headers().get("location") else {
        panic!("{} {}: no redirect", response.status(), response.url());
    };
    to.to_str().unwrap().to_owned()
}

/// GETs a page that must answer 200; its HTML and its form token.
async fn form_page(app: &TestApp, browser: &Client, path: &str) -> (String, String) {
    let response = browser.get(app.url(path)).sent().await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let html = response.text().await.unwrap();
    let csrf = hidden_field(&html, "csrf_token");
    (html, csrf)
}

/// Whether the browser has a session (home answers instead of sign-in).
async fn has_session(app: &TestApp, browser: &Client) -> bool {
    let response = browser.get(app.url("/portal/")).sent().await;
    response.status() == StatusCode::OK
}

async fn sign_in(app: &TestApp, browser: &Client, password: &str) -> reqwest::Response {
    let (_, csrf) = form_page(app, browser, "/portal/sign-in").await;
    app.submit(
        browser,
        "/portal/sign-in",
        &csrf,
        &[("login", "ann"), ("password", password)],
    )
    .await
}

async fn sign_out(app: &TestApp, browser: &Client) {
    let (_, csrf) = form_page(app, browser, "/portal/").await;
    let response = app.submit(browser, "/portal/sign-out", &csrf, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// Passes the code step with `method` and `code`; the answer.
async fn pass_step(
    app: &TestApp,
    browser: &Client,
    step: &str,
    method: &str,
    code: &str,
) -> reqwest::Response {
    let (html, csrf) = form_page(app, browser, step).await;
    let methods = hidden_field(&html, "methods");
    app.submit(
        browser,
        "/portal/sign-in/second-factor",
        &csrf,
        &[("methods", &methods), ("method", method), ("code", code)],
    )
    .await
}

/// Starts an authenticator on the security page; the QR page's HTML and
/// its secret.
async fn start_authenticator(app: &TestApp, browser: &Client) -> (String, String) {
    let (_, csrf) = form_page(app, browser, "/portal/security").await;
    let response = app
        .submit(browser, "/portal/security/totp", &csrf, &[])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    let secret = text_of(&html, "totp-secret");
    (html, secret)
}

pub async fn an_authenticator_set_up_on_the_security_page_guards_the_next_sign_in(
    backend: Backend,
) {
    let app = TestApp::spawn_with(backend, Options::with_mfa(MfaMode::Optional)).await;
    let (_, browser) = app.signed_in("ann@example.com", "ann").await;
    let (html, csrf) = form_page(&app, &browser, "/portal/").await;
    assert!(html.contains("Second factor") && html.contains("security\">Manage</a>"));

    // Without its token the form is refused.
    let response = app.post_form(&browser, "/portal/security/totp", &[]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let (html, secret) = start_authenticator(&app, &browser).await;
    assert!(html.contains("<svg role=\"img\""), "an inline QR code");
    assert!(!html.contains("<script"));
    assert_eq!(secret.len(), 32, "20 bytes in base32");
    let csrf_qr = hidden_field(&html, "csrf_token");
    assert_eq!(csrf_qr, csrf);
    let confirm = |code: String| {
        let (app, browser, csrf, html) = (&app, &browser, &csrf_qr, &html);
        async move {
            let uri = hidden_field(html, "otpauth_uri").replace("&amp;", "&");
            let form = [
                ("secret", hidden_field(html, "secret")),
                ("otpauth_uri", uri),
                ("code", code),
            ];
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.submit(browser, "/portal/security/totp/confirm", csrf, &form)
                .await
        }
    };
    // A wrong code: refused with a clear message, the same QR code again,
    // nothing enrolled.
    let html = assert_field_error(
        confirm(wrong_code(&app, &secret)).await,
        StatusCode::BAD_REQUEST,
        "form",
    )
    .await;
    assert!(html.contains("code is not valid"), "{html}");
    assert_eq!(text_of(&html, "totp-secret"), secret);
    let (security, _) = form_page(&app, &browser, "/portal/security").await;
    assert!(security.contains("No second factor yet"));

    let response = confirm(code_for(&app, &secret, 0)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    let codes = recovery_codes(&html);
    assert_eq!(codes.len(), 10, "{html}");
    assert!(html.contains("I have saved them"));
    let (security, _) = form_page(&app, &browser, "/portal/security?done=codes_saved").await;
    assert!(security.contains("Authenticator app"));
    assert_eq!(text_of(&security, "recovery-codes-left"), "10");

    // The next sign-in asks for a code: no session before it.
    sign_out(&app, &browser).await;
    let response = sign_in(&app, &browser, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let step = location(&response);
    assert!(
        step.starts_with("/portal/sign-in/second-factor?methods=totp"),
        "{step}"
    );
    assert!(!has_session(&app, &browser).await);
    let (html, csrf) = form_page(&app, &browser, &step).await;
    assert!(html.contains("Use a recovery code"), "{html}");
    let no_token = app
        .post_form(
            &browser,
            "/portal/sign-in/second-factor",
            &[("method", "totp"), ("code", &code_for(&app, &secret, 0))],
        )
        .await;
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let filled: &[(&str, &str)] = &[("method", "totp"), ("code", &wrong_code(&app, &secret))];
    let response = app
        .submit(&browser, "/portal/sign-in/second-factor", &csrf, filled)
        .await;
    assert_field_error(response, StatusCode::BAD_REQUEST, "form").await;
    assert!(!has_session(&app, &browser).await);

    // The step used at enrolment never counts again: the next one does.
    app.clock.advance(time::Duration::seconds(30));
    let response = pass_step(&app, &browser, &step, "totp", &code_for(&app, &secret, 0)).await;
    assert_eq!(location(&response), "/portal/?done=signed_in");
    assert!(has_session(&app, &browser).await);

    // A recovery code works once.
    for attempt in 0..2 {
        sign_out(&app, &browser).await;
        let response = sign_in(&app, &browser, PASSWORD).await;
        let step = location(&response);
        let recovery = format!("{step}&method=recovery_code");
        let response = pass_step(&app, &browser, &recovery, "recovery_code", &codes[0]).await;
        if attempt == 0 {
            assert_eq!(location(&response), "/portal/?done=signed_in");
        } else {
            assert_field_error(response, StatusCode::BAD_REQUEST, "form").await;
            assert!(!has_session(&app, &browser).await);
        }
    }
}

pub async fn under_required_a_client_sets_up_a_factor_before_any_session(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::with_mfa(MfaMode::Required)).await;
    let (_, token) = app.invited("ann@example.com").await;
    let browser = app.client();
    let (_, csrf) = form_page(&app, &browser, &format!("/portal/invitation?token={token}")).await;
    let filled: &[(&str, &str)] = &[
        ("token", token.as_str()),
        ("username", "ann"),
        ("password", PASSWORD),
        ("password_confirmation", PASSWORD),
    ];
    let response = app
        .submit(&browser, "/portal/invitation", &csrf, filled)
        .await;
    let enrol = location(&response);
    assert_eq!(enrol, "/portal/sign-in/enrol?methods=totp,email_code");
    assert!(!has_session(&app, &browser).await);
    let (html, csrf) = form_page(&app, &browser, &enrol).await;
    assert!(html.contains("Set up an authenticator app") && html.contains("Use codes by email"));

    // Choosing emailed codes needs the password again.
    let filled: &[(&str, &str)] = &[
        ("methods", "totp,email_code"),
        ("current_password", OTHER_PASSWORD),
    ];
    let response = app
        .submit(&browser, "/portal/sign-in/enrol/email", &csrf, filled)
        .await;
    assert_field_error(response, StatusCode::UNAUTHORIZED, "current_password").await;

    let filled: &[(&str, &str)] = &[("methods", "totp,email_code")];
    let response = app
        .submit(&browser, "/portal/sign-in/enrol/totp", &csrf, filled)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    let secret = text_of(&html, "totp-secret");
    let form = |code: String| {
        vec![
            ("methods", "totp,email_code".to_owned()),
            ("secret", secret.clone()),
            (
                "otpauth_uri",
                hidden_field(&html, "otpauth_uri").replace("&amp;", "&"),
            ),
            ("code", code),
        ]
    };
    let submit = |fields: Vec<(&'static str, String)>| {
        let (app, browser, csrf) = (&app, &browser, &csrf);
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.submit(browser, "/portal/sign-in/enrol/totp/confirm", csrf, &fields)
                .await
        }
    };
    let response = submit(form(wrong_code(&app, &secret))).await;
    assert_field_error(response, StatusCode::BAD_REQUEST, "form").await;
    assert!(!has_session(&app, &browser).await);

    let response = submit(form(code_for(&app, &secret, 0))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(recovery_codes(&response.text().await.unwrap()).len(), 10);
    assert!(has_session(&app, &browser).await, "confirming signs in");
}

pub async fn a_reset_with_an_authenticator_enrolled_leads_to_the_code_step(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::with_mfa(MfaMode::Optional)).await;
    let (id, browser) = app.signed_in("ann@example.com", "ann").await;
    let started: Value = app
        .post_json(&browser, "/api/portal/mfa/totp", json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = started["secret"].as_str().unwrap().to_owned();
    let code = code_for(&app, &secret, 0);
    let payload = json!({ "code": code });
    let response = app
        .post_json(&browser, "/api/portal/mfa/totp/confirm", payload)
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    // The reset's link, not the "factor added" notice's "this wasn't me".
    app.deliver_mail().await;
    let before = app.mailer.sent_to("ann@example.com").len();
    app.staff_call(
        Method::POST,
        &format!("/staff/accounts/{id}/password-reset"),
    )
    .await;
    app.deliver_mail().await;
    let token = token_in(&app.mailer.sent_to("ann@example.com")[before].text_body);
    let stranger = app.client();
    let (_, csrf) = form_page(
        &app,
        &stranger,
        &format!("/portal/reset-password?token={token}"),
    )
    .await;
    let filled: &[(&str, &str)] = &[
        ("token", token.as_str()),
        ("password", OTHER_PASSWORD),
        ("password_confirmation", OTHER_PASSWORD),
    ];
    let response = app
        .submit(&stranger, "/portal/reset-password", &csrf, filled)
        .await;
    let step = location(&response);
    assert!(
        step.starts_with("/portal/sign-in/second-factor?methods=totp"),
        "{step}"
    );
    assert!(
        !has_session(&app, &stranger).await,
        "the inbox alone gives no session"
    );
    // The new password stands: it leads to the code step too.
    let response = sign_in(&app, &app.client(), OTHER_PASSWORD).await;
    assert!(location(&response).starts_with("/portal/sign-in/second-factor"));
    app.clock.advance(time::Duration::seconds(30));
    let response = pass_step(&app, &stranger, &step, "totp", &code_for(&app, &secret, 0)).await;
    assert_eq!(location(&response), "/portal/?done=signed_in");
}

pub async fn codes_by_email_are_added_used_and_removed_with_the_password(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::with_mfa(MfaMode::Optional)).await;
    let (_, browser) = app.signed_in("ann@example.com", "ann").await;
    let (_, csrf) = form_page(&app, &browser, "/portal/security").await;
    let (add, field) = ("/portal/security/email", "email_current_password");
    let response = app
        .submit(&browser, add, &csrf, &[(field, OTHER_PASSWORD)])
        .await;
    let html = assert_field_error(response, StatusCode::UNAUTHORIZED, field).await;
    assert!(html.contains("No second factor yet"), "nothing changed");
    let response = app.submit(&browser, add, &csrf, &[(field, PASSWORD)]).await;
    assert_eq!(location(&response), "/portal/security?done=email_added");

    // Signing in: "email me a code", then the code from the mail.
    sign_out(&app, &browser).await;
    let step = location(&sign_in(&app, &browser, PASSWORD).await);
    let (html, csrf) = form_page(&app, &browser, &step).await;
    assert!(html.contains("Email me a code"), "{html}");
    let filled: &[(&str, &str)] = &[("methods", &hidden_field(&html, "methods"))];
    let response = app
        .submit(&browser, "/portal/sign-in/email-code", &csrf, filled)
        .await;
    let sent = location(&response);
    assert!(sent.ends_with("&method=email_code&done=sent"), "{sent}");
    app.deliver_mail().await;
    let mail = app.mailer.sent_to("ann@example.com");
    let mail = mail
        .iter()
        .find(|m| m.subject.contains("sign-in code"))
        .unwrap();
    let code: String = mail.subject.chars().take(6).collect();
    let response = pass_step(&app, &browser, &sent, "email_code", &code).await;
    assert_eq!(location(&response), "/portal/?done=signed_in");

    // Removing it needs the password; a wrong one changes nothing.
    let (_, csrf) = form_page(&app, &browser, "/portal/security").await;
    let remove = "/portal/security/remove";
    let wrong = [("kind", "email_code"), ("current_password", OTHER_PASSWORD)];
    let response = app.submit(&browser, remove, &csrf, &wrong).await;
    let html = assert_field_error(response, StatusCode::UNAUTHORIZED, "current_password").await;
    assert!(html.contains("id=\"factor-email_code\""), "still enrolled");
    let right = [("kind", "email_code"), ("current_password", PASSWORD)];
    let response = app.submit(&browser, remove, &csrf, &right).await;
    assert_eq!(location(&response), "/portal/security?done=removed");
    let (html, _) = form_page(&app, &browser, "/portal/security?done=removed").await;
    assert!(html.contains("No second factor yet"));
}

pub async fn new_recovery_codes_need_the_password_and_replace_the_old_ones(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::with_mfa(MfaMode::Optional)).await;
    let (_, browser) = app.signed_in("ann@example.com", "ann").await;
    let (html, secret) = start_authenticator(&app, &browser).await;
    let csrf = hidden_field(&html, "csrf_token");
    let code = code_for(&app, &secret, 0);
    let uri = hidden_field(&html, "otpauth_uri").replace("&amp;", "&");
    let filled: &[(&str, &str)] = &[("secret", &secret), ("otpauth_uri", &uri), ("code", &code)];
    let response = app
        .submit(&browser, "/portal/security/totp/confirm", &csrf, filled)
        .await;
    let old = recovery_codes(&response.text().await.unwrap());

    let regenerate = |password: &'static str| {
        let (app, browser, csrf) = (&app, &browser, &csrf);
        async move {
            app.submit(
                browser,
                "/portal/security/recovery-codes",
                csrf,
                &[("current_password", password)],
            )
            .await
        }
    };
    assert_field_error(
        regenerate(OTHER_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "current_password",
    )
    .await;
    let response = regenerate(PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let new = recovery_codes(&response.text().await.unwrap());
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|c| !old.contains(c)));

    // An old code no longer works; a new one does.
    sign_out(&app, &browser).await;
    let step = location(&sign_in(&app, &browser, PASSWORD).await);
    let response = pass_step(&app, &browser, &step, "recovery_code", &old[1]).await;
    assert_field_error(response, StatusCode::BAD_REQUEST, "form").await;
    let response = pass_step(&app, &browser, &step, "recovery_code", &new[1]).await;
    assert_eq!(location(&response), "/portal/?done=signed_in");
}
