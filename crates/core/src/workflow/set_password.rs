//! Staff sets a client's password by hand (SPEC section 3, "Staff sets a
//! password by hand").
//!
//! The same password policy as everywhere, a confirmation that must match,
//! "must change at next sign-in" (on unless staff turns it off), every
//! session and pending link revoked, and a "your password was changed"
//! notice (never carrying the password) when a mailer exists; without one
//! the notice is skipped and that is reported back. On an account that has
//! not accepted an invitation it activates the account: the invitation
//! becomes accepted and its pending link is revoked, and the client signs
//! in with their email address. Refused for an archived account.
//!
//! The service runs the cheap checks first ([`check_set_password`]), hashes
//! the password only when they pass, and then decides with the hash
//! ([`decide_set_password`]).
//!
//! ```
//! use portal_access_core::workflow::set_password::{check_set_password, SetPasswordError};
//! use portal_access_core::{Account, AccountId, EmailAddress, PasswordPolicy, TenantId};
//! use secrecy::SecretString;
//!
//! let now = time::macros::datetime!(2026-03-01 9:00 UTC);
//! let account = Account::new(AccountId::from_random([1; 16]), TenantId::new("firm").unwrap(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! let policy = PasswordPolicy::default();
//! let ok = check_set_password(&account, &SecretString::from("violet kettle harbour"),
//!     &SecretString::from("violet kettle harbour"), &policy);
//! assert!(ok.is_ok());
//! let mismatch = check_set_password(&account, &SecretString::from("violet kettle harbour"),
//!     &SecretString::from("violet kettle harbor"), &policy);
//! assert!(matches!(mismatch, Err(SetPasswordError::PasswordMismatch)));
//! ```

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use super::attribution::{Attribution, ACCESS_LINK_KINDS};
use super::refusal::{not_found_is, stale_version_is};
use super::{rate_keys, Decision, ErrorCode, MailIntent, Refusal};
use crate::{
    normalize_password, Account, AccountChange, AuditKind, Changes, Invitation, NewPassword,
    PasswordHash, PasswordPolicy, PasswordReason, PasswordRejected, SessionRevocation, TokenRecord,
    TokenRevocation,
};

/// Why staff could not set the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetPasswordError {
    /// No such account in the staff member's tenant (`not_found`).
    #[error("no such portal account")]
    NotFound,
    /// The account changed since the staff member read it (`stale_version`).
    #[error("the account changed since you read it: nothing was changed")]
    StaleVersion,
    /// The account is archived (`account_archived`).
    #[error("the account is archived: unarchive it before setting a password")]
    AccountArchived,
    /// The password fails the policy (`password_rejected`, with reasons).
    #[error(transparent)]
    PasswordRejected(PasswordRejected),
    /// The confirmation differs (`password_mismatch`).
    #[error("the two passwords differ")]
    PasswordMismatch,
}

impl Refusal for SetPasswordError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::StaleVersion => ErrorCode::StaleVersion,
            Self::AccountArchived => ErrorCode::AccountArchived,
            Self::PasswordRejected(_) => ErrorCode::PasswordRejected,
            Self::PasswordMismatch => ErrorCode::PasswordMismatch,
        }
    }

    fn password_reasons(&self) -> Option<&[PasswordReason]> {
        match self {
            Self::PasswordRejected(rejected) => Some(&rejected.reasons),
            Self::NotFound
            | Self::StaleVersion
            | Self::AccountArchived
            | Self::PasswordMismatch => None,
        }
    }
}

not_found_is!(SetPasswordError);
stale_version_is!(SetPasswordError);

/// Whether the client was told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeDelivery {
    /// The "password changed" notice is in the outbox.
    Queued,
    /// No mailer is configured: no notice was sent.
    SkippedNoMailer,
}

/// What setting the password did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SetPasswordOutcome {
    /// Whether the client was notified.
    pub notice: NoticeDelivery,
}

/// Whether two passwords are the same after NFKC, in constant time.
pub fn passwords_match(password: &SecretString, confirmation: &SecretString) -> bool {
    let a = normalize_password(password.expose_secret());
    let b = normalize_password(confirmation.expose_secret());
    a.expose_secret()
        .as_bytes()
        .ct_eq(b.expose_secret().as_bytes())
        .into()
}

/// The cheap checks, before any hashing: archived, the policy (against the
/// account's username and email), then the confirmation.
pub fn check_set_password(
    account: &Account,
    password: &SecretString,
    confirmation: &SecretString,
    policy: &PasswordPolicy,
) -> Result<NewPassword, SetPasswordError> {
    if account.archived {
        return Err(SetPasswordError::AccountArchived);
    }
    let new = policy
        .check(password, account.username.as_ref(), &account.email)
        .map_err(SetPasswordError::PasswordRejected)?;
    if !passwords_match(password, confirmation) {
        return Err(SetPasswordError::PasswordMismatch);
    }
    Ok(new)
}

/// Decides a password set by staff, with the already computed `hash` and
/// the password-changed `notice` (built by the service when a mailer is
/// configured; `None` otherwise). Revokes every session and pending link,
/// clears the sign-in throttle, and activates a not-yet-accepted account.
pub fn decide_set_password(
    account: &Account,
    by: Attribution<'_>,
    now: OffsetDateTime,
    hash: PasswordHash,
    must_change: bool,
    notice: Option<(MailIntent, TokenRecord)>,
) -> Result<Decision<SetPasswordOutcome>, SetPasswordError> {
    if account.archived {
        return Err(SetPasswordError::AccountArchived);
    }
    let activates = !matches!(account.invitation, Invitation::Accepted { .. });
    let updated = Account {
        password_hash: Some(hash),
        must_change_password: must_change,
        invitation: if activates {
            Invitation::Accepted { at: now }
        } else {
            account.invitation
        },
        updated_at: now,
        ..account.clone()
    };
    let delivery = if notice.is_some() {
        NoticeDelivery::Queued
    } else {
        NoticeDelivery::SkippedNoMailer
    };
    let (mail, new_tokens) = match notice {
        Some((intent, record)) => (vec![intent], vec![record]),
        None => (Vec::new(), Vec::new()),
    };
    let changes = Changes {
        account: Some(AccountChange::Update(updated)),
        revoke_tokens: vec![TokenRevocation::of(account, &ACCESS_LINK_KINDS, now)],
        new_tokens,
        revoke_sessions: vec![SessionRevocation::all_of(account, now)],
        revoke_devices: vec![crate::DeviceRevocation::all_of(account, now)],
        clear_rate_prefixes: vec![rate_keys::sign_in_account_prefix(account.id)],
        audit: vec![by.on(
            account,
            AuditKind::PasswordSetByStaff,
            now,
            serde_json::json!({
                "must_change_password": must_change,
                "activated": activates,
                "notice": delivery,
            }),
        )],
        ..Changes::default()
    };
    Ok(Decision {
        changes,
        mail,
        outcome: SetPasswordOutcome { notice: delivery },
    })
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;
    use crate::workflow::attribution::fixtures::*;
    use crate::workflow::MailLink;
    use crate::{MessageKind, TokenKind};

    const GOOD: &str = "violet kettle harbour";

    fn check(
        account: &Account,
        password: &str,
        confirmation: &str,
    ) -> Result<NewPassword, SetPasswordError> {
        check_set_password(
            account,
            &SecretString::from(password),
            &SecretString::from(confirmation),
            &PasswordPolicy::default(),
        )
    }

    fn notice(account: &Account) -> (MailIntent, TokenRecord) {
        let record = TokenRecord {
            hash: token(8).hash(),
            kind: TokenKind::NotMe,
            tenant: account.tenant.clone(),
            account_id: account.id,
            created_at: now(),
            expires_at: now() + Duration::days(7),
            used_at: None,
            revoked_at: None,
            message_id: None,
        };
        let intent = MailIntent {
            kind: MessageKind::PasswordChanged,
            tenant: account.tenant.clone(),
            account_id: Some(account.id),
            to: account.email.as_str().into(),
            to_name: None,
            link: Some(MailLink {
                page: "/not-me",
                token: token(8),
                expires_at: now() + Duration::days(7),
            }),
            secret: None,
            vars: serde_json::json!({ "reason": "staff" }),
            language: None,
        };
        (intent, record)
    }

    fn set(
        account: &Account,
        must_change: bool,
        mailer: bool,
    ) -> Result<Decision<SetPasswordOutcome>, SetPasswordError> {
        decide_set_password(
            account,
            by(),
            now(),
            PasswordHash::new("$argon2id$new"),
            must_change,
            mailer.then(|| notice(account)),
        )
    }

    #[test]
    fn a_password_that_fails_the_policy_is_refused_with_reasons() {
        let err = check(&accepted(), "short", "short").unwrap_err();
        assert_eq!(err.code(), ErrorCode::PasswordRejected);
        assert_eq!(
            err.password_reasons(),
            Some(&[PasswordReason::TooShort { min: 15 }][..])
        );
    }

    #[test]
    fn a_password_equal_to_the_email_address_is_refused() {
        let err = check(
            &accepted(),
            "ann.client@example.com",
            "ann.client@example.com",
        )
        .unwrap_err();
        assert_eq!(
            err.password_reasons(),
            Some(&[PasswordReason::SameAsEmail][..])
        );
    }

    #[test]
    fn a_confirmation_that_differs_is_refused_as_password_mismatch() {
        let err = check(&accepted(), GOOD, "violet kettle harbor").unwrap_err();
        assert_eq!(err.code(), ErrorCode::PasswordMismatch);
    }

    #[test]
    fn a_confirmation_equal_after_nfkc_matches() {
        // "ﬁ" (U+FB01) is "fi" after NFKC.
        assert!(check(&accepted(), "a ﬁne violet kettle", "a fine violet kettle").is_ok());
    }

    #[test]
    fn setting_a_password_on_an_archived_account_is_refused() {
        let archived = Account {
            archived: true,
            ..accepted()
        };
        assert_eq!(
            check(&archived, GOOD, GOOD).unwrap_err().code(),
            ErrorCode::AccountArchived
        );
        assert_eq!(
            set(&archived, true, true).unwrap_err(),
            SetPasswordError::AccountArchived
        );
    }

    #[test]
    fn a_staff_set_password_must_be_changed_at_next_sign_in_when_asked() {
        let decision = set(&accepted(), true, true).unwrap();
        let account = updated(&decision);
        assert!(account.must_change_password);
        assert_eq!(
            account.password_hash,
            Some(PasswordHash::new("$argon2id$new"))
        );
        assert!(!updated(&set(&accepted(), false, true).unwrap()).must_change_password);
    }

    #[test]
    fn setting_a_password_revokes_every_session_and_pending_link() {
        let decision = set(&accepted(), true, true).unwrap();
        assert_locks_out(&decision.changes, &accepted());
        assert_eq!(
            decision.changes.clear_rate_prefixes,
            vec![rate_keys::sign_in_account_prefix(accepted().id)]
        );
    }

    #[test]
    fn the_client_is_notified_with_a_not_me_link_when_a_mailer_exists() {
        let decision = set(&accepted(), true, true).unwrap();
        assert_eq!(decision.outcome.notice, NoticeDelivery::Queued);
        assert_eq!(decision.mail.len(), 1);
        assert_eq!(decision.mail[0].kind, MessageKind::PasswordChanged);
        assert_eq!(decision.changes.new_tokens[0].kind, TokenKind::NotMe);
        let rendered = format!("{:?}", decision.mail[0]);
        assert!(
            !rendered.contains(GOOD),
            "the mail never carries the password"
        );
    }

    #[test]
    fn without_a_mailer_the_password_is_set_and_the_skipped_notice_is_reported() {
        let decision = set(&accepted(), true, false).unwrap();
        assert_eq!(decision.outcome.notice, NoticeDelivery::SkippedNoMailer);
        assert!(decision.mail.is_empty());
        assert!(decision.changes.new_tokens.is_empty());
        assert!(updated(&decision).password_hash.is_some());
    }

    #[test]
    fn setting_a_password_on_a_pending_account_activates_it() {
        let decision = set(&pending(), true, true).unwrap();
        let account = updated(&decision);
        assert_eq!(account.invitation, Invitation::Accepted { at: now() });
        assert!(
            account.username.is_none(),
            "the client may choose one later"
        );
        assert!(decision.changes.revoke_tokens[0]
            .kinds
            .contains(&TokenKind::Invitation));
        assert_eq!(decision.changes.audit[0].detail["activated"], true);
    }

    #[test]
    fn setting_a_password_on_a_never_invited_account_activates_it() {
        let account = updated(&set(&not_invited(), true, false).unwrap());
        assert_eq!(account.invitation, Invitation::Accepted { at: now() });
    }

    #[test]
    fn an_accepted_account_keeps_its_acceptance_time() {
        let account = updated(&set(&accepted(), true, true).unwrap());
        assert_eq!(account.invitation, accepted().invitation);
    }

    #[test]
    fn setting_a_password_is_audited_as_set_by_staff() {
        let decision = set(&accepted(), true, false).unwrap();
        let event = &decision.changes.audit[0];
        assert_eq!(event.kind, AuditKind::PasswordSetByStaff);
        assert_eq!(event.actor, staff());
        assert_eq!(event.detail["notice"], "skipped_no_mailer");
    }
}
