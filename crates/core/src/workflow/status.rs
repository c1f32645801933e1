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
use time::OffsetDateTime;

use super::invitation::{check_send_invitation, InvitationSent};
pub use super::refusal::NotFoundError;
use super::staff_reset::check_staff_reset;
use crate::domain::factor::MfaStatus;
use crate::{
    Access, Account, AccountId, DeliveryState, Invitation, LinkOpening, MessageId, MessageKind,
    MfaPolicy, OutboxMessage, TokenKind, TokenRecord, TokenState,
};

/// An action a staff member can take on an account now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
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
    actions.push(StaffAction::Archive);
    actions
}

/// Where the invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
pub struct OpeningStatus {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// From which IP.
    pub ip: Option<IpAddr>,
    /// With which User-Agent (a mail scanner or a browser).
    pub user_agent: Option<String>,
}

/// The link a message carried, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// Second factors: the tenant's policy state and the enrolled kinds
    /// with their dates (never a secret).
    pub mfa: MfaStatus,
    /// The version read (a change expecting it is refused once another came first).
    pub version: i64,
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
        display_name: account.display_name.clone(),
        access: account.access,
        archived: account.archived,
        invitation: account.invitation.into(),
        must_change_password: account.must_change_password,
        has_password: account.password_hash.is_some(),
        last_sign_in_at: account.last_sign_in_at,
        available_actions: available_actions(account, mailer_configured),
        messages,
        mfa: MfaStatus::of(&account.mfa, policy, now),
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
mod tests {
    use time::Duration;

    use super::*;
    use crate::workflow::attribution::fixtures::*;
    use crate::{NewMessage, TokenHash};

    fn message(
        seed: u8,
        kind: MessageKind,
        token: Option<TokenHash>,
        state: DeliveryState,
    ) -> OutboxMessage {
        OutboxMessage {
            message: NewMessage {
                id: MessageId::from_random([seed; 16]),
                tenant: tenant(),
                account_id: Some(accepted().id),
                kind,
                to: "Ann.Client@example.com".into(),
                to_name: None,
                subject: format!("subject {seed}"),
                text_body: String::new(),
                html_body: String::new(),
                token_hash: token,
                token_expires_at: token.map(|_| now() + Duration::hours(1)),
                created_at: now() - Duration::minutes(i64::from(seed)),
            },
            state,
            attempts: u32::from(state != DeliveryState::Queued),
            next_attempt_at: now() + Duration::minutes(5),
            last_error: (state == DeliveryState::Retrying).then(|| "421 try later".into()),
            sent_at: (state == DeliveryState::Sent).then(now),
            failed_at: None,
            redacted: false,
        }
    }

    fn status_of(
        account: &Account,
        messages: &[OutboxMessage],
        tokens: &[TokenRecord],
        openings: &[LinkOpening],
    ) -> AccountStatus {
        account_status(
            account,
            messages,
            tokens,
            openings,
            true,
            &MfaPolicy::default(),
            now(),
        )
    }

    fn record(seed: u8, kind: TokenKind) -> TokenRecord {
        TokenRecord {
            hash: token(seed).hash(),
            kind,
            tenant: tenant(),
            account_id: accepted().id,
            created_at: now() - Duration::minutes(30),
            expires_at: now() + Duration::minutes(30),
            used_at: None,
            revoked_at: None,
            message_id: None,
        }
    }

    fn opening(seed: u8, minutes_ago: i64, user_agent: &str) -> LinkOpening {
        LinkOpening {
            token_hash: token(seed).hash(),
            account_id: accepted().id,
            tenant: tenant(),
            at: now() - Duration::minutes(minutes_ago),
            ip: Some("198.51.100.4".parse().unwrap()),
            user_agent: Some(user_agent.into()),
        }
    }

    #[test]
    fn staff_view_offers_send_invitation_for_a_never_invited_account() {
        let actions = available_actions(&not_invited(), true);
        assert!(actions.contains(&StaffAction::SendInvitation));
        assert!(!actions.contains(&StaffAction::ResendInvitation));
        assert!(!actions.contains(&StaffAction::SendPasswordReset));
    }

    #[test]
    fn staff_view_offers_resend_invitation_for_a_pending_invitation() {
        let actions = available_actions(&pending(), true);
        assert!(actions.contains(&StaffAction::ResendInvitation));
        assert!(!actions.contains(&StaffAction::SendInvitation));
    }

    #[test]
    fn staff_view_offers_neither_invitation_action_once_accepted() {
        let actions = available_actions(&accepted(), true);
        assert!(!actions.contains(&StaffAction::SendInvitation));
        assert!(!actions.contains(&StaffAction::ResendInvitation));
        assert!(actions.contains(&StaffAction::SendPasswordReset));
        assert!(actions.contains(&StaffAction::DisableAccess));
    }

    #[test]
    fn staff_view_of_an_archived_account_offers_only_unarchive() {
        let archived = Account {
            archived: true,
            ..accepted()
        };
        assert_eq!(
            available_actions(&archived, true),
            vec![StaffAction::Unarchive]
        );
    }

    #[test]
    fn without_a_mailer_no_link_sending_action_is_offered() {
        let actions = available_actions(&accepted(), false);
        assert!(!actions.contains(&StaffAction::SendPasswordReset));
        assert!(actions.contains(&StaffAction::SetPassword));
        assert!(!available_actions(&pending(), false).contains(&StaffAction::ResendInvitation));
    }

    #[test]
    fn a_disabled_account_offers_enable_access_and_no_reset() {
        let disabled = Account {
            access: Access::Disabled,
            ..accepted()
        };
        let actions = available_actions(&disabled, true);
        assert!(actions.contains(&StaffAction::EnableAccess));
        assert!(!actions.contains(&StaffAction::SendPasswordReset));
    }

    #[test]
    fn delivery_timeline_shows_retrying_with_the_last_error() {
        let messages = [message(
            1,
            MessageKind::PasswordReset,
            None,
            DeliveryState::Retrying,
        )];
        let status = status_of(&accepted(), &messages, &[], &[]);
        let json = serde_json::to_value(&status).unwrap();
        let m = &json["messages"][0];
        assert_eq!(m["state"], "retrying");
        assert_eq!(m["last_error"], "421 try later");
        assert_eq!(m["attempts"], 1);
        assert_eq!(m["next_attempt_at"], "2026-03-02T10:05:00Z");
        assert!(m.get("link").is_none());
    }

    #[test]
    fn delivery_timeline_shows_a_link_opened_but_not_used() {
        let messages = [message(
            1,
            MessageKind::PasswordReset,
            Some(token(1).hash()),
            DeliveryState::Sent,
        )];
        let tokens = [record(1, TokenKind::PasswordReset)];
        let openings = [
            opening(1, 2, "Mozilla/5.0 Firefox/121.0"),
            opening(1, 9, "SafeLinks scanner"),
            opening(2, 1, "elsewhere"),
        ];
        let status = status_of(&accepted(), &messages, &tokens, &openings);
        let link = status.messages[0].link.as_ref().unwrap();
        assert_eq!(link.state, TokenState::Valid);
        assert_eq!(link.openings.len(), 2);
        assert_eq!(
            link.openings[1].user_agent.as_deref(),
            Some("SafeLinks scanner")
        );
        assert_eq!(status.messages[0].sent_at, Some(now()));
        assert_eq!(status.messages[0].next_attempt_at, None);
    }

    #[test]
    fn delivery_timeline_shows_used_superseded_and_expired_links() {
        let messages = [
            message(
                1,
                MessageKind::Reinvitation,
                Some(token(1).hash()),
                DeliveryState::Sent,
            ),
            message(
                2,
                MessageKind::Invitation,
                Some(token(2).hash()),
                DeliveryState::Sent,
            ),
            message(
                3,
                MessageKind::Invitation,
                Some(token(3).hash()),
                DeliveryState::Sent,
            ),
        ];
        let used = TokenRecord {
            used_at: Some(now() - Duration::minutes(1)),
            ..record(1, TokenKind::Invitation)
        };
        let superseded = TokenRecord {
            revoked_at: Some(now() - Duration::minutes(10)),
            ..record(2, TokenKind::Invitation)
        };
        let expired = TokenRecord {
            expires_at: now() - Duration::days(1),
            ..record(3, TokenKind::Invitation)
        };
        let status = status_of(&accepted(), &messages, &[used, superseded, expired], &[]);
        let states: Vec<TokenState> = status
            .messages
            .iter()
            .map(|m| m.link.as_ref().unwrap().state)
            .collect();
        assert_eq!(
            states,
            [
                TokenState::Used,
                TokenState::Superseded,
                TokenState::Expired
            ]
        );
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(json["messages"][0]["link"]["state"], "used");
        assert_eq!(
            json["messages"][1]["link"]["superseded_at"],
            "2026-03-02T09:50:00Z"
        );
    }

    #[test]
    fn status_json_has_the_contract_fields() {
        let status = status_of(&pending(), &[], &[], &[]);
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(json["email"], "Ann.Client@example.com");
        assert_eq!(json["invitation"]["state"], "pending");
        assert_eq!(json["invitation"]["sent_at"], "2026-03-02T09:00:00Z");
        assert!(json["invitation"].get("accepted_at").is_none());
        assert_eq!(json["access"], "enabled");
        assert_eq!(json["archived"], false);
        assert_eq!(json["has_password"], false);
        assert_eq!(json["last_sign_in_at"], serde_json::Value::Null);
        assert!(json["available_actions"]
            .as_array()
            .unwrap()
            .contains(&"resend_invitation".into()));
    }
}
