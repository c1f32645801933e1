//! Accepting an invitation: token + chosen username + password (+ confirmation).
//!
//! The account becomes `Accepted`, takes the username (unique per tenant,
//! enforced by the store's index: `username_taken`) and the password, and
//! the client is signed in. Expired, used, superseded or unknown tokens,
//! and tokens of an archived or disabled account, are one refusal:
//! `token_invalid`.
//!
//! ```
//! use portal_access_core::workflow::accept_invitation::{check_invitation_token, parse_username, AcceptInvitationError};
//! use portal_access_core::{Account, AccountId, EmailAddress, Invitation, RawToken, TenantId, TokenKind, TokenRecord};
//! use time::{macros::datetime, Duration};
//!
//! let now = datetime!(2026-01-01 9:00 UTC);
//! let mut account = Account::new(AccountId::from_random([1; 16]), TenantId::new("firm").unwrap(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! account.invitation = Invitation::Pending { sent_at: now, expires_at: now + Duration::days(7) };
//! let token = TokenRecord { hash: RawToken::from_bytes([2; 32]).hash(), kind: TokenKind::Invitation,
//!     tenant: account.tenant.clone(), account_id: account.id, created_at: now,
//!     expires_at: now + Duration::days(7), used_at: None, revoked_at: None, message_id: None };
//! assert!(check_invitation_token(Some(&token), Some(&account), now).is_ok());
//! assert!(matches!(parse_username("a@b"), Err(AcceptInvitationError::UsernameInvalid(_))));
//! ```

use time::OffsetDateTime;

use super::change_password::{from_new_password_error, NewPasswordError};
use super::changes::client_event;
use super::{Decision, ErrorCode, Refusal};
use crate::{
    Access, Account, AccountChange, AuditKind, Changes, EventId, InvalidUsername, Invitation,
    PasswordHash, PasswordReason, PasswordRejected, Redemption, RequestContext, SessionRecord,
    TokenKind, TokenRecord, TokenRevocation, TokenState, Username,
};

/// Why accepting an invitation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcceptInvitationError {
    /// The link cannot be used (`token_invalid`; never says why).
    #[error("this invitation link is no longer valid")]
    TokenInvalid,
    /// The username breaks the rules (`username_invalid`).
    #[error(transparent)]
    UsernameInvalid(InvalidUsername),
    /// Another account of the tenant has it (`username_taken`).
    #[error("this username is taken; choose another")]
    UsernameTaken,
    /// Password and confirmation differ (`password_mismatch`).
    #[error("the password and its confirmation differ")]
    PasswordMismatch,
    /// The password fails the policy (`password_rejected`).
    #[error(transparent)]
    PasswordRejected(PasswordRejected),
}

from_new_password_error!(AcceptInvitationError);

impl Refusal for AcceptInvitationError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::TokenInvalid => ErrorCode::TokenInvalid,
            Self::UsernameInvalid(_) => ErrorCode::UsernameInvalid,
            Self::UsernameTaken => ErrorCode::UsernameTaken,
            Self::PasswordMismatch => ErrorCode::PasswordMismatch,
            Self::PasswordRejected(_) => ErrorCode::PasswordRejected,
        }
    }

    fn password_reasons(&self) -> Option<&[PasswordReason]> {
        match self {
            Self::PasswordRejected(r) => Some(&r.reasons),
            Self::TokenInvalid
            | Self::UsernameInvalid(_)
            | Self::UsernameTaken
            | Self::PasswordMismatch => None,
        }
    }

    fn message_key(&self) -> &'static str {
        match self {
            Self::UsernameInvalid(invalid) => invalid.message_key(),
            Self::TokenInvalid
            | Self::UsernameTaken
            | Self::PasswordMismatch
            | Self::PasswordRejected(_) => self.code().as_str(),
        }
    }
}

/// Parses the chosen username (`username_invalid`).
pub fn parse_username(input: &str) -> Result<Username, AcceptInvitationError> {
    Username::parse(input).map_err(AcceptInvitationError::UsernameInvalid)
}

/// Whether the loaded invitation token (and its account) can be used at `now`.
pub fn check_invitation_token(
    token: Option<&TokenRecord>,
    account: Option<&Account>,
    now: OffsetDateTime,
) -> Result<(), AcceptInvitationError> {
    let (Some(token), Some(account)) = (token, account) else {
        return Err(AcceptInvitationError::TokenInvalid);
    };
    let usable = token.kind == TokenKind::Invitation
        && token.state(now) == TokenState::Valid
        && token.account_id == account.id
        && token.tenant == account.tenant
        && matches!(account.invitation, Invitation::Pending { .. })
        && !account.archived
        && account.access == Access::Enabled;
    usable
        .then_some(())
        .ok_or(AcceptInvitationError::TokenInvalid)
}

/// What [`decide_accept_invitation`] needs, loaded and computed by the service.
#[derive(Debug)]
pub struct AcceptInvitationInput<'a> {
    /// The token as loaded.
    pub token: &'a TokenRecord,
    /// Its account as loaded.
    pub account: &'a Account,
    /// The chosen username.
    pub username: Username,
    /// The password's hash (computed after every cheap check passed).
    pub password_hash: PasswordHash,
    /// The new session.
    pub new_session: SessionRecord,
    /// The request.
    pub ctx: &'a RequestContext,
    /// The audit event's id.
    pub event_id: EventId,
}

/// Accepts the invitation and signs the client in. Returns the account as
/// committed.
pub fn decide_accept_invitation(
    input: AcceptInvitationInput<'_>,
    now: OffsetDateTime,
) -> Result<Decision<Account>, AcceptInvitationError> {
    let AcceptInvitationInput {
        token,
        account,
        username,
        password_hash,
        new_session,
        ctx,
        event_id,
    } = input;
    check_invitation_token(Some(token), Some(account), now)?;
    let mut updated = account.clone();
    updated.username = Some(username.clone());
    updated.password_hash = Some(password_hash);
    updated.invitation = Invitation::Accepted { at: now };
    updated.must_change_password = false;
    updated.last_sign_in_at = Some(now);
    updated.updated_at = now;
    let changes = Changes {
        redeem: Some(Redemption::of(token.hash, TokenKind::Invitation, now)),
        account: Some(AccountChange::Update(updated.clone())),
        revoke_tokens: vec![TokenRevocation::of(account, &[TokenKind::Invitation], now)],
        new_session: Some(new_session),
        audit: vec![
            client_event(account, AuditKind::InvitationAccepted, ctx, event_id, now)
                .with_detail(serde_json::json!({ "username": username.as_str() })),
        ],
        ..Changes::default()
    };
    updated.version += 1;
    Ok(Decision::new(changes, updated))
}

#[cfg(test)]
mod tests {
    use super::super::session::issue;
    use super::super::session::test_support::*;
    use super::*;
    use time::Duration;

    fn decide(
        token: &TokenRecord,
        account: &Account,
    ) -> Result<Decision<Account>, AcceptInvitationError> {
        decide_accept_invitation(
            AcceptInvitationInput {
                token,
                account,
                username: Username::parse("Ann.C").unwrap(),
                password_hash: PasswordHash::new("$argon2id$new"),
                new_session: issue(
                    account,
                    crate::RawToken::from_bytes([8; 32]).hash(),
                    &ctx(),
                    now(),
                    Duration::days(30),
                ),
                ctx: &ctx(),
                event_id: event_id(3),
            },
            now(),
        )
    }

    #[test]
    fn accepting_sets_username_password_and_accepted_state_and_signs_in() {
        let account = pending_account();
        let token = token_record(&account, TokenKind::Invitation, 1);
        let decision = decide(&token, &account).unwrap();
        let c = &decision.changes;
        let Some(AccountChange::Update(updated)) = &c.account else {
            panic!("expected an update")
        };
        assert_eq!(updated.invitation, Invitation::Accepted { at: now() });
        assert_eq!(updated.username.as_ref().map(|u| u.as_str()), Some("Ann.C"));
        assert!(updated.password_hash.is_some());
        assert_eq!(
            c.redeem,
            Some(Redemption::of(token.hash, TokenKind::Invitation, now()))
        );
        assert!(c.new_session.is_some());
        assert_eq!(c.revoke_tokens[0].kinds, vec![TokenKind::Invitation]);
        assert_eq!(c.audit[0].kind, AuditKind::InvitationAccepted);
        assert_eq!(decision.outcome.version, account.version + 1);
    }

    #[test]
    fn expired_invitation_token_is_refused_as_token_invalid() {
        let account = pending_account();
        let token = token_record(&account, TokenKind::Invitation, 1);
        assert_eq!(
            check_invitation_token(
                Some(&token),
                Some(&account),
                token.expires_at + Duration::seconds(1)
            ),
            Err(AcceptInvitationError::TokenInvalid)
        );
    }

    #[test]
    fn used_superseded_or_unknown_invitation_token_is_refused_as_token_invalid() {
        let account = pending_account();
        let mut used = token_record(&account, TokenKind::Invitation, 1);
        used.used_at = Some(now());
        let mut superseded = token_record(&account, TokenKind::Invitation, 2);
        superseded.revoked_at = Some(now());
        for token in [Some(&used), Some(&superseded), None] {
            assert_eq!(
                check_invitation_token(token, Some(&account), now()),
                Err(AcceptInvitationError::TokenInvalid)
            );
        }
    }

    #[test]
    fn an_already_accepted_account_cannot_accept_again() {
        let account = accepted_account();
        let token = token_record(&account, TokenKind::Invitation, 1);
        assert_eq!(
            decide(&token, &account).unwrap_err(),
            AcceptInvitationError::TokenInvalid
        );
    }

    #[test]
    fn invitation_of_an_archived_or_disabled_account_is_refused_as_token_invalid() {
        for account in archived_or_disabled(pending_account()) {
            let token = token_record(&account, TokenKind::Invitation, 1);
            let refused = decide(&token, &account).unwrap_err();
            assert_eq!(refused, AcceptInvitationError::TokenInvalid, "{account:?}");
        }
    }

    #[test]
    fn a_reset_token_cannot_accept_an_invitation() {
        let account = pending_account();
        let token = token_record(&account, TokenKind::PasswordReset, 1);
        assert_eq!(
            check_invitation_token(Some(&token), Some(&account), now()),
            Err(AcceptInvitationError::TokenInvalid)
        );
    }

    #[test]
    fn a_username_with_an_at_sign_or_too_short_is_refused_as_username_invalid() {
        for bad in ["ann@firm", "an", "ann client", &"a".repeat(33)] {
            let err = parse_username(bad).unwrap_err();
            assert_eq!(err.code(), ErrorCode::UsernameInvalid, "{bad}");
        }
        assert!(parse_username("  Ann.C ").is_ok());
    }

    #[test]
    fn username_taken_has_its_own_code() {
        assert_eq!(
            AcceptInvitationError::UsernameTaken.code(),
            ErrorCode::UsernameTaken
        );
    }
}
