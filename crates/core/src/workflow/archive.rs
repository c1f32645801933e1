//! Staff archives or unarchives an account (SPEC section 3, "Access and
//! archival"). Archiving revokes every session and every link token (an
//! archived account gets no reset, no invitation, no sign-in); unarchiving
//! restores the earlier state (access, invitation, password are untouched
//! by archiving) and issues nothing. Both are idempotent.
//!
//! ```
//! use portal_access_core::workflow::archive::decide_archive;
//! use portal_access_core::workflow::attribution::Attribution;
//! use portal_access_core::{Account, AccountChange, AccountId, Actor, EmailAddress, EventId, RequestContext, StaffId, TenantId};
//!
//! let tenant = TenantId::new("firm").unwrap();
//! let now = time::macros::datetime!(2026-03-01 9:00 UTC);
//! let account = Account::new(AccountId::from_random([1; 16]), tenant.clone(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! let actor = Actor::Staff { tenant, staff_id: StaffId::new("bob").unwrap() };
//! let ctx = RequestContext::default();
//! let decision = decide_archive(&account, Attribution::new(&actor, &ctx, EventId::from_random([2; 16])), now, true).unwrap();
//! let Some(AccountChange::Update(updated)) = decision.changes.account else { unreachable!() };
//! assert!(updated.archived);
//! ```

use time::OffsetDateTime;

use super::attribution::Attribution;
use super::refusal::{not_found_is, stale_version_is};
use super::{Decision, ErrorCode, Refusal};
use crate::{
    Account, AccountChange, AuditKind, Changes, SessionRevocation, TokenKind, TokenRevocation,
};

/// Why an account was not archived or unarchived: only because it does not
/// exist; both operations are otherwise always allowed and idempotent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    /// No such account in the staff member's tenant (`not_found`).
    #[error("no such portal account")]
    NotFound,
    /// The account changed since the staff member read it (`stale_version`).
    #[error("the account changed since you read it: nothing was changed")]
    StaleVersion,
}

impl Refusal for ArchiveError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::StaleVersion => ErrorCode::StaleVersion,
        }
    }
}

not_found_is!(ArchiveError);
stale_version_is!(ArchiveError);

/// Decides archiving (`archive == true`) or unarchiving.
pub fn decide_archive(
    account: &Account,
    by: Attribution<'_>,
    now: OffsetDateTime,
    archive: bool,
) -> Result<Decision<()>, ArchiveError> {
    if account.archived == archive {
        return Ok(Decision::new(Changes::default(), ()));
    }
    let mut changes = Changes {
        account: Some(AccountChange::Update(Account {
            archived: archive,
            updated_at: now,
            ..account.clone()
        })),
        audit: vec![by.on(
            account,
            if archive {
                AuditKind::Archived
            } else {
                AuditKind::Unarchived
            },
            now,
            serde_json::json!({}),
        )],
        ..Changes::default()
    };
    if archive {
        changes.revoke_sessions = vec![SessionRevocation::all_of(account, now)];
        changes.revoke_devices = vec![crate::DeviceRevocation::all_of(account, now)];
        changes.revoke_tokens = vec![TokenRevocation::of(account, &TokenKind::ALL, now)];
    }
    Ok(Decision::new(changes, ()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::attribution::fixtures::*;
    use crate::Access;

    fn decide(account: &Account, archive: bool) -> Decision<()> {
        decide_archive(account, by(), now(), archive).unwrap()
    }

    #[test]
    fn archiving_revokes_every_session_remembered_device_and_link() {
        let decision = decide(&accepted(), true);
        assert!(updated(&decision).archived);
        assert_eq!(
            decision.changes.revoke_sessions,
            vec![SessionRevocation::all_of(&accepted(), now())]
        );
        assert_eq!(
            decision.changes.revoke_devices,
            vec![crate::DeviceRevocation::all_of(&accepted(), now())]
        );
        assert_eq!(
            decision.changes.revoke_tokens[0].kinds,
            TokenKind::ALL.to_vec()
        );
        assert_eq!(decision.changes.audit[0].kind, AuditKind::Archived);
    }

    #[test]
    fn unarchiving_restores_the_earlier_state_and_issues_nothing() {
        let before = Account {
            access: Access::Disabled,
            must_change_password: true,
            ..pending()
        };
        let archived = updated(&decide(&before, true));
        let decision = decide(&archived, false);
        let restored = updated(&decision);
        assert!(!restored.archived);
        assert_eq!(restored.access, before.access);
        assert_eq!(restored.invitation, before.invitation);
        assert_eq!(restored.password_hash, before.password_hash);
        assert_eq!(restored.must_change_password, before.must_change_password);
        assert!(decision.changes.new_tokens.is_empty());
        assert!(decision.changes.new_session.is_none());
        assert!(decision.mail.is_empty());
        assert_eq!(decision.changes.audit[0].kind, AuditKind::Unarchived);
    }

    #[test]
    fn archiving_an_archived_account_changes_nothing() {
        let archived = Account {
            archived: true,
            ..accepted()
        };
        assert!(decide(&archived, true).changes.is_empty());
        assert!(decide(&accepted(), false).changes.is_empty());
    }
}
