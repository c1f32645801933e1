//! Staff changes the email address of an account (SPEC section 4,
//! `PUT /staff/accounts/{id}/email`). Every link token of the account is
//! revoked (links mailed to the old address stop working) and an
//! "email changed" notice goes to the old and to the new address. The
//! address stays unique per tenant: the store refuses a taken one, which
//! the service maps to [`ChangeEmailError::EmailTaken`].
//!
//! ```
//! use portal_access_core::workflow::attribution::Attribution;
//! use portal_access_core::workflow::email_change::decide_change_email;
//! use portal_access_core::{Account, AccountId, Actor, EmailAddress, EventId, RequestContext, StaffId, TenantId};
//!
//! let tenant = TenantId::new("firm").unwrap();
//! let now = time::macros::datetime!(2026-03-01 9:00 UTC);
//! let account = Account::new(AccountId::from_random([1; 16]), tenant.clone(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! let actor = Actor::Staff { tenant, staff_id: StaffId::new("bob").unwrap() };
//! let ctx = RequestContext::default();
//! let decision = decide_change_email(&account, Attribution::new(&actor, &ctx, EventId::from_random([2; 16])),
//!     now, "ann@new.example", true).unwrap();
//! let to: Vec<&str> = decision.mail.iter().map(|m| m.to.as_str()).collect();
//! assert_eq!(to, ["ann@example.com", "ann@new.example"]);
//! ```

use time::OffsetDateTime;

use super::attribution::Attribution;
use super::refusal::{not_found_is, stale_version_is};
use super::{Decision, ErrorCode, MailIntent, Refusal};
use crate::mail::mail_time;
use crate::{
    Account, AccountChange, AuditKind, Changes, EmailAddress, InvalidEmail, MessageKind, TokenKind,
    TokenRevocation,
};

/// Why the address was not changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeEmailError {
    /// No such account in the staff member's tenant (`not_found`).
    #[error("no such portal account")]
    NotFound,
    /// The account changed since the staff member read it (`stale_version`).
    #[error("the account changed since you read it: nothing was changed")]
    StaleVersion,
    /// Not an email address (`validation_failed`).
    #[error("invalid email address: {0}")]
    InvalidEmail(InvalidEmail),
    /// Another account of the tenant uses it (`email_taken`).
    #[error("another portal account of this firm already uses this email address")]
    EmailTaken,
    /// The account is archived (`account_archived`).
    #[error("the account is archived: unarchive it before changing its email address")]
    AccountArchived,
}

impl Refusal for ChangeEmailError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::StaleVersion => ErrorCode::StaleVersion,
            Self::InvalidEmail(_) => ErrorCode::ValidationFailed,
            Self::EmailTaken => ErrorCode::EmailTaken,
            Self::AccountArchived => ErrorCode::AccountArchived,
        }
    }
}

not_found_is!(ChangeEmailError);
stale_version_is!(ChangeEmailError);

/// Decides an address change to `new_email` (as typed). `notify`: whether
/// a mailer is configured (without one, no notices are queued). The same
/// address, exactly as stored, changes nothing.
pub fn decide_change_email(
    account: &Account,
    by: Attribution<'_>,
    now: OffsetDateTime,
    new_email: &str,
    notify: bool,
) -> Result<Decision<()>, ChangeEmailError> {
    let email = EmailAddress::parse(new_email).map_err(ChangeEmailError::InvalidEmail)?;
    if account.archived {
        return Err(ChangeEmailError::AccountArchived);
    }
    if email.as_str() == account.email.as_str() {
        return Ok(Decision::new(Changes::default(), ()));
    }
    let old = account.email.clone();
    let changes = Changes {
        account: Some(AccountChange::Update(Account {
            email: email.clone(),
            updated_at: now,
            ..account.clone()
        })),
        revoke_tokens: vec![TokenRevocation::of(account, &TokenKind::ALL, now)],
        audit: vec![by.on(
            account,
            AuditKind::EmailChanged,
            now,
            serde_json::json!({ "old_email": old.as_str(), "new_email": email.as_str() }),
        )],
        ..Changes::default()
    };
    let vars = serde_json::json!({
        "old_email": old.as_str(),
        "new_email": email.as_str(),
        "changed_at": mail_time(now),
    });
    let mail = if notify {
        [old.as_str(), email.as_str()]
            .into_iter()
            .map(|to| MailIntent {
                kind: MessageKind::EmailChanged,
                tenant: account.tenant.clone(),
                account_id: Some(account.id),
                to: to.to_owned(),
                to_name: account.display_name.clone(),
                link: None,
                secret: None,
                vars: vars.clone(),
                language: account.language.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Decision {
        changes,
        mail,
        outcome: (),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::attribution::fixtures::*;

    fn change(account: &Account, to: &str, notify: bool) -> Result<Decision<()>, ChangeEmailError> {
        decide_change_email(account, by(), now(), to, notify)
    }

    #[test]
    fn changing_the_email_notifies_the_old_and_the_new_address() {
        let decision = change(&accepted(), "ann@new.example", true).unwrap();
        let to: Vec<&str> = decision.mail.iter().map(|m| m.to.as_str()).collect();
        assert_eq!(to, ["Ann.Client@example.com", "ann@new.example"]);
        for mail in &decision.mail {
            assert_eq!(mail.kind, MessageKind::EmailChanged);
            assert!(mail.link.is_none());
            assert_eq!(mail.vars["old_email"], "Ann.Client@example.com");
            assert_eq!(mail.vars["new_email"], "ann@new.example");
            assert_eq!(mail.vars["changed_at"], "2026-03-02T10:00:00Z");
        }
    }

    #[test]
    fn changing_the_email_revokes_the_links_sent_to_the_old_address() {
        let decision = change(&pending(), "ann@new.example", true).unwrap();
        assert_eq!(
            decision.changes.revoke_tokens,
            vec![TokenRevocation::of(&pending(), &TokenKind::ALL, now())]
        );
        let Some(AccountChange::Update(updated)) = &decision.changes.account else {
            panic!("expected an update");
        };
        assert_eq!(updated.email.normalized(), "ann@new.example");
        assert_eq!(decision.changes.audit[0].kind, AuditKind::EmailChanged);
    }

    #[test]
    fn a_malformed_address_is_refused_as_validation_failed() {
        assert_eq!(
            change(&accepted(), "ann at example", true)
                .unwrap_err()
                .code(),
            ErrorCode::ValidationFailed
        );
    }

    #[test]
    fn changing_the_email_of_an_archived_account_is_refused() {
        let archived = Account {
            archived: true,
            ..accepted()
        };
        assert_eq!(
            change(&archived, "ann@new.example", true).unwrap_err(),
            ChangeEmailError::AccountArchived
        );
    }

    #[test]
    fn the_same_address_changes_nothing() {
        assert!(change(&accepted(), " Ann.Client@example.com ", true)
            .unwrap()
            .changes
            .is_empty());
    }

    #[test]
    fn a_change_in_case_only_is_stored_as_typed() {
        let decision = change(&accepted(), "ann.client@example.com", true).unwrap();
        let Some(AccountChange::Update(updated)) = &decision.changes.account else {
            panic!("expected an update");
        };
        assert_eq!(updated.email.as_str(), "ann.client@example.com");
    }

    #[test]
    fn without_a_mailer_the_address_changes_and_no_notice_is_queued() {
        let decision = change(&accepted(), "ann@new.example", false).unwrap();
        assert!(decision.mail.is_empty());
        assert!(decision.changes.account.is_some());
    }
}
