//! A uniquely named PostgreSQL database per test, dropped at the end.

use sqlx::{Connection, PgConnection};

use super::Result;

/// A fresh database on the server of `DATABASE_URL`.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    /// The URL of the fresh database.
    pub url: String,
}

impl TestDatabase {
    /// Creates `portal_e2e_<random>` on the server of `DATABASE_URL`
    /// (default `postgres://postgres@127.0.0.1:5432/postgres`).
    pub async fn create() -> Result<Self> {
        let admin_url = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let mut admin = PgConnection::connect(&admin_url).await.map_err(|e| {
            format!(
                "PostgreSQL is not reachable at {admin_url} ({e}): start it \
                 (pg_ctlcluster <version> main start) or set DATABASE_URL"
            )
        })?;
        let name = format!("portal_e2e_{}", uuid::Uuid::new_v4().simple());
        // The name is ours (a UUID), never input: safe to splice.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        let mut url = url::Url::parse(&admin_url)?;
        url.set_path(&format!("/{name}"));
        Ok(Self {
            admin_url,
            name,
            url: url.to_string(),
        })
    }
}

impl Drop for TestDatabase {
    /// Drops the database (closing every connection to it), also when the
    /// test failed; on a thread of its own, outside the test's runtime.
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let statement = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        let dropped = std::thread::spawn(move || -> Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                    .execute(&mut admin)
                    .await?;
                admin.close().await?;
                Ok(())
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("could not drop test database {}: {error}", self.name);
        }
    }
}
