//! Three dispatchers, each with its own pool, against one PostgreSQL
//! database: 1,000 messages, 20% transient failures, each delivered once.

use std::sync::Arc;

use portal_access_core::testing::store::concurrent_dispatchers_deliver_every_message_exactly_once;
use portal_access_core::AccountStore;
use portal_access_postgres::testing::TestDatabase;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_dispatchers_deliver_a_thousand_messages_exactly_once_despite_transient_failures() {
    let database = TestDatabase::create().await;
    let mut stores: Vec<Arc<dyn AccountStore>> = Vec::new();
    for _ in 0..3 {
        stores.push(Arc::new(database.store(8).await));
    }

    concurrent_dispatchers_deliver_every_message_exactly_once(stores, 1_000).await;
}
