//! The staff API: every endpoint, its refusals, and tenant scoping.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

/// The refusal code of a call that needs a human verification first.
const NOT_VERIFIED: &str = "human_verification_required";

/// The refusal code of a link that needs a mailer the app was built without.
const NO_MAILER: &str = "mailer_not_configured";

/// Alice's human verification with this CAPTCHA response.
async fn verify_human(app: &TestApp, captcha_response: &str) -> reqwest::Response {
    let body = json!({ "captcha_response": captcha_response });
    app.staff_json(Method::POST, "/staff/human-verification", body)
        .await
}

/// Alice's request to create an account with this address.
async fn create_with(app: &TestApp, email: &str) -> reqwest::Response {
    let body = json!({ "email": email });
    app.staff_json(Method::POST, "/staff/accounts", body).await
}

/// Asserts the answer of a staff call that queued a link: 202 and its kind.
async fn assert_sent(response: reqwest::Response, kind: &str) {
    assert_eq!(response.status(), StatusCode::ACCEPTED, "{kind}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "sent": kind }));
}

pub async fn staff_creates_an_account_and_reads_its_status(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.staff_create(json!({ "email": "Ann@Example.com", "contact_ref": "C-1", "display_name": "Ann Client" })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(location, format!("/staff/accounts/{id}"));
    assert_eq!(created["email"], "Ann@Example.com");
    assert_eq!(created["contact_ref"], "C-1");
    assert_eq!(created["display_name"], "Ann Client");

    let response = app.staff_call(Method::GET, &location).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let status: Value = response.json().await.unwrap();
    assert_eq!(status["access"], "enabled");
    assert_eq!(status["archived"], false);
    assert_eq!(status["invitation"]["state"], "not_invited");
    assert_eq!(status["username"], Value::Null);
    assert_eq!(status["last_sign_in_at"], Value::Null);
    assert!(status["available_actions"]
        .as_array()
        .unwrap()
        .contains(&json!("send_invitation")));
    assert_eq!(status["messages"], json!([]));
}

pub async fn creating_an_account_with_a_malformed_email_is_validation_failed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = create_with(&app, "not an address").await;
    assert_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
}

pub async fn creating_an_account_with_a_used_email_is_email_taken(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_account("ann@example.com").await;
    let response = create_with(&app, "ANN@example.com").await;
    assert_error(response, StatusCode::CONFLICT, "email_taken").await;
    // Another tenant may use the same address.
    let response = app
        .other_staff_create(json!({ "email": "ann@example.com" }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

pub async fn staff_calls_without_valid_credentials_are_unauthenticated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_account("ann@example.com").await;
    let client = app.client();
    for request in [
        client.get(app.url(&format!("/staff/accounts/{id}"))),
        client
            .get(app.url(&format!("/staff/accounts/{id}")))
            .bearer_auth("guessed-token-0123456789"),
        client
            .get(app.url(&format!("/staff/accounts/{id}")))
            .basic_auth("alice", Some(ALICE)),
        client
            .post(app.url("/staff/accounts"))
            .json(&json!({ "email": "eve@example.com" })),
    ] {
        let response = request.sent().await;
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        assert_error(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
}

pub async fn another_tenants_account_is_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, _) = app.signed_in("ann@example.com", "ann").await;
    let password = json!({ "password": PASSWORD, "password_confirmation": PASSWORD });
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/staff/accounts/{id}"), None),
        (
            Method::POST,
            format!("/staff/accounts/{id}/invitation"),
            None,
        ),
        (
            Method::POST,
            format!("/staff/accounts/{id}/password-reset"),
            None,
        ),
        (
            Method::PUT,
            format!("/staff/accounts/{id}/password"),
            Some(password),
        ),
        (
            Method::PUT,
            format!("/staff/accounts/{id}/access"),
            Some(json!({ "enabled": false })),
        ),
        (Method::POST, format!("/staff/accounts/{id}/archive"), None),
        (
            Method::POST,
            format!("/staff/accounts/{id}/unarchive"),
            None,
        ),
        (
            Method::PUT,
            format!("/staff/accounts/{id}/email"),
            Some(json!({ "email": "x@example.com" })),
        ),
        (Method::GET, format!("/staff/accounts/{id}/events"), None),
    ];
    for (method, path, body) in calls {
        let mut request = app.other_staff(method.clone(), &path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.sent().await;
        assert_error(response, StatusCode::NOT_FOUND, "not_found").await;
    }
    // Nothing changed for tenant `firm`.
    let status = app.status_of(&id).await;
    assert_eq!(status["access"], "enabled");
    assert_eq!(status["archived"], false);
    assert_eq!(status["email"], "ann@example.com");
}

pub async fn unknown_and_malformed_account_ids_are_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in [
        "/staff/accounts/00000000-0000-4000-8000-000000000000",
        "/staff/accounts/not-a-uuid",
        "/staff/accounts/not-a-uuid/events",
    ] {
        let response = app.staff_call(Method::GET, path).await;
        assert_error(response, StatusCode::NOT_FOUND, "not_found").await;
    }
}

pub async fn an_invitation_is_sent_then_resent_and_the_old_link_stops_working(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_account("ann@example.com").await;
    let path = format!("/staff/accounts/{id}/invitation");
    let response = app.staff_call(Method::POST, &path).await;
    assert_sent(response, "invitation").await;
    let first = app.latest_token("ann@example.com").await;

    let response = app.staff_call(Method::POST, &path).await;
    assert_sent(response, "reinvitation").await;
    let second = app.latest_token("ann@example.com").await;
    assert_ne!(first, second);

    let accept = |token: String| {
        app.client()
            .post(app.url("/api/portal/invitation/accept"))
            .json(&json!({
                "token": token, "username": "ann",
                "password": PASSWORD, "password_confirmation": PASSWORD,
            }))
            .sent()
    };
    assert_error(
        accept(first).await,
        StatusCode::BAD_REQUEST,
        "token_invalid",
    )
    .await;
    assert_eq!(accept(second).await.status(), StatusCode::OK);

    let status = app.status_of(&id).await;
    assert_eq!(status["invitation"]["state"], "accepted");
    assert_eq!(status["username"], "ann");
    assert!(status["messages"].as_array().unwrap().len() >= 2);
}

pub async fn password_reset_refusals_follow_the_account_state(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_account("ann@example.com").await;
    let reset = format!("/staff/accounts/{id}/password-reset");

    let response = app.staff_call(Method::POST, &reset).await;
    assert_error(response, StatusCode::CONFLICT, "not_invited").await;

    app.staff_call(Method::POST, &format!("/staff/accounts/{id}/invitation"))
        .await;
    let response = app.staff_call(Method::POST, &reset).await;
    assert_error(response, StatusCode::CONFLICT, "invitation_pending").await;

    let token = app.latest_token("ann@example.com").await;
    let accepted = app.post_json(&app.client(), "/api/portal/invitation/accept", json!({ "token": token, "username": "ann", "password": PASSWORD, "password_confirmation": PASSWORD })).await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let response = app.staff_call(Method::POST, &reset).await;
    assert_sent(response, "password_reset").await;
    let token = app.latest_token("ann@example.com").await;
    let response = app.post_json(&app.client(), "/api/portal/reset-password", json!({ "token": token, "password": OTHER_PASSWORD, "password_confirmation": OTHER_PASSWORD })).await;
    assert_eq!(response.status(), StatusCode::OK);

    let response = app.set_access(&id, false).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = app.staff_call(Method::POST, &reset).await;
    assert_error(response, StatusCode::FORBIDDEN, "access_disabled").await;

    let response = app
        .staff_call(Method::POST, &format!("/staff/accounts/{id}/archive"))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = app.staff_call(Method::POST, &reset).await;
    assert_error(response, StatusCode::CONFLICT, "account_archived").await;
}

pub async fn staff_sets_a_password_that_the_client_must_change(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_account("ann@example.com").await;
    let path = format!("/staff/accounts/{id}/password");
    let set = |body: Value| app.staff_json(Method::PUT, &path, body);

    let response =
        set(json!({ "password": PASSWORD, "password_confirmation": OTHER_PASSWORD })).await;
    assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_mismatch",
    )
    .await;

    let response = set(json!({ "password": "short", "password_confirmation": "short" })).await;
    let body = assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_rejected",
    )
    .await;
    let reasons = body["error"]["reasons"].as_array().expect("reasons");
    assert!(reasons.iter().any(|r| r["code"] == "too_short"), "{body}");
    assert!(reasons.iter().all(|r| r["message"].is_string()));

    let response = set(json!({ "password": PASSWORD, "password_confirmation": PASSWORD })).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.headers()["portal-notice"], "queued");

    let response = app.api_sign_in("ann@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["must_change_password"], true);
    assert_eq!(me["username"], Value::Null);

    // must_change defaults to true and can be turned off.
    let response = set(json!({ "password": OTHER_PASSWORD, "password_confirmation": OTHER_PASSWORD, "must_change": false })).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let me: Value = app
        .api_sign_in("ann@example.com", OTHER_PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["must_change_password"], false);
}

pub async fn access_archive_and_unarchive_change_what_the_client_can_do(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, _) = app.signed_in("ann@example.com", "ann").await;
    let sign_in = || {
        app.client()
            .post(app.url("/api/portal/sign-in"))
            .json(&json!({ "login": "ann", "password": PASSWORD }))
            .sent()
    };
    let access = |enabled: bool| {
        app.staff(Method::PUT, &format!("/staff/accounts/{id}/access"))
            .json(&json!({ "enabled": enabled }))
            .sent()
    };

    assert_eq!(access(false).await.status(), StatusCode::NO_CONTENT);
    assert_error(sign_in().await, StatusCode::FORBIDDEN, "access_disabled").await;
    assert_eq!(access(true).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(sign_in().await.status(), StatusCode::OK);

    let archive = app
        .staff_call(Method::POST, &format!("/staff/accounts/{id}/archive"))
        .await;
    assert_eq!(archive.status(), StatusCode::NO_CONTENT);
    assert_error(sign_in().await, StatusCode::CONFLICT, "account_archived").await;
    assert_error(
        access(false).await,
        StatusCode::CONFLICT,
        "account_archived",
    )
    .await;
    let status = app.status_of(&id).await;
    assert_eq!(status["archived"], true);
    assert!(status["available_actions"]
        .as_array()
        .unwrap()
        .contains(&json!("unarchive")));

    let unarchive = app
        .staff_call(Method::POST, &format!("/staff/accounts/{id}/unarchive"))
        .await;
    assert_eq!(unarchive.status(), StatusCode::NO_CONTENT);
    assert_eq!(sign_in().await.status(), StatusCode::OK);
}

pub async fn staff_changes_the_email_address(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create_account("ann@example.com").await;
    app.create_account("bea@example.com").await;
    let path = format!("/staff/accounts/{id}/email");

    let response = app
        .staff_json(Method::PUT, &path, json!({ "email": "bea@example.com" }))
        .await;
    assert_error(response, StatusCode::CONFLICT, "email_taken").await;
    let response = app
        .staff_json(Method::PUT, &path, json!({ "email": "no-at-sign" }))
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;

    let payload = json!({ "email": "ann.new@example.com" });
    let response = app.staff_json(Method::PUT, &path, payload).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let status = app.status_of(&id).await;
    assert_eq!(status["email"], "ann.new@example.com");
}

pub async fn account_events_list_the_audit_trail_newest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, _) = app.signed_in("ann@example.com", "ann").await;
    let path = format!("/staff/accounts/{id}/events");

    let response = app.staff_call(Method::GET, &path).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let kinds: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"account_created"), "{kinds:?}");
    assert!(kinds.contains(&"invitation_sent"), "{kinds:?}");
    assert!(kinds.contains(&"invitation_accepted"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"account_created"));
    let accepted = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "invitation_accepted")
        .unwrap();
    assert_eq!(accepted["ip"], "127.0.0.1");

    let one: Value = app.staff_get(&format!("{path}?limit=1")).await;
    assert_eq!(one["events"].as_array().unwrap().len(), 1);
    for bad in ["0", "100000", "ten"] {
        let response = app
            .staff_call(Method::GET, &format!("{path}?limit={bad}"))
            .await;
        assert_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    }
}

pub async fn past_the_reset_rate_human_verification_is_required_then_passed(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::captcha_accepting("i-am-human")).await;
    let (id, _) = app.signed_in("ann@example.com", "ann").await;
    let reset = format!("/staff/accounts/{id}/password-reset");
    for _ in 0..10 {
        let response = app.staff_call(Method::POST, &reset).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let response = app.staff_call(Method::POST, &reset).await;
    assert_error(response, StatusCode::FORBIDDEN, NOT_VERIFIED).await;

    let response = verify_human(&app, "a-robot").await;
    assert_error(response, StatusCode::BAD_REQUEST, "captcha_failed").await;
    let response = app.staff_call(Method::POST, &reset).await;
    assert_error(response, StatusCode::FORBIDDEN, NOT_VERIFIED).await;

    let response = verify_human(&app, "i-am-human").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = app.staff_call(Method::POST, &reset).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
}

pub async fn human_verification_without_a_captcha_provider_is_validation_failed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = verify_human(&app, "anything").await;
    assert_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
}

pub async fn without_a_mailer_links_are_refused_and_notices_skipped(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::without_mailer()).await;
    let id = app.create_account("ann@example.com").await;
    let link = |kind: &str| {
        app.staff(Method::POST, &format!("/staff/accounts/{id}/{kind}"))
            .sent()
    };
    let response = link("invitation").await;
    assert_error(response, StatusCode::SERVICE_UNAVAILABLE, NO_MAILER).await;

    let response = app
        .staff_json(
            Method::PUT,
            &format!("/staff/accounts/{id}/password"),
            json!({ "password": PASSWORD, "password_confirmation": PASSWORD }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.headers()["portal-notice"], "skipped_no_mailer");

    let response = link("password-reset").await;
    assert_error(response, StatusCode::SERVICE_UNAVAILABLE, NO_MAILER).await;
}
