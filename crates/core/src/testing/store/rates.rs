//! Rate counters and staff verification.

use std::sync::Arc;

use crate::{AccountStore, Changes, StaffId, StaffVerification};

use super::fixtures::*;

/// Two hundred concurrent hits of one rate counter count exactly: each hit
/// sees a distinct count from 1 to 200; other windows and keys are apart.
pub async fn two_hundred_concurrent_rate_hits_count_exactly(store: Arc<dyn AccountStore>) {
    let hits = (0..200).map(|_| {
        let store = Arc::clone(&store);
        async move { store.hit_rate("ip:203.0.113.7", at(0), at(900)).await }
    });
    let mut counts: Vec<u32> = at_once(hits)
        .await
        .into_iter()
        .map(|hit| hit.expect("hit"))
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=200).collect::<Vec<u32>>());
    assert_eq!(
        store.rate_count("ip:203.0.113.7", at(0)).await.unwrap(),
        200
    );
    assert_eq!(
        store.rate_count("ip:203.0.113.7", at(900)).await.unwrap(),
        0
    );
    assert_eq!(store.rate_count("ip:203.0.113.8", at(0)).await.unwrap(), 0);
    assert_eq!(
        store
            .hit_rate("ip:203.0.113.7", at(900), at(1_800))
            .await
            .unwrap(),
        1
    );
}

/// Clearing rate prefixes deletes every counter whose key starts with a
/// prefix (taken literally, `%` and `_` included) and no other.
pub async fn clearing_rate_prefixes_deletes_only_keys_with_that_prefix(
    store: Arc<dyn AccountStore>,
) {
    let keys = [
        "signin:ann@example.com",
        "signin:ann@example.com.evil",
        "signin:bob@example.com",
        "reset:ann@example.com",
        "Signin:ann@example.com",
        "a%b:1",
        "axb:1",
        "a_c:1",
        "abc:1",
    ];
    for key in keys {
        store.hit_rate(key, at(0), at(900)).await.unwrap();
        store.hit_rate(key, at(900), at(1_800)).await.unwrap();
    }
    commit(
        &store,
        Changes {
            clear_rate_prefixes: vec!["signin:ann@".into(), "a%b".into(), "a_c".into()],
            ..Changes::default()
        },
    )
    .await
    .unwrap();
    let cleared = [
        "signin:ann@example.com",
        "signin:ann@example.com.evil",
        "a%b:1",
        "a_c:1",
    ];
    for key in keys {
        let expected = if cleared.contains(&key) { 0 } else { 1 };
        for window in [at(0), at(900)] {
            assert_eq!(
                store.rate_count(key, window).await.unwrap(),
                expected,
                "{key}"
            );
        }
    }
}

/// Purging deletes the rate counters that expired by `now`, and only those.
pub async fn expired_rate_counters_are_purged(store: Arc<dyn AccountStore>) {
    store.hit_rate("a", at(0), at(100)).await.unwrap();
    store.hit_rate("b", at(0), at(200)).await.unwrap();
    store.hit_rate("c", at(100), at(300)).await.unwrap();

    assert_eq!(store.purge_expired(at(99)).await.unwrap(), 0);
    assert_eq!(store.purge_expired(at(200)).await.unwrap(), 2);
    assert_eq!(store.rate_count("a", at(0)).await.unwrap(), 0);
    assert_eq!(store.rate_count("b", at(0)).await.unwrap(), 0);
    assert_eq!(store.rate_count("c", at(100)).await.unwrap(), 1);
}

/// Staff verification is written by upsert, per tenant and staff member.
pub async fn staff_verification_is_upserted_per_tenant(store: Arc<dyn AccountStore>) {
    let firm = tenant("firm");
    let other = tenant("other-firm");
    let staff = StaffId::new("staff-1").unwrap();
    let verification = |until: i64| StaffVerification {
        tenant: firm.clone(),
        staff_id: staff.clone(),
        verified_until: at(until),
    };
    assert_eq!(store.staff_verification(&firm, &staff).await.unwrap(), None);
    for until in [600, 1_200] {
        commit(
            &store,
            Changes {
                staff_verification: Some(verification(until)),
                ..Changes::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            store.staff_verification(&firm, &staff).await.unwrap(),
            Some(verification(until))
        );
    }
    assert_eq!(
        store.staff_verification(&other, &staff).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .staff_verification(&firm, &StaffId::new("staff-2").unwrap())
            .await
            .unwrap(),
        None
    );
}
