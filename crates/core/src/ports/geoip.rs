//! The `GeoIpLookup` port: where an IP address is, for the password-changed
//! notice.
//!
//! ```
//! use async_trait::async_trait;
//! use portal_access_core::{GeoIpLookup, GeoIpError, Location};
//! use std::net::IpAddr;
//!
//! /// Knows nothing about anywhere.
//! struct Nowhere;
//!
//! #[async_trait]
//! impl GeoIpLookup for Nowhere {
//!     async fn locate(&self, _ip: IpAddr) -> Result<Option<Location>, GeoIpError> {
//!         Ok(None)
//!     }
//! }
//! ```

use std::error::Error as StdError;
use std::fmt;
use std::net::IpAddr;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// A place, as precise as the database knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// City name (English).
    pub city: Option<String>,
    /// First subdivision (state, region).
    pub region: Option<String>,
    /// Country name (English).
    pub country: Option<String>,
    /// ISO 3166-1 alpha-2 code.
    pub country_code: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<&str> = [&self.city, &self.region, &self.country]
            .into_iter()
            .filter_map(|p| p.as_deref())
            .collect();
        if parts.is_empty() {
            f.write_str("unknown location")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// The database could not be read. Callers treat it as "unknown": a lookup
/// failure never blocks a password change.
#[derive(Debug, thiserror::Error)]
#[error("geoip lookup failed")]
pub struct GeoIpError {
    #[source]
    source: Box<dyn StdError + Send + Sync + 'static>,
}

impl GeoIpError {
    /// Wraps the cause.
    pub fn new(source: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Self {
            source: source.into(),
        }
    }
}

/// Looks up where an IP address is (crate `portal-access-geoip` on MaxMind
/// files; a table fake among the test `fakes`).
#[async_trait]
pub trait GeoIpLookup: Send + Sync + 'static {
    /// The place of `ip`; `None` for unknown or private addresses.
    async fn locate(&self, ip: IpAddr) -> Result<Option<Location>, GeoIpError>;
}
