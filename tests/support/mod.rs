//! What the end-to-end tests start: a fresh PostgreSQL database, the aiosmtpd
//! SMTP sink, portal-access served in-process over real sockets, and headless
//! Chromium driven through chromedriver.

pub mod browser;
pub mod database;
pub mod mail;
pub mod portal;
pub mod staff_api;
pub mod totp;

/// Errors of the harness; a failing test prints them.
pub type Result<T, E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

/// A free loopback port (bound, then released for a child process to take).
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The repository root (the root package's manifest directory).
pub fn repo_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
