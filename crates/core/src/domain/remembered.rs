//! Remembered devices (SPEC.md section 8): a browser that passed the second
//! factor with "remember this device" ticked skips it for that account
//! until the device expires or is revoked. The cookie holds a 256-bit raw
//! token; the store keeps only its SHA-256 hash ([`DeviceRecord`]).
//!
//! Sessions and devices are shown to their client and to staff by a
//! [`ListingId`]: derived from the stored hash by a second hash, so the id
//! in a page or an API answer can neither be turned back into the cookie
//! nor into the stored key.
//!
//! ```
//! use portal_access_core::domain::remembered::ListingId;
//! use portal_access_core::RawToken;
//!
//! let hash = RawToken::from_bytes([7; 32]).hash();
//! let id = ListingId::of(&hash);
//! assert_eq!(id.as_str().len(), 32);
//! assert_eq!(ListingId::parse(id.as_str()), Some(id.clone()));
//! assert!(ListingId::parse("not-an-id").is_none());
//! ```

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::{AccountId, TenantId, TokenHash};

/// A remembered device of an account, as the store keeps it.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// SHA-256 of the device cookie's raw token: the key.
    pub hash: TokenHash,
    /// The tenant.
    pub tenant: TenantId,
    /// Whose device.
    pub account_id: AccountId,
    /// Remembered at.
    pub created_at: OffsetDateTime,
    /// Forgotten by itself at (the policy's remember-device days).
    pub expires_at: OffsetDateTime,
    /// Revoked at (forgotten, password change, reset, MFA reset, …).
    pub revoked_at: Option<OffsetDateTime>,
    /// IP when remembered.
    pub ip: Option<IpAddr>,
    /// User-Agent when remembered.
    pub user_agent: Option<String>,
}

impl fmt::Debug for DeviceRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceRecord")
            .field("id", &ListingId::of(&self.hash))
            .field("tenant", &self.tenant)
            .field("account_id", &self.account_id)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

impl DeviceRecord {
    /// Whether it lets `account_id` of `tenant` skip the second factor at
    /// `now`: its own account, unrevoked, unexpired.
    pub fn remembers(&self, tenant: &TenantId, account_id: AccountId, now: OffsetDateTime) -> bool {
        &self.tenant == tenant
            && self.account_id == account_id
            && self.revoked_at.is_none()
            && self.expires_at > now
    }
}

/// The id a session or a remembered device is listed and revoked by: the
/// first 16 bytes of `SHA-256("portal-access listing id" || stored hash)`,
/// in lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct ListingId(String);

impl ListingId {
    /// The listing id of the record stored under `hash`.
    pub fn of(hash: &TokenHash) -> Self {
        let digest = Sha256::new()
            .chain_update(b"portal-access listing id\0")
            .chain_update(hash.as_bytes())
            .finalize();
        Self(digest[..16].iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Parses an id as given in a path: 32 hex digits (any case).
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(text.to_ascii_lowercase()))
    }

    /// The 32 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the id of the record stored under `hash`.
    pub fn names(&self, hash: &TokenHash) -> bool {
        &Self::of(hash) == self
    }
}

impl fmt::Display for ListingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RawToken;

    #[test]
    fn a_listing_id_is_not_the_stored_hash_and_differs_per_record() {
        let (a, b) = (
            RawToken::from_bytes([1; 32]).hash(),
            RawToken::from_bytes([2; 32]).hash(),
        );
        let id = ListingId::of(&a);
        assert!(id.names(&a));
        assert!(!id.names(&b));
        let stored_hex: String = a.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert!(!stored_hex.contains(id.as_str()));
        assert_eq!(ListingId::parse(&id.as_str().to_uppercase()), Some(id));
    }

    #[test]
    fn a_device_remembers_only_its_own_account_until_it_expires_or_is_revoked() {
        let now = time::macros::datetime!(2026-03-01 9:00 UTC);
        let tenant = TenantId::new("firm").unwrap();
        let ann = AccountId::from_random([1; 16]);
        let device = DeviceRecord {
            hash: RawToken::from_bytes([3; 32]).hash(),
            tenant: tenant.clone(),
            account_id: ann,
            created_at: now,
            expires_at: now + time::Duration::days(30),
            revoked_at: None,
            ip: None,
            user_agent: None,
        };
        assert!(device.remembers(&tenant, ann, now));
        assert!(!device.remembers(&tenant, AccountId::from_random([2; 16]), now));
        assert!(!device.remembers(&TenantId::new("other").unwrap(), ann, now));
        assert!(!device.remembers(&tenant, ann, now + time::Duration::days(30)));
        let revoked = DeviceRecord {
            revoked_at: Some(now),
            ..device.clone()
        };
        assert!(!revoked.remembers(&tenant, ann, now));
        assert!(!format!("{device:?}").contains("hash"));
    }
}
