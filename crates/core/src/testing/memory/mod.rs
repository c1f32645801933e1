//! [`MemoryStore`]: a complete, in-process [`AccountStore`] for tests and
//! demos (feature `testing`).
//!
//! All state sits behind one mutex, so every operation is atomic and
//! linearizable. [`AccountStore::commit`] first checks everything that can
//! fail (redemption, version, uniqueness, duplicate keys) and only then
//! applies the changes, both by walking [`Changes::steps`] (the one commit
//! order), so a refused commit changes nothing. It keeps every
//! guarantee of the [contract](crate::ports::store) and passes the same
//! conformance suite as the SQL stores; nothing survives the process.
//!
//! ```
//! use portal_access_core::testing::MemoryStore;
//! use portal_access_core::{Account, AccountChange, AccountId, AccountStore, Changes};
//! use portal_access_core::{EmailAddress, StoreError, TenantId};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = MemoryStore::new();
//! let tenant = TenantId::new("firm").unwrap();
//! let now = time::macros::datetime!(2026-01-01 9:00 UTC);
//! let ann = Account::new(AccountId::from_random([1; 16]), tenant.clone(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! store.commit(Changes { account: Some(AccountChange::Insert(ann.clone())), ..Changes::default() })
//!     .await.unwrap();
//!
//! // The same address (in any case) cannot hold a second account in the tenant.
//! let twin = Account::new(AccountId::from_random([2; 16]), tenant.clone(),
//!     EmailAddress::parse("ANN@example.com").unwrap(), None, None, now);
//! let refused = store
//!     .commit(Changes { account: Some(AccountChange::Insert(twin)), ..Changes::default() })
//!     .await;
//! assert!(matches!(refused, Err(StoreError::EmailTaken)));
//!
//! // An update is written at the version it was read at, then bumps it.
//! let mut changed = store.account(&tenant, ann.id).await.unwrap().unwrap();
//! changed.display_name = Some("Ann Client".into());
//! store.commit(Changes { account: Some(AccountChange::Update(changed)), ..Changes::default() })
//!     .await.unwrap();
//! assert_eq!(store.account(&tenant, ann.id).await.unwrap().unwrap().version, 1);
//! # });
//! ```

mod outbox;
mod state;
mod webhooks;

use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{
    Account, AccountId, AccountSearch, AccountStore, AuditEvent, AuditQuery, ChainEnds,
    ChainedEvent, Changes, ConsoleSignIn, DeliveryOutcome, DeliveryState, DeviceRecord,
    LinkOpening, MessageId, OutboxMessage, ServerSecret, SessionRecord, StaffId, StaffVerification,
    StoreError, TenantId, TokenHash, TokenRecord,
};

use outbox::redact;
use state::State;

/// An [`AccountStore`] in memory: complete and concurrency-correct, for tests
/// and demos. See the [module documentation](self).
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied commit
        // (commits validate before they apply), so poisoning is ignored.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The most recent `limit` items, newest first: sorted by `at` descending,
/// later insertions first among equal times.
fn newest_first<T: Clone>(
    items: impl DoubleEndedIterator<Item = T>,
    at: impl Fn(&T) -> OffsetDateTime,
    limit: u32,
) -> Vec<T> {
    let mut out: Vec<T> = items.rev().collect();
    out.sort_by_key(|item| std::cmp::Reverse(at(item)));
    out.truncate(limit as usize);
    out
}

#[async_trait]
impl AccountStore for MemoryStore {
    async fn commit(&self, changes: Changes) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.check(&changes)?;
        state.apply(&changes);
        Ok(())
    }

    async fn account(
        &self,
        tenant: &TenantId,
        id: AccountId,
    ) -> Result<Option<Account>, StoreError> {
        Ok(self
            .lock()
            .accounts
            .get(&id)
            .filter(|a| &a.tenant == tenant)
            .cloned())
    }

    async fn search_accounts(
        &self,
        tenant: &TenantId,
        query: &AccountSearch,
    ) -> Result<Vec<Account>, StoreError> {
        let state = self.lock();
        let text = query.text.to_lowercase();
        let matches = |account: &Account| {
            account.email.normalized().contains(&text)
                || account
                    .username
                    .as_ref()
                    .is_some_and(|u| u.key().contains(&text))
                || account
                    .contact_ref
                    .as_ref()
                    .is_some_and(|c| c.to_lowercase().contains(&text))
        };
        let mut found: Vec<&Account> = state
            .accounts
            .values()
            .filter(|a| &a.tenant == tenant && matches(a))
            .collect();
        found.sort_by_key(|a| std::cmp::Reverse((a.created_at, a.id)));
        Ok(found
            .into_iter()
            .skip(query.offset as usize)
            .take(query.limit as usize)
            .cloned()
            .collect())
    }

    async fn account_by_email(
        &self,
        tenant: &TenantId,
        normalized_email: &str,
    ) -> Result<Option<Account>, StoreError> {
        let state = self.lock();
        Ok(state
            .by_email
            .get(&(tenant.clone(), normalized_email.to_owned()))
            .and_then(|id| state.accounts.get(id))
            .cloned())
    }

    async fn account_by_username(
        &self,
        tenant: &TenantId,
        username_key: &str,
    ) -> Result<Option<Account>, StoreError> {
        let state = self.lock();
        Ok(state
            .by_username
            .get(&(tenant.clone(), username_key.to_owned()))
            .and_then(|id| state.accounts.get(id))
            .cloned())
    }

    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self.lock().tokens.get(hash).cloned())
    }

    async fn tokens_for_account(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        let state = self.lock();
        let tokens = state
            .token_order
            .iter()
            .filter_map(|hash| state.tokens.get(hash))
            .filter(|t| &t.tenant == tenant && t.account_id == account_id)
            .cloned()
            .collect::<Vec<_>>();
        Ok(newest_first(tokens.into_iter(), |t| t.created_at, limit))
    }

    async fn session(&self, hash: &TokenHash) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.lock().sessions.get(hash).cloned())
    }

    async fn sessions_for_account(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let state = self.lock();
        let sessions = state.sessions.values().filter(|s| {
            &s.tenant == tenant && s.account_id == account_id && s.revoked_at.is_none()
        });
        let mut sessions: Vec<SessionRecord> = sessions.cloned().collect();
        sessions.sort_by_key(|s| *s.hash.as_bytes());
        Ok(newest_first(sessions.into_iter(), |s| s.created_at, limit))
    }

    async fn device(&self, hash: &TokenHash) -> Result<Option<DeviceRecord>, StoreError> {
        Ok(self.lock().devices.get(hash).cloned())
    }

    async fn devices_for_account(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<DeviceRecord>, StoreError> {
        let state = self.lock();
        let devices = state.devices.values().filter(|d| {
            &d.tenant == tenant && d.account_id == account_id && d.revoked_at.is_none()
        });
        let mut devices: Vec<DeviceRecord> = devices.cloned().collect();
        devices.sort_by_key(|d| *d.hash.as_bytes());
        Ok(newest_first(devices.into_iter(), |d| d.created_at, limit))
    }

    async fn touch_session(&self, hash: &TokenHash, at: OffsetDateTime) -> Result<(), StoreError> {
        if let Some(session) = self.lock().sessions.get_mut(hash) {
            session.last_seen_at = at;
        }
        Ok(())
    }

    async fn hit_rate(
        &self,
        key: &str,
        window_start: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<u32, StoreError> {
        let mut state = self.lock();
        let entry = state
            .rates
            .entry((key.to_owned(), window_start))
            .or_insert((0, expires_at));
        entry.0 = entry.0.saturating_add(1);
        entry.1 = expires_at;
        Ok(entry.0)
    }

    async fn rate_count(&self, key: &str, window_start: OffsetDateTime) -> Result<u32, StoreError> {
        Ok(self
            .lock()
            .rates
            .get(&(key.to_owned(), window_start))
            .map_or(0, |(count, _)| *count))
    }

    async fn staff_verification(
        &self,
        tenant: &TenantId,
        staff_id: &StaffId,
    ) -> Result<Option<StaffVerification>, StoreError> {
        Ok(self
            .lock()
            .staff
            .get(&(tenant.clone(), staff_id.clone()))
            .cloned())
    }

    async fn audit_events(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let state = self.lock();
        let events = state
            .audit
            .iter()
            .map(|chained| &chained.event)
            .filter(|e| &e.tenant == tenant && e.account_id == Some(account_id));
        Ok(newest_first(events.cloned(), |e| e.at, limit))
    }

    async fn messages_for_account(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let state = self.lock();
        let messages =
            state.outbox.iter().map(|row| &row.message).filter(|m| {
                &m.message.tenant == tenant && m.message.account_id == Some(account_id)
            });
        Ok(newest_first(
            messages.cloned(),
            |m| m.message.created_at,
            limit,
        ))
    }

    async fn link_openings(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<LinkOpening>, StoreError> {
        let state = self.lock();
        let openings = state
            .openings
            .iter()
            .filter(|o| &o.tenant == tenant && o.account_id == account_id);
        Ok(newest_first(openings.cloned(), |o| o.at, limit))
    }

    async fn lease_outbox(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut state = self.lock();
        let mut due: Vec<usize> = state
            .outbox
            .iter()
            .enumerate()
            .filter(|(_, row)| {
                matches!(
                    row.message.state,
                    DeliveryState::Queued | DeliveryState::Retrying
                ) && row.message.next_attempt_at <= now
                    && row.lease_until.is_none_or(|until| until <= now)
            })
            .map(|(index, _)| index)
            .collect();
        // Stable: among equal due times, the earlier queued goes first.
        due.sort_by_key(|&index| state.outbox[index].message.next_attempt_at);
        due.truncate(limit as usize);
        Ok(due
            .into_iter()
            .map(|index| {
                let row = &mut state.outbox[index];
                row.lease_until = Some(lease_until);
                row.message.clone()
            })
            .collect())
    }

    async fn record_delivery(
        &self,
        id: MessageId,
        outcome: DeliveryOutcome,
    ) -> Result<(), StoreError> {
        self.lock().record_delivery(id, outcome);
        Ok(())
    }

    async fn lease_webhooks(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<crate::OutboxWebhook>, StoreError> {
        Ok(self.lock().lease_webhooks(now, lease_until, limit))
    }

    async fn record_webhook_delivery(
        &self,
        id: crate::WebhookId,
        outcome: DeliveryOutcome,
    ) -> Result<(), StoreError> {
        self.lock().record_webhook_delivery(id, outcome);
        Ok(())
    }

    async fn webhooks_for_account(
        &self,
        tenant: &TenantId,
        account_id: AccountId,
        limit: u32,
    ) -> Result<Vec<crate::OutboxWebhook>, StoreError> {
        let state = self.lock();
        let rows =
            state.webhooks.iter().map(|row| &row.webhook).filter(|w| {
                &w.webhook.tenant == tenant && w.webhook.account_id == Some(account_id)
            });
        Ok(newest_first(rows.cloned(), |w| w.webhook.created_at, limit))
    }

    async fn redact_expired_bodies(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let mut count = 0;
        for row in &mut state.outbox {
            let message = &mut row.message;
            if !message.redacted
                && message.message.token_hash.is_some()
                && message.message.token_expires_at.is_some_and(|t| t <= now)
            {
                redact(message);
                count += 1;
            }
        }
        Ok(count)
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let before = state.rates.len() + state.console.len();
        state.rates.retain(|_, (_, expires_at)| *expires_at > now);
        state.console.retain(|_, sign_in| sign_in.expires_at > now);
        Ok((before - state.rates.len() - state.console.len()) as u64)
    }

    async fn insert_console_sign_in(&self, sign_in: &ConsoleSignIn) -> Result<(), StoreError> {
        let mut state = self.lock();
        if state.console.contains_key(&sign_in.hash) {
            return Err(state::duplicate("console sign-in"));
        }
        state.console.insert(sign_in.hash, sign_in.clone());
        Ok(())
    }

    async fn console_sign_in(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<ConsoleSignIn>, StoreError> {
        Ok(self
            .lock()
            .console
            .get(hash)
            .filter(|sign_in| sign_in.expires_at > now)
            .cloned())
    }

    async fn end_console_sign_in(&self, hash: &TokenHash) -> Result<(), StoreError> {
        self.lock().console.remove(hash);
        Ok(())
    }

    async fn server_secret(
        &self,
        name: &str,
        candidate: &ServerSecret,
    ) -> Result<ServerSecret, StoreError> {
        let mut state = self.lock();
        let stored = state
            .secrets
            .entry(name.to_owned())
            .or_insert_with(|| candidate.clone());
        Ok(stored.clone())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn audit_page(&self, query: &AuditQuery) -> Result<Vec<ChainedEvent>, StoreError> {
        let state = self.lock();
        Ok(state
            .audit
            .iter()
            .filter(|e| e.seq > query.after_seq && query.matches(&e.event))
            .take(query.limit as usize)
            .cloned()
            .collect())
    }

    async fn audit_chain_ends(&self, tenant: &TenantId) -> Result<ChainEnds, StoreError> {
        Ok(self.lock().chains.get(tenant).copied().unwrap_or_default())
    }

    async fn audit_tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        let mut tenants: Vec<TenantId> = self.lock().chains.keys().cloned().collect();
        tenants.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        Ok(tenants)
    }

    async fn prune_audit(
        &self,
        tenant: &TenantId,
        before: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        Ok(self.lock().prune_audit(tenant, before))
    }
}
