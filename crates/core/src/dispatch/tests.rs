use time::macros::datetime;
use time::OffsetDateTime;

use super::*;
use crate::testing::fakes::{ManualClock, RecordingMailer};
use crate::testing::MemoryStore;
use crate::{
    Account, AccountChange, AccountId, Changes, DeliveryState, EmailAddress, MailerError,
    MailerErrorKind, MessageId, MessageKind, NewMessage, OutboxMessage, TenantId, TokenHash,
    REDACTED_BODY,
};

const START: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

struct World {
    store: Arc<MemoryStore>,
    mailer: Arc<RecordingMailer>,
    clock: Arc<ManualClock>,
    account: Account,
}

impl World {
    async fn new() -> Self {
        let store = Arc::new(MemoryStore::new());
        let account = Account::new(
            AccountId::from_random([1; 16]),
            TenantId::new("firm").unwrap(),
            EmailAddress::parse("ann@example.com").unwrap(),
            None,
            None,
            START,
        );
        store
            .commit(Changes::of_account(AccountChange::Insert(account.clone())))
            .await
            .unwrap();
        Self {
            store,
            mailer: Arc::new(RecordingMailer::new()),
            clock: Arc::new(ManualClock::new(START)),
            account,
        }
    }

    fn dispatcher(&self, config: DispatcherConfig) -> Dispatcher {
        Dispatcher::new(
            self.store.clone(),
            self.mailer.clone(),
            self.clock.clone(),
            config,
        )
    }

    /// Queues messages `0..count`, none of them carrying a token.
    async fn queue_plain(&self, count: u8) {
        for n in 0..count {
            self.queue(n, None).await;
        }
    }

    async fn queue(&self, n: u8, token_expires_at: Option<OffsetDateTime>) -> MessageId {
        let id = MessageId::from_random([n; 16]);
        let message = NewMessage {
            id,
            tenant: self.account.tenant.clone(),
            account_id: Some(self.account.id),
            kind: MessageKind::PasswordReset,
            to: "ann@example.com".into(),
            to_name: None,
            subject: "Reset your password".into(),
            text_body: "https://portal.example.com/reset#token".into(),
            html_body: "<a href=\"https://portal.example.com/reset#token\">Reset</a>".into(),
            token_hash: token_expires_at.map(|_| TokenHash::from_bytes([n; 32])),
            token_expires_at,
            created_at: self.clock.now(),
        };
        self.store
            .commit(Changes {
                outbox: vec![message],
                ..Changes::default()
            })
            .await
            .unwrap();
        id
    }

    async fn message(&self, id: MessageId) -> OutboxMessage {
        self.store
            .messages_for_account(&self.account.tenant, self.account.id, 100)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.message.id == id)
            .unwrap()
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[tokio::test]
async fn a_transient_failure_is_retried_after_a_backoff_and_then_sent() {
    let world = World::new().await;
    let id = world.queue(1, Some(START + secs(3_600))).await;
    world.mailer.fail_next(1, MailerErrorKind::Transient);
    let dispatcher = world.dispatcher(DispatcherConfig::default());

    let first = dispatcher.run_once().await.unwrap();
    assert_eq!((first.leased, first.retried), (1, 1));
    let retrying = world.message(id).await;
    assert_eq!(retrying.state, DeliveryState::Retrying);
    assert_eq!(retrying.attempts, 1);
    assert!(retrying
        .last_error
        .as_deref()
        .unwrap()
        .contains("transient"));
    let delay = retrying.next_attempt_at - START;
    assert!(
        delay >= secs(2) + Duration::from_millis(500) && delay <= secs(5),
        "{delay}"
    );
    assert_eq!(
        dispatcher.run_once().await.unwrap().leased,
        0,
        "not due yet"
    );

    world.clock.advance(time::Duration::seconds(5));
    let second = dispatcher.run_once().await.unwrap();
    assert_eq!(second.sent, 1);
    let sent = world.message(id).await;
    assert_eq!((sent.state, sent.attempts), (DeliveryState::Sent, 2));
    assert_eq!(sent.message.text_body, REDACTED_BODY);
    assert_eq!(world.mailer.sent().len(), 1);
}

#[tokio::test]
async fn a_permanent_failure_fails_the_message_at_once() {
    let world = World::new().await;
    let id = world.queue(1, None).await;
    world.mailer.fail_next(1, MailerErrorKind::Permanent);
    let dispatcher = world.dispatcher(DispatcherConfig::default());

    let report = dispatcher.run_once().await.unwrap();

    assert_eq!((report.failed, report.retried), (1, 0));
    let failed = world.message(id).await;
    assert_eq!((failed.state, failed.attempts), (DeliveryState::Failed, 1));
    assert_eq!(failed.failed_at, Some(START));
    assert!(failed.last_error.as_deref().unwrap().contains("permanent"));
    world.clock.advance(time::Duration::days(1));
    assert_eq!(dispatcher.run_once().await.unwrap().leased, 0);
    assert!(world.mailer.sent().is_empty());
}

#[tokio::test]
async fn a_message_failing_transiently_max_attempts_times_is_failed() {
    let world = World::new().await;
    let id = world.queue(1, None).await;
    world.mailer.fail_next(100, MailerErrorKind::Transient);
    let config = DispatcherConfig {
        max_attempts: 3,
        ..DispatcherConfig::default()
    };
    let dispatcher = world.dispatcher(config);

    let mut reports = Vec::new();
    for _ in 0..5 {
        reports.push(dispatcher.run_once().await.unwrap());
        world.clock.advance(time::Duration::hours(2));
    }

    let attempts: Vec<(usize, usize)> = reports.iter().map(|r| (r.retried, r.failed)).collect();
    assert_eq!(attempts, vec![(1, 0), (1, 0), (0, 1), (0, 0), (0, 0)]);
    let failed = world.message(id).await;
    assert_eq!((failed.state, failed.attempts), (DeliveryState::Failed, 3));
    assert!(world.mailer.sent().is_empty());
}

#[tokio::test]
async fn a_crashed_dispatchers_lease_expires_and_another_dispatcher_sends_the_message() {
    let world = World::new().await;
    let id = world.queue(1, None).await;
    // A dispatcher leases the message and dies before sending it.
    let crashed = world
        .store
        .lease_outbox(START, START + secs(60), 50)
        .await
        .unwrap();
    assert_eq!(crashed.len(), 1);
    let survivor = world.dispatcher(DispatcherConfig::default());

    assert_eq!(
        survivor.run_once().await.unwrap().leased,
        0,
        "the lease holds"
    );
    world.clock.advance(time::Duration::seconds(59));
    assert_eq!(
        survivor.run_once().await.unwrap().leased,
        0,
        "the lease holds"
    );
    world.clock.advance(time::Duration::seconds(1));
    assert_eq!(survivor.run_once().await.unwrap().sent, 1);

    assert_eq!(world.mailer.sent().len(), 1);
    assert_eq!(world.message(id).await.state, DeliveryState::Sent);
}

#[tokio::test]
async fn a_message_whose_link_expired_before_delivery_is_failed_not_sent() {
    let world = World::new().await;
    let id = world.queue(1, Some(START + secs(60))).await;
    world.clock.advance(time::Duration::seconds(61));
    let dispatcher = world.dispatcher(DispatcherConfig::default());
    dispatcher.maintain().await.unwrap();

    assert_eq!(dispatcher.run_once().await.unwrap().failed, 1);

    assert!(world.mailer.sent().is_empty());
    let failed = world.message(id).await;
    assert_eq!(failed.state, DeliveryState::Failed);
    assert!(failed.last_error.unwrap().contains("expired"));
}

#[tokio::test]
async fn a_batch_is_limited_to_the_batch_size_and_the_rest_follows() {
    let world = World::new().await;
    world.queue_plain(7).await;
    let dispatcher = world.dispatcher(DispatcherConfig {
        batch_size: 3,
        concurrency: 2,
        ..DispatcherConfig::default()
    });
    let mut counts = Vec::new();
    for _ in 0..4 {
        counts.push(dispatcher.run_once().await.unwrap().sent);
    }
    assert_eq!(counts, vec![3, 3, 1, 0]);
    assert_eq!(world.mailer.sent().len(), 7);
}

#[test]
fn backoff_doubles_from_the_base_and_stops_at_the_cap() {
    let config = DispatcherConfig::default();
    let steps: Vec<u64> = (1..=12).map(|n| config.backoff(n).as_secs()).collect();
    assert_eq!(
        steps,
        vec![5, 10, 20, 40, 80, 160, 320, 640, 1_280, 2_560, 3_600, 3_600]
    );
    assert_eq!(config.backoff(u32::MAX), secs(3_600));
    for attempts in 1..=12 {
        let full = config.backoff(attempts);
        for _ in 0..50 {
            let jittered = config.jittered_backoff(attempts, &OsRandom);
            assert!(
                jittered >= full / 2 && jittered <= full,
                "{jittered:?} vs {full:?}"
            );
        }
    }
}

#[tokio::test]
async fn run_delivers_until_shutdown_and_then_returns() {
    let world = World::new().await;
    world.queue_plain(5).await;
    let dispatcher = world.dispatcher(DispatcherConfig {
        poll_interval: Duration::from_millis(10),
        ..DispatcherConfig::default()
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(dispatcher.run(async move {
        let _ = stopped.await;
    }));
    let deadline = Instant::now() + secs(10);
    while world.mailer.sent().len() < 5 {
        assert!(Instant::now() < deadline, "messages were not delivered");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    world.queue(9, None).await;
    stop.send(()).unwrap();
    tokio::time::timeout(secs(5), task)
        .await
        .expect("run returns after shutdown")
        .unwrap();
    assert!(world.mailer.sent().len() >= 5);
}

#[test]
fn the_retry_jitter_is_drawn_from_the_injected_random_source() {
    struct Fixed(u8);
    impl SecureRandom for Fixed {
        fn fill(&self, dest: &mut [u8]) {
            dest.fill(self.0);
        }
    }
    let config = DispatcherConfig::default();
    let full = config.backoff(3);
    assert_eq!(config.jittered_backoff(3, &Fixed(0)), full / 2);
    let spread = u64::try_from((full - full / 2).as_micros()).unwrap();
    assert_eq!(
        config.jittered_backoff(3, &Fixed(0xff)),
        full / 2 + Duration::from_micros(u64::MAX % (spread + 1))
    );
}

/// A mailer that takes 30 s for the messages of `slow` and hands the
/// others to a recording mailer at once.
struct SlowFor {
    slow: Vec<MessageId>,
    fast: Arc<RecordingMailer>,
}

#[async_trait::async_trait]
impl Mailer for SlowFor {
    async fn send(&self, message: &NewMessage) -> Result<(), MailerError> {
        if self.slow.contains(&message.id) {
            tokio::time::sleep(secs(30)).await;
        }
        self.fast.send(message).await
    }
}

#[tokio::test]
async fn a_slow_message_times_out_and_is_retried_while_the_others_use_the_free_slots() {
    let world = World::new().await;
    let slow = vec![world.queue(0, None).await, world.queue(1, None).await];
    let mailer = SlowFor {
        slow: slow.clone(),
        fast: world.mailer.clone(),
    };
    let config = DispatcherConfig {
        concurrency: 4,
        send_timeout: Duration::from_millis(500),
        poll_interval: Duration::from_millis(10),
        ..DispatcherConfig::default()
    };
    let dispatcher = Dispatcher::new(
        world.store.clone(),
        Arc::new(mailer),
        world.clock.clone(),
        config,
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let task = tokio::spawn(dispatcher.run(async move {
        let _ = stopped.await;
    }));

    // The slow two are in the mailer's hands; twelve more are queued, and
    // go through the two free slots while the slow two wait.
    tokio::time::sleep(Duration::from_millis(50)).await;
    for n in 2..14 {
        world.queue(n, None).await;
    }
    while world.mailer.sent().len() < 12 {
        assert!(started.elapsed() < secs(5), "the others were starved");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        started.elapsed() < Duration::from_millis(450),
        "delivered before the slow ones timed out: {:?}",
        started.elapsed()
    );
    // The slow two time out and are scheduled again, not lost, not failed.
    for id in &slow {
        loop {
            let message = world.message(*id).await;
            if message.state != DeliveryState::Queued {
                assert_eq!(
                    (message.state, message.attempts),
                    (DeliveryState::Retrying, 1)
                );
                let error = message.last_error.unwrap();
                assert!(
                    error.contains("did not take the message within 0.5 s"),
                    "{error}"
                );
                break;
            }
            assert!(started.elapsed() < secs(5), "the slow send never timed out");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    stop.send(()).unwrap();
    tokio::time::timeout(secs(5), task).await.unwrap().unwrap();
    assert_eq!(world.mailer.sent().len(), 12);
}
