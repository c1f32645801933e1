//! # portal-access-sqlite
//!
//! [`SqliteStore`]: the [`AccountStore`](portal_access_core::AccountStore)
//! of portal-access on SQLite, for a single server (any number of tasks, one
//! database file). Its body (queries, decoding, the commit) is the one SQL
//! body of `portal-access-sql`; this crate is the SQLite [`SqliteDialect`].
//!
//! - The database enforces the domain's rules: unique indexes on
//!   `(tenant, email_normalized)` and `(tenant, username_key)`, a token
//!   redeemed by one conditional `UPDATE … RETURNING`, account updates
//!   `WHERE version = $20`, rate counters by `INSERT … ON CONFLICT DO UPDATE`.
//! - A commit is one `BEGIN IMMEDIATE` transaction: it takes the write lock
//!   up front, so concurrent commits queue (up to the busy timeout) instead
//!   of failing half way.
//! - WAL journal, `synchronous = NORMAL`, foreign keys on, a busy timeout;
//!   the file is created if missing. Times are stored as integer
//!   microseconds since the Unix epoch, JSON as text.
//! - Migrations are embedded and run by [`SqliteStore::connect`].
//!
//! URLs: `sqlite://portal.db` (relative), `sqlite:///var/lib/portal.db`
//! (absolute), `sqlite::memory:` (in memory, gone with the store; always one
//! connection, since each connection would otherwise see its own empty
//! database). [`SqliteStore::connect_options`] takes the options as given
//! plus the settings above, with the pool size of the options.
//!
//! ```no_run
//! # async fn demo() -> Result<(), portal_access_core::StoreError> {
//! use portal_access_sqlite::SqliteStore;
//!
//! let store = SqliteStore::connect("sqlite://portal.db").await?;
//! # let _ = store;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::str::FromStr;
use std::time::Duration;

use portal_access_core::StoreError;
use portal_access_sql::{Dialect, Target};
use sqlx::error::DatabaseError;
use sqlx::migrate::MigrateError;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};
use sqlx::Sqlite;

/// Pool and connection settings of a [`SqliteStore`].
///
/// SQLite allows one writer at a time; writers wait for each other up to
/// `busy_timeout`. Readers run in parallel with the writer (WAL).
#[derive(Debug, Clone)]
pub struct SqliteStoreOptions {
    /// Most connections in the pool (default 8). An in-memory database
    /// always uses exactly one connection (each connection would otherwise
    /// see its own empty database).
    pub max_connections: u32,
    /// Connections kept open when idle (default 1).
    pub min_connections: u32,
    /// How long a writer waits for the write lock before failing (default 10 s).
    pub busy_timeout: Duration,
    /// How long a task waits for a free connection (default 30 s).
    pub acquire_timeout: Duration,
}

impl Default for SqliteStoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            min_connections: 1,
            busy_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

/// The [`AccountStore`](portal_access_core::AccountStore) on SQLite. Cheap
/// to clone (it holds a pool). See the [crate documentation](crate).
pub type SqliteStore = portal_access_sql::SqlStore<SqliteDialect>;

/// The embedded migrations (`crates/sqlite/migrations`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// What SQLite does its own way (the [`Dialect`] of [`SqliteStore`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteDialect;

impl Dialect for SqliteDialect {
    type Db = Sqlite;
    type Options = SqliteStoreOptions;

    // The write lock up front: concurrent commits queue instead of failing half way.
    const BEGIN: Option<&'static str> = Some("BEGIN IMMEDIATE");
    // Tokens have no sequence column; rowid is their insertion order.
    const INSERTION_ORDER: &'static str = "rowid";
    // One UPDATE takes the write lock before it reads: nothing to add.
    const LEASE_LOCK: &'static str = "";
    const NOT_REDACTED: &'static str = "redacted = 0";

    fn pool_options(
        target: Target<'_, SqliteConnectOptions>,
        options: &SqliteStoreOptions,
    ) -> Result<(SqlitePoolOptions, SqliteConnectOptions), StoreError> {
        let (connect, in_memory) = match target {
            Target::Url(url) => (
                SqliteConnectOptions::from_str(url).map_err(StoreError::backend)?,
                url.contains(":memory:") || url.contains("mode=memory"),
            ),
            Target::Options(connect) => (connect, false),
        };
        let connect = connect
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout);
        let pool_options = SqlitePoolOptions::new().acquire_timeout(options.acquire_timeout);
        let pool_options = if in_memory {
            pool_options
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            pool_options
                .max_connections(options.max_connections.max(1))
                .min_connections(options.min_connections)
        };
        Ok((pool_options, connect))
    }

    async fn migrate(pool: &SqlitePool) -> Result<(), MigrateError> {
        MIGRATOR.run(pool).await
    }

    fn unique_refusal(error: &dyn DatabaseError) -> Option<StoreError> {
        // SQLite names the columns: "UNIQUE constraint failed: accounts.tenant, accounts.username_key".
        let message = error.message();
        if message.contains("accounts.username_key") {
            Some(StoreError::UsernameTaken)
        } else if message.contains("accounts.email_normalized") {
            Some(StoreError::EmailTaken)
        } else if message.contains("accounts.id") {
            Some(StoreError::Conflict)
        } else {
            None
        }
    }

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    type Time = i64;
    type Json = String;
    type Count = i64;
}
