-- Remembered devices (SPEC.md section 8): a browser that passed the second
-- factor with "remember this device" skips it for that account until
-- expires_at. Only the SHA-256 of the device cookie's token is stored.
CREATE TABLE remembered_devices (
    hash         bytea       NOT NULL PRIMARY KEY CHECK (length(hash) = 32),
    tenant       text        NOT NULL,
    account_id   uuid        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    ip           text,
    user_agent   text
);
CREATE INDEX remembered_devices_account ON remembered_devices (account_id);
