//! A uniquely named PostgreSQL database per test, dropped at the end: the
//! workspace's one helper, [`portal_access_postgres::testing::TestDatabase`],
//! with its URL at hand.

use super::Result;

/// A fresh database on the server of `DATABASE_URL` (default
/// `postgres://postgres@127.0.0.1:5432/postgres`), dropped `WITH (FORCE)`
/// with this value.
pub struct TestDatabase {
    /// The URL of the fresh database.
    pub url: String,
    _database: portal_access_postgres::testing::TestDatabase,
}

impl TestDatabase {
    /// Creates the database; says what to start when the server is
    /// unreachable.
    pub async fn create() -> Result<Self> {
        let database = portal_access_postgres::testing::TestDatabase::try_create().await?;
        Ok(Self {
            url: database.url(),
            _database: database,
        })
    }
}
