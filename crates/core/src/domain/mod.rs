//! Domain types: accounts, actors and audit events, identifiers, email
//! addresses, usernames, passwords and their policy, link and session
//! tokens, the records the store keeps, and User-Agent parsing for notices.
//!
//! They parse, not validate: a value of one of these types is valid by
//! construction. Everything here is re-exported at the crate root.

/// `Debug`, `Display` and the serde conversions of a parsed text value that
/// keeps the text as given in `$field` (`parse` checks it on the way in).
macro_rules! given_text {
    ($name:ident, $field:ident, $error:ty) => {
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.$field)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.$field)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $error;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.$field
            }
        }
    };
}

pub(crate) mod account;
pub(crate) mod actor;
pub(crate) mod chain;
pub mod device;
pub(crate) mod email;
pub mod factor;
pub(crate) mod ids;
pub(crate) mod password;
pub(crate) mod records;
pub mod remembered;
pub(crate) mod token;
pub(crate) mod username;
pub(crate) mod webhook;

pub use account::{Access, Account, Invitation, Language, PasswordHash};
pub use actor::{Actor, AuditEvent, AuditKind, RequestContext};
pub use chain::{
    canonical_body, AuditFilter, AuditQuery, ChainBreak, ChainEnds, ChainHash, ChainPoint,
    ChainVerifier, ChainedEvent, CHAIN_ENCODING_VERSION,
};
pub use email::{EmailAddress, InvalidEmail};
pub use ids::{AccountId, EventId, InvalidId, MessageId, StaffId, TenantId, WebhookId};
pub use password::{
    normalize_password, InvalidPolicy, NewPassword, PasswordPolicy, PasswordReason,
    PasswordRejected,
};
pub use records::{
    ConsoleSignIn, DeliveryOutcome, DeliveryRecord, DeliveryState, LinkOpening, MessageKind,
    NewMessage, OutboxMessage, ServerSecret, SessionRecord, StaffVerification, TokenRecord,
    TokenState, NOT_SENT_SUPERSEDED, REDACTED_BODY,
};
pub use remembered::{DeviceRecord, ListingId};
pub use token::{MalformedToken, RawToken, TokenHash, TokenKind};
pub use username::{InvalidUsername, Username};
pub use webhook::{HostEvent, HostEventType, NewWebhook, OutboxWebhook, WebhookStatus};
