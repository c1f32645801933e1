use std::net::IpAddr;

use super::*;
use crate::workflow::attribution::fixtures::*;
use crate::workflow::session::issue;
use crate::workflow::ErrorCode;
use crate::workflow::Refusal;
use crate::{AccountId, EmailAddress, TenantId, TokenHash};

const IDLE: Duration = Duration::hours(12);

fn ctx() -> RequestContext {
    RequestContext {
        ip: Some(IpAddr::from([203, 0, 113, 9])),
        user_agent: Some(
            "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0".into(),
        ),
        expected_version: None,
    }
}

/// A decision that ends one listed record (a session or a device).
type EndOne<R> = fn(
    &Account,
    &[R],
    &ListingId,
    &RequestContext,
    EventId,
    OffsetDateTime,
) -> Result<Decision<()>, NotFoundError>;

/// `account` asks `decide` to end the record of `hash` among `listed`.
fn end_one<R>(
    decide: EndOne<R>,
    account: &Account,
    listed: &[R],
    hash: &TokenHash,
) -> Result<Decision<()>, NotFoundError> {
    decide(
        account,
        listed,
        &ListingId::of(hash),
        &ctx(),
        event(),
        now(),
    )
}

fn session_of(account: &Account, n: u8, at: OffsetDateTime) -> SessionRecord {
    issue(
        account,
        RawToken::from_bytes([n; 32]).hash(),
        &ctx(),
        at,
        Duration::days(30),
    )
}

fn device_of(account: &Account, n: u8) -> DeviceRecord {
    remember_device(
        account,
        &RawToken::from_bytes([n; 32]),
        &ctx(),
        &MfaPolicy::default(),
        now(),
    )
    .unwrap()
}

fn bob() -> Account {
    Account::new(
        AccountId::from_random([7; 16]),
        accepted().tenant,
        EmailAddress::parse("bob@example.com").unwrap(),
        None,
        None,
        now(),
    )
}

fn event() -> EventId {
    EventId::from_random([5; 16])
}

#[test]
fn a_remembered_device_lasts_the_policys_days_and_zero_days_remembers_nothing() {
    let token = RawToken::from_bytes([1; 32]);
    let policy = MfaPolicy {
        remember_device_days: 7,
        ..MfaPolicy::default()
    };
    let device = remember_device(&accepted(), &token, &ctx(), &policy, now()).unwrap();
    assert_eq!(device.expires_at, now() + Duration::days(7));
    assert_eq!(device.hash, token.hash(), "only the hash is kept");
    assert_eq!(device.ip, ctx().ip);
    let never = MfaPolicy {
        remember_device_days: 0,
        ..MfaPolicy::default()
    };
    assert_eq!(
        remember_device(&accepted(), &token, &ctx(), &never, now()),
        None
    );
}

#[test]
fn a_device_cookie_of_another_account_is_ignored() {
    let anns = device_of(&accepted(), 1);
    assert!(device_remembers(Some(&anns), &accepted(), now()));
    assert!(!device_remembers(Some(&anns), &bob(), now()));
    let elsewhere = Account {
        tenant: TenantId::new("other-firm").unwrap(),
        ..accepted()
    };
    assert!(!device_remembers(Some(&anns), &elsewhere, now()));
    assert!(!device_remembers(None, &accepted(), now()));
}

#[test]
fn an_expired_or_revoked_device_is_ignored() {
    let device = device_of(&accepted(), 1);
    assert!(!device_remembers(
        Some(&device),
        &accepted(),
        device.expires_at
    ));
    let revoked = DeviceRecord {
        revoked_at: Some(now()),
        ..device
    };
    assert!(!device_remembers(Some(&revoked), &accepted(), now()));
}

#[test]
fn the_session_list_shows_live_sessions_with_place_os_browser_and_the_current_one_marked() {
    let ann = accepted();
    let current = session_of(&ann, 1, now());
    let other = session_of(&ann, 2, now() - Duration::hours(1));
    let idle = session_of(&ann, 3, now() - Duration::hours(13));
    let mut locations = Locations::new();
    locations.insert(
        IpAddr::from([203, 0, 113, 9]),
        Location {
            city: Some("Lyon".into()),
            region: None,
            country: Some("France".into()),
            country_code: Some("FR".into()),
        },
    );
    let views = session_views(
        &[current.clone(), other.clone(), idle],
        Some(&current),
        &locations,
        IDLE,
        now(),
    );
    assert_eq!(views.len(), 2, "the idle-expired session is not listed");
    assert!(views[0].current);
    assert!(!views[1].current);
    assert_eq!(views[1].id, ListingId::of(&other.hash));
    assert_eq!(views[0].location.as_deref(), Some("Lyon, France"));
    assert_eq!(views[0].os.as_deref(), Some("Linux"));
    assert_eq!(views[0].browser.as_deref(), Some("Firefox 121.0"));
}

#[test]
fn revoking_a_session_of_another_account_is_not_found_and_changes_nothing() {
    let ann = accepted();
    let bobs = session_of(&bob(), 9, now());
    let anns = session_of(&ann, 1, now());
    let both = [anns.clone(), bobs.clone()];
    let refused = end_one(decide_revoke_session, &ann, &both, &bobs.hash).unwrap_err();
    assert_eq!(refused.code(), ErrorCode::NotFound);
    let only_anns = std::slice::from_ref(&anns);
    let decision = end_one(decide_revoke_session, &ann, only_anns, &anns.hash).unwrap();
    let one = SessionRevocation::One {
        hash: anns.hash,
        at: now(),
    };
    assert_eq!(decision.changes.revoke_sessions, vec![one]);
    assert_eq!(decision.changes.audit[0].kind, AuditKind::SessionsRevoked);
    assert_eq!(decision.changes.audit[0].detail["which"], "one");
}

#[test]
fn revoking_the_other_sessions_keeps_the_current_one() {
    let ann = accepted();
    let current = session_of(&ann, 1, now());
    let decision = decide_revoke_other_sessions(&ann, &current, &ctx(), event(), now());
    let [SessionRevocation::AllOfAccount {
        except, account_id, ..
    }] = decision.changes.revoke_sessions.as_slice()
    else {
        panic!("one revocation of the account expected");
    };
    assert_eq!(*except, Some(current.hash));
    assert_eq!(*account_id, ann.id);
}

#[test]
fn staff_revoking_sessions_ends_every_session_and_names_the_staff_member() {
    let ann = accepted();
    let decision = decide_staff_revoke_sessions(&ann, by(), now());
    assert_eq!(
        decision.changes.revoke_sessions,
        vec![SessionRevocation::all_of(&ann, now())]
    );
    assert!(decision.changes.revoke_devices.is_empty());
    assert!(matches!(
        decision.changes.audit[0].actor,
        crate::Actor::Staff { .. }
    ));
}

#[test]
fn forgetting_a_device_of_another_account_is_not_found_and_changes_nothing() {
    let ann = accepted();
    let bobs = device_of(&bob(), 9);
    let anns = device_of(&ann, 1);
    let both = [anns.clone(), bobs.clone()];
    let refused = end_one(decide_forget_device, &ann, &both, &bobs.hash);
    assert_eq!(refused.unwrap_err().code(), ErrorCode::NotFound);
    let only_anns = std::slice::from_ref(&anns);
    let decision = end_one(decide_forget_device, &ann, only_anns, &anns.hash).unwrap();
    assert_eq!(
        decision.changes.revoke_devices,
        vec![DeviceRevocation::one_of(&ann, anns.hash, now())]
    );
}

#[test]
fn forgetting_every_device_revokes_all_of_the_accounts_devices() {
    let ann = accepted();
    let decision = decide_forget_devices(&ann, &ctx(), event(), now());
    assert_eq!(
        decision.changes.revoke_devices,
        vec![DeviceRevocation::all_of(&ann, now())]
    );
    assert_eq!(decision.changes.audit[0].kind, AuditKind::DevicesForgotten);
}

#[test]
fn the_device_list_shows_only_devices_in_force() {
    let ann = accepted();
    let live = device_of(&ann, 1);
    let expired = DeviceRecord {
        expires_at: now(),
        ..device_of(&ann, 2)
    };
    let views = device_views(&[live.clone(), expired], &Locations::new(), now());
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].id, ListingId::of(&live.hash));
    assert_eq!(views[0].location, None);
}
