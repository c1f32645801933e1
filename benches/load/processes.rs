//! The processes under test: `portal-server` and the aiosmtpd sink.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::{fail, Result};

/// The staff bearer token the bench server is started with.
pub const STAFF_TOKEN: &str = "bench-staff-token-0123456789abcdef";

/// A running `portal-server`, killed on drop.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub pid: u32,
    log: PathBuf,
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
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let field = |name: &str| -> Result<u64> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
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

/// The aiosmtpd sink (`crates/smtp/tests/support/smtp_sink.py`), killed on drop.
pub struct Sink {
    _child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl Sink {
    pub async fn start(python: &str, script: &Path, dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut child = Command::new(python)
            .arg(script)
            .arg("--dir")
            .arg(dir)
            .arg("--bench")
            .stdin(Stdio::piped()) // the sink exits when its stdin closes
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run {python} {}: {e}", script.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout from the SMTP sink")?;
        let mut line = String::new();
        let read = tokio::time::timeout(
            Duration::from_secs(20),
            BufReader::new(stdout).read_line(&mut line),
        )
        .await;
        let port = match read {
            Ok(Ok(_)) => line.trim().parse::<u16>().ok(),
            _ => None,
        };
        let Some(port) = port else {
            return fail(format!(
                "the SMTP sink did not print its port (are aiosmtpd and uvloop installed? `{python} -m pip install aiosmtpd uvloop`); got {line:?}"
            ));
        };
        Ok(Self {
            _child: child,
            port,
            dir: dir.to_owned(),
        })
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Whether message number `n` (1-based, in arrival order) has arrived:
    /// the sink writes `NNNNNN.json` last, by rename.
    pub fn has(&self, n: u64) -> bool {
        n == 0 || self.dir.join(format!("{n:06}.json")).exists()
    }

    /// How many messages have arrived (binary search over the numbered files).
    pub fn count(&self) -> u64 {
        let mut high = 1;
        while self.has(high) {
            high *= 2;
        }
        let mut low = high / 2; // has(low), !has(high)
        while high - low > 1 {
            let mid = (low + high) / 2;
            if self.has(mid) {
                low = mid;
            } else {
                high = mid;
            }
        }
        low
    }
}
