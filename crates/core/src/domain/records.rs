//! Records the store keeps beside accounts: link tokens, sessions, outbox
//! messages, link openings, staff verification.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Account, AccountId, MessageId, RawToken, StaffId, TenantId, TokenHash, TokenKind};

/// A link token (invitation, password reset, "this wasn't me"), by hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// SHA-256 of the raw token: the key.
    pub hash: TokenHash,
    /// What it is for.
    pub kind: TokenKind,
    /// The tenant.
    pub tenant: TenantId,
    /// The account it acts on.
    pub account_id: AccountId,
    /// Issued at.
    pub created_at: OffsetDateTime,
    /// Stops working at.
    pub expires_at: OffsetDateTime,
    /// Redeemed at (single use).
    pub used_at: Option<OffsetDateTime>,
    /// Revoked at: superseded by a newer link, or revoked by a change
    /// (password set, access disabled, archived, email changed).
    pub revoked_at: Option<OffsetDateTime>,
    /// The outbox message that carried it.
    pub message_id: Option<MessageId>,
}

/// Where a link token stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    /// Usable.
    Valid,
    /// Redeemed.
    Used,
    /// Revoked or replaced by a newer link.
    Superseded,
    /// Past its expiry.
    Expired,
}

impl TokenRecord {
    /// A new, unused link token of `kind` for `account`, issued at `now`,
    /// valid until `expires_at`; stored by its hash only.
    pub fn issued(
        token: &RawToken,
        kind: TokenKind,
        account: &Account,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Self {
        Self {
            hash: token.hash(),
            kind,
            tenant: account.tenant.clone(),
            account_id: account.id,
            created_at: now,
            expires_at,
            used_at: None,
            revoked_at: None,
            message_id: None,
        }
    }

    /// The token's state at `now`.
    pub fn state(&self, now: OffsetDateTime) -> TokenState {
        if self.used_at.is_some() {
            TokenState::Used
        } else if self.revoked_at.is_some() {
            TokenState::Superseded
        } else if self.expires_at <= now {
            TokenState::Expired
        } else {
            TokenState::Valid
        }
    }
}

/// A client session, by hash of its cookie token. Sessions are not single use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the cookie token: the key.
    pub hash: TokenHash,
    /// The tenant.
    pub tenant: TenantId,
    /// Whose session.
    pub account_id: AccountId,
    /// Issued at.
    pub created_at: OffsetDateTime,
    /// Last used at (touched at most once a minute).
    pub last_seen_at: OffsetDateTime,
    /// Absolute end, whatever the activity.
    pub expires_at: OffsetDateTime,
    /// Revoked at (sign-out, password change, access disabled, …).
    pub revoked_at: Option<OffsetDateTime>,
    /// IP at sign-in.
    pub ip: Option<IpAddr>,
    /// User-Agent at sign-in.
    pub user_agent: Option<String>,
}

/// An opening (GET/HEAD) of a link: recorded, never consuming the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkOpening {
    /// The token opened.
    pub token_hash: TokenHash,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// The tenant.
    pub tenant: TenantId,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// From which IP.
    pub ip: Option<IpAddr>,
    /// With which User-Agent.
    pub user_agent: Option<String>,
}

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// First invitation, with the accept link.
    Invitation,
    /// A new invitation that replaces an earlier one.
    Reinvitation,
    /// A password reset link.
    PasswordReset,
    /// "Your password was changed" (time, IP, place, device, "this wasn't me").
    PasswordChanged,
    /// "Your username was changed".
    UsernameChanged,
    /// "Your portal email address was changed" (to the old and the new address).
    EmailChanged,
    /// "There is no portal account for this address" (optional).
    NoAccount,
    /// To staff: a client said "this wasn't me".
    AccountSecured,
    /// A sign-in code (6 digits, 10 minutes); its body is redacted once sent.
    SignInCode,
    /// "A second factor was added to your account" (with "this wasn't me").
    FactorAdded,
    /// "A second factor was removed from your account" (with "this wasn't me").
    FactorRemoved,
    /// "A recovery code was used to sign in" (with "this wasn't me").
    RecoveryCodeUsed,
    /// "Staff reset your second factor" (with "this wasn't me").
    MfaReset,
}

impl MessageKind {
    /// Stable text form, for storage and templates.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::Reinvitation => "reinvitation",
            Self::PasswordReset => "password_reset",
            Self::PasswordChanged => "password_changed",
            Self::UsernameChanged => "username_changed",
            Self::EmailChanged => "email_changed",
            Self::NoAccount => "no_account",
            Self::AccountSecured => "account_secured",
            Self::SignInCode => "sign_in_code",
            Self::FactorAdded => "factor_added",
            Self::FactorRemoved => "factor_removed",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::MfaReset => "mfa_reset",
        }
    }

    /// Every kind.
    pub const ALL: [MessageKind; 13] = [
        Self::Invitation,
        Self::Reinvitation,
        Self::PasswordReset,
        Self::PasswordChanged,
        Self::UsernameChanged,
        Self::EmailChanged,
        Self::NoAccount,
        Self::AccountSecured,
        Self::SignInCode,
        Self::FactorAdded,
        Self::FactorRemoved,
        Self::RecoveryCodeUsed,
        Self::MfaReset,
    ];

    /// Parses [`as_str`](Self::as_str)'s text.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// A rendered message to be written to the outbox, in the same transaction
/// as the change that causes it. Its `Debug` leaves the bodies out: they
/// may carry a link token.
#[derive(Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Its id (also the Message-ID's left part).
    pub id: MessageId,
    /// The tenant.
    pub tenant: TenantId,
    /// The account it concerns (none for "no account" notices).
    pub account_id: Option<AccountId>,
    /// What it is.
    pub kind: MessageKind,
    /// Recipient address.
    pub to: String,
    /// Recipient display name.
    pub to_name: Option<String>,
    /// Subject line (single line; the mailer refuses CR/LF anyway).
    pub subject: String,
    /// Plain text body.
    pub text_body: String,
    /// HTML body.
    pub html_body: String,
    /// The link token the body carries, if any: the body is redacted once
    /// the message is sent or the token expires.
    pub token_hash: Option<TokenHash>,
    /// When that token expires.
    pub token_expires_at: Option<OffsetDateTime>,
    /// Queued at; first attempt is due then.
    pub created_at: OffsetDateTime,
}

impl std::fmt::Debug for NewMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewMessage")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("account_id", &self.account_id)
            .field("kind", &self.kind)
            .field("to", &self.to)
            .field("to_name", &self.to_name)
            .field("subject", &self.subject)
            .field(
                "text_body",
                &format_args!("<{} bytes>", self.text_body.len()),
            )
            .field(
                "html_body",
                &format_args!("<{} bytes>", self.html_body.len()),
            )
            .field("token_hash", &self.token_hash)
            .field("token_expires_at", &self.token_expires_at)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// Delivery state of an outbox message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its first attempt.
    Queued,
    /// Accepted by the mail server.
    Sent,
    /// A transient failure; another attempt is scheduled.
    Retrying,
    /// Given up (permanent error, or too many attempts).
    Failed,
    /// Not sent: the link it carries was superseded, revoked or used
    /// before it could be delivered (a resend, a disable, an archive, an
    /// email change), so the client never gets a dead link.
    Superseded,
}

impl DeliveryState {
    /// Stable text form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Retrying => "retrying",
            Self::Failed => "failed",
            Self::Superseded => "superseded",
        }
    }

    /// Every state.
    pub const ALL: [DeliveryState; 5] = [
        Self::Queued,
        Self::Sent,
        Self::Retrying,
        Self::Failed,
        Self::Superseded,
    ];

    /// Parses [`as_str`](Self::as_str)'s text.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A message as the outbox holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// The message as queued (bodies replaced by a notice once redacted).
    pub message: NewMessage,
    /// Delivery state.
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (queued / retrying).
    pub next_attempt_at: OffsetDateTime,
    /// The last error, for staff ("the client didn't receive the link"),
    /// or, when superseded, why it was not sent ([`NOT_SENT_SUPERSEDED`]).
    pub last_error: Option<String>,
    /// When the mail server accepted it.
    pub sent_at: Option<OffsetDateTime>,
    /// When the dispatcher gave up (failed, or superseded).
    pub failed_at: Option<OffsetDateTime>,
    /// Whether the bodies were redacted.
    pub redacted: bool,
}

impl OutboxMessage {
    /// A message just written to the outbox: queued, due at once, never tried.
    pub fn queued(message: NewMessage) -> Self {
        Self {
            next_attempt_at: message.created_at,
            message,
            state: DeliveryState::Queued,
            attempts: 0,
            last_error: None,
            sent_at: None,
            failed_at: None,
            redacted: false,
        }
    }
}

/// The text that replaces a redacted body.
pub const REDACTED_BODY: &str = "[redacted: this message carried a link token]";

/// What the delivery timeline says of a message whose link died before it
/// left ([`DeliveryState::Superseded`]).
pub const NOT_SENT_SUPERSEDED: &str = "not sent: link superseded before delivery";

/// One delivery attempt's result for one queued message, recorded inside a
/// commit ([`Changes::delivery`](crate::Changes::delivery)) when something
/// must be written with it (the `message.failed` webhook deliveries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// The message.
    pub message: MessageId,
    /// What happened, written as [`AccountStore::record_delivery`](crate::AccountStore::record_delivery) writes it.
    pub outcome: DeliveryOutcome,
}

/// The result of one delivery attempt, recorded by the dispatcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Accepted by the mail server at this time. Bodies that carry a token
    /// are redacted in the same write.
    Sent {
        /// When.
        at: OffsetDateTime,
    },
    /// Transient failure: try again at `next_attempt_at`.
    Retry {
        /// When to try again.
        next_attempt_at: OffsetDateTime,
        /// What went wrong (shown to staff).
        error: String,
    },
    /// Given up.
    Failed {
        /// When.
        at: OffsetDateTime,
        /// What went wrong (shown to staff).
        error: String,
    },
    /// Not sent, no attempt made: its link was superseded, revoked or used
    /// before delivery. The store sets the state
    /// [`DeliveryState::Superseded`], `failed_at`, the note
    /// [`NOT_SENT_SUPERSEDED`] as `last_error`, and redacts the body.
    Superseded {
        /// When the dispatcher found the link dead.
        at: OffsetDateTime,
    },
}

/// Human verification state of one staff member: resets are allowed past
/// the rate until `verified_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffVerification {
    /// The staff member's tenant.
    pub tenant: TenantId,
    /// The staff member.
    pub staff_id: StaffId,
    /// Passed a CAPTCHA; the flag is cleared until then.
    pub verified_until: OffsetDateTime,
}

/// A staff member's sign-in to the staff console: the SHA-256 of the
/// console cookie's random value (never the value, never the staff token),
/// whom it names, and until when. Kept in the store, so every instance on
/// one database knows it and a restart keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSignIn {
    /// SHA-256 of the cookie's value.
    pub hash: TokenHash,
    /// The staff member's tenant.
    pub tenant: TenantId,
    /// The staff member.
    pub staff_id: StaffId,
    /// When it began.
    pub created_at: OffsetDateTime,
    /// When it ends, unless signed out first.
    pub expires_at: OffsetDateTime,
}

/// A secret the server generates once and keeps in the store, so that every
/// instance on one database and every restart use the same one (the CSRF
/// key, ...): see [`AccountStore::server_secret`](crate::AccountStore::server_secret).
/// Its `Debug` is redacted.
#[derive(Clone)]
pub struct ServerSecret(Vec<u8>);

impl ServerSecret {
    /// A secret of these bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Its bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ServerSecret(<{} bytes redacted>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RawToken;
    use time::macros::datetime;

    #[test]
    fn a_queued_messages_debug_never_shows_the_link_its_body_carries() {
        let token = RawToken::from_bytes([9; 32]);
        let link = format!(
            "https://portal.example.com/portal/reset-password?token={}",
            token.expose()
        );
        let message = NewMessage {
            id: MessageId::from_random([1; 16]),
            tenant: TenantId::new("firm").unwrap(),
            account_id: None,
            kind: MessageKind::PasswordReset,
            to: "ann@example.com".into(),
            to_name: None,
            subject: "Reset your password".into(),
            text_body: format!("Open {link}"),
            html_body: format!("<a href=\"{link}\">Reset</a>"),
            token_hash: Some(token.hash()),
            token_expires_at: Some(datetime!(2026-01-01 10:00 UTC)),
            created_at: datetime!(2026-01-01 9:00 UTC),
        };

        let shown = format!("{message:?} {:?}", OutboxMessage::queued(message.clone()));

        assert!(!shown.contains(token.expose()), "{shown}");
        assert!(shown.contains("ann@example.com") && shown.contains("bytes>"));
    }

    #[test]
    fn a_server_secrets_debug_shows_only_its_length() {
        let secret = ServerSecret::new(b"hunter2-hunter2".to_vec());

        let shown = format!("{secret:?}");

        assert_eq!(shown, "ServerSecret(<15 bytes redacted>)");
    }
}
