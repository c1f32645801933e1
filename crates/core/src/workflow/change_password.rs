//! The signed-in client changes their own password.
//!
//! The current password is verified first (by the service, on the hashing
//! pool); the new one passes the policy (with the account's username and
//! email) and matches its confirmation. Then every session is revoked
//! (this one included) and a new one issued, pending reset links are
//! revoked, `must_change_password` is cleared, and the password-changed
//! notice (with its "this wasn't me" link) is queued.
//!
//! [`check_new_password`] is the cheap check every "choose a password" form
//! shares (reset, invitation, change): run it before any hashing.
//!
//! ```
//! use portal_access_core::workflow::change_password::{check_new_password, NewPasswordError};
//! use portal_access_core::{EmailAddress, PasswordPolicy};
//! use secrecy::SecretString;
//!
//! let email = EmailAddress::parse("ann@example.com").unwrap();
//! let policy = PasswordPolicy::default();
//! let ok = check_new_password(&policy, &SecretString::from("correct horse battery staple"),
//!     &SecretString::from("correct horse battery staple"), None, &email);
//! assert!(ok.is_ok());
//! let mismatch = check_new_password(&policy, &SecretString::from("correct horse battery staple"),
//!     &SecretString::from("correct horse battery stapler"), None, &email);
//! assert!(matches!(mismatch, Err(NewPasswordError::Mismatch)));
//! ```

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use super::changes::client_event;
use super::{Decision, ErrorCode, MailIntent, Refusal};
use crate::{
    normalize_password, Account, AccountChange, AuditKind, Changes, DeviceRevocation, EmailAddress,
    EventId, NewPassword, PasswordHash, PasswordPolicy, PasswordReason, PasswordRejected,
    RequestContext, SessionRecord, SessionRevocation, TokenKind, TokenRecord, TokenRevocation,
    Username,
};

/// Why a chosen password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NewPasswordError {
    /// The password and its confirmation differ (`password_mismatch`).
    #[error("the password and its confirmation differ")]
    Mismatch,
    /// The password fails the policy (`password_rejected`).
    #[error(transparent)]
    Rejected(PasswordRejected),
}

/// `impl From<NewPasswordError>` for a workflow's refusal enum that has a
/// `PasswordMismatch` and a `PasswordRejected(PasswordRejected)` variant, so
/// `check_new_password(..)?` works in that workflow.
macro_rules! from_new_password_error {
    ($refusal:ty) => {
        impl From<NewPasswordError> for $refusal {
            fn from(error: NewPasswordError) -> Self {
                match error {
                    NewPasswordError::Mismatch => Self::PasswordMismatch,
                    NewPasswordError::Rejected(rejected) => Self::PasswordRejected(rejected),
                }
            }
        }
    };
}
pub(crate) use from_new_password_error;

impl Refusal for NewPasswordError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Mismatch => ErrorCode::PasswordMismatch,
            Self::Rejected(_) => ErrorCode::PasswordRejected,
        }
    }

    fn password_reasons(&self) -> Option<&[PasswordReason]> {
        match self {
            Self::Rejected(r) => Some(&r.reasons),
            Self::Mismatch => None,
        }
    }
}

/// Checks a chosen password and its confirmation: the policy first (which
/// bounds the input), then the confirmation, compared in constant time
/// after NFKC. Returns the normalized password, ready for the hasher.
pub fn check_new_password(
    policy: &PasswordPolicy,
    password: &SecretString,
    confirmation: &SecretString,
    username: Option<&Username>,
    email: &EmailAddress,
) -> Result<NewPassword, NewPasswordError> {
    let checked = policy
        .check(password, username, email)
        .map_err(NewPasswordError::Rejected)?;
    // A confirmation longer than any accepted password cannot match; do not
    // normalize absurd input.
    if confirmation.expose_secret().len() > policy.max_chars() * 4 * 18 {
        return Err(NewPasswordError::Mismatch);
    }
    let confirmation = normalize_password(confirmation.expose_secret());
    let same: bool = checked
        .expose()
        .as_bytes()
        .ct_eq(confirmation.expose_secret().as_bytes())
        .into();
    if same {
        Ok(checked)
    } else {
        Err(NewPasswordError::Mismatch)
    }
}

/// Why a password change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangePasswordError {
    /// The current password is wrong (`invalid_credentials`).
    #[error("the current password is wrong")]
    InvalidCredentials,
    /// New password and confirmation differ (`password_mismatch`).
    #[error("the password and its confirmation differ")]
    PasswordMismatch,
    /// The new password fails the policy (`password_rejected`).
    #[error(transparent)]
    PasswordRejected(PasswordRejected),
    /// Too many wrong current passwords from here (`rate_limited`).
    #[error("too many attempts; try again later")]
    RateLimited,
}

from_new_password_error!(ChangePasswordError);

impl Refusal for ChangePasswordError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::PasswordMismatch => ErrorCode::PasswordMismatch,
            Self::PasswordRejected(_) => ErrorCode::PasswordRejected,
            Self::RateLimited => ErrorCode::RateLimited,
        }
    }

    fn password_reasons(&self) -> Option<&[PasswordReason]> {
        match self {
            Self::PasswordRejected(r) => Some(&r.reasons),
            Self::InvalidCredentials | Self::PasswordMismatch | Self::RateLimited => None,
        }
    }

    fn message_key(&self) -> &'static str {
        match self {
            Self::InvalidCredentials => super::refusal::CURRENT_PASSWORD_WRONG,
            Self::PasswordMismatch | Self::PasswordRejected(_) | Self::RateLimited => {
                self.code().as_str()
            }
        }
    }
}

/// The current password's verification: refuses a wrong one (and an
/// account without a password) before the new password is hashed.
pub fn check_current_password(matches: bool) -> Result<(), ChangePasswordError> {
    matches
        .then_some(())
        .ok_or(ChangePasswordError::InvalidCredentials)
}

/// A client's new password as the service prepared it: what completing a
/// reset and a change by the signed-in client share.
#[derive(Debug)]
pub struct PasswordChange<'a> {
    /// The new password's hash (computed after every check passed).
    pub new_hash: PasswordHash,
    /// The new session (see [`session::issue`](super::session::issue)).
    pub new_session: SessionRecord,
    /// The password-changed notice and its "this wasn't me" token.
    pub notice: (MailIntent, TokenRecord),
    /// The request.
    pub ctx: &'a RequestContext,
    /// The audit event's id.
    pub event_id: EventId,
}

impl PasswordChange<'_> {
    /// Sets the password of `account` (as loaded), clears
    /// `must_change_password`, revokes every session and pending reset
    /// link, issues the new session and the "this wasn't me" token, queues
    /// the notice and records `kind`. The outcome is the account as
    /// committed.
    pub(crate) fn decide(
        self,
        account: &Account,
        kind: AuditKind,
        now: OffsetDateTime,
    ) -> Decision<Account> {
        let (intent, not_me) = self.notice;
        let mut updated = account.clone();
        updated.password_hash = Some(self.new_hash);
        updated.must_change_password = false;
        updated.updated_at = now;
        let changes = Changes {
            account: Some(AccountChange::Update(updated.clone())),
            revoke_tokens: vec![TokenRevocation::of(
                account,
                &[TokenKind::PasswordReset],
                now,
            )],
            new_tokens: vec![not_me],
            revoke_sessions: vec![SessionRevocation::all_of(account, now)],
            new_session: Some(self.new_session),
            revoke_devices: vec![DeviceRevocation::all_of(account, now)],
            audit: vec![client_event(account, kind, self.ctx, self.event_id, now)],
            ..Changes::default()
        };
        updated.version += 1;
        Decision {
            changes,
            mail: vec![intent],
            outcome: updated,
        }
    }
}

/// What [`decide_change_password`] needs, loaded and computed by the service.
#[derive(Debug)]
pub struct ChangePasswordInput<'a> {
    /// The account, as loaded (its version guards the update).
    pub account: &'a Account,
    /// The new password, its session and notice.
    pub change: PasswordChange<'a>,
}

/// Sets the new password, revokes every session and pending reset link,
/// issues the new session, queues the notice. Returns the updated account.
pub fn decide_change_password(
    input: ChangePasswordInput<'_>,
    now: OffsetDateTime,
) -> Result<Decision<Account>, ChangePasswordError> {
    Ok(input
        .change
        .decide(input.account, AuditKind::PasswordChanged, now))
}

#[cfg(test)]
mod tests {
    use super::super::session::test_support::*;
    use super::super::session::{issue, revoke_all};
    use super::*;
    use crate::{AccountChange, MessageKind};

    fn policy() -> PasswordPolicy {
        PasswordPolicy::default()
    }

    fn secret(s: &str) -> SecretString {
        SecretString::from(s)
    }

    /// Checks `password` (and its confirmation) as `account`'s new one.
    fn check_for(
        account: &Account,
        password: &str,
        confirmation: &str,
    ) -> Result<NewPassword, NewPasswordError> {
        let (username, email) = (account.username.as_ref(), &account.email);
        check_new_password(
            &policy(),
            &secret(password),
            &secret(confirmation),
            username,
            email,
        )
    }

    fn notice(account: &Account) -> (MailIntent, TokenRecord) {
        password_changed_notice(account, "self", 40)
    }

    #[test]
    fn a_confirmation_that_differs_is_refused_as_password_mismatch() {
        let account = accepted_account();
        let err = check_for(
            &account,
            "correct horse battery staple",
            "correct horse battery stable",
        )
        .unwrap_err();
        assert_eq!(err, NewPasswordError::Mismatch);
        assert_eq!(
            ChangePasswordError::from(err).code(),
            ErrorCode::PasswordMismatch
        );
    }

    #[test]
    fn a_confirmation_equal_after_nfkc_matches() {
        let account = accepted_account();
        // "ﬁ" (U+FB01) is "fi" under NFKC.
        assert!(check_new_password(
            &policy(),
            &secret("ﬁsh and chips forever"),
            &secret("fish and chips forever"),
            None,
            &account.email,
        )
        .is_ok());
    }

    #[test]
    fn a_short_password_is_refused_with_its_reasons() {
        let account = accepted_account();
        let err: ChangePasswordError = check_new_password(
            &policy(),
            &secret("short"),
            &secret("short"),
            None,
            &account.email,
        )
        .unwrap_err()
        .into();
        assert_eq!(err.code(), ErrorCode::PasswordRejected);
        assert!(err
            .password_reasons()
            .unwrap()
            .contains(&PasswordReason::TooShort { min: 15 }));
    }

    #[test]
    fn a_password_equal_to_the_username_is_refused() {
        let mut account = accepted_account();
        account.username = Some(Username::parse("ann.client.of.the.firm").unwrap());
        let err =
            check_for(&account, "Ann.Client.Of.The.Firm", "Ann.Client.Of.The.Firm").unwrap_err();
        assert_eq!(
            err,
            NewPasswordError::Rejected(PasswordRejected {
                reasons: vec![PasswordReason::SameAsUsername]
            })
        );
    }

    #[test]
    fn a_wrong_current_password_is_refused_as_invalid_credentials() {
        assert_eq!(
            check_current_password(false),
            Err(ChangePasswordError::InvalidCredentials)
        );
        assert_eq!(check_current_password(true), Ok(()));
    }

    #[test]
    fn changing_the_password_revokes_every_session_and_issues_a_new_one() {
        let mut account = accepted_account();
        account.must_change_password = true;
        let session = issue(
            &account,
            token(5).hash(),
            &ctx(),
            now(),
            time::Duration::days(30),
        );
        let decision = decide_change_password(
            ChangePasswordInput {
                account: &account,
                change: PasswordChange {
                    new_hash: PasswordHash::new("$argon2id$new"),
                    new_session: session.clone(),
                    notice: notice(&account),
                    ctx: &ctx(),
                    event_id: event_id(1),
                },
            },
            now(),
        )
        .unwrap();
        let c = &decision.changes;
        assert_eq!(c.revoke_sessions, vec![revoke_all(&account, now())]);
        assert_eq!(
            c.revoke_devices,
            vec![crate::DeviceRevocation::all_of(&account, now())]
        );
        assert_eq!(c.new_session, Some(session));
        let Some(AccountChange::Update(updated)) = &c.account else {
            panic!("expected an update")
        };
        assert_eq!(
            updated.version, account.version,
            "guarded by the read version"
        );
        assert_eq!(
            updated.password_hash.as_ref().map(|h| h.as_str()),
            Some("$argon2id$new")
        );
        assert!(!updated.must_change_password);
        assert_eq!(c.revoke_tokens[0].kinds, vec![TokenKind::PasswordReset]);
        assert_eq!(c.new_tokens[0].kind, TokenKind::NotMe);
        assert_eq!(c.audit[0].kind, AuditKind::PasswordChanged);
        assert_eq!(decision.mail[0].kind, MessageKind::PasswordChanged);
        assert_eq!(decision.outcome.version, account.version + 1);
    }
}
