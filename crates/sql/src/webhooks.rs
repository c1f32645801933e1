//! The webhook outbox (`webhook_outbox`): its statements, its rows, and the
//! store operations over it, written like the message outbox's.

use portal_access_core::{
    AccountId, DeliveryOutcome, DeliveryState, HostEventType, NewWebhook, OutboxWebhook,
    StoreError, TenantId, WebhookId, NOT_SENT_SUPERSEDED,
};
use time::OffsetDateTime;

use crate::rows::{tenant, FromRow};
use crate::{corrupt, Backend, On, SqlRow, Statement};

macro_rules! webhook_columns {
    () => {
        "seq, id, tenant, account_id, endpoint, event_type, payload, created_at, state, \
         attempts, next_attempt_at, last_error, sent_at, failed_at"
    };
}

/// Queues a delivery (due at its creation, `$7`).
pub const INSERT_WEBHOOK: &str =
    "INSERT INTO webhook_outbox (id, tenant, account_id, endpoint, event_type, payload, \
     created_at, state, attempts, next_attempt_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', 0, $7)";

/// An account's deliveries, newest first.
pub const WEBHOOKS_FOR_ACCOUNT: &str = concat!(
    "SELECT ",
    webhook_columns!(),
    " FROM webhook_outbox WHERE account_id = $1 AND tenant = $2 \
     ORDER BY created_at DESC, seq DESC LIMIT $3"
);

const RECORD_SENT: &str = "UPDATE webhook_outbox SET state = 'sent', sent_at = $2, \
     attempts = attempts + 1, lease_until = NULL WHERE id = $1";

const RECORD_RETRY: &str = "UPDATE webhook_outbox SET state = 'retrying', next_attempt_at = $2, \
     last_error = $3, attempts = attempts + 1, lease_until = NULL WHERE id = $1";

const RECORD_FAILED: &str = "UPDATE webhook_outbox SET state = 'failed', failed_at = $2, \
     last_error = $3, attempts = attempts + 1, lease_until = NULL WHERE id = $1";

/// The lease statement with the dialect's lock clause (`$1` now, `$2`
/// lease until, `$3` limit).
pub fn lease_statement(lease_lock: &str) -> String {
    format!(
        concat!(
            "UPDATE webhook_outbox SET lease_until = $2 WHERE seq IN (\
             SELECT seq FROM webhook_outbox \
             WHERE state IN ('queued', 'retrying') AND next_attempt_at <= $1 \
             AND (lease_until IS NULL OR lease_until <= $1) \
             ORDER BY next_attempt_at, seq LIMIT $3 {}) \
             RETURNING ",
            webhook_columns!()
        ),
        lease_lock
    )
}

/// The statement that queues `webhook` (inside a commit).
pub(crate) fn insert(webhook: &NewWebhook) -> Statement<'_> {
    Statement::new(INSERT_WEBHOOK)
        .arg(webhook.id.as_uuid())
        .arg(webhook.tenant.as_str())
        .arg(webhook.account_id.map(|a| a.as_uuid()))
        .arg(webhook.endpoint.as_str())
        .arg(webhook.event_type.as_str())
        .arg(webhook.payload.as_str())
        .arg(webhook.created_at)
}

impl FromRow for OutboxWebhook {
    fn from_row<D: Backend>(row: &SqlRow<D>) -> Result<Self, StoreError> {
        let event_type = D::text(row, "event_type")?;
        let state = D::text(row, "state")?;
        Ok(OutboxWebhook {
            webhook: NewWebhook {
                id: WebhookId::from_uuid(D::uuid(row, "id")?),
                tenant: tenant::<D>(row)?,
                account_id: D::opt_uuid(row, "account_id")?.map(AccountId::from_uuid),
                endpoint: D::text(row, "endpoint")?,
                event_type: HostEventType::parse(&event_type)
                    .ok_or_else(|| corrupt("event_type", event_type))?,
                payload: D::text(row, "payload")?,
                created_at: D::time(row, "created_at")?,
            },
            state: DeliveryState::parse(&state).ok_or_else(|| corrupt("state", state))?,
            attempts: D::count(row, "attempts")?,
            next_attempt_at: D::time(row, "next_attempt_at")?,
            last_error: D::opt_text(row, "last_error")?,
            sent_at: D::opt_time(row, "sent_at")?,
            failed_at: D::opt_time(row, "failed_at")?,
        })
    }
}

/// Leases due deliveries, oldest due first.
pub(crate) async fn lease<D: Backend>(
    on: On<'_, D::Db>,
    sql: &'static str,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
    limit: u32,
) -> Result<Vec<OutboxWebhook>, StoreError> {
    let statement = Statement::new(sql).arg(now).arg(lease_until).arg(limit);
    let rows = D::fetch_all(on, statement).await?;
    let mut leased = rows
        .iter()
        .map(|row| Ok((OutboxWebhook::from_row::<D>(row)?, D::int(row, "seq")?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    // RETURNING gives no order: oldest due first, then queue order.
    leased.sort_by_key(|(webhook, seq)| (webhook.next_attempt_at, *seq));
    Ok(leased.into_iter().map(|(webhook, _)| webhook).collect())
}

/// Records one attempt's outcome and releases the lease.
pub(crate) async fn record<D: Backend>(
    on: On<'_, D::Db>,
    id: WebhookId,
    outcome: &DeliveryOutcome,
) -> Result<(), StoreError> {
    let statement = match outcome {
        DeliveryOutcome::Sent { at } => Statement::new(RECORD_SENT).arg(id.as_uuid()).arg(*at),
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
        DeliveryOutcome::Superseded { at } => Statement::new(RECORD_FAILED)
            .arg(id.as_uuid())
            .arg(*at)
            .arg(NOT_SENT_SUPERSEDED),
    };
    D::execute(on, statement).await?;
    Ok(())
}

/// An account's most recent deliveries (`$1` account, `$2` tenant, `$3`
/// limit).
pub(crate) fn for_account(tenant: &TenantId, account_id: AccountId, limit: u32) -> Statement<'_> {
    Statement::new(WEBHOOKS_FOR_ACCOUNT)
        .arg(account_id.as_uuid())
        .arg(tenant.as_str())
        .arg(limit)
}
