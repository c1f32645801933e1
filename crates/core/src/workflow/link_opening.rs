//! Opening a link (GET/HEAD of a link page) — links that survive mail
//! scanners (SPEC.md section 6).
//!
//! Opening never consumes or changes a token: only the page's form POST
//! does. Each opening of an existing token (in any state) is recorded
//! (time, IP, user agent) so staff can tell "opened, not used". The page
//! is told what to show: the form ([`LinkView::Valid`]), or "this link is
//! no longer valid", offering a fresh invitation when an invitation link
//! expired or was superseded while the account is still not accepted.
//!
//! ```
//! use portal_access_core::workflow::link_opening::{decide_link_opening, LinkView};
//! use portal_access_core::{EventId, RequestContext, TokenKind};
//! use time::macros::datetime;
//!
//! let decision = decide_link_opening(TokenKind::PasswordReset, None, None,
//!     &RequestContext::default(), EventId::from_random([1; 16]), datetime!(2026-01-01 9:00 UTC));
//! assert_eq!(decision.outcome, LinkView::Invalid { fresh_invitation_available: false });
//! assert!(decision.changes.is_empty());
//! ```

use serde::Serialize;
use time::OffsetDateTime;

use super::fresh_invitation::fresh_invitation_available;
use super::Decision;
use crate::{
    Access, Account, Actor, AuditKind, Changes, EventId, Invitation, LinkOpening, RequestContext,
    TokenKind, TokenRecord, TokenState,
};

/// What a link page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LinkView {
    /// The link can be used: show its form.
    Valid {
        /// What the link is for.
        kind: TokenKind,
        /// The account's address (shown so the client knows which account).
        email: String,
        /// The account's username, if chosen.
        username: Option<String>,
        /// When the link stops working.
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    /// The link cannot be used (one answer whatever the reason).
    Invalid {
        /// An expired or superseded invitation of a still-pending account:
        /// the page may offer "send me a fresh invitation".
        fresh_invitation_available: bool,
    },
}

/// Decides what opening a link of `kind` shows, and records the opening
/// when the token exists. Never redeems or revokes anything.
pub fn decide_link_opening(
    kind: TokenKind,
    token: Option<&TokenRecord>,
    account: Option<&Account>,
    ctx: &RequestContext,
    event_id: EventId,
    now: OffsetDateTime,
) -> Decision<LinkView> {
    let invalid = LinkView::Invalid {
        fresh_invitation_available: false,
    };
    let Some(token) = token else {
        return Decision::new(Changes::default(), invalid);
    };
    let changes = Changes {
        link_openings: vec![LinkOpening {
            token_hash: token.hash,
            account_id: token.account_id,
            tenant: token.tenant.clone(),
            at: now,
            ip: ctx.ip,
            user_agent: ctx.user_agent.clone(),
        }],
        // The opening in the audit trail too (who opened is anonymous:
        // the holder of the link), with the link's kind, never the token.
        audit: vec![super::audit(
            event_id,
            &token.tenant,
            Some(token.account_id),
            &Actor::System,
            AuditKind::LinkOpened,
            now,
            ctx,
            serde_json::json!({ "link": token.kind.as_str() }),
        )],
        ..Changes::default()
    };
    let Some(account) = account.filter(|a| a.id == token.account_id && a.tenant == token.tenant)
    else {
        return Decision::new(changes, invalid);
    };
    if token.kind != kind {
        return Decision::new(changes, invalid);
    }
    let usable = token.state(now) == TokenState::Valid
        && match kind {
            TokenKind::Invitation => {
                matches!(account.invitation, Invitation::Pending { .. })
                    && !account.archived
                    && account.access == Access::Enabled
            }
            TokenKind::PasswordReset => !account.archived && account.access == Access::Enabled,
            TokenKind::NotMe => true,
            // Never in a link: a challenge opened as one is not usable.
            TokenKind::SignInChallenge => false,
        };
    let view = if usable {
        LinkView::Valid {
            kind,
            email: account.email.as_str().to_owned(),
            username: account.username.as_ref().map(|u| u.as_str().to_owned()),
            expires_at: token.expires_at,
        }
    } else {
        LinkView::Invalid {
            fresh_invitation_available: fresh_invitation_available(token, account, now),
        }
    };
    Decision::new(changes, view)
}

#[cfg(test)]
mod tests {
    use super::super::session::test_support::*;
    use super::*;
    use time::Duration;

    fn open(page: TokenKind, token: &TokenRecord, account: &Account) -> Decision<LinkView> {
        decide_link_opening(page, Some(token), Some(account), &ctx(), event_id(1), now())
    }

    fn invalid(fresh_invitation_available: bool) -> LinkView {
        LinkView::Invalid {
            fresh_invitation_available,
        }
    }

    #[test]
    fn opening_a_valid_link_shows_the_form_and_records_the_opening_without_consuming() {
        let account = accepted_account();
        let token = token_record(&account, TokenKind::PasswordReset, 1);
        let d = open(TokenKind::PasswordReset, &token, &account);
        assert_eq!(
            d.outcome,
            LinkView::Valid {
                kind: TokenKind::PasswordReset,
                email: account.email.as_str().into(),
                username: Some("ann.c".into()),
                expires_at: token.expires_at
            }
        );
        let opening = &d.changes.link_openings[0];
        assert_eq!(opening.token_hash, token.hash);
        assert_eq!(opening.at, now());
        assert_eq!(opening.ip, ctx().ip);
        assert_eq!(opening.user_agent, ctx().user_agent);
        let event = &d.changes.audit[0];
        assert_eq!(event.kind, AuditKind::LinkOpened);
        assert_eq!(
            event.actor,
            Actor::System,
            "the holder of a link is anonymous"
        );
        assert_eq!(event.account_id, Some(account.id));
        assert_eq!((event.at, event.ip), (now(), ctx().ip));
        assert_eq!(
            event.detail,
            serde_json::json!({ "link": "password_reset" })
        );
        let only_the_opening = Changes {
            link_openings: d.changes.link_openings.clone(),
            audit: d.changes.audit.clone(),
            ..Changes::default()
        };
        assert_eq!(d.changes, only_the_opening, "no redemption, no revocation");
    }

    #[test]
    fn opening_a_used_or_expired_link_is_recorded_and_shown_invalid() {
        let account = accepted_account();
        let mut used = token_record(&account, TokenKind::PasswordReset, 1);
        used.used_at = Some(now());
        let mut expired = token_record(&account, TokenKind::PasswordReset, 2);
        expired.expires_at = now();
        for token in [used, expired] {
            let d = open(TokenKind::PasswordReset, &token, &account);
            assert_eq!(d.outcome, invalid(false));
            assert_eq!(d.changes.link_openings.len(), 1);
            assert_eq!(d.changes.audit.len(), 1, "in the audit trail too");
            assert_eq!(d.changes.audit[0].kind, AuditKind::LinkOpened);
        }
    }

    #[test]
    fn opening_an_unknown_link_records_nothing() {
        let d = decide_link_opening(
            TokenKind::Invitation,
            None,
            None,
            &ctx(),
            event_id(1),
            now(),
        );
        assert!(d.changes.is_empty());
    }

    #[test]
    fn an_expired_invitation_of_a_pending_account_offers_a_fresh_invitation() {
        let account = pending_account();
        let mut token = token_record(&account, TokenKind::Invitation, 1);
        token.expires_at = now() - Duration::days(1);
        let d = open(TokenKind::Invitation, &token, &account);
        assert_eq!(d.outcome, invalid(true));
    }

    #[test]
    fn a_superseded_invitation_of_a_pending_account_offers_a_fresh_invitation() {
        let account = pending_account();
        let mut token = token_record(&account, TokenKind::Invitation, 1);
        token.revoked_at = Some(now() - Duration::hours(1));
        let d = open(TokenKind::Invitation, &token, &account);
        assert_eq!(d.outcome, invalid(true));
    }

    #[test]
    fn an_expired_invitation_of_an_accepted_account_offers_nothing() {
        let account = accepted_account();
        let mut token = token_record(&account, TokenKind::Invitation, 1);
        token.expires_at = now() - Duration::days(1);
        let d = open(TokenKind::Invitation, &token, &account);
        assert_eq!(d.outcome, invalid(false));
    }

    #[test]
    fn a_reset_token_opened_on_the_invitation_page_is_invalid() {
        let account = pending_account();
        let token = token_record(&account, TokenKind::PasswordReset, 1);
        let d = open(TokenKind::Invitation, &token, &account);
        assert_eq!(d.outcome, invalid(false));
        assert_eq!(
            d.changes.link_openings.len(),
            1,
            "the opening is still recorded"
        );
    }

    #[test]
    fn a_valid_invitation_link_of_a_pending_account_shows_the_form() {
        let account = pending_account();
        let token = token_record(&account, TokenKind::Invitation, 1);
        let d = open(TokenKind::Invitation, &token, &account);
        assert!(matches!(
            d.outcome,
            LinkView::Valid {
                kind: TokenKind::Invitation,
                ..
            }
        ));
    }
}
