//! Staff turns portal access on or off (SPEC section 3, "Access and
//! archival"). Disabling revokes every session and pending link; enabling
//! issues nothing. Setting access to what it already is changes nothing and
//! records nothing. An archived account is frozen: unarchive it first.
//!
//! ```
//! use portal_access_core::workflow::access::decide_set_access;
//! use portal_access_core::workflow::attribution::Attribution;
//! use portal_access_core::{Access, Account, AccountChange, AccountId, Actor, EmailAddress, EventId, RequestContext, StaffId, TenantId};
//!
//! let tenant = TenantId::new("firm").unwrap();
//! let now = time::macros::datetime!(2026-03-01 9:00 UTC);
//! let account = Account::new(AccountId::from_random([1; 16]), tenant.clone(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! let actor = Actor::Staff { tenant, staff_id: StaffId::new("bob").unwrap() };
//! let ctx = RequestContext::default();
//! let decision = decide_set_access(&account, Attribution::new(&actor, &ctx, EventId::from_random([2; 16])), now, false).unwrap();
//! let Some(AccountChange::Update(updated)) = decision.changes.account else { unreachable!() };
//! assert_eq!(updated.access, Access::Disabled);
//! assert_eq!(decision.changes.revoke_sessions.len(), 1);
//! ```

use time::OffsetDateTime;

use super::attribution::{Attribution, ACCESS_LINK_KINDS};
use super::refusal::{not_found_is, stale_version_is};
use super::{Decision, ErrorCode, Refusal};
use crate::{
    Access, Account, AccountChange, AuditKind, Changes, SessionRevocation, TokenRevocation,
};

/// Why access was not changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// No such account in the staff member's tenant (`not_found`).
    #[error("no such portal account")]
    NotFound,
    /// The account changed since the staff member read it (`stale_version`).
    #[error("the account changed since you read it: nothing was changed")]
    StaleVersion,
    /// The account is archived (`account_archived`).
    #[error("the account is archived: unarchive it before changing its access")]
    AccountArchived,
}

impl Refusal for AccessError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::StaleVersion => ErrorCode::StaleVersion,
            Self::AccountArchived => ErrorCode::AccountArchived,
        }
    }
}

not_found_is!(AccessError);
stale_version_is!(AccessError);

/// Decides turning access on (`enabled`) or off.
pub fn decide_set_access(
    account: &Account,
    by: Attribution<'_>,
    now: OffsetDateTime,
    enabled: bool,
) -> Result<Decision<()>, AccessError> {
    if account.archived {
        return Err(AccessError::AccountArchived);
    }
    let access = if enabled {
        Access::Enabled
    } else {
        Access::Disabled
    };
    if account.access == access {
        return Ok(Decision::new(Changes::default(), ()));
    }
    let mut changes = Changes {
        account: Some(AccountChange::Update(Account {
            access,
            updated_at: now,
            ..account.clone()
        })),
        audit: vec![by.on(
            account,
            if enabled {
                AuditKind::AccessEnabled
            } else {
                AuditKind::AccessDisabled
            },
            now,
            serde_json::json!({}),
        )],
        ..Changes::default()
    };
    if !enabled {
        changes.revoke_sessions = vec![SessionRevocation::all_of(account, now)];
        changes.revoke_devices = vec![crate::DeviceRevocation::all_of(account, now)];
        changes.revoke_tokens = vec![TokenRevocation::of(account, &ACCESS_LINK_KINDS, now)];
    }
    Ok(Decision::new(changes, ()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::attribution::fixtures::*;

    fn set(account: &Account, enabled: bool) -> Result<Decision<()>, AccessError> {
        decide_set_access(account, by(), now(), enabled)
    }

    fn disabled() -> Account {
        Account {
            access: Access::Disabled,
            ..accepted()
        }
    }

    #[test]
    fn disabling_access_revokes_sessions_and_pending_links() {
        let decision = set(&accepted(), false).unwrap();
        assert_eq!(updated(&decision).access, Access::Disabled);
        assert_locks_out(&decision.changes, &accepted());
        assert_eq!(decision.changes.audit[0].kind, AuditKind::AccessDisabled);
    }

    #[test]
    fn enabling_access_issues_and_revokes_nothing() {
        let decision = set(&disabled(), true).unwrap();
        assert_eq!(updated(&decision).access, Access::Enabled);
        assert!(decision.changes.revoke_sessions.is_empty());
        assert!(decision.changes.revoke_tokens.is_empty());
        assert!(decision.changes.new_tokens.is_empty());
        assert!(decision.mail.is_empty());
        assert_eq!(decision.changes.audit[0].kind, AuditKind::AccessEnabled);
    }

    #[test]
    fn setting_access_to_what_it_is_changes_nothing() {
        assert!(set(&accepted(), true).unwrap().changes.is_empty());
        assert!(set(&disabled(), false).unwrap().changes.is_empty());
    }

    #[test]
    fn changing_access_of_an_archived_account_is_refused() {
        let archived = Account {
            archived: true,
            ..accepted()
        };
        assert_eq!(
            set(&archived, false).unwrap_err().code(),
            ErrorCode::AccountArchived
        );
    }
}
