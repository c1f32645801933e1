//! Completing a password reset: token + new password + confirmation.
//!
//! One refusal, `token_invalid`, for every token that cannot be used
//! (unknown, expired, used, superseded, another kind, or an account that is
//! archived or has access disabled — their tokens were revoked anyway), so
//! the answer never says which. On success: the password is set, the token
//! redeemed (single use, enforced by the store), every other reset link and
//! every session revoked, the sign-in throttle of the account cleared,
//! `must_change_password` cleared, a fresh session issued, and the
//! password-changed notice queued.
//!
//! ```
//! use portal_access_core::workflow::complete_reset::{check_reset_token, CompleteResetError};
//! use portal_access_core::{Account, AccountId, EmailAddress, Invitation, RawToken, TenantId, TokenKind, TokenRecord};
//! use time::{macros::datetime, Duration};
//!
//! let now = datetime!(2026-01-01 9:00 UTC);
//! let mut account = Account::new(AccountId::from_random([1; 16]), TenantId::new("firm").unwrap(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! account.invitation = Invitation::Accepted { at: now };
//! let token = TokenRecord { hash: RawToken::from_bytes([2; 32]).hash(), kind: TokenKind::PasswordReset,
//!     tenant: account.tenant.clone(), account_id: account.id, created_at: now,
//!     expires_at: now + Duration::hours(1), used_at: None, revoked_at: None, message_id: None };
//! assert!(check_reset_token(Some(&token), Some(&account), now).is_ok());
//! assert_eq!(check_reset_token(Some(&token), Some(&account), now + Duration::hours(1)),
//!     Err(CompleteResetError::TokenInvalid));
//! ```

use time::OffsetDateTime;

use super::change_password::{from_new_password_error, NewPasswordError, PasswordChange};
use super::{rate_keys, Decision, ErrorCode, Refusal};
use crate::{
    Access, Account, AuditKind, PasswordReason, PasswordRejected, Redemption, TokenKind,
    TokenRecord, TokenState,
};

/// Why a reset was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompleteResetError {
    /// The link cannot be used: expired, used, superseded or unknown
    /// (`token_invalid`; never says which).
    #[error("this link is no longer valid; ask for a new one")]
    TokenInvalid,
    /// Password and confirmation differ (`password_mismatch`).
    #[error("the password and its confirmation differ")]
    PasswordMismatch,
    /// The password fails the policy (`password_rejected`).
    #[error(transparent)]
    PasswordRejected(PasswordRejected),
}

from_new_password_error!(CompleteResetError);

impl Refusal for CompleteResetError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::TokenInvalid => ErrorCode::TokenInvalid,
            Self::PasswordMismatch => ErrorCode::PasswordMismatch,
            Self::PasswordRejected(_) => ErrorCode::PasswordRejected,
        }
    }

    fn password_reasons(&self) -> Option<&[PasswordReason]> {
        match self {
            Self::PasswordRejected(r) => Some(&r.reasons),
            Self::TokenInvalid | Self::PasswordMismatch => None,
        }
    }
}

/// Whether the loaded reset token (and its account) can be used at `now`.
pub fn check_reset_token(
    token: Option<&TokenRecord>,
    account: Option<&Account>,
    now: OffsetDateTime,
) -> Result<(), CompleteResetError> {
    let (Some(token), Some(account)) = (token, account) else {
        return Err(CompleteResetError::TokenInvalid);
    };
    let usable = token.kind == TokenKind::PasswordReset
        && token.state(now) == TokenState::Valid
        && token.account_id == account.id
        && token.tenant == account.tenant
        && !account.archived
        && account.access == Access::Enabled;
    usable.then_some(()).ok_or(CompleteResetError::TokenInvalid)
}

/// What [`decide_complete_reset`] needs, loaded and computed by the service.
#[derive(Debug)]
pub struct CompleteResetInput<'a> {
    /// The token as loaded.
    pub token: &'a TokenRecord,
    /// Its account as loaded (the version guards the update).
    pub account: &'a Account,
    /// The new password, its session and notice.
    pub change: PasswordChange<'a>,
}

/// Completes the reset. Checks the token again (the state may have been
/// reloaded after a conflict). Returns the account as committed.
pub fn decide_complete_reset(
    input: CompleteResetInput<'_>,
    now: OffsetDateTime,
) -> Result<Decision<Account>, CompleteResetError> {
    let CompleteResetInput {
        token,
        account,
        change,
    } = input;
    check_reset_token(Some(token), Some(account), now)?;
    // The client is signed in by the reset.
    let signed_in = Account {
        last_sign_in_at: Some(now),
        ..account.clone()
    };
    let mut decision = change.decide(&signed_in, AuditKind::PasswordReset, now);
    decision.changes.redeem = Some(Redemption::of(token.hash, TokenKind::PasswordReset, now));
    decision.changes.clear_rate_prefixes = vec![rate_keys::sign_in_account_prefix(account.id)];
    Ok(decision)
}

#[cfg(test)]
mod tests {
    use super::super::session::test_support::*;
    use super::super::session::{issue, revoke_all};
    use super::*;
    use crate::workflow::MailIntent;
    use crate::{AccountChange, MessageKind, PasswordHash, TokenRevocation};
    use time::Duration;

    fn notice(account: &Account) -> (MailIntent, TokenRecord) {
        password_changed_notice(account, "reset", 41)
    }

    fn decide(
        token: &TokenRecord,
        account: &Account,
    ) -> Result<Decision<Account>, CompleteResetError> {
        decide_complete_reset(
            CompleteResetInput {
                token,
                account,
                change: PasswordChange {
                    new_hash: PasswordHash::new("$argon2id$new"),
                    new_session: issue(
                        account,
                        token_hash_of_session(),
                        &ctx(),
                        now(),
                        Duration::days(30),
                    ),
                    notice: notice(account),
                    ctx: &ctx(),
                    event_id: event_id(2),
                },
            },
            now(),
        )
    }

    fn token_hash_of_session() -> crate::TokenHash {
        token(77).hash()
    }

    #[test]
    fn a_valid_reset_token_of_an_accepted_enabled_account_is_usable() {
        let account = accepted_account();
        let token = token_record(&account, TokenKind::PasswordReset, 1);
        assert_eq!(
            check_reset_token(Some(&token), Some(&account), now()),
            Ok(())
        );
    }

    #[test]
    fn expired_reset_token_is_refused_as_token_invalid() {
        let account = accepted_account();
        let token = token_record(&account, TokenKind::PasswordReset, 1);
        assert_eq!(
            check_reset_token(Some(&token), Some(&account), token.expires_at),
            Err(CompleteResetError::TokenInvalid)
        );
    }

    #[test]
    fn used_reset_token_is_refused_as_token_invalid() {
        let account = accepted_account();
        let mut token = token_record(&account, TokenKind::PasswordReset, 1);
        token.used_at = Some(now() - Duration::minutes(1));
        assert_eq!(
            check_reset_token(Some(&token), Some(&account), now()),
            Err(CompleteResetError::TokenInvalid)
        );
    }

    #[test]
    fn superseded_reset_token_is_refused_as_token_invalid() {
        let account = accepted_account();
        let mut token = token_record(&account, TokenKind::PasswordReset, 1);
        token.revoked_at = Some(now() - Duration::minutes(1));
        assert_eq!(
            check_reset_token(Some(&token), Some(&account), now()),
            Err(CompleteResetError::TokenInvalid)
        );
    }

    #[test]
    fn unknown_reset_token_is_refused_as_token_invalid() {
        let account = accepted_account();
        assert_eq!(
            check_reset_token(None, Some(&account), now()),
            Err(CompleteResetError::TokenInvalid)
        );
    }

    #[test]
    fn an_invitation_token_is_not_a_reset_token() {
        let account = accepted_account();
        let token = token_record(&account, TokenKind::Invitation, 1);
        assert_eq!(
            check_reset_token(Some(&token), Some(&account), now()),
            Err(CompleteResetError::TokenInvalid)
        );
    }

    #[test]
    fn reset_token_of_an_archived_or_disabled_account_is_refused_as_token_invalid() {
        for account in archived_or_disabled(accepted_account()) {
            let token = token_record(&account, TokenKind::PasswordReset, 1);
            let refused = decide(&token, &account).unwrap_err();
            assert_eq!(refused, CompleteResetError::TokenInvalid, "{account:?}");
        }
    }

    #[test]
    fn completing_a_reset_sets_the_password_redeems_the_token_and_signs_the_client_in() {
        let mut account = accepted_account();
        account.must_change_password = true;
        let token = token_record(&account, TokenKind::PasswordReset, 1);
        let decision = decide(&token, &account).unwrap();
        let c = &decision.changes;
        assert_eq!(
            c.redeem,
            Some(Redemption::of(token.hash, TokenKind::PasswordReset, now()))
        );
        let Some(AccountChange::Update(updated)) = &c.account else {
            panic!("expected an update")
        };
        assert_eq!(
            updated.password_hash.as_ref().map(|h| h.as_str()),
            Some("$argon2id$new")
        );
        assert!(!updated.must_change_password);
        assert_eq!(updated.last_sign_in_at, Some(now()));
        assert_eq!(
            c.new_session.as_ref().map(|s| s.account_id),
            Some(account.id)
        );
        assert_eq!(c.audit[0].kind, AuditKind::PasswordReset);
        assert_eq!(decision.mail[0].kind, MessageKind::PasswordChanged);
        assert_eq!(c.new_tokens[0].kind, TokenKind::NotMe);
    }

    #[test]
    fn completing_a_reset_revokes_every_other_reset_link_and_every_session() {
        let account = accepted_account();
        let token = token_record(&account, TokenKind::PasswordReset, 1);
        let decision = decide(&token, &account).unwrap();
        assert_eq!(
            decision.changes.revoke_tokens,
            vec![TokenRevocation::of(
                &account,
                &[TokenKind::PasswordReset],
                now()
            )]
        );
        assert_eq!(
            decision.changes.revoke_sessions,
            vec![revoke_all(&account, now())]
        );
        assert_eq!(
            decision.changes.revoke_devices,
            vec![crate::DeviceRevocation::all_of(&account, now())]
        );
    }

    #[test]
    fn a_successful_reset_clears_the_sign_in_throttle_of_the_account() {
        let account = accepted_account();
        let token = token_record(&account, TokenKind::PasswordReset, 1);
        let decision = decide(&token, &account).unwrap();
        let prefix = rate_keys::sign_in_account_prefix(account.id);
        assert_eq!(decision.changes.clear_rate_prefixes, vec![prefix.clone()]);
        assert!(rate_keys::sign_in_account_ip(account.id, ctx().ip).starts_with(&prefix));
        assert!(rate_keys::sign_in_account(account.id).starts_with(&prefix));
    }
}
