//! # portal-access-geoip
//!
//! [`MaxMindGeoIp`]: the [`GeoIpLookup`] port over a MaxMind DB file
//! (`.mmdb`: GeoLite2/GeoIP2 City or Country, or any database with the
//! same record layout, such as DB-IP's City/Country Lite), read with the
//! `maxminddb` crate. It answers the city, region (first subdivision) and
//! country, in English, for the "your password was changed" notice.
//!
//! - The file is read once, into memory, when the lookup is built: a
//!   missing, unreadable or foreign file is an error then, not at the first
//!   lookup.
//! - Unknown, private, loopback, link-local and other non-public addresses
//!   answer `Ok(None)`: a lookup never blocks a password change.
//!
//! ```no_run
//! use portal_access_core::GeoIpLookup;
//! use portal_access_geoip::MaxMindGeoIp;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let geoip = MaxMindGeoIp::open("/var/lib/GeoIP/GeoLite2-City.mmdb")?;
//! if let Some(place) = geoip.locate("81.2.69.142".parse()?).await? {
//!     println!("signed in from {place}"); // London, England, United Kingdom
//! }
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use maxminddb::{geoip2, MaxMindDBError, Reader};
use portal_access_core::{GeoIpError, GeoIpLookup, Location};

/// The language of the names answered.
const LANGUAGE: &str = "en";

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file could not be read or is not a MaxMind DB.
    #[error("cannot open the GeoIP database {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: MaxMindDBError,
    },
    /// A MaxMind DB without locations (e.g. ASN, ISP, Anonymous IP).
    #[error(
        "the GeoIP database {path} is a {database_type:?} database; a City or Country database is needed"
    )]
    NotALocationDatabase {
        /// The file.
        path: PathBuf,
        /// Its `database_type` metadata.
        database_type: String,
    },
}

/// Locates IP addresses with a MaxMind City or Country database.
pub struct MaxMindGeoIp {
    reader: Reader<Vec<u8>>,
    path: PathBuf,
}

impl MaxMindGeoIp {
    /// Reads the database at `path` into memory. Refuses databases whose
    /// type does not name a City, Country or Enterprise database.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        let path = path.as_ref().to_path_buf();
        let reader = Reader::open_readfile(&path).map_err(|source| OpenError::Read {
            path: path.clone(),
            source,
        })?;
        let database_type = reader.metadata.database_type.to_ascii_lowercase();
        if !["city", "country", "enterprise"]
            .iter()
            .any(|kind| database_type.contains(kind))
        {
            return Err(OpenError::NotALocationDatabase {
                path,
                database_type: reader.metadata.database_type.clone(),
            });
        }
        Ok(Self { reader, path })
    }

    /// The database's `database_type`, e.g. `GeoLite2-City`.
    pub fn database_type(&self) -> &str {
        &self.reader.metadata.database_type
    }

    /// When the database was built (seconds since the Unix epoch).
    pub fn build_epoch(&self) -> u64 {
        self.reader.metadata.build_epoch
    }

    /// The place of `ip`, synchronously (a lookup is a few in-memory reads).
    pub fn locate_now(&self, ip: IpAddr) -> Result<Option<Location>, GeoIpError> {
        let ip = canonical(ip);
        if !is_public(ip) {
            return Ok(None);
        }
        let record: geoip2::City<'_> = match self.reader.lookup(ip) {
            Ok(record) => record,
            Err(MaxMindDBError::AddressNotFoundError(_)) => return Ok(None),
            Err(error) => return Err(GeoIpError::new(error)),
        };
        let english = |names: Option<&std::collections::BTreeMap<&str, &str>>| {
            names
                .and_then(|names| names.get(LANGUAGE))
                .map(|name| (*name).to_owned())
        };
        let location = Location {
            city: english(record.city.as_ref().and_then(|c| c.names.as_ref())),
            region: english(
                record
                    .subdivisions
                    .as_ref()
                    .and_then(|s| s.first())
                    .and_then(|s| s.names.as_ref()),
            ),
            country: english(record.country.as_ref().and_then(|c| c.names.as_ref())),
            country_code: record
                .country
                .as_ref()
                .and_then(|c| c.iso_code)
                .map(str::to_owned),
        };
        Ok((location != Location::default()).then_some(location))
    }
}

#[async_trait]
impl GeoIpLookup for MaxMindGeoIp {
    async fn locate(&self, ip: IpAddr) -> Result<Option<Location>, GeoIpError> {
        self.locate_now(ip)
    }
}

impl fmt::Debug for MaxMindGeoIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaxMindGeoIp")
            .field("path", &self.path)
            .field("database_type", &self.database_type())
            .field("build_epoch", &self.build_epoch())
            .finish()
    }
}

/// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// Whether `ip` can be somewhere on the public Internet.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b); // 100.64.0.0/10, carrier-grade NAT
    let benchmarking = a == 198 && (18..20).contains(&b); // 198.18.0.0/15
    let reserved = a >= 240; // 240.0.0.0/4 and broadcast
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || shared
        || benchmarking
        || reserved)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let unique_local = first & 0xfe00 == 0xfc00; // fc00::/7
    let link_local = first & 0xffc0 == 0xfe80; // fe80::/10
    let documentation = first == 0x2001 && ip.segments()[1] == 0x0db8; // 2001:db8::/32
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || unique_local
        || link_local
        || documentation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_and_reserved_addresses_are_not_public() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_public(canonical(ip)), "{ip} is not public");
        }
    }

    #[test]
    fn public_addresses_are_public() {
        for ip in ["81.2.69.142", "8.8.8.8", "2001:218::1", "2a02:cf40::1"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_public(ip), "{ip} is public");
        }
    }

    #[test]
    fn ipv4_mapped_ipv6_addresses_are_their_ipv4_address() {
        let mapped: IpAddr = "::ffff:192.168.0.1".parse().unwrap();
        assert_eq!(canonical(mapped), "192.168.0.1".parse::<IpAddr>().unwrap());
        assert!(!is_public(canonical(mapped)));
    }
}
