-- portal-access schema for PostgreSQL (15+).
-- Times are timestamptz (microseconds); ids uuid; token and session hashes
-- 32-byte SHA-256 bytea (raw tokens are never stored).

CREATE TABLE accounts (
    id                     uuid        NOT NULL,
    tenant                 text        NOT NULL,
    contact_ref            text,
    display_name           text,
    email                  text        NOT NULL,
    email_normalized       text        NOT NULL,
    username               text,
    username_key           text,
    password_hash          text,
    access                 text        NOT NULL CHECK (access IN ('enabled', 'disabled')),
    archived               boolean     NOT NULL,
    invitation_state       text        NOT NULL
        CHECK (invitation_state IN ('not_invited', 'pending', 'accepted')),
    invitation_sent_at     timestamptz,
    invitation_expires_at  timestamptz,
    invitation_accepted_at timestamptz,
    must_change_password   boolean     NOT NULL,
    last_sign_in_at        timestamptz,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    version                bigint      NOT NULL,
    CONSTRAINT accounts_pkey PRIMARY KEY (id)
);
-- The uniqueness rules of the domain; the store maps a violation of each,
-- by name, to EmailTaken / UsernameTaken.
CREATE UNIQUE INDEX accounts_tenant_email_key ON accounts (tenant, email_normalized);
CREATE UNIQUE INDEX accounts_tenant_username_key ON accounts (tenant, username_key);

CREATE TABLE tokens (
    seq         bigint      GENERATED ALWAYS AS IDENTITY,
    hash        bytea       NOT NULL PRIMARY KEY CHECK (length(hash) = 32),
    kind        text        NOT NULL CHECK (kind IN ('invitation', 'password_reset', 'not_me')),
    tenant      text        NOT NULL,
    account_id  uuid        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    message_id  uuid
);
CREATE INDEX tokens_account ON tokens (account_id, created_at);

CREATE TABLE sessions (
    hash         bytea       NOT NULL PRIMARY KEY CHECK (length(hash) = 32),
    tenant       text        NOT NULL,
    account_id   uuid        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    ip           text,
    user_agent   text
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE rate_counters (
    key          text        NOT NULL,
    window_start timestamptz NOT NULL,
    count        integer     NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_counters_expiry ON rate_counters (expires_at);

CREATE TABLE staff_verification (
    tenant         text        NOT NULL,
    staff_id       text        NOT NULL,
    verified_until timestamptz NOT NULL,
    PRIMARY KEY (tenant, staff_id)
);

CREATE TABLE audit_events (
    seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         uuid        NOT NULL UNIQUE,
    tenant     text        NOT NULL,
    account_id uuid,
    actor      jsonb       NOT NULL,
    kind       text        NOT NULL,
    at         timestamptz NOT NULL,
    ip         text,
    user_agent text,
    detail     jsonb       NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (account_id, at);

CREATE TABLE outbox (
    seq              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               uuid        NOT NULL UNIQUE,
    tenant           text        NOT NULL,
    account_id       uuid,
    kind             text        NOT NULL,
    to_address       text        NOT NULL,
    to_name          text,
    subject          text        NOT NULL,
    text_body        text        NOT NULL,
    html_body        text        NOT NULL,
    token_hash       bytea,
    token_expires_at timestamptz,
    created_at       timestamptz NOT NULL,
    state            text        NOT NULL CHECK (state IN ('queued', 'sent', 'retrying', 'failed')),
    attempts         integer     NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    lease_until      timestamptz,
    last_error       text,
    sent_at          timestamptz,
    failed_at        timestamptz,
    redacted         boolean     NOT NULL
);
-- What the dispatcher leases (FOR UPDATE SKIP LOCKED): only pending rows.
CREATE INDEX outbox_due ON outbox (next_attempt_at, seq) WHERE state IN ('queued', 'retrying');
CREATE INDEX outbox_account ON outbox (account_id, created_at);
CREATE INDEX outbox_token_expiry ON outbox (token_expires_at)
    WHERE NOT redacted AND token_hash IS NOT NULL;

CREATE TABLE link_openings (
    seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash bytea       NOT NULL,
    account_id uuid        NOT NULL,
    tenant     text        NOT NULL,
    at         timestamptz NOT NULL,
    ip         text,
    user_agent text
);
CREATE INDEX link_openings_account ON link_openings (account_id, at);
