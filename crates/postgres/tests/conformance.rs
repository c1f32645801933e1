//! The `AccountStore` conformance suite on PostgreSQL: a fresh database per
//! test (from `DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`),
//! dropped afterwards.

use std::sync::Arc;

use portal_access_core::testing::store::Fixture;
use portal_access_postgres::testing::TestDatabase;

async fn fresh_store() -> Fixture {
    let database = TestDatabase::create().await;
    let store = database.store(16).await;
    Fixture::with_guard(Arc::new(store), database)
}

portal_access_core::account_store_conformance!(fresh_store);
