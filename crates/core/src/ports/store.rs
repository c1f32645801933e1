//! The `AccountStore` port: where accounts, tokens, sessions, rate counters,
//! human-verification state, audit events and the outbox live.
//!
//! # Contract
//!
//! Everything that instances must share lives here, so any number of app
//! instances can run against one database. A store makes the database
//! enforce what it can, never check-then-insert:
//!
//! - **Uniqueness per tenant**: one account per `(tenant, email.normalized())`
//!   ([`StoreError::EmailTaken`]) and per `(tenant, username.key())`
//!   ([`StoreError::UsernameTaken`]), by unique indexes, under any concurrency.
//! - **Tenant isolation**: every read and write of an account, its tokens,
//!   messages and events names the tenant; nothing crosses tenants.
//! - **Single use**: a [`Changes::redeem`] is one conditional update (unused,
//!   unrevoked, unexpired at `at`, right kind); when it matches nothing the
//!   whole commit fails with [`StoreError::TokenNotRedeemable`]. Of any number
//!   of concurrent redemptions of one token, exactly one succeeds.
//! - **Optimistic concurrency**: an [`AccountChange::Update`] is written only
//!   where the stored version equals `account.version` (the version it was
//!   read at); the stored version is then incremented. Otherwise the commit
//!   fails with [`StoreError::Conflict`] and changes nothing.
//! - **Atomicity**: [`AccountStore::commit`] applies all of a [`Changes`] in
//!   one transaction: a failed commit leaves no outbox row, no audit row, no
//!   token, no partial account change.
//! - **Rate counters** are exact under concurrency (atomic upsert).
//! - **Audit chain**: every audit event of a commit gets the next sequence
//!   number of its tenant's chain and `hash = SHA-256(previous hash || seq
//!   || canonical body)` ([`ChainPoint::next`](crate::ChainPoint::next)),
//!   in the commit's transaction. The events are appended after every other
//!   step, so the tenant's chain head is locked only for the end of the
//!   transaction; concurrent commits form one chain, without gap or fork.
//! - **Server secrets are written once**: [`AccountStore::server_secret`]
//!   inserts a secret only where none of that name exists (one conditional
//!   insert), so instances that start together all read the first one stored.
//! - **Outbox leases**: a leased message is not leased again until its lease
//!   expires (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so several dispatchers
//!   never send one message twice while a lease holds.
//!
//! Expired sessions and tokens are answered as they are stored: callers
//! (the workflows) decide validity from the record and `now`.
//!
//! # A store in a few lines
//!
//! [`MemoryStore`](crate::testing::MemoryStore) is the complete reference
//! implementation; it is what the conformance suite (feature `testing`)
//! checks every other store against:
//!
//! ```
//! # use portal_access_core::{testing::MemoryStore, AccountStore, Account, AccountId, TenantId, EmailAddress};
//! # use portal_access_core::{Changes, AccountChange};
//! # tokio_test_block_on(async {
//! let store = MemoryStore::new();
//! let tenant = TenantId::new("firm").unwrap();
//! let now = time::OffsetDateTime::now_utc();
//! let account = Account::new(AccountId::from_random([1; 16]), tenant.clone(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! store.commit(Changes { account: Some(AccountChange::Insert(account.clone())), ..Changes::default() }).await.unwrap();
//! let found = store.account_by_email(&tenant, "ann@example.com").await.unwrap().unwrap();
//! assert_eq!(found.id, account.id);
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use std::error::Error as StdError;

use async_trait::async_trait;
use time::OffsetDateTime;

pub use super::changes::{
    AccountChange, ChangeStep, Changes, DeviceRevocation, Redemption, SessionRevocation,
    TokenRevocation,
};
use crate::{
    Account, AccountId, AuditEvent, AuditQuery, ChainEnds, ChainedEvent, ConsoleSignIn,
    DeliveryOutcome, DeviceRecord, LinkOpening, MessageId, OutboxMessage, OutboxWebhook,
    ServerSecret, SessionRecord, StaffId, StaffVerification, TenantId, TokenHash, TokenRecord,
    WebhookId,
};

/// A store failure. The domain refusals (`Conflict`, `UsernameTaken`,
/// `EmailTaken`, `TokenNotRedeemable`) come from database constraints and
/// conditional updates; `Backend` keeps the driver's error as its source.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The account changed since it was read (stale version), or is gone.
    #[error("the account was changed concurrently")]
    Conflict,
    /// Another account of the tenant has this username (case-insensitively).
    #[error("the username is taken in this tenant")]
    UsernameTaken,
    /// Another account of the tenant has this email address.
    #[error("the email address is taken in this tenant")]
    EmailTaken,
    /// The token to redeem is unknown, used, revoked, expired or of another kind.
    #[error("the token cannot be redeemed")]
    TokenNotRedeemable,
    /// The database failed or could not be reached.
    #[error("store backend failure")]
    Backend(#[source] Box<dyn StdError + Send + Sync + 'static>),
}

impl StoreError {
    /// Wraps a driver error.
    pub fn backend(source: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Self::Backend(source.into())
    }

    /// A [`Backend`](Self::Backend) failure worth trying again: the database
    /// could not be reached, dropped the connection, or was too busy to
    /// answer in time ([`StoreUnavailable`] as its source).
    pub fn unavailable(source: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Self::Backend(Box::new(StoreUnavailable(source.into())))
    }

    /// Whether this is a failure worth trying again ([`unavailable`](Self::unavailable)).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Backend(source) if source.is::<StoreUnavailable>())
    }
}

/// The source of a [`StoreError::Backend`] the same call may get past if
/// tried again: the connection was refused or dropped (a database restart,
/// a terminated backend), the pool had no connection in time, or the
/// database was locked past the busy timeout. Whatever the call wrote was
/// rolled back, except when the connection dropped while the database was
/// committing: then the commit may have happened. An HTTP layer answers it
/// as a retryable 503.
#[derive(Debug, thiserror::Error)]
#[error("the database is unavailable for now")]
pub struct StoreUnavailable(#[source] pub Box<dyn StdError + Send + Sync + 'static>);

/// What [`AccountStore::search_accounts`] looks for: `text` (lowercased, a substring of the
/// normalized email, the username key or the contact reference; empty matches all) and the page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountSearch {
    /// What the staff member typed, lowercased and trimmed.
    pub text: String,
    /// How many matching accounts to skip.
    pub offset: u32,
    /// How many to return at most.
    pub limit: u32,
}

/// Where portal accounts and everything around them live. See the
/// [module documentation](self) for the contract every implementation keeps.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Applies `changes` atomically (see [`Changes`] for the order).
    ///
    /// Errors: [`StoreError::TokenNotRedeemable`], [`StoreError::Conflict`],
    /// [`StoreError::UsernameTaken`], [`StoreError::EmailTaken`], or
    /// [`StoreError::Backend`]; on any error nothing is changed.
    async fn commit(&self, changes: Changes) -> Result<(), StoreError>;

    /// The account with this id in this tenant; `None` if absent or of another tenant.
    async fn account(
        &self,
        tenant: &TenantId,
        id: AccountId,
    ) -> Result<Option<Account>, StoreError>;

    /// The account of the tenant with this normalized email
    /// ([`EmailAddress::normalized`](crate::EmailAddress::normalized)).
    async fn account_by_email(
        &self,
        tenant: &TenantId,
        normalized_email: &str,
    ) -> Result<Option<Account>, StoreError>;

    /// The account of the tenant with this username key
    /// ([`Username::key`](crate::Username::key)).
    async fn account_by_username(
        &self,
        tenant: &TenantId,
        username_key: &str,
    ) -> Result<Option<Account>, StoreError>;

    /// A page of the tenant's accounts, newest first (ties by id), whose
    /// normalized email, username key or contact reference (lowercased)
    /// contains `query.text` (lowercased; every account when it is empty):
    /// `query.limit` of them after skipping `query.offset`.
    async fn search_accounts(
        &self,
        tenant: &TenantId,
        query: &AccountSearch,
    ) -> Result<Vec<Account>, StoreError>;

    /// The link token with this hash, whatever its state.
    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError>;

    /// The most recent link tokens of an account, newest first.
    async fn tokens_for_account(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<TokenRecord>, StoreError>;

    /// The session with this hash, whatever its state.
    async fn session(&self, hash: &TokenHash) -> Result<Option<SessionRecord>, StoreError>;

    /// The session with this hash and the account it belongs to (`None` if
    /// that account no longer exists): what authenticating a request reads.
    /// The default asks [`session`](Self::session), then
    /// [`account`](Self::account); the SQL stores answer in one query.
    async fn session_and_account(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<(SessionRecord, Option<Account>)>, StoreError> {
        let Some(session) = self.session(hash).await? else {
            return Ok(None);
        };
        let account = self.account(&session.tenant, session.account_id).await?;
        Ok(Some((session, account)))
    }

    /// The account's sessions that are not revoked, newest first (at most
    /// `limit`); expired ones included (the caller decides validity).
    async fn sessions_for_account(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<SessionRecord>, StoreError>;

    /// The remembered device with this hash, whatever its state.
    async fn device(&self, hash: &TokenHash) -> Result<Option<DeviceRecord>, StoreError>;

    /// The account's remembered devices that are not revoked, newest first
    /// (at most `limit`); expired ones included (the caller decides).
    async fn devices_for_account(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<DeviceRecord>, StoreError>;

    /// Sets a session's `last_seen_at` (no transaction, no audit).
    async fn touch_session(&self, hash: &TokenHash, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Atomically adds one to the counter `key` for the fixed window starting
    /// at `window_start` and returns the new count. `expires_at` is when the
    /// counter may be purged.
    async fn hit_rate(
        &self,
        key: &str,
        window_start: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<u32, StoreError>;

    /// The counter `key` for the window starting at `window_start` (0 if absent).
    async fn rate_count(&self, key: &str, window_start: OffsetDateTime) -> Result<u32, StoreError>;

    /// A staff member's human-verification state.
    async fn staff_verification(
        &self,
        tenant: &TenantId,
        staff_id: &StaffId,
    ) -> Result<Option<StaffVerification>, StoreError>;

    /// The most recent audit events of an account, newest first.
    async fn audit_events(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError>;

    /// The most recent outbox messages of an account, newest first.
    async fn messages_for_account(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError>;

    /// The most recent link openings of an account, newest first.
    async fn link_openings(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<LinkOpening>, StoreError>;

    /// Leases up to `limit` messages that are queued or retrying, due at
    /// `now`, and not under an unexpired lease, until `lease_until`; oldest
    /// due first. A leased message is not returned again before its lease
    /// expires, to this or any other caller.
    async fn lease_outbox(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError>;

    /// Records one delivery attempt of a leased message: adds one to its
    /// attempts, sets its state, releases its lease. A `Sent` outcome also
    /// redacts bodies that carry a token. A `Superseded` outcome (nothing
    /// was sent, its link died first) adds no attempt, sets `failed_at` and
    /// the note [`NOT_SENT_SUPERSEDED`](crate::NOT_SENT_SUPERSEDED) as the
    /// last error, and redacts a body that carries a token.
    async fn record_delivery(
        &self,
        id: MessageId,
        outcome: DeliveryOutcome,
    ) -> Result<(), StoreError>;

    /// Leases up to `limit` webhook deliveries that are queued or retrying,
    /// due at `now`, and not under an unexpired lease, until `lease_until`;
    /// oldest due first. The same lease contract as
    /// [`lease_outbox`](Self::lease_outbox).
    async fn lease_webhooks(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxWebhook>, StoreError>;

    /// Records one attempt of a leased webhook delivery: adds one to its
    /// attempts, sets its state, releases its lease (`Superseded` is
    /// recorded as failed: a webhook has no link to die).
    async fn record_webhook_delivery(
        &self,
        id: WebhookId,
        outcome: DeliveryOutcome,
    ) -> Result<(), StoreError>;

    /// The most recent webhook deliveries about an account, newest first.
    async fn webhooks_for_account(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<OutboxWebhook>, StoreError>;

    /// Redacts the bodies of messages whose token expired by `now`; returns
    /// how many.
    async fn redact_expired_bodies(&self, now: OffsetDateTime) -> Result<u64, StoreError>;

    /// Deletes rate counters and console sign-ins that expired by `now`;
    /// returns how many.
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError>;

    /// Keeps a staff console sign-in (a new hash; a repeated one is an error).
    async fn insert_console_sign_in(&self, sign_in: &ConsoleSignIn) -> Result<(), StoreError>;

    /// The console sign-in with this hash, if it has not ended by `now`.
    async fn console_sign_in(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<ConsoleSignIn>, StoreError>;

    /// Ends the console sign-in with this hash (signing out); an unknown hash
    /// is no error. Expired ones are deleted by [`purge_expired`](Self::purge_expired).
    async fn end_console_sign_in(&self, hash: &TokenHash) -> Result<(), StoreError>;

    /// The server secret named `name` (`csrf_key`, ...), storing `candidate`
    /// under that name first if there is none: one atomic insert-if-absent,
    /// never an overwrite. However many instances call it at once, each gets
    /// the same bytes (the first stored), today and after every restart.
    /// Secrets are not tenant-scoped: they belong to the deployment.
    async fn server_secret(
        &self,
        name: &str,
        candidate: &ServerSecret,
    ) -> Result<ServerSecret, StoreError>;

    /// Whether the store answers (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// A page of a tenant's audit trail in chain order: the events after
    /// `query.after_seq` that pass its filters, at most `query.limit`.
    /// Events recorded before the chain existed (no sequence number) are
    /// not part of the trail.
    async fn audit_page(&self, query: &AuditQuery) -> Result<Vec<ChainedEvent>, StoreError>;

    /// Where a tenant's stored chain starts (the retention checkpoint: the
    /// last removed event) and its head (the last appended event); both
    /// [`ChainPoint::START`](crate::ChainPoint::START) when absent.
    async fn audit_chain_ends(&self, tenant: &TenantId) -> Result<ChainEnds, StoreError>;

    /// Every tenant that has an audit chain, by name.
    async fn audit_tenants(&self) -> Result<Vec<TenantId>, StoreError>;

    /// Removes the longest prefix of the tenant's chain whose events are all
    /// before `before` (never an event after one it keeps), and records the
    /// last removed event as the checkpoint, in one transaction. Returns how
    /// many events were removed.
    async fn prune_audit(
        &self,
        tenant: &TenantId,
        before: OffsetDateTime,
    ) -> Result<u64, StoreError>;
}
