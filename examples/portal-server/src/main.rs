//! `cargo run --release -p portal-server`: see `--help`.

use clap::Parser;
use portal_server::app::{build_app, shutdown_signal};
use portal_server::cli::{Command, LogFormat, ServerConfig};
use secrecy::ExposeSecret;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = ServerConfig::parse();
    init_logging(config.log_format);
    if let Some(Command::Audit(command)) = &config.command {
        let opened = portal_server::app::open_store(&config.database_url).await;
        let ran = match opened {
            Ok(store) => portal_server::audit::run(&config, command, store).await,
            Err(error) => Err(error.into()),
        };
        return match ran {
            Ok(code) => code,
            Err(error) => {
                eprintln!(
                    "portal-server audit: {}",
                    portal_server::app::portal_access_error_chain(error.as_ref())
                );
                std::process::ExitCode::from(2)
            }
        };
    }
    match run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %portal_server::app::portal_access_error_chain(error.as_ref()), "portal-server failed");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The policy as the banner says it.
fn mfa_state(config: &ServerConfig) -> String {
    let policy = config.mfa_policy();
    match policy.required_from {
        Some(from) if policy.mode == portal_access::MfaMode::Required => {
            format!("required from {from}")
        }
        _ => policy.mode.as_str().to_owned(),
    }
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("PORTAL_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn run(mut config: ServerConfig) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // Bind first, so links use the real port when `--listen` asks for port 0.
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let local = listener.local_addr()?;
    if config.public_url.is_none() {
        config.public_url = Some(format!("http://{local}"));
    }
    tracing::debug!(?config, "configuration");
    let app = build_app(&config).await?;
    let public_url = config.public_url();
    println!();
    println!("  portal-server is listening on http://{local}");
    println!("  client portal:  {public_url}/portal/sign-in");
    println!(
        "  staff console:  {public_url}{}/ (sign in with a staff token)",
        portal_access::axum::CONSOLE_PATH
    );
    if let Some(dir) = &app.mail_dir {
        println!(
            "  mail:           written to {} (links are logged)",
            dir.display()
        );
    }
    match &app.key_source {
        Some(source) => println!(
            "  second factor:  {} (server key {})",
            mfa_state(&config),
            source.describe()
        ),
        None => println!("  second factor:  off (--mfa optional|required to offer it)"),
    }
    if let Some(generated) = &app.generated_token {
        println!();
        println!(
            "  staff API bearer token (generated; pass --staff-token ID:TOKEN to choose your own):"
        );
        println!("    {}", generated.token.expose_secret());
        println!();
        println!("  try:");
        println!(
            "    curl -s -X POST {public_url}/staff/accounts -H 'Authorization: Bearer {}' \\",
            generated.token.expose_secret()
        );
        println!(
            "         -H 'Content-Type: application/json' -d '{{\"email\":\"ann@example.com\"}}'"
        );
    }
    println!();
    app.serve(listener, shutdown_signal()).await?;
    Ok(())
}
