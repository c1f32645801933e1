//! The client API: every endpoint, its refusals, and the session cookie.

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

/// The `name=value` part of a response's session cookie.
fn session_cookie(response: &reqwest::Response) -> String {
    let header = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("portal_session="))
        .expect("a session cookie");
    header.split(';').next().unwrap().to_owned()
}

pub async fn accepting_an_invitation_signs_the_client_in_with_a_strict_cookie(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.invited("ann@example.com").await;
    let client = app.client();
    let response = app.post_json(&client, "/api/portal/invitation/accept", json!({ "token": token, "username": "ann", "password": PASSWORD, "password_confirmation": PASSWORD })).await;
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(set_cookie.starts_with("portal_session="), "{set_cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Domain"), "{set_cookie}");
    assert!(
        !set_cookie.contains("Secure"),
        "http public URL: {set_cookie}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "username": "ann", "email": "ann@example.com", "must_change_password": false, "language": null })
    );

    let me = client.get(app.url("/api/portal/me")).sent().await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.json::<Value>().await.unwrap(), body);
}

pub async fn a_used_or_unknown_token_is_token_invalid(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.invited("ann@example.com").await;
    let accept = |token: &str| {
        app.client()
            .post(app.url("/api/portal/invitation/accept"))
            .json(&json!({ "token": token, "username": "ann", "password": PASSWORD, "password_confirmation": PASSWORD }))
            .sent()
    };
    assert_eq!(accept(&token).await.status(), StatusCode::OK);
    assert_error(
        accept(&token).await,
        StatusCode::BAD_REQUEST,
        "token_invalid",
    )
    .await;
    assert_error(
        accept("nonsense").await,
        StatusCode::BAD_REQUEST,
        "token_invalid",
    )
    .await;
    let unknown = "A".repeat(43);
    let response = app
        .post_json(
            &app.client(),
            "/api/portal/reset-password",
            json!({ "token": unknown, "password": PASSWORD, "password_confirmation": PASSWORD }),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "token_invalid").await;
}

pub async fn accepting_refuses_bad_usernames_and_passwords_and_keeps_the_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.signed_in("bea@example.com", "bea").await;
    let (_, token) = app.invited("ann@example.com").await;
    let accept = |username: &str, password: &str, confirmation: &str| {
        app.client()
            .post(app.url("/api/portal/invitation/accept"))
            .json(&json!({ "token": token, "username": username, "password": password, "password_confirmation": confirmation }))
            .sent()
    };
    assert_error(
        accept("ann", PASSWORD, OTHER_PASSWORD).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_mismatch",
    )
    .await;
    let body = assert_error(
        accept("ann", "password", "password").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_rejected",
    )
    .await;
    assert!(!body["error"]["reasons"].as_array().unwrap().is_empty());
    assert_error(
        accept("ann@example", PASSWORD, PASSWORD).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "username_invalid",
    )
    .await;
    assert_error(
        accept("BEA", PASSWORD, PASSWORD).await,
        StatusCode::CONFLICT,
        "username_taken",
    )
    .await;
    assert_eq!(
        accept("ann", PASSWORD, PASSWORD).await.status(),
        StatusCode::OK
    );
}

pub async fn sign_in_by_username_or_email_issues_a_new_session_each_time(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.signed_in("ann@example.com", "ann").await;
    let mut cookies = Vec::new();
    for login in ["ann", "ANN@example.com"] {
        let response = app.api_sign_in(login, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "{login}");
        cookies.push(session_cookie(&response));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["username"], "ann");
    }
    assert_ne!(cookies[0], cookies[1]);
    let status: Value = app
        .staff_call(
            Method::GET,
            &format!(
                "/staff/accounts/{}",
                account_id(&app, "ann@example.com").await
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(status["last_sign_in_at"].is_string());
}

async fn account_id(app: &TestApp, email: &str) -> String {
    let events = app
        .store
        .account_by_email(&portal_access_core::TenantId::new("firm").unwrap(), email)
        .await
        .unwrap()
        .expect("the account");
    events.id.to_string()
}

pub async fn wrong_passwords_are_invalid_credentials_then_rate_limited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.signed_in("ann@example.com", "ann").await;
    let sign_in = |password: &str| {
        app.client()
            .post(app.url("/api/portal/sign-in"))
            .json(&json!({ "login": "ann", "password": password }))
            .sent()
    };
    let unknown = app.api_sign_in("nobody", PASSWORD).await;
    assert_error(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    for _ in 0..5 {
        assert_error(
            sign_in(OTHER_PASSWORD).await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    assert_error(
        sign_in(OTHER_PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
}

pub async fn signing_out_ends_the_session_and_clears_the_cookie(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, client) = app.signed_in("ann@example.com", "ann").await;
    let response = client.post(app.url("/api/portal/sign-out")).sent().await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cleared = response.headers()[SET_COOKIE].to_str().unwrap();
    assert!(
        cleared.starts_with("portal_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let me = client.get(app.url("/api/portal/me")).sent().await;
    assert_error(me, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let again = client.post(app.url("/api/portal/sign-out")).sent().await;
    assert_error(again, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

pub async fn me_without_a_valid_session_is_unauthenticated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client();
    let response = client.get(app.url("/api/portal/me")).sent().await;
    assert_error(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let response = client
        .get(app.url("/api/portal/me"))
        .header(COOKIE, format!("portal_session={}", "B".repeat(43)))
        .sent()
        .await;
    assert_error(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

pub async fn forgot_password_answers_the_same_whether_or_not_the_address_exists(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, client) = app.signed_in("ann@example.com", "ann").await;
    let forgot = |email: &str| {
        app.client()
            .post(app.url("/api/portal/forgot-password"))
            .json(&json!({ "email": email }))
            .sent()
    };
    let known = forgot("ann@example.com").await;
    let unknown = forgot("nobody@example.com").await;
    let malformed = forgot("not an address").await;
    assert_eq!(known.status(), StatusCode::ACCEPTED);
    assert_eq!(unknown.status(), StatusCode::ACCEPTED);
    assert_eq!(malformed.status(), StatusCode::ACCEPTED);
    let known = known.text().await.unwrap();
    assert_eq!(known, unknown.text().await.unwrap());
    assert_eq!(known, malformed.text().await.unwrap());

    let token = app.latest_token("ann@example.com").await;
    assert!(app.mailer.sent_to("nobody@example.com").is_empty());
    let reset = |token: &str| {
        app.client()
            .post(app.url("/api/portal/reset-password"))
            .json(&json!({ "token": token, "password": OTHER_PASSWORD, "password_confirmation": OTHER_PASSWORD }))
            .sent()
    };
    let response = reset(&token).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(session_cookie(&response).starts_with("portal_session="));
    assert_error(
        reset(&token).await,
        StatusCode::BAD_REQUEST,
        "token_invalid",
    )
    .await;
    // The reset revoked the earlier session.
    let me = client.get(app.url("/api/portal/me")).sent().await;
    assert_error(me, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

/// Ann's forgotten password, asked with this CAPTCHA response.
async fn forgot_with_captcha(app: &TestApp, captcha_response: &str) -> reqwest::Response {
    let body = json!({ "email": "ann@example.com", "captcha_response": captcha_response });
    app.post_json(&app.client(), "/api/portal/forgot-password", body)
        .await
}

pub async fn forgot_password_with_a_required_captcha_refuses_a_failed_one(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        Options {
            forgot_requires_captcha: true,
            ..Options::captcha_accepting("human")
        },
    )
    .await;
    let response = forgot_with_captcha(&app, "robot").await;
    assert_error(response, StatusCode::BAD_REQUEST, "captcha_failed").await;
    let response = forgot_with_captcha(&app, "human").await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
}

pub async fn the_client_changes_their_username(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.signed_in("bea@example.com", "bea").await;
    let (_, client) = app.signed_in("ann@example.com", "ann").await;
    let change = |username: &str| {
        client
            .put(app.url("/api/portal/username"))
            .json(&json!({ "username": username }))
            .sent()
    };
    assert_error(change("Bea").await, StatusCode::CONFLICT, "username_taken").await;
    assert_error(
        change("a").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "username_invalid",
    )
    .await;
    assert_eq!(change("ann.client").await.status(), StatusCode::NO_CONTENT);
    let me = app.me(&client).await;
    assert_eq!(me["username"], "ann.client");

    let payload = json!({ "username": "thief" });
    let anonymous = app
        .put_json(&app.client(), "/api/portal/username", payload)
        .await;
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

pub async fn changing_the_password_rotates_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.invited("ann@example.com").await;
    let client = app.client();
    let accepted = app.post_json(&client, "/api/portal/invitation/accept", json!({ "token": token, "username": "ann", "password": PASSWORD, "password_confirmation": PASSWORD })).await;
    let old_cookie = session_cookie(&accepted);
    let change = |current: &str, password: &str, confirmation: &str| {
        client
            .put(app.url("/api/portal/password"))
            .json(&json!({ "current_password": current, "password": password, "password_confirmation": confirmation }))
            .sent()
    };
    assert_error(
        change(OTHER_PASSWORD, OTHER_PASSWORD, OTHER_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_error(
        change(PASSWORD, OTHER_PASSWORD, PASSWORD).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_mismatch",
    )
    .await;
    assert_error(
        change(PASSWORD, "ann@example.com", "ann@example.com").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_rejected",
    )
    .await;

    let response = change(PASSWORD, OTHER_PASSWORD, OTHER_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let new_cookie = session_cookie(&response);
    assert_ne!(old_cookie, new_cookie);
    // The new cookie works, the old one does not.
    let me = client.get(app.url("/api/portal/me")).sent().await;
    assert_eq!(me.status(), StatusCode::OK);
    let stale = app
        .client()
        .get(app.url("/api/portal/me"))
        .header(COOKIE, old_cookie)
        .sent()
        .await;
    assert_error(stale, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    // A notice with a "this wasn't me" link went out.
    app.deliver_mail().await;
    let mail = app.mailer.sent_to("ann@example.com");
    assert!(mail
        .iter()
        .any(|m| m.text_body.contains("/portal/not-me?token=")));
}
