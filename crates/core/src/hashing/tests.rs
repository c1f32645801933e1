use super::*;

async fn hash_of(hasher: &Hasher, salt: [u8; 16]) -> PasswordHash {
    hasher
        .hash(SecretString::from("right horse battery"), salt)
        .await
        .unwrap()
}

async fn check(hasher: &Hasher, password: &str, stored: Option<PasswordHash>) -> Verification {
    hasher
        .verify(SecretString::from(password), stored)
        .await
        .unwrap()
}

/// The argon2 crate's own PHC string of "right horse battery" with the
/// cheap parameters and a salt of sixteen `salt` bytes.
fn argon2_crate_hash(algorithm: Algorithm, salt: u8) -> String {
    let params = Params::new(256, 1, 1, None).unwrap();
    Argon2::new(algorithm, Version::V0x13, params)
        .hash_password(
            b"right horse battery",
            &SaltString::encode_b64(&[salt; 16]).unwrap(),
        )
        .unwrap()
        .to_string()
}

fn cheap() -> HashingConfig {
    HashingConfig {
        memory_kib: 256,
        iterations: 1,
        parallelism: 1,
        pool_size: 2,
    }
}

#[tokio::test]
async fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
    let hasher = Hasher::new(&cheap()).unwrap();
    let hash = hash_of(&hasher, [3; 16]).await;
    assert!(hash.as_str().starts_with("$argon2id$"));
    let ok = check(&hasher, "right horse battery", Some(hash.clone())).await;
    assert_eq!(
        ok,
        Verification {
            matches: true,
            needs_rehash: false
        }
    );
    let wrong = check(&hasher, "wrong horse battery", Some(hash)).await;
    assert!(!wrong.matches);
}

#[tokio::test]
async fn the_default_parameters_hash_with_argon2id_m19456_t2_p1() {
    let hasher = Hasher::new(&HashingConfig::default()).unwrap();

    let hash = hash_of(&hasher, [5; 16]).await;

    assert!(
        hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        hash.as_str()
    );
}

#[tokio::test]
async fn an_unknown_login_never_matches_even_the_dummy_password() {
    let hasher = Hasher::new(&cheap()).unwrap();
    let v = check(&hasher, "portal-access dummy password", None).await;
    assert!(!v.matches);
}

#[tokio::test]
async fn a_hash_with_old_parameters_asks_for_a_rehash() {
    let old = Hasher::new(&HashingConfig {
        memory_kib: 128,
        ..cheap()
    })
    .unwrap();
    let hash = hash_of(&old, [4; 16]).await;
    let current = Hasher::new(&cheap()).unwrap();
    let v = check(&current, "right horse battery", Some(hash)).await;
    assert_eq!(
        v,
        Verification {
            matches: true,
            needs_rehash: true
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_more_hashes_run_at_once_than_the_pool_allows() {
    let hasher = Hasher::new(&HashingConfig {
        pool_size: 2,
        ..cheap()
    })
    .unwrap();
    let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..16u8 {
        let hasher = hasher.clone();
        let peak = Arc::clone(&peak);
        tasks.push(tokio::spawn(async move {
            let in_use = 2 - hasher.available_permits();
            peak.fetch_max(in_use, std::sync::atomic::Ordering::SeqCst);
            hash_of(&hasher, [i; 16]).await;
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(peak.load(std::sync::atomic::Ordering::SeqCst) <= 2);
    assert_eq!(hasher.available_permits(), 2);
}

#[tokio::test]
async fn a_hash_is_the_same_phc_string_the_argon2_crate_makes() {
    let hasher = Hasher::new(&cheap()).unwrap();
    let ours = hash_of(&hasher, [7; 16]).await;

    let theirs = argon2_crate_hash(Algorithm::Argon2id, 7);
    assert_eq!(ours.as_str(), theirs);
}

#[tokio::test]
async fn a_hash_with_larger_parameters_than_configured_verifies_and_asks_for_a_rehash() {
    let old = Hasher::new(&HashingConfig {
        memory_kib: 1024,
        iterations: 2,
        ..cheap()
    })
    .unwrap();
    let hash = hash_of(&old, [8; 16]).await;
    let current = Hasher::new(&cheap()).unwrap();

    let right = check(&current, "right horse battery", Some(hash.clone())).await;
    let wrong = check(&current, "wrong horse battery", Some(hash)).await;

    assert_eq!(
        right,
        Verification {
            matches: true,
            needs_rehash: true
        }
    );
    assert!(!wrong.matches);
    assert_eq!(
        current.memory_allocations(),
        0,
        "larger memory is not pooled"
    );
}

#[tokio::test]
async fn an_argon2i_hash_verifies_and_asks_for_a_rehash_to_argon2id() {
    let argon2i = argon2_crate_hash(Algorithm::Argon2i, 9);
    let hasher = Hasher::new(&cheap()).unwrap();

    let v = check(
        &hasher,
        "right horse battery",
        Some(PasswordHash::new(argon2i)),
    )
    .await;

    assert_eq!(
        v,
        Verification {
            matches: true,
            needs_rehash: true
        }
    );
}

#[tokio::test]
async fn a_stored_value_that_is_not_a_phc_hash_never_matches() {
    let hasher = Hasher::new(&cheap()).unwrap();
    for stored in ["", "plain text", "$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ"] {
        let v = check(
            &hasher,
            "plain text",
            Some(PasswordHash::new(stored.to_owned())),
        )
        .await;
        assert!(!v.matches, "{stored:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hashing_memory_is_allocated_once_per_pool_slot_however_many_hashes_run() {
    let hasher = Hasher::new(&HashingConfig {
        pool_size: 2,
        ..cheap()
    })
    .unwrap();
    let hash = hash_of(&hasher, [1; 16]).await;
    let mut tasks = Vec::new();
    for i in 0..32u8 {
        let hasher = hasher.clone();
        let hash = hash.clone();
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                hash_of(&hasher, [i; 16]).await;
            } else {
                let v = check(&hasher, "right horse battery", Some(hash)).await;
                assert!(v.matches);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }

    assert!(
        (1..=2).contains(&hasher.memory_allocations()),
        "{} areas for a pool of 2",
        hasher.memory_allocations()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hash_whose_caller_went_away_keeps_its_permit_until_it_ends() {
    let hasher = Hasher::new(&HashingConfig {
        memory_kib: 32 * 1024,
        iterations: 8,
        pool_size: 1,
        ..cheap()
    })
    .unwrap();
    let started = hasher.clone();
    let caller = tokio::spawn(async move {
        started
            .hash(SecretString::from("right horse battery"), [2; 16])
            .await
    });
    while hasher.available_permits() == 1 {
        tokio::task::yield_now().await;
    }

    caller.abort();
    let _ = caller.await;

    assert_eq!(
        hasher.available_permits(),
        0,
        "the abandoned hash is still running"
    );
    while hasher.available_permits() == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    assert_eq!(hasher.memory_allocations(), 1);
}
