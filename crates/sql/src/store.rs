//! [`SqlStore`]: the [`AccountStore`] over any [`Dialect`].

use std::fmt;
use std::marker::PhantomData;

use async_trait::async_trait;
use portal_access_core::{
    Account, AccountId, AccountSearch, AccountStore, AuditEvent, AuditQuery, ChainEnds, ChainPoint,
    ChainedEvent, Changes, ConsoleSignIn, DeliveryOutcome, DeviceRecord, LinkOpening, MessageId,
    OutboxMessage, OutboxWebhook, ServerSecret, SessionRecord, StaffId, StaffVerification,
    StoreError, TenantId, TokenHash, TokenRecord, WebhookId, REDACTED_BODY,
};
use sqlx::{Pool, Transaction};
use time::OffsetDateTime;

use crate::commit::apply;
use crate::queries::{
    ACCOUNT, ACCOUNT_BY_EMAIL, ACCOUNT_BY_USERNAME, AUDIT_CHECKPOINT, AUDIT_EVENTS, AUDIT_HEAD,
    AUDIT_PAGE, AUDIT_TENANTS, CONSOLE_SIGN_IN, DELETE_AUDIT_PREFIX, DEVICE, DEVICES_FOR_ACCOUNT,
    END_CONSOLE_SIGN_IN, HIT_RATE, INSERT_CONSOLE_SIGN_IN, INSERT_SERVER_SECRET,
    LAST_PRUNABLE_AUDIT, LINK_OPENINGS, MESSAGES_FOR_ACCOUNT, PURGE_CONSOLE_SIGN_INS,
    PURGE_RATE_COUNTERS, RATE_COUNT, SEARCH_ACCOUNTS, SERVER_SECRET, SESSION, SESSIONS_FOR_ACCOUNT,
    SESSION_AND_ACCOUNT, STAFF_VERIFICATION, TOKEN, TOUCH_SESSION, UPSERT_AUDIT_CHECKPOINT,
};
use crate::rows::{chain_point, hash_arg, seq_arg, session, tenant, FromRow};
use crate::webhooks;
use crate::{Backend, ConnectOptionsOf, Dialect, On, Queries, SqlRow, Statement, Target};

/// The [`AccountStore`] on the SQL database of dialect `D`. Cheap to clone
/// (it holds a pool). The adapter crates name it `SqliteStore` /
/// `PostgresStore`; their crate documentation says how each connects.
pub struct SqlStore<D: Dialect> {
    pool: Pool<D::Db>,
    /// The dialect's statements, built once per dialect.
    queries: &'static Queries,
    dialect: PhantomData<fn() -> D>,
}

impl<D: Dialect> Clone for SqlStore<D> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            queries: self.queries,
            dialect: PhantomData,
        }
    }
}

impl<D: Dialect> fmt::Debug for SqlStore<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("pool", &self.pool)
            .finish()
    }
}

impl<D: Dialect> SqlStore<D> {
    /// Wraps an existing pool. Does not migrate: call [`migrate`](Self::migrate).
    pub fn from_pool(pool: Pool<D::Db>) -> Self {
        Self {
            pool,
            queries: Queries::of::<D>(),
            dialect: PhantomData,
        }
    }

    /// The connection pool.
    pub fn pool(&self) -> &Pool<D::Db> {
        &self.pool
    }

    /// Closes every connection of the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Runs the embedded migrations that have not run yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        D::migrate(&self.pool).await.map_err(StoreError::backend)
    }

    /// Connects to `url` with default options and runs the migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, D::Options::default()).await
    }

    /// Like [`connect`](Self::connect), with explicit options.
    pub async fn connect_with(url: &str, options: D::Options) -> Result<Self, StoreError> {
        Self::open(Target::Url(url), options).await
    }

    /// Connects with explicit connection and pool options and runs the
    /// migrations.
    pub async fn connect_options(
        connect: ConnectOptionsOf<D>,
        options: D::Options,
    ) -> Result<Self, StoreError> {
        Self::open(Target::Options(connect), options).await
    }

    async fn open(
        target: Target<'_, ConnectOptionsOf<D>>,
        options: D::Options,
    ) -> Result<Self, StoreError> {
        let (pool, connect) = D::pool_options(target, &options)?;
        let pool = pool
            .connect_with(connect)
            .await
            .map_err(StoreError::backend)?;
        let store = Self::from_pool(pool);
        store.migrate().await?;
        Ok(store)
    }
}

impl<D: Backend> SqlStore<D> {
    fn on(&self) -> On<'_, D::Db> {
        On::Pool(&self.pool)
    }

    /// Begins a write transaction the dialect's way.
    async fn begin(&self) -> Result<Transaction<'static, D::Db>, StoreError> {
        let begun = match D::BEGIN {
            Some(statement) => self.pool.begin_with(statement).await,
            None => self.pool.begin().await,
        };
        begun.map_err(D::map_error)
    }

    /// A tenant's chain head or checkpoint (`sql`: [`AUDIT_HEAD`] or
    /// [`AUDIT_CHECKPOINT`]); the start when absent.
    async fn chain_point(
        &self,
        sql: &'static str,
        tenant: &TenantId,
    ) -> Result<ChainPoint, StoreError> {
        let statement = Statement::new(sql).arg(tenant.as_str());
        match D::fetch_optional(self.on(), statement).await? {
            Some(row) => chain_point::<D>(&row),
            None => Ok(ChainPoint::START),
        }
    }

    async fn one<T: FromRow>(&self, statement: Statement<'_>) -> Result<Option<T>, StoreError> {
        D::fetch_optional(self.on(), statement)
            .await?
            .map(|row| T::from_row::<D>(&row))
            .transpose()
    }

    async fn all<T: FromRow>(&self, statement: Statement<'_>) -> Result<Vec<T>, StoreError> {
        D::fetch_all(self.on(), statement)
            .await?
            .iter()
            .map(T::from_row::<D>)
            .collect()
    }

    /// An account's most recent rows of `sql` (`$1` account, `$2` tenant,
    /// `$3` limit).
    async fn recent<T: FromRow>(
        &self,
        sql: &'static str,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<T>, StoreError> {
        self.all(
            Statement::new(sql)
                .arg(account_id.as_uuid())
                .arg(tenant.as_str())
                .arg(limit),
        )
        .await
    }
}

fn leased<D: Backend>(row: &SqlRow<D>) -> Result<(OutboxMessage, i64), StoreError> {
    Ok((OutboxMessage::from_row::<D>(row)?, D::int(row, "seq")?))
}

#[async_trait]
impl<D: Backend> AccountStore for SqlStore<D> {
    async fn commit(&self, changes: Changes) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        match apply::<D>(&mut tx, &changes).await {
            Ok(()) => tx.commit().await.map_err(D::map_error),
            Err(refusal) => {
                tx.rollback().await.map_err(D::map_error)?;
                Err(refusal)
            }
        }
    }

    async fn account(
        &self,
        tenant: &TenantId,
        id: AccountId,
    ) -> Result<Option<Account>, StoreError> {
        self.one(
            Statement::new(ACCOUNT)
                .arg(id.as_uuid())
                .arg(tenant.as_str()),
        )
        .await
    }

    async fn search_accounts(
        &self,
        tenant: &TenantId,
        query: &AccountSearch,
    ) -> Result<Vec<Account>, StoreError> {
        let mut pattern = String::with_capacity(query.text.len() + 2);
        pattern.push('%');
        for c in query.text.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        self.all(
            Statement::new(SEARCH_ACCOUNTS)
                .arg(tenant.as_str())
                .arg(pattern.as_str())
                .arg(query.limit)
                .arg(query.offset),
        )
        .await
    }

    async fn account_by_email(
        &self,
        tenant: &TenantId,
        normalized_email: &str,
    ) -> Result<Option<Account>, StoreError> {
        self.one(
            Statement::new(ACCOUNT_BY_EMAIL)
                .arg(tenant.as_str())
                .arg(normalized_email),
        )
        .await
    }

    async fn account_by_username(
        &self,
        tenant: &TenantId,
        username_key: &str,
    ) -> Result<Option<Account>, StoreError> {
        self.one(
            Statement::new(ACCOUNT_BY_USERNAME)
                .arg(tenant.as_str())
                .arg(username_key),
        )
        .await
    }

    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        self.one(Statement::new(TOKEN).arg(hash_arg(hash))).await
    }

    async fn tokens_for_account(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        let sql = self.queries.tokens_for_account.as_str();
        self.recent(sql, tenant, account_id, limit).await
    }

    async fn session(&self, hash: &TokenHash) -> Result<Option<SessionRecord>, StoreError> {
        self.one(Statement::new(SESSION).arg(hash_arg(hash))).await
    }

    async fn session_and_account(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<(SessionRecord, Option<Account>)>, StoreError> {
        let statement = Statement::new(SESSION_AND_ACCOUNT.as_str()).arg(hash_arg(hash));
        let Some(row) = D::fetch_optional(self.on(), statement).await? else {
            return Ok(None);
        };
        let session = session::<D>(&row, "session_created_at")?;
        let account = if D::is_null(&row, "id")? {
            None
        } else {
            Some(Account::from_row::<D>(&row)?)
        };
        Ok(Some((session, account)))
    }

    async fn sessions_for_account(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.recent(SESSIONS_FOR_ACCOUNT, tenant, account_id, limit)
            .await
    }

    async fn device(&self, hash: &TokenHash) -> Result<Option<DeviceRecord>, StoreError> {
        self.one(Statement::new(DEVICE).arg(hash_arg(hash))).await
    }

    async fn devices_for_account(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<DeviceRecord>, StoreError> {
        self.recent(DEVICES_FOR_ACCOUNT, tenant, account_id, limit)
            .await
    }

    async fn touch_session(&self, hash: &TokenHash, at: OffsetDateTime) -> Result<(), StoreError> {
        let statement = Statement::new(TOUCH_SESSION).arg(at).arg(hash_arg(hash));
        D::execute(self.on(), statement).await?;
        Ok(())
    }

    async fn hit_rate(
        &self,
        key: &str,
        window_start: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<u32, StoreError> {
        let statement = Statement::new(HIT_RATE)
            .arg(key)
            .arg(window_start)
            .arg(expires_at);
        match D::fetch_optional(self.on(), statement).await? {
            Some(row) => D::count(&row, "count"),
            None => Err(StoreError::backend("the counter upsert returned no row")),
        }
    }

    async fn rate_count(&self, key: &str, window_start: OffsetDateTime) -> Result<u32, StoreError> {
        let statement = Statement::new(RATE_COUNT).arg(key).arg(window_start);
        match D::fetch_optional(self.on(), statement).await? {
            Some(row) => D::count(&row, "count"),
            None => Ok(0),
        }
    }

    async fn staff_verification(
        &self,
        tenant: &TenantId,
        staff_id: &StaffId,
    ) -> Result<Option<StaffVerification>, StoreError> {
        let statement = Statement::new(STAFF_VERIFICATION)
            .arg(tenant.as_str())
            .arg(staff_id.as_str());
        D::fetch_optional(self.on(), statement)
            .await?
            .map(|row| {
                Ok(StaffVerification {
                    tenant: tenant.clone(),
                    staff_id: staff_id.clone(),
                    verified_until: D::time(&row, "verified_until")?,
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
        self.recent(AUDIT_EVENTS, tenant, account_id, limit).await
    }

    async fn messages_for_account(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        self.recent(MESSAGES_FOR_ACCOUNT, tenant, account_id, limit)
            .await
    }

    async fn link_openings(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<LinkOpening>, StoreError> {
        self.recent(LINK_OPENINGS, tenant, account_id, limit).await
    }

    async fn lease_outbox(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let statement = Statement::new(self.queries.lease_outbox.as_str())
            .arg(now)
            .arg(lease_until)
            .arg(limit);
        let rows = D::fetch_all(self.on(), statement).await?;
        let mut leased = rows
            .iter()
            .map(leased::<D>)
            .collect::<Result<Vec<_>, StoreError>>()?;
        // RETURNING gives no order: oldest due first, then queue order.
        leased.sort_by_key(|(message, seq)| (message.next_attempt_at, *seq));
        Ok(leased.into_iter().map(|(message, _)| message).collect())
    }

    async fn record_delivery(
        &self,
        id: MessageId,
        outcome: DeliveryOutcome,
    ) -> Result<(), StoreError> {
        D::execute(self.on(), crate::commit::delivery_statement(id, &outcome)).await?;
        Ok(())
    }

    async fn lease_webhooks(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxWebhook>, StoreError> {
        let sql = self.queries.lease_webhooks.as_str();
        webhooks::lease::<D>(self.on(), sql, now, lease_until, limit).await
    }

    async fn record_webhook_delivery(
        &self,
        id: WebhookId,
        outcome: DeliveryOutcome,
    ) -> Result<(), StoreError> {
        webhooks::record::<D>(self.on(), id, &outcome).await
    }

    async fn webhooks_for_account(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<OutboxWebhook>, StoreError> {
        self.all(webhooks::for_account(tenant, account_id, limit))
            .await
    }

    async fn redact_expired_bodies(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let statement = Statement::new(self.queries.redact_expired.as_str())
            .arg(now)
            .arg(REDACTED_BODY)
            .arg(true);
        D::execute(self.on(), statement).await
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let counters = D::execute(self.on(), Statement::new(PURGE_RATE_COUNTERS).arg(now)).await?;
        let console = Statement::new(PURGE_CONSOLE_SIGN_INS).arg(now);
        Ok(counters + D::execute(self.on(), console).await?)
    }

    async fn insert_console_sign_in(&self, sign_in: &ConsoleSignIn) -> Result<(), StoreError> {
        let statement = Statement::new(INSERT_CONSOLE_SIGN_IN)
            .arg(hash_arg(&sign_in.hash))
            .arg(sign_in.tenant.as_str())
            .arg(sign_in.staff_id.as_str())
            .arg(sign_in.created_at)
            .arg(sign_in.expires_at);
        D::execute(self.on(), statement).await.map(|_| ())
    }

    async fn console_sign_in(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<ConsoleSignIn>, StoreError> {
        self.one(Statement::new(CONSOLE_SIGN_IN).arg(hash_arg(hash)).arg(now))
            .await
    }

    async fn end_console_sign_in(&self, hash: &TokenHash) -> Result<(), StoreError> {
        let statement = Statement::new(END_CONSOLE_SIGN_IN).arg(hash_arg(hash));
        D::execute(self.on(), statement).await.map(|_| ())
    }

    async fn server_secret(
        &self,
        name: &str,
        candidate: &ServerSecret,
    ) -> Result<ServerSecret, StoreError> {
        // Insert-if-absent, then read: a concurrent first insert waits on
        // the primary key and then inserts nothing, so every caller reads
        // the one row that won.
        let insert = Statement::new(INSERT_SERVER_SECRET)
            .arg(name)
            .arg(candidate.expose());
        D::execute(self.on(), insert).await?;
        let row = D::fetch_optional(self.on(), Statement::new(SERVER_SECRET).arg(name)).await?;
        match row.map(|row| D::opt_bytes(&row, "value")).transpose()? {
            Some(Some(bytes)) => Ok(ServerSecret::new(bytes)),
            _ => Err(StoreError::backend("the server secret was not kept")),
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        D::execute(self.on(), Statement::new("SELECT 1")).await?;
        Ok(())
    }

    async fn audit_page(&self, query: &AuditQuery) -> Result<Vec<ChainedEvent>, StoreError> {
        self.all(
            Statement::new(AUDIT_PAGE)
                .arg(query.tenant.as_str())
                .arg(seq_arg(query.after_seq)?)
                .arg(query.filter.from)
                .arg(query.filter.to)
                .arg(query.filter.account.map(|a| a.as_uuid()))
                .arg(query.filter.kind.map(|k| k.as_str()))
                .arg(query.limit),
        )
        .await
    }

    async fn audit_chain_ends(&self, tenant: &TenantId) -> Result<ChainEnds, StoreError> {
        Ok(ChainEnds {
            checkpoint: self.chain_point(AUDIT_CHECKPOINT, tenant).await?,
            head: self.chain_point(AUDIT_HEAD, tenant).await?,
        })
    }

    async fn audit_tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        D::fetch_all(self.on(), Statement::new(AUDIT_TENANTS))
            .await?
            .iter()
            .map(tenant::<D>)
            .collect()
    }

    async fn prune_audit(
        &self,
        tenant: &TenantId,
        before: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let last = Statement::new(LAST_PRUNABLE_AUDIT)
            .arg(tenant.as_str())
            .arg(before)
            .arg(i64::MAX);
        let Some(row) = D::fetch_optional(On::Tx(&mut *tx), last).await? else {
            tx.rollback().await.map_err(D::map_error)?;
            return Ok(0);
        };
        let checkpoint = chain_point::<D>(&row)?;
        let delete = Statement::new(DELETE_AUDIT_PREFIX)
            .arg(tenant.as_str())
            .arg(seq_arg(checkpoint.seq)?);
        let removed = D::execute(On::Tx(&mut *tx), delete).await?;
        let record = Statement::new(UPSERT_AUDIT_CHECKPOINT)
            .arg(tenant.as_str())
            .arg(seq_arg(checkpoint.seq)?)
            .arg(&checkpoint.hash.as_bytes()[..])
            .arg(before);
        D::execute(On::Tx(&mut *tx), record).await?;
        tx.commit().await.map_err(D::map_error)?;
        Ok(removed)
    }
}
