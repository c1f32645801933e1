//! Identifiers.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a [`TenantId`] or [`StaffId`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an identifier must be 1 to 128 printable characters")]
pub struct InvalidId;

fn check_ref(value: &str) -> Result<(), InvalidId> {
    if value.is_empty() || value.chars().count() > 128 || value.chars().any(char::is_control) {
        Err(InvalidId)
    } else {
        Ok(())
    }
}

/// A reference the host gives (1 to 128 printable characters), kept as given.
macro_rules! ref_id {
    ($(#[$doc:meta])* $name:ident, $(#[$new_doc:meta])*) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            $(#[$new_doc])*
            pub fn new(value: impl Into<String>) -> Result<Self, InvalidId> {
                let value = value.into();
                check_ref(&value)?;
                Ok(Self(value))
            }

            /// The reference as given.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

ref_id!(
    /// The CRM's firm or workspace an account belongs to: the host's own reference.
    ///
    /// Email addresses and usernames are unique per tenant. A single-tenant host
    /// uses one tenant id everywhere.
    TenantId,
    /// Parses the host's tenant reference (1 to 128 printable characters).
    ///
    /// ```
    /// # use portal_access_core::TenantId;
    /// let tenant = TenantId::new("firm-42").unwrap();
    /// assert_eq!(tenant.as_str(), "firm-42");
    /// assert!(TenantId::new("").is_err());
    /// ```
);

ref_id!(
    /// A staff member of the host CRM: the host's own reference.
    StaffId,
    /// Parses the host's staff reference (1 to 128 printable characters).
);

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a UUID read back from a store.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// Makes a new id from 16 bytes of fresh random material.
            pub fn from_random(bytes: [u8; 16]) -> Self {
                Self(uuid::Builder::from_random_bytes(bytes).into_uuid())
            }

            /// The UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A portal account.
    AccountId
);
uuid_id!(
    /// A message in the outbox.
    MessageId
);
uuid_id!(
    /// An audit event.
    EventId
);
uuid_id!(
    /// A webhook delivery in the outbox (one event to one endpoint); sent
    /// as the `webhook-id` header, the same on every attempt.
    WebhookId
);
