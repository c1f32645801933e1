//! Staff resets a client's second factor (SPEC.md section 8, "Staff MFA
//! reset"): the client lost their phone and cannot get in.
//!
//! Removes every factor (authenticator app, email codes, recovery codes,
//! a pending enrolment or emailed code), revokes every remembered device,
//! every session and any sign-in challenge, in one versioned commit. The
//! account keeps the mark "reset by X at T" for the staff status. The
//! client is told at once at their address, with a "this wasn't me" link
//! (a caller who talked staff into it is the attack this guards against).
//!
//! Refused, in order: archived (`account_archived`), nothing to reset
//! (`validation_failed`), then past the staff member's rate of resets
//! without a recent CAPTCHA (`human_verification_required`): MFA resets
//! and password resets count toward the same rate. The service runs
//! [`check_mfa_reset`] before counting, so refused resets do not use up
//! the rate.
//!
//! ```
//! use portal_access_core::workflow::attribution::Attribution;
//! use portal_access_core::workflow::mfa_reset::{decide_mfa_reset, MfaResetInput};
//! use portal_access_core::workflow::second_factor::FactorNotice;
//! use portal_access_core::workflow::staff_reset::HumanCheck;
//! use portal_access_core::domain::factor::EmailFactor;
//! use portal_access_core::{Account, AccountId, Actor, EmailAddress, EventId, MfaPolicy, RawToken};
//! use portal_access_core::{RequestContext, StaffId, TenantId};
//!
//! let tenant = TenantId::new("firm").unwrap();
//! let now = time::macros::datetime!(2026-03-01 9:00 UTC);
//! let mut account = Account::new(AccountId::from_random([1; 16]), tenant.clone(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! account.mfa.email = Some(EmailFactor { created_at: now, last_used_at: None });
//! let staff_id = StaffId::new("bob").unwrap();
//! let actor = Actor::Staff { tenant, staff_id: staff_id.clone() };
//! let ctx = RequestContext::default();
//! let decision = decide_mfa_reset(MfaResetInput {
//!     account: &account,
//!     staff_id: &staff_id,
//!     policy: &MfaPolicy::default(),
//!     human: HumanCheck { resets_in_window: 1, limit: 10, verified_until: None },
//!     notice: Some(FactorNotice { not_me: RawToken::from_bytes([3; 32]), not_me_ttl: time::Duration::days(7) }),
//! }, Attribution::new(&actor, &ctx, EventId::from_random([2; 16])), now).unwrap();
//! assert_eq!(decision.mail[0].link.as_ref().unwrap().page, "/not-me");
//! ```

use time::OffsetDateTime;

use super::attribution::Attribution;
use super::refusal::{not_found_is, stale_version_is};
use super::second_factor::FactorNotice;
use super::staff_reset::HumanCheck;
use super::{Decision, ErrorCode, Refusal};
use crate::domain::factor::MfaResetMark;
use crate::{
    Account, AccountChange, AuditKind, Changes, DeviceRevocation, MessageKind, MfaPolicy, MfaState,
    SessionRevocation, StaffId, TokenKind, TokenRevocation,
};

/// Why a staff MFA reset was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MfaResetError {
    /// No such account in the staff member's tenant (`not_found`).
    #[error("no such portal account")]
    NotFound,
    /// The account is archived (`account_archived`).
    #[error("the account is archived: unarchive it before resetting its second factor")]
    AccountArchived,
    /// The account has no second factor to reset (`validation_failed`).
    #[error("the account has no second factor to reset")]
    NothingToReset,
    /// Past the rate of resets without a recent CAPTCHA
    /// (`human_verification_required`).
    #[error("too many resets in a short time: pass the human verification, then try again")]
    HumanVerificationRequired,
    /// The account changed since the staff member read it (`stale_version`).
    #[error("the account changed since you read it: nothing was changed")]
    StaleVersion,
}

impl Refusal for MfaResetError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::AccountArchived => ErrorCode::AccountArchived,
            Self::NothingToReset => ErrorCode::ValidationFailed,
            Self::HumanVerificationRequired => ErrorCode::HumanVerificationRequired,
            Self::StaleVersion => ErrorCode::StaleVersion,
        }
    }
}

not_found_is!(MfaResetError);
stale_version_is!(MfaResetError);

/// The cheap refusals, before the attempt is counted.
pub fn check_mfa_reset(account: &Account) -> Result<(), MfaResetError> {
    if account.archived {
        return Err(MfaResetError::AccountArchived);
    }
    if !account.mfa.has_factor() {
        return Err(MfaResetError::NothingToReset);
    }
    Ok(())
}

/// What [`decide_mfa_reset`] needs, loaded and drawn by the service.
#[derive(Debug)]
pub struct MfaResetInput<'a> {
    /// The account as loaded (the version guards the update).
    pub account: &'a Account,
    /// The staff member resetting it.
    pub staff_id: &'a StaffId,
    /// The tenant's policy (the notice says whether enrolment follows).
    pub policy: &'a MfaPolicy,
    /// Where the staff member stands with the rate of resets.
    pub human: HumanCheck,
    /// The "this wasn't me" token of the notice; `None` without a mailer
    /// (the reset goes ahead, the notice is skipped and the audit says so).
    pub notice: Option<FactorNotice>,
}

/// Decides a staff MFA reset (see the [module documentation](self)).
pub fn decide_mfa_reset(
    input: MfaResetInput<'_>,
    by: Attribution<'_>,
    now: OffsetDateTime,
) -> Result<Decision<()>, MfaResetError> {
    let MfaResetInput {
        account,
        staff_id,
        policy,
        human,
        notice,
    } = input;
    check_mfa_reset(account)?;
    if !human.allows(now) {
        return Err(MfaResetError::HumanVerificationRequired);
    }
    let removed: Vec<&str> = account
        .mfa
        .summary()
        .iter()
        .map(|f| f.kind.as_str())
        .chain(account.mfa.recovery.as_ref().map(|_| "recovery_codes"))
        .collect();
    let updated = Account {
        mfa: MfaState {
            last_reset: Some(MfaResetMark {
                by: staff_id.clone(),
                at: now,
            }),
            ..MfaState::default()
        },
        updated_at: now,
        ..account.clone()
    };
    let mut changes = Changes {
        account: Some(AccountChange::Update(updated)),
        revoke_tokens: vec![TokenRevocation::of(
            account,
            &[TokenKind::SignInChallenge],
            now,
        )],
        revoke_sessions: vec![SessionRevocation::all_of(account, now)],
        revoke_devices: vec![DeviceRevocation::all_of(account, now)],
        audit: vec![by.on(
            account,
            AuditKind::MfaReset,
            now,
            serde_json::json!({
                "staff_id": staff_id.as_str(),
                "factors": removed,
                "notice": if notice.is_some() { "queued" } else { "skipped" },
            }),
        )],
        ..Changes::default()
    };
    let mut mail = Vec::new();
    if let Some(notice) = notice {
        let (intent, not_me) = notice.to(MessageKind::MfaReset, account, "all", now);
        mail.push(intent.with_vars(serde_json::json!({
            "changed_at": crate::mail::mail_time(now),
            "enrolment_required": policy.requires_factor_at(now),
        })));
        changes.new_tokens.push(not_me);
    }
    Ok(Decision {
        changes,
        mail,
        outcome: (),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::factor::{EmailFactor, MfaMode};
    use crate::workflow::attribution::fixtures::*;
    use crate::RawToken;

    const FIRST: HumanCheck = HumanCheck {
        resets_in_window: 1,
        limit: 10,
        verified_until: None,
    };

    /// The staff member of the fixtures' attribution ([`by`]).
    fn staff_id() -> StaffId {
        StaffId::new("staff-7").unwrap()
    }

    fn with_factor() -> Account {
        let mut account = accepted();
        account.mfa.email = Some(EmailFactor {
            created_at: now(),
            last_used_at: None,
        });
        account
    }

    fn notice() -> FactorNotice {
        FactorNotice {
            not_me: RawToken::from_bytes([9; 32]),
            not_me_ttl: time::Duration::days(7),
        }
    }

    fn reset_with(
        account: &Account,
        human: HumanCheck,
        notice: Option<FactorNotice>,
    ) -> Result<Decision<()>, MfaResetError> {
        let policy = MfaPolicy {
            mode: MfaMode::Required,
            ..MfaPolicy::default()
        };
        decide_mfa_reset(
            MfaResetInput {
                account,
                staff_id: &staff_id(),
                policy: &policy,
                human,
                notice,
            },
            by(),
            now(),
        )
    }

    fn reset(account: &Account) -> Result<Decision<()>, MfaResetError> {
        reset_with(account, FIRST, Some(notice()))
    }

    #[test]
    fn an_mfa_reset_removes_every_factor_and_marks_who_reset_it_and_when() {
        let decision = reset(&with_factor()).unwrap();
        let updated = updated(&decision);
        assert!(!updated.mfa.has_factor());
        assert_eq!(
            updated.mfa.last_reset,
            Some(MfaResetMark {
                by: staff_id(),
                at: now()
            })
        );
        assert_eq!(updated.version, with_factor().version, "a versioned update");
        assert_eq!(updated.password_hash, with_factor().password_hash);
    }

    #[test]
    fn an_mfa_reset_revokes_sessions_devices_and_sign_in_challenges() {
        let account = with_factor();
        let changes = reset(&account).unwrap().changes;
        assert_eq!(
            changes.revoke_sessions,
            vec![SessionRevocation::all_of(&account, now())]
        );
        assert_eq!(
            changes.revoke_devices,
            vec![DeviceRevocation::all_of(&account, now())]
        );
        assert_eq!(
            changes.revoke_tokens,
            vec![TokenRevocation::of(
                &account,
                &[TokenKind::SignInChallenge],
                now()
            )]
        );
    }

    #[test]
    fn the_client_is_told_at_once_with_a_this_wasnt_me_link() {
        let decision = reset(&with_factor()).unwrap();
        let [mail] = decision.mail.as_slice() else {
            panic!("one notice expected");
        };
        assert_eq!(mail.kind, MessageKind::MfaReset);
        assert_eq!(mail.to, with_factor().email.as_str());
        assert_eq!(mail.link.as_ref().unwrap().page, "/not-me");
        assert_eq!(mail.vars["enrolment_required"], true);
        let [token] = decision.changes.new_tokens.as_slice() else {
            panic!("one not-me token expected");
        };
        assert_eq!(token.kind, TokenKind::NotMe);
        assert_eq!(token.hash, RawToken::from_bytes([9; 32]).hash());
    }

    #[test]
    fn the_audit_event_names_the_staff_member_and_the_removed_factors() {
        let decision = reset(&with_factor()).unwrap();
        let [event] = decision.changes.audit.as_slice() else {
            panic!("one event expected");
        };
        assert_eq!(event.kind, AuditKind::MfaReset);
        assert!(
            matches!(&event.actor, crate::Actor::Staff { staff_id: who, .. } if who == &staff_id())
        );
        assert_eq!(event.detail["staff_id"], "staff-7");
        assert_eq!(event.detail["factors"], serde_json::json!(["email_code"]));
        assert_eq!(event.detail["notice"], "queued");
    }

    #[test]
    fn without_a_mailer_the_reset_goes_ahead_and_the_skipped_notice_is_audited() {
        let decision = reset_with(&with_factor(), FIRST, None).unwrap();
        assert!(decision.mail.is_empty());
        assert!(decision.changes.new_tokens.is_empty());
        assert_eq!(decision.changes.audit[0].detail["notice"], "skipped");
    }

    #[test]
    fn an_mfa_reset_of_an_archived_account_is_refused() {
        let archived = Account {
            archived: true,
            ..with_factor()
        };
        assert_eq!(
            reset(&archived).unwrap_err(),
            MfaResetError::AccountArchived
        );
        assert_eq!(
            MfaResetError::AccountArchived.code(),
            ErrorCode::AccountArchived
        );
    }

    #[test]
    fn an_mfa_reset_of_an_account_without_a_factor_is_refused() {
        let err = reset(&accepted()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationFailed);
    }

    #[test]
    fn an_mfa_reset_past_the_staff_rate_requires_human_verification() {
        let over = HumanCheck {
            resets_in_window: 11,
            ..FIRST
        };
        assert_eq!(
            reset_with(&with_factor(), over, Some(notice())).unwrap_err(),
            MfaResetError::HumanVerificationRequired
        );
        let verified = HumanCheck {
            verified_until: Some(now() + time::Duration::minutes(1)),
            ..over
        };
        assert!(reset_with(&with_factor(), verified, Some(notice())).is_ok());
        let archived_and_over = Account {
            archived: true,
            ..with_factor()
        };
        assert_eq!(
            reset_with(&archived_and_over, over, Some(notice())).unwrap_err(),
            MfaResetError::AccountArchived,
            "account refusals come first"
        );
    }
}
