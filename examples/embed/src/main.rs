//! `cargo run -p portal-embed-example`: the CRM with the portal mounted
//! under `/clients`, on 127.0.0.1:3000 (`CRM_LISTEN` to change), SQLite in
//! `./crm-data/portal.db`, mail written to `./crm-data/mail`.

use std::sync::Arc;

use portal_access::smtp::{DirectoryMailer, MessageComposer, Sender};
use portal_access::sqlite::SqliteStore;
use portal_embed_example::{build, session_cookie, CrmConfig, CrmUser, PORTAL_PREFIX};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .init();
    let listen = std::env::var("CRM_LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let base = format!("http://{}", listener.local_addr()?);

    std::fs::create_dir_all("crm-data")?;
    let store = SqliteStore::connect("sqlite://crm-data/portal.db").await?;
    let from: Sender = "Acme Accounting <portal@acme.example>".parse()?;
    let mailer = DirectoryMailer::new("crm-data/mail", MessageComposer::new(from))?;

    let config = CrmConfig::demo(base.clone());
    let firm = config.firm.clone();
    let crm = build(config, Arc::new(store), Arc::new(mailer))?;

    // The CRM's own sign-in is out of scope here: sign a demo user in.
    let session = crm.sessions.start(CrmUser {
        id: "alice".into(),
        firm,
    });
    let cookie = session_cookie(&session);
    println!("\n  CRM on {base}  (portal under {base}{PORTAL_PREFIX}/portal/sign-in)");
    println!("  try:  curl -s {base}/crm/contacts --cookie '{cookie}'");
    println!("        curl -s -X POST {base}/crm/contacts/c-1001/portal-invitation --cookie '{cookie}'\n");

    crm.serve(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
