use std::io::Write;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use portal_access_core::testing::mailer::{sample_message, MailerHarness, ReceivedMessage};
use portal_access_core::Mailer;
use portal_access_smtp::{DirectoryMailer, Sender};

use crate::support::{files_with_extension, parse_message, FROM, FROM_ADDRESS};

struct DirectoryHarness {
    mailer: DirectoryMailer,
    _dir: tempfile::TempDir,
}

impl DirectoryHarness {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let from: Sender = FROM.parse().expect("sender");
        Self {
            mailer: DirectoryMailer::new(dir.path().join("mail"), from).expect("mailer"),
            _dir: dir,
        }
    }
}

#[async_trait]
impl MailerHarness for DirectoryHarness {
    fn mailer(&self) -> &dyn Mailer {
        &self.mailer
    }

    async fn received(&self) -> Vec<ReceivedMessage> {
        files_with_extension(self.mailer.dir(), "eml")
            .iter()
            .map(|path| parse_message(&std::fs::read(path).expect("read .eml")))
            .collect()
    }

    fn expected_from(&self) -> Option<String> {
        Some(FROM_ADDRESS.to_owned())
    }
}

mod conformance {
    use super::DirectoryHarness;
    portal_access_core::mailer_conformance_tests!(async { DirectoryHarness::new() });
}

#[tokio::test]
async fn each_message_is_one_eml_file_named_after_its_id_with_no_temp_file_left() {
    let harness = DirectoryHarness::new();
    let message = sample_message("client@example.com", "Hello");

    harness.mailer.send(&message).await.expect("written");

    let names: Vec<String> = std::fs::read_dir(harness.mailer.dir())
        .expect("read dir")
        .map(|e| {
            e.expect("entry")
                .file_name()
                .into_string()
                .expect("utf-8 name")
        })
        .collect();
    assert_eq!(names, [format!("{}.eml", message.id)]);
    let raw = std::fs::read_to_string(harness.mailer.path_of(&message)).expect("read");
    assert!(raw.contains(&format!("Message-ID: <{}@firm.example>\r\n", message.id)));
    assert!(raw.contains("Date: Sun, 01 Mar 2026 09:30:00 +0000\r\n"));
}

#[tokio::test]
async fn sending_a_message_again_replaces_its_file() {
    let harness = DirectoryHarness::new();
    let mut message = sample_message("client@example.com", "First try");
    harness.mailer.send(&message).await.expect("written");

    message.subject = "Second try".to_owned();
    harness.mailer.send(&message).await.expect("written again");

    let received = harness.received().await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].subject, "Second try");
}

#[tokio::test]
async fn the_directory_is_created_when_missing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let nested = dir.path().join("a/b/mail");

    let mailer = DirectoryMailer::new(&nested, FROM.parse::<Sender>().expect("sender"));

    assert!(mailer.is_ok());
    assert!(nested.is_dir());
}

#[tokio::test]
async fn a_directory_that_vanished_is_a_transient_error() {
    let harness = DirectoryHarness::new();
    std::fs::remove_dir(harness.mailer.dir()).expect("remove mail dir");

    let error = harness
        .mailer
        .send(&sample_message("client@example.com", "Hello"))
        .await
        .expect_err("cannot write");

    assert!(error.is_transient(), "{error}");
    assert!(
        std::error::Error::source(&error).is_some(),
        "the io error is kept"
    );
}

/// Collects what tracing writes, for the link-logging test.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn links_of_a_written_message_are_logged_for_the_developer() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let harness = DirectoryHarness::new();
    let mut message = sample_message("client@example.com", "Invitation");
    message.text_body =
        "Accept: https://portal.example/portal/invitation?token=abc-DEF_123.\nHelp: http://help.example/faq\n"
            .to_owned();

    harness.mailer.send(&message).await.expect("written");

    let logged = String::from_utf8(logs.0.lock().expect("log lock").clone()).expect("utf-8");
    assert!(
        logged.contains("link=https://portal.example/portal/invitation?token=abc-DEF_123\n"),
        "{logged}"
    );
    assert!(logged.contains("link=http://help.example/faq"), "{logged}");
    assert!(logged.contains(&message.id.to_string()), "{logged}");
}
