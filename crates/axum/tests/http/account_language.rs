//! The language of an account's mail: staff set it (at creation and
//! afterwards), the client sets their own (JSON and the home page's form),
//! and the mail follows it.

use portal_access_core::TenantId;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;
use crate::console::{act, console_as, console_post, open};

/// Staff create the account of `email` in `language`; its id.
async fn created(app: &TestApp, email: &str, language: &str) -> String {
    let response = app
        .staff_create(json!({ "email": email, "language": language }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let status: Value = response.json().await.unwrap();
    status["id"].as_str().unwrap().to_owned()
}

async fn set_language(app: &TestApp, id: &str, language: Value) -> reqwest::Response {
    app.staff_json(
        Method::PUT,
        &format!("/staff/accounts/{id}/language"),
        json!({ "language": language }),
    )
    .await
}

pub async fn staff_create_a_spanish_account_and_change_its_language(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = created(&app, "ana@example.com", "es-MX").await;
    assert_eq!(app.status_of(&id).await["language"], "es");

    let response = set_language(&app, &id, json!("en")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.status_of(&id).await["language"], "en");
    let response = set_language(&app, &id, Value::Null).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.status_of(&id).await["language"], Value::Null);

    let events: Value = app.staff_get(&format!("/staff/accounts/{id}/events")).await;
    let changes: Vec<&Value> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "language_changed")
        .collect();
    assert_eq!(changes.len(), 2, "{events}");
    assert_eq!(changes[0]["detail"], json!({ "old": "en", "new": null }));
    assert_eq!(changes[0]["actor"]["type"], "staff");
}

pub async fn an_unsupported_language_is_refused_and_nothing_is_created_or_changed(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .staff_create(json!({ "email": "ana@example.com", "language": "fr" }))
        .await;
    let body = assert_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`language`"),
        "{body}"
    );
    let firm = TenantId::new("firm").unwrap();
    let stored = app.store.account_by_email(&firm, "ana@example.com").await;
    assert_eq!(stored.unwrap(), None, "nothing created");

    let id = created(&app, "ana@example.com", "es").await;
    let version = app.status_of(&id).await["version"].clone();
    let response = set_language(&app, &id, json!("klingon")).await;
    assert_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    let status = app.status_of(&id).await;
    assert_eq!(status["language"], "es");
    assert_eq!(status["version"], version, "nothing changed");
}

pub async fn another_tenants_staff_cannot_change_the_language(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = created(&app, "ana@example.com", "es").await;
    let language = format!("/staff/accounts/{id}/language");
    let payload = json!({ "language": "en" });
    let response = app.other_staff_json(Method::PUT, &language, payload).await;
    assert_error(response, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(app.status_of(&id).await["language"], "es");
}

pub async fn the_client_sets_their_own_language_and_their_mail_follows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, client) = app.signed_in("ana@example.com", "ana").await;

    let response = app
        .put_json(&client, "/api/portal/language", json!({ "language": "xx" }))
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(app.me(&client).await["language"], Value::Null);

    let response = app
        .put_json(&client, "/api/portal/language", json!({ "language": "es" }))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me(&client).await["language"], "es");
    let status = app.status_of(&id).await;
    assert_eq!(status["language"], "es");

    let payload = json!({ "username": "ana.c" });
    let response = app.put_json(&client, "/api/portal/username", payload).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    app.deliver_mail().await;
    let mail = app.mailer.sent_to("ana@example.com");
    let notice = mail.last().unwrap();
    assert_eq!(
        notice.subject,
        "Se cambió su nombre de usuario de Client portal"
    );
    assert!(
        notice.text_body.contains("de ana a ana.c"),
        "{}",
        notice.text_body
    );

    let events: Value = app.staff_get(&format!("/staff/accounts/{id}/events")).await;
    let change = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "language_changed")
        .cloned()
        .unwrap();
    assert_eq!(change["actor"]["type"], "client");
}

pub async fn the_home_page_form_sets_the_language(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, client) = app.signed_in("ana@example.com", "ana").await;
    let html = app.page(&client, "/portal/").await;
    assert_contains(&html, r#"<select id="language" name="language""#);
    let csrf = hidden_field(&html, "csrf_token");

    let response = app
        .submit(&client, "/portal/language", &csrf, &[("language", "nope")])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(response).await.contains("language-error"));
    assert_eq!(app.status_of(&id).await["language"], Value::Null);

    let response = app
        .submit(&client, "/portal/language", &csrf, &[("language", "es")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.status_of(&id).await["language"], "es");
    let html = app.page(&client, "/portal/?done=language").await;
    assert_contains(&html, r#"<option value="es" lang="es" selected>"#);

    let response = app
        .post_form(&client, "/portal/language", &[("language", "en")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "no CSRF token");
    assert_eq!(app.status_of(&id).await["language"], "es");
}

pub async fn the_console_sets_the_language_on_creation_and_on_the_account_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = console_as(&app, ALICE).await;
    let (_, page) = open(&app, &client, "/accounts/new").await;
    assert_contains(&page, r#"<select id="language" name="language">"#);
    let csrf = hidden_field(&page, "csrf_token");
    let form = [("email", "ana@example.com"), ("language", "es")];
    let response = console_post(&app, &client, "/accounts", &csrf, &form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let firm = TenantId::new("firm").unwrap();
    let ana = app
        .store
        .account_by_email(&firm, "ana@example.com")
        .await
        .unwrap()
        .unwrap();
    let id = ana.id.to_string();
    assert_eq!(app.status_of(&id).await["language"], "es");

    let (status, location, _) = act(&app, &client, &id, "language", &[("language", "")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.ends_with("done=language_set"), "{location}");
    assert_eq!(app.status_of(&id).await["language"], Value::Null);
    let (_, page) = open(&app, &client, &format!("/accounts/{id}?done=language_set")).await;
    assert!(
        page.contains("The firm&#x27;s default (English)</dd>"),
        "{page}"
    );
    assert_contains(
        &page,
        "The language of this client&#x27;s emails was saved.",
    );

    // A form read before another change changes nothing.
    let seen = hidden_field(&page, "version");
    let csrf = hidden_field(&page, "csrf_token");
    assert_eq!(
        set_language(&app, &id, json!("en")).await.status(),
        StatusCode::NO_CONTENT
    );
    let target = format!("/accounts/{id}/language");
    let form = [("version", seen.as_str()), ("language", "es")];
    let response = console_post(&app, &client, &target, &csrf, &form).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(app.status_of(&id).await["language"], "en");
}

/// Twenty staff changes raced on one account (`es` and `en` in turn): each
/// is saved or refused as stale, never half done, and the newest audited
/// change is the language the account has.
pub async fn raced_language_changes_leave_the_audit_trail_agreeing_with_the_account(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let id = created(&app, "ana@example.com", "en").await;
    let answers = futures::future::join_all((0..20).map(|n| {
        let language = if n % 2 == 0 { "es" } else { "en" };
        set_language(&app, &id, json!(language))
    }))
    .await;
    for answer in &answers {
        assert!(
            [StatusCode::NO_CONTENT, StatusCode::CONFLICT].contains(&answer.status()),
            "{answer:?}"
        );
    }
    let language = app.status_of(&id).await["language"].clone();
    assert!(language == "es" || language == "en", "{language}");
    let events: Value = app.staff_get(&format!("/staff/accounts/{id}/events")).await;
    let newest = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "language_changed")
        .expect("at least one change was saved");
    assert_eq!(newest["detail"]["new"], language, "{events}");
}
