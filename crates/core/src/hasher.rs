//! Argon2id on a bounded blocking pool.
//!
//! At most `pool_size` hashes run at once (a semaphore in front of
//! `spawn_blocking`), so memory stays bounded under any number of concurrent
//! sign-ins and the async workers stay free for requests that need no hashing.

use std::sync::Arc;

use argon2::password_hash::{
    PasswordHash as PhcHash, PasswordHasher as _, PasswordVerifier as _, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::config::HashingConfig;
use crate::PasswordHash;

/// The hashing pool failed (a panicked task, bad parameters).
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The argon2 parameters are invalid.
    #[error("invalid argon2 parameters")]
    Params(#[source] argon2::Error),
    /// Hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(argon2::password_hash::Error),
    /// The blocking task did not complete.
    #[error("hashing task failed")]
    Join(#[source] tokio::task::JoinError),
}

/// Result of verifying a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    /// The password matches.
    pub matches: bool,
    /// The hash uses other parameters than the configured ones: re-hash.
    pub needs_rehash: bool,
}

/// Argon2id hasher with a bounded pool.
#[derive(Clone)]
pub struct Hasher {
    params: Params,
    permits: Arc<Semaphore>,
    dummy: Arc<String>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("params", &self.params)
            .field("available_permits", &self.permits.available_permits())
            .finish()
    }
}

impl Hasher {
    /// A hasher with these parameters and pool size. Computes the dummy hash
    /// (used for unknown logins) once, here.
    pub fn new(config: &HashingConfig) -> Result<Self, HashError> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )
        .map_err(HashError::Params)?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let salt = SaltString::encode_b64(b"portal-access-dummy-salt").map_err(HashError::Hash)?;
        let dummy = argon
            .hash_password(b"portal-access dummy password", &salt)
            .map_err(HashError::Hash)?
            .to_string();
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(config.pool_size.max(1))),
            dummy: Arc::new(dummy),
        })
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// How many hashes may start now (for metrics).
    pub fn available_permits(&self) -> usize {
        self.permits.available_permits()
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the hashing semaphore is never closed");
        tokio::task::spawn_blocking(work)
            .await
            .map_err(HashError::Join)
    }

    /// Hashes a (normalized) password with a fresh 16-byte salt.
    pub async fn hash(
        &self,
        password: SecretString,
        salt: [u8; 16],
    ) -> Result<PasswordHash, HashError> {
        let argon = self.argon();
        self.run(move || {
            let salt = SaltString::encode_b64(&salt).map_err(HashError::Hash)?;
            argon
                .hash_password(password.expose_secret().as_bytes(), &salt)
                .map(|h| PasswordHash::new(h.to_string()))
                .map_err(HashError::Hash)
        })
        .await?
    }

    /// Verifies a (normalized) password against a stored hash; with `None`,
    /// verifies against the dummy hash so an unknown login costs the same
    /// time as a wrong password, and never matches.
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<PasswordHash>,
    ) -> Result<Verification, HashError> {
        let argon = self.argon();
        let expected = self.params.clone();
        let dummy = Arc::clone(&self.dummy);
        self.run(move || {
            let known = stored.is_some();
            let phc = stored
                .as_ref()
                .map(|h| h.as_str())
                .unwrap_or(dummy.as_str());
            let Ok(parsed) = PhcHash::new(phc) else {
                return Verification {
                    matches: false,
                    needs_rehash: false,
                };
            };
            let matches = argon
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_ok()
                && known;
            let needs_rehash = matches
                && (parsed.algorithm != argon2::ARGON2ID_IDENT
                    || Params::try_from(&parsed)
                        .map(|p| {
                            (p.m_cost(), p.t_cost(), p.p_cost())
                                != (expected.m_cost(), expected.t_cost(), expected.p_cost())
                        })
                        .unwrap_or(true));
            Verification {
                matches,
                needs_rehash,
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let hash = hasher
            .hash(SecretString::from("right horse battery"), [3; 16])
            .await
            .unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        let ok = hasher
            .verify(
                SecretString::from("right horse battery"),
                Some(hash.clone()),
            )
            .await
            .unwrap();
        assert_eq!(
            ok,
            Verification {
                matches: true,
                needs_rehash: false
            }
        );
        let wrong = hasher
            .verify(SecretString::from("wrong horse battery"), Some(hash))
            .await
            .unwrap();
        assert!(!wrong.matches);
    }

    #[tokio::test]
    async fn an_unknown_login_never_matches_even_the_dummy_password() {
        let hasher = Hasher::new(&cheap()).unwrap();
        let v = hasher
            .verify(SecretString::from("portal-access dummy password"), None)
            .await
            .unwrap();
        assert!(!v.matches);
    }

    #[tokio::test]
    async fn a_hash_with_old_parameters_asks_for_a_rehash() {
        let old = Hasher::new(&HashingConfig {
            memory_kib: 128,
            ..cheap()
        })
        .unwrap();
        let hash = old
            .hash(SecretString::from("right horse battery"), [4; 16])
            .await
            .unwrap();
        let current = Hasher::new(&cheap()).unwrap();
        let v = current
            .verify(SecretString::from("right horse battery"), Some(hash))
            .await
            .unwrap();
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
                hasher
                    .hash(SecretString::from("right horse battery"), [i; 16])
                    .await
                    .unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert!(peak.load(std::sync::atomic::Ordering::SeqCst) <= 2);
        assert_eq!(hasher.available_permits(), 2);
    }
}
