-- Secrets the server generates once and every instance shares (the CSRF
-- key, ...): written by one insert-if-absent, never overwritten.
CREATE TABLE server_secrets (
    name  text  NOT NULL PRIMARY KEY,
    value bytea NOT NULL
);

-- A message whose link died before it left is not sent: state 'superseded'.
ALTER TABLE outbox DROP CONSTRAINT outbox_state_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_state_check
    CHECK (state IN ('queued', 'sent', 'retrying', 'failed', 'superseded'));
