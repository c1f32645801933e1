-- Secrets the server generates once and every instance shares (the CSRF
-- key, ...): written by one insert-if-absent, never overwritten.
CREATE TABLE server_secrets (
    name  TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
);

-- A message whose link died before it left is not sent: state 'superseded'.
-- SQLite cannot change a CHECK constraint, so the outbox is rebuilt with
-- the same columns, rows (and their seq) and indexes.
CREATE TABLE outbox_new (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               BLOB    NOT NULL UNIQUE,
    tenant           TEXT    NOT NULL,
    account_id       BLOB,
    kind             TEXT    NOT NULL,
    to_address       TEXT    NOT NULL,
    to_name          TEXT,
    subject          TEXT    NOT NULL,
    text_body        TEXT    NOT NULL,
    html_body        TEXT    NOT NULL,
    token_hash       BLOB,
    token_expires_at INTEGER,
    created_at       INTEGER NOT NULL,
    state            TEXT    NOT NULL
        CHECK (state IN ('queued', 'sent', 'retrying', 'failed', 'superseded')),
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER,
    last_error       TEXT,
    sent_at          INTEGER,
    failed_at        INTEGER,
    redacted         INTEGER NOT NULL CHECK (redacted IN (0, 1))
);
INSERT INTO outbox_new SELECT * FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (next_attempt_at, seq) WHERE state IN ('queued', 'retrying');
CREATE INDEX outbox_account ON outbox (account_id, created_at);
CREATE INDEX outbox_token_expiry ON outbox (token_expires_at) WHERE redacted = 0 AND token_hash IS NOT NULL;
