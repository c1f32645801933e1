//! Remembered devices and the session list of an account (the security
//! page and the staff view).

use std::net::IpAddr;
use std::sync::Arc;

use crate::{Account, AccountStore, Changes, DeviceRecord, DeviceRevocation, TokenHash};

use super::fixtures::*;

fn device(owner: &Account, n: u32, created: i64) -> DeviceRecord {
    DeviceRecord {
        hash: hash(n),
        tenant: owner.tenant.clone(),
        account_id: owner.id,
        created_at: at(created),
        expires_at: at(created + 30 * 86_400),
        revoked_at: None,
        ip: Some(IpAddr::from([198, 51, 100, 4])),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0".into()),
    }
}

async fn remember(store: &Arc<dyn AccountStore>, device: &DeviceRecord) {
    commit(
        store,
        Changes {
            new_device: Some(device.clone()),
            ..Changes::default()
        },
    )
    .await
    .expect("remember a device");
}

fn hashes_of_devices(devices: &[DeviceRecord]) -> Vec<TokenHash> {
    devices.iter().map(|d| d.hash).collect()
}

/// A remembered device is read back by its hash as written; an account's
/// devices are listed newest first, never another account's; forgetting one
/// revokes only it, forgetting all revokes the rest, and revoked devices
/// are no longer listed (but still read by hash, revoked).
pub async fn remembered_devices_are_listed_per_account_and_revoked_one_or_all(
    store: Arc<dyn AccountStore>,
) {
    let (_, ann, bob) = ann_and_bob(&store).await;
    let (d1, d2, d3, theirs) = (
        device(&ann, 1, 0),
        device(&ann, 2, 60),
        device(&ann, 3, 120),
        device(&bob, 4, 180),
    );
    for d in [&d1, &d2, &d3, &theirs] {
        remember(&store, d).await;
    }
    assert_eq!(store.device(&d2.hash).await.unwrap(), Some(d2.clone()));
    assert_eq!(store.device(&hash(99)).await.unwrap(), None);
    let listed = store.devices_for_account(&ann.tenant, ann.id, 10).await;
    assert_eq!(
        hashes_of_devices(&listed.unwrap()),
        vec![d3.hash, d2.hash, d1.hash]
    );
    let limited = store.devices_for_account(&ann.tenant, ann.id, 2).await;
    assert_eq!(hashes_of_devices(&limited.unwrap()), vec![d3.hash, d2.hash]);

    let one = DeviceRevocation::one_of(&ann, d2.hash, at(300));
    commit(
        &store,
        Changes {
            revoke_devices: vec![one],
            ..Changes::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        store.device(&d2.hash).await.unwrap().unwrap().revoked_at,
        Some(at(300))
    );
    let listed = store.devices_for_account(&ann.tenant, ann.id, 10).await;
    assert_eq!(hashes_of_devices(&listed.unwrap()), vec![d3.hash, d1.hash]);

    // Bob's device named under Ann's account is not Ann's: nothing changes.
    let foreign = DeviceRevocation::one_of(&ann, theirs.hash, at(400));
    let all = DeviceRevocation::all_of(&ann, at(500));
    commit(
        &store,
        Changes {
            revoke_devices: vec![foreign, all],
            ..Changes::default()
        },
    )
    .await
    .unwrap();
    assert!(store
        .devices_for_account(&ann.tenant, ann.id, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.device(&d1.hash).await.unwrap().unwrap().revoked_at,
        Some(at(500))
    );
    assert_eq!(
        store.device(&d2.hash).await.unwrap().unwrap().revoked_at,
        Some(at(300)),
        "an earlier revocation stands"
    );
    assert_eq!(store.device(&theirs.hash).await.unwrap(), Some(theirs));
}

/// An account's sessions are listed newest first without revoked ones and
/// without another account's, up to the limit.
pub async fn an_accounts_live_sessions_are_listed_newest_first(store: Arc<dyn AccountStore>) {
    let (_, ann, bob) = ann_and_bob(&store).await;
    let mut s1 = session(&ann, 1);
    let mut s2 = session(&ann, 2);
    s2.created_at = at(60);
    let mut s3 = session(&ann, 3);
    s3.created_at = at(120);
    s1.created_at = at(0);
    let theirs = session(&bob, 4);
    for s in [&s1, &s2, &s3, &theirs] {
        start_session(&store, s).await;
    }
    revoke_session(&store, s2.hash, 200).await;
    let listed = store
        .sessions_for_account(&ann.tenant, ann.id, 10)
        .await
        .unwrap();
    assert_eq!(listed, vec![s3.clone(), s1]);
    let limited = store
        .sessions_for_account(&ann.tenant, ann.id, 1)
        .await
        .unwrap();
    assert_eq!(limited, vec![s3]);
    let other_tenant = tenant("other");
    assert!(store
        .sessions_for_account(&other_tenant, ann.id, 10)
        .await
        .unwrap()
        .is_empty());
}
