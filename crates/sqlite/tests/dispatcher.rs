//! Two dispatchers, each with its own pool, against one SQLite file:
//! 1,000 messages, 20% transient failures, each delivered once.

use std::sync::Arc;

use portal_access_core::testing::store::concurrent_dispatchers_deliver_every_message_exactly_once;
use portal_access_core::AccountStore;
use portal_access_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_dispatchers_deliver_a_thousand_messages_exactly_once_despite_transient_failures() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("portal.db").display());
    let mut stores: Vec<Arc<dyn AccountStore>> = Vec::new();
    for _ in 0..2 {
        stores.push(Arc::new(SqliteStore::connect(&url).await.expect("open")));
    }

    concurrent_dispatchers_deliver_every_message_exactly_once(stores, 1_000).await;
}
