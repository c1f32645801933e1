//! Server secrets and staff console sign-ins: kept in the store, shared by
//! every instance.

use std::sync::Arc;

use super::fixtures::{at, at_once, hash, tenant};
use crate::{AccountStore, ConsoleSignIn, ServerSecret, StaffId};

fn secret(byte: u8) -> ServerSecret {
    ServerSecret::new(vec![byte; 32])
}

/// The first candidate offered for a name is stored; later callers offering
/// another one read the first, and names are independent of each other.
pub async fn a_server_secret_is_stored_once_and_later_callers_read_the_first(
    store: Arc<dyn AccountStore>,
) {
    let first = store.server_secret("csrf_key", &secret(1)).await.unwrap();
    let again = store.server_secret("csrf_key", &secret(2)).await.unwrap();
    let other = store.server_secret("totp_key", &secret(3)).await.unwrap();

    assert_eq!(first.expose(), [1; 32]);
    assert_eq!(again.expose(), [1; 32]);
    assert_eq!(other.expose(), [3; 32]);
    let kept = store.server_secret("csrf_key", &secret(4)).await.unwrap();
    assert_eq!(kept.expose(), [1; 32]);
}

/// Instances starting at the same moment, each with its own candidate, all
/// get the same secret, and it is one of the candidates.
pub async fn twenty_concurrent_first_calls_for_one_secret_agree(store: Arc<dyn AccountStore>) {
    let first_calls = (0..20u8).map(|byte| {
        let store = Arc::clone(&store);
        async move { store.server_secret("csrf_key", &secret(byte)).await }
    });
    let mut seen: Vec<Vec<u8>> = at_once(first_calls)
        .await
        .into_iter()
        .map(|s| s.expect("secret").expose().to_vec())
        .collect();

    seen.dedup();
    assert_eq!(seen.len(), 1, "every instance reads the same secret");
    assert!(seen[0].len() == 32 && seen[0].iter().all(|b| *b == seen[0][0] && *b < 20));
}

/// A console sign-in is found by its hash until it ends, by sign-out or by
/// its time; a hash is kept once; purging deletes only the ended ones.
pub async fn a_console_sign_in_is_found_until_signed_out_or_expired(store: Arc<dyn AccountStore>) {
    let sign_in = |n: u32, ends: i64| ConsoleSignIn {
        hash: hash(n),
        tenant: tenant("firm"),
        staff_id: StaffId::new("alice").unwrap(),
        created_at: at(0),
        expires_at: at(ends),
    };
    let (kept, signed_out, ended) = (sign_in(1, 600), sign_in(2, 600), sign_in(3, 60));
    for s in [&kept, &signed_out, &ended] {
        store.insert_console_sign_in(s).await.unwrap();
    }
    assert!(
        store
            .insert_console_sign_in(&sign_in(1, 900))
            .await
            .is_err(),
        "a hash is kept once"
    );

    assert_eq!(
        store.console_sign_in(&hash(1), at(30)).await.unwrap(),
        Some(kept.clone())
    );
    assert_eq!(
        store.console_sign_in(&hash(3), at(59)).await.unwrap(),
        Some(ended.clone())
    );
    assert_eq!(
        store.console_sign_in(&hash(3), at(60)).await.unwrap(),
        None,
        "ended at its time"
    );
    assert_eq!(
        store.console_sign_in(&hash(9), at(30)).await.unwrap(),
        None,
        "unknown"
    );

    store.end_console_sign_in(&hash(2)).await.unwrap();
    store.end_console_sign_in(&hash(9)).await.unwrap();
    assert_eq!(
        store.console_sign_in(&hash(2), at(30)).await.unwrap(),
        None,
        "signed out"
    );

    assert!(store.purge_expired(at(120)).await.unwrap() >= 1);
    assert_eq!(
        store.console_sign_in(&hash(1), at(120)).await.unwrap(),
        Some(kept)
    );
    store
        .insert_console_sign_in(&ended)
        .await
        .expect("purged, so the hash is free again");
}
