//! The second factor over HTTP: enrolment, the sign-in challenge, recovery
//! and emailed codes, and every refusal (SPEC.md section 8).

use portal_access_core::crypto::totp;
use portal_access_core::MfaMode;
use reqwest::{Client, Response, StatusCode};
use serde_json::json;
use time::Duration;

use crate::common::*;

/// Signs in with the password on a fresh client: the client and the answer.
async fn password_step(app: &TestApp, login: &str) -> (Client, Response) {
    let client = app.client();
    let payload = json!({ "login": login, "password": PASSWORD });
    let response = app.post_json(&client, "/api/portal/sign-in", payload).await;
    (client, response)
}

async fn second_factor(app: &TestApp, client: &Client, method: &str, code: &str) -> Response {
    let body = json!({ "method": method, "code": code });
    app.post_json(client, "/api/portal/sign-in/second-factor", body)
        .await
}

/// The code step answers OK to `code`.
async fn assert_code_accepted(app: &TestApp, client: &Client, method: &str, code: &str) {
    let response = second_factor(app, client, method, code).await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// The code step refuses `code` as `second_factor_invalid`.
async fn assert_code_refused(app: &TestApp, client: &Client, method: &str, code: &str) {
    let response = second_factor(app, client, method, code).await;
    assert_error(response, StatusCode::BAD_REQUEST, "second_factor_invalid").await;
}

/// Asks to add codes by email to `client`'s account, confirming `password`.
async fn add_email_codes(app: &TestApp, client: &Client, password: &str) -> Response {
    let confirm = json!({ "current_password": password });
    app.post_json(client, "/api/portal/mfa/email", confirm)
        .await
}

async fn signed_in_ok(app: &TestApp, client: &Client) -> bool {
    let response = client.get(app.url("/api/portal/me")).sent().await;
    response.status() == StatusCode::OK
}

/// Ann, signed in, with TOTP enrolled; the clock moved to the next step.
async fn ann_with_totp(app: &TestApp) -> (String, Vec<u8>, Vec<String>) {
    let (id, client) = app.signed_in("ann@example.com", "ann").await;
    let (secret, codes) = enrol_totp(app, &client).await;
    app.clock.advance(Duration::seconds(30));
    (id, secret, codes)
}

pub async fn a_client_enrols_an_authenticator_and_then_needs_its_code_to_sign_in(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::with_mfa(MfaMode::Optional)).await;
    let (id, secret, codes) = ann_with_totp(&app).await;
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| c.len() == 10));

    let (client, response) = password_step(&app, "ann").await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookies = set_cookies(&response);
    assert!(cookies.iter().any(|c| c.starts_with("portal_mfa=")
        && c.contains("HttpOnly")
        && c.contains("SameSite=Lax")));
    assert!(
        !cookies.iter().any(|c| c.starts_with("portal_session=")),
        "no session yet"
    );
    let shape = body(response).await;
    assert_eq!(
        shape,
        json!({
            "second_factor_required": true,
            "enrolment_required": false,
            "methods": ["totp", "recovery_code"],
        })
    );
    assert!(!signed_in_ok(&app, &client).await);

    let done = second_factor(&app, &client, "totp", &totp_code(&app, &secret, 0)).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(signed_in_ok(&app, &client).await);

    let security = body(client.get(app.url("/api/portal/security")).sent().await).await;
    assert_eq!(security["factors"][0]["kind"], "totp");
    assert_eq!(security["recovery_codes_left"], 10);
    let status = app.status_of(&id).await;
    assert_eq!(status["mfa"]["policy"], "optional");
    assert_eq!(status["mfa"]["factors"][0]["kind"], "totp");
    assert!(
        !status.to_string().contains(&totp::base32(&secret)),
        "never the secret"
    );
}

pub async fn wrong_length_alphabet_and_old_step_codes_are_second_factor_invalid(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::with_mfa(MfaMode::Optional)).await;
    let (_, secret, _) = ann_with_totp(&app).await;
    let (client, _) = password_step(&app, "ann").await;

    for (method, bad) in [
        ("totp", "12345"),
        ("totp", "12a456"),
        ("recovery_code", "ABCDEFGH1K"),
        ("sms", "123456"),
    ] {
        assert_code_refused(&app, &client, method, bad).await;
    }
    let old = totp_code(&app, &secret, -2);
    assert_code_refused(&app, &client, "totp", &old).await;
    // Five wrong codes so far: the challenge is dead, even for the right code.
    let right = totp_code(&app, &secret, 0);
    assert_error(
        second_factor(&app, &client, "totp", &right).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert!(!signed_in_ok(&app, &client).await);
}

pub async fn a_step_or_recovery_code_once_used_is_refused_the_second_time(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::with_mfa(MfaMode::Optional)).await;
    let (_, secret, codes) = ann_with_totp(&app).await;

    let (first, _) = password_step(&app, "ann").await;
    let now = totp_code(&app, &secret, 0);
    assert_code_accepted(&app, &first, "totp", &now).await;
    let (again, _) = password_step(&app, "ann").await;
    assert_code_refused(&app, &again, "totp", &now).await;

    let typed = format!("{}-{}", &codes[0][..5], codes[0][5..].to_lowercase());
    assert_code_accepted(&app, &again, "recovery_code", &typed).await;
    let (third, _) = password_step(&app, "ann").await;
    assert_code_refused(&app, &third, "recovery_code", &codes[0]).await;
    app.deliver_mail().await;
    let mail = app.mailer.sent_to("ann@example.com");
    assert!(mail.iter().any(|m| m.subject.contains("recovery code")));
}

pub async fn a_challenge_after_five_minutes_or_of_another_account_never_works(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::with_mfa(MfaMode::Optional)).await;
    let (_, secret, _) = ann_with_totp(&app).await;
    let (_, bob_client) = app.signed_in("bob@example.com", "bob").await;
    let (bob_secret, _) = enrol_totp(&app, &bob_client).await;
    app.clock.advance(Duration::seconds(30));

    // Bob's challenge with Ann's code.
    let (bob, _) = password_step(&app, "bob").await;
    assert_error(
        second_factor(&app, &bob, "totp", &totp_code(&app, &secret, 0)).await,
        StatusCode::BAD_REQUEST,
        "second_factor_invalid",
    )
    .await;
    assert_eq!(
        second_factor(&app, &bob, "totp", &totp_code(&app, &bob_secret, 0))
            .await
            .status(),
        StatusCode::OK
    );

    let (late, _) = password_step(&app, "ann").await;
    app.clock.advance(Duration::minutes(5));
    assert_error(
        second_factor(&app, &late, "totp", &totp_code(&app, &secret, 0)).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let none = app.client();
    assert_error(
        second_factor(&app, &none, "totp", "123456").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

pub async fn under_required_a_client_enrols_before_any_session_and_keeps_the_last_factor(
    backend: Backend,
) {
    let app = TestApp::spawn_with(backend, Options::with_mfa(MfaMode::Required)).await;
    let (_, token) = app.invited("ann@example.com").await;
    let client = app.client();
    let accepted = app
        .post_json(&client, "/api/portal/invitation/accept", json!({
            "token": token, "username": "ann", "password": PASSWORD, "password_confirmation": PASSWORD,
        }))
        .await;
    assert_eq!(
        body(accepted).await,
        json!({
            "second_factor_required": true, "enrolment_required": true, "methods": ["totp", "email_code"],
        })
    );
    assert!(!signed_in_ok(&app, &client).await);

    let (secret, codes) = enrol_totp(&app, &client).await;
    assert_eq!(codes.len(), 10);
    assert!(
        signed_in_ok(&app, &client).await,
        "the confirmation issued the session"
    );

    let payload = json!({ "code": totp_code(&app, &secret, 1) });
    let twice = app
        .post_json(&client, "/api/portal/mfa/totp/confirm", payload)
        .await;
    assert_error(twice, StatusCode::BAD_REQUEST, "validation_failed").await;
    let remove = client
        .delete(app.url("/api/portal/mfa/totp"))
        .json(&json!({ "current_password": PASSWORD }))
        .sent()
        .await;
    assert_error(remove, StatusCode::FORBIDDEN, "second_factor_required").await;
    let security = body(client.get(app.url("/api/portal/security")).sent().await).await;
    assert_eq!(security["factors"][0]["kind"], "totp", "nothing changed");
    assert_eq!(security["policy"], "required");
}

pub async fn a_password_alone_cannot_add_a_factor_to_an_account_that_has_one(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::with_mfa(MfaMode::Optional)).await;
    ann_with_totp(&app).await;
    let (client, _) = password_step(&app, "ann").await;
    let response = app
        .post_json(&client, "/api/portal/mfa/totp", json!({}))
        .await;
    assert_error(response, StatusCode::FORBIDDEN, "second_factor_required").await;
    let response = add_email_codes(&app, &client, PASSWORD).await;
    assert_error(response, StatusCode::FORBIDDEN, "second_factor_required").await;
}

pub async fn a_reset_with_an_authenticator_enrolled_asks_for_the_code(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::with_mfa(MfaMode::Optional)).await;
    let (_, secret, _) = ann_with_totp(&app).await;
    app.post_json(
        &app.client(),
        "/api/portal/forgot-password",
        json!({ "email": "ann@example.com" }),
    )
    .await;
    app.deliver_mail().await;
    let mail = app.mailer.sent_to("ann@example.com");
    let reset_mail = mail
        .iter()
        .find(|m| m.text_body.contains("/reset-password?token="))
        .expect("a reset link");
    let token = token_in(&reset_mail.text_body);
    let client = app.client();
    let reset = app
        .post_json(
            &client,
            "/api/portal/reset-password",
            json!({
                "token": token, "password": OTHER_PASSWORD, "password_confirmation": OTHER_PASSWORD,
            }),
        )
        .await;
    assert_eq!(reset.status(), StatusCode::OK);
    assert_eq!(body(reset).await["second_factor_required"], true);
    assert!(
        !signed_in_ok(&app, &client).await,
        "the link alone signs no one in"
    );
    assert_eq!(
        second_factor(&app, &client, "totp", &totp_code(&app, &secret, 0))
            .await
            .status(),
        StatusCode::OK
    );
    // The new password stands.
    let response = app.api_sign_in("ann", OTHER_PASSWORD).await;
    assert_eq!(body(response).await["second_factor_required"], true);
}

pub async fn an_emailed_code_signs_in_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::with_mfa(MfaMode::Optional)).await;
    let (_, client) = app.signed_in("ann@example.com", "ann").await;
    let wrong = add_email_codes(&app, &client, OTHER_PASSWORD).await;
    assert_error(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let added = add_email_codes(&app, &client, PASSWORD).await;
    assert_eq!(added.status(), StatusCode::NO_CONTENT);

    let (client, response) = password_step(&app, "ann").await;
    assert_eq!(body(response).await["methods"], json!(["email_code"]));
    let sent = app
        .post_json(&client, "/api/portal/sign-in/email-code", json!({}))
        .await;
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    app.deliver_mail().await;
    let mail = app.mailer.sent_to("ann@example.com");
    let message = mail
        .iter()
        .rev()
        .find(|m| m.subject.contains("sign-in code"))
        .unwrap();
    let code: String = message.subject.chars().take(6).collect();

    assert_code_refused(&app, &client, "email_code", "000000").await;
    assert_code_accepted(&app, &client, "email_code", &code).await;
    let (again, _) = password_step(&app, "ann").await;
    assert_code_refused(&app, &again, "email_code", &code).await;

    let status = app
        .status_of(&app.create_account("x@example.com").await)
        .await;
    assert_eq!(status["mfa"]["factors"], json!([]));
}
