//! What one decision changes ([`Changes`]), committed atomically by
//! [`AccountStore::commit`](crate::AccountStore::commit), and its parts in
//! commit order ([`ChangeStep`]).

use time::OffsetDateTime;

use crate::{
    Account, AccountId, AuditEvent, DeliveryRecord, DeviceRecord, LinkOpening, NewMessage,
    NewWebhook, SessionRecord, StaffVerification, TenantId, TokenHash, TokenKind, TokenRecord,
};

/// The account part of a [`Changes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChange {
    /// A new account (its `version` is 0).
    Insert(Account),
    /// An update of every mutable field, written only where the stored
    /// version equals `account.version`; the stored version becomes
    /// `account.version + 1`.
    Update(Account),
}

/// Redeem one link token (single use), in the commit's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redemption {
    /// Which token.
    pub hash: TokenHash,
    /// It must be of this kind.
    pub kind: TokenKind,
    /// Redeemed at: it must be unexpired then.
    pub at: OffsetDateTime,
}

/// Revoke every unused, unrevoked token of these kinds of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRevocation {
    /// The account's tenant.
    pub tenant: TenantId,
    /// The account.
    pub account_id: AccountId,
    /// Kinds to revoke.
    pub kinds: Vec<TokenKind>,
    /// Revoked at.
    pub at: OffsetDateTime,
}

/// Revoke sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionRevocation {
    /// Every session of an account (optionally but one).
    AllOfAccount {
        /// The account's tenant.
        tenant: TenantId,
        /// The account.
        account_id: AccountId,
        /// Keep this one (none: revoke all).
        except: Option<TokenHash>,
        /// Revoked at.
        at: OffsetDateTime,
    },
    /// One session (sign-out).
    One {
        /// Which.
        hash: TokenHash,
        /// Revoked at.
        at: OffsetDateTime,
    },
}

/// Revoke remembered devices of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRevocation {
    /// The account's tenant.
    pub tenant: TenantId,
    /// The account.
    pub account_id: AccountId,
    /// Only this device (none: every device of the account).
    pub only: Option<TokenHash>,
    /// Revoked at.
    pub at: OffsetDateTime,
}

/// Everything one decision changes, committed atomically by
/// [`AccountStore::commit`](crate::AccountStore::commit), applied in this order:
///
/// 1. `redeem` (fails the whole commit if it matches nothing),
/// 2. `account` (insert, or versioned update),
/// 3. `revoke_tokens`, then 4. `new_tokens` (so a new link survives the
///    revocation of its predecessors),
/// 5. `revoke_sessions`, then 6. `new_session`,
/// 7. `outbox`, 8. `audit`, 9. `link_openings`,
/// 10. `clear_rate_prefixes`, 11. `staff_verification` (upsert),
/// 12. `revoke_devices`, then 13. `new_device`, then 14. `webhooks` (queue webhook deliveries),
/// 15. `delivery` (as [`AccountStore::record_delivery`](crate::AccountStore::record_delivery) does).
///
/// The audit events are written in their step's place by the memory store
/// and, on the SQL stores, appended to the tenant's chain as the last
/// statements of the transaction (so the chain head's row lock is held only
/// through the commit); either way, all or nothing, in the order given.
///
/// [`Changes::steps`] yields them in this order; every store applies them by
/// walking it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Redeem a link token.
    pub redeem: Option<Redemption>,
    /// Insert or update the account.
    pub account: Option<AccountChange>,
    /// Revoke pending tokens.
    pub revoke_tokens: Vec<TokenRevocation>,
    /// Issue tokens.
    pub new_tokens: Vec<TokenRecord>,
    /// Revoke sessions.
    pub revoke_sessions: Vec<SessionRevocation>,
    /// Issue a session.
    pub new_session: Option<SessionRecord>,
    /// Queue messages.
    pub outbox: Vec<NewMessage>,
    /// Record audit events.
    pub audit: Vec<AuditEvent>,
    /// Record link openings.
    pub link_openings: Vec<LinkOpening>,
    /// Delete every rate counter whose key starts with one of these.
    pub clear_rate_prefixes: Vec<String>,
    /// Set a staff member's human-verification state.
    pub staff_verification: Option<StaffVerification>,
    /// Revoke remembered devices.
    pub revoke_devices: Vec<DeviceRevocation>,
    /// Remember a device.
    pub new_device: Option<DeviceRecord>,
    /// Queue webhook deliveries (one per event and endpoint).
    pub webhooks: Vec<NewWebhook>,
    /// Record a message's delivery attempt (given up on, with its `message.failed` webhooks).
    pub delivery: Option<DeliveryRecord>,
}

impl Changes {
    /// Changes that insert or update one account and do nothing else.
    pub fn of_account(change: AccountChange) -> Self {
        Self {
            account: Some(change),
            ..Self::default()
        }
    }

    /// Whether there is nothing to commit.
    pub fn is_empty(&self) -> bool {
        self == &Changes::default()
    }

    /// Every part of the changes as one [`ChangeStep`], in the order a store
    /// applies them (the order documented on [`Changes`]). This is the one
    /// place that order is written: the memory store checks and applies,
    /// and the SQL stores write, by walking these steps.
    pub fn steps(&self) -> impl Iterator<Item = ChangeStep<'_>> {
        // Destructured so that a new field does not compile until it has a step.
        let Changes {
            redeem,
            account,
            revoke_tokens,
            new_tokens,
            revoke_sessions,
            new_session,
            outbox,
            audit,
            link_openings,
            clear_rate_prefixes,
            staff_verification,
            revoke_devices,
            new_device,
            webhooks,
            delivery,
        } = self;
        (redeem.iter().map(ChangeStep::Redeem))
            .chain(account.iter().map(ChangeStep::Account))
            .chain(revoke_tokens.iter().map(ChangeStep::RevokeTokens))
            .chain(new_tokens.iter().map(ChangeStep::NewToken))
            .chain(revoke_sessions.iter().map(ChangeStep::RevokeSessions))
            .chain(new_session.iter().map(ChangeStep::NewSession))
            .chain(outbox.iter().map(ChangeStep::Queue))
            .chain(audit.iter().map(ChangeStep::Audit))
            .chain(link_openings.iter().map(ChangeStep::LinkOpening))
            .chain(
                clear_rate_prefixes
                    .iter()
                    .map(|prefix| ChangeStep::ClearRatePrefix(prefix.as_str())),
            )
            .chain(staff_verification.iter().map(ChangeStep::StaffVerification))
            .chain(revoke_devices.iter().map(ChangeStep::RevokeDevices))
            .chain(new_device.iter().map(ChangeStep::NewDevice))
            .chain(webhooks.iter().map(ChangeStep::Webhook))
            .chain(delivery.iter().map(ChangeStep::Delivery))
    }
}

/// One part of a [`Changes`], as [`Changes::steps`] yields them in commit
/// order. Stores match on it exhaustively, so a new kind of change fails to
/// compile in every store until each writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeStep<'a> {
    /// 1. Redeem a link token (fails the commit if it matches nothing).
    Redeem(&'a Redemption),
    /// 2. Insert or update the account.
    Account(&'a AccountChange),
    /// 3. Revoke an account's pending tokens of some kinds.
    RevokeTokens(&'a TokenRevocation),
    /// 4. Issue a token.
    NewToken(&'a TokenRecord),
    /// 5. Revoke sessions.
    RevokeSessions(&'a SessionRevocation),
    /// 6. Issue a session.
    NewSession(&'a SessionRecord),
    /// 7. Queue a message.
    Queue(&'a NewMessage),
    /// 8. Record an audit event.
    Audit(&'a AuditEvent),
    /// 9. Record a link opening.
    LinkOpening(&'a LinkOpening),
    /// 10. Delete the rate counters whose key starts with this.
    ClearRatePrefix(&'a str),
    /// 11. Set a staff member's human-verification state (upsert).
    StaffVerification(&'a StaffVerification),
    /// 12. Revoke remembered devices of an account (one, or all).
    RevokeDevices(&'a DeviceRevocation),
    /// 13. Remember a device.
    NewDevice(&'a DeviceRecord),
    /// 14. Queue a webhook delivery.
    Webhook(&'a NewWebhook),
    /// 15. Record a message's delivery attempt.
    Delivery(&'a DeliveryRecord),
}
