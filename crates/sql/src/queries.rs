//! The statements of the store, written once: `$N` placeholders, column
//! lists as compile-time literals, and the few texts that differ by dialect
//! built once per dialect in [`Queries`].

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};

use crate::Dialect;

macro_rules! account_columns {
    () => {
        "id, tenant, contact_ref, display_name, email, email_normalized, \
         username, username_key, password_hash, access, archived, invitation_state, \
         invitation_sent_at, invitation_expires_at, invitation_accepted_at, must_change_password, \
         last_sign_in_at, created_at, updated_at, version, mfa, language"
    };
}

macro_rules! token_columns {
    () => {
        "hash, kind, tenant, account_id, created_at, expires_at, used_at, revoked_at, message_id"
    };
}

macro_rules! session_columns {
    () => {
        "hash, tenant, account_id, created_at, last_seen_at, expires_at, revoked_at, ip, user_agent"
    };
}

macro_rules! device_columns {
    () => {
        "hash, tenant, account_id, created_at, expires_at, revoked_at, ip, user_agent"
    };
}

macro_rules! outbox_columns {
    () => {
        "seq, id, tenant, account_id, kind, to_address, to_name, subject, \
         text_body, html_body, token_hash, token_expires_at, created_at, state, attempts, \
         next_attempt_at, last_error, sent_at, failed_at, redacted"
    };
}

macro_rules! audit_columns {
    () => {
        "id, tenant, account_id, actor, kind, at, ip, user_agent, detail"
    };
}

macro_rules! opening_columns {
    () => {
        "token_hash, account_id, tenant, at, ip, user_agent"
    };
}

// ------------------------------------------------------------------ accounts

/// Inserts an account: `$1..$22` in the accounts' column order.
pub const INSERT_ACCOUNT: &str = concat!(
    "INSERT INTO accounts (",
    account_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
     $18, $19, $20, $21, $22)"
);

/// Updates an account at the version it was read at (same arguments as
/// [`INSERT_ACCOUNT`]; `created_at` ($18) is not written).
pub const UPDATE_ACCOUNT: &str =
    "UPDATE accounts SET contact_ref = $3, display_name = $4, email = $5, \
     email_normalized = $6, username = $7, username_key = $8, password_hash = $9, \
     access = $10, archived = $11, invitation_state = $12, invitation_sent_at = $13, \
     invitation_expires_at = $14, invitation_accepted_at = $15, \
     must_change_password = $16, last_sign_in_at = $17, updated_at = $19, mfa = $21, \
     language = $22, version = version + 1 \
     WHERE id = $1 AND tenant = $2 AND version = $20";

/// An account by id and tenant.
pub const ACCOUNT: &str = concat!(
    "SELECT ",
    account_columns!(),
    " FROM accounts WHERE id = $1 AND tenant = $2"
);

/// A page of a tenant's accounts whose normalized email, username key or
/// lowercased contact reference is `LIKE $2` (a `%…%` pattern with `\\` as
/// its escape), newest first (`$3` limit, `$4` offset).
pub const SEARCH_ACCOUNTS: &str = concat!(
    "SELECT ",
    account_columns!(),
    " FROM accounts WHERE tenant = $1 AND (email_normalized LIKE $2 ESCAPE '\\' \
     OR username_key LIKE $2 ESCAPE '\\' OR lower(contact_ref) LIKE $2 ESCAPE '\\') \
     ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
);

/// An account by tenant and normalized email.
pub const ACCOUNT_BY_EMAIL: &str = concat!(
    "SELECT ",
    account_columns!(),
    " FROM accounts WHERE tenant = $1 AND email_normalized = $2"
);

/// An account by tenant and username key.
pub const ACCOUNT_BY_USERNAME: &str = concat!(
    "SELECT ",
    account_columns!(),
    " FROM accounts WHERE tenant = $1 AND username_key = $2"
);

// -------------------------------------------------------------------- tokens

/// Redeems a token: unused, unrevoked, unexpired at `$1`, of kind `$3`.
pub const REDEEM_TOKEN: &str = "UPDATE tokens SET used_at = $1 \
     WHERE hash = $2 AND kind = $3 AND used_at IS NULL AND revoked_at IS NULL \
     AND expires_at > $1 RETURNING hash";

/// Revokes an account's pending tokens of one kind.
pub const REVOKE_TOKENS: &str = "UPDATE tokens SET revoked_at = $1 \
     WHERE account_id = $2 AND tenant = $3 AND kind = $4 \
     AND used_at IS NULL AND revoked_at IS NULL";

/// Inserts a token.
pub const INSERT_TOKEN: &str = concat!(
    "INSERT INTO tokens (",
    token_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
);

/// A token by hash.
pub const TOKEN: &str = concat!("SELECT ", token_columns!(), " FROM tokens WHERE hash = $1");

// ------------------------------------------------------------------ sessions

/// Revokes every live session of an account but `$4` (if not null).
pub const REVOKE_SESSIONS_OF_ACCOUNT: &str = "UPDATE sessions SET revoked_at = $1 \
     WHERE account_id = $2 AND tenant = $3 AND revoked_at IS NULL \
     AND ($4 IS NULL OR hash <> $4)";

/// Revokes one live session.
pub const REVOKE_SESSION: &str =
    "UPDATE sessions SET revoked_at = $1 WHERE hash = $2 AND revoked_at IS NULL";

/// Inserts a session.
pub const INSERT_SESSION: &str = concat!(
    "INSERT INTO sessions (",
    session_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
);

/// A session by hash.
pub const SESSION: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE hash = $1"
);

/// Sets a session's `last_seen_at`.
pub const TOUCH_SESSION: &str = "UPDATE sessions SET last_seen_at = $1 WHERE hash = $2";

/// A session joined with its account (`LEFT JOIN`: the account may be gone):
/// the session's columns, its `created_at` as `session_created_at`, and the
/// account's columns but `tenant` (the session's, equal by the join).
pub static SESSION_AND_ACCOUNT: LazyLock<String> = LazyLock::new(|| {
    let account = account_columns!()
        .split(',')
        .map(str::trim)
        .filter(|column| *column != "tenant")
        .map(|column| format!("a.{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT s.hash, s.tenant, s.account_id, s.created_at AS session_created_at, \
         s.last_seen_at, s.expires_at, s.revoked_at, s.ip, s.user_agent, {account} \
         FROM sessions s LEFT JOIN accounts a ON a.id = s.account_id AND a.tenant = s.tenant \
         WHERE s.hash = $1"
    )
});

/// An account's unrevoked sessions, newest first (`$1` account, `$2`
/// tenant, `$3` limit).
pub const SESSIONS_FOR_ACCOUNT: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE account_id = $1 AND tenant = $2 AND revoked_at IS NULL \
     ORDER BY created_at DESC, hash DESC LIMIT $3"
);

// --------------------------------------------------------- remembered devices

/// Inserts a remembered device.
pub const INSERT_DEVICE: &str = concat!(
    "INSERT INTO remembered_devices (",
    device_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
);

/// Revokes an account's live devices (`$4`: only this one, if not null).
pub const REVOKE_DEVICES: &str = "UPDATE remembered_devices SET revoked_at = $1 \
     WHERE account_id = $2 AND tenant = $3 AND revoked_at IS NULL \
     AND ($4 IS NULL OR hash = $4)";

/// A remembered device by hash.
pub const DEVICE: &str = concat!(
    "SELECT ",
    device_columns!(),
    " FROM remembered_devices WHERE hash = $1"
);

/// An account's unrevoked devices, newest first (`$1` account, `$2`
/// tenant, `$3` limit).
pub const DEVICES_FOR_ACCOUNT: &str = concat!(
    "SELECT ",
    device_columns!(),
    " FROM remembered_devices WHERE account_id = $1 AND tenant = $2 AND revoked_at IS NULL \
     ORDER BY created_at DESC, hash DESC LIMIT $3"
);

// ------------------------------------------------------------- rate counters

/// Adds one to a counter (creating it) and returns the new count.
pub const HIT_RATE: &str =
    "INSERT INTO rate_counters (key, window_start, count, expires_at) VALUES ($1, $2, 1, $3) \
     ON CONFLICT (key, window_start) \
     DO UPDATE SET count = rate_counters.count + 1, expires_at = excluded.expires_at \
     RETURNING count";

/// A counter.
pub const RATE_COUNT: &str = "SELECT count FROM rate_counters WHERE key = $1 AND window_start = $2";

/// Deletes the counters whose key starts with `$1`: substr/length count
/// characters of text, so the prefix is literal (no LIKE wildcards).
pub const CLEAR_RATE_PREFIX: &str =
    "DELETE FROM rate_counters WHERE substr(key, 1, length($1)) = $1";

/// Deletes expired counters.
pub const PURGE_RATE_COUNTERS: &str = "DELETE FROM rate_counters WHERE expires_at <= $1";

// ------------------------------------------------------------ server secrets

/// Keeps a server secret unless one of that name exists (never overwrites).
pub const INSERT_SERVER_SECRET: &str =
    "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";

/// A server secret.
pub const SERVER_SECRET: &str = "SELECT value FROM server_secrets WHERE name = $1";

// ------------------------------------------------------- console sign-ins

/// Keeps a console sign-in.
pub const INSERT_CONSOLE_SIGN_IN: &str = "INSERT INTO console_sign_ins \
     (hash, tenant, staff_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";

/// A console sign-in that has not ended.
pub const CONSOLE_SIGN_IN: &str = "SELECT hash, tenant, staff_id, created_at, expires_at \
     FROM console_sign_ins WHERE hash = $1 AND expires_at > $2";

/// Ends a console sign-in.
pub const END_CONSOLE_SIGN_IN: &str = "DELETE FROM console_sign_ins WHERE hash = $1";

/// Deletes console sign-ins that ended.
pub const PURGE_CONSOLE_SIGN_INS: &str = "DELETE FROM console_sign_ins WHERE expires_at <= $1";

// -------------------------------------------------------- staff verification

/// Sets a staff member's verification state.
pub const UPSERT_STAFF_VERIFICATION: &str =
    "INSERT INTO staff_verification (tenant, staff_id, verified_until) VALUES ($1, $2, $3) \
     ON CONFLICT (tenant, staff_id) DO UPDATE SET verified_until = excluded.verified_until";

/// A staff member's verification state.
pub const STAFF_VERIFICATION: &str =
    "SELECT verified_until FROM staff_verification WHERE tenant = $1 AND staff_id = $2";

// ----------------------------------------------------- audit, link openings

/// An account's audit events, newest first.
pub const AUDIT_EVENTS: &str = concat!(
    "SELECT ",
    audit_columns!(),
    " FROM audit_events WHERE account_id = $1 AND tenant = $2 \
     ORDER BY at DESC, seq DESC LIMIT $3"
);

/// Locks a tenant's audit chain head (creating it at the start: `$2` the
/// genesis hash) and returns it: an upsert, so the first appends of a new
/// tenant queue on one row like every later one.
pub const LOCK_AUDIT_HEAD: &str = "INSERT INTO audit_heads (tenant, seq, hash) VALUES ($1, 0, $2) \
     ON CONFLICT (tenant) DO UPDATE SET seq = audit_heads.seq RETURNING seq, hash";

/// Appends an audit event to its chain: the event's columns, then
/// `chain_seq` ($10) and `hash` ($11).
pub const INSERT_CHAINED_AUDIT: &str = concat!(
    "INSERT INTO audit_events (",
    audit_columns!(),
    ", chain_seq, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
);

/// Moves a tenant's chain head to the last appended event.
pub const ADVANCE_AUDIT_HEAD: &str = "UPDATE audit_heads SET seq = $2, hash = $3 WHERE tenant = $1";

/// A page of a tenant's chain: after `$2`, at or after `$3`, at or before
/// `$4`, of account `$5`, of kind `$6` (a NULL filter passes), at most `$7`.
pub const AUDIT_PAGE: &str = concat!(
    "SELECT chain_seq, hash, ",
    audit_columns!(),
    " FROM audit_events WHERE tenant = $1 AND chain_seq > $2 \
     AND ($3 IS NULL OR at >= $3) AND ($4 IS NULL OR at <= $4) \
     AND ($5 IS NULL OR account_id = $5) AND ($6 IS NULL OR kind = $6) \
     ORDER BY chain_seq LIMIT $7"
);

/// A tenant's chain head.
pub const AUDIT_HEAD: &str = "SELECT seq, hash FROM audit_heads WHERE tenant = $1";

/// A tenant's retention checkpoint.
pub const AUDIT_CHECKPOINT: &str = "SELECT seq, hash FROM audit_checkpoints WHERE tenant = $1";

/// Every tenant with a chain.
pub const AUDIT_TENANTS: &str = "SELECT tenant FROM audit_heads ORDER BY tenant";

/// The last event of the tenant's longest chain prefix before `$2` (`$3`:
/// the largest number, for "every event is before").
pub const LAST_PRUNABLE_AUDIT: &str = "SELECT chain_seq AS seq, hash FROM audit_events \
     WHERE tenant = $1 AND chain_seq < COALESCE((SELECT MIN(chain_seq) FROM audit_events \
     WHERE tenant = $1 AND chain_seq IS NOT NULL AND at >= $2), $3) \
     ORDER BY chain_seq DESC LIMIT 1";

/// Deletes a tenant's chain up to and including `$2`.
pub const DELETE_AUDIT_PREFIX: &str =
    "DELETE FROM audit_events WHERE tenant = $1 AND chain_seq <= $2";

/// Records a tenant's retention checkpoint (`$4`: the cutoff it pruned to).
pub const UPSERT_AUDIT_CHECKPOINT: &str = "INSERT INTO audit_checkpoints \
     (tenant, seq, hash, pruned_before) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant) \
     DO UPDATE SET seq = excluded.seq, hash = excluded.hash, pruned_before = excluded.pruned_before";

/// Records a link opening.
pub const INSERT_OPENING: &str = concat!(
    "INSERT INTO link_openings (",
    opening_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6)"
);

/// An account's link openings, newest first.
pub const LINK_OPENINGS: &str = concat!(
    "SELECT ",
    opening_columns!(),
    " FROM link_openings WHERE account_id = $1 AND tenant = $2 \
     ORDER BY at DESC, seq DESC LIMIT $3"
);

// -------------------------------------------------------------------- outbox

/// Queues a message (due at its creation, `$12`; `$13` false).
pub const INSERT_MESSAGE: &str =
    "INSERT INTO outbox (id, tenant, account_id, kind, to_address, to_name, subject, \
     text_body, html_body, token_hash, token_expires_at, created_at, state, attempts, \
     next_attempt_at, redacted) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'queued', 0, $12, $13)";

/// An account's messages, newest first.
pub const MESSAGES_FOR_ACCOUNT: &str = concat!(
    "SELECT ",
    outbox_columns!(),
    " FROM outbox WHERE account_id = $1 AND tenant = $2 \
     ORDER BY created_at DESC, seq DESC LIMIT $3"
);

/// A sent message: bodies carrying a token are redacted (`$3` the redacted
/// body, `$4` true).
pub const RECORD_SENT: &str =
    "UPDATE outbox SET state = 'sent', sent_at = $2, attempts = attempts + 1, \
     lease_until = NULL, \
     text_body = CASE WHEN token_hash IS NULL THEN text_body ELSE $3 END, \
     html_body = CASE WHEN token_hash IS NULL THEN html_body ELSE $3 END, \
     redacted = CASE WHEN token_hash IS NULL THEN redacted ELSE $4 END \
     WHERE id = $1";

/// A failed attempt, to retry at `$2`.
pub const RECORD_RETRY: &str =
    "UPDATE outbox SET state = 'retrying', next_attempt_at = $2, last_error = $3, \
     attempts = attempts + 1, lease_until = NULL WHERE id = $1";

/// A message given up.
pub const RECORD_FAILED: &str =
    "UPDATE outbox SET state = 'failed', failed_at = $2, last_error = $3, \
     attempts = attempts + 1, lease_until = NULL WHERE id = $1";

/// A message not sent because its link died first: no attempt counted,
/// its token-carrying body redacted.
pub const RECORD_SUPERSEDED: &str =
    "UPDATE outbox SET state = 'superseded', failed_at = $2, last_error = $3, \
     lease_until = NULL, \
     text_body = CASE WHEN token_hash IS NULL THEN text_body ELSE $4 END, \
     html_body = CASE WHEN token_hash IS NULL THEN html_body ELSE $4 END, \
     redacted = CASE WHEN token_hash IS NULL THEN redacted ELSE $5 END \
     WHERE id = $1";

/// The texts that differ by dialect, built once per dialect from its
/// fragments ([`Queries::of`]).
#[derive(Debug)]
pub struct Queries {
    /// An account's tokens, newest first (ties: latest inserted first).
    pub tokens_for_account: String,
    /// Leases due messages (`$1` now, `$2` lease until, `$3` limit).
    pub lease_outbox: String,
    /// Redacts bodies whose token expired by `$1` (`$2` the redacted body,
    /// `$3` true).
    pub redact_expired: String,
    /// Leases due webhook deliveries (`$1` now, `$2` lease until, `$3` limit).
    pub lease_webhooks: String,
}

/// The [`Queries`] of each dialect, built on first use and kept for the
/// life of the process (one per dialect type).
static BUILT: LazyLock<Mutex<HashMap<TypeId, &'static Queries>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

impl Queries {
    /// The statements of dialect `D`, built once per process.
    pub fn of<D: Dialect>() -> &'static Queries {
        // A panic cannot leave the map half-written: poisoning is ignored.
        let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
        built.entry(TypeId::of::<D>()).or_insert_with(|| {
            Box::leak(Box::new(Queries::new(
                D::INSERTION_ORDER,
                D::LEASE_LOCK,
                D::NOT_REDACTED,
            )))
        })
    }

    /// The statements with the dialect's fragments:
    /// - `insertion_order`: the column that orders tokens by insertion
    ///   (`rowid` on SQLite, `seq` on PostgreSQL);
    /// - `lease_lock`: what the lease's inner `SELECT` ends with
    ///   (`FOR UPDATE SKIP LOCKED` on PostgreSQL; nothing on SQLite, whose
    ///   one statement takes the write lock before it reads);
    /// - `not_redacted`: the predicate "not yet redacted", written as the
    ///   partial index `outbox_token_expiry` is, so the planner uses it.
    pub fn new(insertion_order: &str, lease_lock: &str, not_redacted: &str) -> Self {
        Self {
            tokens_for_account: format!(
                concat!(
                    "SELECT ",
                    token_columns!(),
                    " FROM tokens WHERE account_id = $1 AND tenant = $2 \
                     ORDER BY created_at DESC, {} DESC LIMIT $3"
                ),
                insertion_order
            ),
            lease_outbox: format!(
                concat!(
                    "UPDATE outbox SET lease_until = $2 WHERE seq IN (\
                     SELECT seq FROM outbox \
                     WHERE state IN ('queued', 'retrying') AND next_attempt_at <= $1 \
                     AND (lease_until IS NULL OR lease_until <= $1) \
                     ORDER BY next_attempt_at, seq LIMIT $3 {}) \
                     RETURNING ",
                    outbox_columns!()
                ),
                lease_lock
            ),
            lease_webhooks: crate::webhooks::lease_statement(lease_lock),
            redact_expired: format!(
                "UPDATE outbox SET text_body = $2, html_body = $2, redacted = $3 \
                 WHERE {not_redacted} AND token_hash IS NOT NULL AND token_expires_at <= $1"
            ),
        }
    }
}
