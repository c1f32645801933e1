//! # portal-access-postgres
//!
//! [`PostgresStore`]: the [`AccountStore`](portal_access_core::AccountStore)
//! of portal-access on PostgreSQL (15 or later), for any number of app
//! instances sharing one database. Its body (queries, decoding, the commit)
//! is the one SQL body of `portal-access-sql`; this crate is the PostgreSQL
//! [`PostgresDialect`].
//!
//! - The database enforces the domain's rules: unique indexes
//!   `accounts_tenant_email_key` and `accounts_tenant_username_key` (a
//!   violation is mapped by constraint name to `EmailTaken` /
//!   `UsernameTaken`), a token redeemed by one conditional
//!   `UPDATE … RETURNING`, account updates `WHERE version = $20`, rate
//!   counters by `INSERT … ON CONFLICT DO UPDATE … RETURNING`.
//! - A commit is one transaction (READ COMMITTED): conditional updates take
//!   row locks and re-check their condition, so concurrent commits of one
//!   token or one version serialize and exactly one wins.
//! - The outbox is leased with `FOR UPDATE SKIP LOCKED` and a lease expiry
//!   column, so several dispatchers never send one message twice while a
//!   lease holds.
//! - Times are timestamptz (microseconds), JSON is jsonb.
//! - Migrations are embedded and run by [`PostgresStore::connect`] (several
//!   instances starting at once are serialized by sqlx's advisory lock).
//!
//! URLs: `postgres://user:password@host:5432/database`, libpq-style
//! parameters such as `?sslmode=require` accepted;
//! [`PostgresStore::connect_options`] takes `PgConnectOptions`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), portal_access_core::StoreError> {
//! use portal_access_postgres::PostgresStore;
//!
//! let store = PostgresStore::connect("postgres://portal@db.internal/portal").await?;
//! # let _ = store;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "testing")]
pub mod testing;

use std::str::FromStr;
use std::time::Duration;

use portal_access_core::StoreError;
use portal_access_sql::{Dialect, Target};
use sqlx::error::DatabaseError;
use sqlx::migrate::MigrateError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgQueryResult};
use sqlx::Postgres;

/// The [`AccountStore`](portal_access_core::AccountStore) on PostgreSQL.
/// Cheap to clone (it holds a pool). See the [crate documentation](crate).
pub type PostgresStore = portal_access_sql::SqlStore<PostgresDialect>;

/// What PostgreSQL does its own way (the [`Dialect`] of [`PostgresStore`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct PostgresDialect;

impl Dialect for PostgresDialect {
    type Db = Postgres;
    type Options = PostgresStoreOptions;

    fn pool_options(
        target: Target<'_, PgConnectOptions>,
        options: &PostgresStoreOptions,
    ) -> Result<(PgPoolOptions, PgConnectOptions), StoreError> {
        let connect = match target {
            Target::Url(url) => PgConnectOptions::from_str(url).map_err(StoreError::backend)?,
            Target::Options(connect) => connect,
        };
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .min_connections(options.min_connections)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(options.idle_timeout)
            .max_lifetime(options.max_lifetime);
        Ok((pool, connect))
    }

    async fn migrate(pool: &PgPool) -> Result<(), MigrateError> {
        MIGRATOR.run(pool).await
    }

    fn unique_refusal(error: &dyn DatabaseError) -> Option<StoreError> {
        match error.constraint()? {
            "accounts_tenant_username_key" => Some(StoreError::UsernameTaken),
            "accounts_tenant_email_key" => Some(StoreError::EmailTaken),
            "accounts_pkey" => Some(StoreError::Conflict),
            _ => None,
        }
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }

    const BEGIN: Option<&'static str> = None;
    const INSERTION_ORDER: &'static str = "seq";
    // Rows locked by another leaser are skipped, not waited for; a row whose
    // lease was just taken fails the re-checked WHERE.
    const LEASE_LOCK: &'static str = "FOR UPDATE SKIP LOCKED";
    const NOT_REDACTED: &'static str = "NOT redacted";

    type Time = time::OffsetDateTime;
    type Json = serde_json::Value;
    type Count = i32;
}

/// Pool settings of a [`PostgresStore`].
///
/// Size the pool per instance: `max_connections` x instances must stay
/// below the server's `max_connections`. Most calls hold a connection for
/// one short query; a commit holds one for its transaction.
#[derive(Debug, Clone)]
pub struct PostgresStoreOptions {
    /// Most connections in the pool (default 16).
    pub max_connections: u32,
    /// Connections kept open when idle (default 1).
    pub min_connections: u32,
    /// How long a task waits for a free connection (default 30 s).
    pub acquire_timeout: Duration,
    /// Close connections idle this long (default 10 min; `None`: never).
    pub idle_timeout: Option<Duration>,
    /// Replace connections after this long (default 30 min; `None`: never).
    pub max_lifetime: Option<Duration>,
}

impl Default for PostgresStoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            min_connections: 1,
            acquire_timeout: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1_800)),
        }
    }
}

/// The embedded migrations (`crates/postgres/migrations`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
