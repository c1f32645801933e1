-- Secrets the server generates once and every instance shares (the CSRF
-- key, ...): written by one insert-if-absent, never overwritten.
CREATE TABLE server_secrets (
    name  TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
);
