//! Constructors of the parts of a [`Changes`](crate::Changes) and of the
//! mail and audit events workflows decide: each workflow names what it
//! changes in one line instead of spelling out the store's structs.
//!
//! ```
//! use portal_access_core::workflow::changes::client_event;
//! use portal_access_core::{Account, AccountId, AuditKind, EmailAddress, EventId, RequestContext};
//! use portal_access_core::{SessionRevocation, TenantId, TokenKind, TokenRevocation};
//!
//! let now = time::macros::datetime!(2026-03-01 9:00 UTC);
//! let account = Account::new(AccountId::from_random([1; 16]), TenantId::new("firm").unwrap(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! let revoke = TokenRevocation::of(&account, &[TokenKind::PasswordReset], now);
//! assert_eq!(revoke.kinds, vec![TokenKind::PasswordReset]);
//! let SessionRevocation::AllOfAccount { except, .. } = SessionRevocation::all_of(&account, now) else {
//!     unreachable!()
//! };
//! assert_eq!(except, None);
//! let event = client_event(&account, AuditKind::SignedOut, &RequestContext::default(),
//!     EventId::from_random([2; 16]), now);
//! assert_eq!(event.account_id, Some(account.id));
//! ```

use time::OffsetDateTime;

use super::{MailIntent, MailLink};
use crate::{
    Account, Actor, AuditEvent, AuditKind, DeviceRevocation, EventId, MessageKind, RawToken,
    Redemption, RequestContext, SessionRevocation, TokenHash, TokenKind, TokenRevocation,
};

impl TokenRevocation {
    /// Revokes every pending token of these kinds of `account`, at `at`.
    pub fn of(account: &Account, kinds: &[TokenKind], at: OffsetDateTime) -> Self {
        Self {
            tenant: account.tenant.clone(),
            account_id: account.id,
            kinds: kinds.to_vec(),
            at,
        }
    }
}

impl SessionRevocation {
    /// Revokes every session of `account` (none kept), at `at`.
    pub fn all_of(account: &Account, at: OffsetDateTime) -> Self {
        Self::AllOfAccount {
            tenant: account.tenant.clone(),
            account_id: account.id,
            except: None,
            at,
        }
    }
}

impl DeviceRevocation {
    /// Revokes every remembered device of `account`, at `at`.
    pub fn all_of(account: &Account, at: OffsetDateTime) -> Self {
        Self {
            tenant: account.tenant.clone(),
            account_id: account.id,
            only: None,
            at,
        }
    }

    /// Revokes the device of `account` stored under `hash`, at `at`.
    pub fn one_of(account: &Account, hash: TokenHash, at: OffsetDateTime) -> Self {
        Self {
            only: Some(hash),
            ..Self::all_of(account, at)
        }
    }
}

impl Redemption {
    /// Redeems the token with this hash, which must be of `kind`, at `at`.
    pub fn of(hash: TokenHash, kind: TokenKind, at: OffsetDateTime) -> Self {
        Self { hash, kind, at }
    }
}

impl MailIntent {
    /// A message of `kind` about `account`, to its address and name, with
    /// no link and no further variables (see [`with_link`](Self::with_link)
    /// and [`with_vars`](Self::with_vars)).
    pub fn to_account(kind: MessageKind, account: &Account) -> Self {
        Self {
            kind,
            tenant: account.tenant.clone(),
            account_id: Some(account.id),
            to: account.email.as_str().to_owned(),
            to_name: account.display_name.clone(),
            link: None,
            secret: None,
            vars: serde_json::json!({}),
            language: account.language.clone(),
        }
    }

    /// The same message carrying a link to `page` with `token`.
    pub fn with_link(
        self,
        page: &'static str,
        token: RawToken,
        expires_at: OffsetDateTime,
    ) -> Self {
        Self {
            link: Some(MailLink {
                page,
                token,
                expires_at,
            }),
            ..self
        }
    }

    /// The same message with these template variables (a JSON object).
    pub fn with_vars(self, vars: serde_json::Value) -> Self {
        Self { vars, ..self }
    }
}

/// The audit event of a change to `account` by `actor` (no detail; see
/// [`AuditEvent::with_detail`]).
pub fn account_event(
    account: &Account,
    actor: &Actor,
    kind: AuditKind,
    ctx: &RequestContext,
    id: EventId,
    at: OffsetDateTime,
) -> AuditEvent {
    super::audit(
        id,
        &account.tenant,
        Some(account.id),
        actor,
        kind,
        at,
        ctx,
        serde_json::Value::Null,
    )
}

/// The audit event of a change the account's own client made.
pub fn client_event(
    account: &Account,
    kind: AuditKind,
    ctx: &RequestContext,
    id: EventId,
    at: OffsetDateTime,
) -> AuditEvent {
    let client = Actor::Client {
        account_id: account.id,
    };
    account_event(account, &client, kind, ctx, id, at)
}
