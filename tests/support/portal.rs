//! portal-server, the example server, spawned in-process from its library
//! (`portal_server::app::build_app`, the very application the binary runs)
//! on a free port: the PostgreSQL store, the SMTP mailer and the outbox
//! dispatcher, with one staff bearer token.

use clap::Parser;
use portal_server::app::build_app;
use portal_server::cli::ServerConfig;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::Result;

const STAFF_TOKEN: &str = "e2e-staff-token-5b0c1f2a9d";

/// A running portal; stopped on drop.
pub struct Portal {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
}

impl Drop for Portal {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.server.abort();
    }
}

impl Portal {
    /// Serves portal-server on a free port over the database at
    /// `database_url`, sending mail to `smtp_url`.
    pub async fn start(database_url: &str, smtp_url: &str) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}");
        let config = ServerConfig::try_parse_from([
            "portal-server",
            "--listen",
            &addr.to_string(),
            "--public-url",
            &base,
            "--database-url",
            database_url,
            "--smtp-url",
            smtp_url,
            "--staff-token",
            &format!("e2e-staff:{STAFF_TOKEN}"),
        ])?;
        let app = build_app(&config).await?;
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.serve(listener, async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            base,
            http: reqwest::Client::new(),
            stop: Some(stop),
            server,
        })
    }

    /// The URL of a portal page, e.g. `page("/sign-in")`.
    pub fn page(&self, path: &str) -> String {
        format!("{}/portal{path}", self.base)
    }

    async fn staff_call(
        &self,
        request: reqwest::RequestBuilder,
        expect: StatusCode,
    ) -> Result<Value> {
        let response = request.bearer_auth(STAFF_TOKEN).send().await?;
        let status = response.status();
        let text = response.text().await?;
        if status != expect {
            return Err(format!("staff API answered {status}, expected {expect}: {text}").into());
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `POST /staff/accounts` -> the account's id.
    pub async fn create_account(&self, email: &str, display_name: &str) -> Result<String> {
        let account = self
            .staff_call(
                self.http
                    .post(format!("{}/staff/accounts", self.base))
                    .json(&json!({ "email": email, "display_name": display_name })),
                StatusCode::CREATED,
            )
            .await?;
        Ok(account["id"]
            .as_str()
            .ok_or("the created account has no id")?
            .to_owned())
    }

    /// `POST /staff/accounts/{id}/invitation` -> `"invitation"` or `"reinvitation"`.
    pub async fn invite(&self, id: &str) -> Result<String> {
        let sent = self
            .staff_call(
                self.http
                    .post(format!("{}/staff/accounts/{id}/invitation", self.base)),
                StatusCode::ACCEPTED,
            )
            .await?;
        Ok(sent["sent"].as_str().unwrap_or_default().to_owned())
    }

    /// `PUT /staff/accounts/{id}/password`.
    pub async fn set_password(&self, id: &str, password: &str, must_change: bool) -> Result<()> {
        self.staff_call(
            self.http
                .put(format!("{}/staff/accounts/{id}/password", self.base))
                .json(&json!({
                    "password": password,
                    "password_confirmation": password,
                    "must_change": must_change,
                })),
            StatusCode::NO_CONTENT,
        )
        .await?;
        Ok(())
    }

    /// `GET /staff/accounts/{id}`: the status staff see.
    pub async fn status(&self, id: &str) -> Result<Value> {
        self.staff_call(
            self.http.get(format!("{}/staff/accounts/{id}", self.base)),
            StatusCode::OK,
        )
        .await
    }
}
