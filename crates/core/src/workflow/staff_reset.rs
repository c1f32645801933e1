//! Staff sends a password reset link to a client (SPEC section 3,
//! "Password reset — staff-initiated").
//!
//! Refusals, in the order of the SPEC: archived (`account_archived`), never
//! invited (`not_invited`), invitation still pending (`invitation_pending`),
//! access disabled (`access_disabled`), no mailer (`mailer_not_configured`).
//! Then human verification: past the configured rate of resets, a staff
//! member who has not passed a CAPTCHA recently is refused with
//! `human_verification_required`. The service checks the cheap refusals
//! first ([`check_staff_reset`]), then counts the attempt in the store's
//! rate counter, then decides with the count ([`decide_staff_reset`]).
//!
//! ```
//! use portal_access_core::workflow::attribution::Attribution;
//! use portal_access_core::workflow::staff_reset::{decide_staff_reset, HumanCheck};
//! use portal_access_core::{Account, AccountId, Actor, EmailAddress, EventId, Invitation, RawToken, RequestContext, StaffId, TenantId};
//!
//! let tenant = TenantId::new("firm").unwrap();
//! let now = time::macros::datetime!(2026-03-01 9:00 UTC);
//! let mut account = Account::new(AccountId::from_random([1; 16]), tenant.clone(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! account.invitation = Invitation::Accepted { at: now };
//! let actor = Actor::Staff { tenant, staff_id: StaffId::new("bob").unwrap() };
//! let ctx = RequestContext::default();
//! let human = HumanCheck { resets_in_window: 1, limit: 10, verified_until: None };
//! let decision = decide_staff_reset(&account, Attribution::new(&actor, &ctx, EventId::from_random([2; 16])),
//!     now, true, human, RawToken::from_bytes([3; 32]), time::Duration::hours(1)).unwrap();
//! assert_eq!(decision.mail[0].link.as_ref().unwrap().page, "/reset-password");
//! ```

use time::{Duration, OffsetDateTime};

use super::attribution::Attribution;
use super::refusal::{not_found_is, stale_version_is};
use super::{Decision, ErrorCode, MailIntent, Refusal};
use crate::{
    Access, Account, AccountChange, AuditKind, Changes, Invitation, MessageKind, RawToken,
    TokenKind, TokenRecord, TokenRevocation,
};

/// Why a staff-initiated reset was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffResetError {
    /// No such account in the staff member's tenant (`not_found`).
    #[error("no such portal account")]
    NotFound,
    /// The account changed since the staff member read it (`stale_version`).
    #[error("the account changed since you read it: nothing was changed")]
    StaleVersion,
    /// The account is archived (`account_archived`).
    #[error("the account is archived: unarchive it before sending a reset")]
    AccountArchived,
    /// The client was never invited (`not_invited`).
    #[error("the client was never invited: send an invitation instead")]
    NotInvited,
    /// The invitation is not accepted yet (`invitation_pending`).
    #[error("the invitation is still pending: resend the invitation instead")]
    InvitationPending,
    /// Portal access is off (`access_disabled`).
    #[error("portal access is disabled for this account: enable it first")]
    AccessDisabled,
    /// No mailer is configured (`mailer_not_configured`).
    #[error(
        "email is not configured, so no reset link can be sent; set a password by hand instead"
    )]
    MailerNotConfigured,
    /// Past the rate of resets without a recent CAPTCHA
    /// (`human_verification_required`).
    #[error(
        "too many password resets in a short time: pass the human verification, then try again"
    )]
    HumanVerificationRequired,
}

impl Refusal for StaffResetError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::StaleVersion => ErrorCode::StaleVersion,
            Self::AccountArchived => ErrorCode::AccountArchived,
            Self::NotInvited => ErrorCode::NotInvited,
            Self::InvitationPending => ErrorCode::InvitationPending,
            Self::AccessDisabled => ErrorCode::AccessDisabled,
            Self::MailerNotConfigured => ErrorCode::MailerNotConfigured,
            Self::HumanVerificationRequired => ErrorCode::HumanVerificationRequired,
        }
    }
}

not_found_is!(StaffResetError);
stale_version_is!(StaffResetError);

/// Where the staff member stands with human verification, as loaded by the
/// service from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanCheck {
    /// Resets of this staff member in the current window, this one included
    /// (the value the store's atomic counter returned).
    pub resets_in_window: u32,
    /// How many resets a window allows without verification.
    pub limit: u32,
    /// Until when a passed CAPTCHA lifts the limit, if ever passed.
    pub verified_until: Option<OffsetDateTime>,
}

impl HumanCheck {
    /// Whether this reset may go ahead at `now`.
    pub fn allows(&self, now: OffsetDateTime) -> bool {
        self.resets_in_window <= self.limit || self.verified_until.is_some_and(|until| until > now)
    }
}

/// The cheap refusals, in the SPEC's order. The service runs this before
/// counting the attempt, so refused resets do not use up the rate.
pub fn check_staff_reset(
    account: &Account,
    mailer_configured: bool,
) -> Result<(), StaffResetError> {
    if account.archived {
        return Err(StaffResetError::AccountArchived);
    }
    match account.invitation {
        Invitation::NotInvited => return Err(StaffResetError::NotInvited),
        Invitation::Pending { .. } => return Err(StaffResetError::InvitationPending),
        Invitation::Accepted { .. } => {}
    }
    if account.access == Access::Disabled {
        return Err(StaffResetError::AccessDisabled);
    }
    if !mailer_configured {
        return Err(StaffResetError::MailerNotConfigured);
    }
    Ok(())
}

/// Decides a staff-initiated reset: after the checks of
/// [`check_staff_reset`] and the human check, revokes the account's
/// unused reset links, issues `token` until `now + ttl` and mails it. The
/// account is written back unchanged but for `updated_at`, so a concurrent
/// archive or disable makes this commit conflict (and be re-decided).
pub fn decide_staff_reset(
    account: &Account,
    by: Attribution<'_>,
    now: OffsetDateTime,
    mailer_configured: bool,
    human: HumanCheck,
    token: RawToken,
    ttl: Duration,
) -> Result<Decision<()>, StaffResetError> {
    check_staff_reset(account, mailer_configured)?;
    if !human.allows(now) {
        return Err(StaffResetError::HumanVerificationRequired);
    }
    let expires_at = now + ttl;
    let changes = Changes {
        account: Some(AccountChange::Update(Account {
            updated_at: now,
            ..account.clone()
        })),
        revoke_tokens: vec![TokenRevocation::of(
            account,
            &[TokenKind::PasswordReset],
            now,
        )],
        new_tokens: vec![TokenRecord::issued(
            &token,
            TokenKind::PasswordReset,
            account,
            now,
            expires_at,
        )],
        audit: vec![by.on(
            account,
            AuditKind::PasswordResetSent,
            now,
            serde_json::json!({ "by": "staff", "to": account.email.as_str() }),
        )],
        ..Changes::default()
    };
    let mail = MailIntent::to_account(MessageKind::PasswordReset, account).with_link(
        "/reset-password",
        token,
        expires_at,
    );
    Ok(Decision {
        changes,
        mail: vec![mail],
        outcome: (),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::attribution::fixtures::*;

    const FIRST: HumanCheck = HumanCheck {
        resets_in_window: 1,
        limit: 10,
        verified_until: None,
    };

    fn reset(
        account: &Account,
        mailer: bool,
        human: HumanCheck,
    ) -> Result<Decision<()>, StaffResetError> {
        decide_staff_reset(
            account,
            by(),
            now(),
            mailer,
            human,
            token(4),
            Duration::hours(1),
        )
    }

    #[test]
    fn reset_link_for_an_accepted_account_is_mailed_to_its_address() {
        let decision = reset(&accepted(), true, FIRST).unwrap();
        let [mail] = decision.mail.as_slice() else {
            panic!("one mail expected");
        };
        assert_eq!(mail.kind, MessageKind::PasswordReset);
        assert_eq!(mail.to, accepted().email.as_str());
        let link = mail.link.as_ref().unwrap();
        assert_eq!(link.page, "/reset-password");
        assert_eq!(link.expires_at, now() + Duration::hours(1));
        assert_eq!(decision.changes.new_tokens[0].hash, token(4).hash());
        assert_eq!(
            decision.changes.new_tokens[0].kind,
            TokenKind::PasswordReset
        );
        assert_eq!(decision.changes.audit[0].kind, AuditKind::PasswordResetSent);
    }

    #[test]
    fn a_new_reset_link_supersedes_older_unused_reset_links() {
        let decision = reset(&accepted(), true, FIRST).unwrap();
        assert_eq!(
            decision.changes.revoke_tokens,
            vec![TokenRevocation::of(
                &accepted(),
                &[TokenKind::PasswordReset],
                now()
            )]
        );
    }

    #[test]
    fn a_reset_is_committed_against_the_version_it_was_decided_on() {
        let decision = reset(&accepted(), true, FIRST).unwrap();
        let Some(AccountChange::Update(updated)) = decision.changes.account else {
            panic!("expected a versioned update");
        };
        assert_eq!(updated.version, accepted().version);
        assert_eq!(updated.password_hash, accepted().password_hash);
    }

    #[test]
    fn reset_link_for_archived_account_is_refused() {
        let archived = Account {
            archived: true,
            ..accepted()
        };
        assert_eq!(
            reset(&archived, true, FIRST).unwrap_err(),
            StaffResetError::AccountArchived
        );
    }

    #[test]
    fn reset_link_for_never_invited_account_is_refused_as_not_invited() {
        let err = reset(&not_invited(), true, FIRST).unwrap_err();
        assert_eq!(err.code(), ErrorCode::NotInvited);
        assert!(err.to_string().contains("send an invitation"));
    }

    #[test]
    fn reset_link_while_invitation_pending_is_refused_as_invitation_pending() {
        let err = reset(&pending(), true, FIRST).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvitationPending);
        assert!(err.to_string().contains("resend the invitation"));
    }

    #[test]
    fn reset_link_with_access_disabled_is_refused() {
        let disabled = Account {
            access: Access::Disabled,
            ..accepted()
        };
        assert_eq!(
            reset(&disabled, true, FIRST).unwrap_err().code(),
            ErrorCode::AccessDisabled
        );
    }

    #[test]
    fn reset_link_without_a_mailer_is_refused() {
        assert_eq!(
            reset(&accepted(), false, FIRST).unwrap_err().code(),
            ErrorCode::MailerNotConfigured
        );
    }

    #[test]
    fn refusals_come_in_the_order_of_the_spec() {
        let archived_pending_disabled = Account {
            archived: true,
            access: Access::Disabled,
            ..pending()
        };
        assert_eq!(
            reset(&archived_pending_disabled, false, FIRST).unwrap_err(),
            StaffResetError::AccountArchived
        );
        let not_invited_disabled = Account {
            access: Access::Disabled,
            ..not_invited()
        };
        assert_eq!(
            reset(&not_invited_disabled, false, FIRST).unwrap_err(),
            StaffResetError::NotInvited
        );
        let pending_disabled = Account {
            access: Access::Disabled,
            ..pending()
        };
        assert_eq!(
            reset(&pending_disabled, false, FIRST).unwrap_err(),
            StaffResetError::InvitationPending
        );
        let disabled = Account {
            access: Access::Disabled,
            ..accepted()
        };
        assert_eq!(
            reset(&disabled, false, FIRST).unwrap_err(),
            StaffResetError::AccessDisabled
        );
    }

    #[test]
    fn the_tenth_reset_in_a_window_needs_no_verification() {
        let human = HumanCheck {
            resets_in_window: 10,
            ..FIRST
        };
        assert!(reset(&accepted(), true, human).is_ok());
    }

    #[test]
    fn the_eleventh_reset_in_a_window_requires_human_verification() {
        let human = HumanCheck {
            resets_in_window: 11,
            ..FIRST
        };
        assert_eq!(
            reset(&accepted(), true, human).unwrap_err().code(),
            ErrorCode::HumanVerificationRequired
        );
    }

    #[test]
    fn a_passed_captcha_lifts_the_limit_until_it_expires() {
        let verified = HumanCheck {
            resets_in_window: 50,
            limit: 10,
            verified_until: Some(now() + Duration::minutes(1)),
        };
        assert!(reset(&accepted(), true, verified).is_ok());
        let lapsed = HumanCheck {
            verified_until: Some(now()),
            ..verified
        };
        assert_eq!(
            reset(&accepted(), true, lapsed).unwrap_err(),
            StaffResetError::HumanVerificationRequired
        );
    }

    #[test]
    fn account_refusals_come_before_human_verification() {
        let over = HumanCheck {
            resets_in_window: 99,
            ..FIRST
        };
        assert_eq!(
            reset(&pending(), true, over).unwrap_err(),
            StaffResetError::InvitationPending
        );
    }
}
