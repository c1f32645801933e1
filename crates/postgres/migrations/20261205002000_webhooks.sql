-- Webhook deliveries (SPEC.md section 10): one row per host event and
-- endpoint, written in the transaction of the change that caused it and
-- delivered like the message outbox (states, attempts, leases, backoff).
-- The endpoint's secret is not stored: it stays in the configuration.
CREATE TABLE webhook_outbox (
    seq             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              uuid        NOT NULL UNIQUE,
    tenant          text        NOT NULL,
    account_id      uuid,
    endpoint        text        NOT NULL,
    event_type      text        NOT NULL,
    payload         text        NOT NULL,
    created_at      timestamptz NOT NULL,
    state           text        NOT NULL CHECK (state IN ('queued', 'sent', 'retrying', 'failed')),
    attempts        integer     NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    lease_until     timestamptz,
    last_error      text,
    sent_at         timestamptz,
    failed_at       timestamptz
);
-- What the dispatcher leases (FOR UPDATE SKIP LOCKED): only pending rows.
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at, seq)
    WHERE state IN ('queued', 'retrying');
CREATE INDEX webhook_outbox_account ON webhook_outbox (account_id, created_at);
