//! [`WebhookLane`]: the webhook deliveries, signed and posted through the
//! [`WebhookSender`].

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{error_text, Lane, SendFailure, Skip};
use crate::webhook::WebhookEndpoints;
use crate::{
    AccountStore, DeliveryOutcome, OutboxWebhook, StoreError, WebhookRequest, WebhookSender,
};

/// The webhook deliveries: leased with [`AccountStore::lease_webhooks`],
/// signed with the endpoint's secret at each attempt (a fresh
/// `webhook-timestamp`, the same `webhook-id`), posted with the
/// [`WebhookSender`], recorded with
/// [`AccountStore::record_webhook_delivery`]. A delivery whose endpoint is
/// no longer configured is failed without an attempt.
#[derive(Clone)]
pub struct WebhookLane {
    store: Arc<dyn AccountStore>,
    sender: Arc<dyn WebhookSender>,
    endpoints: Arc<WebhookEndpoints>,
}

impl std::fmt::Debug for WebhookLane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookLane").finish_non_exhaustive()
    }
}

impl WebhookLane {
    /// The deliveries of `store`, through `sender`, signed for `endpoints`.
    pub fn new(
        store: Arc<dyn AccountStore>,
        sender: Arc<dyn WebhookSender>,
        endpoints: WebhookEndpoints,
    ) -> Self {
        Self {
            store,
            sender,
            endpoints: Arc::new(endpoints),
        }
    }

    /// The request of one attempt of `item` at `now`, or `None` when its
    /// endpoint is no longer configured.
    pub fn request(&self, item: &OutboxWebhook, now: OffsetDateTime) -> Option<WebhookRequest> {
        let webhook = &item.webhook;
        let endpoint = self.endpoints.find(&webhook.tenant, &webhook.endpoint)?;
        let id = format!("msg_{}", webhook.id.as_uuid().simple());
        let timestamp = now.unix_timestamp();
        Some(WebhookRequest {
            url: webhook.endpoint.clone(),
            signature: endpoint.secret().sign(&id, timestamp, &webhook.payload),
            id,
            timestamp,
            body: webhook.payload.clone(),
        })
    }
}

#[async_trait]
impl Lane for WebhookLane {
    type Item = OutboxWebhook;
    const COUNTERS: [&'static str; 4] = [
        "portal_webhook_sent_total",
        "portal_webhook_retried_total",
        "portal_webhook_failed_total",
        "portal_webhook_failed_total",
    ];
    const TIMED_OUT: &'static str = "the endpoint did not answer";

    async fn lease(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxWebhook>, StoreError> {
        self.store.lease_webhooks(now, lease_until, limit).await
    }

    fn id(item: &OutboxWebhook) -> String {
        item.webhook.id.to_string()
    }

    fn attempts(item: &OutboxWebhook) -> u32 {
        item.attempts
    }

    async fn check(
        &self,
        item: &OutboxWebhook,
        _now: OffsetDateTime,
    ) -> Result<Option<Skip>, StoreError> {
        let webhook = &item.webhook;
        Ok(self
            .endpoints
            .find(&webhook.tenant, &webhook.endpoint)
            .is_none()
            .then(|| Skip::Failed("the endpoint is no longer configured".to_owned())))
    }

    async fn send(&self, item: &OutboxWebhook, now: OffsetDateTime) -> Result<(), SendFailure> {
        let Some(request) = self.request(item, now) else {
            return Err(SendFailure {
                permanent: true,
                error: "the endpoint is no longer configured".to_owned(),
            });
        };
        self.sender
            .send(&request)
            .await
            .map_err(|error| SendFailure {
                permanent: error.is_permanent(),
                error: error_text(&error),
            })
    }

    async fn record(
        &self,
        item: &OutboxWebhook,
        outcome: DeliveryOutcome,
    ) -> Result<(), StoreError> {
        self.store
            .record_webhook_delivery(item.webhook.id, outcome)
            .await
    }

    async fn maintain(&self, _now: OffsetDateTime) -> Result<(), StoreError> {
        Ok(())
    }
}
