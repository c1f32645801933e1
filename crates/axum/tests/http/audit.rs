//! `GET /staff/audit`: the tenant's chained trail, paged as JSON or
//! streamed as JSON Lines / CSV; bad input; tenant isolation.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

async fn trail(app: &TestApp, query: &str) -> Value {
    let response = app
        .staff_call(Method::GET, &format!("/staff/audit{query}"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn json_lines(response: reqwest::Response) -> Vec<Value> {
    let text = response.text().await.unwrap();
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn seqs(page: &Value) -> Vec<u64> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect()
}

pub async fn the_audit_trail_is_paged_by_cursor_with_each_events_seq_and_hash(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for name in ["ann", "bea", "cid"] {
        app.create_account(&format!("{name}@example.com")).await;
    }

    let first = trail(&app, "?limit=2").await;
    assert_eq!(seqs(&first), vec![1, 2]);
    let event = &first["events"][0];
    assert_eq!(event["kind"], "account_created");
    assert_eq!(event["actor"]["staff_id"], "alice");
    assert_eq!(event["hash"].as_str().unwrap().len(), 64);
    assert_ne!(first["events"][0]["hash"], first["events"][1]["hash"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = trail(&app, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(seqs(&second), vec![3]);
    assert_eq!(second["next_cursor"], Value::Null);
}

pub async fn the_audit_trail_streams_as_jsonl_and_csv_filtered_by_account_and_kind(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let ann = app.create_account("ann@example.com").await;
    app.create_account("bea@example.com").await;
    let response = app.set_access(&ann, false).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let response = app
        .staff_call(Method::GET, "/staff/audit?format=jsonl")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let rows = json_lines(response).await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2]["kind"], "access_disabled");
    assert_eq!(rows[2]["seq"], 3);

    let path = format!("/staff/audit?format=csv&account={ann}&kind=account_created");
    let response = app.staff_call(Method::GET, &path).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("seq,hash,id,at,tenant,account_id,actor_type,actor_id,kind,"));
    assert!(lines[1].starts_with("1,"), "{text}");
    assert!(
        lines[1].contains(&format!(",{ann},staff,alice,account_created,")),
        "{text}"
    );

    let window = "?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z";
    assert!(trail(&app, window).await["events"]
        .as_array()
        .unwrap()
        .is_empty());
}

pub async fn bad_audit_queries_are_validation_failed_with_a_message(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for query in [
        "?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
        "?from=yesterday",
        "?kind=password_stolen",
        "?format=xml",
        "?cursor=abc",
        "?cursor=-1",
        "?limit=0",
        "?account=not-an-id",
    ] {
        let response = app
            .staff_call(Method::GET, &format!("/staff/audit{query}"))
            .await;
        assert_error(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    }
}

pub async fn a_tenants_staff_never_sees_another_tenants_audit_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_account("ann@example.com").await;
    let response = app
        .other_staff_create(json!({ "email": "zed@example.com" }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let alices = trail(&app, "").await;
    assert_eq!(seqs(&alices), vec![1]);
    assert_eq!(alices["events"][0]["tenant"], "firm");
    let response = sent(app.other_staff(Method::GET, "/staff/audit?format=jsonl")).await;
    let rows = json_lines(response).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["tenant"], "other");
    assert_eq!(rows[0]["seq"], 1);
}
