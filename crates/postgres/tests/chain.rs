//! Two instances (two stores, each with its own pool) on one PostgreSQL
//! database append to one tenant's audit chain at once: one chain, no gap,
//! no fork, every hash verified.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use portal_access_core::audit::verify_chain;
use portal_access_core::{
    AccountStore, Actor, AuditEvent, AuditKind, AuditQuery, Changes, EventId, TenantId,
};
use portal_access_postgres::testing::TestDatabase;

fn event(tenant: &TenantId, n: u32) -> AuditEvent {
    let mut id = [0x5C; 16];
    id[..4].copy_from_slice(&n.to_be_bytes());
    AuditEvent {
        id: EventId::from_random(id),
        tenant: tenant.clone(),
        account_id: None,
        actor: Actor::System,
        kind: AuditKind::SignInFailed,
        at: time::OffsetDateTime::now_utc(),
        ip: None,
        user_agent: None,
        detail: serde_json::json!({ "n": n }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_appending_at_once_form_one_chain_without_gap_or_fork() {
    let database = TestDatabase::create().await;
    let instances: [Arc<dyn AccountStore>; 2] = [
        Arc::new(database.store(4).await),
        Arc::new(database.store(4).await),
    ];
    let tenant = TenantId::new("firm").unwrap();

    let writers = (0..8u32).map(|writer| {
        let store = Arc::clone(&instances[writer as usize % 2]);
        let tenant = tenant.clone();
        tokio::spawn(async move {
            for i in 0..100 {
                let changes = Changes {
                    audit: vec![event(&tenant, writer * 1_000 + i)],
                    ..Changes::default()
                };
                store.commit(changes).await.unwrap();
            }
        })
    });
    for writer in writers {
        writer.await.unwrap();
    }

    let head = verify_chain(instances[0].as_ref(), &tenant).await.unwrap();
    assert_eq!(head.unwrap().seq, 800);
    let page = instances[1]
        .audit_page(&AuditQuery::all(tenant, 1_000))
        .await
        .unwrap();
    let seqs: Vec<u64> = page.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=800).collect::<Vec<u64>>());
}
