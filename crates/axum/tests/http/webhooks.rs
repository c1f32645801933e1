//! Webhook deliveries in the staff status (SPEC.md section 10).

use portal_access_core::config::PortalConfig;
use portal_access_core::webhook::{WebhookEndpoint, WebhookEndpoints, WebhookSecret};
use reqwest::{Method, StatusCode};

use crate::common::*;

fn one_endpoint(config: &mut PortalConfig) {
    let secret = WebhookSecret::from_bytes(vec![9; 32]).unwrap();
    config.webhooks = WebhookEndpoints {
        all_tenants: vec![WebhookEndpoint::new("https://crm.example.com/hooks", secret).unwrap()],
        ..WebhookEndpoints::default()
    };
}

/// `GET /staff/accounts/{id}` lists the account's webhook deliveries beside
/// its messages, newest first, with their state.
pub async fn staff_status_lists_webhook_deliveries_beside_messages(backend: Backend) {
    let options = Options {
        tune: Some(one_endpoint),
        ..Options::default()
    };
    let app = TestApp::spawn_with(backend, options).await;
    let id = app.create_account("ann@example.com").await;
    let fresh = app.status_of(&id).await;
    assert_eq!(fresh["webhooks"], serde_json::json!([]));

    let invited = app
        .staff_call(Method::POST, &format!("/staff/accounts/{id}/invitation"))
        .await;
    assert!(invited.status().is_success(), "{}", invited.status());
    let archived = app
        .staff_call(Method::POST, &format!("/staff/accounts/{id}/archive"))
        .await;
    assert_eq!(archived.status(), StatusCode::NO_CONTENT);

    let status = app.status_of(&id).await;
    let webhooks = status["webhooks"].as_array().unwrap();
    let types: Vec<_> = webhooks
        .iter()
        .map(|w| w["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["account.archived", "account.invited"]);
    for webhook in webhooks {
        assert_eq!(webhook["state"], "queued");
        assert_eq!(webhook["attempts"], 0);
        assert_eq!(webhook["endpoint"], "https://crm.example.com/hooks");
        assert!(webhook["next_attempt_at"].is_string());
    }
    assert_eq!(
        status["messages"].as_array().unwrap().len(),
        1,
        "beside the invitation"
    );
}
