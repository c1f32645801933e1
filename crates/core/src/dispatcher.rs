//! The outbox dispatcher: delivers queued messages through the [`Mailer`],
//! with retries, exponential backoff and jitter.
//!
//! It works on every [`AccountStore`] because it only uses the store's
//! outbox methods: [`lease_outbox`](AccountStore::lease_outbox) takes a
//! batch of due messages under a lease, each is sent (a few at a time), and
//! [`record_delivery`](AccountStore::record_delivery) writes the outcome and
//! releases the lease. Any number of dispatchers (in one process or many)
//! can run against one store: a leased message is not handed to another
//! dispatcher until its lease expires, so a message is sent twice only if a
//! dispatcher dies (or stalls past the lease) after sending and before
//! recording it.
//!
//! Outcomes:
//! - accepted by the mail server: `Sent` (the store redacts a body that
//!   carries a link token);
//! - a transient error: `Retry` after `base_backoff * 2^(attempts-1)`,
//!   capped at `max_backoff`, with jitter (half fixed, half random);
//! - a permanent error, or the `max_attempts`-th transient one: `Failed`;
//! - a message whose link expired (and was redacted) before it could be
//!   sent: `Failed`, never a mail with a dead link.
//!
//! Counters (via the `metrics` facade): `portal_outbox_sent_total`,
//! `portal_outbox_retried_total`, `portal_outbox_failed_total`.
//!
//! ```
//! use std::sync::Arc;
//! use portal_access_core::dispatcher::{Dispatcher, DispatcherConfig};
//! use portal_access_core::fakes::RecordingMailer;
//! use portal_access_core::memory::MemoryStore;
//! use portal_access_core::SystemClock;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let mailer = Arc::new(RecordingMailer::new());
//! let dispatcher = Dispatcher::new(
//!     Arc::new(MemoryStore::new()),
//!     mailer.clone(),
//!     Arc::new(SystemClock),
//!     DispatcherConfig::default(),
//! );
//! let report = dispatcher.run_once().await.unwrap();
//! assert_eq!(report.leased, 0);
//!
//! // In a service: run until shutdown, finishing the batch in hand.
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let task = tokio::spawn(dispatcher.run(async move { let _ = stopped.await; }));
//! stop.send(()).unwrap();
//! task.await.unwrap();
//! # });
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::{AccountStore, Clock, DeliveryOutcome, Mailer, OutboxMessage, StoreError};

/// How a [`Dispatcher`] leases, sends and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatcherConfig {
    /// Most messages leased at once (default 50).
    pub batch_size: u32,
    /// How long a lease holds: longer than sending a whole batch can take
    /// (default 60 s). A dispatcher that dies frees its batch after this.
    pub lease: Duration,
    /// Attempts before a message is given up on (default 8).
    pub max_attempts: u32,
    /// Delay before the second attempt; doubles with each failure (default 5 s).
    pub base_backoff: Duration,
    /// Longest delay between attempts (default 1 h).
    pub max_backoff: Duration,
    /// Sends in flight at once within a batch (default 16, the SMTP
    /// mailer's default connection count).
    pub concurrency: usize,
    /// Pause between polls when the last batch was not full (default 500 ms).
    pub poll_interval: Duration,
    /// How often [`run`](Dispatcher::run) redacts expired bodies and purges
    /// expired rate counters (default 60 s).
    pub maintenance_interval: Duration,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            batch_size: 50,
            lease: Duration::from_secs(60),
            max_attempts: 8,
            base_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(3_600),
            concurrency: 16,
            poll_interval: Duration::from_millis(500),
            maintenance_interval: Duration::from_secs(60),
        }
    }
}

impl DispatcherConfig {
    /// The backoff before the next attempt, after `attempts` attempts
    /// (1 or more) failed transiently, before jitter:
    /// `base_backoff * 2^(attempts-1)`, at most `max_backoff`.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(31);
        self.base_backoff
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff)
    }

    /// [`backoff`](Self::backoff) with jitter: uniformly between half of it
    /// and all of it, so dispatchers that failed together retry apart.
    pub fn jittered_backoff(&self, attempts: u32) -> Duration {
        let full = self.backoff(attempts);
        let half = full / 2;
        let spread = u64::try_from((full - half).as_micros()).unwrap_or(u64::MAX);
        half + Duration::from_micros(rand::thread_rng().gen_range(0..=spread))
    }
}

/// What one [`Dispatcher::run_once`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Messages leased.
    pub leased: usize,
    /// Accepted by the mail server.
    pub sent: usize,
    /// Failed transiently; scheduled again.
    pub retried: usize,
    /// Given up on.
    pub failed: usize,
    /// Outcomes the store could not record (those messages are retried
    /// when their lease expires).
    pub unrecorded: usize,
}

/// Delivers the outbox. See the [module documentation](self).
pub struct Dispatcher {
    store: Arc<dyn AccountStore>,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    config: DispatcherConfig,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

enum Delivered {
    Sent,
    Retried,
    Failed,
}

impl Dispatcher {
    /// A dispatcher over `store`, sending through `mailer`, with time from `clock`.
    pub fn new(
        store: Arc<dyn AccountStore>,
        mailer: Arc<dyn Mailer>,
        clock: Arc<dyn Clock>,
        config: DispatcherConfig,
    ) -> Self {
        Self {
            store,
            mailer,
            clock,
            config,
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &DispatcherConfig {
        &self.config
    }

    /// Leases one batch of due messages, sends them (up to
    /// `concurrency` at a time) and records each outcome. Fails only if the
    /// lease itself fails; a failure to record one outcome is logged and
    /// counted in [`DispatchReport::unrecorded`].
    pub async fn run_once(&self) -> Result<DispatchReport, StoreError> {
        let now = self.clock.now();
        let lease_until = now + self.config.lease;
        let batch = self
            .store
            .lease_outbox(now, lease_until, self.config.batch_size)
            .await?;
        let mut report = DispatchReport {
            leased: batch.len(),
            ..DispatchReport::default()
        };
        let mut pending = batch.into_iter();
        let mut in_flight = JoinSet::new();
        loop {
            while in_flight.len() < self.config.concurrency.max(1) {
                let Some(message) = pending.next() else { break };
                in_flight.spawn(deliver(
                    Arc::clone(&self.store),
                    Arc::clone(&self.mailer),
                    Arc::clone(&self.clock),
                    self.config.clone(),
                    message,
                ));
            }
            let Some(joined) = in_flight.join_next().await else {
                break;
            };
            match joined {
                Ok(Ok(Delivered::Sent)) => report.sent += 1,
                Ok(Ok(Delivered::Retried)) => report.retried += 1,
                Ok(Ok(Delivered::Failed)) => report.failed += 1,
                Ok(Err(error)) => {
                    tracing::error!(error = %error, source = ?std::error::Error::source(&error), "could not record an outbox delivery");
                    report.unrecorded += 1;
                }
                Err(panicked) => {
                    tracing::error!(error = %panicked, "an outbox delivery task failed");
                    report.unrecorded += 1;
                }
            }
        }
        Ok(report)
    }

    /// Redacts bodies whose link expired and purges expired rate counters.
    pub async fn maintain(&self) -> Result<(), StoreError> {
        let now = self.clock.now();
        let redacted = self.store.redact_expired_bodies(now).await?;
        let purged = self.store.purge_expired(now).await?;
        tracing::debug!(redacted, purged, "outbox maintenance");
        Ok(())
    }

    /// Runs until `shutdown` completes: polls every `poll_interval` (at once
    /// again after a full batch), does [`maintain`](Self::maintain) every
    /// `maintenance_interval`. On shutdown it finishes the batch in hand
    /// (recording every outcome) before returning. Store errors are logged
    /// and retried at the next poll.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut next_maintenance = Instant::now();
        loop {
            if Instant::now() >= next_maintenance {
                if let Err(error) = self.maintain().await {
                    tracing::warn!(error = %error, "outbox maintenance failed");
                }
                next_maintenance = Instant::now() + self.config.maintenance_interval;
            }
            let full = match self.run_once().await {
                Ok(report) => report.leased >= self.config.batch_size as usize,
                Err(error) => {
                    tracing::warn!(error = %error, "could not lease outbox messages");
                    false
                }
            };
            if full {
                tokio::select! {
                    biased;
                    () = &mut shutdown => return,
                    () = std::future::ready(()) => continue,
                }
            }
            tokio::select! {
                biased;
                () = &mut shutdown => return,
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
    }
}

/// Sends one leased message and records the outcome.
async fn deliver(
    store: Arc<dyn AccountStore>,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    config: DispatcherConfig,
    leased: OutboxMessage,
) -> Result<Delivered, StoreError> {
    let id = leased.message.id;
    let attempts = leased.attempts.saturating_add(1);
    let (outcome, delivered) = if leased.redacted {
        let at = clock.now();
        let error = "the link expired before the message could be delivered".to_owned();
        (DeliveryOutcome::Failed { at, error }, Delivered::Failed)
    } else {
        match mailer.send(&leased.message).await {
            Ok(()) => (DeliveryOutcome::Sent { at: clock.now() }, Delivered::Sent),
            Err(error) => {
                let at = clock.now();
                let text = error_text(&error);
                if error.is_permanent() || attempts >= config.max_attempts {
                    tracing::warn!(message_id = %id, attempts, error = %text, "giving up on a message");
                    (
                        DeliveryOutcome::Failed { at, error: text },
                        Delivered::Failed,
                    )
                } else {
                    let next_attempt_at = at + config.jittered_backoff(attempts);
                    tracing::info!(message_id = %id, attempts, error = %text, "message delivery will be retried");
                    let outcome = DeliveryOutcome::Retry {
                        next_attempt_at,
                        error: text,
                    };
                    (outcome, Delivered::Retried)
                }
            }
        }
    };
    store.record_delivery(id, outcome).await?;
    let counter = match delivered {
        Delivered::Sent => "portal_outbox_sent_total",
        Delivered::Retried => "portal_outbox_retried_total",
        Delivered::Failed => "portal_outbox_failed_total",
    };
    metrics::counter!(counter).increment(1);
    Ok(delivered)
}

/// The error and its causes on one line, for staff.
fn error_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use time::OffsetDateTime;

    use super::*;
    use crate::fakes::{ManualClock, RecordingMailer};
    use crate::memory::MemoryStore;
    use crate::{
        Account, AccountChange, AccountId, Changes, DeliveryState, EmailAddress, MailerErrorKind,
        MessageId, MessageKind, NewMessage, TenantId, TokenHash, REDACTED_BODY,
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
                .commit(Changes {
                    account: Some(AccountChange::Insert(account.clone())),
                    ..Changes::default()
                })
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
        for n in 0..7 {
            world.queue(n, None).await;
        }
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
                let jittered = config.jittered_backoff(attempts);
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
        for n in 0..5 {
            world.queue(n, None).await;
        }
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
}
