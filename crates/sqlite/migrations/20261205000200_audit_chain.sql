-- The audit chain (SPEC.md section 9; the encoding is in docs/audit.md).
-- Every event appended from now on carries its tenant's next sequence number
-- and hash = SHA-256(previous hash || seq || canonical body). Events recorded
-- before this migration keep chain_seq and hash NULL: they predate the chain,
-- are not part of any tenant's trail, and the chain of every tenant starts
-- at sequence 1 after the genesis hash (32 zero bytes).
ALTER TABLE audit_events ADD COLUMN chain_seq INTEGER;
ALTER TABLE audit_events ADD COLUMN hash BLOB CHECK (hash IS NULL OR length(hash) = 32);
-- One event per number per tenant: a fork cannot be stored; also the order
-- pages are read in.
CREATE UNIQUE INDEX audit_events_chain ON audit_events (tenant, chain_seq);

-- Each tenant's last appended event: read by the upsert that starts an
-- append (the last statements of a commit), moved at its end.
CREATE TABLE audit_heads (
    tenant TEXT    NOT NULL PRIMARY KEY,
    seq    INTEGER NOT NULL,
    hash   BLOB    NOT NULL CHECK (length(hash) = 32)
) WITHOUT ROWID;

-- Retention: the last removed event of each pruned tenant, where
-- verification starts.
CREATE TABLE audit_checkpoints (
    tenant        TEXT    NOT NULL PRIMARY KEY,
    seq           INTEGER NOT NULL,
    hash          BLOB    NOT NULL CHECK (length(hash) = 32),
    pruned_before INTEGER NOT NULL
) WITHOUT ROWID;
