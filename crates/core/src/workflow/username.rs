//! The signed-in client changes their username (only they can).
//!
//! 3–32 characters after NFKC; letters, digits, `.`, `_`, `-`; no `@`
//! (`username_invalid`). Unique per tenant case-insensitively: the store's
//! unique index decides (`username_taken`), never a check-then-insert.
//! The client is told by email; the change is audited.
//!
//! ```
//! use portal_access_core::workflow::username::{decide_change_username, ChangeUsernameError, ChangeUsernameOutcome};
//! use portal_access_core::{Account, AccountId, EmailAddress, EventId, RequestContext, TenantId};
//! use time::macros::datetime;
//!
//! let now = datetime!(2026-01-01 9:00 UTC);
//! let account = Account::new(AccountId::from_random([1; 16]), TenantId::new("firm").unwrap(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! let ctx = RequestContext::default();
//! let decision = decide_change_username(&account, "Ann.C", &ctx, EventId::from_random([2; 16]), now).unwrap();
//! assert!(matches!(decision.outcome, ChangeUsernameOutcome::Changed(_)));
//! let refused = decide_change_username(&account, "ann@c", &ctx, EventId::from_random([2; 16]), now);
//! assert!(matches!(refused, Err(ChangeUsernameError::UsernameInvalid(_))));
//! ```

use time::OffsetDateTime;

use super::changes::client_event;
use super::{Decision, ErrorCode, MailIntent, Refusal};
use crate::{
    Account, AccountChange, AuditKind, Changes, EventId, InvalidUsername, MessageKind,
    RequestContext, Username,
};

/// Why a username change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeUsernameError {
    /// The username breaks the rules (`username_invalid`).
    #[error(transparent)]
    UsernameInvalid(InvalidUsername),
    /// Another account of the tenant has it (`username_taken`).
    #[error("this username is taken; choose another")]
    UsernameTaken,
}

impl Refusal for ChangeUsernameError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::UsernameInvalid(_) => ErrorCode::UsernameInvalid,
            Self::UsernameTaken => ErrorCode::UsernameTaken,
        }
    }

    fn message_key(&self) -> &'static str {
        match self {
            Self::UsernameInvalid(invalid) => invalid.message_key(),
            Self::UsernameTaken => self.code().as_str(),
        }
    }
}

/// What a username change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeUsernameOutcome {
    /// Changed; the account as committed.
    Changed(Box<Account>),
    /// The same username as now, exactly: nothing to do, no mail.
    Unchanged,
}

/// Changes the username of the signed-in client's account (as loaded).
/// A change of case only (`ann` to `Ann`) is a change.
pub fn decide_change_username(
    account: &Account,
    input: &str,
    ctx: &RequestContext,
    event_id: EventId,
    now: OffsetDateTime,
) -> Result<Decision<ChangeUsernameOutcome>, ChangeUsernameError> {
    let username = Username::parse(input).map_err(ChangeUsernameError::UsernameInvalid)?;
    if account
        .username
        .as_ref()
        .is_some_and(|current| current.as_str() == username.as_str())
    {
        return Ok(Decision::new(
            Changes::default(),
            ChangeUsernameOutcome::Unchanged,
        ));
    }
    let old = account.username.as_ref().map(|u| u.as_str().to_owned());
    let mut updated = account.clone();
    updated.username = Some(username.clone());
    updated.updated_at = now;
    let changes = Changes {
        account: Some(AccountChange::Update(updated.clone())),
        audit: vec![
            client_event(account, AuditKind::UsernameChanged, ctx, event_id, now).with_detail(
                serde_json::json!({ "old_username": old, "new_username": username.as_str() }),
            ),
        ],
        ..Changes::default()
    };
    let mail = MailIntent {
        kind: MessageKind::UsernameChanged,
        tenant: account.tenant.clone(),
        account_id: Some(account.id),
        to: account.email.as_str().to_owned(),
        to_name: account.display_name.clone(),
        link: None,
        secret: None,
        vars: serde_json::json!({
            "old_username": old,
            "new_username": username.as_str(),
            "changed_at": crate::mail::mail_time(now),
        }),
        language: account.language.clone(),
    };
    updated.version += 1;
    Ok(Decision {
        changes,
        mail: vec![mail],
        outcome: ChangeUsernameOutcome::Changed(Box::new(updated)),
    })
}

#[cfg(test)]
mod tests {
    use super::super::session::test_support::*;
    use super::*;

    fn refused(account: &Account, chosen: &str) -> ChangeUsernameError {
        decide_change_username(account, chosen, &ctx(), event_id(8), now()).unwrap_err()
    }

    fn invalid(why: InvalidUsername) -> ChangeUsernameError {
        ChangeUsernameError::UsernameInvalid(why)
    }

    #[test]
    fn a_valid_username_is_set_notified_and_audited() {
        let account = accepted_account();
        let d =
            decide_change_username(&account, "Ann.Client-2", &ctx(), event_id(8), now()).unwrap();
        let Some(AccountChange::Update(updated)) = &d.changes.account else {
            panic!("expected an update")
        };
        assert_eq!(updated.username.as_ref().unwrap().as_str(), "Ann.Client-2");
        assert_eq!(d.mail[0].kind, MessageKind::UsernameChanged);
        assert_eq!(d.mail[0].to, account.email.as_str());
        assert_eq!(d.mail[0].vars["old_username"], "ann.c");
        assert_eq!(d.mail[0].vars["new_username"], "Ann.Client-2");
        assert_eq!(d.mail[0].vars["changed_at"], "2026-03-02T10:00:00Z");
        assert_eq!(d.changes.audit[0].kind, AuditKind::UsernameChanged);
        assert_eq!(d.changes.audit[0].detail["old_username"], "ann.c");
    }

    #[test]
    fn a_first_username_has_no_old_username() {
        let mut account = accepted_account();
        account.username = None;
        let d = decide_change_username(&account, "ann.c", &ctx(), event_id(8), now()).unwrap();
        assert!(d.mail[0].vars["old_username"].is_null());
    }

    #[test]
    fn a_username_shorter_than_three_characters_is_refused_as_username_invalid() {
        let account = accepted_account();
        let err = refused(&account, "an");
        assert_eq!(err, invalid(InvalidUsername::Length));
        assert_eq!(err.code(), ErrorCode::UsernameInvalid);
    }

    #[test]
    fn a_username_longer_than_thirty_two_characters_after_nfkc_is_refused() {
        let account = accepted_account();
        // 17 "ﬀ" ligatures are 34 characters after NFKC.
        let err = refused(&account, &"ﬀ".repeat(17));
        assert_eq!(err, invalid(InvalidUsername::Length));
    }

    #[test]
    fn a_username_with_an_at_sign_is_refused() {
        let account = accepted_account();
        let err = refused(&account, "ann@firm");
        assert_eq!(err, invalid(InvalidUsername::Characters));
    }

    #[test]
    fn the_same_username_again_changes_nothing_and_sends_nothing() {
        let account = accepted_account();
        let d = decide_change_username(&account, " ann.c ", &ctx(), event_id(8), now()).unwrap();
        assert_eq!(d.outcome, ChangeUsernameOutcome::Unchanged);
        assert!(d.changes.is_empty());
        assert!(d.mail.is_empty());
    }

    #[test]
    fn a_change_of_case_only_is_a_change() {
        let account = accepted_account();
        let d = decide_change_username(&account, "Ann.C", &ctx(), event_id(8), now()).unwrap();
        assert!(matches!(d.outcome, ChangeUsernameOutcome::Changed(_)));
    }

    #[test]
    fn username_taken_has_its_own_code() {
        assert_eq!(
            ChangeUsernameError::UsernameTaken.code(),
            ErrorCode::UsernameTaken
        );
    }
}
