//! The memory store's webhook outbox: the same leases and outcomes as its
//! message outbox.

use time::OffsetDateTime;

use super::state::State;
use crate::{DeliveryOutcome, DeliveryState, NewWebhook, OutboxWebhook, WebhookId};

#[derive(Debug)]
pub(super) struct WebhookRow {
    pub(super) webhook: OutboxWebhook,
    pub(super) lease_until: Option<OffsetDateTime>,
}

impl State {
    pub(super) fn queue_webhook(&mut self, webhook: &NewWebhook) {
        self.webhook_index.insert(webhook.id, self.webhooks.len());
        self.webhooks.push(WebhookRow {
            webhook: OutboxWebhook::queued(webhook.clone()),
            lease_until: None,
        });
    }

    pub(super) fn lease_webhooks(
        &mut self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Vec<OutboxWebhook> {
        let mut due: Vec<usize> = self
            .webhooks
            .iter()
            .enumerate()
            .filter(|(_, row)| {
                matches!(
                    row.webhook.state,
                    DeliveryState::Queued | DeliveryState::Retrying
                ) && row.webhook.next_attempt_at <= now
                    && row.lease_until.is_none_or(|until| until <= now)
            })
            .map(|(index, _)| index)
            .collect();
        // Stable: among equal due times, the earlier queued goes first.
        due.sort_by_key(|&index| self.webhooks[index].webhook.next_attempt_at);
        due.truncate(limit as usize);
        due.into_iter()
            .map(|index| {
                let row = &mut self.webhooks[index];
                row.lease_until = Some(lease_until);
                row.webhook.clone()
            })
            .collect()
    }

    pub(super) fn record_webhook_delivery(&mut self, id: WebhookId, outcome: DeliveryOutcome) {
        let Some(&index) = self.webhook_index.get(&id) else {
            return;
        };
        let row = &mut self.webhooks[index];
        row.lease_until = None;
        let webhook = &mut row.webhook;
        webhook.attempts = webhook.attempts.saturating_add(1);
        match outcome {
            DeliveryOutcome::Sent { at } => {
                webhook.state = DeliveryState::Sent;
                webhook.sent_at = Some(at);
            }
            DeliveryOutcome::Retry {
                next_attempt_at,
                error,
            } => {
                webhook.state = DeliveryState::Retrying;
                webhook.next_attempt_at = next_attempt_at;
                webhook.last_error = Some(error);
            }
            DeliveryOutcome::Failed { at, error } => {
                webhook.state = DeliveryState::Failed;
                webhook.failed_at = Some(at);
                webhook.last_error = Some(error);
            }
            DeliveryOutcome::Superseded { at } => {
                webhook.state = DeliveryState::Failed;
                webhook.failed_at = Some(at);
                webhook.last_error = Some(crate::NOT_SENT_SUPERSEDED.to_owned());
            }
        }
    }
}
