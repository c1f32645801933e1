//! The second factor through the service: the builder needs a key, and a
//! changed key makes TOTP fail closed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::*;
use portal_access_core::crypto::totp;
use portal_access_core::service::{ConfigError, FactorAuth, PortalService, SignInOutcome};
use portal_access_core::testing::fakes::ManualClock;
use portal_access_core::testing::MemoryStore;
use portal_access_core::{
    Account, AccountChange, AccountId, AccountStore, Changes, Clock, EmailAddress, Invitation,
    MfaMode, RequestContext, SecretKey, TenantId, Username,
};
use time::Duration;

const PASSWORD: &str = "correct horse battery staple";

fn service(store: Arc<MemoryStore>, clock: Arc<ManualClock>, key: [u8; 32]) -> PortalService {
    let mut config = cheap_config();
    config.mfa.mode = MfaMode::Optional;
    config.secret_key = Some(SecretKey::from_bytes(key));
    PortalService::builder(store)
        .config(config)
        .clock(clock)
        .build()
        .unwrap()
}

async fn ann(service: &PortalService) -> Account {
    let mut account = Account::new(
        AccountId::from_random([1; 16]),
        TenantId::new("firm").unwrap(),
        EmailAddress::parse("ann@example.com").unwrap(),
        None,
        None,
        start(),
    );
    account.invitation = Invitation::Accepted { at: start() };
    account.username = Some(Username::parse("ann").unwrap());
    account.password_hash = Some(
        service
            .hasher()
            .hash(secret(PASSWORD), [1; 16])
            .await
            .unwrap(),
    );
    service
        .store()
        .commit(Changes::of_account(AccountChange::Insert(account.clone())))
        .await
        .unwrap();
    account
}

fn base32_decode(text: &str) -> Vec<u8> {
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in text.chars() {
        buffer = (buffer << 5) | alphabet.find(c).unwrap() as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

#[test]
fn a_policy_other_than_off_without_a_secret_key_is_refused_by_the_builder() {
    let mut config = cheap_config();
    config.mfa.mode = MfaMode::Optional;
    let refused = PortalService::builder(Arc::new(MemoryStore::new()))
        .config(config.clone())
        .build();
    assert!(matches!(refused, Err(ConfigError::MissingSecretKey)));
    config.secret_key = Some(SecretKey::from_bytes([3; 32]));
    assert!(PortalService::builder(Arc::new(MemoryStore::new()))
        .config(config)
        .build()
        .is_ok());
}

#[tokio::test]
async fn after_a_key_change_totp_fails_closed_with_a_refusal_not_a_panic() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(start()));
    let before = service(store.clone(), clock.clone(), [1; 32]);
    let account = ann(&before).await;
    let ctx = RequestContext::default();
    let tenant = account.tenant.clone();

    let SignInOutcome::SignedIn(signed_in) = before
        .sign_in(&tenant, &ctx, "ann", secret(PASSWORD))
        .await
        .unwrap()
    else {
        panic!("no factor yet: signed in");
    };
    let session = before
        .authenticate(signed_in.session_token.expose())
        .await
        .unwrap();
    let enrolment = before
        .start_totp(FactorAuth::Session(&session))
        .await
        .unwrap();
    let secret_bytes = base32_decode(&enrolment.secret);
    let code = |clock: &ManualClock| {
        format!(
            "{:06}",
            totp::code_at(&secret_bytes, totp::step_of(clock.now()))
        )
    };
    before
        .confirm_totp(&ctx, FactorAuth::Session(&session), &code(&clock))
        .await
        .unwrap();
    clock.advance(Duration::seconds(30));

    let after = service(store.clone(), clock.clone(), [2; 32]);
    let SignInOutcome::SecondFactor(challenge) = after
        .sign_in(&tenant, &ctx, "ann", secret(PASSWORD))
        .await
        .unwrap()
    else {
        panic!("a factor is enrolled: challenged");
    };
    let refused = after
        .complete_second_factor(&ctx, challenge.token.expose(), "totp", &code(&clock))
        .await;
    assert_eq!(code_of(refused), "second_factor_invalid");
    let stored = store.account(&tenant, account.id).await.unwrap().unwrap();
    assert!(stored.mfa.totp.is_some(), "the factor is kept, not dropped");
}

fn code_of<T>(
    result: Result<
        T,
        portal_access_core::ServiceError<portal_access_core::service::SecondFactorError>,
    >,
) -> &'static str {
    common::code(result)
}
