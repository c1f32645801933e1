//! The aiosmtpd SMTP sink (`smtp_sink.py`, next to this file) as a child
//! process, and what it received.
//!
//! One file for every test that needs a real SMTP server: the SMTP mailer's
//! tests (`crates/smtp/tests/mailers`), the workspace's end-to-end tests
//! (`tests/support/mail.rs`) and the load driver (`benches/load`) include it
//! with `#[path]`. Each uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use portal_access_core::testing::mailer::ReceivedMessage;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Errors of the sink: a message for the person running the tests.
pub type Result<T, E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

/// The sink's source, run with `python -c` unless [`SinkOptions::script`]
/// names a file.
const SINK_SOURCE: &str = include_str!("smtp_sink.py");

/// How long the sink may take to print its port.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// How the sink is started and behaves.
#[derive(Debug, Default, Clone)]
pub struct SinkOptions {
    /// The Python that has aiosmtpd; default: the `python3` on `PATH`
    /// (resolved to its real executable, so that killing it kills the sink).
    pub python: Option<String>,
    /// The script to run; default: `smtp_sink.py` as compiled in.
    pub script: Option<PathBuf>,
    /// Where messages are written; default: a temporary directory.
    pub dir: Option<PathBuf>,
    /// A certificate + key (PEM files): STARTTLS offered and required.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// With `tls`: TLS from the first byte instead of STARTTLS.
    pub implicit_tls: bool,
    /// `user:password`: AUTH required.
    pub auth: Option<String>,
    /// Answer 550 to every RCPT.
    pub reject_rcpt: bool,
    /// Accept connections, never answer.
    pub stall: bool,
    /// For the load driver: only an empty `NNNNNN.json` per message, on uvloop.
    pub bench: bool,
    /// A slow server: wait this long before answering each message's DATA.
    pub delay: Option<Duration>,
    /// With `delay`: only for messages to a recipient containing this.
    pub delay_to: Option<String>,
}

/// One message's envelope, as the sink wrote it (`NNNNNN.json`).
#[derive(Debug, Clone)]
pub struct Envelope {
    /// `MAIL FROM`.
    pub mail_from: String,
    /// `RCPT TO`, in order.
    pub rcpt_tos: Vec<String>,
    /// The client (source) port of the connection it arrived on.
    pub client_port: u16,
    /// The message as received (`NNNNNN.eml`).
    pub eml: PathBuf,
}

/// A running sink; killed on drop, and gone with the test process anyway
/// (it exits when its stdin closes).
pub struct SmtpSink {
    _child: Child,
    port: u16,
    dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl SmtpSink {
    /// Starts a sink on a free port of 127.0.0.1. Fails (never skips) when
    /// Python or aiosmtpd is missing, saying how to install them.
    pub async fn start(options: SinkOptions) -> Result<Self> {
        let python = match &options.python {
            Some(python) => python.clone(),
            None => python_with_aiosmtpd().await?,
        };
        let (dir, temp) = match &options.dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                (dir.clone(), None)
            }
            None => {
                let temp = tempfile::tempdir()?;
                (temp.path().to_owned(), Some(temp))
            }
        };
        let mut command = Command::new(&python);
        match &options.script {
            Some(script) => command.arg(script),
            None => command.arg("-c").arg(SINK_SOURCE),
        };
        command.arg("--dir").arg(&dir);
        if let Some((cert, key)) = &options.tls {
            command
                .arg("--tls-cert")
                .arg(cert)
                .arg("--tls-key")
                .arg(key);
        }
        let flags = [
            (options.implicit_tls, "--implicit-tls"),
            (options.reject_rcpt, "--reject-rcpt"),
            (options.stall, "--stall"),
            (options.bench, "--bench"),
        ];
        command.args(flags.iter().filter(|(on, _)| *on).map(|(_, flag)| flag));
        if let Some(auth) = &options.auth {
            command.arg("--auth").arg(auth);
        }
        if let Some(delay) = options.delay {
            command.arg("--delay").arg(delay.as_secs_f64().to_string());
        }
        if let Some(to) = &options.delay_to {
            command.arg("--delay-to").arg(to);
        }
        let mut child = command
            .stdin(Stdio::piped()) // closed when the test process ends: the sink exits
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run {python} smtp_sink.py: {e}"))?;
        let stdout = child.stdout.take().ok_or("the SMTP sink has no stdout")?;
        let mut line = String::new();
        let read =
            tokio::time::timeout(START_TIMEOUT, BufReader::new(stdout).read_line(&mut line)).await;
        let Some(port) = read
            .ok()
            .and_then(Result::ok)
            .and_then(|_| line.trim().parse::<u16>().ok())
        else {
            let uvloop = if options.bench { " uvloop" } else { "" };
            return Err(format!(
                "the SMTP sink did not print its port (got {line:?}; its stderr is above): \
                 is aiosmtpd installed? `{python} -m pip install aiosmtpd{uvloop}`"
            )
            .into());
        };
        Ok(Self {
            _child: child,
            port,
            dir,
            _temp: temp,
        })
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Where it writes what it receives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every envelope, in arrival order.
    pub fn envelopes(&self) -> Result<Vec<Envelope>> {
        files_with_extension(&self.dir, "json")?
            .into_iter()
            .map(|path| {
                let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path)?)?;
                let rcpt_tos = json["rcpt_tos"]
                    .as_array()
                    .ok_or_else(|| format!("{} has no rcpt_tos", path.display()))?
                    .iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect();
                Ok(Envelope {
                    mail_from: json["mail_from"].as_str().unwrap_or_default().to_owned(),
                    rcpt_tos,
                    client_port: json["client_port"]
                        .as_u64()
                        .and_then(|p| u16::try_from(p).ok())
                        .unwrap_or_default(),
                    eml: path.with_extension("eml"),
                })
            })
            .collect()
    }

    /// Every message with the envelope's sender (`MAIL FROM`), in arrival
    /// order; `recipients` are the envelope's.
    pub fn received_with_sender(&self) -> Result<Vec<(String, ReceivedMessage)>> {
        self.envelopes()?
            .into_iter()
            .map(|envelope| {
                let mut message = parse_message(&std::fs::read(&envelope.eml)?)?;
                message.recipients = envelope.rcpt_tos;
                Ok((envelope.mail_from, message))
            })
            .collect()
    }

    /// Every message it accepted, in arrival order, with the envelope's
    /// recipients.
    pub fn received(&self) -> Result<Vec<ReceivedMessage>> {
        Ok(self
            .received_with_sender()?
            .into_iter()
            .map(|(_, message)| message)
            .collect())
    }

    /// The client (source) port of the connection each message arrived
    /// on, in arrival order.
    pub fn client_ports(&self) -> Result<Vec<u16>> {
        Ok(self.envelopes()?.iter().map(|e| e.client_port).collect())
    }

    /// The raw bytes of every accepted message, in arrival order.
    pub fn raw_messages(&self) -> Result<Vec<Vec<u8>>> {
        files_with_extension(&self.dir, "eml")?
            .iter()
            .map(|path| Ok(std::fs::read(path)?))
            .collect()
    }

    /// Waits (up to 30 s) until `count` messages to `address` have arrived;
    /// returns all of them in arrival order.
    pub async fn wait_for(&self, address: &str, count: usize) -> Result<Vec<ReceivedMessage>> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mails: Vec<ReceivedMessage> = self
                .received()?
                .into_iter()
                .filter(|m| m.recipients.iter().any(|t| t.eq_ignore_ascii_case(address)))
                .collect();
            if mails.len() >= count {
                return Ok(mails);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} message(s) to {address} arrived over SMTP within 30 s, expected {count}: {:?}",
                    mails.len(),
                    mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
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

/// The `python3` that has aiosmtpd, as its real executable (not a
/// version-manager shim, so that killing it kills the sink).
async fn python_with_aiosmtpd() -> Result<String> {
    let output = Command::new("python3")
        .args(["-c", "import sys, aiosmtpd; print(sys.executable)"])
        .stderr(Stdio::null())
        .output()
        .await
        .map_err(|e| {
            format!("python3 not found ({e}); install python3, then: pip install aiosmtpd")
        })?;
    if !output.status.success() {
        return Err("install aiosmtpd: python3 -m pip install aiosmtpd".into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Visible (non-dot) files of `dir` ending in `.{extension}`, sorted by name.
pub fn files_with_extension(dir: &Path, extension: &str) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if path.extension().is_some_and(|e| e == extension) && !hidden {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Parses an RFC 5322 message; `recipients` are its `To` addresses.
pub fn parse_message(data: &[u8]) -> Result<ReceivedMessage> {
    let message = MessageParser::default()
        .parse(data)
        .ok_or("not a parsable mail message")?;
    let to: Vec<String> = message
        .to()
        .map(|to| {
            to.iter()
                .filter_map(|addr| addr.address().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let text = |part: Option<std::borrow::Cow<'_, str>>| part.map(|t| t.into_owned());
    Ok(ReceivedMessage {
        recipients: to.clone(),
        to_name: message
            .to()
            .and_then(|to| to.first())
            .and_then(|addr| addr.name().map(str::to_owned)),
        to,
        from: message
            .from()
            .and_then(|from| from.first())
            .and_then(|addr| addr.address().map(str::to_owned)),
        subject: message.subject().unwrap_or_default().to_owned(),
        text: text(message.body_text(0)).unwrap_or_default(),
        html: text(message.body_html(0)).unwrap_or_default(),
        message_id: message.message_id().map(str::to_owned),
    })
}
