//! Recovery and trust around the second factor over HTTP (SPEC.md section
//! 8, second half): staff MFA reset, remembered devices, the client's
//! sessions and devices, staff ending sessions; every refusal.

use portal_access_core::MfaMode;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{json, Value};
use time::Duration;

use crate::common::*;

/// A signed-in client of `email` with an authenticator enrolled (the clock
/// then moved one step on); the account id, the client and the secret.
pub(crate) async fn with_totp(
    app: &TestApp,
    email: &str,
    username: &str,
) -> (String, Client, Vec<u8>) {
    let (id, client) = app.signed_in(email, username).await;
    let (secret, _) = enrol_totp(app, &client).await;
    app.clock.advance(Duration::seconds(30));
    (id, client, secret)
}

/// The JSON answer to `login`'s `password` on `client`, whatever it is.
async fn password_answer(app: &TestApp, client: &Client, login: &str, password: &str) -> Value {
    let sign_in = json!({ "login": login, "password": password });
    body(app.post_json(client, "/api/portal/sign-in", sign_in).await).await
}

/// The password step on `client`; its JSON.
async fn password_step(app: &TestApp, client: &Client, login: &str) -> Value {
    let payload = json!({ "login": login, "password": PASSWORD });
    let response = app.post_json(client, "/api/portal/sign-in", payload).await;
    assert_eq!(response.status(), StatusCode::OK, "password step");
    body(response).await
}

/// Signs in on `client` with the authenticator, ticking "remember" or not;
/// the answer of the code step.
async fn sign_in_with_code(
    app: &TestApp,
    client: &Client,
    login: &str,
    secret: &[u8],
    remember: bool,
) -> Response {
    let shape = password_step(app, client, login).await;
    assert_eq!(shape["second_factor_required"], true, "{shape}");
    let response = app
        .post_json(
            client,
            "/api/portal/sign-in/second-factor",
            json!({ "method": "totp", "code": totp_code(app, secret, 0), "remember_device": remember }),
        )
        .await;
    app.clock.advance(Duration::seconds(30));
    response
}

fn device_cookie(response: &Response) -> Option<String> {
    set_cookies(response)
        .into_iter()
        .find(|c| c.starts_with("portal_device="))
}

async fn is_signed_in(app: &TestApp, client: &Client) -> bool {
    sent(client.get(app.url("/api/portal/me"))).await.status() == StatusCode::OK
}

async fn sessions_of(app: &TestApp, client: &Client) -> Vec<Value> {
    let response = sent(client.get(app.url("/api/portal/sessions"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    body(response).await["sessions"].as_array().unwrap().clone()
}

async fn devices_of(app: &TestApp, client: &Client) -> Vec<Value> {
    let response = sent(client.get(app.url("/api/portal/devices"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    body(response).await["devices"].as_array().unwrap().clone()
}

/// The id of the caller's own session.
async fn current_session_id(app: &TestApp, client: &Client) -> String {
    let sessions = sessions_of(app, client).await;
    let current = sessions.iter().find(|s| s["current"] == true).unwrap();
    current["id"].as_str().unwrap().to_owned()
}

/// A second browser of the same account, signed in with the password.
async fn second_browser(app: &TestApp, login: &str) -> Client {
    let client = app.client();
    let shape = password_step(app, &client, login).await;
    assert!(shape["username"].is_string(), "signed in at once: {shape}");
    client
}

async fn delete(client: &Client, app: &TestApp, path: &str) -> Response {
    sent(client.delete(app.url(path))).await
}

pub async fn a_staff_mfa_reset_removes_the_factor_ends_sessions_and_notifies_the_client(
    backend: Backend,
) {
    let app = TestApp::spawn_with(backend, Options::with_mfa(MfaMode::Optional)).await;
    let (id, client, _) = with_totp(&app, "ann@example.com", "ann").await;
    let status = app.status_of(&id).await;
    assert_eq!(status["mfa"]["factors"][0]["kind"], "totp");
    assert!(status["available_actions"]
        .as_array()
        .unwrap()
        .contains(&json!("mfa_reset")));
    let reset = format!("/staff/accounts/{id}/mfa-reset");

    let other_tenant = app.other_staff_json(Method::POST, &reset, json!({})).await;
    assert_error(other_tenant, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(
        app.status_of(&id).await["mfa"]["factors"][0]["kind"],
        "totp"
    );

    let response = app.staff_call(Method::POST, &reset).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    assert!(!is_signed_in(&app, &client).await, "sessions revoked");
    let status = app.status_of(&id).await;
    assert_eq!(status["mfa"]["factors"], json!([]));
    assert_eq!(status["mfa"]["last_reset"]["by"], "alice");
    assert!(status["mfa"]["last_reset"]["at"].is_string());
    assert!(!status["available_actions"]
        .as_array()
        .unwrap()
        .contains(&json!("mfa_reset")));
    app.deliver_mail().await;
    let notice = app
        .mailer
        .sent_to("ann@example.com")
        .into_iter()
        .rev()
        .find(|m| m.subject.contains("second factor was reset"))
        .expect("the reset notice");
    assert!(notice.text_body.contains("/not-me?token="));
    let events = body(
        app.staff_call(Method::GET, &format!("/staff/accounts/{id}/events"))
            .await,
    )
    .await;
    let event = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "mfa_reset")
        .expect("an mfa_reset event");
    assert_eq!(event["actor"]["staff_id"], "alice");

    // Under `optional`, the next sign-in simply has no factor.
    let shape = password_step(&app, &app.client(), "ann").await;
    assert_eq!(
        shape["username"], "ann",
        "signed in without a code: {shape}"
    );
    // A second reset has nothing to remove.
    let again = app.staff_call(Method::POST, &reset).await;
    assert_error(again, StatusCode::BAD_REQUEST, "validation_failed").await;
}

pub async fn after_an_mfa_reset_under_required_the_next_sign_in_asks_to_enrol(backend: Backend) {
    // `required` from the day after tomorrow: optional until the clock gets there.
    let options = Options {
        mfa: MfaMode::Required,
        tune: Some(|config| {
            config.mfa.required_from =
                Some(time::OffsetDateTime::now_utc().date() + Duration::days(2));
        }),
        ..Options::default()
    };
    let app = TestApp::spawn_with(backend, options).await;
    let (id, _, _) = with_totp(&app, "ann@example.com", "ann").await;
    app.clock.advance(Duration::days(3));
    let response = app
        .staff_call(Method::POST, &format!("/staff/accounts/{id}/mfa-reset"))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let shape = password_step(&app, &app.client(), "ann").await;
    assert_eq!(shape["second_factor_required"], true);
    assert_eq!(shape["enrolment_required"], true, "{shape}");
}

pub async fn an_mfa_reset_is_refused_for_an_archived_account_and_past_the_staff_rate(
    backend: Backend,
) {
    let app = TestApp::spawn_with(backend, Options::with_mfa(MfaMode::Optional)).await;
    let (ann, _, _) = with_totp(&app, "ann@example.com", "ann").await;
    let (bea, bea_client, _) = with_totp(&app, "bea@example.com", "bea").await;

    let archive = app
        .staff_call(Method::POST, &format!("/staff/accounts/{ann}/archive"))
        .await;
    assert_eq!(archive.status(), StatusCode::NO_CONTENT);
    let refused = app
        .staff_call(Method::POST, &format!("/staff/accounts/{ann}/mfa-reset"))
        .await;
    assert_error(refused, StatusCode::CONFLICT, "account_archived").await;

    // Ten password resets use up alice's rate; the MFA reset is the eleventh.
    let reset = format!("/staff/accounts/{bea}/password-reset");
    for _ in 0..10 {
        let response = app.staff_call(Method::POST, &reset).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let refused = app
        .staff_call(Method::POST, &format!("/staff/accounts/{bea}/mfa-reset"))
        .await;
    assert_error(
        refused,
        StatusCode::FORBIDDEN,
        "human_verification_required",
    )
    .await;
    assert_eq!(
        app.status_of(&bea).await["mfa"]["factors"][0]["kind"],
        "totp"
    );
    assert!(is_signed_in(&app, &bea_client).await, "nothing changed");
}

pub async fn a_remembered_device_skips_the_code_on_that_browser_for_that_account_only(
    backend: Backend,
) {
    let app = TestApp::spawn_with(backend, Options::with_mfa(MfaMode::Optional)).await;
    let (_, _, ann_secret) = with_totp(&app, "ann@example.com", "ann").await;
    with_totp(&app, "bea@example.com", "bea").await;

    let browser = app.client();
    let done = sign_in_with_code(&app, &browser, "ann", &ann_secret, true).await;
    assert_eq!(done.status(), StatusCode::OK);
    let cookie = device_cookie(&done).expect("a device cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let sign_out = app
        .post_json(&browser, "/api/portal/sign-out", json!({}))
        .await;
    assert_eq!(sign_out.status(), StatusCode::NO_CONTENT);

    let shape = password_step(&app, &browser, "ann").await;
    assert_eq!(shape["username"], "ann", "no code asked: {shape}");
    assert_eq!(devices_of(&app, &browser).await.len(), 1);

    let elsewhere = password_step(&app, &app.client(), "ann").await;
    assert_eq!(elsewhere["second_factor_required"], true, "another browser");

    // Ann's device cookie does not skip Bea's second factor.
    let shape = password_step(&app, &browser, "bea").await;
    assert_eq!(shape["second_factor_required"], true, "{shape}");
    let token = cookie
        .trim_start_matches("portal_device=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let forged = sent(
        Client::new()
            .post(app.url("/api/portal/sign-in"))
            .header("cookie", format!("portal_device={token}"))
            .json(&json!({ "login": "bea@example.com", "password": PASSWORD })),
    )
    .await;
    assert_eq!(body(forged).await["second_factor_required"], true);

    // Without "remember", no cookie.
    let plain = sign_in_with_code(&app, &app.client(), "ann", &ann_secret, false).await;
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(device_cookie(&plain), None);
}

pub async fn a_password_change_and_a_staff_mfa_reset_forget_every_device(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::with_mfa(MfaMode::Optional)).await;
    let (id, _, secret) = with_totp(&app, "ann@example.com", "ann").await;
    let browser = app.client();
    let done = sign_in_with_code(&app, &browser, "ann", &secret, true).await;
    assert!(device_cookie(&done).is_some());

    let change = app
        .put_json(
            &browser,
            "/api/portal/password",
            json!({ "current_password": PASSWORD, "password": OTHER_PASSWORD,
                    "password_confirmation": OTHER_PASSWORD }),
        )
        .await;
    assert_eq!(change.status(), StatusCode::NO_CONTENT);
    assert!(devices_of(&app, &browser).await.is_empty());
    let shape = password_answer(&app, &browser, "ann", OTHER_PASSWORD).await;
    assert_eq!(shape["second_factor_required"], true, "device forgotten");

    // Remembered again, then the staff MFA reset forgets it too.
    let again = app.client();
    let shape = password_answer(&app, &again, "ann", OTHER_PASSWORD).await;
    assert_eq!(shape["second_factor_required"], true);
    let done = app
        .post_json(
            &again,
            "/api/portal/sign-in/second-factor",
            json!({ "method": "totp", "code": totp_code(&app, &secret, 0), "remember_device": true }),
        )
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    assert_eq!(app.status_of(&id).await["mfa"]["remembered_devices"], 1);
    let reset = app
        .staff_call(Method::POST, &format!("/staff/accounts/{id}/mfa-reset"))
        .await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.status_of(&id).await["mfa"]["remembered_devices"], 0);
}

pub async fn the_client_lists_and_ends_sessions_but_never_another_accounts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, first) = app.signed_in("ann@example.com", "ann").await;
    let second = second_browser(&app, "ann").await;
    let (_, bea) = app.signed_in("bea@example.com", "bea").await;

    let sessions = sessions_of(&app, &first).await;
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    for key in [
        "id",
        "created_at",
        "last_seen_at",
        "ip",
        "location",
        "os",
        "browser",
    ] {
        assert!(sessions[0].get(key).is_some(), "{key} in {}", sessions[0]);
    }
    let security = body(sent(first.get(app.url("/api/portal/security"))).await).await;
    assert_eq!(security["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(security["devices"], json!([]));

    // Bea's session id, and ids that name nothing: not found, nothing changed.
    let beas = current_session_id(&app, &bea).await;
    for id in [
        beas.as_str(),
        "0123456789abcdef0123456789abcdef",
        "not-an-id",
    ] {
        let refused = delete(&first, &app, &format!("/api/portal/sessions/{id}")).await;
        assert_error(refused, StatusCode::NOT_FOUND, "not_found").await;
    }
    assert!(is_signed_in(&app, &bea).await);
    assert!(is_signed_in(&app, &second).await);

    let seconds = current_session_id(&app, &second).await;
    let ended = delete(&first, &app, &format!("/api/portal/sessions/{seconds}")).await;
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    assert!(!is_signed_in(&app, &second).await);
    assert!(is_signed_in(&app, &first).await);

    let third = second_browser(&app, "ann").await;
    let others = app
        .post_json(&first, "/api/portal/sessions/revoke-others", json!({}))
        .await;
    assert_eq!(others.status(), StatusCode::NO_CONTENT);
    assert!(!is_signed_in(&app, &third).await);
    assert!(is_signed_in(&app, &first).await);
    assert!(is_signed_in(&app, &bea).await);
    assert_eq!(sessions_of(&app, &first).await.len(), 1);

    let anonymous = sent(app.client().get(app.url("/api/portal/sessions"))).await;
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

pub async fn the_client_forgets_one_device_or_all_but_never_another_accounts(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::with_mfa(MfaMode::Optional)).await;
    let (_, home, secret) = with_totp(&app, "ann@example.com", "ann").await;
    let (_, bea, bea_secret) = with_totp(&app, "bea@example.com", "bea").await;
    let (laptop, phone, beas) = (app.client(), app.client(), app.client());
    for browser in [&laptop, &phone] {
        let done = sign_in_with_code(&app, browser, "ann", &secret, true).await;
        assert_eq!(done.status(), StatusCode::OK);
    }
    let done = sign_in_with_code(&app, &beas, "bea", &bea_secret, true).await;
    assert_eq!(done.status(), StatusCode::OK);
    let devices = devices_of(&app, &home).await;
    assert_eq!(devices.len(), 2);
    let beas_device = devices_of(&app, &bea).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let refused = delete(&home, &app, &format!("/api/portal/devices/{beas_device}")).await;
    assert_error(refused, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(devices_of(&app, &bea).await.len(), 1, "nothing changed");

    let first = devices[0]["id"].as_str().unwrap();
    let forgot = delete(&home, &app, &format!("/api/portal/devices/{first}")).await;
    assert_eq!(forgot.status(), StatusCode::NO_CONTENT);
    assert_eq!(devices_of(&app, &home).await.len(), 1);
    let all = delete(&home, &app, "/api/portal/devices").await;
    assert_eq!(all.status(), StatusCode::NO_CONTENT);
    assert!(devices_of(&app, &home).await.is_empty());
    let shape = password_step(&app, &laptop, "ann").await;
    assert_eq!(shape["second_factor_required"], true, "forgotten");
    assert_eq!(devices_of(&app, &bea).await.len(), 1);
}

pub async fn staff_read_and_end_an_accounts_sessions_within_their_tenant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, first) = app.signed_in("ann@example.com", "ann").await;
    let second = second_browser(&app, "ann").await;
    let path = format!("/staff/accounts/{id}/sessions");

    let listed = body(app.staff_call(Method::GET, &path).await).await;
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 2);
    let status = app.status_of(&id).await;
    assert_eq!(status["sessions"]["active"], 2);
    assert!(status["sessions"]["last_seen_at"].is_string());
    assert_eq!(status["mfa"]["remembered_devices"], 0);

    let other = sent(app.other_staff(Method::GET, &path)).await;
    assert_error(other, StatusCode::NOT_FOUND, "not_found").await;
    let other = sent(app.other_staff(Method::DELETE, &path)).await;
    assert_error(other, StatusCode::NOT_FOUND, "not_found").await;
    assert!(is_signed_in(&app, &first).await, "nothing changed");

    let ended = app.staff_call(Method::DELETE, &path).await;
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    assert!(!is_signed_in(&app, &first).await);
    assert!(!is_signed_in(&app, &second).await);
    assert_eq!(app.status_of(&id).await["sessions"]["active"], 0);
}

pub async fn the_security_page_lists_sessions_and_ends_another_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, first) = app.signed_in("ann@example.com", "ann").await;
    let second = second_browser(&app, "ann").await;
    let seconds = current_session_id(&app, &second).await;

    let html = app.page(&first, "/portal/security").await;
    assert!(html.contains("Where you are signed in"), "{html}");
    assert!(html.contains("This browser"));
    assert!(html.contains(&format!("session-{seconds}")));
    let csrf = hidden_field(&html, "csrf_token");

    let filled: &[(&str, &str)] = &[("id", "0123456789abcdef0123456789abcdef")];
    let refused = app
        .submit(&first, "/portal/security/sessions/revoke", &csrf, filled)
        .await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    assert!(body_text(refused).await.contains("not one of yours"));

    let filled: &[(&str, &str)] = &[("id", &seconds)];
    let ended = app
        .submit(&first, "/portal/security/sessions/revoke", &csrf, filled)
        .await;
    assert_eq!(ended.status(), StatusCode::SEE_OTHER);
    assert!(!is_signed_in(&app, &second).await);
    let html = app
        .page(&first, "/portal/security?done=session_revoked")
        .await;
    assert!(html.contains("That session was ended"));
    assert!(!html.contains(&format!("session-{seconds}")));

    let without_token = app
        .post_form(&first, "/portal/security/sessions/revoke-others", &[])
        .await;
    assert_eq!(without_token.status(), StatusCode::FORBIDDEN);
}
