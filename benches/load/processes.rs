//! The processes under test: `portal-server` and the aiosmtpd sink.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::{fail, Result};

/// The staff bearer token the bench server is started with.
pub const STAFF_TOKEN: &str = "bench-staff-token-0123456789abcdef";

/// The server key of the bench's portal-server (32 bytes, base64).
const BENCH_SECRET_KEY: &str = "YmVuY2ggc2VydmVyIGtleSwgMzIgYnl0ZXMgbG9uZyE=";

/// A running `portal-server`, killed on drop.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub pid: u32,
    log: PathBuf,
}

/// The field `name` (e.g. `VmRSS:`) of `/proc/{pid}/status`, in KiB.
pub fn status_kib(pid: u32, name: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A free loopback port (bound, then released for the server to take).
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Server {
    /// Starts the server on a free port with the bench staff token, the
    /// given store, and mail going to the SMTP sink.
    pub async fn start(
        bin: &Path,
        database_url: &str,
        smtp_url: &str,
        work: &Path,
    ) -> Result<Self> {
        Self::start_with(bin, database_url, smtp_url, work, &[]).await
    }

    /// [`start`](Self::start) with `extra` flags.
    pub async fn start_with(
        bin: &Path,
        database_url: &str,
        smtp_url: &str,
        work: &Path,
        extra: &[String],
    ) -> Result<Self> {
        let port = free_port()?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let log = work.join(format!("portal-server-{port}.log"));
        let log_file = std::fs::File::create(&log)?;
        let child = Command::new(bin)
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--database-url")
            .arg(database_url)
            .arg("--public-url")
            .arg(format!("http://{addr}"))
            .arg("--staff-token")
            .arg(format!("bench:{STAFF_TOKEN}"))
            .arg("--smtp-url")
            .arg(smtp_url)
            // (g) signs in with authenticators; a fixed key writes no file.
            .arg("--mfa=optional")
            .arg(format!("--secret-key={BENCH_SECRET_KEY}"))
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let pid = child.id().ok_or("portal-server exited at once")?;
        let mut server = Self {
            child,
            addr,
            pid,
            log,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return fail(format!(
                    "portal-server exited ({status}) before answering; its log:\n{}",
                    self.log_tail()
                ));
            }
            if let Ok(mut conn) = crate::wire::Connection::open(self.addr, None).await {
                let request = conn.request("GET", "/api/portal/me", None, None);
                if let Ok((response, _)) = conn.send(&request).await {
                    if response.status == 401 {
                        return Ok(());
                    }
                    return fail(format!(
                        "GET /api/portal/me without a session answered {}, expected 401",
                        response.status
                    ));
                }
            }
            if Instant::now() > deadline {
                return fail(format!(
                    "portal-server did not answer within 60 s; its log:\n{}",
                    self.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// `VmRSS` and `VmHWM` of the server, in KiB.
    pub fn memory_kib(&self) -> Result<(u64, u64)> {
        let field = |name: &str| -> Result<u64> {
            status_kib(self.pid, name)
                .ok_or_else(|| format!("no {name} in /proc/{}/status", self.pid).into())
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// Stops the server (SIGKILL: nothing of it is measured after this).
    pub async fn stop(mut self) -> Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}

/// The aiosmtpd sink, shared with the SMTP mailer's tests and the
/// end-to-end tests; the driver starts it with `bench: true` and counts
/// what arrives.
#[path = "../../crates/smtp/tests/support/sink.rs"]
mod sink;

pub use sink::{SinkOptions, SmtpSink as Sink};
