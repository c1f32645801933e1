//! "This wasn't me" (SPEC.md section 6): the single-use link in every
//! password-changed notice, confirmed by POST.
//!
//! It revokes every session, clears the password (a reset is then needed:
//! the client uses forgot-password), revokes pending reset links, records
//! `AccountSecured`, and queues an `account_secured` notice to the
//! configured staff address; the service then publishes
//! `PortalEvent::AccountSecured` for the host. Unknown, used, expired or
//! superseded links: `token_invalid`.
//!
//! ```
//! use portal_access_core::workflow::not_me::{decide_secure_account, SecureAccountInput, SecureAccountError};
//! use portal_access_core::{Account, AccountId, EmailAddress, EventId, RawToken, RequestContext, TenantId};
//! use time::macros::datetime;
//!
//! let now = datetime!(2026-01-01 9:00 UTC);
//! let account = Account::new(AccountId::from_random([1; 16]), TenantId::new("firm").unwrap(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! let refused = decide_secure_account(SecureAccountInput {
//!     token: None, account: Some(&account), staff_notice_address: None,
//!     ctx: &RequestContext::default(), event_id: EventId::from_random([2; 16]),
//! }, now);
//! assert!(matches!(refused, Err(SecureAccountError::TokenInvalid)));
//! ```

use time::OffsetDateTime;

use super::changes::client_event;
use super::{Decision, ErrorCode, MailIntent, Refusal};
use crate::{
    Account, AccountChange, AuditKind, Changes, EventId, MessageKind, Redemption, RequestContext,
    TokenKind, TokenRecord, TokenRevocation, TokenState,
};

/// Why "this wasn't me" was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecureAccountError {
    /// The link cannot be used (`token_invalid`; never says why).
    #[error("this link is no longer valid")]
    TokenInvalid,
}

impl Refusal for SecureAccountError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::TokenInvalid => ErrorCode::TokenInvalid,
        }
    }
}

/// What [`decide_secure_account`] needs.
#[derive(Debug)]
pub struct SecureAccountInput<'a> {
    /// The link's token as loaded.
    pub token: Option<&'a TokenRecord>,
    /// Its account as loaded.
    pub account: Option<&'a Account>,
    /// Where staff notices go (`config.staff_notice_address`).
    pub staff_notice_address: Option<&'a str>,
    /// The request.
    pub ctx: &'a RequestContext,
    /// The audit event's id.
    pub event_id: EventId,
}

/// Secures the account. Returns the account as committed.
pub fn decide_secure_account(
    input: SecureAccountInput<'_>,
    now: OffsetDateTime,
) -> Result<Decision<Account>, SecureAccountError> {
    let (Some(token), Some(account)) = (input.token, input.account) else {
        return Err(SecureAccountError::TokenInvalid);
    };
    if token.kind != TokenKind::NotMe
        || token.state(now) != TokenState::Valid
        || token.account_id != account.id
        || token.tenant != account.tenant
    {
        return Err(SecureAccountError::TokenInvalid);
    }
    let mut updated = account.clone();
    updated.password_hash = None;
    updated.must_change_password = false;
    updated.updated_at = now;
    let changes = Changes {
        redeem: Some(Redemption::of(token.hash, TokenKind::NotMe, now)),
        account: Some(AccountChange::Update(updated.clone())),
        revoke_tokens: vec![TokenRevocation::of(
            account,
            &[TokenKind::PasswordReset],
            now,
        )],
        revoke_sessions: vec![super::session::revoke_all(account, now)],
        revoke_devices: vec![crate::DeviceRevocation::all_of(account, now)],
        audit: vec![client_event(
            account,
            AuditKind::AccountSecured,
            input.ctx,
            input.event_id,
            now,
        )],
        ..Changes::default()
    };
    let mail = input
        .staff_notice_address
        .map(|to| MailIntent {
            kind: MessageKind::AccountSecured,
            tenant: account.tenant.clone(),
            account_id: Some(account.id),
            to: to.to_owned(),
            to_name: None,
            link: None,
            secret: None,
            vars: serde_json::json!({
                "account_email": account.email.as_str(),
                "account_id": account.id.to_string(),
                "secured_at": crate::mail::mail_time(now),
                "ip": input.ctx.ip.map(|ip| ip.to_string()),
            }),
            // To the firm's staff: the firm's default language.
            language: None,
        })
        .into_iter()
        .collect();
    updated.version += 1;
    Ok(Decision {
        changes,
        mail,
        outcome: updated,
    })
}

#[cfg(test)]
mod tests {
    use super::super::session::revoke_all;
    use super::super::session::test_support::*;
    use super::*;
    use time::Duration;

    fn decide(
        token: Option<&TokenRecord>,
        account: &Account,
        staff: Option<&str>,
    ) -> Result<Decision<Account>, SecureAccountError> {
        decide_secure_account(
            SecureAccountInput {
                token,
                account: Some(account),
                staff_notice_address: staff,
                ctx: &ctx(),
                event_id: event_id(9),
            },
            now(),
        )
    }

    #[test]
    fn this_wasnt_me_revokes_sessions_clears_the_password_and_reset_links() {
        let account = accepted_account();
        let token = token_record(&account, TokenKind::NotMe, 1);
        let d = decide(Some(&token), &account, None).unwrap();
        let c = &d.changes;
        assert_eq!(
            c.redeem,
            Some(Redemption::of(token.hash, TokenKind::NotMe, now()))
        );
        let Some(AccountChange::Update(updated)) = &c.account else {
            panic!("expected an update")
        };
        assert!(updated.password_hash.is_none(), "a reset is needed now");
        assert_eq!(c.revoke_sessions, vec![revoke_all(&account, now())]);
        assert_eq!(
            c.revoke_devices,
            vec![crate::DeviceRevocation::all_of(&account, now())]
        );
        assert_eq!(c.revoke_tokens[0].kinds, vec![TokenKind::PasswordReset]);
        assert_eq!(c.audit[0].kind, AuditKind::AccountSecured);
        assert!(d.mail.is_empty(), "no staff address configured");
    }

    #[test]
    fn this_wasnt_me_notifies_the_staff_address_when_configured() {
        let account = accepted_account();
        let token = token_record(&account, TokenKind::NotMe, 1);
        let d = decide(Some(&token), &account, Some("office@firm.example")).unwrap();
        assert_eq!(d.mail.len(), 1);
        let mail = &d.mail[0];
        assert_eq!(mail.kind, MessageKind::AccountSecured);
        assert_eq!(mail.to, "office@firm.example");
        assert_eq!(mail.vars["account_email"], account.email.as_str());
        assert_eq!(mail.vars["account_id"], account.id.to_string());
        assert_eq!(mail.vars["ip"], "203.0.113.7");
    }

    #[test]
    fn a_used_expired_or_unknown_not_me_link_is_refused_as_token_invalid() {
        let account = accepted_account();
        let mut used = token_record(&account, TokenKind::NotMe, 1);
        used.used_at = Some(now());
        let mut expired = token_record(&account, TokenKind::NotMe, 2);
        expired.expires_at = now() - Duration::seconds(1);
        let reset = token_record(&account, TokenKind::PasswordReset, 3);
        for token in [Some(&used), Some(&expired), Some(&reset), None] {
            assert_eq!(
                decide(token, &account, None).unwrap_err(),
                SecureAccountError::TokenInvalid
            );
        }
    }
}
