//! The memory store's state and its commit: [`State::check`] then
//! [`State::apply`], both walking [`Changes::steps`].

use std::collections::{HashMap, HashSet};

use time::OffsetDateTime;

use super::webhooks::WebhookRow;
use crate::WebhookId;
use crate::{
    Account, AccountChange, AccountId, ChainEnds, ChainPoint, ChainedEvent, ChangeStep, Changes,
    ConsoleSignIn, DeviceRecord, DeviceRevocation, EventId, LinkOpening, MessageId, NewMessage,
    OutboxMessage, ServerSecret, SessionRecord, SessionRevocation, StaffId, StaffVerification,
    StoreError, TenantId, TokenHash, TokenRecord,
};

#[derive(Debug)]
pub(super) struct OutboxRow {
    pub(super) message: OutboxMessage,
    pub(super) lease_until: Option<OffsetDateTime>,
}

#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) accounts: HashMap<AccountId, Account>,
    pub(super) by_email: HashMap<(TenantId, String), AccountId>,
    pub(super) by_username: HashMap<(TenantId, String), AccountId>,
    pub(super) tokens: HashMap<TokenHash, TokenRecord>,
    /// Token hashes in insertion order (ties of `created_at` list newest last).
    pub(super) token_order: Vec<TokenHash>,
    pub(super) sessions: HashMap<TokenHash, SessionRecord>,
    pub(super) devices: HashMap<TokenHash, DeviceRecord>,
    pub(super) rates: HashMap<(String, OffsetDateTime), (u32, OffsetDateTime)>,
    pub(super) staff: HashMap<(TenantId, StaffId), StaffVerification>,
    /// Every tenant's chained events, in append order.
    pub(super) audit: Vec<ChainedEvent>,
    /// Each tenant's chain: its retention checkpoint and head.
    pub(super) chains: HashMap<TenantId, ChainEnds>,
    pub(super) audit_ids: HashSet<EventId>,
    pub(super) outbox: Vec<OutboxRow>,
    pub(super) outbox_index: HashMap<MessageId, usize>,
    pub(super) openings: Vec<LinkOpening>,
    pub(super) secrets: HashMap<String, ServerSecret>,
    pub(super) console: HashMap<TokenHash, ConsoleSignIn>,
    pub(super) webhooks: Vec<WebhookRow>,
    pub(super) webhook_index: HashMap<WebhookId, usize>,
}

pub(super) fn duplicate(what: &str) -> StoreError {
    StoreError::backend(format!("duplicate {what} key"))
}

impl State {
    /// Checks the account change against the state, as the database's unique
    /// indexes and versioned update would.
    fn check_account(&self, change: &AccountChange) -> Result<(), StoreError> {
        let (account, own_id) = match change {
            AccountChange::Insert(account) => {
                if self.accounts.contains_key(&account.id) {
                    return Err(StoreError::Conflict);
                }
                (account, None)
            }
            AccountChange::Update(account) => {
                match self.accounts.get(&account.id) {
                    Some(stored)
                        if stored.tenant == account.tenant && stored.version == account.version => {
                    }
                    _ => return Err(StoreError::Conflict),
                }
                (account, Some(account.id))
            }
        };
        let taken_by_other = |id: Option<&AccountId>| id.is_some_and(|id| Some(*id) != own_id);
        let email_key = (
            account.tenant.clone(),
            account.email.normalized().to_owned(),
        );
        if taken_by_other(self.by_email.get(&email_key)) {
            return Err(StoreError::EmailTaken);
        }
        if let Some(username) = &account.username {
            let key = (account.tenant.clone(), username.key().to_owned());
            if taken_by_other(self.by_username.get(&key)) {
                return Err(StoreError::UsernameTaken);
            }
        }
        Ok(())
    }

    fn write_account(&mut self, change: AccountChange) {
        let account = match change {
            AccountChange::Insert(account) => account,
            AccountChange::Update(mut account) => {
                if let Some(old) = self.accounts.get(&account.id) {
                    let tenant = old.tenant.clone();
                    self.by_email
                        .remove(&(tenant.clone(), old.email.normalized().to_owned()));
                    if let Some(username) = &old.username {
                        self.by_username
                            .remove(&(tenant, username.key().to_owned()));
                    }
                }
                account.version += 1;
                account
            }
        };
        self.by_email.insert(
            (
                account.tenant.clone(),
                account.email.normalized().to_owned(),
            ),
            account.id,
        );
        if let Some(username) = &account.username {
            self.by_username.insert(
                (account.tenant.clone(), username.key().to_owned()),
                account.id,
            );
        }
        self.accounts.insert(account.id, account);
    }

    /// Checks every step against the state, in commit order (so a commit
    /// is refused for the same reason a SQL store refuses it), before
    /// anything is written.
    pub(super) fn check(&self, changes: &Changes) -> Result<(), StoreError> {
        let mut tokens = HashSet::new();
        let mut messages = HashSet::new();
        let mut events = HashSet::new();
        let mut webhooks = HashSet::new();
        for step in changes.steps() {
            match step {
                ChangeStep::Redeem(redeem) => {
                    let redeemable = self.tokens.get(&redeem.hash).is_some_and(|t| {
                        t.used_at.is_none()
                            && t.revoked_at.is_none()
                            && t.expires_at > redeem.at
                            && t.kind == redeem.kind
                    });
                    if !redeemable {
                        return Err(StoreError::TokenNotRedeemable);
                    }
                }
                ChangeStep::Account(change) => self.check_account(change)?,
                ChangeStep::NewToken(token) => {
                    if self.tokens.contains_key(&token.hash) || !tokens.insert(token.hash) {
                        return Err(duplicate("token"));
                    }
                }
                ChangeStep::NewSession(session) => {
                    if self.sessions.contains_key(&session.hash) {
                        return Err(duplicate("session"));
                    }
                }
                ChangeStep::NewDevice(device) => {
                    if self.devices.contains_key(&device.hash) {
                        return Err(duplicate("device"));
                    }
                }
                ChangeStep::Queue(message) => {
                    if self.outbox_index.contains_key(&message.id) || !messages.insert(message.id) {
                        return Err(duplicate("message"));
                    }
                }
                ChangeStep::Audit(event) => {
                    if !events.insert(event.id) || self.audit_ids.contains(&event.id) {
                        return Err(duplicate("audit event"));
                    }
                }
                ChangeStep::Webhook(webhook) => {
                    if self.webhook_index.contains_key(&webhook.id) || !webhooks.insert(webhook.id)
                    {
                        return Err(duplicate("webhook"));
                    }
                }
                ChangeStep::RevokeTokens(_)
                | ChangeStep::RevokeSessions(_)
                | ChangeStep::LinkOpening(_)
                | ChangeStep::ClearRatePrefix(_)
                | ChangeStep::StaffVerification(_)
                | ChangeStep::RevokeDevices(_)
                | ChangeStep::Delivery(_) => {}
            }
        }
        Ok(())
    }

    /// Applies every step, in commit order (after [`check`](Self::check)
    /// passed: nothing here can fail).
    pub(super) fn apply(&mut self, changes: &Changes) {
        for step in changes.steps() {
            match step {
                ChangeStep::Redeem(redeem) => {
                    if let Some(token) = self.tokens.get_mut(&redeem.hash) {
                        token.used_at = Some(redeem.at);
                    }
                }
                ChangeStep::Account(change) => self.write_account(change.clone()),
                ChangeStep::RevokeTokens(revocation) => {
                    for token in self.tokens.values_mut() {
                        if token.tenant == revocation.tenant
                            && token.account_id == revocation.account_id
                            && revocation.kinds.contains(&token.kind)
                            && token.used_at.is_none()
                            && token.revoked_at.is_none()
                        {
                            token.revoked_at = Some(revocation.at);
                        }
                    }
                }
                ChangeStep::NewToken(token) => {
                    self.token_order.push(token.hash);
                    self.tokens.insert(token.hash, token.clone());
                }
                ChangeStep::RevokeSessions(revocation) => self.revoke_sessions(revocation),
                ChangeStep::NewSession(session) => {
                    self.sessions.insert(session.hash, session.clone());
                }
                ChangeStep::Queue(message) => self.queue(message),
                ChangeStep::Audit(event) => {
                    self.audit_ids.insert(event.id);
                    let ends = self.chains.entry(event.tenant.clone()).or_default();
                    ends.head = ends.head.next(event);
                    self.audit.push(ChainedEvent {
                        seq: ends.head.seq,
                        hash: ends.head.hash,
                        event: event.clone(),
                    });
                }
                ChangeStep::LinkOpening(opening) => self.openings.push(opening.clone()),
                ChangeStep::ClearRatePrefix(prefix) => {
                    self.rates.retain(|(key, _), _| !key.starts_with(prefix));
                }
                ChangeStep::Webhook(webhook) => self.queue_webhook(webhook),
                ChangeStep::Delivery(record) => {
                    self.record_delivery(record.message, record.outcome.clone());
                }
                ChangeStep::StaffVerification(verification) => {
                    self.staff.insert(
                        (verification.tenant.clone(), verification.staff_id.clone()),
                        verification.clone(),
                    );
                }
                ChangeStep::RevokeDevices(revocation) => self.revoke_devices(revocation),
                ChangeStep::NewDevice(device) => {
                    self.devices.insert(device.hash, device.clone());
                }
            }
        }
    }

    /// Removes the tenant's longest chain prefix of events before `before`
    /// and records its last event as the checkpoint; how many were removed.
    pub(super) fn prune_audit(&mut self, tenant: &TenantId, before: OffsetDateTime) -> u64 {
        let chain = || self.audit.iter().filter(|e| &e.event.tenant == tenant);
        let keep_from = chain()
            .find(|e| e.event.at >= before)
            .map_or(u64::MAX, |e| e.seq);
        let Some(last) = chain().rfind(|e| e.seq < keep_from) else {
            return 0;
        };
        let checkpoint = ChainPoint {
            seq: last.seq,
            hash: last.hash,
        };
        let before_len = self.audit.len();
        self.audit
            .retain(|e| &e.event.tenant != tenant || e.seq > checkpoint.seq);
        self.chains.entry(tenant.clone()).or_default().checkpoint = checkpoint;
        (before_len - self.audit.len()) as u64
    }

    fn revoke_sessions(&mut self, revocation: &SessionRevocation) {
        match revocation {
            SessionRevocation::AllOfAccount {
                tenant,
                account_id,
                except,
                at,
            } => {
                for session in self.sessions.values_mut() {
                    if &session.tenant == tenant
                        && session.account_id == *account_id
                        && session.revoked_at.is_none()
                        && except.is_none_or(|keep| !keep.ct_eq(&session.hash))
                    {
                        session.revoked_at = Some(*at);
                    }
                }
            }
            SessionRevocation::One { hash, at } => {
                if let Some(session) = self.sessions.get_mut(hash) {
                    if session.revoked_at.is_none() {
                        session.revoked_at = Some(*at);
                    }
                }
            }
        }
    }

    fn revoke_devices(&mut self, revocation: &DeviceRevocation) {
        for device in self.devices.values_mut() {
            if device.tenant == revocation.tenant
                && device.account_id == revocation.account_id
                && device.revoked_at.is_none()
                && revocation.only.is_none_or(|only| only.ct_eq(&device.hash))
            {
                device.revoked_at = Some(revocation.at);
            }
        }
    }

    fn queue(&mut self, message: &NewMessage) {
        self.outbox_index.insert(message.id, self.outbox.len());
        self.outbox.push(OutboxRow {
            message: OutboxMessage::queued(message.clone()),
            lease_until: None,
        });
    }
}
