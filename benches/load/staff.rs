//! Set-up through the staff API: accounts created, activated, invited.

use std::net::SocketAddr;

use futures::{stream, StreamExt, TryStreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::processes::STAFF_TOKEN;
use crate::Result;

/// An active account the load loops sign in with.
#[derive(Debug, Clone)]
pub struct Account {
    pub email: String,
    pub password: String,
}

/// The staff API of one server.
#[derive(Clone)]
pub struct Staff {
    http: reqwest::Client,
    base: String,
}

impl Staff {
    pub fn new(addr: SocketAddr) -> Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()?,
            base: format!("http://{addr}"),
        })
    }

    async fn expect(
        &self,
        request: reqwest::RequestBuilder,
        status: StatusCode,
        what: &str,
    ) -> Result<Value> {
        let response = request.bearer_auth(STAFF_TOKEN).send().await?;
        let got = response.status();
        let text = response.text().await?;
        if got != status {
            return Err(format!("{what}: expected {status}, got {got}: {text}").into());
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `POST /staff/accounts` -> the new account's id.
    pub async fn create_account(&self, email: &str) -> Result<String> {
        let body = json!({ "email": email, "display_name": "Bench Client" });
        let account = self
            .expect(
                self.http
                    .post(format!("{}/staff/accounts", self.base))
                    .json(&body),
                StatusCode::CREATED,
                "POST /staff/accounts",
            )
            .await?;
        account["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("POST /staff/accounts answered without an id: {account}").into())
    }

    /// `PUT /staff/accounts/{id}/password` with `must_change: false`.
    pub async fn set_password(&self, id: &str, password: &str) -> Result<()> {
        let body = json!({ "password": password, "password_confirmation": password, "must_change": false });
        self.expect(
            self.http
                .put(format!("{}/staff/accounts/{id}/password", self.base))
                .json(&body),
            StatusCode::NO_CONTENT,
            "PUT /staff/accounts/{id}/password",
        )
        .await?;
        Ok(())
    }

    /// `POST /staff/accounts/{id}/invitation`.
    pub async fn invite(&self, id: &str) -> Result<()> {
        self.expect(
            self.http
                .post(format!("{}/staff/accounts/{id}/invitation", self.base)),
            StatusCode::ACCEPTED,
            "POST /staff/accounts/{id}/invitation",
        )
        .await?;
        Ok(())
    }

    /// Creates `count` accounts `{prefix}{i}@bench.example.com` (concurrently).
    pub async fn create_many(&self, prefix: &str, count: usize) -> Result<Vec<(String, String)>> {
        stream::iter(0..count)
            .map(|i| {
                let email = format!("{prefix}{i:05}@bench.example.com");
                async move { self.create_account(&email).await.map(|id| (id, email)) }
            })
            .buffered(16)
            .try_collect()
            .await
    }

    /// Creates and activates `count` accounts with a password each.
    pub async fn active_accounts(&self, count: usize) -> Result<Vec<Account>> {
        let created = self.create_many("client", count).await?;
        stream::iter(created)
            .enumerate()
            .map(|(i, (id, email))| async move {
                let password = format!("bench horse battery staple {i:05}");
                self.set_password(&id, &password).await?;
                Ok(Account { email, password })
            })
            .buffered(8)
            .try_collect()
            .await
    }
}
