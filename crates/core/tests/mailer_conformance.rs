//! The Mailer conformance suite against the recording fake.
//!
//! Needs the `testing` feature: `cargo test -p portal-access-core --features testing`.
#![cfg(feature = "testing")]

use async_trait::async_trait;
use portal_access_core::testing::fakes::RecordingMailer;
use portal_access_core::testing::mailer::{MailerHarness, ReceivedMessage};
use portal_access_core::Mailer;

struct RecordingHarness(RecordingMailer);

#[async_trait]
impl MailerHarness for RecordingHarness {
    fn mailer(&self) -> &dyn Mailer {
        &self.0
    }

    async fn received(&self) -> Vec<ReceivedMessage> {
        self.0
            .sent()
            .iter()
            .map(ReceivedMessage::from_new_message)
            .collect()
    }
}

portal_access_core::mailer_conformance_tests!(async { RecordingHarness(RecordingMailer::new()) });
