//! Server secrets: generated once, kept, shared by every instance.

use std::sync::Arc;

use crate::{AccountStore, ServerSecret};

use super::fixtures::at_once;

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
