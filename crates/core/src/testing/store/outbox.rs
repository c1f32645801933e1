//! The outbox: leases, delivery records, redaction, and concurrent dispatchers.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use tokio::task::JoinSet;

use crate::{
    AccountStore, DeliveryOutcome, DeliveryState, MessageId, NewMessage, OutboxMessage,
    NOT_SENT_SUPERSEDED, REDACTED_BODY,
};

use super::fixtures::*;

/// A leased message is not leased again, to anyone, until its lease expires;
/// then it is.
pub async fn a_leased_message_is_not_leased_again_until_its_lease_expires(
    store: Arc<dyn AccountStore>,
) {
    let (_, ann) = firm_with_ann(&store).await;
    let (m1, m2) = (message(&ann, 1, 0, None), message(&ann, 2, 1, None));
    queue(&store, vec![m1.clone(), m2.clone()]).await;

    let leased = store.lease_outbox(at(10), at(70), 10).await.unwrap();
    assert_eq!(leased, vec![queued(m1.clone()), queued(m2.clone())]);
    assert!(lease_ids(&store, 10, 70, 10).await.is_empty());
    assert!(
        lease_ids(&store, 69, 129, 10).await.is_empty(),
        "the lease still holds"
    );
    assert_eq!(
        lease_ids(&store, 70, 130, 10).await,
        vec![m1.id, m2.id],
        "expired"
    );
    assert!(lease_ids(&store, 71, 131, 10).await.is_empty());
}

/// Only queued or retrying messages that are due are leased, oldest due
/// first, at most `limit` at a time.
pub async fn messages_are_leased_only_when_due_and_oldest_due_first(store: Arc<dyn AccountStore>) {
    let (_, ann) = firm_with_ann(&store).await;
    let early = message(&ann, 1, 0, None);
    let later = message(&ann, 2, 5, None);
    let future = message(&ann, 3, 600, None);
    let retried = message(&ann, 4, 1, None);
    queue(
        &store,
        vec![
            early.clone(),
            later.clone(),
            future.clone(),
            retried.clone(),
        ],
    )
    .await;
    // `retried` fails once and is due again at t=3, before `later`.
    assert_eq!(
        lease_ids(&store, 1, 61, 10).await,
        vec![early.id, retried.id]
    );
    store
        .record_delivery(
            retried.id,
            DeliveryOutcome::Retry {
                next_attempt_at: at(3),
                error: "421 try later".into(),
            },
        )
        .await
        .unwrap();
    store
        .record_delivery(early.id, DeliveryOutcome::Sent { at: at(2) })
        .await
        .unwrap();

    assert_eq!(lease_ids(&store, 10, 70, 1).await, vec![retried.id]);
    assert_eq!(lease_ids(&store, 10, 70, 1).await, vec![later.id]);
    assert!(lease_ids(&store, 10, 70, 10).await.is_empty());
    // At 600 the leases of 10..70 have long expired: those two come back,
    // still ahead of the message first due at 600.
    assert_eq!(
        lease_ids(&store, 600, 660, 10).await,
        vec![retried.id, later.id, future.id]
    );
}

/// Six dispatchers leasing at once from 60 due messages get disjoint
/// batches that together hold every message once.
pub async fn concurrent_leases_never_hand_out_one_message_twice(store: Arc<dyn AccountStore>) {
    let (_, ann) = firm_with_ann(&store).await;
    queue(
        &store,
        (0..60)
            .map(|n| message(&ann, n, i64::from(n % 7), None))
            .collect(),
    )
    .await;

    let lease = |store| async move { lease_ids(&store, 10, 70, 4).await };
    assert_six_leasers_share(&store, lease, (0..60).map(message_id).collect()).await;
}

/// Recording `Sent` marks the message sent, counts the attempt, releases the
/// lease, and redacts the bodies only of a message that carries a token.
pub async fn recording_a_sent_message_redacts_only_a_body_that_carries_a_token(
    store: Arc<dyn AccountStore>,
) {
    let (_, ann) = firm_with_ann(&store).await;
    let link = message(&ann, 1, 0, Some((hash(1), 3_600)));
    let notice = message(&ann, 2, 0, None);
    queue(&store, vec![link.clone(), notice.clone()]).await;
    assert_eq!(lease_ids(&store, 1, 61, 10).await.len(), 2);

    for m in [&link, &notice] {
        store
            .record_delivery(m.id, DeliveryOutcome::Sent { at: at(5) })
            .await
            .unwrap();
    }

    let sent_link = message_of(&store, &ann, link.id).await;
    assert_eq!(sent_link.state, DeliveryState::Sent);
    assert_eq!(sent_link.attempts, 1);
    assert_eq!(sent_link.sent_at, Some(at(5)));
    assert!(sent_link.redacted);
    assert_eq!(sent_link.message.text_body, REDACTED_BODY);
    assert_eq!(sent_link.message.html_body, REDACTED_BODY);
    assert_eq!(sent_link.message.subject, link.subject);
    let sent_notice = message_of(&store, &ann, notice.id).await;
    assert_eq!(sent_notice.state, DeliveryState::Sent);
    assert!(!sent_notice.redacted);
    assert_eq!(sent_notice.message, notice);
    assert!(
        lease_ids(&store, 1_000, 1_060, 10).await.is_empty(),
        "sent is final"
    );
}

/// Recording `Retry` counts the attempt, keeps the error for staff, releases
/// the lease, and makes the message due again at the given time.
pub async fn recording_a_retry_reschedules_the_message_with_its_error(
    store: Arc<dyn AccountStore>,
) {
    let (_, ann) = firm_with_ann(&store).await;
    let m = message(&ann, 1, 0, Some((hash(1), 3_600)));
    queue(&store, vec![m.clone()]).await;
    assert_eq!(lease_ids(&store, 1, 61, 10).await, vec![m.id]);

    store
        .record_delivery(
            m.id,
            DeliveryOutcome::Retry {
                next_attempt_at: at(30),
                error: "connection refused".into(),
            },
        )
        .await
        .unwrap();

    let retrying = message_of(&store, &ann, m.id).await;
    assert_eq!(
        retrying,
        OutboxMessage {
            state: DeliveryState::Retrying,
            attempts: 1,
            next_attempt_at: at(30),
            last_error: Some("connection refused".into()),
            ..queued(m.clone())
        }
    );
    assert!(
        lease_ids(&store, 29, 89, 10).await.is_empty(),
        "not yet due"
    );
    assert_eq!(
        lease_ids(&store, 30, 90, 10).await,
        vec![m.id],
        "lease released"
    );
    store
        .record_delivery(
            m.id,
            DeliveryOutcome::Retry {
                next_attempt_at: at(90),
                error: "421 busy".into(),
            },
        )
        .await
        .unwrap();
    let again = message_of(&store, &ann, m.id).await;
    assert_eq!(
        (again.attempts, again.last_error.as_deref()),
        (2, Some("421 busy"))
    );
}

/// Recording `Failed` counts the attempt, keeps the error and the time, and
/// the message is never leased again.
pub async fn recording_a_failure_gives_up_on_the_message(store: Arc<dyn AccountStore>) {
    let (_, ann) = firm_with_ann(&store).await;
    let m = message(&ann, 1, 0, None);
    queue(&store, vec![m.clone()]).await;
    assert_eq!(lease_ids(&store, 1, 61, 10).await, vec![m.id]);

    store
        .record_delivery(
            m.id,
            DeliveryOutcome::Failed {
                at: at(2),
                error: "550 no such user".into(),
            },
        )
        .await
        .unwrap();

    assert_eq!(
        message_of(&store, &ann, m.id).await,
        OutboxMessage {
            state: DeliveryState::Failed,
            attempts: 1,
            failed_at: Some(at(2)),
            last_error: Some("550 no such user".into()),
            ..queued(m.clone())
        }
    );
    assert!(lease_ids(&store, 10_000, 10_060, 10).await.is_empty());
}

/// A message whose link died before it left is recorded as superseded:
/// no attempt counted, the note for staff, its link body redacted, and it
/// is never leased again.
pub async fn recording_a_superseded_message_redacts_its_link_and_never_leases_it_again(
    store: Arc<dyn AccountStore>,
) {
    let (_, ann) = firm_with_ann(&store).await;
    let m = message(&ann, 1, 0, Some((hash(1), 3_600)));
    queue(&store, vec![m.clone()]).await;
    assert_eq!(lease_ids(&store, 1, 61, 10).await, vec![m.id]);

    let superseded = DeliveryOutcome::Superseded { at: at(2) };
    store.record_delivery(m.id, superseded).await.unwrap();

    let stored = message_of(&store, &ann, m.id).await;
    assert_eq!(
        (stored.state, stored.attempts, stored.failed_at),
        (DeliveryState::Superseded, 0, Some(at(2)))
    );
    assert_eq!(stored.last_error.as_deref(), Some(NOT_SENT_SUPERSEDED));
    assert!(stored.redacted);
    assert_eq!(stored.message.text_body, REDACTED_BODY);
    assert!(lease_ids(&store, 10_000, 10_060, 10).await.is_empty());
}

/// Bodies whose token expired by `now` are redacted, each once; bodies
/// without a token or with a live token are kept.
pub async fn bodies_whose_token_expired_are_redacted_once(store: Arc<dyn AccountStore>) {
    let (_, ann) = firm_with_ann(&store).await;
    let soon = message(&ann, 1, 0, Some((hash(1), 100)));
    let later = message(&ann, 2, 0, Some((hash(2), 200)));
    let plain = message(&ann, 3, 0, None);
    queue(&store, vec![soon.clone(), later.clone(), plain.clone()]).await;

    assert_eq!(store.redact_expired_bodies(at(99)).await.unwrap(), 0);
    assert_eq!(store.redact_expired_bodies(at(100)).await.unwrap(), 1);
    assert_eq!(store.redact_expired_bodies(at(150)).await.unwrap(), 0);
    let redacted = message_of(&store, &ann, soon.id).await;
    assert!(redacted.redacted);
    assert_eq!(redacted.message.text_body, REDACTED_BODY);
    assert_eq!(redacted.message.html_body, REDACTED_BODY);
    assert_eq!(
        message_of(&store, &ann, later.id).await,
        queued(later.clone())
    );

    assert_eq!(store.redact_expired_bodies(at(10_000)).await.unwrap(), 1);
    assert!(message_of(&store, &ann, later.id).await.redacted);
    assert_eq!(message_of(&store, &ann, plain.id).await, queued(plain));
}

/// Several dispatchers, each on its own store handle (its own pool) to one
/// database, deliver `messages` queued messages through mailers that fail
/// 20% of sends transiently: every message is delivered exactly once and
/// ends `Sent`; none is lost. `stores` must all reach the same database;
/// the first must be empty.
pub async fn concurrent_dispatchers_deliver_every_message_exactly_once(
    stores: Vec<Arc<dyn AccountStore>>,
    messages: u32,
) {
    use crate::dispatch::{Dispatcher, DispatcherConfig};
    use crate::testing::fakes::RecordingMailer;
    use crate::SystemClock;

    let first = Arc::clone(&stores[0]);
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    insert(&first, &ann).await;
    let now = OffsetDateTime::now_utc();
    let queued_ids: Vec<MessageId> = (0..messages).map(message_id).collect();
    for chunk in queued_ids.chunks(100) {
        let batch = chunk
            .iter()
            .map(|id| NewMessage {
                id: *id,
                created_at: now,
                token_expires_at: Some(now + Duration::days(1)),
                ..message(&ann, 0, 0, Some((hash(1), 86_400)))
            })
            .collect();
        queue(&first, batch).await;
    }

    let config = DispatcherConfig {
        batch_size: 25,
        base_backoff: std::time::Duration::from_millis(5),
        max_backoff: std::time::Duration::from_millis(40),
        max_attempts: 1_000,
        poll_interval: std::time::Duration::from_millis(5),
        ..DispatcherConfig::default()
    };
    let mut mailers = Vec::new();
    let mut stops = Vec::new();
    let mut running = JoinSet::new();
    for (n, store) in stores.iter().enumerate() {
        let mailer = Arc::new(RecordingMailer::new());
        mailer.fail_transiently_at_rate(1, 5, 0x5EED + n as u64);
        let dispatcher = Dispatcher::new(
            Arc::clone(store),
            mailer.clone(),
            Arc::new(SystemClock),
            config.clone(),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        running.spawn(dispatcher.run(async move {
            let _ = stopped.await;
        }));
        mailers.push(mailer);
        stops.push(stop);
    }
    let delivered = || mailers.iter().map(|m| m.sent().len()).sum::<usize>();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    while delivered() < messages as usize {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {messages} messages delivered in 120 s",
            delivered()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Let any (wrong) duplicate send surface before stopping.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    for stop in stops {
        let _ = stop.send(());
    }
    while let Some(result) = running.join_next().await {
        result.expect("a dispatcher");
    }

    let mut per_message = std::collections::HashMap::new();
    for mailer in &mailers {
        for sent in mailer.sent() {
            *per_message.entry(sent.id).or_insert(0u32) += 1;
        }
    }
    let shares: Vec<usize> = mailers.iter().map(|m| m.sent().len()).collect();
    assert_eq!(
        per_message.len(),
        messages as usize,
        "every message delivered"
    );
    assert!(
        per_message.values().all(|&count| count == 1),
        "a message was delivered twice (shares {shares:?})"
    );
    let outbox = first
        .messages_for_account(&firm, ann.id, messages + 10)
        .await
        .expect("list messages");
    assert_eq!(outbox.len(), messages as usize);
    assert!(outbox
        .iter()
        .all(|m| m.state == DeliveryState::Sent && m.redacted));
    let retried = outbox.iter().filter(|m| m.attempts > 1).count();
    assert!(retried > 0, "the failing mailers caused retries");
    let far = now + Duration::days(2);
    assert!(
        first.lease_outbox(far, far, 10).await.unwrap().is_empty(),
        "none left"
    );
    eprintln!("delivered per dispatcher: {shares:?}; {retried} messages needed a retry");
}
