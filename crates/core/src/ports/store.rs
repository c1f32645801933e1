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

use crate::{
    Account, AccountId, AuditEvent, AuditQuery, ChainEnds, ChainedEvent, DeliveryOutcome,
    DeliveryRecord, DeviceRecord, LinkOpening, MessageId, NewMessage, NewWebhook, OutboxMessage,
    OutboxWebhook, ServerSecret, SessionRecord, StaffId, StaffVerification, TenantId, TokenHash,
    TokenKind, TokenRecord, WebhookId,
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

/// The account part of a [`Changes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChange {
    /// A new account (its `version` is 0).
    Insert(Account),
    /// An update of every mutable field, written only where the stored
    /// version equals `account.version`; the stored version becomes
    /// `account.version + 1`.
    Update(Account),
}

/// Redeem one link token (single use), in the commit's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redemption {
    /// Which token.
    pub hash: TokenHash,
    /// It must be of this kind.
    pub kind: TokenKind,
    /// Redeemed at: it must be unexpired then.
    pub at: OffsetDateTime,
}

/// Revoke every unused, unrevoked token of these kinds of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRevocation {
    /// The account's tenant.
    pub tenant: TenantId,
    /// The account.
    pub account_id: AccountId,
    /// Kinds to revoke.
    pub kinds: Vec<TokenKind>,
    /// Revoked at.
    pub at: OffsetDateTime,
}

/// Revoke sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionRevocation {
    /// Every session of an account (optionally but one).
    AllOfAccount {
        /// The account's tenant.
        tenant: TenantId,
        /// The account.
        account_id: AccountId,
        /// Keep this one (none: revoke all).
        except: Option<TokenHash>,
        /// Revoked at.
        at: OffsetDateTime,
    },
    /// One session (sign-out).
    One {
        /// Which.
        hash: TokenHash,
        /// Revoked at.
        at: OffsetDateTime,
    },
}

/// Revoke remembered devices of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRevocation {
    /// The account's tenant.
    pub tenant: TenantId,
    /// The account.
    pub account_id: AccountId,
    /// Only this device (none: every device of the account).
    pub only: Option<TokenHash>,
    /// Revoked at.
    pub at: OffsetDateTime,
}

/// Everything one decision changes, committed atomically by
/// [`AccountStore::commit`], applied in this order:
///
/// 1. `redeem` (fails the whole commit if it matches nothing),
/// 2. `account` (insert, or versioned update),
/// 3. `revoke_tokens`, then 4. `new_tokens` (so a new link survives the
///    revocation of its predecessors),
/// 5. `revoke_sessions`, then 6. `new_session`,
/// 7. `outbox`, 8. `audit`, 9. `link_openings`,
/// 10. `clear_rate_prefixes`, 11. `staff_verification` (upsert),
/// 12. `revoke_devices`, then 13. `new_device`, then 14. `webhooks` (queue webhook deliveries),
/// 15. `delivery` (as [`AccountStore::record_delivery`] does).
///
/// The audit events are written in their step's place by the memory store
/// and, on the SQL stores, appended to the tenant's chain as the last
/// statements of the transaction (so the chain head's row lock is held only
/// through the commit); either way, all or nothing, in the order given.
///
/// [`Changes::steps`] yields them in this order; every store applies them by
/// walking it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Redeem a link token.
    pub redeem: Option<Redemption>,
    /// Insert or update the account.
    pub account: Option<AccountChange>,
    /// Revoke pending tokens.
    pub revoke_tokens: Vec<TokenRevocation>,
    /// Issue tokens.
    pub new_tokens: Vec<TokenRecord>,
    /// Revoke sessions.
    pub revoke_sessions: Vec<SessionRevocation>,
    /// Issue a session.
    pub new_session: Option<SessionRecord>,
    /// Queue messages.
    pub outbox: Vec<NewMessage>,
    /// Record audit events.
    pub audit: Vec<AuditEvent>,
    /// Record link openings.
    pub link_openings: Vec<LinkOpening>,
    /// Delete every rate counter whose key starts with one of these.
    pub clear_rate_prefixes: Vec<String>,
    /// Set a staff member's human-verification state.
    pub staff_verification: Option<StaffVerification>,
    /// Revoke remembered devices.
    pub revoke_devices: Vec<DeviceRevocation>,
    /// Remember a device.
    pub new_device: Option<DeviceRecord>,
    /// Queue webhook deliveries (one per event and endpoint).
    pub webhooks: Vec<NewWebhook>,
    /// Record a message's delivery attempt (given up on, with its `message.failed` webhooks).
    pub delivery: Option<DeliveryRecord>,
}

impl Changes {
    /// Changes that insert or update one account and do nothing else.
    pub fn of_account(change: AccountChange) -> Self {
        Self {
            account: Some(change),
            ..Self::default()
        }
    }

    /// Whether there is nothing to commit.
    pub fn is_empty(&self) -> bool {
        self == &Changes::default()
    }

    /// Every part of the changes as one [`ChangeStep`], in the order a store
    /// applies them (the order documented on [`Changes`]). This is the one
    /// place that order is written: the memory store checks and applies,
    /// and the SQL stores write, by walking these steps.
    pub fn steps(&self) -> impl Iterator<Item = ChangeStep<'_>> {
        // Destructured so that a new field does not compile until it has a step.
        let Changes {
            redeem,
            account,
            revoke_tokens,
            new_tokens,
            revoke_sessions,
            new_session,
            outbox,
            audit,
            link_openings,
            clear_rate_prefixes,
            staff_verification,
            revoke_devices,
            new_device,
            webhooks,
            delivery,
        } = self;
        (redeem.iter().map(ChangeStep::Redeem))
            .chain(account.iter().map(ChangeStep::Account))
            .chain(revoke_tokens.iter().map(ChangeStep::RevokeTokens))
            .chain(new_tokens.iter().map(ChangeStep::NewToken))
            .chain(revoke_sessions.iter().map(ChangeStep::RevokeSessions))
            .chain(new_session.iter().map(ChangeStep::NewSession))
            .chain(outbox.iter().map(ChangeStep::Queue))
            .chain(audit.iter().map(ChangeStep::Audit))
            .chain(link_openings.iter().map(ChangeStep::LinkOpening))
            .chain(
                clear_rate_prefixes
                    .iter()
                    .map(|prefix| ChangeStep::ClearRatePrefix(prefix.as_str())),
            )
            .chain(staff_verification.iter().map(ChangeStep::StaffVerification))
            .chain(revoke_devices.iter().map(ChangeStep::RevokeDevices))
            .chain(new_device.iter().map(ChangeStep::NewDevice))
            .chain(webhooks.iter().map(ChangeStep::Webhook))
            .chain(delivery.iter().map(ChangeStep::Delivery))
    }
}

/// One part of a [`Changes`], as [`Changes::steps`] yields them in commit
/// order. Stores match on it exhaustively, so a new kind of change fails to
/// compile in every store until each writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeStep<'a> {
    /// 1. Redeem a link token (fails the commit if it matches nothing).
    Redeem(&'a Redemption),
    /// 2. Insert or update the account.
    Account(&'a AccountChange),
    /// 3. Revoke an account's pending tokens of some kinds.
    RevokeTokens(&'a TokenRevocation),
    /// 4. Issue a token.
    NewToken(&'a TokenRecord),
    /// 5. Revoke sessions.
    RevokeSessions(&'a SessionRevocation),
    /// 6. Issue a session.
    NewSession(&'a SessionRecord),
    /// 7. Queue a message.
    Queue(&'a NewMessage),
    /// 8. Record an audit event.
    Audit(&'a AuditEvent),
    /// 9. Record a link opening.
    LinkOpening(&'a LinkOpening),
    /// 10. Delete the rate counters whose key starts with this.
    ClearRatePrefix(&'a str),
    /// 11. Set a staff member's human-verification state (upsert).
    StaffVerification(&'a StaffVerification),
    /// 12. Revoke remembered devices of an account (one, or all).
    RevokeDevices(&'a DeviceRevocation),
    /// 13. Remember a device.
    NewDevice(&'a DeviceRecord),
    /// 14. Queue a webhook delivery.
    Webhook(&'a NewWebhook),
    /// 15. Record a message's delivery attempt.
    Delivery(&'a DeliveryRecord),
}

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

    /// Deletes rate counters that expired by `now`; returns how many.
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError>;

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
