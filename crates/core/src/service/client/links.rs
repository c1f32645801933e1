//! Link pages that need no password: opening a link (GET/HEAD), "send me
//! a fresh invitation" and "this wasn't me".

use super::super::transaction::{no_constraints, Step};
use super::super::{infra, PortalEvent, PortalService, ServiceError};
use super::tokens::token_hash;
use super::{LinkView, SecureAccountError};
use crate::workflow::fresh_invitation::{
    decide_fresh_invitation, fresh_invitation_available, FreshInvitationInput,
};
use crate::workflow::link_opening::decide_link_opening;
use crate::workflow::not_me::{decide_secure_account, SecureAccountInput};
use crate::workflow::{rate_keys, NoRefusal};
use crate::{RawToken, RequestContext, StoreError, TokenKind};

impl PortalService {
    /// A GET/HEAD of a link page: never consumes or changes the token;
    /// records the opening when the token exists (any state).
    pub async fn open_link(
        &self,
        ctx: &RequestContext,
        kind: TokenKind,
        token: &str,
    ) -> Result<LinkView, ServiceError<NoRefusal>> {
        let Ok(raw) = RawToken::parse(token) else {
            return Ok(LinkView::Invalid {
                fresh_invitation_available: false,
            });
        };
        let now = self.now();
        let (record, account) = self.load_token(&raw.hash()).await?;
        let event_id = self.new_event_id();
        let decision =
            decide_link_opening(kind, record.as_ref(), account.as_ref(), ctx, event_id, now);
        if decision.changes.is_empty() {
            return Ok(decision.outcome);
        }
        self.commit_unversioned(decision, now).await
    }

    /// "Send me a fresh invitation" from an expired or superseded
    /// invitation link. Always `Ok(())`; sends only when the account is
    /// still pending, not archived, with access enabled, and the
    /// per-account rate allows.
    pub async fn request_fresh_invitation(
        &self,
        ctx: &RequestContext,
        token: &str,
    ) -> Result<(), ServiceError<NoRefusal>> {
        let Ok(raw) = RawToken::parse(token) else {
            return Ok(());
        };
        let hash = &raw.hash();
        let config = self.config();
        let now = self.now();
        let first = self.load_token(hash).await?;
        let over_rate = match &first {
            (Some(r), Some(a)) if fresh_invitation_available(r, a, now) => {
                self.hit(
                    &rate_keys::fresh_invitation(a.id),
                    config.fresh_invitation_rate,
                    now,
                )
                .await
                .map_err(infra)?
                    > config.fresh_invitation_rate.limit
            }
            _ => false,
        };
        let reload = move |_| async move { self.load_token(hash).await };
        self.transact(now, no_constraints, first, reload, |(record, account)| {
            let decision = decide_fresh_invitation(
                FreshInvitationInput {
                    token: record.as_ref(),
                    account: account.as_ref(),
                    over_rate,
                    new_token: self.new_token(),
                    invitation_ttl: config.invitation_ttl,
                    ctx,
                    event_id: self.new_event_id(),
                },
                now,
            );
            if decision.changes.is_empty() {
                tracing::debug!(outcome = ?decision.outcome, "fresh invitation not sent");
                return Ok(Step::Done(()));
            }
            Ok(Step::Commit(decision.map(|_| ())))
        })
        .await
    }

    /// "This wasn't me" (POST of the link in a password-changed notice):
    /// revokes every session, clears the password, revokes pending reset
    /// links, notifies staff and publishes [`PortalEvent::AccountSecured`].
    pub async fn secure_account(
        &self,
        ctx: &RequestContext,
        token: &str,
    ) -> Result<(), ServiceError<SecureAccountError>> {
        let hash = &token_hash(token, SecureAccountError::TokenInvalid)?;
        let config = self.config();
        let now = self.now();
        let first = self.load_token(hash).await?;
        let reload = move |_| async move { self.load_token(hash).await };
        let secured = self
            .transact(
                now,
                |e| {
                    matches!(e, StoreError::TokenNotRedeemable)
                        .then_some(SecureAccountError::TokenInvalid)
                },
                first,
                reload,
                |(record, account)| {
                    Step::commit_or_refuse(decide_secure_account(
                        SecureAccountInput {
                            token: record.as_ref(),
                            account: account.as_ref(),
                            staff_notice_address: config.staff_notice_address.as_deref(),
                            ctx,
                            event_id: self.new_event_id(),
                        },
                        now,
                    ))
                },
            )
            .await?;
        metrics::counter!("portal_accounts_secured_total").increment(1);
        self.publish(PortalEvent::AccountSecured {
            tenant: secured.tenant,
            account_id: secured.id,
            at: now,
        });
        Ok(())
    }
}
