//! A fresh PostgreSQL database per test, dropped by a guard.

use std::str::FromStr;

use portal_access_postgres::{PostgresStore, PostgresStoreOptions};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

/// Where the test server is: `DATABASE_URL`, or the local default.
pub fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

async fn admin(url: &str) -> PgConnection {
    let options = PgConnectOptions::from_str(url)
        .unwrap_or_else(|e| panic!("DATABASE_URL {url:?} is not a PostgreSQL URL: {e}"));
    PgConnection::connect_with(&options)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is not reachable at {url}: {e}\n\
             start it with `pg_ctlcluster 15 main start` (or `docker run -p 5432:5432 \
             -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15`), or set DATABASE_URL"
            )
        })
}

/// A uniquely named database, created on the server and dropped (with
/// `WITH (FORCE)`, closing any connection left) when the guard drops.
pub struct TestDatabase {
    server: String,
    name: String,
}

impl TestDatabase {
    /// Creates an empty database with a unique name.
    pub async fn create() -> Self {
        let server = server_url();
        let name = format!("portal_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = admin(&server).await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        let _ = conn.close().await;
        Self { server, name }
    }

    /// Connection options for this database.
    pub fn options(&self) -> PgConnectOptions {
        PgConnectOptions::from_str(&self.server)
            .expect("a valid server URL")
            .database(&self.name)
    }

    /// A migrated store on this database, with its own pool.
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
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop may run inside a runtime: do the async work on a thread of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let mut conn = admin(&server).await;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .map(|_| ())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!("could not drop test database {}", self.name),
        }
    }
}
