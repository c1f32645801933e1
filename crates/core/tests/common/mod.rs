//! Set-up the core integration tests share: cheap hashing, the start of
//! the manual clock, the Berlin GeoIP table, secrets, the link token a
//! queued message carries, refusal codes, the queued outbox and accepting
//! an invitation.
#![allow(dead_code, reason = "each test crate uses a part")]

use std::net::{IpAddr, Ipv4Addr};

use portal_access_core::config::{HashingConfig, PortalConfig};
use portal_access_core::service::{
    AcceptInvitationError, PortalService, ServiceError, SignInOutcome, SignedIn,
};
use portal_access_core::testing::fakes::TableGeoIp;
use portal_access_core::workflow::Refusal;
use portal_access_core::{AccountStore, Location, NewMessage, RawToken, RequestContext};
use secrecy::SecretString;
use time::macros::datetime;
use time::OffsetDateTime;

/// The public base URL of every test portal.
pub const BASE_URL: &str = "https://portal.example.com";

/// Where the manual clock starts.
pub fn start() -> OffsetDateTime {
    datetime!(2026-03-02 10:00 UTC)
}

/// A configuration with argon2 as cheap as it goes (two hashes at a time).
pub fn cheap_config() -> PortalConfig {
    PortalConfig {
        hashing: HashingConfig {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
            pool_size: 2,
        },
        ..PortalConfig::new(BASE_URL)
    }
}

/// The client's IP in every GeoIP table here.
pub fn berlin_ip() -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7))
}

/// A GeoIP table that knows [`berlin_ip`] (with `region`, if any).
pub fn berlin_geoip(region: Option<&str>) -> TableGeoIp {
    TableGeoIp::new().with(
        berlin_ip(),
        Location {
            city: Some("Berlin".into()),
            region: region.map(Into::into),
            country: Some("Germany".into()),
            country_code: Some("DE".into()),
        },
    )
}

/// A secret from text.
pub fn secret(s: &str) -> SecretString {
    SecretString::from(s)
}

/// The link token a queued message carries (from its text body).
pub fn token_in(message: &NewMessage) -> String {
    let at = message
        .text_body
        .find("token=")
        .unwrap_or_else(|| panic!("no link in {:?}: {}", message.kind, message.text_body));
    message.text_body[at + 6..at + 6 + RawToken::ENCODED_LEN].to_owned()
}

/// The refusal code of a result, `"ok"` for a success; an infrastructure
/// failure fails the test.
pub fn code<E: Refusal>(result: Result<impl Sized, ServiceError<E>>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(ServiceError::Refused(e)) => e.code().as_str(),
        Err(ServiceError::Infrastructure(e)) => panic!("infrastructure failure: {e:?}"),
    }
}

/// Every message queued in `store` (peeked: the lease ends at once).
pub async fn queued(store: &dyn AccountStore, now: OffsetDateTime) -> Vec<NewMessage> {
    store
        .lease_outbox(now, now, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.message)
        .collect()
}

/// The client accepts the invitation `token` as `username`, choosing
/// `password` (and confirming it).
pub async fn accept_invitation(
    service: &PortalService,
    ctx: &RequestContext,
    token: &str,
    username: &str,
    password: &str,
) -> Result<SignedIn, ServiceError<AcceptInvitationError>> {
    let (password, confirmation) = (secret(password), secret(password));
    service
        .accept_invitation(ctx, token, username, password, confirmation)
        .await
        .map(signed_in)
}

/// The session of an outcome that must be one (second factors off).
pub fn signed_in(outcome: SignInOutcome) -> SignedIn {
    outcome.signed_in().unwrap()
}
