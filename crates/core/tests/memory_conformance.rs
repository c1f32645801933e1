//! The `AccountStore` conformance suite, run on [`MemoryStore`].
//!
//! Needs the `testing` feature: `cargo test -p portal-access-core --features testing`.
#![cfg(feature = "testing")]

use std::sync::Arc;

use portal_access_core::testing::store::Fixture;
use portal_access_core::testing::MemoryStore;

async fn fresh_store() -> Fixture {
    Fixture::new(Arc::new(MemoryStore::new()))
}

portal_access_core::account_store_conformance!(fresh_store);
