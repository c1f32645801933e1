-- portal-access schema for SQLite.
-- Times are INTEGER microseconds since the Unix epoch (UTC): they sort and
-- compare as numbers and round-trip OffsetDateTime to the microsecond.
-- Ids are 16-byte UUID BLOBs; token and session hashes 32-byte SHA-256 BLOBs.

CREATE TABLE accounts (
    id                     BLOB    NOT NULL PRIMARY KEY,
    tenant                 TEXT    NOT NULL,
    contact_ref            TEXT,
    display_name           TEXT,
    email                  TEXT    NOT NULL,
    email_normalized       TEXT    NOT NULL,
    username               TEXT,
    username_key           TEXT,
    password_hash          TEXT,
    access                 TEXT    NOT NULL CHECK (access IN ('enabled', 'disabled')),
    archived               INTEGER NOT NULL CHECK (archived IN (0, 1)),
    invitation_state       TEXT    NOT NULL CHECK (invitation_state IN ('not_invited', 'pending', 'accepted')),
    invitation_sent_at     INTEGER,
    invitation_expires_at  INTEGER,
    invitation_accepted_at INTEGER,
    must_change_password   INTEGER NOT NULL CHECK (must_change_password IN (0, 1)),
    last_sign_in_at        INTEGER,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    version                INTEGER NOT NULL
);
-- The uniqueness rules of the domain (mapped to EmailTaken / UsernameTaken).
CREATE UNIQUE INDEX accounts_tenant_email_key ON accounts (tenant, email_normalized);
CREATE UNIQUE INDEX accounts_tenant_username_key ON accounts (tenant, username_key);

CREATE TABLE tokens (
    hash        BLOB    NOT NULL PRIMARY KEY,
    kind        TEXT    NOT NULL,
    tenant      TEXT    NOT NULL,
    account_id  BLOB    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    revoked_at  INTEGER,
    message_id  BLOB
);
CREATE INDEX tokens_account ON tokens (account_id, created_at);

CREATE TABLE sessions (
    hash         BLOB    NOT NULL PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    account_id   BLOB    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE rate_counters (
    key          TEXT    NOT NULL,
    window_start INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
) WITHOUT ROWID;
CREATE INDEX rate_counters_expiry ON rate_counters (expires_at);

CREATE TABLE staff_verification (
    tenant         TEXT    NOT NULL,
    staff_id       TEXT    NOT NULL,
    verified_until INTEGER NOT NULL,
    PRIMARY KEY (tenant, staff_id)
) WITHOUT ROWID;

CREATE TABLE audit_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         BLOB    NOT NULL UNIQUE,
    tenant     TEXT    NOT NULL,
    account_id BLOB,
    actor      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    ip         TEXT,
    user_agent TEXT,
    detail     TEXT    NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (account_id, at);

CREATE TABLE outbox (
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
    state            TEXT    NOT NULL CHECK (state IN ('queued', 'sent', 'retrying', 'failed')),
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER,
    last_error       TEXT,
    sent_at          INTEGER,
    failed_at        INTEGER,
    redacted         INTEGER NOT NULL CHECK (redacted IN (0, 1))
);
-- What the dispatcher leases: only pending rows are indexed.
CREATE INDEX outbox_due ON outbox (next_attempt_at, seq) WHERE state IN ('queued', 'retrying');
CREATE INDEX outbox_account ON outbox (account_id, created_at);
CREATE INDEX outbox_token_expiry ON outbox (token_expires_at) WHERE redacted = 0 AND token_hash IS NOT NULL;

CREATE TABLE link_openings (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash BLOB    NOT NULL,
    account_id BLOB    NOT NULL,
    tenant     TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    ip         TEXT,
    user_agent TEXT
);
CREATE INDEX link_openings_account ON link_openings (account_id, at);
