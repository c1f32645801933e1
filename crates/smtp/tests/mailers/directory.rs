use std::io::Write;
use std::sync::{Arc, Mutex};

use portal_access_core::testing::mailer::{sample_message, MailerHarness};
use portal_access_core::Mailer;
use portal_access_smtp::{DirectoryMailer, Sender};

use crate::support::{Harness, Inbox, FROM};

type DirectoryHarness = Harness<DirectoryMailer>;

/// The directory mailer writing into a fresh temp dir's `mail/`.
fn directory_harness() -> DirectoryHarness {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("mail");
    let from: Sender = FROM.parse().expect("sender");
    Harness {
        mailer: DirectoryMailer::new(&dir, from).expect("mailer"),
        inbox: Inbox::Directory { dir, _temp: temp },
    }
}

mod conformance {
    use super::directory_harness;
    portal_access_core::mailer_conformance_tests!(async { directory_harness() });
}

#[tokio::test]
async fn each_message_is_one_eml_file_named_after_its_id_with_no_temp_file_left() {
    let harness = directory_harness();
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
    let harness = directory_harness();
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
    let harness = directory_harness();
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
    let harness = directory_harness();
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
