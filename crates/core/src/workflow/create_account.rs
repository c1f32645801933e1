//! Staff creates the portal account of a client contact (never invited,
//! access enabled). Uniqueness of the address per tenant is the store's
//! job: a taken address comes back from the commit as
//! [`StoreError::EmailTaken`](crate::StoreError::EmailTaken) and the service
//! maps it to [`CreateAccountError::EmailTaken`].
//!
//! ```
//! use portal_access_core::workflow::attribution::Attribution;
//! use portal_access_core::workflow::create_account::{decide_create_account, NewAccount};
//! use portal_access_core::{AccountId, Actor, AuditKind, EventId, Invitation, RequestContext, StaffId, TenantId};
//!
//! let tenant = TenantId::new("firm").unwrap();
//! let actor = Actor::Staff { tenant: tenant.clone(), staff_id: StaffId::new("bob").unwrap() };
//! let ctx = RequestContext::default();
//! let now = time::macros::datetime!(2026-03-01 9:00 UTC);
//! let command = NewAccount { email: " ann@example.com ", contact_ref: Some("c-1"), display_name: Some("Ann"), language: None };
//! let decision = decide_create_account(&tenant, Attribution::new(&actor, &ctx, EventId::from_random([2; 16])),
//!     command, AccountId::from_random([1; 16]), now).unwrap();
//! assert_eq!(decision.outcome.email.as_str(), "ann@example.com");
//! assert_eq!(decision.outcome.invitation, Invitation::NotInvited);
//! assert_eq!(decision.changes.audit[0].kind, AuditKind::AccountCreated);
//! ```

use time::OffsetDateTime;

use super::attribution::Attribution;
use super::{Decision, ErrorCode, Refusal};
use crate::TenantId;
use crate::{
    Account, AccountChange, AccountId, AuditKind, Changes, EmailAddress, InvalidEmail, Language,
};

/// The most characters a contact reference may have.
pub const MAX_CONTACT_REF_CHARS: usize = 256;
/// The most characters a display name may have.
pub const MAX_DISPLAY_NAME_CHARS: usize = 200;

/// What staff typed to create an account (not yet parsed).
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    /// The contact's email address.
    pub email: &'a str,
    /// The host CRM's reference of the contact.
    pub contact_ref: Option<&'a str>,
    /// A display name for mail.
    pub display_name: Option<&'a str>,
    /// The language of the client's mail, checked against the service's
    /// languages before (absent: the firm's default).
    pub language: Option<Language>,
}

/// Why an account was not created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateAccountError {
    /// The address is not an email address (`validation_failed`).
    #[error("invalid email address: {0}")]
    InvalidEmail(InvalidEmail),
    /// The contact reference is empty, too long, or holds control characters (`validation_failed`).
    #[error("the contact reference must be 1 to {MAX_CONTACT_REF_CHARS} printable characters")]
    InvalidContactRef,
    /// The display name is too long or holds control characters, such as
    /// line breaks that would break a mail header (`validation_failed`).
    #[error("the display name must be at most {MAX_DISPLAY_NAME_CHARS} printable characters")]
    InvalidDisplayName,
    /// Another account of the tenant has this address (`email_taken`).
    #[error("another portal account of this firm already uses this email address")]
    EmailTaken,
    /// `language` is not a language of this portal (`validation_failed`).
    #[error("`language` must be a language of this portal (e.g. `en`, `es`), or absent for the firm's default")]
    UnsupportedLanguage,
}

impl Refusal for CreateAccountError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidEmail(_)
            | Self::InvalidContactRef
            | Self::InvalidDisplayName
            | Self::UnsupportedLanguage => ErrorCode::ValidationFailed,
            Self::EmailTaken => ErrorCode::EmailTaken,
        }
    }
}

/// Trims an optional text field; empty means absent. `None` back in `Err`
/// position means the value is refused.
fn optional_text(value: Option<&str>, max_chars: usize) -> Result<Option<String>, ()> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max_chars || value.chars().any(char::is_control) {
        return Err(());
    }
    Ok(Some(value.to_owned()))
}

/// Decides the creation of an account: parses the command, builds a
/// never-invited account with access enabled, and records `AccountCreated`.
/// The outcome is the account as it will be stored.
pub fn decide_create_account(
    tenant: &TenantId,
    by: Attribution<'_>,
    command: NewAccount<'_>,
    id: AccountId,
    now: OffsetDateTime,
) -> Result<Decision<Account>, CreateAccountError> {
    let email = EmailAddress::parse(command.email).map_err(CreateAccountError::InvalidEmail)?;
    let contact_ref = optional_text(command.contact_ref, MAX_CONTACT_REF_CHARS)
        .map_err(|()| CreateAccountError::InvalidContactRef)?;
    let display_name = optional_text(command.display_name, MAX_DISPLAY_NAME_CHARS)
        .map_err(|()| CreateAccountError::InvalidDisplayName)?;
    let account = Account {
        language: command.language,
        ..Account::new(id, tenant.clone(), email, contact_ref, display_name, now)
    };
    let event = by.event(
        tenant,
        Some(id),
        AuditKind::AccountCreated,
        now,
        serde_json::json!({
            "email": account.email.as_str(),
            "contact_ref": account.contact_ref,
            "language": account.language,
        }),
    );
    let changes = Changes {
        account: Some(AccountChange::Insert(account.clone())),
        audit: vec![event],
        ..Changes::default()
    };
    Ok(Decision::new(changes, account))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::attribution::fixtures::*;
    use crate::{Access, Invitation};

    fn create(command: NewAccount<'_>) -> Result<Decision<Account>, CreateAccountError> {
        decide_create_account(
            &tenant(),
            by(),
            command,
            AccountId::from_random([5; 16]),
            now(),
        )
    }

    fn command(email: &str) -> NewAccount<'_> {
        NewAccount {
            email,
            contact_ref: Some(" contact-9 "),
            display_name: Some("Ann Client"),
            language: None,
        }
    }

    #[test]
    fn a_new_account_gets_the_language_staff_chose() {
        let decision = create(NewAccount {
            language: Some(crate::Language::stored("es")),
            ..command("ann@example.com")
        })
        .unwrap();
        assert_eq!(
            decision.outcome.language.as_ref().map(|l| l.as_str()),
            Some("es")
        );
        assert_eq!(decision.changes.audit[0].detail["language"], "es");
        assert_eq!(
            create(command("bob@example.com")).unwrap().outcome.language,
            None
        );
    }

    #[test]
    fn a_new_account_is_not_invited_enabled_and_without_credentials() {
        let decision = create(command("Ann.Client@Example.com")).unwrap();
        let account = decision.outcome;
        assert_eq!(account.invitation, Invitation::NotInvited);
        assert_eq!(account.access, Access::Enabled);
        assert!(!account.archived);
        assert!(account.username.is_none());
        assert!(account.password_hash.is_none());
        assert_eq!(account.email.normalized(), "ann.client@example.com");
        assert_eq!(account.contact_ref.as_deref(), Some("contact-9"));
        assert_eq!(account.tenant, tenant());
        assert_eq!(
            decision.changes.account,
            Some(AccountChange::Insert(account.clone()))
        );
    }

    #[test]
    fn creating_an_account_records_an_audit_event_with_the_staff_member() {
        let decision = create(command("ann@example.com")).unwrap();
        let [event] = decision.changes.audit.as_slice() else {
            panic!("one audit event expected");
        };
        assert_eq!(event.kind, AuditKind::AccountCreated);
        assert_eq!(event.actor, staff());
        assert_eq!(event.ip, ctx().ip);
        assert_eq!(event.account_id, Some(decision.outcome.id));
        assert!(decision.mail.is_empty());
    }

    #[test]
    fn a_malformed_email_address_is_refused_as_validation_failed() {
        let err = create(command("not an address")).unwrap_err();
        assert!(matches!(err, CreateAccountError::InvalidEmail(_)));
        assert_eq!(err.code(), ErrorCode::ValidationFailed);
    }

    #[test]
    fn a_display_name_with_a_line_break_is_refused() {
        let err = create(NewAccount {
            display_name: Some("Ann\r\nBcc: victim@example.com"),
            ..command("ann@example.com")
        })
        .unwrap_err();
        assert_eq!(err, CreateAccountError::InvalidDisplayName);
        assert_eq!(err.code(), ErrorCode::ValidationFailed);
    }

    #[test]
    fn an_overlong_contact_reference_is_refused() {
        let long = "x".repeat(MAX_CONTACT_REF_CHARS + 1);
        let err = create(NewAccount {
            contact_ref: Some(&long),
            ..command("ann@example.com")
        })
        .unwrap_err();
        assert_eq!(err, CreateAccountError::InvalidContactRef);
    }

    #[test]
    fn blank_optional_fields_are_stored_as_absent() {
        let decision = create(NewAccount {
            email: "ann@example.com",
            contact_ref: Some("   "),
            display_name: Some(""),
            language: None,
        })
        .unwrap();
        assert_eq!(decision.outcome.contact_ref, None);
        assert_eq!(decision.outcome.display_name, None);
    }

    #[test]
    fn a_taken_address_has_the_email_taken_code() {
        assert_eq!(CreateAccountError::EmailTaken.code(), ErrorCode::EmailTaken);
    }
}
