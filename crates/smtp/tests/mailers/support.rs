//! Test support: the aiosmtpd sink (shared with the workspace's end-to-end
//! tests and load driver), the sender every test mailer uses, a
//! self-signed certificate and a free port.

use std::path::PathBuf;

use async_trait::async_trait;
use portal_access_core::testing::mailer::{MailerHarness, ReceivedMessage};
use portal_access_core::Mailer;

#[path = "../support/sink.rs"]
mod sink;

pub use sink::{files_with_extension, parse_message, SinkOptions, SmtpSink};

/// The `From` every test mailer uses.
pub const FROM: &str = "Client portal <portal@firm.example>";
/// Its address.
pub const FROM_ADDRESS: &str = "portal@firm.example";

/// Starts a sink with `options` (the test fails if it cannot).
pub async fn start_sink(options: SinkOptions) -> SmtpSink {
    SmtpSink::start(options)
        .await
        .expect("the SMTP sink starts")
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

/// Where a mailer under test delivers.
pub enum Inbox {
    /// A directory of `.eml` files (the directory mailer's), in a temp dir.
    Directory {
        dir: PathBuf,
        _temp: tempfile::TempDir,
    },
    /// The SMTP sink.
    Sink(SmtpSink),
}

/// A mailer under test (sending from [`FROM`]) and its inbox: the
/// conformance suite's harness for both mailers.
pub struct Harness<M> {
    pub mailer: M,
    pub inbox: Inbox,
}

#[async_trait]
impl<M: Mailer> MailerHarness for Harness<M> {
    fn mailer(&self) -> &dyn Mailer {
        &self.mailer
    }

    async fn received(&self) -> Vec<ReceivedMessage> {
        match &self.inbox {
            Inbox::Directory { dir, .. } => files_with_extension(dir, "eml")
                .expect("read the mail directory")
                .iter()
                .map(|path| parse_message(&std::fs::read(path).expect("read .eml")).expect("parse"))
                .collect(),
            Inbox::Sink(sink) => sink.received().expect("read what the sink received"),
        }
    }

    fn expected_from(&self) -> Option<String> {
        Some(FROM_ADDRESS.to_owned())
    }
}

impl<M> Harness<M> {
    /// The SMTP sink of a harness that delivers to one.
    pub fn sink(&self) -> &SmtpSink {
        match &self.inbox {
            Inbox::Sink(sink) => sink,
            Inbox::Directory { dir, .. } => panic!("this harness writes to {}", dir.display()),
        }
    }
}
