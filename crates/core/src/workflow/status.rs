//! What staff see of an account (`GET /staff/accounts/{id}`): its state,
//! the actions that apply now, and the delivery timeline of its recent
//! messages (SPEC section 6): for each message queued → sent / retrying
//! (with the last error) / failed, and for the link it carried whether it
//! was opened (when, from where), used, superseded or expired. So "the
//! client didn't receive the link" is answered with facts.
//!
//! ```
//! use portal_access_core::workflow::status::{account_status, StaffAction};
//! use portal_access_core::{Account, AccountId, EmailAddress, TenantId};
//!
//! let now = time::macros::datetime!(2026-03-01 9:00 UTC);
//! let account = Account::new(AccountId::from_random([1; 16]), TenantId::new("firm").unwrap(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! let status = account_status(&account, &[], &[], &[], true, &Default::default(), now);
//! assert!(status.available_actions.contains(&StaffAction::SendInvitation));
//! assert!(!status.available_actions.contains(&StaffAction::SendPasswordReset));
//! let json = serde_json::to_value(&status).unwrap();
//! assert_eq!(json["invitation"]["state"], "not_invited");
//! assert_eq!(json["access"], "enabled");
//! ```

use std::net::IpAddr;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::invitation::{check_send_invitation, InvitationSent};
pub use super::refusal::NotFoundError;
use super::staff_reset::check_staff_reset;
use crate::domain::factor::MfaStatus;
use crate::{
    Access, Account, AccountId, DeliveryState, DeviceRecord, Invitation, LinkOpening, MessageId,
    MessageKind, MfaPolicy, OutboxMessage, SessionRecord, TokenKind, TokenRecord, TokenState,
};

/// An action a staff member can take on an account now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StaffAction {
    /// Send the first invitation.
    SendInvitation,
    /// Send a new invitation (the old link stops working).
    ResendInvitation,
    /// Send a password reset link.
    SendPasswordReset,
    /// Set the password by hand.
    SetPassword,
    /// Turn portal access on.
    EnableAccess,
    /// Turn portal access off.
    DisableAccess,
    /// Archive the account.
    Archive,
    /// Unarchive the account.
    Unarchive,
    /// Change the email address.
    ChangeEmail,
    /// Reset the second factor (only when one is enrolled).
    MfaReset,
}

/// The actions that apply to `account` now: each one the service would
/// accept. An archived account can only be unarchived; an accepted
/// invitation offers neither "send" nor "resend"; link-sending actions need
/// a mailer.
pub fn available_actions(account: &Account, mailer_configured: bool) -> Vec<StaffAction> {
    if account.archived {
        return vec![StaffAction::Unarchive];
    }
    let mut actions = Vec::new();
    match check_send_invitation(account, mailer_configured) {
        Ok(InvitationSent::Invitation) => actions.push(StaffAction::SendInvitation),
        Ok(InvitationSent::Reinvitation) => actions.push(StaffAction::ResendInvitation),
        Err(_) => {}
    }
    if check_staff_reset(account, mailer_configured).is_ok() {
        actions.push(StaffAction::SendPasswordReset);
    }
    actions.push(StaffAction::SetPassword);
    actions.push(match account.access {
        Access::Enabled => StaffAction::DisableAccess,
        Access::Disabled => StaffAction::EnableAccess,
    });
    actions.push(StaffAction::ChangeEmail);
    if super::mfa_reset::check_mfa_reset(account).is_ok() {
        actions.push(StaffAction::MfaReset);
    }
    actions.push(StaffAction::Archive);
    actions
}

/// Where the invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    /// Never invited.
    NotInvited,
    /// Invited, not accepted (the link may have expired: see `expires_at`).
    Pending,
    /// Set up by the client (or activated by a staff-set password).
    Accepted,
}

/// The invitation part of the status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationStatus {
    /// The state.
    pub state: InvitationState,
    /// When the current invitation was sent (pending).
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub sent_at: Option<OffsetDateTime>,
    /// When its link expires (pending).
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_at: Option<OffsetDateTime>,
    /// When it was accepted.
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub accepted_at: Option<OffsetDateTime>,
}

impl From<Invitation> for InvitationStatus {
    fn from(invitation: Invitation) -> Self {
        match invitation {
            Invitation::NotInvited => Self {
                state: InvitationState::NotInvited,
                sent_at: None,
                expires_at: None,
                accepted_at: None,
            },
            Invitation::Pending {
                sent_at,
                expires_at,
            } => Self {
                state: InvitationState::Pending,
                sent_at: Some(sent_at),
                expires_at: Some(expires_at),
                accepted_at: None,
            },
            Invitation::Accepted { at } => Self {
                state: InvitationState::Accepted,
                sent_at: None,
                expires_at: None,
                accepted_at: Some(at),
            },
        }
    }
}

/// One opening (GET/HEAD) of a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpeningStatus {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// From which IP.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "203.0.113.7"))]
    pub ip: Option<IpAddr>,
    /// With which User-Agent (a mail scanner or a browser).
    pub user_agent: Option<String>,
}

/// The link a message carried, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkStatus {
    /// What the link is for.
    pub kind: TokenKind,
    /// Valid, used, superseded (revoked or replaced) or expired, now.
    pub state: TokenState,
    /// When it expires.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When it was used.
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub used_at: Option<OffsetDateTime>,
    /// When it was revoked or replaced by a newer link.
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub superseded_at: Option<OffsetDateTime>,
    /// Openings of the link, newest first ("opened, not used").
    pub openings: Vec<OpeningStatus>,
}

/// One message of the delivery timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageStatus {
    /// The message id.
    pub id: MessageId,
    /// What it is.
    pub kind: MessageKind,
    /// To whom.
    pub to: String,
    /// Its subject.
    pub subject: String,
    /// Delivery state.
    pub state: DeliveryState,
    /// Attempts so far.
    pub attempts: u32,
    /// The last delivery error (retrying / failed), or why it was not sent
    /// (superseded: "not sent: link superseded before delivery").
    pub last_error: Option<String>,
    /// When it was queued.
    #[serde(with = "time::serde::rfc3339")]
    pub queued_at: OffsetDateTime,
    /// When the next attempt is due (queued / retrying).
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// When the mail server accepted it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    /// When delivery was given up (failed, or superseded).
    #[serde(with = "time::serde::rfc3339::option")]
    pub failed_at: Option<OffsetDateTime>,
    /// The link it carried, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkStatus>,
}

/// The staff view of an account (the JSON of `GET /staff/accounts/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountStatus {
    /// The account id.
    pub id: AccountId,
    /// The email address, as given.
    pub email: String,
    /// The username the client chose, if any (staff read it, never set it).
    pub username: Option<String>,
    /// The host's contact reference.
    pub contact_ref: Option<String>,
    /// The display name.
    pub display_name: Option<String>,
    /// The language of the client's mail (`es`); `null`: the firm's
    /// default, English.
    pub language: Option<crate::Language>,
    /// `enabled` or `disabled`.
    pub access: Access,
    /// Whether archived.
    pub archived: bool,
    /// The invitation.
    pub invitation: InvitationStatus,
    /// Whether the client must change the password at next sign-in.
    pub must_change_password: bool,
    /// Whether a password is set.
    pub has_password: bool,
    /// The last sign-in.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_sign_in_at: Option<OffsetDateTime>,
    /// What staff can do now.
    pub available_actions: Vec<StaffAction>,
    /// The delivery timeline, newest first.
    pub messages: Vec<MessageStatus>,
    /// Second factors: the tenant's policy state, the enrolled kinds
    /// with their dates (never a secret), the remembered devices and the
    /// last staff reset ("second factor reset by X at T").
    pub mfa: MfaStatus,
    /// The live sessions: how many, and the latest use.
    pub sessions: SessionsStatus,
    /// The version read (a change expecting it is refused once another came first).
    pub version: i64,
}

/// What staff see of an account's sessions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionsStatus {
    /// Live sessions (unrevoked, unexpired, not idle past the limit).
    pub active: usize,
    /// The latest `last_seen_at` among them.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_seen_at: Option<OffsetDateTime>,
}

impl AccountStatus {
    /// The status with the account's sessions and remembered devices (as
    /// listed by the store) counted at `now`.
    pub fn with_trust(
        mut self,
        sessions: &[SessionRecord],
        devices: &[DeviceRecord],
        idle_ttl: Duration,
        now: OffsetDateTime,
    ) -> Self {
        let live = super::trust::session_views(sessions, None, &Default::default(), idle_ttl, now);
        self.sessions = SessionsStatus {
            active: live.len(),
            last_seen_at: live.iter().map(|s| s.last_seen_at).max(),
        };
        self.mfa.remembered_devices =
            super::trust::device_views(devices, &Default::default(), now).len();
        self
    }
}

/// Assembles the status from what the service loaded: the account, its
/// recent messages (newest first), the link tokens they carried, and the
/// link openings. Pure: `now` decides token states.
pub fn account_status(
    account: &Account,
    messages: &[OutboxMessage],
    tokens: &[TokenRecord],
    openings: &[LinkOpening],
    mailer_configured: bool,
    policy: &MfaPolicy,
    now: OffsetDateTime,
) -> AccountStatus {
    let messages = messages
        .iter()
        .map(|m| message_status(m, tokens, openings, now))
        .collect();
    AccountStatus {
        id: account.id,
        email: account.email.as_str().to_owned(),
        username: account.username.as_ref().map(|u| u.as_str().to_owned()),
        contact_ref: account.contact_ref.clone(),
        language: account.language.clone(),
        display_name: account.display_name.clone(),
        access: account.access,
        archived: account.archived,
        invitation: account.invitation.into(),
        must_change_password: account.must_change_password,
        has_password: account.password_hash.is_some(),
        last_sign_in_at: account.last_sign_in_at,
        available_actions: available_actions(account, mailer_configured),
        messages,
        mfa: MfaStatus::of(&account.mfa, policy, now, 0),
        sessions: SessionsStatus::default(),
        version: account.version,
    }
}

fn message_status(
    outbox: &OutboxMessage,
    tokens: &[TokenRecord],
    openings: &[LinkOpening],
    now: OffsetDateTime,
) -> MessageStatus {
    let message = &outbox.message;
    let link = message.token_hash.and_then(|hash| {
        let token = tokens.iter().find(|t| t.hash.ct_eq(&hash))?;
        Some(LinkStatus {
            kind: token.kind,
            state: token.state(now),
            expires_at: token.expires_at,
            used_at: token.used_at,
            superseded_at: token.revoked_at.filter(|_| token.used_at.is_none()),
            openings: openings
                .iter()
                .filter(|o| o.token_hash.ct_eq(&hash))
                .map(|o| OpeningStatus {
                    at: o.at,
                    ip: o.ip,
                    user_agent: o.user_agent.clone(),
                })
                .collect(),
        })
    });
    let pending = matches!(
        outbox.state,
        DeliveryState::Queued | DeliveryState::Retrying
    );
    MessageStatus {
        id: message.id,
        kind: message.kind,
        to: message.to.clone(),
        subject: message.subject.clone(),
        state: outbox.state,
        attempts: outbox.attempts,
        last_error: outbox.last_error.clone(),
        queued_at: message.created_at,
        next_attempt_at: pending.then_some(outbox.next_attempt_at),
        sent_at: outbox.sent_at,
        failed_at: outbox.failed_at,
        link,
    }
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
