//! The `AccountStore` conformance suite on SQLite: a fresh database file
//! in its own temporary directory per test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use portal_access_core::testing::store::Fixture;
use portal_access_sqlite::SqliteStore;

async fn fresh_store() -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("portal.db").display());
    let store = SqliteStore::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("open {url}: {e:?}"));
    Fixture::with_guard(Arc::new(store), dir)
}

portal_access_core::account_store_conformance!(fresh_store);

/// An in-memory database works too (one connection, shared by every task).
#[test]
fn an_in_memory_database_keeps_accounts_across_calls() {
    portal_access_core::testing::store::run(
        || async {
            let store = SqliteStore::connect("sqlite::memory:").await.expect("in memory");
            Fixture::new(Arc::new(store))
        },
        portal_access_core::testing::store::an_inserted_account_is_found_by_id_normalized_email_and_username_key,
    );
}
