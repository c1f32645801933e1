//! Forgot password (self-service): the answer is always the same.
//!
//! What happens depends on the address, but the caller answers the same
//! in every case, in content and (the service sees to it) in timing:
//!
//! | address                                    | what is queued                           |
//! |--------------------------------------------|------------------------------------------|
//! | accepted, enabled, unarchived account      | a reset link (older unused ones revoked) |
//! | pending invitation                         | the invitation again (old link revoked)  |
//! | unknown                                    | nothing, or a `no_account` notice (config) |
//! | archived, disabled, never invited          | nothing                                  |
//! | over the per-address or per-IP rate        | nothing                                  |
//! | malformed                                  | nothing                                  |
//!
//! ```
//! use portal_access_core::workflow::forgot_password::{decide_forgot_password, ForgotPasswordInput, ForgotOutcome, Skipped};
//! use portal_access_core::{EmailAddress, EventId, RawToken, RequestContext, TenantId};
//! use time::{macros::datetime, Duration};
//!
//! let tenant = TenantId::new("firm").unwrap();
//! let email = EmailAddress::parse("nobody@example.com").unwrap();
//! let decision = decide_forgot_password(ForgotPasswordInput {
//!     tenant: &tenant, email: Some(&email), account: None, over_rate: false,
//!     new_token: RawToken::from_bytes([1; 32]), reset_ttl: Duration::hours(1),
//!     invitation_ttl: Duration::days(7), notify_unknown_address: false,
//!     forgot_url: "https://portal.example.com/portal/forgot-password".into(),
//!     ctx: &RequestContext::default(), event_id: EventId::from_random([2; 16]),
//! }, datetime!(2026-01-01 9:00 UTC));
//! assert_eq!(decision.outcome, ForgotOutcome::Nothing(Skipped::UnknownAddress));
//! assert!(decision.changes.is_empty() && decision.mail.is_empty());
//! ```

use time::{Duration, OffsetDateTime};

use super::changes::account_event;
use super::fresh_invitation::{reinvite, AuditedAs};
use super::{Decision, ErrorCode, MailIntent, Refusal};
use crate::{
    Access, Account, Actor, AuditKind, Changes, EmailAddress, EventId, Invitation, MessageKind,
    RawToken, RequestContext, TenantId, TokenKind, TokenRecord, TokenRevocation,
};

/// The only refusal of forgot-password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForgotPasswordError {
    /// A CAPTCHA is required and was missing or not passed (`captcha_failed`).
    #[error("please complete the human verification")]
    CaptchaFailed,
}

impl Refusal for ForgotPasswordError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::CaptchaFailed => ErrorCode::CaptchaFailed,
        }
    }
}

/// Why nothing was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// Over the per-address or per-IP rate.
    RateLimited,
    /// Not an email address.
    MalformedAddress,
    /// No account has this address (and no notice is configured).
    UnknownAddress,
    /// The account is archived.
    Archived,
    /// The account's access is disabled.
    AccessDisabled,
    /// The account was never invited.
    NotInvited,
}

/// What a forgot-password request did (for metrics and tests only: the
/// caller answers the same whatever this is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForgotOutcome {
    /// A reset link was queued.
    ResetLinkSent,
    /// The pending invitation was sent again.
    InvitationResent,
    /// A "no portal account for this address" notice was queued.
    NoAccountNoticeSent,
    /// Nothing was queued.
    Nothing(Skipped),
}

impl ForgotOutcome {
    /// A label for metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResetLinkSent => "reset_link_sent",
            Self::InvitationResent => "invitation_resent",
            Self::NoAccountNoticeSent => "no_account_notice",
            Self::Nothing(Skipped::RateLimited) => "rate_limited",
            Self::Nothing(Skipped::MalformedAddress) => "malformed_address",
            Self::Nothing(Skipped::UnknownAddress) => "unknown_address",
            Self::Nothing(Skipped::Archived) => "archived",
            Self::Nothing(Skipped::AccessDisabled) => "access_disabled",
            Self::Nothing(Skipped::NotInvited) => "not_invited",
        }
    }
}

/// What [`decide_forgot_password`] needs.
#[derive(Debug)]
pub struct ForgotPasswordInput<'a> {
    /// The tenant asked in.
    pub tenant: &'a TenantId,
    /// The address, parsed (none if malformed).
    pub email: Option<&'a EmailAddress>,
    /// The account with that address, as loaded.
    pub account: Option<&'a Account>,
    /// The per-address or per-IP rate is exceeded (counted by the service).
    pub over_rate: bool,
    /// Fresh material for a link.
    pub new_token: RawToken,
    /// How long reset links live.
    pub reset_ttl: Duration,
    /// How long invitation links live.
    pub invitation_ttl: Duration,
    /// Whether unknown addresses get a `no_account` notice.
    pub notify_unknown_address: bool,
    /// The forgot-password page's URL, for the `no_account` notice.
    pub forgot_url: String,
    /// The request.
    pub ctx: &'a RequestContext,
    /// The audit event's id.
    pub event_id: EventId,
}

/// Decides a forgot-password request. Never refuses (the CAPTCHA is
/// checked before): the outcome says what happened.
pub fn decide_forgot_password(
    input: ForgotPasswordInput<'_>,
    now: OffsetDateTime,
) -> Decision<ForgotOutcome> {
    let nothing = |why| Decision::new(Changes::default(), ForgotOutcome::Nothing(why));
    if input.over_rate {
        return nothing(Skipped::RateLimited);
    }
    let Some(email) = input.email else {
        return nothing(Skipped::MalformedAddress);
    };
    let Some(account) = input.account else {
        if !input.notify_unknown_address {
            return nothing(Skipped::UnknownAddress);
        }
        let notice = MailIntent {
            kind: MessageKind::NoAccount,
            tenant: input.tenant.clone(),
            account_id: None,
            to: email.as_str().to_owned(),
            to_name: None,
            link: None,
            secret: None,
            vars: serde_json::json!({ "forgot_url": input.forgot_url }),
            language: None,
        };
        return Decision {
            changes: Changes::default(),
            mail: vec![notice],
            outcome: ForgotOutcome::NoAccountNoticeSent,
        };
    };
    if account.archived {
        return nothing(Skipped::Archived);
    }
    if account.access == Access::Disabled {
        return nothing(Skipped::AccessDisabled);
    }
    match account.invitation {
        Invitation::NotInvited => nothing(Skipped::NotInvited),
        Invitation::Pending { .. } => {
            let (changes, mail) = reinvite(
                account,
                input.new_token,
                input.invitation_ttl,
                AuditedAs {
                    actor: &Actor::System,
                    kind: AuditKind::InvitationResent,
                    ctx: input.ctx,
                    event_id: input.event_id,
                },
                now,
            );
            Decision {
                changes,
                mail: vec![mail],
                outcome: ForgotOutcome::InvitationResent,
            }
        }
        Invitation::Accepted { .. } => reset_link(
            account,
            input.new_token,
            input.reset_ttl,
            input.ctx,
            input.event_id,
            now,
        ),
    }
}

fn reset_link(
    account: &Account,
    token: RawToken,
    reset_ttl: Duration,
    ctx: &RequestContext,
    event_id: EventId,
    now: OffsetDateTime,
) -> Decision<ForgotOutcome> {
    let expires_at = now + reset_ttl;
    let record = TokenRecord::issued(&token, TokenKind::PasswordReset, account, now, expires_at);
    let changes = Changes {
        revoke_tokens: vec![TokenRevocation::of(
            account,
            &[TokenKind::PasswordReset],
            now,
        )],
        new_tokens: vec![record],
        audit: vec![account_event(
            account,
            &Actor::System,
            AuditKind::PasswordResetSent,
            ctx,
            event_id,
            now,
        )
        .with_detail(serde_json::json!({ "requested_by": "client" }))],
        ..Changes::default()
    };
    let mail = MailIntent::to_account(MessageKind::PasswordReset, account).with_link(
        "/reset-password",
        token,
        expires_at,
    );
    Decision {
        changes,
        mail: vec![mail],
        outcome: ForgotOutcome::ResetLinkSent,
    }
}

#[cfg(test)]
mod tests {
    use super::super::session::test_support::*;
    use super::*;
    use crate::AccountChange;

    fn decide(account: Option<&Account>, over_rate: bool, notify: bool) -> Decision<ForgotOutcome> {
        let email = EmailAddress::parse("ann.client@example.com").unwrap();
        decide_forgot_password(
            ForgotPasswordInput {
                tenant: &tenant(),
                email: Some(&email),
                account,
                over_rate,
                new_token: token(60),
                reset_ttl: Duration::hours(1),
                invitation_ttl: Duration::days(7),
                notify_unknown_address: notify,
                forgot_url: "https://portal.example.com/portal/forgot-password".into(),
                ctx: &ctx(),
                event_id: event_id(6),
            },
            now(),
        )
    }

    fn assert_nothing(d: &Decision<ForgotOutcome>, why: Skipped) {
        assert_eq!(d.outcome, ForgotOutcome::Nothing(why));
        assert!(d.changes.is_empty(), "{why:?}: no changes");
        assert!(d.mail.is_empty(), "{why:?}: no mail");
    }

    #[test]
    fn an_accepted_enabled_account_gets_a_reset_link_that_supersedes_older_ones() {
        let account = accepted_account();
        let d = decide(Some(&account), false, false);
        assert_eq!(d.outcome, ForgotOutcome::ResetLinkSent);
        let mail = &d.mail[0];
        assert_eq!(mail.kind, MessageKind::PasswordReset);
        assert_eq!(mail.to, account.email.as_str());
        let link = mail.link.as_ref().unwrap();
        assert_eq!(link.page, "/reset-password");
        assert_eq!(link.expires_at, now() + Duration::hours(1));
        assert_eq!(d.changes.new_tokens[0].hash, token(60).hash());
        assert_eq!(d.changes.new_tokens[0].kind, TokenKind::PasswordReset);
        assert_eq!(
            d.changes.revoke_tokens[0].kinds,
            vec![TokenKind::PasswordReset]
        );
        assert_eq!(d.changes.audit[0].kind, AuditKind::PasswordResetSent);
        assert!(
            d.changes.account.is_none(),
            "a reset link does not touch the account"
        );
    }

    #[test]
    fn a_pending_invitation_gets_its_invitation_resent_instead_of_a_reset_link() {
        let account = pending_account();
        let d = decide(Some(&account), false, false);
        assert_eq!(d.outcome, ForgotOutcome::InvitationResent);
        assert_eq!(d.mail[0].kind, MessageKind::Reinvitation);
        assert_eq!(d.mail[0].link.as_ref().unwrap().page, "/invitation");
        assert_eq!(
            d.changes.revoke_tokens[0].kinds,
            vec![TokenKind::Invitation]
        );
        assert!(matches!(d.changes.account, Some(AccountChange::Update(_))));
        assert_eq!(d.changes.audit[0].kind, AuditKind::InvitationResent);
    }

    #[test]
    fn an_unknown_address_gets_nothing_by_default() {
        assert_nothing(&decide(None, false, false), Skipped::UnknownAddress);
    }

    #[test]
    fn an_unknown_address_gets_a_no_account_notice_when_configured() {
        let d = decide(None, false, true);
        assert_eq!(d.outcome, ForgotOutcome::NoAccountNoticeSent);
        assert_eq!(d.mail[0].kind, MessageKind::NoAccount);
        assert_eq!(d.mail[0].to, "ann.client@example.com");
        assert_eq!(d.mail[0].account_id, None);
        assert!(d.mail[0].link.is_none());
        assert_eq!(
            d.mail[0].vars["forgot_url"],
            "https://portal.example.com/portal/forgot-password"
        );
    }

    #[test]
    fn an_archived_account_gets_nothing() {
        let mut account = accepted_account();
        account.archived = true;
        assert_nothing(&decide(Some(&account), false, false), Skipped::Archived);
    }

    #[test]
    fn a_disabled_account_gets_nothing() {
        let mut account = accepted_account();
        account.access = Access::Disabled;
        assert_nothing(
            &decide(Some(&account), false, false),
            Skipped::AccessDisabled,
        );
    }

    #[test]
    fn a_never_invited_account_gets_nothing() {
        let account = new_account();
        assert_nothing(&decide(Some(&account), false, false), Skipped::NotInvited);
    }

    #[test]
    fn over_the_rate_nothing_is_sent_even_for_a_known_account() {
        let account = accepted_account();
        assert_nothing(&decide(Some(&account), true, false), Skipped::RateLimited);
        assert_nothing(&decide(None, true, true), Skipped::RateLimited);
    }

    #[test]
    fn a_malformed_address_gets_nothing() {
        let d = decide_forgot_password(
            ForgotPasswordInput {
                tenant: &tenant(),
                email: None,
                account: None,
                over_rate: false,
                new_token: token(60),
                reset_ttl: Duration::hours(1),
                invitation_ttl: Duration::days(7),
                notify_unknown_address: true,
                forgot_url: String::new(),
                ctx: &ctx(),
                event_id: event_id(6),
            },
            now(),
        );
        assert_nothing(&d, Skipped::MalformedAddress);
    }

    #[test]
    fn captcha_failure_has_the_captcha_failed_code() {
        assert_eq!(
            ForgotPasswordError::CaptchaFailed.code(),
            ErrorCode::CaptchaFailed
        );
    }
}
