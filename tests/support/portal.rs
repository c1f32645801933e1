//! portal-server, the example server, spawned in-process from its library
//! (`portal_server::app::build_app`, the very application the binary runs)
//! on a free port: the PostgreSQL store, the SMTP mailer and the outbox
//! dispatcher, with one staff bearer token.

use clap::Parser;
use portal_server::app::build_app;
use portal_server::cli::ServerConfig;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::staff_api::StaffApi;
use super::Result;

pub const STAFF_TOKEN: &str = "e2e-staff-token-5b0c1f2a9d";

/// A running portal; stopped on drop.
pub struct Portal {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Its staff API, as the staff member `e2e-staff`.
    pub staff: StaffApi,
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
    /// `database_url`, sending mail to `smtp_url`, with more `flags` (e.g.
    /// `--mfa=optional`).
    pub async fn start(database_url: &str, smtp_url: &str, flags: &[&str]) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}");
        let (listen, staff) = (addr.to_string(), format!("e2e-staff:{STAFF_TOKEN}"));
        let mut args = vec![
            "portal-server",
            "--listen",
            &listen,
            "--public-url",
            &base,
            "--database-url",
            database_url,
            "--smtp-url",
            smtp_url,
            "--staff-token",
            &staff,
        ];
        args.extend_from_slice(flags);
        let config = ServerConfig::try_parse_from(args)?;
        let app = build_app(&config).await?;
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.serve(listener, async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            staff: StaffApi::new(reqwest::Client::new(), base.clone(), STAFF_TOKEN),
            base,
            stop: Some(stop),
            server,
        })
    }

    /// The URL of a portal page, e.g. `page("/sign-in")`.
    pub fn page(&self, path: &str) -> String {
        format!("{}/portal{path}", self.base)
    }
}
