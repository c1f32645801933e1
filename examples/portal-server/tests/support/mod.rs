//! Set-up shared by the server's test binaries.

use std::path::Path;

use clap::Parser;
use portal_server::cli::ServerConfig;

/// A server on a SQLite database, a mail directory and a data directory in
/// `dir` (port 0, cheap argon2), with the `extra` flags.
pub fn config(dir: &Path, extra: &[&str]) -> ServerConfig {
    let mut args = vec![
        "portal-server".to_owned(),
        "--listen=127.0.0.1:0".to_owned(),
        format!("--database-url=sqlite://{}/portal.db", dir.display()),
        format!("--mail-dir={}", dir.join("mail").display()),
        format!("--data-dir={}", dir.join("data").display()),
        "--argon2-memory-kib=256".to_owned(),
        "--argon2-iterations=1".to_owned(),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    ServerConfig::try_parse_from(args).unwrap()
}
