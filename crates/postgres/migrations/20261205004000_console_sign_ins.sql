-- Staff console sign-ins (SPEC.md section 11): the SHA-256 of the console
-- cookie's random value, whom it names and until when. In the store, so
-- every instance on the database knows it and a restart keeps it.
CREATE TABLE console_sign_ins (
    hash       bytea       NOT NULL PRIMARY KEY CHECK (length(hash) = 32),
    tenant     text        NOT NULL,
    staff_id   text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX console_sign_ins_expiry ON console_sign_ins (expires_at);
