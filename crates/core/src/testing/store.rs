//! The [`AccountStore`] conformance suite: one set of tests, run against
//! every store (memory, SQLite, PostgreSQL).
//!
//! Each test is a public async function taking a fresh, empty store; the
//! [`account_store_conformance!`](crate::account_store_conformance) macro
//! generates one `#[test]` per function, each on its own multi-threaded
//! runtime and with its own store from the factory you give it:
//!
//! ```
//! use std::sync::Arc;
//! use portal_access_core::testing::MemoryStore;
//! use portal_access_core::testing::store::Fixture;
//!
//! async fn fresh_store() -> Fixture {
//!     Fixture::new(Arc::new(MemoryStore::new()))
//! }
//!
//! portal_access_core::account_store_conformance!(fresh_store);
//! # fn main() {}
//! ```
//!
//! A factory for a database-backed store creates a database per test and
//! hands back a guard with [`Fixture::with_guard`] that drops it.
//!
//! Timestamps: stores keep microseconds. The suite writes
//! microsecond-aligned times and compares exactly, except in
//! [`timestamps_round_trip_to_the_microsecond`], which accepts the exact
//! value or its truncation to the microsecond and nothing else.

// Test support: a failed step is a failed test, so it panics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::any::Any;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use crate::{
    Access, Account, AccountChange, AccountId, AccountStore, Actor, AuditEvent, AuditKind, Changes,
    DeliveryOutcome, DeliveryState, EmailAddress, EventId, Invitation, LinkOpening, MessageId,
    MessageKind, NewMessage, OutboxMessage, PasswordHash, Redemption, SessionRecord,
    SessionRevocation, StaffId, StaffVerification, StoreError, TenantId, TokenHash, TokenKind,
    TokenRecord, TokenRevocation, Username, REDACTED_BODY,
};

/// A fresh, empty store for one test, and whatever must live as long as it
/// (e.g. a guard that drops the test's database, or a temporary directory).
pub struct Fixture {
    /// The store under test.
    pub store: Arc<dyn AccountStore>,
    // Declared after `store`: dropped after it, so the store (and its pool)
    // goes before the guard that removes its data.
    _guard: Option<Box<dyn Any + Send>>,
}

impl Fixture {
    /// A store that needs no clean-up.
    pub fn new(store: Arc<dyn AccountStore>) -> Self {
        Self {
            store,
            _guard: None,
        }
    }

    /// A store with a guard, dropped after the test (even when it fails).
    pub fn with_guard(store: Arc<dyn AccountStore>, guard: impl Any + Send) -> Self {
        Self {
            store,
            _guard: Some(Box::new(guard)),
        }
    }
}

/// Runs one suite test on a fresh multi-threaded runtime with a store from
/// `factory`. Used by the generated tests.
pub fn run<F, FF, T, TF>(factory: F, test: T)
where
    F: FnOnce() -> FF,
    FF: Future<Output = Fixture>,
    T: FnOnce(Arc<dyn AccountStore>) -> TF,
    TF: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a test runtime");
    runtime.block_on(async move {
        let fixture = factory().await;
        test(Arc::clone(&fixture.store)).await;
        drop(fixture);
    });
}

/// Generates the whole [`AccountStore`] conformance suite as `#[test]`
/// functions in the calling module. The argument is a factory: a function
/// (or closure) taking no arguments and returning a future of a
/// [`Fixture`] with a fresh, empty store. See the
/// [module documentation](crate::testing::store).
#[macro_export]
macro_rules! account_store_conformance {
    ($factory:expr) => {
        $crate::__account_store_tests!($factory;
            an_inserted_account_is_found_by_id_normalized_email_and_username_key,
            one_email_address_holds_one_account_in_each_tenant_and_reads_never_cross_tenants,
            writes_naming_another_tenant_change_nothing,
            a_second_account_with_the_same_normalized_email_is_refused_as_email_taken,
            a_username_differing_only_in_case_is_refused_as_username_taken,
            fifty_concurrent_claims_of_one_username_succeed_exactly_once,
            twenty_concurrent_inserts_of_one_email_create_exactly_one_account,
            a_hundred_concurrent_redemptions_of_one_token_succeed_exactly_once,
            expired_revoked_used_wrong_kind_and_unknown_tokens_never_redeem,
            an_update_at_a_stale_version_is_refused_and_changes_nothing,
            an_update_writes_every_field_and_increments_the_version,
            a_failed_commit_leaves_no_trace,
            revoking_tokens_then_issuing_a_new_one_keeps_the_new_link,
            revoking_all_sessions_of_an_account_but_one_is_immediate,
            signing_out_revokes_only_that_session,
            touching_a_session_sets_only_its_last_seen_time,
            a_session_is_read_with_its_account_in_one_call,
            two_hundred_concurrent_rate_hits_count_exactly,
            clearing_rate_prefixes_deletes_only_keys_with_that_prefix,
            staff_verification_is_upserted_per_tenant,
            audit_events_are_listed_newest_first_per_tenant_and_account,
            messages_tokens_and_link_openings_are_listed_newest_first_per_account,
            a_leased_message_is_not_leased_again_until_its_lease_expires,
            messages_are_leased_only_when_due_and_oldest_due_first,
            concurrent_leases_never_hand_out_one_message_twice,
            recording_a_sent_message_redacts_only_a_body_that_carries_a_token,
            recording_a_retry_reschedules_the_message_with_its_error,
            recording_a_failure_gives_up_on_the_message,
            bodies_whose_token_expired_are_redacted_once,
            expired_rate_counters_are_purged,
            a_store_answers_ping,
            timestamps_round_trip_to_the_microsecond,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __account_store_tests {
    ($factory:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::testing::store::run($factory, $crate::testing::store::$name);
            }
        )*
    };
}

// ---------------------------------------------------------------- helpers

/// The suite's epoch: every time is an offset from it.
const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

fn at(seconds: i64) -> OffsetDateTime {
    T0 + Duration::seconds(seconds)
}

fn tenant(name: &str) -> TenantId {
    TenantId::new(name).expect("a valid tenant")
}

fn account_id(n: u32) -> AccountId {
    let mut bytes = [0xA5; 16];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    AccountId::from_random(bytes)
}

fn message_id(n: u32) -> MessageId {
    let mut bytes = [0x5A; 16];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    MessageId::from_random(bytes)
}

fn event_id(n: u32) -> EventId {
    let mut bytes = [0x3C; 16];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    EventId::from_random(bytes)
}

fn hash(n: u32) -> TokenHash {
    let mut bytes = [0x77; 32];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    TokenHash::from_bytes(bytes)
}

fn account(tenant: &TenantId, n: u32, email: &str) -> Account {
    Account::new(
        account_id(n),
        tenant.clone(),
        EmailAddress::parse(email).expect("a valid email"),
        None,
        None,
        at(0),
    )
}

fn username(name: &str) -> Option<Username> {
    Some(Username::parse(name).expect("a valid username"))
}

fn token(owner: &Account, n: u32, kind: TokenKind, created: i64, expires: i64) -> TokenRecord {
    TokenRecord {
        hash: hash(n),
        kind,
        tenant: owner.tenant.clone(),
        account_id: owner.id,
        created_at: at(created),
        expires_at: at(expires),
        used_at: None,
        revoked_at: None,
        message_id: None,
    }
}

fn session(owner: &Account, n: u32) -> SessionRecord {
    SessionRecord {
        hash: hash(n),
        tenant: owner.tenant.clone(),
        account_id: owner.id,
        created_at: at(0),
        last_seen_at: at(0),
        expires_at: at(86_400),
        revoked_at: None,
        ip: Some(IpAddr::from([203, 0, 113, 7])),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0".into()),
    }
}

fn message(owner: &Account, n: u32, created: i64, token: Option<(TokenHash, i64)>) -> NewMessage {
    NewMessage {
        id: message_id(n),
        tenant: owner.tenant.clone(),
        account_id: Some(owner.id),
        kind: if token.is_some() {
            MessageKind::PasswordReset
        } else {
            MessageKind::PasswordChanged
        },
        to: owner.email.as_str().to_owned(),
        to_name: owner.display_name.clone(),
        subject: format!("Message {n}"),
        text_body: format!("Text body {n}: https://portal.example.com/reset#t"),
        html_body: format!("<p>HTML body {n}</p>"),
        token_hash: token.map(|(h, _)| h),
        token_expires_at: token.map(|(_, expires)| at(expires)),
        created_at: at(created),
    }
}

fn queued(message: NewMessage) -> OutboxMessage {
    OutboxMessage {
        next_attempt_at: message.created_at,
        message,
        state: DeliveryState::Queued,
        attempts: 0,
        last_error: None,
        sent_at: None,
        failed_at: None,
        redacted: false,
    }
}

fn event(owner: &Account, n: u32, kind: AuditKind, seconds: i64) -> AuditEvent {
    AuditEvent {
        id: event_id(n),
        tenant: owner.tenant.clone(),
        account_id: Some(owner.id),
        actor: Actor::Staff {
            tenant: owner.tenant.clone(),
            staff_id: StaffId::new("staff-1").expect("a valid staff id"),
        },
        kind,
        at: at(seconds),
        ip: Some(IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])),
        user_agent: Some("curl/8.5".into()),
        detail: serde_json::json!({ "n": n, "note": "ünïcode ✓" }),
    }
}

fn opening(token: &TokenRecord, seconds: i64) -> LinkOpening {
    LinkOpening {
        token_hash: token.hash,
        account_id: token.account_id,
        tenant: token.tenant.clone(),
        at: at(seconds),
        ip: Some(IpAddr::from([198, 51, 100, 4])),
        user_agent: Some("Outlook link preview".into()),
    }
}

async fn commit(store: &Arc<dyn AccountStore>, changes: Changes) -> Result<(), StoreError> {
    store.commit(changes).await
}

async fn insert(store: &Arc<dyn AccountStore>, account: &Account) {
    commit(
        store,
        Changes {
            account: Some(AccountChange::Insert(account.clone())),
            ..Changes::default()
        },
    )
    .await
    .expect("insert an account");
}

async fn update(store: &Arc<dyn AccountStore>, account: &Account) -> Result<(), StoreError> {
    commit(
        store,
        Changes {
            account: Some(AccountChange::Update(account.clone())),
            ..Changes::default()
        },
    )
    .await
}

async fn stored(store: &Arc<dyn AccountStore>, account: &Account) -> Account {
    store
        .account(&account.tenant, account.id)
        .await
        .expect("read an account")
        .expect("the account exists")
}

async fn stored_token(store: &Arc<dyn AccountStore>, hash: &TokenHash) -> TokenRecord {
    store
        .token(hash)
        .await
        .expect("read a token")
        .expect("the token exists")
}

async fn start_session(store: &Arc<dyn AccountStore>, session: &SessionRecord) {
    commit(
        store,
        Changes {
            new_session: Some(session.clone()),
            ..Changes::default()
        },
    )
    .await
    .unwrap();
}

async fn stored_session(store: &Arc<dyn AccountStore>, hash: &TokenHash) -> SessionRecord {
    store
        .session(hash)
        .await
        .expect("read a session")
        .expect("the session exists")
}

async fn message_of(
    store: &Arc<dyn AccountStore>,
    owner: &Account,
    id: MessageId,
) -> OutboxMessage {
    store
        .messages_for_account(&owner.tenant, owner.id, 1_000)
        .await
        .expect("list messages")
        .into_iter()
        .find(|m| m.message.id == id)
        .expect("the message exists")
}

fn ids<T, I: PartialEq>(items: &[T], id: impl Fn(&T) -> I) -> Vec<I> {
    items.iter().map(id).collect()
}

// ------------------------------------------------------------------ tests

/// An inserted account is found by id, by normalized email and by username
/// key, with every field as written.
pub async fn an_inserted_account_is_found_by_id_normalized_email_and_username_key(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let mut ann = account(&firm, 1, "Ann.Client@Example.com");
    ann.username = username("Ann.C");
    ann.contact_ref = Some("contact-7".into());
    ann.display_name = Some("Ann Client".into());
    ann.password_hash = Some(PasswordHash::new(
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
    ));
    ann.invitation = Invitation::Pending {
        sent_at: at(10),
        expires_at: at(10 + 7 * 86_400),
    };
    ann.must_change_password = true;
    ann.last_sign_in_at = Some(at(20));
    ann.updated_at = at(30);
    let mut bob = account(&firm, 2, "bob@example.com");
    bob.access = Access::Disabled;
    bob.archived = true;
    bob.invitation = Invitation::Accepted { at: at(40) };

    insert(&store, &ann).await;
    insert(&store, &bob).await;

    assert_eq!(
        store.account(&firm, ann.id).await.unwrap(),
        Some(ann.clone())
    );
    assert_eq!(
        store.account(&firm, bob.id).await.unwrap(),
        Some(bob.clone())
    );
    assert_eq!(
        store
            .account_by_email(&firm, "ann.client@example.com")
            .await
            .unwrap(),
        Some(ann.clone())
    );
    assert_eq!(
        store.account_by_username(&firm, "ann.c").await.unwrap(),
        Some(ann.clone())
    );
    assert_eq!(store.account(&firm, account_id(99)).await.unwrap(), None);
    assert_eq!(
        store
            .account_by_email(&firm, "nobody@example.com")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.account_by_username(&firm, "nobody").await.unwrap(),
        None
    );
}

/// One email address (and one username) may hold an account in each tenant,
/// and no lookup ever returns another tenant's account.
pub async fn one_email_address_holds_one_account_in_each_tenant_and_reads_never_cross_tenants(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let other = tenant("other-firm");
    let mut ann = account(&firm, 1, "ann@example.com");
    ann.username = username("ann");
    let mut twin = account(&other, 2, "ANN@example.com");
    twin.username = username("Ann");

    insert(&store, &ann).await;
    insert(&store, &twin).await;

    assert_eq!(store.account(&other, ann.id).await.unwrap(), None);
    assert_eq!(store.account(&firm, twin.id).await.unwrap(), None);
    let by_email = |t: TenantId| {
        let store = Arc::clone(&store);
        async move { store.account_by_email(&t, "ann@example.com").await.unwrap() }
    };
    assert_eq!(by_email(firm.clone()).await.map(|a| a.id), Some(ann.id));
    assert_eq!(by_email(other.clone()).await.map(|a| a.id), Some(twin.id));
    assert_eq!(
        store
            .account_by_username(&firm, "ann")
            .await
            .unwrap()
            .map(|a| a.id),
        Some(ann.id)
    );
    assert_eq!(
        store
            .account_by_username(&other, "ann")
            .await
            .unwrap()
            .map(|a| a.id),
        Some(twin.id)
    );
    assert_eq!(
        store
            .account_by_email(&tenant("third"), "ann@example.com")
            .await
            .unwrap(),
        None
    );

    // Records of an account are not listed under another tenant.
    let reset = token(&ann, 1, TokenKind::PasswordReset, 0, 3_600);
    commit(
        &store,
        Changes {
            new_tokens: vec![reset.clone()],
            outbox: vec![message(&ann, 1, 0, Some((reset.hash, 3_600)))],
            audit: vec![event(&ann, 1, AuditKind::PasswordResetSent, 0)],
            link_openings: vec![opening(&reset, 5)],
            ..Changes::default()
        },
    )
    .await
    .unwrap();
    assert!(store
        .tokens_for_account(&other, ann.id, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .messages_for_account(&other, ann.id, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .audit_events(&other, ann.id, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .link_openings(&other, ann.id, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .tokens_for_account(&firm, ann.id, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// An update, token revocation or session revocation that names another
/// tenant than the account's changes nothing.
pub async fn writes_naming_another_tenant_change_nothing(store: Arc<dyn AccountStore>) {
    let firm = tenant("firm");
    let other = tenant("other-firm");
    let ann = account(&firm, 1, "ann@example.com");
    insert(&store, &ann).await;
    let invitation = token(&ann, 1, TokenKind::Invitation, 0, 3_600);
    let signed_in = session(&ann, 2);
    commit(
        &store,
        Changes {
            new_tokens: vec![invitation.clone()],
            new_session: Some(signed_in.clone()),
            ..Changes::default()
        },
    )
    .await
    .unwrap();

    let mut hijack = ann.clone();
    hijack.tenant = other.clone();
    hijack.display_name = Some("Mallory".into());
    assert!(matches!(
        update(&store, &hijack).await,
        Err(StoreError::Conflict)
    ));
    commit(
        &store,
        Changes {
            revoke_tokens: vec![TokenRevocation {
                tenant: other.clone(),
                account_id: ann.id,
                kinds: TokenKind::ALL.to_vec(),
                at: at(60),
            }],
            revoke_sessions: vec![SessionRevocation::AllOfAccount {
                tenant: other.clone(),
                account_id: ann.id,
                except: None,
                at: at(60),
            }],
            ..Changes::default()
        },
    )
    .await
    .unwrap();

    assert_eq!(stored(&store, &ann).await, ann);
    assert_eq!(stored_token(&store, &invitation.hash).await, invitation);
    assert_eq!(stored_session(&store, &signed_in.hash).await, signed_in);
    assert_eq!(store.account(&other, ann.id).await.unwrap(), None);
}

/// A second account whose email normalizes to a taken one is refused with
/// `EmailTaken`, on insert and on update.
pub async fn a_second_account_with_the_same_normalized_email_is_refused_as_email_taken(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    let bob = account(&firm, 2, "bob@example.com");
    insert(&store, &ann).await;
    insert(&store, &bob).await;

    let twin = account(&firm, 3, "ANN@Example.COM");
    let refused = commit(
        &store,
        Changes {
            account: Some(AccountChange::Insert(twin.clone())),
            ..Changes::default()
        },
    )
    .await;
    assert!(
        matches!(refused, Err(StoreError::EmailTaken)),
        "{refused:?}"
    );
    assert_eq!(store.account(&firm, twin.id).await.unwrap(), None);

    let mut renamed = bob.clone();
    renamed.email = EmailAddress::parse("Ann@example.com").unwrap();
    let refused = update(&store, &renamed).await;
    assert!(
        matches!(refused, Err(StoreError::EmailTaken)),
        "{refused:?}"
    );
    assert_eq!(stored(&store, &bob).await, bob);
}

/// A username whose key equals a taken one (it differs only in case) is
/// refused with `UsernameTaken`; an account may change the case of its own.
pub async fn a_username_differing_only_in_case_is_refused_as_username_taken(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let mut ann = account(&firm, 1, "ann@example.com");
    ann.username = username("Joe.Fake");
    let bob = account(&firm, 2, "bob@example.com");
    insert(&store, &ann).await;
    insert(&store, &bob).await;

    let mut twin = account(&firm, 3, "twin@example.com");
    twin.username = username("joe.fake");
    let refused = commit(
        &store,
        Changes {
            account: Some(AccountChange::Insert(twin.clone())),
            ..Changes::default()
        },
    )
    .await;
    assert!(
        matches!(refused, Err(StoreError::UsernameTaken)),
        "{refused:?}"
    );

    let mut claim = bob.clone();
    claim.username = username("JOE.FAKE");
    let refused = update(&store, &claim).await;
    assert!(
        matches!(refused, Err(StoreError::UsernameTaken)),
        "{refused:?}"
    );
    assert_eq!(stored(&store, &bob).await, bob);

    let mut recased = ann.clone();
    recased.username = username("joe.FAKE");
    update(&store, &recased)
        .await
        .expect("a new case of one's own username");
    assert_eq!(
        stored(&store, &ann)
            .await
            .username
            .map(|u| u.as_str().to_owned()),
        Some("joe.FAKE".to_owned())
    );
}

/// Fifty accounts claiming one username at once: exactly one succeeds, the
/// other 49 are refused with `UsernameTaken`.
pub async fn fifty_concurrent_claims_of_one_username_succeed_exactly_once(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let mut accounts = Vec::new();
    for n in 0..50 {
        let a = account(&firm, n, &format!("client{n}@example.com"));
        insert(&store, &a).await;
        accounts.push(a);
    }
    let barrier = Arc::new(Barrier::new(50));
    let mut tasks = JoinSet::new();
    for a in accounts {
        let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
        tasks.spawn(async move {
            let mut claim = a;
            claim.username = username(if claim.id == account_id(7) {
                "Popular"
            } else {
                "popular"
            });
            barrier.wait().await;
            update(&store, &claim).await
        });
    }
    let (mut won, mut taken) = (0, 0);
    while let Some(result) = tasks.join_next().await {
        match result.expect("task") {
            Ok(()) => won += 1,
            Err(StoreError::UsernameTaken) => taken += 1,
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!((won, taken), (1, 49));
    assert!(store
        .account_by_username(&firm, "popular")
        .await
        .unwrap()
        .is_some());
}

/// Twenty concurrent inserts of one email address in a tenant create exactly
/// one account; the others are refused with `EmailTaken`.
pub async fn twenty_concurrent_inserts_of_one_email_create_exactly_one_account(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let barrier = Arc::new(Barrier::new(20));
    let mut tasks = JoinSet::new();
    for n in 0..20 {
        let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
        let a = account(&firm, n, "same@example.com");
        tasks.spawn(async move {
            barrier.wait().await;
            commit(
                &store,
                Changes {
                    account: Some(AccountChange::Insert(a)),
                    ..Changes::default()
                },
            )
            .await
        });
    }
    let (mut won, mut taken) = (0, 0);
    while let Some(result) = tasks.join_next().await {
        match result.expect("task") {
            Ok(()) => won += 1,
            Err(StoreError::EmailTaken) => taken += 1,
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!((won, taken), (1, 19));
}

/// A hundred concurrent redemptions of one token: exactly one commits; the
/// others fail with `TokenNotRedeemable` and write nothing.
pub async fn a_hundred_concurrent_redemptions_of_one_token_succeed_exactly_once(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    insert(&store, &ann).await;
    let reset = token(&ann, 1, TokenKind::PasswordReset, 0, 3_600);
    commit(
        &store,
        Changes {
            new_tokens: vec![reset.clone()],
            ..Changes::default()
        },
    )
    .await
    .unwrap();

    let barrier = Arc::new(Barrier::new(100));
    let mut tasks = JoinSet::new();
    for n in 0..100 {
        let (store, barrier, ann) = (Arc::clone(&store), Arc::clone(&barrier), ann.clone());
        let hash = reset.hash;
        tasks.spawn(async move {
            barrier.wait().await;
            commit(
                &store,
                Changes {
                    redeem: Some(Redemption {
                        hash,
                        kind: TokenKind::PasswordReset,
                        at: at(60),
                    }),
                    audit: vec![event(&ann, n, AuditKind::PasswordReset, 60)],
                    ..Changes::default()
                },
            )
            .await
        });
    }
    let (mut won, mut refused) = (0, 0);
    while let Some(result) = tasks.join_next().await {
        match result.expect("task") {
            Ok(()) => won += 1,
            Err(StoreError::TokenNotRedeemable) => refused += 1,
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!((won, refused), (1, 99));
    assert_eq!(
        stored_token(&store, &reset.hash).await.used_at,
        Some(at(60))
    );
    assert_eq!(
        store
            .audit_events(&firm, ann.id, 1_000)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Expired (including expiring exactly now), revoked, used, wrong-kind and
/// unknown tokens never redeem; a valid one redeems once.
pub async fn expired_revoked_used_wrong_kind_and_unknown_tokens_never_redeem(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    insert(&store, &ann).await;
    let expired = token(&ann, 1, TokenKind::PasswordReset, 0, 100);
    let mut revoked = token(&ann, 2, TokenKind::PasswordReset, 0, 3_600);
    revoked.revoked_at = Some(at(50));
    let mut used = token(&ann, 3, TokenKind::PasswordReset, 0, 3_600);
    used.used_at = Some(at(50));
    let invitation = token(&ann, 4, TokenKind::Invitation, 0, 3_600);
    let valid = token(&ann, 5, TokenKind::PasswordReset, 0, 3_600);
    commit(
        &store,
        Changes {
            new_tokens: vec![
                expired.clone(),
                revoked.clone(),
                used.clone(),
                invitation.clone(),
                valid.clone(),
            ],
            ..Changes::default()
        },
    )
    .await
    .unwrap();

    let redeem = |hash: TokenHash, kind: TokenKind, seconds: i64| {
        let store = Arc::clone(&store);
        async move {
            commit(
                &store,
                Changes {
                    redeem: Some(Redemption {
                        hash,
                        kind,
                        at: at(seconds),
                    }),
                    ..Changes::default()
                },
            )
            .await
        }
    };
    let cases = [
        ("expired", expired.hash, TokenKind::PasswordReset, 200),
        ("expiring now", expired.hash, TokenKind::PasswordReset, 100),
        ("revoked", revoked.hash, TokenKind::PasswordReset, 60),
        ("used", used.hash, TokenKind::PasswordReset, 60),
        ("wrong kind", invitation.hash, TokenKind::PasswordReset, 60),
        ("wrong kind", valid.hash, TokenKind::Invitation, 60),
        ("unknown", hash(99), TokenKind::PasswordReset, 60),
    ];
    for (what, hash, kind, seconds) in cases {
        let result = redeem(hash, kind, seconds).await;
        assert!(
            matches!(result, Err(StoreError::TokenNotRedeemable)),
            "{what}: {result:?}"
        );
    }
    for t in [&expired, &revoked, &used, &invitation, &valid] {
        assert_eq!(&stored_token(&store, &t.hash).await, t, "unchanged");
    }

    redeem(valid.hash, TokenKind::PasswordReset, 99)
        .await
        .expect("a valid token redeems");
    let again = redeem(valid.hash, TokenKind::PasswordReset, 100).await;
    assert!(
        matches!(again, Err(StoreError::TokenNotRedeemable)),
        "{again:?}"
    );
    let redeemed = stored_token(&store, &valid.hash).await;
    assert_eq!(redeemed.used_at, Some(at(99)));
    assert_eq!(redeemed.revoked_at, None);
}

/// An update at a version other than the stored one (stale, or of an absent
/// account) is refused with `Conflict` and changes nothing.
pub async fn an_update_at_a_stale_version_is_refused_and_changes_nothing(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    insert(&store, &ann).await;
    let mut first = ann.clone();
    first.display_name = Some("First".into());
    update(&store, &first).await.expect("the first writer wins");

    let mut stale = ann.clone();
    stale.display_name = Some("Second".into());
    let refused = commit(
        &store,
        Changes {
            account: Some(AccountChange::Update(stale)),
            new_tokens: vec![token(&ann, 1, TokenKind::PasswordReset, 0, 3_600)],
            outbox: vec![message(&ann, 1, 0, None)],
            audit: vec![event(&ann, 1, AuditKind::AccessDisabled, 0)],
            ..Changes::default()
        },
    )
    .await;
    assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");

    let now = stored(&store, &ann).await;
    assert_eq!(now.display_name.as_deref(), Some("First"));
    assert_eq!(now.version, 1);
    assert_eq!(store.token(&hash(1)).await.unwrap(), None);
    assert!(store
        .messages_for_account(&firm, ann.id, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .audit_events(&firm, ann.id, 10)
        .await
        .unwrap()
        .is_empty());

    let ghost = account(&firm, 2, "ghost@example.com");
    assert!(matches!(
        update(&store, &ghost).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(store.account(&firm, ghost.id).await.unwrap(), None);
}

/// An update writes every mutable field, moves the email and username keys,
/// and increments the stored version.
pub async fn an_update_writes_every_field_and_increments_the_version(store: Arc<dyn AccountStore>) {
    let firm = tenant("firm");
    let mut ann = account(&firm, 1, "ann@example.com");
    ann.username = username("ann");
    insert(&store, &ann).await;

    let mut changed = ann.clone();
    changed.contact_ref = Some("crm-42".into());
    changed.display_name = Some("Ann Other".into());
    changed.email = EmailAddress::parse("Ann.Other@Example.org").unwrap();
    changed.username = username("Ann.Other");
    changed.password_hash = Some(PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$eA$eQ"));
    changed.access = Access::Disabled;
    changed.archived = true;
    changed.invitation = Invitation::Accepted { at: at(70) };
    changed.must_change_password = true;
    changed.last_sign_in_at = Some(at(80));
    changed.updated_at = at(90);
    update(&store, &changed).await.unwrap();

    let mut expected = changed.clone();
    expected.version = 1;
    assert_eq!(stored(&store, &ann).await, expected);
    assert_eq!(
        store
            .account_by_email(&firm, "ann@example.com")
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.account_by_username(&firm, "ann").await.unwrap(), None);
    assert_eq!(
        store
            .account_by_email(&firm, "ann.other@example.org")
            .await
            .unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        store.account_by_username(&firm, "ann.other").await.unwrap(),
        Some(expected.clone())
    );

    let mut cleared = expected.clone();
    cleared.contact_ref = None;
    cleared.display_name = None;
    cleared.username = None;
    cleared.password_hash = None;
    cleared.last_sign_in_at = None;
    cleared.invitation = Invitation::NotInvited;
    update(&store, &cleared).await.unwrap();
    cleared.version = 2;
    assert_eq!(stored(&store, &ann).await, cleared);
    // The freed username can be claimed by another account.
    let mut bob = account(&firm, 2, "bob@example.com");
    bob.username = username("ANN.OTHER");
    insert(&store, &bob).await;
}

/// A commit that fails (token not redeemable, username taken, stale version)
/// leaves no outbox row, no audit row, no token, no session, no redemption,
/// no revocation, no cleared counter and no partial account change.
pub async fn a_failed_commit_leaves_no_trace(store: Arc<dyn AccountStore>) {
    let firm = tenant("firm");
    let mut ann = account(&firm, 1, "ann@example.com");
    ann.username = username("ann.c");
    let bob = account(&firm, 2, "bob@example.com");
    insert(&store, &ann).await;
    insert(&store, &bob).await;
    let bob_invitation = token(&bob, 1, TokenKind::Invitation, 0, 3_600);
    let bob_session = session(&bob, 2);
    commit(
        &store,
        Changes {
            new_tokens: vec![bob_invitation.clone()],
            new_session: Some(bob_session.clone()),
            ..Changes::default()
        },
    )
    .await
    .unwrap();
    store.hit_rate("signin:bob", at(0), at(900)).await.unwrap();
    let staff = StaffId::new("staff-1").unwrap();

    let attempt = |redeem: TokenHash, mut change: Account, n: u32| {
        change.display_name = Some("Bob Changed".into());
        Changes {
            redeem: Some(Redemption {
                hash: redeem,
                kind: TokenKind::Invitation,
                at: at(60),
            }),
            account: Some(AccountChange::Update(change)),
            revoke_tokens: vec![TokenRevocation {
                tenant: firm.clone(),
                account_id: bob.id,
                kinds: TokenKind::ALL.to_vec(),
                at: at(60),
            }],
            new_tokens: vec![token(&bob, 100 + n, TokenKind::PasswordReset, 60, 3_600)],
            revoke_sessions: vec![SessionRevocation::AllOfAccount {
                tenant: firm.clone(),
                account_id: bob.id,
                except: None,
                at: at(60),
            }],
            new_session: Some(session(&bob, 200 + n)),
            outbox: vec![message(&bob, n, 60, None)],
            audit: vec![event(&bob, n, AuditKind::InvitationAccepted, 60)],
            link_openings: vec![opening(&bob_invitation, 60)],
            clear_rate_prefixes: vec!["signin:".into()],
            staff_verification: Some(StaffVerification {
                tenant: firm.clone(),
                staff_id: staff.clone(),
                verified_until: at(600),
            }),
        }
    };
    let mut taken = bob.clone();
    taken.username = username("ANN.C");
    let mut stale = bob.clone();
    stale.version = 5;
    let cases = [
        ("username taken", attempt(bob_invitation.hash, taken, 1)),
        ("token not redeemable", attempt(hash(999), bob.clone(), 2)),
        ("stale version", attempt(bob_invitation.hash, stale, 3)),
    ];
    for (what, changes) in cases {
        let result = commit(&store, changes).await;
        assert!(result.is_err(), "{what} must fail");

        assert_eq!(stored(&store, &bob).await, bob, "{what}: account");
        assert_eq!(
            store.tokens_for_account(&firm, bob.id, 100).await.unwrap(),
            vec![bob_invitation.clone()],
            "{what}: tokens (no redemption, revocation or new token)"
        );
        assert_eq!(
            stored_session(&store, &bob_session.hash).await,
            bob_session,
            "{what}"
        );
        for n in 1..=3 {
            assert_eq!(
                store.session(&hash(200 + n)).await.unwrap(),
                None,
                "{what}: session"
            );
        }
        assert!(
            store
                .messages_for_account(&firm, bob.id, 10)
                .await
                .unwrap()
                .is_empty(),
            "{what}"
        );
        assert!(
            store
                .audit_events(&firm, bob.id, 10)
                .await
                .unwrap()
                .is_empty(),
            "{what}"
        );
        assert!(
            store
                .link_openings(&firm, bob.id, 10)
                .await
                .unwrap()
                .is_empty(),
            "{what}"
        );
        assert_eq!(
            store.rate_count("signin:bob", at(0)).await.unwrap(),
            1,
            "{what}"
        );
        assert_eq!(
            store.staff_verification(&firm, &staff).await.unwrap(),
            None,
            "{what}"
        );
        assert!(
            store
                .lease_outbox(at(3_600), at(3_660), 10)
                .await
                .unwrap()
                .is_empty(),
            "{what}: nothing to deliver"
        );
    }
}

/// Revoking an account's pending tokens of some kinds and issuing a new one
/// in one commit revokes the old ones and keeps the new link; used tokens,
/// other kinds and other accounts are untouched.
pub async fn revoking_tokens_then_issuing_a_new_one_keeps_the_new_link(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    let bob = account(&firm, 2, "bob@example.com");
    insert(&store, &ann).await;
    insert(&store, &bob).await;
    let old = token(&ann, 1, TokenKind::Invitation, 0, 3_600);
    let mut used = token(&ann, 2, TokenKind::Invitation, 0, 3_600);
    used.used_at = Some(at(10));
    let reset = token(&ann, 3, TokenKind::PasswordReset, 0, 3_600);
    let bobs = token(&bob, 4, TokenKind::Invitation, 0, 3_600);
    commit(
        &store,
        Changes {
            new_tokens: vec![old.clone(), used.clone(), reset.clone(), bobs.clone()],
            ..Changes::default()
        },
    )
    .await
    .unwrap();

    let fresh = token(&ann, 5, TokenKind::Invitation, 60, 3_660);
    commit(
        &store,
        Changes {
            revoke_tokens: vec![TokenRevocation {
                tenant: firm.clone(),
                account_id: ann.id,
                kinds: vec![TokenKind::Invitation],
                at: at(60),
            }],
            new_tokens: vec![fresh.clone()],
            ..Changes::default()
        },
    )
    .await
    .unwrap();

    assert_eq!(
        stored_token(&store, &old.hash).await.revoked_at,
        Some(at(60))
    );
    assert_eq!(stored_token(&store, &fresh.hash).await, fresh);
    assert_eq!(stored_token(&store, &used.hash).await, used);
    assert_eq!(stored_token(&store, &reset.hash).await, reset);
    assert_eq!(stored_token(&store, &bobs.hash).await, bobs);
    commit(
        &store,
        Changes {
            redeem: Some(Redemption {
                hash: fresh.hash,
                kind: TokenKind::Invitation,
                at: at(61),
            }),
            ..Changes::default()
        },
    )
    .await
    .expect("the new link works");
}

/// Revoking every session of an account but one takes effect at once: the
/// next lookup shows them revoked; other accounts' sessions stay.
pub async fn revoking_all_sessions_of_an_account_but_one_is_immediate(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    let bob = account(&firm, 2, "bob@example.com");
    insert(&store, &ann).await;
    insert(&store, &bob).await;
    let (s1, s2, s3, theirs) = (
        session(&ann, 1),
        session(&ann, 2),
        session(&ann, 3),
        session(&bob, 4),
    );
    for s in [&s1, &s2, &s3, &theirs] {
        start_session(&store, s).await;
    }
    let revoke = |except: Option<TokenHash>, seconds: i64| Changes {
        revoke_sessions: vec![SessionRevocation::AllOfAccount {
            tenant: firm.clone(),
            account_id: ann.id,
            except,
            at: at(seconds),
        }],
        ..Changes::default()
    };

    commit(&store, revoke(Some(s2.hash), 60)).await.unwrap();
    assert_eq!(
        stored_session(&store, &s1.hash).await.revoked_at,
        Some(at(60))
    );
    assert_eq!(stored_session(&store, &s2.hash).await.revoked_at, None);
    assert_eq!(
        stored_session(&store, &s3.hash).await.revoked_at,
        Some(at(60))
    );
    assert_eq!(stored_session(&store, &theirs.hash).await, theirs);

    commit(&store, revoke(None, 120)).await.unwrap();
    assert_eq!(
        stored_session(&store, &s1.hash).await.revoked_at,
        Some(at(60)),
        "kept"
    );
    assert_eq!(
        stored_session(&store, &s2.hash).await.revoked_at,
        Some(at(120))
    );
    assert_eq!(stored_session(&store, &theirs.hash).await.revoked_at, None);
}

/// Signing out revokes that session only, and a new session can be issued
/// in the same commit.
pub async fn signing_out_revokes_only_that_session(store: Arc<dyn AccountStore>) {
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    insert(&store, &ann).await;
    let (s1, s2) = (session(&ann, 1), session(&ann, 2));
    start_session(&store, &s1).await;
    commit(
        &store,
        Changes {
            revoke_sessions: vec![SessionRevocation::One {
                hash: s1.hash,
                at: at(30),
            }],
            new_session: Some(s2.clone()),
            ..Changes::default()
        },
    )
    .await
    .unwrap();
    let mut expected = s1.clone();
    expected.revoked_at = Some(at(30));
    assert_eq!(stored_session(&store, &s1.hash).await, expected);
    assert_eq!(stored_session(&store, &s2.hash).await, s2);
    assert_eq!(store.session(&hash(99)).await.unwrap(), None);
}

/// Touching a session sets its last-seen time and nothing else; touching an
/// unknown session is not an error.
pub async fn touching_a_session_sets_only_its_last_seen_time(store: Arc<dyn AccountStore>) {
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    insert(&store, &ann).await;
    let (s1, s2) = (session(&ann, 1), session(&ann, 2));
    for s in [&s1, &s2] {
        start_session(&store, s).await;
    }
    store.touch_session(&s1.hash, at(300)).await.unwrap();
    let mut expected = s1.clone();
    expected.last_seen_at = at(300);
    assert_eq!(stored_session(&store, &s1.hash).await, expected);
    assert_eq!(stored_session(&store, &s2.hash).await, s2);
    store.touch_session(&hash(99), at(300)).await.unwrap();
    assert_eq!(store.session(&hash(99)).await.unwrap(), None);
}

/// `session_and_account` answers what `session` and then `account` answer:
/// the session with its account, revoked or not; nothing for an unknown hash.
pub async fn a_session_is_read_with_its_account_in_one_call(store: Arc<dyn AccountStore>) {
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    let bob = account(&firm, 2, "bob@example.com");
    insert(&store, &ann).await;
    insert(&store, &bob).await;
    let (s1, s2) = (session(&ann, 1), session(&bob, 2));
    for s in [&s1, &s2] {
        start_session(&store, s).await;
    }
    commit(
        &store,
        Changes {
            revoke_sessions: vec![SessionRevocation::One {
                hash: s2.hash,
                at: at(30),
            }],
            ..Changes::default()
        },
    )
    .await
    .unwrap();

    let (session_1, account_1) = store
        .session_and_account(&s1.hash)
        .await
        .unwrap()
        .expect("a session");
    let (session_2, account_2) = store
        .session_and_account(&s2.hash)
        .await
        .unwrap()
        .expect("a revoked session");

    assert_eq!(session_1, stored_session(&store, &s1.hash).await);
    assert_eq!(
        account_1,
        store.account(&firm, ann.id).await.unwrap(),
        "ann's account"
    );
    assert!(account_1.is_some());
    assert_eq!(session_2.revoked_at, Some(at(30)));
    assert_eq!(account_2, store.account(&firm, bob.id).await.unwrap());
    assert_eq!(account_2.map(|a| a.id), Some(bob.id));
    assert_eq!(store.session_and_account(&hash(99)).await.unwrap(), None);
}

/// Two hundred concurrent hits of one rate counter count exactly: each hit
/// sees a distinct count from 1 to 200; other windows and keys are apart.
pub async fn two_hundred_concurrent_rate_hits_count_exactly(store: Arc<dyn AccountStore>) {
    let barrier = Arc::new(Barrier::new(200));
    let mut tasks = JoinSet::new();
    for _ in 0..200 {
        let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
        tasks.spawn(async move {
            barrier.wait().await;
            store.hit_rate("ip:203.0.113.7", at(0), at(900)).await
        });
    }
    let mut counts = Vec::new();
    while let Some(result) = tasks.join_next().await {
        counts.push(result.expect("task").expect("hit"));
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=200).collect::<Vec<u32>>());
    assert_eq!(
        store.rate_count("ip:203.0.113.7", at(0)).await.unwrap(),
        200
    );
    assert_eq!(
        store.rate_count("ip:203.0.113.7", at(900)).await.unwrap(),
        0
    );
    assert_eq!(store.rate_count("ip:203.0.113.8", at(0)).await.unwrap(), 0);
    assert_eq!(
        store
            .hit_rate("ip:203.0.113.7", at(900), at(1_800))
            .await
            .unwrap(),
        1
    );
}

/// Clearing rate prefixes deletes every counter whose key starts with a
/// prefix (taken literally, `%` and `_` included) and no other.
pub async fn clearing_rate_prefixes_deletes_only_keys_with_that_prefix(
    store: Arc<dyn AccountStore>,
) {
    let keys = [
        "signin:ann@example.com",
        "signin:ann@example.com.evil",
        "signin:bob@example.com",
        "reset:ann@example.com",
        "Signin:ann@example.com",
        "a%b:1",
        "axb:1",
        "a_c:1",
        "abc:1",
    ];
    for key in keys {
        store.hit_rate(key, at(0), at(900)).await.unwrap();
        store.hit_rate(key, at(900), at(1_800)).await.unwrap();
    }
    commit(
        &store,
        Changes {
            clear_rate_prefixes: vec!["signin:ann@".into(), "a%b".into(), "a_c".into()],
            ..Changes::default()
        },
    )
    .await
    .unwrap();
    let cleared = [
        "signin:ann@example.com",
        "signin:ann@example.com.evil",
        "a%b:1",
        "a_c:1",
    ];
    for key in keys {
        let expected = if cleared.contains(&key) { 0 } else { 1 };
        for window in [at(0), at(900)] {
            assert_eq!(
                store.rate_count(key, window).await.unwrap(),
                expected,
                "{key}"
            );
        }
    }
}

/// Staff verification is written by upsert, per tenant and staff member.
pub async fn staff_verification_is_upserted_per_tenant(store: Arc<dyn AccountStore>) {
    let firm = tenant("firm");
    let other = tenant("other-firm");
    let staff = StaffId::new("staff-1").unwrap();
    let verification = |until: i64| StaffVerification {
        tenant: firm.clone(),
        staff_id: staff.clone(),
        verified_until: at(until),
    };
    assert_eq!(store.staff_verification(&firm, &staff).await.unwrap(), None);
    for until in [600, 1_200] {
        commit(
            &store,
            Changes {
                staff_verification: Some(verification(until)),
                ..Changes::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            store.staff_verification(&firm, &staff).await.unwrap(),
            Some(verification(until))
        );
    }
    assert_eq!(
        store.staff_verification(&other, &staff).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .staff_verification(&firm, &StaffId::new("staff-2").unwrap())
            .await
            .unwrap(),
        None
    );
}

/// Audit events are listed newest first (later insertion first among equal
/// times), per tenant and account, up to the limit, with every field intact.
pub async fn audit_events_are_listed_newest_first_per_tenant_and_account(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    let bob = account(&firm, 2, "bob@example.com");
    insert(&store, &ann).await;
    insert(&store, &bob).await;
    let e1 = event(&ann, 1, AuditKind::AccountCreated, 10);
    let e3 = event(&ann, 3, AuditKind::InvitationSent, 30);
    let e2 = event(&ann, 2, AuditKind::AccessDisabled, 20);
    let mut e4 = event(&ann, 4, AuditKind::SignedIn, 30);
    e4.actor = Actor::Client { account_id: ann.id };
    e4.ip = None;
    e4.user_agent = None;
    e4.detail = serde_json::Value::Null;
    let mut e5 = event(&ann, 5, AuditKind::SignInFailed, 15);
    e5.actor = Actor::System;
    let bobs = event(&bob, 6, AuditKind::AccountCreated, 40);
    let mut anonymous = event(&ann, 7, AuditKind::SignInFailed, 50);
    anonymous.account_id = None;
    commit(
        &store,
        Changes {
            audit: vec![e1.clone(), e3.clone(), e2.clone()],
            ..Changes::default()
        },
    )
    .await
    .unwrap();
    commit(
        &store,
        Changes {
            audit: vec![e4.clone(), e5.clone(), bobs.clone(), anonymous],
            ..Changes::default()
        },
    )
    .await
    .unwrap();

    let listed = store.audit_events(&firm, ann.id, 10).await.unwrap();
    assert_eq!(listed, vec![e4.clone(), e3.clone(), e2.clone(), e5, e1]);
    let limited = store.audit_events(&firm, ann.id, 2).await.unwrap();
    assert_eq!(ids(&limited, |e| e.id), vec![e4.id, e3.id]);
    assert_eq!(
        store.audit_events(&firm, bob.id, 10).await.unwrap(),
        vec![bobs]
    );
    assert!(store
        .audit_events(&tenant("other"), ann.id, 10)
        .await
        .unwrap()
        .is_empty());
}

/// Outbox messages, link tokens and link openings are listed newest first,
/// per tenant and account, up to the limit.
pub async fn messages_tokens_and_link_openings_are_listed_newest_first_per_account(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let mut ann = account(&firm, 1, "ann@example.com");
    ann.display_name = Some("Ann Client".into());
    let bob = account(&firm, 2, "bob@example.com");
    insert(&store, &ann).await;
    insert(&store, &bob).await;
    let t1 = token(&ann, 1, TokenKind::Invitation, 10, 3_600);
    let mut t2 = token(&ann, 2, TokenKind::PasswordReset, 20, 3_600);
    t2.message_id = Some(message_id(2));
    let t3 = token(&ann, 3, TokenKind::NotMe, 15, 3_600);
    let m1 = message(&ann, 1, 10, Some((t1.hash, 3_600)));
    let m2 = message(&ann, 2, 20, Some((t2.hash, 3_600)));
    let m3 = message(&ann, 3, 15, None);
    let mut orphan = message(&ann, 4, 30, None);
    orphan.account_id = None;
    orphan.kind = MessageKind::NoAccount;
    let bobs = message(&bob, 5, 40, None);
    commit(
        &store,
        Changes {
            new_tokens: vec![t1.clone(), t2.clone(), t3.clone()],
            outbox: vec![m1.clone(), m2.clone(), m3.clone(), orphan, bobs.clone()],
            link_openings: vec![opening(&t1, 50), opening(&t2, 70), opening(&t1, 60)],
            ..Changes::default()
        },
    )
    .await
    .unwrap();

    assert_eq!(
        store.tokens_for_account(&firm, ann.id, 10).await.unwrap(),
        vec![t2.clone(), t3.clone(), t1.clone()]
    );
    assert_eq!(
        ids(
            &store.tokens_for_account(&firm, ann.id, 1).await.unwrap(),
            |t| t.hash
        ),
        vec![t2.hash]
    );
    assert_eq!(
        store.messages_for_account(&firm, ann.id, 10).await.unwrap(),
        vec![queued(m2.clone()), queued(m3.clone()), queued(m1.clone())]
    );
    assert_eq!(
        ids(
            &store.messages_for_account(&firm, ann.id, 2).await.unwrap(),
            |m| m.message.id
        ),
        vec![m2.id, m3.id]
    );
    assert_eq!(
        store.messages_for_account(&firm, bob.id, 10).await.unwrap(),
        vec![queued(bobs)]
    );
    assert_eq!(
        store.link_openings(&firm, ann.id, 10).await.unwrap(),
        vec![opening(&t2, 70), opening(&t1, 60), opening(&t1, 50)]
    );
    assert_eq!(
        store.link_openings(&firm, ann.id, 1).await.unwrap().len(),
        1
    );
    assert!(store
        .link_openings(&firm, bob.id, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn queue(store: &Arc<dyn AccountStore>, messages: Vec<NewMessage>) {
    commit(
        store,
        Changes {
            outbox: messages,
            ..Changes::default()
        },
    )
    .await
    .expect("queue messages");
}

async fn lease_ids(
    store: &Arc<dyn AccountStore>,
    now: i64,
    until: i64,
    limit: u32,
) -> Vec<MessageId> {
    let leased = store
        .lease_outbox(at(now), at(until), limit)
        .await
        .expect("lease");
    ids(&leased, |m| m.message.id)
}

/// A leased message is not leased again, to anyone, until its lease expires;
/// then it is.
pub async fn a_leased_message_is_not_leased_again_until_its_lease_expires(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    insert(&store, &ann).await;
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
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    insert(&store, &ann).await;
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
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    insert(&store, &ann).await;
    queue(
        &store,
        (0..60)
            .map(|n| message(&ann, n, i64::from(n % 7), None))
            .collect(),
    )
    .await;

    let barrier = Arc::new(Barrier::new(6));
    let mut tasks = JoinSet::new();
    for _ in 0..6 {
        let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
        tasks.spawn(async move {
            barrier.wait().await;
            let mut mine = Vec::new();
            loop {
                let batch = lease_ids(&store, 10, 70, 4).await;
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch);
            }
        });
    }
    let mut all = Vec::new();
    while let Some(result) = tasks.join_next().await {
        all.extend(result.expect("task"));
    }
    all.sort_unstable();
    let mut expected: Vec<MessageId> = (0..60).map(message_id).collect();
    expected.sort_unstable();
    assert_eq!(all, expected);
}

/// Recording `Sent` marks the message sent, counts the attempt, releases the
/// lease, and redacts the bodies only of a message that carries a token.
pub async fn recording_a_sent_message_redacts_only_a_body_that_carries_a_token(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    insert(&store, &ann).await;
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
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    insert(&store, &ann).await;
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
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    insert(&store, &ann).await;
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

/// Bodies whose token expired by `now` are redacted, each once; bodies
/// without a token or with a live token are kept.
pub async fn bodies_whose_token_expired_are_redacted_once(store: Arc<dyn AccountStore>) {
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    insert(&store, &ann).await;
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

/// Purging deletes the rate counters that expired by `now`, and only those.
pub async fn expired_rate_counters_are_purged(store: Arc<dyn AccountStore>) {
    store.hit_rate("a", at(0), at(100)).await.unwrap();
    store.hit_rate("b", at(0), at(200)).await.unwrap();
    store.hit_rate("c", at(100), at(300)).await.unwrap();

    assert_eq!(store.purge_expired(at(99)).await.unwrap(), 0);
    assert_eq!(store.purge_expired(at(200)).await.unwrap(), 2);
    assert_eq!(store.rate_count("a", at(0)).await.unwrap(), 0);
    assert_eq!(store.rate_count("b", at(0)).await.unwrap(), 0);
    assert_eq!(store.rate_count("c", at(100)).await.unwrap(), 1);
}

/// A working store answers `ping`.
pub async fn a_store_answers_ping(store: Arc<dyn AccountStore>) {
    store.ping().await.expect("ping");
}

/// Times are kept to the microsecond: a time with nanoseconds reads back
/// either exactly or truncated to the microsecond, and nothing else.
pub async fn timestamps_round_trip_to_the_microsecond(store: Arc<dyn AccountStore>) {
    let firm = tenant("firm");
    let precise = T0 + Duration::nanoseconds(123_456_789);
    let truncated = T0 + Duration::microseconds(123_456);
    let far = datetime!(2199-12-31 23:59:59.999_999 UTC);
    let past = datetime!(1970-01-01 00:00:00.000_001 UTC);
    let mut ann = account(&firm, 1, "ann@example.com");
    ann.created_at = precise;
    ann.updated_at = far;
    ann.last_sign_in_at = Some(past);
    insert(&store, &ann).await;

    let read = stored(&store, &ann).await;
    assert!(
        read.created_at == precise || read.created_at == truncated,
        "{} is neither {precise} nor {truncated}",
        read.created_at
    );
    assert_eq!(read.updated_at, far);
    assert_eq!(read.last_sign_in_at, Some(past));
    assert_eq!(read.created_at.offset(), time::UtcOffset::UTC);
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
    use crate::dispatcher::{Dispatcher, DispatcherConfig};
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
