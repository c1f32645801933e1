//! (a) The physical limit: raw argon2id verifies per second of this build on
//! this machine's cores, with the parameters portal-server uses by default.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::Result;

/// m = 19456 KiB, t = 2, p = 1: the SPEC defaults (`HashingConfig::default()`).
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

/// Verifies per second with `threads` threads verifying for `duration`.
pub fn verify_rate(threads: usize, duration: Duration) -> Result<f64> {
    let params =
        Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).map_err(|e| e.to_string())?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::encode_b64(b"bench-salt-16byt").map_err(|e| e.to_string())?;
    let phc = argon
        .hash_password(b"bench horse battery staple", &salt)
        .map_err(|e| e.to_string())?
        .to_string();
    let done = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (done, count, argon, phc) = (
                Arc::clone(&done),
                Arc::clone(&count),
                argon.clone(),
                phc.clone(),
            );
            std::thread::spawn(move || {
                let parsed = PasswordHash::new(&phc).expect("a hash we just made parses");
                while !done.load(Ordering::Relaxed) {
                    argon
                        .verify_password(b"bench horse battery staple", &parsed)
                        .expect("the password matches");
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(duration);
    done.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().map_err(|_| "an argon2 thread panicked")?;
    }
    // Count the verifies that finished after the flag too, over the real time.
    Ok(count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}
