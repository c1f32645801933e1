//! Staff or the account's own client sets the language of the account's
//! mail (SPEC.md section 11). The tag is checked against the service's
//! languages before (a [`Language`] is only made by
//! [`Locales::language`](crate::i18n::Locales::language)); `None` goes back
//! to the firm's default, English. Setting what is already set changes
//! and records nothing; a change is audited (`language_changed`, with the
//! old and new tags) and told to no host.
//!
//! ```
//! use portal_access_core::i18n::Locales;
//! use portal_access_core::workflow::attribution::Attribution;
//! use portal_access_core::workflow::language::decide_set_language;
//! use portal_access_core::{Account, AccountChange, AccountId, Actor, AuditKind, EmailAddress, EventId, RequestContext, StaffId, TenantId};
//!
//! let tenant = TenantId::new("firm").unwrap();
//! let now = time::macros::datetime!(2026-03-01 9:00 UTC);
//! let account = Account::new(AccountId::from_random([1; 16]), tenant.clone(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! let actor = Actor::Staff { tenant, staff_id: StaffId::new("bob").unwrap() };
//! let ctx = RequestContext::default();
//! let spanish = Locales::builtin().language("es-MX");
//! let decision = decide_set_language(&account, Attribution::new(&actor, &ctx, EventId::from_random([2; 16])), now, spanish).unwrap();
//! let Some(AccountChange::Update(updated)) = decision.changes.account else { unreachable!() };
//! assert_eq!(updated.language.unwrap().as_str(), "es");
//! assert_eq!(decision.changes.audit[0].kind, AuditKind::LanguageChanged);
//! ```

use time::OffsetDateTime;

use super::attribution::Attribution;
use super::refusal::{not_found_is, stale_version_is};
use super::{Decision, ErrorCode, Refusal};
use crate::{Account, AccountChange, AuditKind, Changes, Language};

/// Why the language was not set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LanguageError {
    /// No such account in the staff member's tenant (`not_found`).
    #[error("no such portal account")]
    NotFound,
    /// The account changed since the staff member read it (`stale_version`).
    #[error("the account changed since you read it: nothing was changed")]
    StaleVersion,
    /// `language` is not a language of this portal (`validation_failed`).
    #[error("`language` must be a language of this portal (e.g. `en`, `es`), or null for the firm's default")]
    UnsupportedLanguage,
}

impl Refusal for LanguageError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::StaleVersion => ErrorCode::StaleVersion,
            Self::UnsupportedLanguage => ErrorCode::ValidationFailed,
        }
    }
}

not_found_is!(LanguageError);
stale_version_is!(LanguageError);

/// Decides setting the language of `account`'s mail to `language` (`None`:
/// the firm's default), by `by` (a staff member or the client).
pub fn decide_set_language(
    account: &Account,
    by: Attribution<'_>,
    now: OffsetDateTime,
    language: Option<Language>,
) -> Result<Decision<()>, LanguageError> {
    if account.language == language {
        return Ok(Decision::new(Changes::default(), ()));
    }
    let event = by.on(
        account,
        AuditKind::LanguageChanged,
        now,
        serde_json::json!({ "old": account.language, "new": language }),
    );
    let changes = Changes {
        account: Some(AccountChange::Update(Account {
            language,
            updated_at: now,
            ..account.clone()
        })),
        audit: vec![event],
        ..Changes::default()
    };
    Ok(Decision::new(changes, ()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::attribution::fixtures::*;

    fn spanish() -> Option<Language> {
        Some(Language::stored("es"))
    }

    #[test]
    fn setting_a_language_updates_the_account_and_records_old_and_new() {
        let decision = decide_set_language(&accepted(), by(), now(), spanish()).unwrap();
        let account = updated(&decision);
        assert_eq!(account.language, spanish());
        assert_eq!(account.updated_at, now());
        let [event] = decision.changes.audit.as_slice() else {
            panic!("one audit event expected");
        };
        assert_eq!(event.kind, AuditKind::LanguageChanged);
        assert_eq!(event.actor, staff());
        assert_eq!(
            event.detail,
            serde_json::json!({ "old": null, "new": "es" })
        );
        assert!(decision.mail.is_empty());
        assert!(decision.changes.revoke_sessions.is_empty());
    }

    #[test]
    fn going_back_to_the_default_clears_the_language() {
        let spanish_account = Account {
            language: spanish(),
            ..accepted()
        };
        let decision = decide_set_language(&spanish_account, by(), now(), None).unwrap();
        assert_eq!(updated(&decision).language, None);
        assert_eq!(
            decision.changes.audit[0].detail,
            serde_json::json!({ "old": "es", "new": null })
        );
    }

    #[test]
    fn setting_the_language_it_has_changes_nothing() {
        let spanish_account = Account {
            language: spanish(),
            ..accepted()
        };
        assert!(
            decide_set_language(&spanish_account, by(), now(), spanish())
                .unwrap()
                .changes
                .is_empty()
        );
        assert!(decide_set_language(&accepted(), by(), now(), None)
            .unwrap()
            .changes
            .is_empty());
    }

    #[test]
    fn an_unsupported_language_is_a_validation_failure_naming_the_field() {
        let error = LanguageError::UnsupportedLanguage;
        assert_eq!(error.code(), ErrorCode::ValidationFailed);
        assert!(error.to_string().contains("`language`"));
    }
}
