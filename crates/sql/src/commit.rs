//! A commit: every [`ChangeStep`] of a [`Changes`], in the one order
//! [`Changes::steps`] gives, as statements inside one transaction; the
//! audit events are appended to their tenants' chains last, so a chain
//! head's row lock is held only for the end of the transaction.

use std::borrow::Cow;

use portal_access_core::{
    AccountChange, AuditEvent, ChainHash, ChainPoint, ChangeStep, Changes, DeliveryOutcome,
    MessageId, SessionRevocation, StoreError, NOT_SENT_SUPERSEDED, REDACTED_BODY,
};
use sqlx::Database;

use crate::queries::{
    ADVANCE_AUDIT_HEAD, CLEAR_RATE_PREFIX, INSERT_ACCOUNT, INSERT_CHAINED_AUDIT, INSERT_DEVICE,
    INSERT_MESSAGE, INSERT_OPENING, INSERT_SESSION, INSERT_TOKEN, LOCK_AUDIT_HEAD, RECORD_FAILED,
    RECORD_RETRY, RECORD_SENT, RECORD_SUPERSEDED, REDEEM_TOKEN, REVOKE_DEVICES, REVOKE_SESSION,
    REVOKE_SESSIONS_OF_ACCOUNT, REVOKE_TOKENS, UPDATE_ACCOUNT, UPSERT_STAFF_VERIFICATION,
};
use crate::rows::{account_statement, chain_point, hash_arg, ip_arg, seq_arg};
use crate::{Arg, Backend, On, Statement};

/// Applies `changes` on `conn` (inside the commit's transaction). The first
/// refusal stops it; the caller rolls back.
pub(crate) async fn apply<D: Backend>(
    conn: &mut <D::Db as Database>::Connection,
    changes: &Changes,
) -> Result<(), StoreError> {
    let mut audit = Vec::new();
    for step in changes.steps() {
        let on = On::Tx(&mut *conn);
        match step {
            ChangeStep::Redeem(redeem) => {
                let statement = Statement::new(REDEEM_TOKEN)
                    .arg(redeem.at)
                    .arg(hash_arg(&redeem.hash))
                    .arg(redeem.kind.as_str());
                if D::fetch_optional(on, statement).await?.is_none() {
                    return Err(StoreError::TokenNotRedeemable);
                }
            }
            ChangeStep::Account(change) => {
                let statement = match change {
                    AccountChange::Insert(account) => account_statement(INSERT_ACCOUNT, account)?,
                    AccountChange::Update(account) => account_statement(UPDATE_ACCOUNT, account)?,
                };
                if D::execute(on, statement).await? != 1 {
                    return Err(StoreError::Conflict);
                }
            }
            ChangeStep::RevokeTokens(revocation) => {
                for kind in &revocation.kinds {
                    let statement = Statement::new(REVOKE_TOKENS)
                        .arg(revocation.at)
                        .arg(revocation.account_id.as_uuid())
                        .arg(revocation.tenant.as_str())
                        .arg(kind.as_str());
                    D::execute(On::Tx(&mut *conn), statement).await?;
                }
            }
            ChangeStep::NewToken(token) => {
                let statement = Statement::new(INSERT_TOKEN)
                    .arg(hash_arg(&token.hash))
                    .arg(token.kind.as_str())
                    .arg(token.tenant.as_str())
                    .arg(token.account_id.as_uuid())
                    .arg(token.created_at)
                    .arg(token.expires_at)
                    .arg(token.used_at)
                    .arg(token.revoked_at)
                    .arg(token.message_id.map(|m| m.as_uuid()));
                D::execute(on, statement).await?;
            }
            ChangeStep::RevokeSessions(revocation) => {
                let statement = match revocation {
                    SessionRevocation::AllOfAccount {
                        tenant,
                        account_id,
                        except,
                        at,
                    } => Statement::new(REVOKE_SESSIONS_OF_ACCOUNT)
                        .arg(*at)
                        .arg(account_id.as_uuid())
                        .arg(tenant.as_str())
                        .arg(except.as_ref().map(|h| &h.as_bytes()[..])),
                    SessionRevocation::One { hash, at } => {
                        Statement::new(REVOKE_SESSION).arg(*at).arg(hash_arg(hash))
                    }
                };
                D::execute(on, statement).await?;
            }
            ChangeStep::NewSession(session) => {
                let statement = Statement::new(INSERT_SESSION)
                    .arg(hash_arg(&session.hash))
                    .arg(session.tenant.as_str())
                    .arg(session.account_id.as_uuid())
                    .arg(session.created_at)
                    .arg(session.last_seen_at)
                    .arg(session.expires_at)
                    .arg(session.revoked_at)
                    .arg(ip_arg(session.ip))
                    .arg(session.user_agent.as_deref());
                D::execute(on, statement).await?;
            }
            ChangeStep::Queue(message) => {
                let statement = Statement::new(INSERT_MESSAGE)
                    .arg(message.id.as_uuid())
                    .arg(message.tenant.as_str())
                    .arg(message.account_id.map(|a| a.as_uuid()))
                    .arg(message.kind.as_str())
                    .arg(message.to.as_str())
                    .arg(message.to_name.as_deref())
                    .arg(message.subject.as_str())
                    .arg(message.text_body.as_str())
                    .arg(message.html_body.as_str())
                    .arg(message.token_hash.as_ref().map(|h| &h.as_bytes()[..]))
                    .arg(message.token_expires_at)
                    .arg(message.created_at)
                    .arg(false);
                D::execute(on, statement).await?;
            }
            ChangeStep::Audit(event) => audit.push(event),
            ChangeStep::Webhook(webhook) => {
                D::execute(on, crate::webhooks::insert(webhook)).await?;
            }
            ChangeStep::Delivery(record) => {
                let statement = delivery_statement(record.message, &record.outcome);
                D::execute(on, statement).await?;
            }
            ChangeStep::LinkOpening(opening) => {
                let statement = Statement::new(INSERT_OPENING)
                    .arg(hash_arg(&opening.token_hash))
                    .arg(opening.account_id.as_uuid())
                    .arg(opening.tenant.as_str())
                    .arg(opening.at)
                    .arg(ip_arg(opening.ip))
                    .arg(opening.user_agent.as_deref());
                D::execute(on, statement).await?;
            }
            ChangeStep::ClearRatePrefix(prefix) => {
                D::execute(on, Statement::new(CLEAR_RATE_PREFIX).arg(prefix)).await?;
            }
            ChangeStep::StaffVerification(verification) => {
                let statement = Statement::new(UPSERT_STAFF_VERIFICATION)
                    .arg(verification.tenant.as_str())
                    .arg(verification.staff_id.as_str())
                    .arg(verification.verified_until);
                D::execute(on, statement).await?;
            }
            ChangeStep::RevokeDevices(revocation) => {
                let statement = Statement::new(REVOKE_DEVICES)
                    .arg(revocation.at)
                    .arg(revocation.account_id.as_uuid())
                    .arg(revocation.tenant.as_str())
                    .arg(revocation.only.as_ref().map(|h| &h.as_bytes()[..]));
                D::execute(on, statement).await?;
            }
            ChangeStep::NewDevice(device) => {
                let statement = Statement::new(INSERT_DEVICE)
                    .arg(hash_arg(&device.hash))
                    .arg(device.tenant.as_str())
                    .arg(device.account_id.as_uuid())
                    .arg(device.created_at)
                    .arg(device.expires_at)
                    .arg(device.revoked_at)
                    .arg(ip_arg(device.ip))
                    .arg(device.user_agent.as_deref());
                D::execute(on, statement).await?;
            }
        }
    }
    append_audit::<D>(conn, &audit).await
}

/// Appends `events` to their tenants' chains, in the order given: per
/// tenant (in name order, so two commits never wait on each other's heads
/// crosswise), lock the head, insert each event with the next number and
/// hash, move the head.
async fn append_audit<D: Backend>(
    conn: &mut <D::Db as Database>::Connection,
    events: &[&AuditEvent],
) -> Result<(), StoreError> {
    let mut tenants: Vec<_> = events.iter().map(|event| &event.tenant).collect();
    tenants.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    tenants.dedup();
    for tenant in tenants {
        let lock = Statement::new(LOCK_AUDIT_HEAD)
            .arg(tenant.as_str())
            .arg(&ChainHash::GENESIS.as_bytes()[..]);
        let row = D::fetch_optional(On::Tx(&mut *conn), lock)
            .await?
            .ok_or_else(|| StoreError::backend("the chain head upsert returned no row"))?;
        let mut head: ChainPoint = chain_point::<D>(&row)?;
        for event in events.iter().filter(|event| &event.tenant == tenant) {
            head = head.next(event);
            let actor = serde_json::to_value(&event.actor).map_err(StoreError::backend)?;
            let statement = Statement::new(INSERT_CHAINED_AUDIT)
                .arg(event.id.as_uuid())
                .arg(event.tenant.as_str())
                .arg(event.account_id.map(|a| a.as_uuid()))
                .arg(Arg::Json(Cow::Owned(actor)))
                .arg(event.kind.as_str())
                .arg(event.at)
                .arg(ip_arg(event.ip))
                .arg(event.user_agent.as_deref())
                .arg(Arg::Json(Cow::Borrowed(&event.detail)))
                .arg(seq_arg(head.seq)?)
                .arg(&head.hash.as_bytes()[..]);
            D::execute(On::Tx(&mut *conn), statement).await?;
        }
        let advance = Statement::new(ADVANCE_AUDIT_HEAD)
            .arg(tenant.as_str())
            .arg(seq_arg(head.seq)?)
            .arg(&head.hash.as_bytes()[..]);
        D::execute(On::Tx(&mut *conn), advance).await?;
    }
    Ok(())
}

/// The statement that records one delivery attempt of message `id`
/// ([`AccountStore::record_delivery`](portal_access_core::AccountStore::record_delivery), or a commit's
/// [`ChangeStep::Delivery`](portal_access_core::ChangeStep::Delivery)).
pub(crate) fn delivery_statement(id: MessageId, outcome: &DeliveryOutcome) -> Statement<'_> {
    match outcome {
        DeliveryOutcome::Sent { at } => Statement::new(RECORD_SENT)
            .arg(id.as_uuid())
            .arg(*at)
            .arg(REDACTED_BODY)
            .arg(true),
        DeliveryOutcome::Retry {
            next_attempt_at,
            error,
        } => Statement::new(RECORD_RETRY)
            .arg(id.as_uuid())
            .arg(*next_attempt_at)
            .arg(error.as_str()),
        DeliveryOutcome::Failed { at, error } => Statement::new(RECORD_FAILED)
            .arg(id.as_uuid())
            .arg(*at)
            .arg(error.as_str()),
        DeliveryOutcome::Superseded { at } => Statement::new(RECORD_SUPERSEDED)
            .arg(id.as_uuid())
            .arg(*at)
            .arg(NOT_SENT_SUPERSEDED)
            .arg(REDACTED_BODY)
            .arg(true),
    }
}
