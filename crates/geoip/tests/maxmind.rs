//! MaxMindGeoIp against MaxMind's own test databases (testdata/README.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::path::PathBuf;

use portal_access_core::{GeoIpLookup, Location};
use portal_access_geoip::{MaxMindGeoIp, OpenError};

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn city_db() -> MaxMindGeoIp {
    MaxMindGeoIp::open(testdata("GeoLite2-City-Test.mmdb")).expect("test City database opens")
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("an IP address")
}

/// The place of `address` in the test City database, which knows it.
async fn known_place(address: &str) -> Location {
    city_db()
        .locate(ip(address))
        .await
        .expect("lookup")
        .expect("known")
}

#[tokio::test]
async fn a_london_address_is_located_in_london_england_gb() {
    let geoip = city_db();

    let place = geoip.locate(ip("81.2.69.142")).await.expect("lookup");

    assert_eq!(
        place,
        Some(Location {
            city: Some("London".into()),
            region: Some("England".into()),
            country: Some("United Kingdom".into()),
            country_code: Some("GB".into()),
        })
    );
    assert_eq!(
        place.unwrap().to_string(),
        "London, England, United Kingdom"
    );
}

#[tokio::test]
async fn non_ascii_names_come_back_in_english_utf8() {
    let place = known_place("89.160.20.112").await;

    assert_eq!(place.city.as_deref(), Some("Linköping"));
    assert_eq!(place.region.as_deref(), Some("Östergötland County"));
    assert_eq!(place.country.as_deref(), Some("Sweden"));
    assert_eq!(place.country_code.as_deref(), Some("SE"));
}

#[tokio::test]
async fn the_first_subdivision_is_the_region() {
    // 2.125.160.216: Boxford, subdivisions England then West Berkshire.
    let place = known_place("2.125.160.216").await;

    assert_eq!(place.city.as_deref(), Some("Boxford"));
    assert_eq!(place.region.as_deref(), Some("England"));
}

#[tokio::test]
async fn an_ipv6_network_known_only_by_country_has_no_city() {
    let place = known_place("2001:218::1").await;

    assert_eq!(place.city, None);
    assert_eq!(place.country.as_deref(), Some("Japan"));
    assert_eq!(place.country_code.as_deref(), Some("JP"));
}

#[tokio::test]
async fn an_ipv4_mapped_ipv6_address_is_located_like_its_ipv4_address() {
    let geoip = city_db();

    let mapped = geoip
        .locate(ip("::ffff:81.2.69.142"))
        .await
        .expect("lookup");

    assert_eq!(
        mapped,
        geoip.locate(ip("81.2.69.142")).await.expect("lookup")
    );
    assert!(mapped.is_some());
}

#[tokio::test]
async fn an_address_missing_from_the_database_is_unknown_not_an_error() {
    let place = city_db()
        .locate(ip("8.8.8.8"))
        .await
        .expect("never an error");

    assert_eq!(place, None);
}

#[tokio::test]
async fn private_loopback_and_link_local_addresses_are_unknown() {
    let geoip = city_db();
    for address in [
        "10.0.0.1",
        "192.168.1.10",
        "127.0.0.1",
        "169.254.0.1",
        "::1",
        "fe80::1",
        "fd12::1",
    ] {
        assert_eq!(
            geoip.locate(ip(address)).await.expect("never an error"),
            None,
            "{address}"
        );
    }
}

#[test]
fn an_asn_database_is_refused_at_open_with_a_clear_error() {
    let error =
        MaxMindGeoIp::open(testdata("GeoLite2-ASN-Test.mmdb")).expect_err("not a location DB");

    assert!(
        matches!(&error, OpenError::NotALocationDatabase { database_type, .. } if database_type == "GeoLite2-ASN"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("City or Country database is needed"),
        "{error}"
    );
}

#[test]
fn a_missing_file_is_an_error_at_open() {
    let error = MaxMindGeoIp::open(testdata("no-such.mmdb")).expect_err("missing");

    assert!(matches!(error, OpenError::Read { .. }), "{error:?}");
    assert!(std::error::Error::source(&error).is_some());
}

#[test]
fn a_file_that_is_not_a_maxmind_database_is_an_error_at_open() {
    let error = MaxMindGeoIp::open(testdata("README.md")).expect_err("not mmdb");

    assert!(matches!(error, OpenError::Read { .. }), "{error:?}");
}

#[test]
fn the_database_metadata_is_reported() {
    let geoip = city_db();

    assert_eq!(geoip.database_type(), "GeoLite2-City");
    assert!(geoip.build_epoch() > 0);
    assert!(format!("{geoip:?}").contains("GeoLite2-City"));
}
