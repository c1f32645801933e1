//! The outbox dispatcher: delivers queued messages through the [`Mailer`]
//! (and, the same way, webhook deliveries through a
//! [`WebhookSender`](crate::WebhookSender): see [`Lane`]), with retries,
//! exponential backoff and jitter.
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
//! - a message whose link expired before it could be sent: `Failed`,
//!   never a mail with a dead link;
//! - a message whose link was superseded, revoked or used before it could
//!   be sent (a resend, a disable, an archive, an email change):
//!   `Superseded`, not sent ("not sent: link superseded before delivery").
//!   The link's state is read just before the send; a link that dies in
//!   the moment between that read and the mail server's answer is the one
//!   window left (a store cannot share a transaction with SMTP).
//!
//! Counters (via the `metrics` facade): `portal_outbox_sent_total`,
//! `portal_outbox_retried_total`, `portal_outbox_failed_total`,
//! `portal_outbox_superseded_total`; for webhooks `portal_webhook_sent_total`,
//! `portal_webhook_retried_total`, `portal_webhook_failed_total`.
//!
//! What is delivered is a [`Lane`]: [`MailLane`] (the outbox of messages,
//! [`Dispatcher::new`]) or [`WebhookLane`] (the webhook deliveries,
//! [`Dispatcher::for_webhooks`]). The lease, the slots, the timeout, the
//! backoff and the recording are the same code for both; run one
//! dispatcher per lane, so a slow webhook receiver never holds a mail slot.
//!
//! ```
//! use std::sync::Arc;
//! use portal_access_core::dispatch::{Dispatcher, DispatcherConfig};
//! use portal_access_core::testing::fakes::RecordingMailer;
//! use portal_access_core::testing::MemoryStore;
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

use tokio::task::JoinSet;
use tokio::time::Instant;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{
    AccountStore, Clock, DeliveryOutcome, Mailer, OsRandom, SecureRandom, StoreError, WebhookSender,
};

mod mail;
mod webhook;

pub use mail::MailLane;
pub use webhook::WebhookLane;

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
    /// Sends in flight at once: the dispatcher's slots (default 16, the
    /// SMTP mailer's default connection count). [`run`](Dispatcher::run)
    /// leases a new message as soon as a slot frees, so a slow message
    /// holds one slot, never the others.
    pub concurrency: usize,
    /// Longest wait for the mailer to take one message (default 45 s,
    /// shorter than `lease`): past it the attempt counts as a transient
    /// failure and the message is retried, whatever the mailer's own
    /// timeouts.
    pub send_timeout: Duration,
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
            send_timeout: Duration::from_secs(45),
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

    /// [`backoff`](Self::backoff) with jitter drawn from `random`: between
    /// half of it and all of it, so dispatchers that failed together retry
    /// apart.
    pub fn jittered_backoff(&self, attempts: u32, random: &dyn SecureRandom) -> Duration {
        let full = self.backoff(attempts);
        let half = full / 2;
        let spread = u64::try_from((full - half).as_micros()).unwrap_or(u64::MAX);
        let mut bytes = [0u8; 8];
        random.fill(&mut bytes);
        // Modulo bias is irrelevant for a retry delay.
        let offset = u64::from_le_bytes(bytes) % spread.saturating_add(1);
        half + Duration::from_micros(offset)
    }
}

/// What one [`Dispatcher::run_once`] did (for webhooks, "sent" means the
/// endpoint answered 2xx).
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
    /// Not sent: their link died before delivery.
    pub superseded: usize,
    /// Outcomes the store could not record (those messages are retried
    /// when their lease expires).
    pub unrecorded: usize,
}

/// Why a delivery was not attempted ([`Lane::check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Given up without an attempt (a link that expired, an endpoint no
    /// longer configured), with the reason shown to staff.
    Failed(String),
    /// Not sent: its link died first ([`DeliveryOutcome::Superseded`]).
    Superseded,
}

/// Why one attempt failed ([`Lane::send`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    /// Not worth retrying.
    pub permanent: bool,
    /// What went wrong, on one line, for staff (never a secret).
    pub error: String,
}

/// What a [`Dispatcher`] delivers: one outbox of the store, its leases, one
/// attempt, and how an outcome is recorded. Cheap to clone (it holds
/// `Arc`s): each delivery task holds a clone.
#[async_trait]
pub trait Lane: Clone + Send + Sync + 'static {
    /// One leased row.
    type Item: Send + Sync + 'static;
    /// The counters' names: sent, retried, failed, superseded.
    const COUNTERS: [&'static str; 4];
    /// What a timed-out attempt says, before "within N s".
    const TIMED_OUT: &'static str;

    /// Leases up to `limit` due rows until `lease_until`.
    async fn lease(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Self::Item>, StoreError>;

    /// Its id, for logs.
    fn id(item: &Self::Item) -> String;

    /// Attempts made before this one.
    fn attempts(item: &Self::Item) -> u32;

    /// Whether to skip the attempt (read just before it).
    async fn check(
        &self,
        item: &Self::Item,
        now: OffsetDateTime,
    ) -> Result<Option<Skip>, StoreError>;

    /// One attempt (the dispatcher cuts it at `send_timeout`).
    async fn send(&self, item: &Self::Item, now: OffsetDateTime) -> Result<(), SendFailure>;

    /// Records the outcome and releases the lease.
    async fn record(&self, item: &Self::Item, outcome: DeliveryOutcome) -> Result<(), StoreError>;

    /// Periodic housekeeping ([`Dispatcher::maintain`]).
    async fn maintain(&self, now: OffsetDateTime) -> Result<(), StoreError>;
}

/// Delivers an outbox. See the [module documentation](self).
pub struct Dispatcher<L: Lane = MailLane> {
    lane: L,
    clock: Arc<dyn Clock>,
    random: Arc<dyn SecureRandom>,
    config: DispatcherConfig,
}

impl<L: Lane> std::fmt::Debug for Dispatcher<L> {
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
    Superseded,
}

impl Dispatcher<MailLane> {
    /// A dispatcher of the message outbox of `store`, sending through
    /// `mailer`, with time from `clock` and retry jitter from the OS CSPRNG
    /// ([`OsRandom`]; see [`with_random`](Self::with_random)).
    pub fn new(
        store: Arc<dyn AccountStore>,
        mailer: Arc<dyn Mailer>,
        clock: Arc<dyn Clock>,
        config: DispatcherConfig,
    ) -> Self {
        Self::over(MailLane::new(store, mailer), clock, config)
    }

    /// The same dispatcher queueing a `message.failed` webhook delivery to
    /// each of these endpoints (of the message's tenant) when it gives up
    /// on a message.
    pub fn with_webhooks(mut self, endpoints: crate::webhook::WebhookEndpoints) -> Self {
        self.lane = self.lane.with_webhooks(endpoints);
        self
    }

    /// The same dispatcher handing `message.failed` to `sink` (at most
    /// once, after it is recorded).
    pub fn with_event_sink(mut self, sink: Arc<dyn crate::EventSink>) -> Self {
        self.lane = self.lane.with_event_sink(sink);
        self
    }
}

impl Dispatcher<WebhookLane> {
    /// A dispatcher of the webhook deliveries of `store`, posting through
    /// `sender`, signed with the secrets of `endpoints`.
    pub fn for_webhooks(
        store: Arc<dyn AccountStore>,
        sender: Arc<dyn WebhookSender>,
        endpoints: crate::webhook::WebhookEndpoints,
        clock: Arc<dyn Clock>,
        config: DispatcherConfig,
    ) -> Self {
        Self::over(WebhookLane::new(store, sender, endpoints), clock, config)
    }
}

impl<L: Lane> Dispatcher<L> {
    /// A dispatcher of `lane`.
    pub fn over(lane: L, clock: Arc<dyn Clock>, config: DispatcherConfig) -> Self {
        Self {
            lane,
            clock,
            random: Arc::new(OsRandom),
            config,
        }
    }

    /// The same dispatcher drawing its retry jitter from `random`.
    pub fn with_random(mut self, random: Arc<dyn SecureRandom>) -> Self {
        self.random = random;
        self
    }

    /// Its configuration.
    pub fn config(&self) -> &DispatcherConfig {
        &self.config
    }

    /// Leases one batch of due rows, delivers them (up to `concurrency`
    /// at a time) and records each outcome. Fails only if the lease itself
    /// fails; a failure to record one outcome is logged and counted in
    /// [`DispatchReport::unrecorded`].
    pub async fn run_once(&self) -> Result<DispatchReport, StoreError> {
        let batch = self.lease(self.config.batch_size).await?;
        let mut report = DispatchReport {
            leased: batch.len(),
            ..DispatchReport::default()
        };
        let mut pending = batch.into_iter();
        let mut in_flight = JoinSet::new();
        loop {
            while in_flight.len() < self.config.concurrency.max(1) {
                let Some(item) = pending.next() else { break };
                in_flight.spawn(self.delivery(item));
            }
            let Some(joined) = in_flight.join_next().await else {
                break;
            };
            count(&mut report, joined);
        }
        Ok(report)
    }

    /// The lane's housekeeping: for mail, redacts bodies whose link expired
    /// and purges expired rate counters.
    pub async fn maintain(&self) -> Result<(), StoreError> {
        self.lane.maintain(self.clock.now()).await
    }

    /// Runs until `shutdown` completes, keeping up to `concurrency`
    /// deliveries in flight: whenever a slot is free it leases due rows for
    /// the free slots (polling every `poll_interval` when none are due), so
    /// a slow receiver (at most `send_timeout`) holds one slot and the
    /// others keep delivering. Does [`maintain`](Self::maintain) every
    /// `maintenance_interval`. On shutdown it finishes the deliveries in
    /// flight (recording every outcome) before returning. Store errors are
    /// logged and retried at the next poll.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let slots = self.config.concurrency.max(1);
        let mut in_flight = JoinSet::new();
        let mut report = DispatchReport::default();
        let mut next_maintenance = Instant::now();
        loop {
            if Instant::now() >= next_maintenance {
                if let Err(error) = self.maintain().await {
                    tracing::warn!(error = %error, "outbox maintenance failed");
                }
                next_maintenance = Instant::now() + self.config.maintenance_interval;
            }
            let free = slots.saturating_sub(in_flight.len());
            let mut more_due = false;
            if free > 0 {
                let limit = u32::try_from(free)
                    .unwrap_or(u32::MAX)
                    .min(self.config.batch_size.max(1));
                match self.lease(limit).await {
                    Ok(batch) => {
                        more_due = batch.len() >= limit as usize;
                        for item in batch {
                            in_flight.spawn(self.delivery(item));
                        }
                    }
                    Err(error) => {
                        tracing::warn!(error = %error, "could not lease from the outbox");
                    }
                }
            }
            let slot_free = in_flight.len() < slots;
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(joined) = in_flight.join_next(), if !in_flight.is_empty() => {
                    count(&mut report, joined);
                }
                () = std::future::ready(()), if more_due && slot_free => {}
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
        while let Some(joined) = in_flight.join_next().await {
            count(&mut report, joined);
        }
    }

    /// Leases up to `limit` due rows, from now until now + `lease`.
    async fn lease(&self, limit: u32) -> Result<Vec<L::Item>, StoreError> {
        let now = self.clock.now();
        let lease_until = now + self.config.lease;
        self.lane.lease(now, lease_until, limit).await
    }

    /// The delivery of one leased row, as a task to spawn.
    fn delivery(
        &self,
        item: L::Item,
    ) -> impl Future<Output = Result<Delivered, StoreError>> + Send + 'static {
        deliver(
            self.lane.clone(),
            Arc::clone(&self.clock),
            Arc::clone(&self.random),
            self.config.clone(),
            item,
        )
    }
}

/// Adds one finished delivery to `report`, logging what could not be recorded.
fn count(
    report: &mut DispatchReport,
    joined: Result<Result<Delivered, StoreError>, tokio::task::JoinError>,
) {
    match joined {
        Ok(Ok(Delivered::Sent)) => report.sent += 1,
        Ok(Ok(Delivered::Retried)) => report.retried += 1,
        Ok(Ok(Delivered::Failed)) => report.failed += 1,
        Ok(Ok(Delivered::Superseded)) => report.superseded += 1,
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

/// Delivers one leased row and records the outcome.
async fn deliver<L: Lane>(
    lane: L,
    clock: Arc<dyn Clock>,
    random: Arc<dyn SecureRandom>,
    config: DispatcherConfig,
    leased: L::Item,
) -> Result<Delivered, StoreError> {
    let id = L::id(&leased);
    let attempts = L::attempts(&leased).saturating_add(1);
    let (outcome, delivered) = match lane.check(&leased, clock.now()).await? {
        Some(Skip::Failed(error)) => {
            tracing::warn!(id = %id, error = %error, "giving up without an attempt");
            let at = clock.now();
            (DeliveryOutcome::Failed { at, error }, Delivered::Failed)
        }
        Some(Skip::Superseded) => {
            tracing::info!(id = %id, "not sending a message whose link was superseded");
            let outcome = DeliveryOutcome::Superseded { at: clock.now() };
            (outcome, Delivered::Superseded)
        }
        None => {
            let sent = tokio::time::timeout(config.send_timeout, lane.send(&leased, clock.now()))
                .await
                .unwrap_or_else(|_| {
                    Err(SendFailure {
                        permanent: false,
                        error: format!(
                            "{} within {} s",
                            L::TIMED_OUT,
                            config.send_timeout.as_secs_f64()
                        ),
                    })
                });
            match sent {
                Ok(()) => (DeliveryOutcome::Sent { at: clock.now() }, Delivered::Sent),
                Err(SendFailure { permanent, error }) => {
                    let at = clock.now();
                    if permanent || attempts >= config.max_attempts {
                        tracing::warn!(id = %id, attempts, error = %error, "giving up on a delivery");
                        (DeliveryOutcome::Failed { at, error }, Delivered::Failed)
                    } else {
                        let next_attempt_at =
                            at + config.jittered_backoff(attempts, random.as_ref());
                        tracing::info!(id = %id, attempts, error = %error, "delivery will be retried");
                        let outcome = DeliveryOutcome::Retry {
                            next_attempt_at,
                            error,
                        };
                        (outcome, Delivered::Retried)
                    }
                }
            }
        }
    };
    lane.record(&leased, outcome).await?;
    let [sent, retried, failed, superseded] = L::COUNTERS;
    let counter = match delivered {
        Delivered::Sent => sent,
        Delivered::Retried => retried,
        Delivered::Failed => failed,
        Delivered::Superseded => superseded,
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
mod tests;
