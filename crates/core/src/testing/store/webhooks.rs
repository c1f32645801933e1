//! The webhook outbox: committed with the change, leased like messages,
//! outcomes recorded, listed per account and tenant.

use std::sync::Arc;

use crate::{
    Account, AccountChange, AccountStore, Changes, DeliveryOutcome, DeliveryRecord, DeliveryState,
    HostEventType, NewWebhook, OutboxWebhook, StoreError, WebhookId,
};

use super::fixtures::*;

fn webhook_id(n: u32) -> WebhookId {
    let mut bytes = [0xC3; 16];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    WebhookId::from_random(bytes)
}

fn webhook(owner: &Account, n: u32, seconds: i64) -> NewWebhook {
    NewWebhook {
        id: webhook_id(n),
        tenant: owner.tenant.clone(),
        account_id: Some(owner.id),
        endpoint: format!("https://crm.example.com/hooks/{}", n % 2),
        event_type: HostEventType::PasswordChanged,
        payload: format!("{{\"type\":\"password.changed\",\"n\":{n}}}"),
        created_at: at(seconds),
    }
}

async fn queue_webhooks(store: &Arc<dyn AccountStore>, webhooks: Vec<NewWebhook>) {
    let changes = Changes {
        webhooks,
        ..Changes::default()
    };
    store.commit(changes).await.expect("queue webhooks");
}

async fn leased_ids(
    store: &Arc<dyn AccountStore>,
    now: i64,
    until: i64,
    limit: u32,
) -> Vec<WebhookId> {
    let leased = store
        .lease_webhooks(at(now), at(until), limit)
        .await
        .expect("lease webhooks");
    ids(&leased, |w| w.webhook.id)
}

/// A queued webhook delivery round-trips, is leased only when due, oldest
/// first, and not again until its lease expires; a refused commit queues
/// none.
pub async fn webhooks_are_queued_with_the_commit_and_leased_once_until_the_lease_expires(
    store: Arc<dyn AccountStore>,
) {
    let (_, ann) = firm_with_ann(&store).await;
    let (w1, w2, later) = (
        webhook(&ann, 1, 0),
        webhook(&ann, 2, 1),
        webhook(&ann, 3, 600),
    );
    queue_webhooks(&store, vec![w1.clone(), w2.clone(), later.clone()]).await;

    // A commit refused by a stale version writes no webhook row.
    let mut stale = ann.clone();
    stale.version += 7;
    let refused = store
        .commit(Changes {
            account: Some(AccountChange::Update(stale)),
            webhooks: vec![webhook(&ann, 4, 0)],
            ..Changes::default()
        })
        .await;
    assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");

    let leased = store.lease_webhooks(at(10), at(70), 10).await.unwrap();
    assert_eq!(
        leased,
        vec![
            OutboxWebhook::queued(w1.clone()),
            OutboxWebhook::queued(w2.clone())
        ]
    );
    assert!(leased_ids(&store, 10, 70, 10).await.is_empty());
    assert!(
        leased_ids(&store, 69, 129, 10).await.is_empty(),
        "the lease still holds"
    );
    assert_eq!(
        leased_ids(&store, 70, 130, 1).await,
        vec![w1.id],
        "expired, limit 1"
    );
    assert_eq!(leased_ids(&store, 70, 130, 10).await, vec![w2.id]);
    assert_eq!(
        leased_ids(&store, 700, 760, 10).await,
        vec![w1.id, w2.id, later.id],
        "due at last; unrecorded leases expired again"
    );
}

/// Recording sent, retry and failed sets the state, counts the attempt,
/// keeps the error and releases the lease; listing is per account and
/// tenant, newest first.
pub async fn recorded_webhook_outcomes_stick_and_are_listed_per_account_newest_first(
    store: Arc<dyn AccountStore>,
) {
    let (firm, ann, bob) = ann_and_bob(&store).await;
    let other = tenant("other");
    let (sent, retried, failed, bobs) = (
        webhook(&ann, 1, 0),
        webhook(&ann, 2, 1),
        webhook(&ann, 3, 2),
        webhook(&bob, 4, 3),
    );
    queue_webhooks(
        &store,
        vec![sent.clone(), retried.clone(), failed.clone(), bobs.clone()],
    )
    .await;
    assert_eq!(leased_ids(&store, 10, 70, 10).await.len(), 4);

    store
        .record_webhook_delivery(sent.id, DeliveryOutcome::Sent { at: at(11) })
        .await
        .unwrap();
    let retry = DeliveryOutcome::Retry {
        next_attempt_at: at(40),
        error: "the endpoint answered 503".into(),
    };
    store
        .record_webhook_delivery(retried.id, retry)
        .await
        .unwrap();
    let failure = DeliveryOutcome::Failed {
        at: at(12),
        error: "the endpoint answered 400".into(),
    };
    store
        .record_webhook_delivery(failed.id, failure)
        .await
        .unwrap();

    let listed = store.webhooks_for_account(&firm, ann.id, 10).await.unwrap();
    assert_eq!(
        ids(&listed, |w| w.webhook.id),
        vec![failed.id, retried.id, sent.id]
    );
    let [f, r, s] = [&listed[0], &listed[1], &listed[2]];
    assert_eq!(
        (s.state, s.attempts, s.sent_at),
        (DeliveryState::Sent, 1, Some(at(11)))
    );
    assert_eq!(
        (r.state, r.attempts, r.next_attempt_at),
        (DeliveryState::Retrying, 1, at(40))
    );
    assert_eq!(r.last_error.as_deref(), Some("the endpoint answered 503"));
    assert_eq!(
        (f.state, f.failed_at),
        (DeliveryState::Failed, Some(at(12)))
    );
    assert_eq!(s.webhook, sent, "the row round-trips");

    // The retried one is leased again when due (its lease was released);
    // Bob's is still leased until 70; sent and failed ones never again.
    assert!(leased_ids(&store, 39, 99, 10).await.is_empty());
    assert_eq!(leased_ids(&store, 40, 100, 10).await, vec![retried.id]);
    assert_eq!(
        store
            .webhooks_for_account(&firm, ann.id, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .webhooks_for_account(&other, ann.id, 10)
        .await
        .unwrap()
        .is_empty());
}

/// Six concurrent leasers never get one delivery twice.
pub async fn concurrent_webhook_leases_never_hand_out_one_delivery_twice(
    store: Arc<dyn AccountStore>,
) {
    let (_, ann) = firm_with_ann(&store).await;
    queue_webhooks(
        &store,
        (0..60)
            .map(|n| webhook(&ann, n, i64::from(n % 7)))
            .collect(),
    )
    .await;
    let lease = |store| async move { leased_ids(&store, 10, 70, 4).await };
    assert_six_leasers_share(&store, lease, (0..60).map(webhook_id).collect()).await;
}

/// A message given up on is recorded in the same commit as its
/// `message.failed` webhook deliveries: a commit refused for the webhook
/// leaves the message as it was (still due), an accepted one writes both.
pub async fn a_message_failure_is_recorded_with_its_webhooks_or_not_at_all(
    store: Arc<dyn AccountStore>,
) {
    let (_, ann) = firm_with_ann(&store).await;
    let m = message(&ann, 1, 0, None);
    queue(&store, vec![m.clone()]).await;
    queue_webhooks(&store, vec![webhook(&ann, 1, 0)]).await;
    assert_eq!(lease_ids(&store, 1, 61, 10).await, vec![m.id]);
    let failure = |webhook| Changes {
        webhooks: vec![webhook],
        delivery: Some(DeliveryRecord {
            message: m.id,
            outcome: DeliveryOutcome::Failed {
                at: at(2),
                error: "550 no such user".into(),
            },
        }),
        ..Changes::default()
    };

    let refused = store.commit(failure(webhook(&ann, 1, 2))).await;
    assert!(refused.is_err(), "a webhook id queued twice: {refused:?}");
    assert_eq!(message_of(&store, &ann, m.id).await, queued(m.clone()));
    assert_eq!(
        lease_ids(&store, 61, 121, 10).await,
        vec![m.id],
        "still due once its lease expires"
    );

    store.commit(failure(webhook(&ann, 2, 2))).await.unwrap();
    let recorded = message_of(&store, &ann, m.id).await;
    assert_eq!(
        (recorded.state, recorded.attempts, recorded.failed_at),
        (DeliveryState::Failed, 1, Some(at(2)))
    );
    assert!(lease_ids(&store, 10_000, 10_060, 10).await.is_empty());
    assert_eq!(
        leased_ids(&store, 10, 70, 10).await,
        vec![webhook_id(1), webhook_id(2)]
    );
}
