//! [`Dialect`]: what truly differs between the SQL databases.

use std::fmt::Debug;
use std::future::Future;

use portal_access_core::StoreError;
use sqlx::error::DatabaseError;
use sqlx::migrate::MigrateError;
use sqlx::pool::PoolOptions;
use sqlx::{Connection, Database, Pool};

use crate::{StoredJson, StoredTime};

/// What to connect to: a URL, or the driver's connection options.
pub enum Target<'a, C> {
    /// A database URL.
    Url(&'a str),
    /// Connection options built by the caller.
    Options(C),
}

/// A query of database `DB` with its arguments.
pub type SqlQuery<'q, DB> = sqlx::query::Query<'q, DB, <DB as Database>::Arguments>;

/// The driver's connection options of the dialect's database
/// (`SqliteConnectOptions`, `PgConnectOptions`).
pub type ConnectOptionsOf<D> =
    <<<D as Dialect>::Db as Database>::Connection as Connection>::Options;

/// A row of the dialect's database.
pub type SqlRow<D> = <<D as Dialect>::Db as Database>::Row;

/// What one SQL database does its own way. Everything else (query text,
/// column lists, decoding, the commit) is shared; see the [crate](crate)
/// documentation.
pub trait Dialect: Sized + Send + Sync + 'static {
    /// The sqlx database.
    type Db: Database;
    /// Pool and connection settings (`SqliteStoreOptions`, …).
    type Options: Default + Clone + Debug + Send + Sync;
    /// The statement that begins a commit's transaction (`None`: the
    /// driver's `BEGIN`).
    const BEGIN: Option<&'static str>;

    /// The column that orders tokens by insertion (`rowid`, `seq`).
    const INSERTION_ORDER: &'static str;
    /// What the lease's inner `SELECT` ends with (`FOR UPDATE SKIP LOCKED`,
    /// or nothing where one statement locks before it reads).
    const LEASE_LOCK: &'static str;
    /// "Not yet redacted", written as the partial index
    /// `outbox_token_expiry` is, so the planner uses it.
    const NOT_REDACTED: &'static str;

    /// The pool and connection settings for `target` (the shared body
    /// connects with them, then migrates).
    fn pool_options(
        target: Target<'_, ConnectOptionsOf<Self>>,
        options: &Self::Options,
    ) -> Result<(PoolOptions<Self::Db>, ConnectOptionsOf<Self>), StoreError>;

    /// Runs the embedded migrations that have not run yet.
    fn migrate(pool: &Pool<Self::Db>) -> impl Future<Output = Result<(), MigrateError>> + Send;

    /// The domain refusal a unique violation stands for, if any
    /// (`UsernameTaken`, `EmailTaken`, `Conflict` on a duplicate id).
    fn unique_refusal(error: &dyn DatabaseError) -> Option<StoreError>;

    /// How many rows a statement changed.
    fn rows_affected(result: &<Self::Db as Database>::QueryResult) -> u64;

    /// How a time is stored (`i64` microseconds, `OffsetDateTime` for
    /// timestamptz).
    type Time: StoredTime;
    /// How a JSON document is stored (`String` text, `serde_json::Value`
    /// for jsonb).
    type Json: StoredJson;
    /// How a counter is stored (the column's integer type).
    type Count: Into<i64>;
}
