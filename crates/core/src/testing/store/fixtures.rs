//! The suite's shared fixtures: times, ids, records and store steps.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use crate::{
    Account, AccountChange, AccountId, AccountStore, Actor, AuditEvent, AuditKind, Changes,
    EmailAddress, EventId, LinkOpening, MessageId, MessageKind, NewMessage, OutboxMessage,
    SessionRecord, SessionRevocation, StaffId, StoreError, TenantId, TokenHash, TokenKind,
    TokenRecord, Username,
};

/// The suite's epoch: every time is an offset from it.
pub(super) const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

pub(super) fn at(seconds: i64) -> OffsetDateTime {
    T0 + Duration::seconds(seconds)
}

pub(super) fn tenant(name: &str) -> TenantId {
    TenantId::new(name).expect("a valid tenant")
}

/// `N` bytes of `fill` that begin with `n`: distinct ids per kind and number.
fn numbered<const N: usize>(fill: u8, n: u32) -> [u8; N] {
    let mut bytes = [fill; N];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    bytes
}

pub(super) fn account_id(n: u32) -> AccountId {
    AccountId::from_random(numbered(0xA5, n))
}

pub(super) fn message_id(n: u32) -> MessageId {
    MessageId::from_random(numbered(0x5A, n))
}

pub(super) fn event_id(n: u32) -> EventId {
    EventId::from_random(numbered(0x3C, n))
}

pub(super) fn hash(n: u32) -> TokenHash {
    TokenHash::from_bytes(numbered(0x77, n))
}

pub(super) fn account(tenant: &TenantId, n: u32, email: &str) -> Account {
    Account::new(
        account_id(n),
        tenant.clone(),
        EmailAddress::parse(email).expect("a valid email"),
        None,
        None,
        at(0),
    )
}

pub(super) fn username(name: &str) -> Option<Username> {
    Some(Username::parse(name).expect("a valid username"))
}

pub(super) fn token(
    owner: &Account,
    n: u32,
    kind: TokenKind,
    created: i64,
    expires: i64,
) -> TokenRecord {
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

pub(super) fn session(owner: &Account, n: u32) -> SessionRecord {
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

pub(super) fn message(
    owner: &Account,
    n: u32,
    created: i64,
    token: Option<(TokenHash, i64)>,
) -> NewMessage {
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

pub(super) fn queued(message: NewMessage) -> OutboxMessage {
    OutboxMessage::queued(message)
}

pub(super) fn event(owner: &Account, n: u32, kind: AuditKind, seconds: i64) -> AuditEvent {
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

pub(super) fn opening(token: &TokenRecord, seconds: i64) -> LinkOpening {
    LinkOpening {
        token_hash: token.hash,
        account_id: token.account_id,
        tenant: token.tenant.clone(),
        at: at(seconds),
        ip: Some(IpAddr::from([198, 51, 100, 4])),
        user_agent: Some("Outlook link preview".into()),
    }
}

pub(super) async fn commit(
    store: &Arc<dyn AccountStore>,
    changes: Changes,
) -> Result<(), StoreError> {
    store.commit(changes).await
}

/// The account of `email` in `tenant`, if any.
pub(super) async fn found_by_email(
    store: &Arc<dyn AccountStore>,
    tenant: &TenantId,
    email: &str,
) -> Option<Account> {
    store.account_by_email(tenant, email).await.unwrap()
}

/// Commits new tokens and nothing else.
pub(super) async fn store_tokens(store: &Arc<dyn AccountStore>, tokens: Vec<TokenRecord>) {
    let changes = Changes {
        new_tokens: tokens,
        ..Changes::default()
    };
    commit(store, changes).await.unwrap();
}

/// Commits the revocation of one session at `seconds` and nothing else.
pub(super) async fn revoke_session(store: &Arc<dyn AccountStore>, hash: TokenHash, seconds: i64) {
    let changes = Changes {
        revoke_sessions: vec![SessionRevocation::One {
            hash,
            at: at(seconds),
        }],
        ..Changes::default()
    };
    commit(store, changes).await.unwrap();
}

/// Commits one account change and nothing else.
pub(super) async fn write(
    store: &Arc<dyn AccountStore>,
    change: AccountChange,
) -> Result<(), StoreError> {
    store.commit(Changes::of_account(change)).await
}

pub(super) async fn insert(store: &Arc<dyn AccountStore>, account: &Account) {
    let change = AccountChange::Insert(account.clone());
    write(store, change).await.expect("insert an account");
}

pub(super) async fn update(
    store: &Arc<dyn AccountStore>,
    account: &Account,
) -> Result<(), StoreError> {
    write(store, AccountChange::Update(account.clone())).await
}

/// Gives `owner` an hour-long invitation (token 1) and a session (token 2).
pub(super) async fn invite_and_sign_in(
    store: &Arc<dyn AccountStore>,
    owner: &Account,
) -> (TokenRecord, SessionRecord) {
    let invitation = token(owner, 1, TokenKind::Invitation, 0, 3_600);
    let signed_in = session(owner, 2);
    let changes = Changes {
        new_tokens: vec![invitation.clone()],
        new_session: Some(signed_in.clone()),
        ..Changes::default()
    };
    store
        .commit(changes)
        .await
        .expect("an invitation and a session");
    (invitation, signed_in)
}

pub(super) async fn stored(store: &Arc<dyn AccountStore>, account: &Account) -> Account {
    store
        .account(&account.tenant, account.id)
        .await
        .expect("read an account")
        .expect("the account exists")
}

pub(super) async fn stored_token(store: &Arc<dyn AccountStore>, hash: &TokenHash) -> TokenRecord {
    store
        .token(hash)
        .await
        .expect("read a token")
        .expect("the token exists")
}

pub(super) async fn start_session(store: &Arc<dyn AccountStore>, session: &SessionRecord) {
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

pub(super) async fn stored_session(
    store: &Arc<dyn AccountStore>,
    hash: &TokenHash,
) -> SessionRecord {
    store
        .session(hash)
        .await
        .expect("read a session")
        .expect("the session exists")
}

pub(super) async fn message_of(
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

pub(super) fn ids<T, I: PartialEq>(items: &[T], id: impl Fn(&T) -> I) -> Vec<I> {
    items.iter().map(id).collect()
}

pub(super) async fn queue(store: &Arc<dyn AccountStore>, messages: Vec<NewMessage>) {
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

pub(super) async fn lease_ids(
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

/// Tenant "firm" with Ann (account 1) stored.
pub(super) async fn firm_with_ann(store: &Arc<dyn AccountStore>) -> (TenantId, Account) {
    let firm = tenant("firm");
    let ann = account(&firm, 1, "ann@example.com");
    insert(store, &ann).await;
    (firm, ann)
}

/// Tenant "firm" with Ann (account 1) and Bob (account 2) stored.
pub(super) async fn ann_and_bob(store: &Arc<dyn AccountStore>) -> (TenantId, Account, Account) {
    let (firm, ann) = firm_with_ann(store).await;
    let bob = account(&firm, 2, "bob@example.com");
    insert(store, &bob).await;
    (firm, ann, bob)
}

/// Runs every job as its own task, all released at once by one barrier;
/// what each returned, in the order they finished.
pub(super) async fn at_once<T, Job>(jobs: impl IntoIterator<Item = Job>) -> Vec<T>
where
    Job: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let jobs: Vec<Job> = jobs.into_iter().collect();
    let barrier = Arc::new(Barrier::new(jobs.len()));
    let mut tasks = JoinSet::new();
    for job in jobs {
        let barrier = Arc::clone(&barrier);
        tasks.spawn(async move {
            barrier.wait().await;
            job.await
        });
    }
    let mut results = Vec::new();
    while let Some(result) = tasks.join_next().await {
        results.push(result.expect("task"));
    }
    results
}

/// How many of a race's commits went through and how many were refused as
/// `is_refusal` says; any other error fails the test.
pub(super) fn won_and_refused(
    results: Vec<Result<(), StoreError>>,
    is_refusal: fn(&StoreError) -> bool,
) -> (u32, u32) {
    let (mut won, mut refused) = (0, 0);
    for result in results {
        match result {
            Ok(()) => won += 1,
            Err(error) if is_refusal(&error) => refused += 1,
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    (won, refused)
}

/// Six leasers at once drain a queue, each calling `lease` until a batch
/// comes back empty: together they got every id of `expected` exactly once.
pub(super) async fn assert_six_leasers_share<Id, Lease, Batch>(
    store: &Arc<dyn AccountStore>,
    lease: Lease,
    mut expected: Vec<Id>,
) where
    Id: Ord + std::fmt::Debug + Send + 'static,
    Lease: Fn(Arc<dyn AccountStore>) -> Batch + Clone + Send + Sync + 'static,
    Batch: Future<Output = Vec<Id>> + Send,
{
    let leasers = (0..6).map(|_| {
        let (store, lease) = (Arc::clone(store), lease.clone());
        async move { lease_until_empty(|| lease(Arc::clone(&store))).await }
    });
    let mut all: Vec<Id> = at_once(leasers).await.into_iter().flatten().collect();
    all.sort_unstable();
    expected.sort_unstable();
    assert_eq!(all, expected);
}

/// Leases with `lease` until a batch comes back empty; every id leased.
async fn lease_until_empty<Id, Lease>(mut lease: impl FnMut() -> Lease) -> Vec<Id>
where
    Lease: Future<Output = Vec<Id>>,
{
    let mut leased = Vec::new();
    loop {
        let batch = lease().await;
        if batch.is_empty() {
            return leased;
        }
        leased.extend(batch);
    }
}
