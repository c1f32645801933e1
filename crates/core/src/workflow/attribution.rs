//! Who asked for a staff-side change, from where, and the id of the audit
//! event that records it: what every staff workflow needs besides the
//! loaded state, the command and `now`.
//!
//! ```
//! use portal_access_core::workflow::attribution::Attribution;
//! use portal_access_core::{Actor, AuditKind, EventId, RequestContext, StaffId, TenantId};
//!
//! let tenant = TenantId::new("firm").unwrap();
//! let actor = Actor::Staff { tenant: tenant.clone(), staff_id: StaffId::new("bob").unwrap() };
//! let ctx = RequestContext::default();
//! let by = Attribution::new(&actor, &ctx, EventId::from_random([1; 16]));
//! let now = time::macros::datetime!(2026-03-01 9:00 UTC);
//! let event = by.event(&tenant, None, AuditKind::HumanVerificationPassed, now, serde_json::json!({}));
//! assert_eq!(event.actor, actor);
//! assert_eq!(event.at, now);
//! ```

use time::OffsetDateTime;

use crate::{
    Account, AccountId, Actor, AuditEvent, AuditKind, EventId, RequestContext, TenantId, TokenKind,
};

/// The link tokens a change of password, access or address revokes: the
/// ones that would let someone in (invitation and reset links). "This
/// wasn't me" links stay valid: they are the client's way to lock the
/// account after a change they did not make.
pub const ACCESS_LINK_KINDS: [TokenKind; 2] = [TokenKind::Invitation, TokenKind::PasswordReset];

/// Who asked for a change, from where, and the id of its audit event.
#[derive(Debug, Clone, Copy)]
pub struct Attribution<'a> {
    /// Who (a staff member, on the staff side).
    pub actor: &'a Actor,
    /// From which IP and User-Agent.
    pub ctx: &'a RequestContext,
    /// The id the audit event gets (fresh material from the service).
    pub event_id: EventId,
}

impl<'a> Attribution<'a> {
    /// Bundles the three.
    pub fn new(actor: &'a Actor, ctx: &'a RequestContext, event_id: EventId) -> Self {
        Self {
            actor,
            ctx,
            event_id,
        }
    }

    /// The audit event of this change.
    pub fn event(
        &self,
        tenant: &TenantId,
        account_id: Option<AccountId>,
        kind: AuditKind,
        at: OffsetDateTime,
        detail: serde_json::Value,
    ) -> AuditEvent {
        super::audit(
            self.event_id,
            tenant,
            account_id,
            self.actor,
            kind,
            at,
            self.ctx,
            detail,
        )
    }

    /// The audit event of this change to `account`.
    pub fn on(
        &self,
        account: &Account,
        kind: AuditKind,
        at: OffsetDateTime,
        detail: serde_json::Value,
    ) -> AuditEvent {
        self.event(&account.tenant, Some(account.id), kind, at, detail)
    }
}

/// Shared fixtures of the staff workflows' unit tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use time::macros::datetime;
    use time::OffsetDateTime;

    use crate::{
        Account, AccountId, Actor, EmailAddress, EventId, Invitation, PasswordHash, RawToken,
        RequestContext, StaffId, TenantId, Username,
    };

    pub fn now() -> OffsetDateTime {
        datetime!(2026-03-02 10:00 UTC)
    }

    pub fn tenant() -> TenantId {
        TenantId::new("firm-1").unwrap()
    }

    pub fn staff() -> Actor {
        Actor::Staff {
            tenant: tenant(),
            staff_id: StaffId::new("staff-7").unwrap(),
        }
    }

    pub fn ctx() -> RequestContext {
        RequestContext {
            ip: Some("203.0.113.9".parse().unwrap()),
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0".into()),
            expected_version: None,
        }
    }

    pub fn event_id() -> EventId {
        EventId::from_random([9; 16])
    }

    /// The fixture staff member, from the fixture request, with [`event_id`].
    pub fn by() -> super::Attribution<'static> {
        static ACTOR: std::sync::LazyLock<Actor> = std::sync::LazyLock::new(staff);
        static CTX: std::sync::LazyLock<RequestContext> = std::sync::LazyLock::new(ctx);
        super::Attribution::new(&ACTOR, &CTX, event_id())
    }

    pub fn token(seed: u8) -> RawToken {
        RawToken::from_bytes([seed; 32])
    }

    /// A never-invited account created a day before [`now`].
    pub fn not_invited() -> Account {
        let mut account = Account::new(
            AccountId::from_random([1; 16]),
            tenant(),
            EmailAddress::parse("Ann.Client@example.com").unwrap(),
            Some("contact-42".into()),
            Some("Ann Client".into()),
            now() - time::Duration::days(1),
        );
        account.version = 3;
        account
    }

    /// Invited an hour before [`now`], not accepted.
    pub fn pending() -> Account {
        Account {
            invitation: Invitation::Pending {
                sent_at: now() - time::Duration::hours(1),
                expires_at: now() + time::Duration::days(6),
            },
            ..not_invited()
        }
    }

    /// The account a decision updates.
    pub fn updated<T>(decision: &crate::workflow::Decision<T>) -> Account {
        match &decision.changes.account {
            Some(crate::AccountChange::Update(a)) => a.clone(),
            other => panic!("expected an update, got {other:?}"),
        }
    }

    /// Asserts that `changes` end every session and remembered device of
    /// `account` and revoke its invitation and reset links, at [`now`].
    pub fn assert_locks_out(changes: &crate::Changes, account: &Account) {
        let sessions = vec![crate::SessionRevocation::all_of(account, now())];
        assert_eq!(changes.revoke_sessions, sessions);
        let devices = vec![crate::DeviceRevocation::all_of(account, now())];
        assert_eq!(
            changes.revoke_devices, devices,
            "remembered devices forgotten"
        );
        let links = vec![
            crate::TokenKind::Invitation,
            crate::TokenKind::PasswordReset,
        ];
        assert_eq!(changes.revoke_tokens[0].kinds, links);
    }

    /// Accepted, with a username and a password.
    pub fn accepted() -> Account {
        Account {
            invitation: Invitation::Accepted {
                at: now() - time::Duration::hours(12),
            },
            username: Some(Username::parse("ann.c").unwrap()),
            password_hash: Some(PasswordHash::new(
                "$argon2id$v=19$m=256,t=1,p=1$c2FsdA$aGFzaA",
            )),
            ..not_invited()
        }
    }
}
