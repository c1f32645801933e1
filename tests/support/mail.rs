//! The local SMTP server: aiosmtpd running `crates/smtp/tests/support/smtp_sink.py`,
//! which writes each message it accepts to a directory.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::{repo_root, Result};

/// A running SMTP sink, killed on drop.
pub struct SmtpSink {
    _child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

/// One message as received over SMTP.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl ReceivedMail {
    /// The first link in the plain-text body that starts with `prefix`
    /// (e.g. `http://127.0.0.1:4321/portal/invitation?token=`).
    pub fn link(&self, prefix: &str) -> Option<String> {
        let start = self.text.find(prefix)?;
        let rest = &self.text[start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '"' || c == ')')
            .unwrap_or(rest.len());
        Some(rest[..end].to_owned())
    }
}

impl SmtpSink {
    /// Starts the sink on a free port. Needs Python 3 with aiosmtpd.
    pub async fn start() -> Result<Self> {
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
        let script = repo_root().join("crates/smtp/tests/support/smtp_sink.py");
        let dir = tempfile::tempdir()?;
        let mut child = Command::new(&python)
            .arg(&script)
            .arg("--dir")
            .arg(dir.path())
            .stdin(Stdio::piped()) // the sink exits when its stdin closes
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run {python} {}: {e}", script.display()))?;
        let stdout = child.stdout.take().ok_or("the SMTP sink has no stdout")?;
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
            let mut stderr = String::new();
            if let Some(err) = child.stderr.take() {
                let _ = tokio::time::timeout(
                    Duration::from_secs(2),
                    tokio::io::AsyncReadExt::read_to_string(&mut BufReader::new(err), &mut stderr),
                )
                .await;
            }
            return Err(format!(
                "the SMTP sink did not start: install aiosmtpd ({python} -m pip install aiosmtpd); \
                 it said: {stderr}"
            )
            .into());
        };
        Ok(Self {
            _child: child,
            dir,
            port,
        })
    }

    /// `smtp://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn received(&self) -> Result<Vec<ReceivedMail>> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        names.sort();
        names.iter().map(|json| parse(json)).collect()
    }

    /// Waits (up to 30 s) until `count` messages to `address` have arrived;
    /// returns all of them in arrival order.
    pub async fn wait_for(&self, address: &str, count: usize) -> Result<Vec<ReceivedMail>> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mails: Vec<ReceivedMail> = self
                .received()?
                .into_iter()
                .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(address)))
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
}

fn parse(json: &Path) -> Result<ReceivedMail> {
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(json)?)?;
    let to = meta["rcpt_tos"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let raw = std::fs::read(json.with_extension("eml"))?;
    let message = MessageParser::default()
        .parse(&raw)
        .ok_or_else(|| format!("{} is not a mail message", json.display()))?;
    Ok(ReceivedMail {
        to,
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default(),
        html: message
            .body_html(0)
            .map(|t| t.into_owned())
            .unwrap_or_default(),
    })
}
