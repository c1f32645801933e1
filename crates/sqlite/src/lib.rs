//! # portal-access-sqlite
//!
//! [`SqliteStore`]: the [`AccountStore`] of portal-access on SQLite, for a
//! single server (any number of tasks, one database file).
//!
//! - The database enforces the domain's rules: unique indexes on
//!   `(tenant, email_normalized)` and `(tenant, username_key)`, a token
//!   redeemed by one conditional `UPDATE … RETURNING`, account updates
//!   `WHERE version = ?`, rate counters by `INSERT … ON CONFLICT DO UPDATE`.
//! - A commit is one `BEGIN IMMEDIATE` transaction: it takes the write lock
//!   up front, so concurrent commits queue (up to the busy timeout) instead
//!   of failing half way.
//! - WAL journal, `synchronous = NORMAL`, foreign keys on, a busy timeout;
//!   the file is created if missing. Times are stored as integer
//!   microseconds since the Unix epoch.
//! - Migrations are embedded and run by [`SqliteStore::connect`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), portal_access_core::StoreError> {
//! use portal_access_sqlite::SqliteStore;
//!
//! let store = SqliteStore::connect("sqlite://portal.db").await?;
//! # let _ = store;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod rows;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use portal_access_core::{
    Account, AccountChange, AccountId, AccountStore, AuditEvent, Changes, DeliveryOutcome,
    LinkOpening, MessageId, OutboxMessage, SessionRecord, SessionRevocation, StaffId,
    StaffVerification, StoreError, TenantId, TokenHash, TokenRecord, REDACTED_BODY,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use time::OffsetDateTime;

use rows::{micros, opt_micros, Decode};

/// Pool and connection settings of a [`SqliteStore`].
///
/// SQLite allows one writer at a time; writers wait for each other up to
/// `busy_timeout`. Readers run in parallel with the writer (WAL).
#[derive(Debug, Clone)]
pub struct SqliteStoreOptions {
    /// Most connections in the pool (default 8). An in-memory database
    /// always uses exactly one connection (each connection would otherwise
    /// see its own empty database).
    pub max_connections: u32,
    /// Connections kept open when idle (default 1).
    pub min_connections: u32,
    /// How long a writer waits for the write lock before failing (default 10 s).
    pub busy_timeout: Duration,
    /// How long a task waits for a free connection (default 30 s).
    pub acquire_timeout: Duration,
}

impl Default for SqliteStoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            min_connections: 1,
            busy_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

/// The [`AccountStore`] on SQLite. Cheap to clone (it holds a pool).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

/// The embedded migrations (`crates/sqlite/migrations`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl SqliteStore {
    /// Opens (creating it if missing) the database at `url` with default
    /// [`SqliteStoreOptions`] and runs the migrations.
    ///
    /// URLs: `sqlite://portal.db` (relative), `sqlite:///var/lib/portal.db`
    /// (absolute), `sqlite::memory:` (in memory, gone with the store).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, SqliteStoreOptions::default()).await
    }

    /// Like [`connect`](Self::connect), with explicit options.
    pub async fn connect_with(url: &str, options: SqliteStoreOptions) -> Result<Self, StoreError> {
        let connect = SqliteConnectOptions::from_str(url)
            .map_err(StoreError::backend)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let pool_options = SqlitePoolOptions::new().acquire_timeout(options.acquire_timeout);
        let pool_options = if in_memory {
            pool_options
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            pool_options
                .max_connections(options.max_connections.max(1))
                .min_connections(options.min_connections)
        };
        let pool = pool_options
            .connect_with(connect)
            .await
            .map_err(StoreError::backend)?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// Wraps an existing pool (its connections should have foreign keys on
    /// and a busy timeout). Does not migrate: call [`migrate`](Self::migrate).
    pub fn from_pool(pool: SqlitePool) -> Self {
        Self { pool }
    }

    /// Runs the embedded migrations that have not run yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(StoreError::backend)
    }

    /// The connection pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection of the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Maps a driver error to a domain refusal where a constraint says so.
fn map_error(error: sqlx::Error) -> StoreError {
    if let Some(db) = error.as_database_error() {
        if db.is_unique_violation() {
            // SQLite names the columns: "UNIQUE constraint failed: accounts.tenant, accounts.username_key".
            let message = db.message();
            if message.contains("accounts.username_key") {
                return StoreError::UsernameTaken;
            }
            if message.contains("accounts.email_normalized") {
                return StoreError::EmailTaken;
            }
            if message.contains("accounts.id") {
                return StoreError::Conflict;
            }
        }
    }
    StoreError::backend(error)
}

const ACCOUNT_COLUMNS: &str = "id, tenant, contact_ref, display_name, email, email_normalized, \
     username, username_key, password_hash, access, archived, invitation_state, \
     invitation_sent_at, invitation_expires_at, invitation_accepted_at, must_change_password, \
     last_sign_in_at, created_at, updated_at, version";

const TOKEN_COLUMNS: &str =
    "hash, kind, tenant, account_id, created_at, expires_at, used_at, revoked_at, message_id";

const SESSION_COLUMNS: &str =
    "hash, tenant, account_id, created_at, last_seen_at, expires_at, revoked_at, ip, user_agent";

/// A session joined with its account (`LEFT JOIN`: the account may be gone):
/// the session's columns, its `created_at` as `session_created_at`, and the
/// account's columns but `tenant` (the session's, equal by the join).
static SESSION_AND_ACCOUNT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let account = ACCOUNT_COLUMNS
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
         WHERE s.hash = ?1"
    )
});

const OUTBOX_COLUMNS: &str = "seq, id, tenant, account_id, kind, to_address, to_name, subject, \
     text_body, html_body, token_hash, token_expires_at, created_at, state, attempts, \
     next_attempt_at, last_error, sent_at, failed_at, redacted";

/// `SELECT <columns> FROM <table> <tail>`, built once per call site.
macro_rules! select {
    ($columns:expr, $rest:literal) => {
        sqlx::AssertSqlSafe(format!("SELECT {} {}", $columns, $rest))
    };
}

async fn write_account(
    tx: &mut Transaction<'static, Sqlite>,
    change: &AccountChange,
) -> Result<(), StoreError> {
    let (account, sql) = match change {
        AccountChange::Insert(a) => (
            a,
            "INSERT INTO accounts (id, tenant, contact_ref, display_name, email, email_normalized, \
             username, username_key, password_hash, access, archived, invitation_state, \
             invitation_sent_at, invitation_expires_at, invitation_accepted_at, \
             must_change_password, last_sign_in_at, created_at, updated_at, version) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
             ?18, ?19, ?20)",
        ),
        AccountChange::Update(a) => (
            a,
            "UPDATE accounts SET contact_ref = ?3, display_name = ?4, email = ?5, \
             email_normalized = ?6, username = ?7, username_key = ?8, password_hash = ?9, \
             access = ?10, archived = ?11, invitation_state = ?12, invitation_sent_at = ?13, \
             invitation_expires_at = ?14, invitation_accepted_at = ?15, \
             must_change_password = ?16, last_sign_in_at = ?17, updated_at = ?19, \
             version = version + 1 \
             WHERE id = ?1 AND tenant = ?2 AND version = ?20",
        ),
    };
    let invitation = rows::InvitationColumns::from(&account.invitation);
    let result = sqlx::query(sql)
        .bind(account.id.as_uuid())
        .bind(account.tenant.as_str())
        .bind(account.contact_ref.as_deref())
        .bind(account.display_name.as_deref())
        .bind(account.email.as_str())
        .bind(account.email.normalized())
        .bind(account.username.as_ref().map(|u| u.as_str()))
        .bind(account.username.as_ref().map(|u| u.key()))
        .bind(account.password_hash.as_ref().map(|h| h.as_str()))
        .bind(rows::access_str(account.access))
        .bind(account.archived)
        .bind(invitation.state)
        .bind(invitation.sent_at)
        .bind(invitation.expires_at)
        .bind(invitation.accepted_at)
        .bind(account.must_change_password)
        .bind(opt_micros(account.last_sign_in_at))
        .bind(micros(account.created_at))
        .bind(micros(account.updated_at))
        .bind(account.version)
        .execute(&mut **tx)
        .await
        .map_err(map_error)?;
    if result.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

async fn apply(tx: &mut Transaction<'static, Sqlite>, changes: &Changes) -> Result<(), StoreError> {
    if let Some(redeem) = &changes.redeem {
        let redeemed = sqlx::query(
            "UPDATE tokens SET used_at = ?1 \
             WHERE hash = ?2 AND kind = ?3 AND used_at IS NULL AND revoked_at IS NULL \
             AND expires_at > ?1 RETURNING hash",
        )
        .bind(micros(redeem.at))
        .bind(&redeem.hash.as_bytes()[..])
        .bind(redeem.kind.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(map_error)?;
        if redeemed.is_none() {
            return Err(StoreError::TokenNotRedeemable);
        }
    }
    if let Some(change) = &changes.account {
        write_account(tx, change).await?;
    }
    for revocation in &changes.revoke_tokens {
        for kind in &revocation.kinds {
            sqlx::query(
                "UPDATE tokens SET revoked_at = ?1 \
                 WHERE account_id = ?2 AND tenant = ?3 AND kind = ?4 \
                 AND used_at IS NULL AND revoked_at IS NULL",
            )
            .bind(micros(revocation.at))
            .bind(revocation.account_id.as_uuid())
            .bind(revocation.tenant.as_str())
            .bind(kind.as_str())
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
        }
    }
    for token in &changes.new_tokens {
        sqlx::query(
            "INSERT INTO tokens (hash, kind, tenant, account_id, created_at, expires_at, used_at, \
             revoked_at, message_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(&token.hash.as_bytes()[..])
        .bind(token.kind.as_str())
        .bind(token.tenant.as_str())
        .bind(token.account_id.as_uuid())
        .bind(micros(token.created_at))
        .bind(micros(token.expires_at))
        .bind(opt_micros(token.used_at))
        .bind(opt_micros(token.revoked_at))
        .bind(token.message_id.map(|m| m.as_uuid()))
        .execute(&mut **tx)
        .await
        .map_err(map_error)?;
    }
    for revocation in &changes.revoke_sessions {
        match revocation {
            SessionRevocation::AllOfAccount {
                tenant,
                account_id,
                except,
                at,
            } => {
                sqlx::query(
                    "UPDATE sessions SET revoked_at = ?1 \
                     WHERE account_id = ?2 AND tenant = ?3 AND revoked_at IS NULL \
                     AND (?4 IS NULL OR hash <> ?4)",
                )
                .bind(micros(*at))
                .bind(account_id.as_uuid())
                .bind(tenant.as_str())
                .bind(except.as_ref().map(|h| h.as_bytes().to_vec()))
                .execute(&mut **tx)
                .await
                .map_err(map_error)?;
            }
            SessionRevocation::One { hash, at } => {
                sqlx::query(
                    "UPDATE sessions SET revoked_at = ?1 WHERE hash = ?2 AND revoked_at IS NULL",
                )
                .bind(micros(*at))
                .bind(&hash.as_bytes()[..])
                .execute(&mut **tx)
                .await
                .map_err(map_error)?;
            }
        }
    }
    if let Some(session) = &changes.new_session {
        sqlx::query(
            "INSERT INTO sessions (hash, tenant, account_id, created_at, last_seen_at, expires_at, \
             revoked_at, ip, user_agent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(&session.hash.as_bytes()[..])
        .bind(session.tenant.as_str())
        .bind(session.account_id.as_uuid())
        .bind(micros(session.created_at))
        .bind(micros(session.last_seen_at))
        .bind(micros(session.expires_at))
        .bind(opt_micros(session.revoked_at))
        .bind(session.ip.map(|ip| ip.to_string()))
        .bind(session.user_agent.as_deref())
        .execute(&mut **tx)
        .await
        .map_err(map_error)?;
    }
    for message in &changes.outbox {
        sqlx::query(
            "INSERT INTO outbox (id, tenant, account_id, kind, to_address, to_name, subject, \
             text_body, html_body, token_hash, token_expires_at, created_at, state, attempts, \
             next_attempt_at, redacted) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'queued', 0, ?12, 0)",
        )
        .bind(message.id.as_uuid())
        .bind(message.tenant.as_str())
        .bind(message.account_id.map(|a| a.as_uuid()))
        .bind(message.kind.as_str())
        .bind(message.to.as_str())
        .bind(message.to_name.as_deref())
        .bind(message.subject.as_str())
        .bind(message.text_body.as_str())
        .bind(message.html_body.as_str())
        .bind(message.token_hash.map(|h| h.as_bytes().to_vec()))
        .bind(opt_micros(message.token_expires_at))
        .bind(micros(message.created_at))
        .execute(&mut **tx)
        .await
        .map_err(map_error)?;
    }
    for event in &changes.audit {
        sqlx::query(
            "INSERT INTO audit_events (id, tenant, account_id, actor, kind, at, ip, user_agent, \
             detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(event.id.as_uuid())
        .bind(event.tenant.as_str())
        .bind(event.account_id.map(|a| a.as_uuid()))
        .bind(serde_json::to_string(&event.actor).map_err(StoreError::backend)?)
        .bind(event.kind.as_str())
        .bind(micros(event.at))
        .bind(event.ip.map(|ip| ip.to_string()))
        .bind(event.user_agent.as_deref())
        .bind(serde_json::to_string(&event.detail).map_err(StoreError::backend)?)
        .execute(&mut **tx)
        .await
        .map_err(map_error)?;
    }
    for opening in &changes.link_openings {
        sqlx::query(
            "INSERT INTO link_openings (token_hash, account_id, tenant, at, ip, user_agent) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(&opening.token_hash.as_bytes()[..])
        .bind(opening.account_id.as_uuid())
        .bind(opening.tenant.as_str())
        .bind(micros(opening.at))
        .bind(opening.ip.map(|ip| ip.to_string()))
        .bind(opening.user_agent.as_deref())
        .execute(&mut **tx)
        .await
        .map_err(map_error)?;
    }
    for prefix in &changes.clear_rate_prefixes {
        // substr/length count characters on TEXT, so the prefix is literal
        // (no LIKE wildcards).
        sqlx::query("DELETE FROM rate_counters WHERE substr(key, 1, length(?1)) = ?1")
            .bind(prefix.as_str())
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
    }
    if let Some(verification) = &changes.staff_verification {
        sqlx::query(
            "INSERT INTO staff_verification (tenant, staff_id, verified_until) VALUES (?1, ?2, ?3) \
             ON CONFLICT (tenant, staff_id) DO UPDATE SET verified_until = excluded.verified_until",
        )
        .bind(verification.tenant.as_str())
        .bind(verification.staff_id.as_str())
        .bind(micros(verification.verified_until))
        .execute(&mut **tx)
        .await
        .map_err(map_error)?;
    }
    Ok(())
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn commit(&self, changes: Changes) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_error)?;
        match apply(&mut tx, &changes).await {
            Ok(()) => tx.commit().await.map_err(map_error),
            Err(refusal) => {
                tx.rollback().await.map_err(map_error)?;
                Err(refusal)
            }
        }
    }

    async fn account(
        &self,
        tenant: &TenantId,
        id: AccountId,
    ) -> Result<Option<Account>, StoreError> {
        sqlx::query(select!(
            ACCOUNT_COLUMNS,
            "FROM accounts WHERE id = ?1 AND tenant = ?2"
        ))
        .bind(id.as_uuid())
        .bind(tenant.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?
        .map(|row| Account::decode(&row))
        .transpose()
    }

    async fn account_by_email(
        &self,
        tenant: &TenantId,
        normalized_email: &str,
    ) -> Result<Option<Account>, StoreError> {
        sqlx::query(select!(
            ACCOUNT_COLUMNS,
            "FROM accounts WHERE tenant = ?1 AND email_normalized = ?2"
        ))
        .bind(tenant.as_str())
        .bind(normalized_email)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?
        .map(|row| Account::decode(&row))
        .transpose()
    }

    async fn account_by_username(
        &self,
        tenant: &TenantId,
        username_key: &str,
    ) -> Result<Option<Account>, StoreError> {
        sqlx::query(select!(
            ACCOUNT_COLUMNS,
            "FROM accounts WHERE tenant = ?1 AND username_key = ?2"
        ))
        .bind(tenant.as_str())
        .bind(username_key)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?
        .map(|row| Account::decode(&row))
        .transpose()
    }

    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query(select!(TOKEN_COLUMNS, "FROM tokens WHERE hash = ?1"))
            .bind(&hash.as_bytes()[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(map_error)?
            .map(|row| TokenRecord::decode(&row))
            .transpose()
    }

    async fn tokens_for_account(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        sqlx::query(select!(
            TOKEN_COLUMNS,
            "FROM tokens WHERE account_id = ?1 AND tenant = ?2 \
             ORDER BY created_at DESC, rowid DESC LIMIT ?3"
        ))
        .bind(account_id.as_uuid())
        .bind(tenant.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?
        .iter()
        .map(TokenRecord::decode)
        .collect()
    }

    async fn session(&self, hash: &TokenHash) -> Result<Option<SessionRecord>, StoreError> {
        sqlx::query(select!(SESSION_COLUMNS, "FROM sessions WHERE hash = ?1"))
            .bind(&hash.as_bytes()[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(map_error)?
            .map(|row| SessionRecord::decode(&row))
            .transpose()
    }

    async fn session_and_account(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<(SessionRecord, Option<Account>)>, StoreError> {
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(SESSION_AND_ACCOUNT.as_str()))
            .bind(&hash.as_bytes()[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(map_error)?
        else {
            return Ok(None);
        };
        let session = rows::decode_session(&row, "session_created_at")?;
        let account_gone =
            sqlx::ValueRef::is_null(&row.try_get_raw("id").map_err(StoreError::backend)?);
        let account = if account_gone {
            None
        } else {
            Some(Account::decode(&row)?)
        };
        Ok(Some((session, account)))
    }

    async fn touch_session(&self, hash: &TokenHash, at: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen_at = ?1 WHERE hash = ?2")
            .bind(micros(at))
            .bind(&hash.as_bytes()[..])
            .execute(&self.pool)
            .await
            .map_err(map_error)?;
        Ok(())
    }

    async fn hit_rate(
        &self,
        key: &str,
        window_start: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<u32, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "INSERT INTO rate_counters (key, window_start, count, expires_at) VALUES (?1, ?2, 1, ?3) \
             ON CONFLICT (key, window_start) \
             DO UPDATE SET count = count + 1, expires_at = excluded.expires_at RETURNING count",
        )
        .bind(key)
        .bind(micros(window_start))
        .bind(micros(expires_at))
        .fetch_one(&self.pool)
        .await
        .map_err(map_error)?;
        rows::count(count)
    }

    async fn rate_count(&self, key: &str, window_start: OffsetDateTime) -> Result<u32, StoreError> {
        let count: Option<i64> = sqlx::query_scalar(
            "SELECT count FROM rate_counters WHERE key = ?1 AND window_start = ?2",
        )
        .bind(key)
        .bind(micros(window_start))
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        rows::count(count.unwrap_or(0))
    }

    async fn staff_verification(
        &self,
        tenant: &TenantId,
        staff_id: &StaffId,
    ) -> Result<Option<StaffVerification>, StoreError> {
        let until: Option<i64> = sqlx::query_scalar(
            "SELECT verified_until FROM staff_verification WHERE tenant = ?1 AND staff_id = ?2",
        )
        .bind(tenant.as_str())
        .bind(staff_id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        until
            .map(|until| {
                Ok(StaffVerification {
                    tenant: tenant.clone(),
                    staff_id: staff_id.clone(),
                    verified_until: rows::from_micros(until)?,
                })
            })
            .transpose()
    }

    async fn audit_events(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        sqlx::query(
            "SELECT id, tenant, account_id, actor, kind, at, ip, user_agent, detail \
             FROM audit_events WHERE account_id = ?1 AND tenant = ?2 \
             ORDER BY at DESC, seq DESC LIMIT ?3",
        )
        .bind(account_id.as_uuid())
        .bind(tenant.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?
        .iter()
        .map(AuditEvent::decode)
        .collect()
    }

    async fn messages_for_account(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        sqlx::query(select!(
            OUTBOX_COLUMNS,
            "FROM outbox WHERE account_id = ?1 AND tenant = ?2 \
             ORDER BY created_at DESC, seq DESC LIMIT ?3"
        ))
        .bind(account_id.as_uuid())
        .bind(tenant.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?
        .iter()
        .map(OutboxMessage::decode)
        .collect()
    }

    async fn link_openings(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<LinkOpening>, StoreError> {
        sqlx::query(
            "SELECT token_hash, account_id, tenant, at, ip, user_agent FROM link_openings \
             WHERE account_id = ?1 AND tenant = ?2 ORDER BY at DESC, seq DESC LIMIT ?3",
        )
        .bind(account_id.as_uuid())
        .bind(tenant.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?
        .iter()
        .map(LinkOpening::decode)
        .collect()
    }

    async fn lease_outbox(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        // One statement: SQLite takes the write lock before it reads, so no
        // two callers can pick the same rows.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET lease_until = ?2 WHERE seq IN (\
                 SELECT seq FROM outbox \
                 WHERE state IN ('queued', 'retrying') AND next_attempt_at <= ?1 \
                 AND (lease_until IS NULL OR lease_until <= ?1) \
                 ORDER BY next_attempt_at, seq LIMIT ?3) \
             RETURNING {OUTBOX_COLUMNS}"
        )))
        .bind(micros(now))
        .bind(micros(lease_until))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        let mut leased = rows
            .iter()
            .map(|row| {
                Ok((
                    OutboxMessage::decode(row)?,
                    row.try_get::<i64, _>("seq").map_err(StoreError::backend)?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        leased.sort_by_key(|(message, seq)| (message.next_attempt_at, *seq));
        Ok(leased.into_iter().map(|(message, _)| message).collect())
    }

    async fn record_delivery(
        &self,
        id: MessageId,
        outcome: DeliveryOutcome,
    ) -> Result<(), StoreError> {
        let query = match &outcome {
            DeliveryOutcome::Sent { at } => sqlx::query(
                "UPDATE outbox SET state = 'sent', sent_at = ?2, attempts = attempts + 1, \
                 lease_until = NULL, \
                 text_body = CASE WHEN token_hash IS NULL THEN text_body ELSE ?3 END, \
                 html_body = CASE WHEN token_hash IS NULL THEN html_body ELSE ?3 END, \
                 redacted = CASE WHEN token_hash IS NULL THEN redacted ELSE 1 END \
                 WHERE id = ?1",
            )
            .bind(id.as_uuid())
            .bind(micros(*at))
            .bind(REDACTED_BODY),
            DeliveryOutcome::Retry {
                next_attempt_at,
                error,
            } => sqlx::query(
                "UPDATE outbox SET state = 'retrying', next_attempt_at = ?2, last_error = ?3, \
                 attempts = attempts + 1, lease_until = NULL WHERE id = ?1",
            )
            .bind(id.as_uuid())
            .bind(micros(*next_attempt_at))
            .bind(error.as_str()),
            DeliveryOutcome::Failed { at, error } => sqlx::query(
                "UPDATE outbox SET state = 'failed', failed_at = ?2, last_error = ?3, \
                 attempts = attempts + 1, lease_until = NULL WHERE id = ?1",
            )
            .bind(id.as_uuid())
            .bind(micros(*at))
            .bind(error.as_str()),
        };
        query.execute(&self.pool).await.map_err(map_error)?;
        Ok(())
    }

    async fn redact_expired_bodies(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE outbox SET text_body = ?2, html_body = ?2, redacted = 1 \
             WHERE redacted = 0 AND token_hash IS NOT NULL AND token_expires_at <= ?1",
        )
        .bind(micros(now))
        .bind(REDACTED_BODY)
        .execute(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(result.rows_affected())
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM rate_counters WHERE expires_at <= ?1")
            .bind(micros(now))
            .execute(&self.pool)
            .await
            .map_err(map_error)?;
        Ok(result.rows_affected())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_error)?;
        Ok(())
    }
}
