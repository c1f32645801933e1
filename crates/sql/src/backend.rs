//! [`Backend`]: running statements and reading columns, generic over the
//! sqlx database (implemented for every [`Dialect`] whose database has the
//! driver support the body needs; the sqlx bounds are written only here).

use std::future::Future;

use portal_access_core::StoreError;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{corrupt, Arg, Dialect, SqlQuery, SqlRow, Statement, StoredJson, StoredTime};

/// Where a statement runs: on the pool, or inside a commit's transaction.
pub enum On<'e, DB: Database> {
    /// Any free connection of the pool.
    Pool(&'e Pool<DB>),
    /// The connection of an open transaction.
    Tx(&'e mut DB::Connection),
}

/// Whether the same call may get past `error` if tried again: the
/// connection failed or was dropped, the pool had none in time, PostgreSQL
/// ended the session (class 08 connection exceptions, 57P01-57P03 an
/// administrator or crash shutdown) or SQLite stayed busy or locked past
/// the busy timeout (primary codes 5 and 6, with their extended codes).
fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08")
                || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
                // SQLite's codes are numbers below 10,000; PostgreSQL's
                // are always five characters.
                || (code.len() < 5
                    && code
                        .parse::<i32>()
                        .is_ok_and(|sqlite| matches!(sqlite & 0xff, 5 | 6)))
        }),
        _ => false,
    }
}

/// Statements and typed columns for the shared body. Implemented for every
/// [`Dialect`] (never by hand).
pub trait Backend: Dialect {
    /// Maps a driver error to a domain refusal where a unique constraint
    /// says so ([`Dialect::unique_refusal`]), else to `StoreError::Backend`.
    fn map_error(error: sqlx::Error) -> StoreError {
        if let Some(db) = error.as_database_error() {
            if db.is_unique_violation() {
                if let Some(refusal) = Self::unique_refusal(db) {
                    return refusal;
                }
            }
        }
        if is_transient(&error) {
            return StoreError::unavailable(error);
        }
        StoreError::backend(error)
    }

    /// The row the statement returns, if any.
    fn fetch_optional<'e>(
        on: On<'e, Self::Db>,
        statement: Statement<'e>,
    ) -> impl Future<Output = Result<Option<SqlRow<Self>>, StoreError>> + Send + 'e;

    /// Every row the statement returns.
    fn fetch_all<'e>(
        on: On<'e, Self::Db>,
        statement: Statement<'e>,
    ) -> impl Future<Output = Result<Vec<SqlRow<Self>>, StoreError>> + Send + 'e;

    /// Runs the statement; how many rows it changed.
    fn execute<'e>(
        on: On<'e, Self::Db>,
        statement: Statement<'e>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send + 'e;

    /// A text column.
    fn text(row: &SqlRow<Self>, column: &'static str) -> Result<String, StoreError>;
    /// A nullable text column.
    fn opt_text(row: &SqlRow<Self>, column: &'static str) -> Result<Option<String>, StoreError>;
    /// A UUID column.
    fn uuid(row: &SqlRow<Self>, column: &'static str) -> Result<Uuid, StoreError>;
    /// A nullable UUID column.
    fn opt_uuid(row: &SqlRow<Self>, column: &'static str) -> Result<Option<Uuid>, StoreError>;
    /// A nullable bytes column.
    fn opt_bytes(row: &SqlRow<Self>, column: &'static str) -> Result<Option<Vec<u8>>, StoreError>;
    /// A boolean column.
    fn boolean(row: &SqlRow<Self>, column: &'static str) -> Result<bool, StoreError>;
    /// A 64-bit integer column.
    fn int(row: &SqlRow<Self>, column: &'static str) -> Result<i64, StoreError>;
    /// Whether the column is NULL.
    fn is_null(row: &SqlRow<Self>, column: &'static str) -> Result<bool, StoreError>;

    /// A nullable stored time.
    fn opt_time(
        row: &SqlRow<Self>,
        column: &'static str,
    ) -> Result<Option<OffsetDateTime>, StoreError>;
    /// A stored counter.
    fn count(row: &SqlRow<Self>, column: &'static str) -> Result<u32, StoreError>;
    /// A stored JSON document.
    fn json(row: &SqlRow<Self>, column: &'static str) -> Result<serde_json::Value, StoreError>;

    /// A non-null stored time.
    fn time(row: &SqlRow<Self>, column: &'static str) -> Result<OffsetDateTime, StoreError> {
        Self::opt_time(row, column)?.ok_or_else(|| corrupt(column, "null"))
    }
}

fn query<'q, D: Dialect>(statement: Statement<'q>) -> SqlQuery<'q, D::Db>
where
    Uuid: for<'a> Encode<'a, D::Db> + Type<D::Db>,
    Option<Uuid>: for<'a> Encode<'a, D::Db>,
    for<'a> &'a str: Encode<'a, D::Db> + Type<D::Db>,
    for<'a> Option<&'a str>: Encode<'a, D::Db>,
    String: Type<D::Db>,
    Option<String>: for<'a> Encode<'a, D::Db>,
    for<'a> &'a [u8]: Encode<'a, D::Db> + Type<D::Db>,
    for<'a> Option<&'a [u8]>: Encode<'a, D::Db>,
    bool: for<'a> Encode<'a, D::Db> + Type<D::Db>,
    i64: for<'a> Encode<'a, D::Db> + Type<D::Db>,
    D::Time: for<'a> Encode<'a, D::Db> + Type<D::Db>,
    Option<D::Time>: for<'a> Encode<'a, D::Db>,
    D::Json: for<'a> Encode<'a, D::Db> + Type<D::Db>,
{
    let mut query = sqlx::query(statement.sql);
    for arg in statement.args {
        query = match arg {
            Arg::Uuid(value) => query.bind(value),
            Arg::OptUuid(value) => query.bind(value),
            Arg::Text(value) => query.bind(value),
            Arg::OptText(value) => query.bind(value),
            Arg::OptString(value) => query.bind(value),
            Arg::Bytes(value) => query.bind(value),
            Arg::OptBytes(value) => query.bind(value),
            Arg::Bool(value) => query.bind(value),
            Arg::Int(value) => query.bind(value),
            Arg::Time(at) => query.bind(D::Time::store(at)),
            Arg::OptTime(at) => query.bind(at.map(D::Time::store)),
            Arg::Json(value) => query.bind(D::Json::store(&value)),
        };
    }
    query
}

fn get<'r, D, T>(row: &'r SqlRow<D>, column: &'static str) -> Result<T, StoreError>
where
    D: Dialect,
    T: Decode<'r, D::Db> + Type<D::Db>,
    &'static str: ColumnIndex<SqlRow<D>>,
{
    row.try_get(column).map_err(StoreError::backend)
}

impl<D> Backend for D
where
    D: Dialect,
    for<'c> &'c mut <D::Db as Database>::Connection: Executor<'c, Database = D::Db>,
    <D::Db as Database>::Arguments: IntoArguments<D::Db>,
    &'static str: ColumnIndex<SqlRow<D>>,
    Uuid: for<'a> Encode<'a, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    Option<Uuid>: for<'a> Encode<'a, D::Db>,
    for<'a> &'a str: Encode<'a, D::Db> + Type<D::Db>,
    for<'a> Option<&'a str>: Encode<'a, D::Db>,
    String: for<'r> Decode<'r, D::Db> + Type<D::Db>,
    Option<String>: for<'a> Encode<'a, D::Db>,
    for<'a> &'a [u8]: Encode<'a, D::Db> + Type<D::Db>,
    for<'a> Option<&'a [u8]>: Encode<'a, D::Db>,
    Vec<u8>: for<'r> Decode<'r, D::Db> + Type<D::Db>,
    bool: for<'a> Encode<'a, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    i64: for<'a> Encode<'a, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    D::Time: for<'a> Encode<'a, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    Option<D::Time>: for<'a> Encode<'a, D::Db>,
    D::Json: for<'a> Encode<'a, D::Db> + for<'r> Decode<'r, D::Db> + Type<D::Db>,
    D::Count: for<'r> Decode<'r, D::Db> + Type<D::Db>,
{
    fn fetch_optional<'e>(
        on: On<'e, Self::Db>,
        statement: Statement<'e>,
    ) -> impl Future<Output = Result<Option<SqlRow<Self>>, StoreError>> + Send + 'e {
        let query = query::<D>(statement);
        async move {
            match on {
                On::Pool(pool) => query.fetch_optional(pool).await,
                On::Tx(conn) => query.fetch_optional(conn).await,
            }
            .map_err(D::map_error)
        }
    }

    fn fetch_all<'e>(
        on: On<'e, Self::Db>,
        statement: Statement<'e>,
    ) -> impl Future<Output = Result<Vec<SqlRow<Self>>, StoreError>> + Send + 'e {
        let query = query::<D>(statement);
        async move {
            match on {
                On::Pool(pool) => query.fetch_all(pool).await,
                On::Tx(conn) => query.fetch_all(conn).await,
            }
            .map_err(D::map_error)
        }
    }

    fn execute<'e>(
        on: On<'e, Self::Db>,
        statement: Statement<'e>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send + 'e {
        let query = query::<D>(statement);
        async move {
            let result = match on {
                On::Pool(pool) => query.execute(pool).await,
                On::Tx(conn) => query.execute(conn).await,
            }
            .map_err(D::map_error)?;
            Ok(D::rows_affected(&result))
        }
    }

    fn text(row: &SqlRow<Self>, column: &'static str) -> Result<String, StoreError> {
        get::<D, _>(row, column)
    }

    fn opt_text(row: &SqlRow<Self>, column: &'static str) -> Result<Option<String>, StoreError> {
        get::<D, _>(row, column)
    }

    fn uuid(row: &SqlRow<Self>, column: &'static str) -> Result<Uuid, StoreError> {
        get::<D, _>(row, column)
    }

    fn opt_uuid(row: &SqlRow<Self>, column: &'static str) -> Result<Option<Uuid>, StoreError> {
        get::<D, _>(row, column)
    }

    fn opt_bytes(row: &SqlRow<Self>, column: &'static str) -> Result<Option<Vec<u8>>, StoreError> {
        get::<D, _>(row, column)
    }

    fn boolean(row: &SqlRow<Self>, column: &'static str) -> Result<bool, StoreError> {
        get::<D, _>(row, column)
    }

    fn int(row: &SqlRow<Self>, column: &'static str) -> Result<i64, StoreError> {
        get::<D, _>(row, column)
    }

    fn opt_time(
        row: &SqlRow<Self>,
        column: &'static str,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        get::<D, Option<D::Time>>(row, column)?
            .map(StoredTime::load)
            .transpose()
    }

    fn count(row: &SqlRow<Self>, column: &'static str) -> Result<u32, StoreError> {
        let count: i64 = get::<D, D::Count>(row, column)?.into();
        u32::try_from(count).map_err(|e| corrupt(column, e))
    }

    fn json(row: &SqlRow<Self>, column: &'static str) -> Result<serde_json::Value, StoreError> {
        get::<D, D::Json>(row, column)?
            .load()
            .map_err(|e| corrupt(column, e))
    }

    fn is_null(row: &SqlRow<Self>, column: &'static str) -> Result<bool, StoreError> {
        let value = row.try_get_raw(column).map_err(StoreError::backend)?;
        Ok(sqlx::ValueRef::is_null(&value))
    }
}
