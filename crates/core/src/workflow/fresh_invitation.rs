//! A fresh invitation asked for from an expired or superseded invitation
//! link (SPEC.md section 6).
//!
//! The answer is always the same. A new invitation goes to the address on
//! file (never one given in the request) only when the link is an
//! invitation link that expired or was superseded, the account has still
//! not accepted, is not archived, has access enabled, and the per-account
//! rate ([`rate_keys::fresh_invitation`](super::rate_keys::fresh_invitation))
//! is not exceeded. The earlier invitation links stop working.
//!
//! [`reinvite`] is also what a forgot-password request does for an account
//! whose invitation is pending.
//!
//! ```
//! use portal_access_core::workflow::fresh_invitation::{decide_fresh_invitation, FreshInvitationInput, FreshInvitationOutcome};
//! use portal_access_core::{Account, AccountId, EmailAddress, EventId, Invitation, RawToken, RequestContext, TenantId, TokenKind, TokenRecord};
//! use time::{macros::datetime, Duration};
//!
//! let now = datetime!(2026-01-10 9:00 UTC);
//! let mut account = Account::new(AccountId::from_random([1; 16]), TenantId::new("firm").unwrap(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now - Duration::days(9));
//! account.invitation = Invitation::Pending { sent_at: now - Duration::days(8), expires_at: now - Duration::days(1) };
//! let expired = TokenRecord { hash: RawToken::from_bytes([2; 32]).hash(), kind: TokenKind::Invitation,
//!     tenant: account.tenant.clone(), account_id: account.id, created_at: now - Duration::days(8),
//!     expires_at: now - Duration::days(1), used_at: None, revoked_at: None, message_id: None };
//! let decision = decide_fresh_invitation(FreshInvitationInput {
//!     token: Some(&expired), account: Some(&account), over_rate: false,
//!     new_token: RawToken::from_bytes([3; 32]), invitation_ttl: Duration::days(7),
//!     ctx: &RequestContext::default(), event_id: EventId::from_random([4; 16]),
//! }, now);
//! assert_eq!(decision.outcome, FreshInvitationOutcome::Sent);
//! assert_eq!(decision.mail.len(), 1);
//! ```

use time::{Duration, OffsetDateTime};

use super::{audit, Decision, MailIntent};
use crate::{
    Access, Account, AccountChange, Actor, AuditKind, Changes, EventId, Invitation, MessageKind,
    RawToken, RequestContext, TokenKind, TokenRecord, TokenRevocation, TokenState,
};

/// What a fresh-invitation request did (for metrics and tests; the caller
/// always gives the same answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreshInvitationOutcome {
    /// A new invitation was queued.
    Sent,
    /// Nothing: unknown token, another kind, still valid, used, account
    /// accepted/archived/disabled.
    NotEligible,
    /// Nothing: over the per-account rate.
    RateLimited,
}

/// Who asked for a reinvitation, for its audit event.
#[derive(Debug, Clone, Copy)]
pub struct AuditedAs<'a> {
    /// The actor.
    pub actor: &'a Actor,
    /// The audit kind.
    pub kind: AuditKind,
    /// The request.
    pub ctx: &'a RequestContext,
    /// The audit event's id.
    pub event_id: EventId,
}

/// A new invitation for a `Pending` account: the earlier invitation links
/// are revoked, a new one issued (`invitation_ttl`), the account's pending
/// state renewed, a `reinvitation` queued to the address on file, and the
/// audit event recorded as `by` says.
pub fn reinvite(
    account: &Account,
    new_token: RawToken,
    invitation_ttl: Duration,
    by: AuditedAs<'_>,
    now: OffsetDateTime,
) -> (Changes, MailIntent) {
    let expires_at = now + invitation_ttl;
    let mut updated = account.clone();
    updated.invitation = Invitation::Pending {
        sent_at: now,
        expires_at,
    };
    updated.updated_at = now;
    let record = TokenRecord::issued(&new_token, TokenKind::Invitation, account, now, expires_at);
    let changes = Changes {
        account: Some(AccountChange::Update(updated)),
        revoke_tokens: vec![TokenRevocation::of(account, &[TokenKind::Invitation], now)],
        new_tokens: vec![record],
        audit: vec![audit(
            by.event_id,
            &account.tenant,
            Some(account.id),
            by.actor,
            by.kind,
            now,
            by.ctx,
            serde_json::json!({ "expires_at": expires_at.unix_timestamp() }),
        )],
        ..Changes::default()
    };
    let mail = MailIntent::to_account(MessageKind::Reinvitation, account).with_link(
        "/invitation",
        new_token,
        expires_at,
    );
    (changes, mail)
}

/// Whether an invitation link (as loaded) may be traded for a fresh one:
/// it is an invitation that expired or was superseded, and its account is
/// still pending, not archived, with access enabled.
pub fn fresh_invitation_available(
    token: &TokenRecord,
    account: &Account,
    now: OffsetDateTime,
) -> bool {
    token.kind == TokenKind::Invitation
        && token.account_id == account.id
        && token.tenant == account.tenant
        && matches!(
            token.state(now),
            TokenState::Expired | TokenState::Superseded
        )
        && matches!(account.invitation, Invitation::Pending { .. })
        && !account.archived
        && account.access == Access::Enabled
}

/// What [`decide_fresh_invitation`] needs.
#[derive(Debug)]
pub struct FreshInvitationInput<'a> {
    /// The link's token as loaded (none if unknown).
    pub token: Option<&'a TokenRecord>,
    /// Its account as loaded.
    pub account: Option<&'a Account>,
    /// The per-account rate is exceeded (counted by the service).
    pub over_rate: bool,
    /// Fresh material for the new link.
    pub new_token: RawToken,
    /// How long invitations live.
    pub invitation_ttl: Duration,
    /// The request.
    pub ctx: &'a RequestContext,
    /// The audit event's id.
    pub event_id: EventId,
}

/// Decides a fresh-invitation request. Never refuses: the outcome says
/// what happened, the caller answers the same either way.
pub fn decide_fresh_invitation(
    input: FreshInvitationInput<'_>,
    now: OffsetDateTime,
) -> Decision<FreshInvitationOutcome> {
    let (Some(token), Some(account)) = (input.token, input.account) else {
        return Decision::new(Changes::default(), FreshInvitationOutcome::NotEligible);
    };
    if !fresh_invitation_available(token, account, now) {
        return Decision::new(Changes::default(), FreshInvitationOutcome::NotEligible);
    }
    if input.over_rate {
        return Decision::new(Changes::default(), FreshInvitationOutcome::RateLimited);
    }
    let (changes, mail) = reinvite(
        account,
        input.new_token,
        input.invitation_ttl,
        AuditedAs {
            actor: &Actor::System,
            kind: AuditKind::FreshInvitationRequested,
            ctx: input.ctx,
            event_id: input.event_id,
        },
        now,
    );
    Decision {
        changes,
        mail: vec![mail],
        outcome: FreshInvitationOutcome::Sent,
    }
}

#[cfg(test)]
mod tests {
    use super::super::session::test_support::*;
    use super::*;

    fn expired_invitation(account: &Account) -> TokenRecord {
        let mut t = token_record(account, TokenKind::Invitation, 1);
        t.expires_at = now() - Duration::minutes(1);
        t
    }

    fn decide(
        token: Option<&TokenRecord>,
        account: Option<&Account>,
        over_rate: bool,
    ) -> Decision<FreshInvitationOutcome> {
        decide_fresh_invitation(
            FreshInvitationInput {
                token,
                account,
                over_rate,
                new_token: crate::RawToken::from_bytes([50; 32]),
                invitation_ttl: Duration::days(7),
                ctx: &ctx(),
                event_id: event_id(5),
            },
            now(),
        )
    }

    #[test]
    fn an_expired_invitation_link_gets_a_fresh_invitation_to_the_address_on_file() {
        let account = pending_account();
        let token = expired_invitation(&account);
        let d = decide(Some(&token), Some(&account), false);
        assert_eq!(d.outcome, FreshInvitationOutcome::Sent);
        assert_eq!(d.mail.len(), 1);
        assert_eq!(d.mail[0].kind, MessageKind::Reinvitation);
        assert_eq!(d.mail[0].to, account.email.as_str());
        let link = d.mail[0].link.as_ref().unwrap();
        assert_eq!(link.page, "/invitation");
        assert_eq!(link.expires_at, now() + Duration::days(7));
        let Some(AccountChange::Update(updated)) = &d.changes.account else {
            panic!("expected an update")
        };
        assert_eq!(
            updated.invitation,
            Invitation::Pending {
                sent_at: now(),
                expires_at: now() + Duration::days(7)
            }
        );
        assert_eq!(
            d.changes.revoke_tokens[0].kinds,
            vec![TokenKind::Invitation]
        );
        assert_eq!(d.changes.new_tokens[0].hash, link.token.hash());
        assert_eq!(d.changes.audit[0].kind, AuditKind::FreshInvitationRequested);
    }

    #[test]
    fn a_superseded_invitation_link_gets_a_fresh_invitation() {
        let account = pending_account();
        let mut token = token_record(&account, TokenKind::Invitation, 1);
        token.revoked_at = Some(now() - Duration::hours(1));
        assert_eq!(
            decide(Some(&token), Some(&account), false).outcome,
            FreshInvitationOutcome::Sent
        );
    }

    #[test]
    fn a_still_valid_or_used_invitation_link_gets_nothing() {
        let account = pending_account();
        let valid = token_record(&account, TokenKind::Invitation, 1);
        assert_eq!(
            decide(Some(&valid), Some(&account), false).outcome,
            FreshInvitationOutcome::NotEligible
        );
        let mut used = valid.clone();
        used.used_at = Some(now());
        assert_eq!(
            decide(Some(&used), Some(&account), false).outcome,
            FreshInvitationOutcome::NotEligible
        );
    }

    #[test]
    fn an_accepted_archived_or_disabled_account_gets_no_fresh_invitation() {
        let accepted = accepted_account();
        let mut archived = pending_account();
        archived.archived = true;
        let mut disabled = pending_account();
        disabled.access = Access::Disabled;
        for account in [accepted, archived, disabled] {
            let token = expired_invitation(&account);
            let d = decide(Some(&token), Some(&account), false);
            assert_eq!(d.outcome, FreshInvitationOutcome::NotEligible);
            assert!(d.changes.is_empty());
            assert!(d.mail.is_empty());
        }
    }

    #[test]
    fn a_reset_link_or_unknown_token_gets_no_fresh_invitation() {
        let account = pending_account();
        let mut reset = token_record(&account, TokenKind::PasswordReset, 1);
        reset.expires_at = now() - Duration::minutes(1);
        assert_eq!(
            decide(Some(&reset), Some(&account), false).outcome,
            FreshInvitationOutcome::NotEligible
        );
        assert_eq!(
            decide(None, None, false).outcome,
            FreshInvitationOutcome::NotEligible
        );
    }

    #[test]
    fn fresh_invitations_over_the_rate_send_nothing() {
        let account = pending_account();
        let token = expired_invitation(&account);
        let d = decide(Some(&token), Some(&account), true);
        assert_eq!(d.outcome, FreshInvitationOutcome::RateLimited);
        assert!(d.changes.is_empty());
        assert!(d.mail.is_empty());
    }
}
