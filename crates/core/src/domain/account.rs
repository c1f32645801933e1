//! The portal account of a client contact.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{AccountId, EmailAddress, MfaState, TenantId, Username};

/// Whether the client may sign in at all (the staff toggle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// The client can sign in.
    Enabled,
    /// The client cannot sign in, even with correct credentials.
    Disabled,
}

/// Where the account stands with its invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Invitation {
    /// Never invited: staff can "send invitation".
    NotInvited,
    /// Invited, not yet accepted: staff can "resend invitation".
    Pending {
        /// When the current invitation was sent.
        #[serde(with = "time::serde::rfc3339")]
        sent_at: OffsetDateTime,
        /// When its link stops working.
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    /// The client set up the account.
    Accepted {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

/// An argon2id hash in PHC string form. `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string (from the hasher or read back from a store).
    pub fn new(phc: impl Into<String>) -> Self {
        Self(phc.into())
    }

    /// The PHC string, for storage and verification.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// A language tag the portal speaks (`en`, `es`, `pt-BR`): the language
/// of an account's mail. Made by
/// [`Locales::language`](crate::i18n::Locales::language), which only gives
/// a tag the service has messages for, or read back from a store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "es"))]
#[serde(transparent)]
pub struct Language(String);

impl Language {
    /// A tag as a store holds it (written by the portal, so one it spoke).
    /// Anything else checks the tag with
    /// [`Locales::language`](crate::i18n::Locales::language).
    pub fn stored(tag: impl Into<String>) -> Self {
        Self(tag.into())
    }

    /// The tag, e.g. `es`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The portal account of one client contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its id.
    pub id: AccountId,
    /// The tenant it belongs to.
    pub tenant: TenantId,
    /// The host CRM's reference of the contact.
    pub contact_ref: Option<String>,
    /// A display name for mail (`"Ann Client" <ann@…>`).
    pub display_name: Option<String>,
    /// Where mail goes, and one of the two sign-in logins.
    pub email: EmailAddress,
    /// Chosen by the client when they accept the invitation; absent until then.
    pub username: Option<Username>,
    /// Absent until a password is set (or after "this wasn't me").
    pub password_hash: Option<PasswordHash>,
    /// The staff toggle.
    pub access: Access,
    /// An archived account cannot be reset, invited or signed in to.
    pub archived: bool,
    /// Where the account stands with its invitation.
    pub invitation: Invitation,
    /// After a staff-set password: the client must change it at next sign-in.
    pub must_change_password: bool,
    /// When the client last signed in.
    pub last_sign_in_at: Option<OffsetDateTime>,
    /// Created at.
    pub created_at: OffsetDateTime,
    /// Last changed at.
    pub updated_at: OffsetDateTime,
    /// Second factors (stored as one JSON document on the account row).
    pub mfa: MfaState,
    /// The language of the client's mail (set by staff or by the client);
    /// absent: the firm's default, English.
    pub language: Option<Language>,
    /// Optimistic concurrency: the version this copy was read at. A store
    /// writes a change only where the stored version still equals it, and
    /// then increments it.
    pub version: i64,
}

impl Account {
    /// A new, never-invited account with access enabled.
    pub fn new(
        id: AccountId,
        tenant: TenantId,
        email: EmailAddress,
        contact_ref: Option<String>,
        display_name: Option<String>,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            tenant,
            contact_ref,
            display_name,
            email,
            username: None,
            password_hash: None,
            access: Access::Enabled,
            archived: false,
            invitation: Invitation::NotInvited,
            must_change_password: false,
            last_sign_in_at: None,
            created_at: now,
            updated_at: now,
            mfa: MfaState::default(),
            language: None,
            version: 0,
        }
    }
}
