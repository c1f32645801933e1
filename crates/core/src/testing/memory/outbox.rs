//! The memory store's message outbox: recording a delivery attempt, on its
//! own or as a step of a commit.

use super::state::State;
use crate::{
    DeliveryOutcome, DeliveryState, MessageId, OutboxMessage, NOT_SENT_SUPERSEDED, REDACTED_BODY,
};

pub(super) fn redact(row: &mut OutboxMessage) {
    row.message.text_body = REDACTED_BODY.to_owned();
    row.message.html_body = REDACTED_BODY.to_owned();
    row.redacted = true;
}

impl State {
    /// [`AccountStore::record_delivery`](crate::AccountStore::record_delivery):
    /// an unknown message is left alone.
    pub(super) fn record_delivery(&mut self, id: MessageId, outcome: DeliveryOutcome) {
        let Some(&index) = self.outbox_index.get(&id) else {
            return;
        };
        let row = &mut self.outbox[index];
        row.lease_until = None;
        let message = &mut row.message;
        let attempted = !matches!(outcome, DeliveryOutcome::Superseded { .. });
        if attempted {
            message.attempts = message.attempts.saturating_add(1);
        }
        match outcome {
            DeliveryOutcome::Sent { at } => {
                message.state = DeliveryState::Sent;
                message.sent_at = Some(at);
                if message.message.token_hash.is_some() {
                    redact(message);
                }
            }
            DeliveryOutcome::Retry {
                next_attempt_at,
                error,
            } => {
                message.state = DeliveryState::Retrying;
                message.next_attempt_at = next_attempt_at;
                message.last_error = Some(error);
            }
            DeliveryOutcome::Failed { at, error } => {
                message.state = DeliveryState::Failed;
                message.failed_at = Some(at);
                message.last_error = Some(error);
            }
            DeliveryOutcome::Superseded { at } => {
                message.state = DeliveryState::Superseded;
                message.failed_at = Some(at);
                message.last_error = Some(NOT_SENT_SUPERSEDED.to_owned());
                if message.message.token_hash.is_some() {
                    redact(message);
                }
            }
        }
    }
}
