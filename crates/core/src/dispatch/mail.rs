//! [`MailLane`]: the message outbox, sent through the [`Mailer`].

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{error_text, Lane, SendFailure, Skip};
use crate::webhook::{deliveries, WebhookEndpoints};
use crate::{
    AccountStore, Changes, DeliveryOutcome, DeliveryRecord, EventSink, HostEvent, Mailer, OsRandom,
    OutboxMessage, StoreError, TokenState,
};

/// The message outbox: leased with [`AccountStore::lease_outbox`], sent
/// with the [`Mailer`], recorded with [`AccountStore::record_delivery`].
/// A message whose link expired is failed, one whose link died otherwise
/// is superseded, both unsent. A message given up on raises
/// `message.failed`: queued for the webhook endpoints in the transaction that
/// records the failure (one commit: both or neither) and handed to the event
/// sink after.
#[derive(Clone)]
pub struct MailLane {
    store: Arc<dyn AccountStore>,
    mailer: Arc<dyn Mailer>,
    webhooks: Arc<WebhookEndpoints>,
    sink: Option<Arc<dyn EventSink>>,
}

impl std::fmt::Debug for MailLane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailLane").finish_non_exhaustive()
    }
}

impl MailLane {
    /// The outbox of `store`, through `mailer`.
    pub fn new(store: Arc<dyn AccountStore>, mailer: Arc<dyn Mailer>) -> Self {
        Self {
            store,
            mailer,
            webhooks: Arc::new(WebhookEndpoints::default()),
            sink: None,
        }
    }

    /// Queues `message.failed` for these endpoints.
    pub fn with_webhooks(mut self, endpoints: WebhookEndpoints) -> Self {
        self.webhooks = Arc::new(endpoints);
        self
    }

    /// Hands `message.failed` to `sink`.
    pub fn with_event_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sink = Some(sink);
        self
    }
}

#[async_trait]
impl Lane for MailLane {
    type Item = OutboxMessage;
    const COUNTERS: [&'static str; 4] = [
        "portal_outbox_sent_total",
        "portal_outbox_retried_total",
        "portal_outbox_failed_total",
        "portal_outbox_superseded_total",
    ];
    const TIMED_OUT: &'static str = "the mail server did not take the message";

    async fn lease(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        self.store.lease_outbox(now, lease_until, limit).await
    }

    fn id(item: &OutboxMessage) -> String {
        item.message.id.to_string()
    }

    fn attempts(item: &OutboxMessage) -> u32 {
        item.attempts
    }

    async fn check(
        &self,
        item: &OutboxMessage,
        now: OffsetDateTime,
    ) -> Result<Option<Skip>, StoreError> {
        let link = match &item.message.token_hash {
            Some(hash) => self.store.token(hash).await?.map(|t| t.state(now)),
            None => None,
        };
        Ok(if item.redacted || link == Some(TokenState::Expired) {
            Some(Skip::Failed(
                "the link expired before the message could be delivered".to_owned(),
            ))
        } else if matches!(link, Some(TokenState::Superseded | TokenState::Used)) {
            Some(Skip::Superseded)
        } else {
            None
        })
    }

    async fn send(&self, item: &OutboxMessage, _now: OffsetDateTime) -> Result<(), SendFailure> {
        self.mailer
            .send(&item.message)
            .await
            .map_err(|error| SendFailure {
                permanent: error.is_permanent(),
                error: error_text(&error),
            })
    }

    async fn record(
        &self,
        item: &OutboxMessage,
        outcome: DeliveryOutcome,
    ) -> Result<(), StoreError> {
        let failed = match &outcome {
            DeliveryOutcome::Failed { at, .. } => Some(HostEvent::message_failed(item, *at)),
            DeliveryOutcome::Sent { .. }
            | DeliveryOutcome::Retry { .. }
            | DeliveryOutcome::Superseded { .. } => None,
        };
        let webhooks = match &failed {
            Some(event) => deliveries(event, &self.webhooks, &OsRandom, event.at),
            None => Vec::new(),
        };
        if webhooks.is_empty() {
            self.store.record_delivery(item.message.id, outcome).await?;
        } else {
            let delivery = DeliveryRecord {
                message: item.message.id,
                outcome,
            };
            self.store
                .commit(Changes {
                    webhooks,
                    delivery: Some(delivery),
                    ..Changes::default()
                })
                .await?;
        }
        if let (Some(event), Some(sink)) = (&failed, &self.sink) {
            sink.publish(event).await;
        }
        Ok(())
    }

    async fn maintain(&self, now: OffsetDateTime) -> Result<(), StoreError> {
        let redacted = self.store.redact_expired_bodies(now).await?;
        let purged = self.store.purge_expired(now).await?;
        tracing::debug!(redacted, purged, "outbox maintenance");
        Ok(())
    }
}
