//! Staff sends (or resends) the invitation to set up a portal account
//! (SPEC section 3, "Invitation").
//!
//! - Never invited: the account becomes `Pending` and gets an invitation
//!   mail with an accept link.
//! - Pending, expired or not: a new link replaces the old one (the old link
//!   is revoked in the same commit, so it stops working) and a
//!   "reinvitation" mail goes out.
//! - Accepted: refused; the client has an account (send a reset instead).
//! - Archived, access disabled, or no mailer: refused.
//!
//! ```
//! use portal_access_core::workflow::attribution::Attribution;
//! use portal_access_core::workflow::invitation::{decide_send_invitation, InvitationSent};
//! use portal_access_core::{Account, AccountId, Actor, EmailAddress, EventId, Invitation, RawToken, RequestContext, StaffId, TenantId};
//!
//! let tenant = TenantId::new("firm").unwrap();
//! let now = time::macros::datetime!(2026-03-01 9:00 UTC);
//! let account = Account::new(AccountId::from_random([1; 16]), tenant.clone(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! let actor = Actor::Staff { tenant, staff_id: StaffId::new("bob").unwrap() };
//! let ctx = RequestContext::default();
//! let decision = decide_send_invitation(&account, Attribution::new(&actor, &ctx, EventId::from_random([2; 16])),
//!     now, true, RawToken::from_bytes([3; 32]), time::Duration::days(7)).unwrap();
//! assert_eq!(decision.outcome, InvitationSent::Invitation);
//! assert!(matches!(decision.mail[0].link.as_ref().unwrap().page, "/invitation"));
//! ```

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::attribution::Attribution;
use super::refusal::{not_found_is, stale_version_is};
use super::{Decision, ErrorCode, MailIntent, Refusal};
use crate::{
    Access, Account, AccountChange, AuditKind, Changes, Invitation, MessageKind, RawToken,
    TokenKind, TokenRecord, TokenRevocation,
};

/// Which invitation mail went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InvitationSent {
    /// The first invitation.
    Invitation,
    /// A new invitation replacing an earlier one (whose link no longer works).
    Reinvitation,
}

/// Why an invitation was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvitationError {
    /// No such account in the staff member's tenant (`not_found`).
    #[error("no such portal account")]
    NotFound,
    /// The account changed since the staff member read it (`stale_version`).
    #[error("the account changed since you read it: nothing was changed")]
    StaleVersion,
    /// The account is archived (`account_archived`).
    #[error("the account is archived: unarchive it before inviting")]
    AccountArchived,
    /// The client already set up the account (`validation_failed`).
    #[error("the client already accepted the invitation; send a password reset instead")]
    AlreadyAccepted,
    /// Portal access is off for the account (`access_disabled`).
    #[error("portal access is disabled for this account: enable it before inviting")]
    AccessDisabled,
    /// No mailer is configured, so no link can be sent (`mailer_not_configured`).
    #[error("email is not configured, so no invitation can be sent")]
    MailerNotConfigured,
}

impl Refusal for InvitationError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::StaleVersion => ErrorCode::StaleVersion,
            Self::AccountArchived => ErrorCode::AccountArchived,
            Self::AlreadyAccepted => ErrorCode::ValidationFailed,
            Self::AccessDisabled => ErrorCode::AccessDisabled,
            Self::MailerNotConfigured => ErrorCode::MailerNotConfigured,
        }
    }
}

not_found_is!(InvitationError);
stale_version_is!(InvitationError);

/// Checks, in this order, whether an invitation may be sent to `account`:
/// archived, already accepted, access disabled, no mailer. Returns which
/// mail it would be.
pub fn check_send_invitation(
    account: &Account,
    mailer_configured: bool,
) -> Result<InvitationSent, InvitationError> {
    if account.archived {
        return Err(InvitationError::AccountArchived);
    }
    let sent = match account.invitation {
        Invitation::NotInvited => InvitationSent::Invitation,
        Invitation::Pending { .. } => InvitationSent::Reinvitation,
        Invitation::Accepted { .. } => return Err(InvitationError::AlreadyAccepted),
    };
    if account.access == Access::Disabled {
        return Err(InvitationError::AccessDisabled);
    }
    if !mailer_configured {
        return Err(InvitationError::MailerNotConfigured);
    }
    Ok(sent)
}

/// Decides an invitation: the account becomes `Pending` until
/// `now + ttl`, every earlier invitation link is revoked, the new `token`
/// is issued (after the revocation, in the same commit) and mailed.
pub fn decide_send_invitation(
    account: &Account,
    by: Attribution<'_>,
    now: OffsetDateTime,
    mailer_configured: bool,
    token: RawToken,
    ttl: Duration,
) -> Result<Decision<InvitationSent>, InvitationError> {
    let sent = check_send_invitation(account, mailer_configured)?;
    let expires_at = now + ttl;
    let updated = Account {
        invitation: Invitation::Pending {
            sent_at: now,
            expires_at,
        },
        updated_at: now,
        ..account.clone()
    };
    let (kind, audit_kind) = match sent {
        InvitationSent::Invitation => (MessageKind::Invitation, AuditKind::InvitationSent),
        InvitationSent::Reinvitation => (MessageKind::Reinvitation, AuditKind::InvitationResent),
    };
    let changes = Changes {
        account: Some(AccountChange::Update(updated)),
        revoke_tokens: vec![TokenRevocation::of(account, &[TokenKind::Invitation], now)],
        new_tokens: vec![TokenRecord::issued(&token, TokenKind::Invitation, account, now, expires_at)],
        audit: vec![by.on(account, audit_kind,
            now,
            serde_json::json!({ "to": account.email.as_str(), "expires_at": expires_at.unix_timestamp() }),
        )],
        ..Changes::default()
    };
    let mail = MailIntent::to_account(kind, account).with_link("/invitation", token, expires_at);
    Ok(Decision {
        changes,
        mail: vec![mail],
        outcome: sent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::attribution::fixtures::*;

    fn send(account: &Account, mailer: bool) -> Result<Decision<InvitationSent>, InvitationError> {
        decide_send_invitation(account, by(), now(), mailer, token(7), Duration::days(7))
    }

    #[test]
    fn sending_an_invitation_makes_a_never_invited_account_pending() {
        let decision = send(&not_invited(), true).unwrap();
        assert_eq!(decision.outcome, InvitationSent::Invitation);
        assert_eq!(
            updated(&decision).invitation,
            Invitation::Pending {
                sent_at: now(),
                expires_at: now() + Duration::days(7)
            }
        );
        assert_eq!(updated(&decision).version, not_invited().version);
        assert_eq!(decision.changes.audit[0].kind, AuditKind::InvitationSent);
    }

    #[test]
    fn an_invitation_mail_carries_an_accept_link_to_the_account_email() {
        let decision = send(&not_invited(), true).unwrap();
        let [mail] = decision.mail.as_slice() else {
            panic!("one mail expected");
        };
        assert_eq!(mail.kind, MessageKind::Invitation);
        assert_eq!(mail.to, "Ann.Client@example.com");
        assert_eq!(mail.to_name.as_deref(), Some("Ann Client"));
        let link = mail.link.as_ref().unwrap();
        assert_eq!(link.page, "/invitation");
        assert_eq!(link.expires_at, now() + Duration::days(7));
        let [record] = decision.changes.new_tokens.as_slice() else {
            panic!("one token expected");
        };
        assert_eq!(record.hash, token(7).hash());
        assert_eq!(record.kind, TokenKind::Invitation);
        assert_eq!(record.expires_at, link.expires_at);
    }

    #[test]
    fn resending_a_pending_invitation_revokes_the_old_link_and_sends_a_reinvitation() {
        let decision = send(&pending(), true).unwrap();
        assert_eq!(decision.outcome, InvitationSent::Reinvitation);
        assert_eq!(decision.mail[0].kind, MessageKind::Reinvitation);
        assert_eq!(decision.changes.audit[0].kind, AuditKind::InvitationResent);
        assert_eq!(
            decision.changes.revoke_tokens,
            vec![TokenRevocation::of(
                &pending(),
                &[TokenKind::Invitation],
                now()
            )]
        );
        assert_eq!(decision.changes.new_tokens.len(), 1);
    }

    #[test]
    fn resending_an_expired_invitation_gives_a_fresh_expiry() {
        let expired = Account {
            invitation: Invitation::Pending {
                sent_at: now() - Duration::days(10),
                expires_at: now() - Duration::days(3),
            },
            ..not_invited()
        };
        let decision = send(&expired, true).unwrap();
        assert_eq!(decision.outcome, InvitationSent::Reinvitation);
        assert_eq!(
            updated(&decision).invitation,
            Invitation::Pending {
                sent_at: now(),
                expires_at: now() + Duration::days(7)
            }
        );
    }

    #[test]
    fn inviting_an_accepted_account_is_refused_with_a_clear_message() {
        let err = send(&accepted(), true).unwrap_err();
        assert_eq!(err, InvitationError::AlreadyAccepted);
        assert_eq!(err.code(), ErrorCode::ValidationFailed);
        assert!(err.to_string().contains("already accepted"));
    }

    #[test]
    fn inviting_an_archived_account_is_refused() {
        let archived = Account {
            archived: true,
            ..pending()
        };
        let err = send(&archived, true).unwrap_err();
        assert_eq!(err.code(), ErrorCode::AccountArchived);
    }

    #[test]
    fn inviting_an_account_with_access_disabled_is_refused() {
        let disabled = Account {
            access: Access::Disabled,
            ..not_invited()
        };
        assert_eq!(
            send(&disabled, true).unwrap_err().code(),
            ErrorCode::AccessDisabled
        );
    }

    #[test]
    fn inviting_without_a_mailer_is_refused() {
        assert_eq!(
            send(&not_invited(), false).unwrap_err().code(),
            ErrorCode::MailerNotConfigured
        );
    }

    #[test]
    fn archived_is_reported_before_every_other_refusal() {
        let everything_wrong = Account {
            archived: true,
            access: Access::Disabled,
            ..accepted()
        };
        assert_eq!(
            send(&everything_wrong, false).unwrap_err(),
            InvitationError::AccountArchived
        );
    }

    #[test]
    fn invitation_kind_serializes_as_the_api_expects() {
        assert_eq!(
            serde_json::to_value(InvitationSent::Reinvitation).unwrap(),
            "reinvitation"
        );
        assert_eq!(
            serde_json::to_value(InvitationSent::Invitation).unwrap(),
            "invitation"
        );
    }
}
