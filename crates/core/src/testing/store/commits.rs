//! Commits: versioned updates, atomicity, and what every store keeps exactly.

use std::sync::Arc;

use time::macros::datetime;
use time::Duration;

use crate::{
    Access, Account, AccountChange, AccountStore, AuditKind, Changes, DeviceRecord,
    DeviceRevocation, EmailAddress, Invitation, Language, PasswordHash, Redemption,
    SessionRevocation, StaffId, StaffVerification, StoreError, TokenHash, TokenKind,
    TokenRevocation,
};

use super::fixtures::*;

/// An update at a version other than the stored one (stale, or of an absent
/// account) is refused with `Conflict` and changes nothing.
pub async fn an_update_at_a_stale_version_is_refused_and_changes_nothing(
    store: Arc<dyn AccountStore>,
) {
    let (firm, ann) = firm_with_ann(&store).await;
    let mut first = ann.clone();
    first.display_name = Some("First".into());
    update(&store, &first).await.expect("the first writer wins");

    let mut stale = ann.clone();
    stale.display_name = Some("Second".into());
    let refused = commit(
        &store,
        Changes {
            account: Some(AccountChange::Update(stale)),
            new_tokens: vec![token(&ann, 1, TokenKind::PasswordReset, 0, 3_600)],
            outbox: vec![message(&ann, 1, 0, None)],
            audit: vec![event(&ann, 1, AuditKind::AccessDisabled, 0)],
            ..Changes::default()
        },
    )
    .await;
    assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");

    let now = stored(&store, &ann).await;
    assert_eq!(now.display_name.as_deref(), Some("First"));
    assert_eq!(now.version, 1);
    assert_eq!(store.token(&hash(1)).await.unwrap(), None);
    assert!(store
        .messages_for_account(&firm, ann.id, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .audit_events(&firm, ann.id, 10)
        .await
        .unwrap()
        .is_empty());

    let ghost = account(&firm, 2, "ghost@example.com");
    assert!(matches!(
        update(&store, &ghost).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(store.account(&firm, ghost.id).await.unwrap(), None);
}

/// An update writes every mutable field, moves the email and username keys,
/// and increments the stored version.
pub async fn an_update_writes_every_field_and_increments_the_version(store: Arc<dyn AccountStore>) {
    let firm = tenant("firm");
    let mut ann = account(&firm, 1, "ann@example.com");
    ann.username = username("ann");
    insert(&store, &ann).await;

    let mut changed = ann.clone();
    changed.contact_ref = Some("crm-42".into());
    changed.display_name = Some("Ann Other".into());
    changed.email = EmailAddress::parse("Ann.Other@Example.org").unwrap();
    changed.username = username("Ann.Other");
    changed.password_hash = Some(PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$eA$eQ"));
    changed.access = Access::Disabled;
    changed.archived = true;
    changed.invitation = Invitation::Accepted { at: at(70) };
    changed.must_change_password = true;
    changed.last_sign_in_at = Some(at(80));
    changed.language = Some(Language::stored("es"));
    changed.updated_at = at(90);
    update(&store, &changed).await.unwrap();

    let mut expected = changed.clone();
    expected.version = 1;
    assert_eq!(stored(&store, &ann).await, expected);
    assert_eq!(found_by_email(&store, &firm, "ann@example.com").await, None);
    assert_eq!(store.account_by_username(&firm, "ann").await.unwrap(), None);
    assert_eq!(
        found_by_email(&store, &firm, "ann.other@example.org").await,
        Some(expected.clone())
    );
    assert_eq!(
        store.account_by_username(&firm, "ann.other").await.unwrap(),
        Some(expected.clone())
    );

    let mut cleared = expected.clone();
    cleared.contact_ref = None;
    cleared.display_name = None;
    cleared.username = None;
    cleared.password_hash = None;
    cleared.last_sign_in_at = None;
    cleared.invitation = Invitation::NotInvited;
    cleared.language = None;
    update(&store, &cleared).await.unwrap();
    cleared.version = 2;
    assert_eq!(stored(&store, &ann).await, cleared);
    // The freed username can be claimed by another account.
    let mut bob = account(&firm, 2, "bob@example.com");
    bob.username = username("ANN.OTHER");
    insert(&store, &bob).await;
}

/// A commit that fails (token not redeemable, username taken, stale version)
/// leaves no outbox row, no audit row, no token, no session, no redemption,
/// no revocation, no cleared counter, no remembered or forgotten device and
/// no partial account change.
pub async fn a_failed_commit_leaves_no_trace(store: Arc<dyn AccountStore>) {
    let firm = tenant("firm");
    let mut ann = account(&firm, 1, "ann@example.com");
    ann.username = username("ann.c");
    let bob = account(&firm, 2, "bob@example.com");
    insert(&store, &ann).await;
    insert(&store, &bob).await;
    let (bob_invitation, bob_session) = invite_and_sign_in(&store, &bob).await;
    store.hit_rate("signin:bob", at(0), at(900)).await.unwrap();
    let staff = StaffId::new("staff-1").unwrap();
    let bob_device = DeviceRecord {
        hash: hash(300),
        tenant: firm.clone(),
        account_id: bob.id,
        created_at: at(0),
        expires_at: at(86_400),
        revoked_at: None,
        ip: None,
        user_agent: None,
    };
    commit(
        &store,
        Changes {
            new_device: Some(bob_device.clone()),
            ..Changes::default()
        },
    )
    .await
    .unwrap();

    let attempt = |redeem: TokenHash, mut change: Account, n: u32| {
        change.display_name = Some("Bob Changed".into());
        Changes {
            redeem: Some(Redemption {
                hash: redeem,
                kind: TokenKind::Invitation,
                at: at(60),
            }),
            account: Some(AccountChange::Update(change)),
            revoke_tokens: vec![TokenRevocation {
                tenant: firm.clone(),
                account_id: bob.id,
                kinds: TokenKind::ALL.to_vec(),
                at: at(60),
            }],
            new_tokens: vec![token(&bob, 100 + n, TokenKind::PasswordReset, 60, 3_600)],
            revoke_sessions: vec![SessionRevocation::AllOfAccount {
                tenant: firm.clone(),
                account_id: bob.id,
                except: None,
                at: at(60),
            }],
            new_session: Some(session(&bob, 200 + n)),
            outbox: vec![message(&bob, n, 60, None)],
            audit: vec![event(&bob, n, AuditKind::InvitationAccepted, 60)],
            link_openings: vec![opening(&bob_invitation, 60)],
            clear_rate_prefixes: vec!["signin:".into()],
            staff_verification: Some(StaffVerification {
                tenant: firm.clone(),
                staff_id: staff.clone(),
                verified_until: at(600),
            }),
            revoke_devices: vec![DeviceRevocation {
                tenant: firm.clone(),
                account_id: bob.id,
                only: None,
                at: at(60),
            }],
            new_device: Some(DeviceRecord {
                hash: hash(300 + n),
                ..bob_device.clone()
            }),
            // A refused commit's webhook rows and delivery record: see
            // `webhooks.rs`.
            webhooks: Vec::new(),
            delivery: None,
        }
    };
    let mut taken = bob.clone();
    taken.username = username("ANN.C");
    let mut stale = bob.clone();
    stale.version = 5;
    let cases = [
        ("username taken", attempt(bob_invitation.hash, taken, 1)),
        ("token not redeemable", attempt(hash(999), bob.clone(), 2)),
        ("stale version", attempt(bob_invitation.hash, stale, 3)),
    ];
    for (what, changes) in cases {
        let result = commit(&store, changes).await;
        assert!(result.is_err(), "{what} must fail");

        assert_eq!(stored(&store, &bob).await, bob, "{what}: account");
        assert_eq!(
            store.tokens_for_account(&firm, bob.id, 100).await.unwrap(),
            vec![bob_invitation.clone()],
            "{what}: tokens (no redemption, revocation or new token)"
        );
        assert_eq!(
            stored_session(&store, &bob_session.hash).await,
            bob_session,
            "{what}"
        );
        for n in 1..=3 {
            assert_eq!(
                store.session(&hash(200 + n)).await.unwrap(),
                None,
                "{what}: session"
            );
        }
        let messages = store.messages_for_account(&firm, bob.id, 10).await;
        let events = store.audit_events(&firm, bob.id, 10).await;
        let openings = store.link_openings(&firm, bob.id, 10).await;
        assert!(
            messages.as_ref().unwrap().is_empty()
                && events.as_ref().unwrap().is_empty()
                && openings.as_ref().unwrap().is_empty(),
            "{what}: {messages:?} {events:?} {openings:?}"
        );
        assert_eq!(
            store.rate_count("signin:bob", at(0)).await.unwrap(),
            1,
            "{what}"
        );
        assert_eq!(
            store.staff_verification(&firm, &staff).await.unwrap(),
            None,
            "{what}"
        );
        assert_eq!(
            store.devices_for_account(&firm, bob.id, 10).await.unwrap(),
            vec![bob_device.clone()],
            "{what}: no device remembered or revoked"
        );
        assert!(
            store
                .lease_outbox(at(3_600), at(3_660), 10)
                .await
                .unwrap()
                .is_empty(),
            "{what}: nothing to deliver"
        );
    }
}

/// A working store answers `ping`.
pub async fn a_store_answers_ping(store: Arc<dyn AccountStore>) {
    store.ping().await.expect("ping");
}

/// Times are kept to the microsecond: a time with nanoseconds reads back
/// either exactly or truncated to the microsecond, and nothing else.
pub async fn timestamps_round_trip_to_the_microsecond(store: Arc<dyn AccountStore>) {
    let firm = tenant("firm");
    let precise = T0 + Duration::nanoseconds(123_456_789);
    let truncated = T0 + Duration::microseconds(123_456);
    let far = datetime!(2199-12-31 23:59:59.999_999 UTC);
    let past = datetime!(1970-01-01 00:00:00.000_001 UTC);
    let mut ann = account(&firm, 1, "ann@example.com");
    ann.created_at = precise;
    ann.updated_at = far;
    ann.last_sign_in_at = Some(past);
    insert(&store, &ann).await;

    let read = stored(&store, &ann).await;
    assert!(
        read.created_at == precise || read.created_at == truncated,
        "{} is neither {precise} nor {truncated}",
        read.created_at
    );
    assert_eq!(read.updated_at, far);
    assert_eq!(read.last_sign_in_at, Some(past));
    assert_eq!(read.created_at.offset(), time::UtcOffset::UTC);
}
