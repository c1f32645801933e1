//! Webhook delivery over real HTTP, against a receiver started by each test
//! on port 0 that checks every signature by hand (see `receiver`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod receiver;

use std::sync::Arc;
use std::time::{Duration, Instant};

use portal_access_core::service::{NewAccountInput, PortalService, StaffActor};
use portal_access_core::testing::MemoryStore;
use portal_access_core::webhook::{WebhookEndpoint, WebhookEndpoints, WebhookSecret};
use portal_access_core::{
    AccountId, AccountStore, Changes, DeliveryState, Dispatcher, DispatcherConfig, HostEventType,
    NewWebhook, OutboxWebhook, RequestContext, StaffId, SystemClock, TenantId, WebhookId,
    WebhookLane,
};
use portal_access_postgres::testing::TestDatabase;
use portal_access_webhooks::HttpWebhookSender;
use receiver::{Answer, Receiver, SECRET};

fn endpoints(url: &str) -> WebhookEndpoints {
    let endpoint = WebhookEndpoint::new(url, WebhookSecret::parse(SECRET).unwrap()).unwrap();
    WebhookEndpoints {
        all_tenants: vec![endpoint],
        ..WebhookEndpoints::default()
    }
}

fn fast_config() -> DispatcherConfig {
    DispatcherConfig {
        base_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(400),
        max_attempts: 1_000,
        poll_interval: Duration::from_millis(20),
        send_timeout: Duration::from_secs(3),
        ..DispatcherConfig::default()
    }
}

fn dispatcher(
    store: Arc<dyn AccountStore>,
    url: &str,
    config: DispatcherConfig,
) -> Dispatcher<WebhookLane> {
    let sender = HttpWebhookSender::new(Duration::from_secs(2)).unwrap();
    Dispatcher::for_webhooks(
        store,
        Arc::new(sender),
        endpoints(url),
        Arc::new(SystemClock),
        config,
    )
}

fn firm() -> TenantId {
    TenantId::new("firm").unwrap()
}

/// The account [`queue`] queues deliveries about.
const QUEUED_FOR: AccountId = AccountId::from_uuid(uuid::Uuid::from_u128(0xACC));

/// `count` deliveries of one event each, to `url`, queued directly.
async fn queue(store: &dyn AccountStore, url: &str, count: u32) -> Vec<WebhookId> {
    let now = time::OffsetDateTime::now_utc();
    let rows: Vec<NewWebhook> = (0..count)
        .map(|n| NewWebhook {
            id: WebhookId::from_uuid(uuid::Uuid::new_v4()),
            tenant: firm(),
            account_id: Some(QUEUED_FOR),
            endpoint: url.to_owned(),
            event_type: HostEventType::PasswordChanged,
            payload: format!(r#"{{"type":"password.changed","data":{{"n":{n}}}}}"#),
            created_at: now,
        })
        .collect();
    let ids = rows.iter().map(|r| r.id).collect();
    for chunk in rows.chunks(100) {
        let changes = Changes {
            webhooks: chunk.to_vec(),
            ..Changes::default()
        };
        store.commit(changes).await.unwrap();
    }
    ids
}

/// Runs `dispatchers` until `done(receiver)` or `limit`, then stops them.
async fn run_until(
    dispatchers: Vec<Dispatcher<WebhookLane>>,
    limit: Duration,
    done: impl Fn() -> bool,
) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut running = tokio::task::JoinSet::new();
    for dispatcher in dispatchers {
        let mut stopped = stopped.clone();
        running.spawn(dispatcher.run(async move {
            let _ = stopped.wait_for(|s| *s).await;
        }));
    }
    let deadline = Instant::now() + limit;
    while !done() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let any (wrong) duplicate surface before stopping.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(true).unwrap();
    while running.join_next().await.is_some() {}
}

fn wire_id(id: WebhookId) -> String {
    format!("msg_{}", id.as_uuid().simple())
}

async fn row(store: &MemoryStore, account: AccountId) -> Vec<OutboxWebhook> {
    store
        .webhooks_for_account(&firm(), account, 10)
        .await
        .unwrap()
}

#[tokio::test]
async fn events_of_the_service_arrive_signed_and_every_signature_verifies_by_hand() {
    let receiver = Receiver::start(|_| Answer::Status(204)).await;
    let store = Arc::new(MemoryStore::new());
    let mut config = portal_access_core::PortalConfig::new("https://portal.example.com");
    config.webhooks = endpoints(&receiver.url());
    let service = PortalService::builder(store.clone())
        .config(config)
        .build()
        .unwrap();
    let staff = StaffActor {
        tenant: firm(),
        staff_id: StaffId::new("staff-1").unwrap(),
    };
    let ctx = RequestContext::default();
    let input = NewAccountInput {
        email: "ann@example.com".into(),
        contact_ref: None,
        display_name: None,
        language: None,
    };
    let ann = service.create_account(&staff, &ctx, input).await.unwrap();
    service
        .set_access(&staff, &ctx, ann.id, false)
        .await
        .unwrap();
    service.archive(&staff, &ctx, ann.id).await.unwrap();

    let report = dispatcher(store.clone(), &receiver.url(), fast_config())
        .run_once()
        .await
        .unwrap();
    assert_eq!((report.leased, report.sent), (2, 2));
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for r in &received {
        assert!(r.signature_ok, "signature of {r:?}");
        assert!((now - r.timestamp).abs() < 60, "a current timestamp");
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["data"]["account_id"], ann.id.to_string());
        assert!(!r.body.contains("ann@example.com"));
    }
    let types: Vec<_> = received
        .iter()
        .map(|r| serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["type"].clone())
        .collect();
    assert_eq!(types, ["access.changed", "account.archived"]);
    let rows = row(&store, ann.id).await;
    assert!(rows
        .iter()
        .all(|r| r.state == DeliveryState::Sent && r.attempts == 1));
    let mut ids: Vec<_> = rows.iter().map(|r| wire_id(r.webhook.id)).collect();
    let mut seen: Vec<_> = received.iter().map(|r| r.id.clone()).collect();
    ids.sort();
    seen.sort();
    assert_eq!(ids, seen, "webhook-id is the delivery's id");
}

#[tokio::test]
async fn a_receiver_answering_500_429_and_408_is_retried_until_it_answers_2xx() {
    let script = [500, 429, 408, 200];
    let receiver = Receiver::start(move |n| Answer::Status(script[n.min(3)])).await;
    let store = Arc::new(MemoryStore::new());
    let ids = queue(store.as_ref(), &receiver.url(), 1).await;
    let accepted = || receiver.accepted_per_id().len() == 1;
    run_until(
        vec![dispatcher(store.clone(), &receiver.url(), fast_config())],
        Duration::from_secs(20),
        accepted,
    )
    .await;

    let received = receiver.received();
    assert_eq!(received.len(), 4, "{received:?}");
    assert!(received
        .iter()
        .all(|r| r.id == wire_id(ids[0]) && r.signature_ok));
    let leased = store.lease_webhooks(far(), far(), 10).await.unwrap();
    assert!(leased.is_empty(), "sent: never leased again");
}

fn far() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc() + time::Duration::days(1)
}

#[tokio::test]
async fn a_receiver_answering_400_is_given_up_at_once() {
    let receiver = Receiver::start(|_| Answer::Status(400)).await;
    let store = Arc::new(MemoryStore::new());
    let account = AccountId::from_uuid(uuid::Uuid::new_v4());
    let now = time::OffsetDateTime::now_utc();
    let webhook = NewWebhook {
        id: WebhookId::from_uuid(uuid::Uuid::new_v4()),
        tenant: firm(),
        account_id: Some(account),
        endpoint: receiver.url(),
        event_type: HostEventType::AccountArchived,
        payload: "{}".into(),
        created_at: now,
    };
    let changes = Changes {
        webhooks: vec![webhook],
        ..Changes::default()
    };
    store.commit(changes).await.unwrap();
    let report = dispatcher(store.clone(), &receiver.url(), fast_config())
        .run_once()
        .await
        .unwrap();
    assert_eq!(report.failed, 1);
    let rows = row(&store, account).await;
    assert_eq!(
        (rows[0].state, rows[0].attempts),
        (DeliveryState::Failed, 1)
    );
    assert!(
        rows[0].last_error.as_deref().unwrap().contains("400"),
        "{rows:?}"
    );
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_fifty_megabyte_answer_and_a_receiver_that_never_answers_are_cut_at_the_timeout() {
    for (answer, state) in [
        (Answer::HugeBody, DeliveryState::Sent),
        (Answer::Silent, DeliveryState::Retrying),
    ] {
        let receiver = Receiver::start(move |_| answer).await;
        let store = Arc::new(MemoryStore::new());
        queue(store.as_ref(), &receiver.url(), 1).await;
        let config = DispatcherConfig {
            send_timeout: Duration::from_secs(3),
            ..fast_config()
        };
        let started = Instant::now();
        let report = dispatcher(store.clone(), &receiver.url(), config)
            .run_once()
            .await
            .unwrap();
        let took = started.elapsed();
        // The sender's own timeout is 2 s, the dispatcher's 3 s.
        assert!(
            took < Duration::from_secs(4),
            "{answer:?} held the slot {took:?}"
        );
        assert_eq!(report.leased, 1);
        let now = time::OffsetDateTime::now_utc();
        let all = store.lease_webhooks(far(), far(), 10).await.unwrap();
        match state {
            DeliveryState::Sent => assert!(all.is_empty() && report.sent == 1, "{answer:?}"),
            _ => {
                assert_eq!(report.retried, 1, "{answer:?}");
                assert_eq!(all[0].state, DeliveryState::Retrying);
                assert!(all[0].next_attempt_at > now - time::Duration::seconds(1));
            }
        }
    }
}

#[tokio::test]
async fn three_dispatchers_on_postgresql_deliver_five_hundred_events_exactly_once() {
    let database = TestDatabase::create().await;
    // One receiver that fails one request in five: retries are in play.
    let receiver = Receiver::start(|n| Answer::Status(if n % 5 == 3 { 503 } else { 200 })).await;
    let stores: Vec<Arc<dyn AccountStore>> = vec![
        Arc::new(database.store(4).await),
        Arc::new(database.store(4).await),
        Arc::new(database.store(4).await),
    ];
    let ids = queue(stores[0].as_ref(), &receiver.url(), 500).await;
    let config = DispatcherConfig {
        batch_size: 25,
        ..fast_config()
    };
    let dispatchers = stores
        .iter()
        .map(|store| dispatcher(store.clone(), &receiver.url(), config.clone()))
        .collect();
    let all = || receiver.accepted_per_id().len() >= 500;
    run_until(dispatchers, Duration::from_secs(120), all).await;

    let accepted = receiver.accepted_per_id();
    assert_eq!(accepted.len(), 500, "every event delivered");
    assert!(
        accepted.values().all(|&n| n == 1),
        "an event was accepted twice"
    );
    for id in &ids {
        assert!(accepted.contains_key(&wire_id(*id)));
    }
    assert!(receiver.received().iter().all(|r| r.signature_ok));
    assert!(stores[0]
        .lease_webhooks(far(), far(), 10)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_receiver_down_for_ten_seconds_then_up_gets_every_event() {
    // Reserve a port, then leave it closed: connections are refused.
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = reserved.local_addr().unwrap();
    drop(reserved);
    let url = format!("http://{addr}/hooks");
    let store = Arc::new(MemoryStore::new());
    let ids = queue(store.as_ref(), &url, 50).await;
    let config = DispatcherConfig {
        base_backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(1),
        ..fast_config()
    };
    let dispatch = tokio::spawn({
        let store = store.clone();
        let url = url.clone();
        async move {
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(dispatcher(store, &url, config).run(async move {
                let _ = stopped.await;
            }));
            (stop, task)
        }
    });
    tokio::time::sleep(Duration::from_secs(10)).await;
    let retrying = store
        .webhooks_for_account(&firm(), QUEUED_FOR, 100)
        .await
        .unwrap();
    assert_eq!(retrying.len(), 50);
    assert!(
        retrying
            .iter()
            .all(|w| w.state == DeliveryState::Retrying && w.attempts >= 1),
        "all failed at least once while the receiver was down"
    );
    let receiver = Receiver::start_on(addr, |_| Answer::Status(200)).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while receiver.accepted_per_id().len() < 50 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (stop, task) = dispatch.await.unwrap();
    let _ = stop.send(());
    task.await.unwrap();
    let accepted = receiver.accepted_per_id();
    assert_eq!(
        accepted.len(),
        50,
        "every event delivered once the receiver is up"
    );
    assert!(accepted.values().all(|&n| n == 1));
    assert!(ids.iter().all(|id| accepted.contains_key(&wire_id(*id))));
    assert!(receiver.received().iter().all(|r| r.signature_ok));
}
