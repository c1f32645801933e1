//! Connections dropped mid-commit: reset completions and staff actions
//! while the database's connections are terminated under them
//! (PostgreSQL), or while another connection holds the write lock past the
//! busy timeout (SQLite). Every
//! answer is a success for work that committed or a retryable 503, and
//! every account ends consistent.

use std::collections::HashMap;
use std::time::Duration;

use futures::{stream, StreamExt};
use portal_access_core::config::{PortalConfig, Rate};
use portal_access_core::{AccountId, MessageKind, RawToken, TenantId};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

/// Accounts of each kind of request.
const ACCOUNTS: usize = 200;
/// Requests in flight at once.
const IN_FLIGHT: usize = 16;

fn lift_reset_rates(config: &mut PortalConfig) {
    config.staff_reset_rate = Rate::new(10_000, time::Duration::hours(1));
}

/// One account of the run: its id, address, the version it had before,
/// and the answer its request got.
struct Outcome {
    id: String,
    email: String,
    version_before: i64,
    status: StatusCode,
    /// For a reset completion: the link it used.
    token: Option<String>,
}

/// Creates `count` accounts `{prefix}{i}@example.com` with a password.
async fn active_accounts(app: &TestApp, prefix: &str, count: usize) -> Vec<(String, String)> {
    stream::iter(0..count)
        .map(|i| async move {
            let email = format!("{prefix}{i}@example.com");
            let id = app.create_account(&email).await;
            let body = json!({ "password": PASSWORD, "password_confirmation": PASSWORD, "must_change": false });
            let path = format!("/staff/accounts/{id}/password");
            let set = app.staff_json(Method::PUT, &path, body).await;
            assert_eq!(set.status(), StatusCode::NO_CONTENT);
            (id, email)
        })
        .buffered(IN_FLIGHT)
        .collect()
        .await
}

async fn version_of(app: &TestApp, id: &str) -> i64 {
    let tenant = TenantId::new("firm").unwrap();
    let id: AccountId = id.parse().unwrap();
    app.store
        .account(&tenant, id)
        .await
        .unwrap()
        .unwrap()
        .version
}

/// The answer to one request: a status, or a 503 when the connection to
/// the server itself broke (it never did here; counted as a failure).
async fn status_of(request: reqwest::RequestBuilder) -> StatusCode {
    request.send().await.expect("the server answers").status()
}

pub async fn dropped_connections_leave_every_account_consistent_and_every_answer_honest(
    backend: Backend,
) {
    let options = Options {
        tune: Some(lift_reset_rates),
        sqlite_busy_timeout: Some(Duration::from_millis(300)),
        ..Options::default()
    };
    let app = TestApp::spawn_with(backend, options).await;
    let resetting = active_accounts(&app, "reset", ACCOUNTS).await;
    let staffed = active_accounts(&app, "staff", ACCOUNTS).await;
    for (id, _) in &resetting {
        let path = format!("/staff/accounts/{id}/password-reset");
        let sent = app.staff_call(Method::POST, &path).await;
        assert_eq!(sent.status(), StatusCode::ACCEPTED);
    }
    // Deliver the outbox (a batch per run) until nothing new is sent.
    let mut delivered = usize::MAX;
    while delivered != app.mailer.sent().len() {
        delivered = app.mailer.sent().len();
        app.deliver_mail().await;
    }
    let mut links: HashMap<String, String> = HashMap::new();
    for message in app.mailer.sent() {
        if message.kind == MessageKind::PasswordReset {
            links.insert(message.to.clone(), token_in(&message.text_body));
        }
    }
    let mut outcomes = Vec::new();
    for (id, email) in resetting.iter().chain(&staffed) {
        outcomes.push(Outcome {
            id: id.clone(),
            email: email.clone(),
            version_before: version_of(&app, id).await,
            status: StatusCode::IM_A_TEAPOT,
            token: links.get(email).cloned(),
        });
    }
    assert_eq!(links.len(), ACCOUNTS);

    // Act: every request at once (IN_FLIGHT at a time) while a helper
    // terminates the database connections a few times (PostgreSQL), or
    // holds the write lock past the busy timeout a few times (SQLite).
    let terminator = async {
        let mut faults = 0;
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            faults += match backend {
                Backend::Postgres => app.terminate_connections().await,
                Backend::Sqlite => {
                    app.hold_write_lock(Duration::from_millis(600)).await;
                    1
                }
            };
        }
        faults
    };
    let requests = stream::iter(outcomes.iter_mut())
        .map(|outcome| {
            let app = &app;
            async move {
                outcome.status = match &outcome.token {
                    Some(token) => {
                        let body = json!({ "token": token, "password": OTHER_PASSWORD, "password_confirmation": OTHER_PASSWORD });
                        let client = app.client();
                        status_of(client.post(app.url("/api/portal/reset-password")).json(&body)).await
                    }
                    None => {
                        let body = json!({ "password": OTHER_PASSWORD, "password_confirmation": OTHER_PASSWORD, "must_change": false });
                        let path = format!("/staff/accounts/{}/password", outcome.id);
                        status_of(app.staff(Method::PUT, &path).json(&body)).await
                    }
                };
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<()>>();
    let (terminated, _) = tokio::join!(terminator, requests);
    assert!(terminated > 0, "the helper broke the database");

    // Assert: each answer tells the truth, each account is whole.
    let tenant = TenantId::new("firm").unwrap();
    let mut unavailable = 0;
    for outcome in &outcomes {
        let id: AccountId = outcome.id.parse().unwrap();
        let changed = version_of(&app, &outcome.id).await > outcome.version_before;
        let messages = app
            .store
            .messages_for_account(&tenant, id, 100)
            .await
            .unwrap();
        let notices = messages
            .iter()
            .filter(|m| m.message.kind == MessageKind::PasswordChanged)
            .count();
        // The set-up's own password set queued one notice already.
        assert_eq!(
            notices,
            1 + usize::from(changed),
            "{}: one notice per change",
            outcome.email
        );
        if let Some(token) = &outcome.token {
            let hash = RawToken::parse(token).unwrap().hash();
            let used = app
                .store
                .token(&hash)
                .await
                .unwrap()
                .unwrap()
                .used_at
                .is_some();
            assert_eq!(
                changed, used,
                "{}: password changed iff its link is used",
                outcome.email
            );
        }
        match outcome.status {
            StatusCode::OK | StatusCode::NO_CONTENT => {
                assert!(
                    changed,
                    "{}: success answered for work that did not commit",
                    outcome.email
                )
            }
            StatusCode::SERVICE_UNAVAILABLE => unavailable += 1,
            other => panic!(
                "{}: answered {other}, neither success nor a retryable 503",
                outcome.email
            ),
        }
    }
    eprintln!(
        "{terminated} faults; {unavailable} of {} answers were 503",
        outcomes.len()
    );
}
