//! Test support: the aiosmtpd sink as a child process, and parsing of what
//! arrived into the conformance suite's `ReceivedMessage`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use mail_parser::MessageParser;
use portal_access_core::testing::mailer::ReceivedMessage;

/// The `From` every test mailer uses.
pub const FROM: &str = "Client portal <portal@firm.example>";
/// Its address.
pub const FROM_ADDRESS: &str = "portal@firm.example";

const SINK_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");

/// The Python interpreter that has aiosmtpd (the real executable, not a
/// version-manager shim, so that killing it kills the sink). Fails the test
/// (never skips) when aiosmtpd is missing.
fn python_with_aiosmtpd() -> PathBuf {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let result = PYTHON.get_or_init(|| {
        let output = Command::new("python3")
            .args(["-c", "import sys, aiosmtpd; print(sys.executable)"])
            .stderr(Stdio::null())
            .output();
        match output {
            Ok(out) if out.status.success() => {
                Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
            }
            Ok(_) => Err("install aiosmtpd: pip install aiosmtpd".to_owned()),
            Err(e) => Err(format!(
                "python3 not found ({e}); install python3, then: pip install aiosmtpd"
            )),
        }
    });
    match result {
        Ok(python) => python.clone(),
        Err(message) => panic!("{message}"),
    }
}

/// How the sink behaves.
#[derive(Debug, Default, Clone)]
pub struct SinkOptions {
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
}

/// A running sink; killed on drop, and gone with the test process anyway
/// (it exits when its stdin closes).
pub struct SmtpSink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    /// Starts a sink on a free port of 127.0.0.1.
    pub fn start(options: SinkOptions) -> Self {
        let python = python_with_aiosmtpd();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new(python);
        command.arg(SINK_SCRIPT).arg("--dir").arg(dir.path());
        if let Some((cert, key)) = &options.tls {
            command
                .arg("--tls-cert")
                .arg(cert)
                .arg("--tls-key")
                .arg(key);
        }
        if options.implicit_tls {
            command.arg("--implicit-tls");
        }
        if let Some(auth) = &options.auth {
            command.arg("--auth").arg(auth);
        }
        if options.reject_rcpt {
            command.arg("--reject-rcpt");
        }
        if options.stall {
            command.arg("--stall");
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stdin(Stdio::piped()) // closed when the test process ends: the sink exits
            .spawn()
            .expect("start python3 tests/support/smtp_sink.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("sink stdout"))
            .read_line(&mut line)
            .expect("read the sink's port");
        let port = match line.trim().parse() {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                panic!("the SMTP sink did not print its port (got {line:?}); see its stderr above");
            }
        };
        Self { child, port, dir }
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message it accepted, in arrival order, with the envelope's
    /// recipients.
    pub fn received(&self) -> Vec<ReceivedMessage> {
        self.received_with_sender()
            .into_iter()
            .map(|(_, message)| message)
            .collect()
    }

    /// Every message with the envelope's sender (MAIL FROM).
    pub fn received_with_sender(&self) -> Vec<(String, ReceivedMessage)> {
        self.envelopes()
            .into_iter()
            .map(|(path, envelope)| {
                let data = std::fs::read(path.with_extension("eml")).expect("read message");
                let mut message = parse_message(&data);
                message.recipients = envelope["rcpt_tos"]
                    .as_array()
                    .expect("rcpt_tos")
                    .iter()
                    .map(|r| r.as_str().expect("recipient").to_owned())
                    .collect();
                let sender = envelope["mail_from"]
                    .as_str()
                    .expect("mail_from")
                    .to_owned();
                (sender, message)
            })
            .collect()
    }

    /// The client (source) port of the connection each message arrived
    /// on, in arrival order.
    pub fn client_ports(&self) -> Vec<u16> {
        self.envelopes()
            .into_iter()
            .map(|(_, envelope)| {
                u16::try_from(envelope["client_port"].as_u64().expect("client_port"))
                    .expect("a port")
            })
            .collect()
    }

    /// Every envelope file (`NNNNNN.json`) with its contents, in arrival order.
    fn envelopes(&self) -> Vec<(PathBuf, serde_json::Value)> {
        let mut paths: Vec<PathBuf> = files_with_extension(self.dir.path(), "json");
        paths.sort();
        paths
            .into_iter()
            .map(|path| {
                let envelope =
                    serde_json::from_slice(&std::fs::read(&path).expect("read envelope"))
                        .expect("envelope is JSON");
                (path, envelope)
            })
            .collect()
    }

    /// The raw bytes of every accepted message, in arrival order.
    pub fn raw_messages(&self) -> Vec<Vec<u8>> {
        let mut files = files_with_extension(self.dir.path(), "eml");
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read(p).expect("read message"))
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Visible (non-dot) files of `dir` ending in `.{extension}`.
pub fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| {
            path.extension().is_some_and(|e| e == extension)
                && !path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'))
        })
        .collect()
}

/// Parses an RFC 5322 message; `recipients` are its `To` addresses.
pub fn parse_message(data: &[u8]) -> ReceivedMessage {
    let message = MessageParser::default()
        .parse(data)
        .expect("a parsable message");
    let to: Vec<String> = message
        .to()
        .map(|to| {
            to.iter()
                .filter_map(|addr| addr.address().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ReceivedMessage {
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
        text: message
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default(),
        html: message
            .body_html(0)
            .map(|t| t.into_owned())
            .unwrap_or_default(),
        message_id: message.message_id().map(str::to_owned),
    }
}

/// A self-signed certificate for `localhost` and `127.0.0.1`, written as
/// PEM files into a temp dir: (dir, cert path, key path, cert PEM).
pub fn self_signed_certificate() -> (tempfile::TempDir, PathBuf, PathBuf, String) {
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("generate certificate");
    let dir = tempfile::tempdir().expect("temp dir");
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, key_pair.serialize_pem()).expect("write key");
    (dir, cert_path, key_path, cert.pem())
}

/// A port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("local addr").port()
}
