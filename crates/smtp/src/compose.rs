//! Building the RFC 5322 message both mailers send: one function, shared.

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use lettre::message::{Mailbox, MultiPart};
use lettre::{Address, Message};
use portal_access_core::{MailerError, NewMessage};

/// The characters no header value may carry: a CR or LF would start a new
/// header (injection); a NUL is refused by most servers anyway.
const FORBIDDEN_IN_HEADERS: [char; 3] = ['\r', '\n', '\0'];

/// The `From` mailbox of every message, e.g. `Client portal <portal@firm.example>`.
///
/// ```
/// use portal_access_smtp::Sender;
///
/// let from: Sender = "Client portal <portal@firm.example>".parse().unwrap();
/// assert_eq!(from.address(), "portal@firm.example");
/// assert_eq!(from.name(), Some("Client portal"));
/// assert!("not an address".parse::<Sender>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Sender(Mailbox);

impl Sender {
    /// A sender from a display name (optional) and an address.
    pub fn new(name: Option<&str>, address: &str) -> Result<Self, InvalidSender> {
        if name.is_some_and(|n| n.contains(FORBIDDEN_IN_HEADERS)) {
            return Err(InvalidSender::ControlCharacter);
        }
        let address = Address::from_str(address).map_err(InvalidSender::Address)?;
        Ok(Self(Mailbox::new(name.map(str::to_owned), address)))
    }

    /// The address, e.g. `portal@firm.example`.
    pub fn address(&self) -> &str {
        self.0.email.as_ref()
    }

    /// The display name, if any.
    pub fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// The address's domain: the default right part of every `Message-ID`.
    pub fn domain(&self) -> &str {
        self.0.email.domain()
    }
}

impl FromStr for Sender {
    type Err = InvalidSender;

    /// Parses `address` or `Name <address>`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.contains(FORBIDDEN_IN_HEADERS) {
            return Err(InvalidSender::ControlCharacter);
        }
        Mailbox::from_str(text)
            .map(Self)
            .map_err(InvalidSender::Address)
    }
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sender({})", self.0)
    }
}

impl fmt::Display for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Why a [`Sender`] (or a `Message-ID` domain) was refused.
#[derive(Debug, thiserror::Error)]
pub enum InvalidSender {
    /// Not a valid mailbox.
    #[error("invalid sender address")]
    Address(#[source] lettre::address::AddressError),
    /// A CR, LF or NUL in the name or address.
    #[error("a sender may not contain CR, LF or NUL")]
    ControlCharacter,
    /// Not usable as the right part of a `Message-ID`.
    #[error("invalid Message-ID domain {0:?}")]
    MessageIdDomain(String),
}

/// Why a message could not be built. Every variant is a permanent
/// failure: sending the same message again cannot succeed.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// A header value carries CR, LF or NUL (header injection), refused.
    #[error("the {field} carries CR, LF or NUL: refused (header injection)")]
    HeaderInjection {
        /// `recipient`, `recipient name` or `subject`.
        field: &'static str,
    },
    /// The recipient is not a valid address.
    #[error("invalid recipient address")]
    InvalidRecipient(#[source] lettre::address::AddressError),
    /// lettre refused to build the message.
    #[error("the message could not be built")]
    Build(#[source] lettre::error::Error),
}

impl From<ComposeError> for MailerError {
    fn from(error: ComposeError) -> Self {
        MailerError::permanent(error)
    }
}

/// Turns a [`NewMessage`] into the RFC 5322 message both mailers deliver.
///
/// The message is `multipart/alternative` (UTF-8 text, then UTF-8 HTML),
/// has `From` (the configured [`Sender`]), `To` (with `to_name` as display
/// name), `Subject`, `Date` (the message's `created_at`) and
/// `Message-ID: <{id}@{domain}>` (the sender's domain unless configured).
///
/// ```
/// use portal_access_smtp::{MessageComposer, Sender};
///
/// let composer = MessageComposer::new("Portal <portal@firm.example>".parse::<Sender>()?)
///     .with_message_id_domain("mail.firm.example")?;
/// assert_eq!(composer.message_id_domain(), "mail.firm.example");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct MessageComposer {
    from: Sender,
    message_id_domain: String,
}

impl MessageComposer {
    /// Messages from `from`, with `Message-ID`s in the sender's domain.
    pub fn new(from: Sender) -> Self {
        let message_id_domain = from.domain().to_owned();
        Self {
            from,
            message_id_domain,
        }
    }

    /// Uses `domain` as the right part of every `Message-ID`.
    pub fn with_message_id_domain(mut self, domain: &str) -> Result<Self, InvalidSender> {
        let valid = !domain.is_empty()
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !valid {
            return Err(InvalidSender::MessageIdDomain(domain.to_owned()));
        }
        self.message_id_domain = domain.to_owned();
        Ok(self)
    }

    /// The `From` mailbox.
    pub fn sender(&self) -> &Sender {
        &self.from
    }

    /// The right part of every `Message-ID`.
    pub fn message_id_domain(&self) -> &str {
        &self.message_id_domain
    }

    /// Builds the message, refusing any header value with CR, LF or NUL.
    pub fn compose(&self, message: &NewMessage) -> Result<Message, ComposeError> {
        refuse_injection("recipient", &message.to)?;
        if let Some(name) = &message.to_name {
            refuse_injection("recipient name", name)?;
        }
        refuse_injection("subject", &message.subject)?;

        let address = Address::from_str(&message.to).map_err(ComposeError::InvalidRecipient)?;
        let to = Mailbox::new(message.to_name.clone(), address);
        Message::builder()
            .from(self.from.0.clone())
            .to(to)
            .subject(message.subject.clone())
            .message_id(Some(format!("<{}@{}>", message.id, self.message_id_domain)))
            .date(SystemTime::from(message.created_at))
            .multipart(MultiPart::alternative_plain_html(
                message.text_body.clone(),
                message.html_body.clone(),
            ))
            .map_err(ComposeError::Build)
    }
}

impl From<Sender> for MessageComposer {
    fn from(from: Sender) -> Self {
        Self::new(from)
    }
}

fn refuse_injection(field: &'static str, value: &str) -> Result<(), ComposeError> {
    if value.contains(FORBIDDEN_IN_HEADERS) {
        Err(ComposeError::HeaderInjection { field })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portal_access_core::{MessageId, MessageKind, TenantId};

    fn message() -> NewMessage {
        NewMessage {
            id: MessageId::from_random([7; 16]),
            tenant: TenantId::new("t").unwrap(),
            account_id: None,
            kind: MessageKind::PasswordReset,
            to: "client@example.com".into(),
            to_name: Some("Zoë Client".into()),
            subject: "Reset your password".into(),
            text_body: "Open https://portal.example/reset?token=abc\n".into(),
            html_body: "<p><a href=\"https://portal.example/reset?token=abc\">Reset</a></p>".into(),
            token_hash: None,
            token_expires_at: None,
            created_at: time::macros::datetime!(2026-03-01 9:30 UTC),
        }
    }

    fn composer() -> MessageComposer {
        MessageComposer::new("Portal <portal@firm.example>".parse().unwrap())
    }

    #[test]
    fn message_id_is_the_message_id_at_the_sender_domain() {
        let msg = message();
        let formatted = String::from_utf8(composer().compose(&msg).unwrap().formatted()).unwrap();
        assert!(formatted.contains(&format!("Message-ID: <{}@firm.example>\r\n", msg.id)));
    }

    #[test]
    fn date_header_is_the_time_the_message_was_queued() {
        let formatted =
            String::from_utf8(composer().compose(&message()).unwrap().formatted()).unwrap();
        assert!(
            formatted.contains("Date: Sun, 01 Mar 2026 09:30:00 +0000\r\n"),
            "{formatted}"
        );
    }

    #[test]
    fn message_is_multipart_alternative_with_utf8_parts() {
        let formatted =
            String::from_utf8(composer().compose(&message()).unwrap().formatted()).unwrap();
        assert!(formatted.contains("Content-Type: multipart/alternative;"));
        assert!(formatted.contains("Content-Type: text/plain; charset=utf-8"));
        assert!(formatted.contains("Content-Type: text/html; charset=utf-8"));
    }

    #[test]
    fn configured_message_id_domain_is_used() {
        let msg = message();
        let composer = composer()
            .with_message_id_domain("mail.firm.example")
            .unwrap();
        let formatted = String::from_utf8(composer.compose(&msg).unwrap().formatted()).unwrap();
        assert!(formatted.contains(&format!("Message-ID: <{}@mail.firm.example>", msg.id)));
    }

    #[test]
    fn message_id_domain_with_brackets_or_spaces_is_refused() {
        assert!(composer().with_message_id_domain("a> b").is_err());
        assert!(composer().with_message_id_domain("").is_err());
    }

    /// A header field and a way to spoil it.
    type Spoiler = (&'static str, fn(&mut NewMessage));

    #[test]
    fn crlf_in_any_header_value_is_refused() {
        let cases: [Spoiler; 3] = [
            ("recipient", |m| {
                m.to = "a@example.com\r\nBcc: x@evil.example".into()
            }),
            ("recipient name", |m| {
                m.to_name = Some("Eve\r\nBcc: x@evil.example".into())
            }),
            ("subject", |m| m.subject = "Hi\nBcc: x@evil.example".into()),
        ];
        for (field, spoil) in cases {
            let mut msg = message();
            spoil(&mut msg);
            let err = composer().compose(&msg).unwrap_err();
            assert!(
                matches!(err, ComposeError::HeaderInjection { field: f } if f == field),
                "{field}: {err:?}"
            );
            assert!(MailerError::from(err).is_permanent());
        }
    }

    #[test]
    fn invalid_recipient_is_a_permanent_error() {
        let mut msg = message();
        msg.to = "not an address".into();
        let err = composer().compose(&msg).unwrap_err();
        assert!(matches!(err, ComposeError::InvalidRecipient(_)));
        assert!(MailerError::from(err).is_permanent());
    }

    #[test]
    fn sender_with_crlf_is_refused() {
        assert!(matches!(
            "Eve\r\nBcc: x@evil.example <eve@example.com>".parse::<Sender>(),
            Err(InvalidSender::ControlCharacter)
        ));
        assert!(Sender::new(Some("Eve\n"), "eve@example.com").is_err());
    }
}
