-- Remembered devices (SPEC.md section 8): a browser that passed the second
-- factor with "remember this device" skips it for that account until
-- expires_at. Only the SHA-256 of the device cookie's token is stored.
CREATE TABLE remembered_devices (
    hash         BLOB    NOT NULL PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    account_id   BLOB    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX remembered_devices_account ON remembered_devices (account_id);
