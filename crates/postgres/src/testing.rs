//! [`TestDatabase`] (feature `testing`): a uniquely named PostgreSQL
//! database per test, dropped `WITH (FORCE)` when the guard drops. The one
//! helper every PostgreSQL-backed test suite of the workspace uses.
//!
//! The server is `DATABASE_URL`, default [`DEFAULT_SERVER_URL`]; its user
//! must be allowed to `CREATE DATABASE`.
//!
//! ```no_run
//! # async fn demo() {
//! use portal_access_postgres::testing::TestDatabase;
//!
//! let database = TestDatabase::create().await;
//! let store = database.store(4).await;
//! # let _ = store;
//! # }
//! ```

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

use crate::{PostgresStore, PostgresStoreOptions};

/// The server used when `DATABASE_URL` is not set.
pub const DEFAULT_SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Why a test database could not be made.
#[derive(Debug)]
pub struct TestDatabaseError(String);

impl std::fmt::Display for TestDatabaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TestDatabaseError {}

/// Where the test server is: `DATABASE_URL`, or [`DEFAULT_SERVER_URL`].
pub fn server_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_SERVER_URL.to_owned())
}

async fn admin(url: &str) -> Result<PgConnection, TestDatabaseError> {
    let options = PgConnectOptions::from_str(url).map_err(|e| {
        TestDatabaseError(format!("DATABASE_URL {url:?} is not a PostgreSQL URL: {e}"))
    })?;
    PgConnection::connect_with(&options).await.map_err(|e| {
        TestDatabaseError(format!(
            "PostgreSQL is not reachable at {url}: {e}\n\
             start it with `pg_ctlcluster 15 main start` (or `docker run -p 5432:5432 \
             -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15`), or set DATABASE_URL to a \
             server where the user may CREATE DATABASE"
        ))
    })
}

async fn run(server: &str, statement: String) -> Result<(), TestDatabaseError> {
    let mut conn = admin(server).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone()))
        .execute(&mut conn)
        .await
        .map_err(|e| TestDatabaseError(format!("{statement}: {e}")))?;
    // The statement ran; a failed goodbye changes nothing.
    let _ = conn.close().await;
    Ok(())
}

/// A uniquely named database on the test server, dropped (`WITH (FORCE)`,
/// closing any connection left) when this guard drops.
#[derive(Debug)]
pub struct TestDatabase {
    server: String,
    name: String,
}

impl TestDatabase {
    /// Creates an empty database with a unique name; panics with what to
    /// start when the server is unreachable.
    pub async fn create() -> Self {
        Self::try_create()
            .await
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// Like [`create`](Self::create), returning the failure instead.
    pub async fn try_create() -> Result<Self, TestDatabaseError> {
        let server = server_url();
        let name = format!("portal_test_{}", uuid::Uuid::new_v4().simple());
        // The name is ours (a UUID), never input: safe to splice.
        run(&server, format!("CREATE DATABASE \"{name}\"")).await?;
        Ok(Self { server, name })
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of this database (the server's URL with its path replaced).
    pub fn url(&self) -> String {
        let (base, query) = match self.server.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (self.server.as_str(), None),
        };
        let authority_start = base.find("://").map_or(0, |i| i + 3);
        let path_start = base[authority_start..]
            .find('/')
            .map_or(base.len(), |i| authority_start + i);
        let mut url = format!("{}/{}", &base[..path_start], self.name);
        if let Some(query) = query {
            url.push('?');
            url.push_str(query);
        }
        url
    }

    /// Connection options for this database.
    pub fn options(&self) -> PgConnectOptions {
        // `create` connected with this URL, so it parses.
        PgConnectOptions::from_str(&self.server)
            .unwrap_or_else(|_| PgConnectOptions::new())
            .database(&self.name)
    }

    /// A migrated store on this database, with a pool of its own.
    pub async fn store(&self, max_connections: u32) -> PostgresStore {
        let options = PostgresStoreOptions {
            max_connections,
            ..PostgresStoreOptions::default()
        };
        PostgresStore::connect_options(self.options(), options)
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e:?}", self.name))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let server = self.server.clone();
        let statement = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Drop may run inside a runtime: do the async work on a thread of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| TestDatabaseError(format!("a runtime: {e}")))?;
            runtime.block_on(run(&server, statement))
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!("could not drop test database {}", self.name),
        }
    }
}
