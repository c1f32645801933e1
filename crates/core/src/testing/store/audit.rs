//! The audit chain: sequence numbers and hashes assigned in the commit,
//! one chain under concurrency, paged reads, and retention.

use std::collections::HashSet;
use std::sync::Arc;

use crate::audit::{verify_chain, AuditPages};
use crate::{
    AccountChange, AccountStore, AuditEvent, AuditKind, AuditQuery, ChainPoint, ChainedEvent,
    Changes, StoreError, TenantId,
};

use super::fixtures::*;

/// Commits `events` as one unit of work (nothing else in it).
async fn append(store: &Arc<dyn AccountStore>, events: Vec<AuditEvent>) {
    let changes = Changes {
        audit: events,
        ..Changes::default()
    };
    commit(store, changes).await.unwrap();
}

/// The sequence number the tenant's chain verifies to (it must verify).
async fn verified_to(store: &Arc<dyn AccountStore>, tenant: &TenantId) -> u64 {
    verify_chain(store.as_ref(), tenant)
        .await
        .unwrap()
        .unwrap()
        .seq
}

async fn whole_chain(store: &Arc<dyn AccountStore>, query: AuditQuery) -> Vec<ChainedEvent> {
    let mut pages = AuditPages::new(query);
    let mut events = Vec::new();
    while let Some(page) = pages.next(store.as_ref()).await.unwrap() {
        events.extend(page);
    }
    events
}

/// Eight writers committing two hundred events each at once form one chain
/// per tenant: numbers 1..=1600 without gap or repeat, every hash linking to
/// the one before, and the head at the last.
pub async fn eight_concurrent_writers_of_two_hundred_events_form_one_chain(
    store: Arc<dyn AccountStore>,
) {
    let (firm, ann, _) = ann_and_bob(&store).await;
    let writers = (0..8u32).map(|writer| {
        let store = Arc::clone(&store);
        let ann = ann.clone();
        tokio::spawn(async move {
            for i in 0..200u32 {
                let event = event(&ann, 1_000 + writer * 200 + i, AuditKind::SignedIn, 0);
                append(&store, vec![event]).await;
            }
        })
    });
    for writer in futures::future::join_all(writers).await {
        writer.unwrap();
    }

    let chain = whole_chain(&store, AuditQuery::all(firm.clone(), 333)).await;
    let seqs: Vec<u64> = chain.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=1_600).collect::<Vec<u64>>());
    let ids: HashSet<_> = chain.iter().map(|e| e.event.id).collect();
    assert_eq!(ids.len(), 1_600);
    let head = verify_chain(store.as_ref(), &firm).await.unwrap().unwrap();
    assert_eq!(head.seq, 1_600);
    assert_eq!(head.hash, chain[1_599].hash);
}

/// The events of one commit take consecutive numbers in the order given,
/// each tenant its own chain; a refused commit takes no number.
pub async fn events_of_a_commit_are_chained_in_order_per_tenant_and_a_refused_commit_takes_none(
    store: Arc<dyn AccountStore>,
) {
    let (firm, ann, bob) = ann_and_bob(&store).await;
    let other = tenant("other");
    let mut carl = account(&other, 3, "carl@example.com");
    insert(&store, &carl).await;
    let e1 = event(&ann, 1, AuditKind::AccountCreated, 10);
    let e2 = event(&bob, 2, AuditKind::InvitationSent, 5);
    let e3 = event(&carl, 3, AuditKind::AccountCreated, 1);
    append(&store, vec![e1.clone(), e2.clone(), e3.clone()]).await;
    carl.display_name = Some("stale".into());
    carl.version = 7;
    let refused = commit(
        &store,
        Changes {
            account: Some(AccountChange::Update(carl.clone())),
            audit: vec![event(&carl, 4, AuditKind::Archived, 2)],
            ..Changes::default()
        },
    )
    .await;
    assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");
    let e5 = event(&carl, 5, AuditKind::AccessDisabled, 3);
    append(&store, vec![e5.clone()]).await;

    let firms = whole_chain(&store, AuditQuery::all(firm.clone(), 10)).await;
    let expected = ChainPoint::START.next(&e1);
    assert_eq!(firms[0].seq, 1);
    assert_eq!(firms[0].hash, expected.hash);
    assert_eq!(firms[0].event, e1);
    assert_eq!((firms[1].seq, &firms[1].event), (2, &e2));
    assert_eq!(firms[1].hash, expected.next(&e2).hash);
    let others = whole_chain(&store, AuditQuery::all(other.clone(), 10)).await;
    let other_seqs: Vec<_> = others.iter().map(|e| (e.seq, e.event.id)).collect();
    assert_eq!(other_seqs, vec![(1, e3.id), (2, e5.id)]);
    assert_eq!(verified_to(&store, &other).await, 2);
    let ends = store.audit_chain_ends(&firm).await.unwrap();
    assert_eq!((ends.checkpoint, ends.head.seq), (ChainPoint::START, 2));
    assert_eq!(store.audit_tenants().await.unwrap(), vec![firm, other]);
}

/// A page holds the events after the cursor that pass every filter (time
/// window inclusive, account, kind), in chain order, never another
/// tenant's.
pub async fn the_trail_is_read_in_pages_filtered_by_time_account_and_kind_per_tenant(
    store: Arc<dyn AccountStore>,
) {
    let (firm, ann, bob) = ann_and_bob(&store).await;
    let other = tenant("other");
    let carl = account(&other, 3, "carl@example.com");
    let events = vec![
        event(&ann, 1, AuditKind::AccountCreated, 10),
        event(&bob, 2, AuditKind::AccountCreated, 20),
        event(&ann, 3, AuditKind::SignedIn, 30),
        event(&ann, 4, AuditKind::SignedIn, 40),
        event(&carl, 5, AuditKind::SignedIn, 30),
    ];
    append(&store, events.clone()).await;

    let mut query = AuditQuery::all(firm.clone(), 2);
    let first = store.audit_page(&query).await.unwrap();
    assert_eq!(ids(&first, |e| e.seq), vec![1, 2]);
    query.after_seq = 2;
    assert_eq!(
        ids(&store.audit_page(&query).await.unwrap(), |e| e.seq),
        vec![3, 4]
    );
    query.after_seq = 4;
    assert!(store.audit_page(&query).await.unwrap().is_empty());

    let mut filtered = AuditQuery::all(firm.clone(), 10);
    filtered.filter.account = Some(ann.id);
    filtered.filter.kind = Some(AuditKind::SignedIn);
    filtered.filter.from = Some(at(30));
    filtered.filter.to = Some(at(30));
    let page = store.audit_page(&filtered).await.unwrap();
    assert_eq!(ids(&page, |e| e.event.id), vec![events[2].id]);
    filtered.filter.to = None;
    let page = store.audit_page(&filtered).await.unwrap();
    assert_eq!(ids(&page, |e| e.event.id), vec![events[2].id, events[3].id]);
    let others = store.audit_page(&AuditQuery::all(other, 10)).await.unwrap();
    assert_eq!(ids(&others, |e| e.event.id), vec![events[4].id]);
}

/// Retention removes only the longest prefix of events older than the
/// cutoff (an old event after a newer one stays), records the last removed
/// event as the checkpoint, and the rest still verifies.
pub async fn pruning_removes_only_a_whole_prefix_and_the_rest_still_verifies(
    store: Arc<dyn AccountStore>,
) {
    let (firm, ann, _) = ann_and_bob(&store).await;
    let events = vec![
        event(&ann, 1, AuditKind::AccountCreated, 10),
        event(&ann, 2, AuditKind::InvitationSent, 20),
        event(&ann, 3, AuditKind::SignedIn, 100),
        event(&ann, 4, AuditKind::SignedOut, 30),
    ];
    append(&store, events).await;
    let before = whole_chain(&store, AuditQuery::all(firm.clone(), 10)).await;

    assert_eq!(store.prune_audit(&firm, at(50)).await.unwrap(), 2);
    assert_eq!(store.prune_audit(&firm, at(50)).await.unwrap(), 0);

    let after = whole_chain(&store, AuditQuery::all(firm.clone(), 10)).await;
    assert_eq!(ids(&after, |e| e.seq), vec![3, 4]);
    let ends = store.audit_chain_ends(&firm).await.unwrap();
    assert_eq!(ends.checkpoint.seq, 2);
    assert_eq!(ends.checkpoint.hash, before[1].hash);
    assert_eq!(verified_to(&store, &firm).await, 4);

    assert_eq!(store.prune_audit(&firm, at(1_000)).await.unwrap(), 2);
    assert!(whole_chain(&store, AuditQuery::all(firm.clone(), 10))
        .await
        .is_empty());
    let head = verify_chain(store.as_ref(), &firm).await.unwrap().unwrap();
    assert_eq!(head.seq, 4);
    let next = event(&ann, 5, AuditKind::SignedIn, 200);
    append(&store, vec![next]).await;
    assert_eq!(verified_to(&store, &firm).await, 5);
}
