-- Webhook deliveries (SPEC.md section 10): one row per host event and
-- endpoint, written in the transaction of the change that caused it and
-- delivered like the message outbox (states, attempts, leases, backoff).
-- The endpoint's secret is not stored: it stays in the configuration.
CREATE TABLE webhook_outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              BLOB    NOT NULL UNIQUE,
    tenant          TEXT    NOT NULL,
    account_id      BLOB,
    endpoint        TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('queued', 'sent', 'retrying', 'failed')),
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    last_error      TEXT,
    sent_at         INTEGER,
    failed_at       INTEGER
);
-- What the dispatcher leases: only pending rows are indexed.
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at, seq)
    WHERE state IN ('queued', 'retrying');
CREATE INDEX webhook_outbox_account ON webhook_outbox (account_id, created_at);
