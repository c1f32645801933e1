//! Pure workflows: state loaded before + the command + `now` + fresh random
//! material in, a [`Decision`] out (changes to commit, mail to queue, an
//! outcome) or a typed refusal. No I/O, clock or RNG in here: the
//! [service](crate::service) loads, calls, and commits.
//!
//! Every refusal type implements [`Refusal`], whose [`ErrorCode`] is the
//! stable API code of SPEC.md section 4; the HTTP layer maps codes to
//! statuses in one place.

use std::net::IpAddr;

use time::OffsetDateTime;

use crate::{
    AccountId, Actor, AuditEvent, AuditKind, Changes, EventId, MessageKind, RawToken,
    RequestContext, TenantId,
};

mod refusal;

pub use refusal::{ErrorCode, NoRefusal, NotFoundError, Refusal, StaleVersionError};

/// A message a decision wants sent: the service renders it through the
/// templates into the outbox, in the same commit.
#[derive(Debug, Clone)]
pub struct MailIntent {
    /// What message.
    pub kind: MessageKind,
    /// Tenant.
    pub tenant: TenantId,
    /// The account it concerns.
    pub account_id: Option<AccountId>,
    /// Recipient address.
    pub to: String,
    /// Recipient display name.
    pub to_name: Option<String>,
    /// The link token it carries (raw, for the link; its hash is recorded).
    pub link: Option<MailLink>,
    /// A secret the body carries without a link (an emailed code): the
    /// body is redacted once sent or once the secret expires, like a link's.
    pub secret: Option<MailSecret>,
    /// Further template variables (a JSON object).
    pub vars: serde_json::Value,
    /// The language to write it in (the account's); absent: the firm's
    /// default, English.
    pub language: Option<crate::Language>,
}

/// A link a message carries.
#[derive(Debug, Clone)]
pub struct MailLink {
    /// The portal page, e.g. `/reset-password`.
    pub page: &'static str,
    /// The raw token.
    pub token: RawToken,
    /// When it expires.
    pub expires_at: OffsetDateTime,
}

/// A secret a message carries in its text (an emailed code): recorded
/// like a link token so the body is redacted once sent or expired.
#[derive(Debug, Clone, Copy)]
pub struct MailSecret {
    /// What the message is recorded under (the challenge it serves).
    pub hash: crate::TokenHash,
    /// When the secret expires.
    pub expires_at: OffsetDateTime,
}

/// What a workflow decided.
#[derive(Debug, Clone)]
pub struct Decision<T> {
    /// What to commit atomically.
    pub changes: Changes,
    /// Messages to render into the outbox in the same commit.
    pub mail: Vec<MailIntent>,
    /// What the caller gets back.
    pub outcome: T,
}

impl<T> Decision<T> {
    /// A decision with these changes and no mail.
    pub fn new(changes: Changes, outcome: T) -> Self {
        Self {
            changes,
            mail: Vec::new(),
            outcome,
        }
    }

    /// The same changes and mail with the outcome converted.
    pub fn map<U>(self, convert: impl FnOnce(T) -> U) -> Decision<U> {
        Decision {
            changes: self.changes,
            mail: self.mail,
            outcome: convert(self.outcome),
        }
    }
}

/// Builds an audit event.
#[allow(clippy::too_many_arguments)]
pub fn audit(
    id: EventId,
    tenant: &TenantId,
    account_id: Option<AccountId>,
    actor: &Actor,
    kind: AuditKind,
    at: OffsetDateTime,
    ctx: &RequestContext,
    detail: serde_json::Value,
) -> AuditEvent {
    AuditEvent {
        id,
        tenant: tenant.clone(),
        account_id,
        actor: actor.clone(),
        kind,
        at,
        ip: ctx.ip,
        user_agent: ctx.user_agent.clone(),
        detail,
    }
}

/// The rate-counter key space (keys use only `[a-z0-9:._-]` and hex).
pub mod rate_keys {
    use super::*;

    /// Failed sign-ins of an account from one IP.
    pub fn sign_in_account_ip(account: AccountId, ip: Option<IpAddr>) -> String {
        format!("signin:acct:{account}:ip:{}", ip_text(ip))
    }

    /// Failed sign-ins of an account from every IP (the global ceiling).
    pub fn sign_in_account(account: AccountId) -> String {
        format!("signin:acct:{account}:all")
    }

    /// Prefix of every sign-in throttle key of an account (cleared by a reset).
    pub fn sign_in_account_prefix(account: AccountId) -> String {
        format!("signin:acct:{account}:")
    }

    /// Failed sign-ins from one IP.
    pub fn sign_in_ip(ip: Option<IpAddr>) -> String {
        format!("signin:ip:{}", ip_text(ip))
    }

    /// Forgot-password requests for one normalized address (hashed, so the
    /// store never holds addresses of non-clients).
    pub fn forgot_address(tenant: &TenantId, normalized_email: &str) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("{tenant}\u{0}{normalized_email}").as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("forgot:addr:{hex}")
    }

    /// Forgot-password requests from one IP.
    pub fn forgot_ip(ip: Option<IpAddr>) -> String {
        format!("forgot:ip:{}", ip_text(ip))
    }

    /// Staff-initiated resets of one staff member.
    pub fn staff_resets(tenant: &TenantId, staff: &crate::StaffId) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("{tenant}\u{0}{staff}").as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("staffreset:{hex}")
    }

    /// Wrong codes typed against one sign-in challenge (its window is the
    /// challenge's life).
    pub fn second_factor_challenge(challenge: &crate::TokenHash) -> String {
        let hex: String = challenge.as_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("mfa:challenge:{hex}")
    }

    /// Emailed sign-in codes sent to one account.
    pub fn email_codes(account: AccountId) -> String {
        format!("mfa:emailcode:{account}")
    }

    /// Fresh-invitation requests for one account.
    pub fn fresh_invitation(account: AccountId) -> String {
        format!("freshinv:{account}")
    }

    fn ip_text(ip: Option<IpAddr>) -> String {
        ip.map(|ip| ip.to_string().replace(':', "."))
            .unwrap_or_else(|| "none".into())
    }
}

/// The start of the fixed window of length `window` that holds `now`.
pub fn window_start(now: OffsetDateTime, window: time::Duration) -> OffsetDateTime {
    let len = window.whole_seconds().max(1);
    let t = now.unix_timestamp();
    OffsetDateTime::from_unix_timestamp(t - t.rem_euclid(len)).unwrap_or(now)
}

pub mod changes;
// client-side workflows
pub mod accept_invitation;
pub mod change_password;
pub mod complete_reset;
pub mod forgot_password;
pub mod fresh_invitation;
pub mod link_opening;
pub mod not_me;
pub mod second_factor;
pub mod session;
pub mod sign_in;
pub mod trust;
pub mod username;
// staff-side workflows
pub mod access;
pub mod archive;
pub mod attribution;
pub mod create_account;
pub mod email_change;
pub mod human_verification;
pub mod invitation;
pub mod language;
pub mod mfa_reset;
pub mod set_password;
pub mod staff_reset;
pub mod status;
