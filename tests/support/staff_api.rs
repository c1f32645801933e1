//! The staff API of a running portal-server, called with a bearer token.
//! Shared by the end-to-end tests (`tests/support/portal.rs`) and the load
//! driver (`benches/load/staff.rs`), which include this file with `#[path]`
//! (each uses a part of it).
#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::{json, Value};

/// Errors of a call: what was asked, what came back.
pub type Result<T, E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

/// The staff API at `base` (`http://host:port`), as one staff member.
#[derive(Clone)]
pub struct StaffApi {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl StaffApi {
    /// Calls the API at `base` through `http` with the bearer `token`.
    pub fn new(http: reqwest::Client, base: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            http,
            base: base.into(),
            token: token.into(),
        }
    }

    /// Sends `method path` (with a JSON `body` when given); fails unless the
    /// answer is `expect`. The answer's JSON, or `null` for an empty body.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        expect: StatusCode,
    ) -> Result<Value> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        if status != expect {
            return Err(format!("{method} {path}: expected {expect}, got {status}: {text}").into());
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `POST /staff/accounts` -> the account's id.
    pub async fn create_account(&self, email: &str, display_name: &str) -> Result<String> {
        self.create(json!({ "email": email, "display_name": display_name }))
            .await
    }

    /// `POST /staff/accounts` with the language of the client's mail
    /// (`es`) -> the account's id.
    pub async fn create_account_in(
        &self,
        language: &str,
        email: &str,
        display_name: &str,
    ) -> Result<String> {
        let body = json!({ "email": email, "display_name": display_name, "language": language });
        self.create(body).await
    }

    async fn create(&self, body: Value) -> Result<String> {
        let account = self
            .call(
                reqwest::Method::POST,
                "/staff/accounts",
                Some(body),
                StatusCode::CREATED,
            )
            .await?;
        account["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("POST /staff/accounts answered without an id: {account}").into())
    }

    /// `POST /staff/accounts/{id}/invitation` -> `"invitation"` or `"reinvitation"`.
    pub async fn invite(&self, id: &str) -> Result<String> {
        let path = format!("/staff/accounts/{id}/invitation");
        let sent = self
            .call(reqwest::Method::POST, &path, None, StatusCode::ACCEPTED)
            .await?;
        Ok(sent["sent"].as_str().unwrap_or_default().to_owned())
    }

    /// `PUT /staff/accounts/{id}/password`.
    pub async fn set_password(&self, id: &str, password: &str, must_change: bool) -> Result<()> {
        let body = json!({
            "password": password,
            "password_confirmation": password,
            "must_change": must_change,
        });
        let path = format!("/staff/accounts/{id}/password");
        self.call(
            reqwest::Method::PUT,
            &path,
            Some(body),
            StatusCode::NO_CONTENT,
        )
        .await?;
        Ok(())
    }

    /// `POST /staff/accounts/{id}/mfa-reset`.
    pub async fn mfa_reset(&self, id: &str) -> Result<()> {
        let path = format!("/staff/accounts/{id}/mfa-reset");
        self.call(reqwest::Method::POST, &path, None, StatusCode::NO_CONTENT)
            .await?;
        Ok(())
    }

    /// `GET /staff/accounts/{id}`: the status staff see.
    pub async fn status(&self, id: &str) -> Result<Value> {
        let path = format!("/staff/accounts/{id}");
        self.call(reqwest::Method::GET, &path, None, StatusCode::OK)
            .await
    }
}
