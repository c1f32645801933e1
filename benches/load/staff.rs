//! Set-up through the staff API: accounts created, activated, invited.

use std::net::SocketAddr;

use futures::{stream, StreamExt, TryStreamExt};

use crate::processes::STAFF_TOKEN;
use crate::Result;

/// An active account the load loops sign in with.
#[derive(Debug, Clone)]
pub struct Account {
    /// Its id in the staff API.
    pub id: String,
    pub email: String,
    pub password: String,
}

/// The staff API of the end-to-end tests, shared.
#[path = "../../tests/support/staff_api.rs"]
mod staff_api;

use staff_api::StaffApi;

/// The staff API of one server.
#[derive(Clone)]
pub struct Staff {
    api: StaffApi,
}

impl Staff {
    pub fn new(addr: SocketAddr) -> Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Self {
            api: StaffApi::new(http, format!("http://{addr}"), STAFF_TOKEN),
        })
    }

    /// `POST /staff/accounts/{id}/invitation`.
    pub async fn invite(&self, id: &str) -> Result<()> {
        self.api.invite(id).await.map(drop)
    }

    /// Creates `count` accounts `{prefix}{i}@bench.example.com` (concurrently).
    pub async fn create_many(&self, prefix: &str, count: usize) -> Result<Vec<(String, String)>> {
        stream::iter(0..count)
            .map(|i| {
                let email = format!("{prefix}{i:05}@bench.example.com");
                async move {
                    self.api
                        .create_account(&email, "Bench Client")
                        .await
                        .map(|id| (id, email))
                }
            })
            .buffered(16)
            .try_collect()
            .await
    }

    /// Creates and activates `count` accounts with a password each.
    pub async fn active_accounts(&self, count: usize) -> Result<Vec<Account>> {
        self.active_accounts_named("client", count).await
    }

    /// Creates and activates `count` accounts `{prefix}{i}@bench.example.com`.
    pub async fn active_accounts_named(&self, prefix: &str, count: usize) -> Result<Vec<Account>> {
        let created = self.create_many(prefix, count).await?;
        stream::iter(created)
            .enumerate()
            .map(|(i, (id, email))| async move {
                let password = format!("bench horse battery staple {i:05}");
                self.api.set_password(&id, &password, false).await?;
                Ok(Account {
                    id,
                    email,
                    password,
                })
            })
            .buffered(8)
            .try_collect()
            .await
    }
}
