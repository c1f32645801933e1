//! The [`Mailer`] conformance suite: one set of checks, run against every
//! mailer (the recording fake, the directory mailer, the SMTP mailer
//! against a real server).
//!
//! A backend provides a [`MailerHarness`]: the mailer under test, and what
//! actually arrived, parsed ([`ReceivedMessage`]). For SMTP that is what the
//! server received; for the directory mailer, the `.eml` files. Then one
//! line generates a `#[tokio::test]` per check:
//!
//! ```
//! use async_trait::async_trait;
//! use portal_access_core::testing::fakes::RecordingMailer;
//! use portal_access_core::testing::mailer::{MailerHarness, ReceivedMessage};
//! use portal_access_core::Mailer;
//!
//! struct Fake(RecordingMailer);
//!
//! #[async_trait]
//! impl MailerHarness for Fake {
//!     fn mailer(&self) -> &dyn Mailer {
//!         &self.0
//!     }
//!     async fn received(&self) -> Vec<ReceivedMessage> {
//!         self.0.sent().iter().map(ReceivedMessage::from_new_message).collect()
//!     }
//! }
//!
//! // In a test file:
//! // portal_access_core::mailer_conformance_tests!(async { Fake(RecordingMailer::new()) });
//! ```
//!
//! Each check is also a public async function, for a harness that wants
//! to run them by hand.

// Test support: a failed step is a failed test, so it panics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use async_trait::async_trait;
use time::macros::datetime;

use crate::{Mailer, MessageId, MessageKind, NewMessage, TenantId};

/// A message as it arrived, parsed by the harness.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// Who it was delivered to: the SMTP envelope's recipients where the
    /// harness knows them, else the `To` addresses.
    pub recipients: Vec<String>,
    /// The `To` header's addresses.
    pub to: Vec<String>,
    /// The display name of the first `To` mailbox, decoded.
    pub to_name: Option<String>,
    /// The `From` address, if the mailer sets one.
    pub from: Option<String>,
    /// The subject, decoded.
    pub subject: String,
    /// The text/plain part, decoded.
    pub text: String,
    /// The text/html part, decoded.
    pub html: String,
    /// The `Message-ID` without angle brackets, if the mailer sets one.
    pub message_id: Option<String>,
}

impl ReceivedMessage {
    /// What a mailer that does not serialise (the recording fake) received.
    pub fn from_new_message(message: &NewMessage) -> Self {
        Self {
            recipients: vec![message.to.clone()],
            to: vec![message.to.clone()],
            to_name: message.to_name.clone(),
            from: None,
            subject: message.subject.clone(),
            text: message.text_body.clone(),
            html: message.html_body.clone(),
            message_id: None,
        }
    }
}

/// A mailer under test, and a view of what it delivered.
#[async_trait]
pub trait MailerHarness: Send + Sync {
    /// The mailer under test.
    fn mailer(&self) -> &dyn Mailer;

    /// Everything that arrived so far (any order).
    async fn received(&self) -> Vec<ReceivedMessage>;

    /// The `From` address the mailer was configured with, if it sets one.
    fn expected_from(&self) -> Option<String> {
        None
    }
}

/// A well-formed message to `to`: the suite's starting point.
pub fn sample_message(to: &str, subject: &str) -> NewMessage {
    NewMessage {
        id: MessageId::from_random(rand::random()),
        tenant: TenantId::new("conformance").expect("valid tenant"),
        account_id: None,
        kind: MessageKind::PasswordReset,
        to: to.to_owned(),
        to_name: Some("Client Person".to_owned()),
        subject: subject.to_owned(),
        text_body: "Hello,\n\nsomeone asked to reset your password.\n".to_owned(),
        html_body: "<p>Hello,</p>\n<p>someone asked to reset your password.</p>\n".to_owned(),
        token_hash: None,
        token_expires_at: None,
        created_at: datetime!(2026-03-01 9:30 UTC),
    }
}

/// Line endings as LF, trailing whitespace dropped: transports may use CRLF
/// and add a final newline.
fn normalized(text: &str) -> String {
    text.replace("\r\n", "\n").trim_end().to_owned()
}

async fn only_message(harness: &dyn MailerHarness) -> ReceivedMessage {
    let mut received = harness.received().await;
    assert_eq!(
        received.len(),
        1,
        "exactly one message arrives: {received:#?}"
    );
    received.remove(0)
}

async fn assert_refused_and_nothing_sent(harness: &dyn MailerHarness, message: NewMessage) {
    let error = harness
        .mailer()
        .send(&message)
        .await
        .expect_err("a header value with CR/LF is refused");
    assert!(error.is_permanent(), "refusal is permanent: {error}");
    assert!(harness.received().await.is_empty(), "nothing was delivered");
}

/// Recipient, `From`, subject, and both parts arrive as given; the
/// `Message-ID` (when set) is `<{id}@…>`.
pub async fn delivers_recipient_subject_and_both_parts(harness: &dyn MailerHarness) {
    let message = sample_message("client@example.com", "Reset your password");

    harness.mailer().send(&message).await.expect("delivered");

    let got = only_message(harness).await;
    assert_eq!(got.recipients, ["client@example.com"]);
    assert_eq!(got.to, ["client@example.com"]);
    assert_eq!(got.to_name.as_deref(), Some("Client Person"));
    assert_eq!(got.from, harness.expected_from());
    assert_eq!(got.subject, "Reset your password");
    assert_eq!(normalized(&got.text), normalized(&message.text_body));
    assert_eq!(normalized(&got.html), normalized(&message.html_body));
    if let Some(id) = got.message_id {
        assert!(
            id.starts_with(&format!("{}@", message.id)),
            "Message-ID {id}"
        );
    }
}

/// A long link with a query string (longer than a mail line, with `=`,
/// `&`, `-`, `_`, `%`) arrives byte for byte in both parts.
pub async fn link_survives_intact(harness: &dyn MailerHarness) {
    let link = "https://portal.firm.example/portal/reset-password?token=Zm9vYmFyLWJhei1xdXV4_\
                LTEyMzQ1Njc4OTAtYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo-0123456789&lang=fr%2DCA&x=1";
    let mut message = sample_message("client@example.com", "Your link");
    message.text_body = format!("Choose a new password:\n{link}\n\nThe link expires in 1 hour.\n");
    let escaped = link.replace('&', "&amp;");
    message.html_body =
        format!("<p><a href=\"{escaped}\">Choose a new password</a></p>\n<p>{escaped}</p>\n");

    harness.mailer().send(&message).await.expect("delivered");

    let got = only_message(harness).await;
    assert!(
        got.text.contains(link),
        "text part keeps the link: {}",
        got.text
    );
    assert!(
        got.html.contains(&format!("href=\"{escaped}\"")),
        "html part keeps the link: {}",
        got.html
    );
}

/// UTF-8 display names, subjects and bodies arrive intact (encoded words
/// and transfer encodings decoded).
pub async fn utf8_names_and_subjects_survive(harness: &dyn MailerHarness) {
    let mut message = sample_message(
        "zoe@example.com",
        "Réinitialisez votre mot de passe — パスワード 🔑",
    );
    message.to_name = Some("Zoë Ångström-Łukasiewicz, \"Zo\" 山田".to_owned());
    message.text_body =
        "Bonjour Zoë, voici votre lien. Grüße, Łódź. 日本語のテキスト。\n".to_owned();
    message.html_body = "<p>Bonjour Zoë — voici votre lien. 日本語。</p>\n".to_owned();

    harness.mailer().send(&message).await.expect("delivered");

    let got = only_message(harness).await;
    assert_eq!(got.subject, message.subject);
    assert_eq!(got.to_name, message.to_name);
    assert_eq!(normalized(&got.text), normalized(&message.text_body));
    assert_eq!(normalized(&got.html), normalized(&message.html_body));
}

/// A subject carrying CRLF + a header is refused, permanently, unsent.
pub async fn crlf_in_subject_is_refused(harness: &dyn MailerHarness) {
    let message = sample_message(
        "client@example.com",
        "Hello\r\nBcc: attacker@evil.example\r\n\r\nforged body",
    );
    assert_refused_and_nothing_sent(harness, message).await;
}

/// A display name carrying CRLF + a header is refused, permanently, unsent.
pub async fn crlf_in_display_name_is_refused(harness: &dyn MailerHarness) {
    let mut message = sample_message("client@example.com", "Hello");
    message.to_name = Some("Client\r\nBcc: attacker@evil.example".to_owned());
    assert_refused_and_nothing_sent(harness, message).await;
}

/// A recipient carrying LF + a header is refused, permanently, unsent.
pub async fn crlf_in_recipient_is_refused(harness: &dyn MailerHarness) {
    let message = sample_message("client@example.com\nBcc: attacker@evil.example", "Hello");
    assert_refused_and_nothing_sent(harness, message).await;
}

/// Three messages to three people arrive as three separate messages, each
/// to its own recipient.
pub async fn several_messages_arrive_separately(harness: &dyn MailerHarness) {
    let messages: Vec<NewMessage> = (1..=3)
        .map(|n| sample_message(&format!("client{n}@example.com"), &format!("Message {n}")))
        .collect();
    for message in &messages {
        harness.mailer().send(message).await.expect("delivered");
    }

    let mut got: Vec<(Vec<String>, String)> = harness
        .received()
        .await
        .into_iter()
        .map(|m| (m.recipients, m.subject))
        .collect();
    got.sort();
    let expected: Vec<(Vec<String>, String)> = messages
        .iter()
        .map(|m| (vec![m.to.clone()], m.subject.clone()))
        .collect();
    assert_eq!(got, expected);
}

/// Generates one `#[tokio::test]` per conformance check. The argument is a
/// future yielding a fresh [`MailerHarness`]; it is evaluated once per
/// test. The calling crate needs `tokio` (macros, rt) as a dev-dependency.
#[macro_export]
macro_rules! mailer_conformance_tests {
    ($harness:expr) => {
        $crate::mailer_conformance_tests!(@each $harness;
            mailer_delivers_recipient_subject_and_both_parts => delivers_recipient_subject_and_both_parts,
            a_long_link_survives_delivery_intact => link_survives_intact,
            utf8_display_names_subjects_and_bodies_survive_delivery => utf8_names_and_subjects_survive,
            crlf_in_the_subject_is_refused_permanently => crlf_in_subject_is_refused,
            crlf_in_the_display_name_is_refused_permanently => crlf_in_display_name_is_refused,
            crlf_in_the_recipient_is_refused_permanently => crlf_in_recipient_is_refused,
            several_messages_arrive_as_separate_messages => several_messages_arrive_separately,
        );
    };
    // One test a check: `test_name => check_function`.
    (@each $harness:expr; $($test:ident => $check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                let harness = $harness.await;
                $crate::testing::mailer::$check(&harness).await;
            }
        )*
    };
}
