//! Argon2id on a bounded pool with reused memory.
//!
//! At most `pool_size` hashes run at once (a semaphore in front of
//! `spawn_blocking`), so the async workers stay free for requests that need
//! no hashing. Each running hash borrows one of `pool_size` argon2 memory
//! areas (`m` KiB each, allocated on first use and then kept), instead of
//! allocating a fresh one per hash: hashing memory is exactly
//! `pool_size × m` however many sign-ins arrive at once, whatever the
//! allocator does with freed memory. (With a fresh 19 MiB block per hash,
//! glibc raises its mmap threshold after the first free and keeps later
//! blocks in per-thread arenas: a server grew to ~900 MiB under 1,000
//! concurrent sign-ins; see docs/performance.md.)

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, PasswordHash as PhcHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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
    #[error("password hashing failed")]
    Hash(#[source] argon2::password_hash::Error),
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

/// One argon2 memory area, reused from hash to hash.
type Memory = Vec<Block>;

/// Argon2id hasher with a bounded pool.
#[derive(Clone)]
pub struct Hasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// Memory areas not in use; a task that holds a permit always finds one
    /// (or a free slot to allocate one): there are as many as permits.
    memory: Arc<Mutex<Vec<Memory>>>,
    allocations: Arc<AtomicUsize>,
    dummy: Arc<String>,
    verifications: Arc<AtomicU64>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("params", &self.params)
            .field("available_permits", &self.permits.available_permits())
            .finish()
    }
}

/// A memory area borrowed from the pool; goes back to it when dropped (also
/// when the hashing task panics).
struct Borrowed {
    area: Option<Memory>,
    /// Blocks of the configured parameters: the size of every pooled area.
    configured: usize,
    /// Memory for a stored hash with larger parameters than configured
    /// (verified once, then re-hashed): freed, not pooled.
    spill: Memory,
    pool: Arc<Mutex<Vec<Memory>>>,
    allocations: Arc<AtomicUsize>,
}

impl Borrowed {
    /// `blocks` blocks of memory.
    fn blocks(&mut self, blocks: usize) -> &mut [Block] {
        if blocks > self.configured {
            self.spill = vec![Block::default(); blocks];
            return &mut self.spill;
        }
        let area = self.area.get_or_insert_with(|| {
            // First use of this area: allocate once, keep it.
            self.allocations.fetch_add(1, Ordering::Relaxed);
            vec![Block::default(); self.configured]
        });
        &mut area[..blocks]
    }
}

impl Drop for Borrowed {
    fn drop(&mut self) {
        if let Some(area) = self.area.take() {
            lock(&self.pool).push(area);
        }
    }
}

fn lock(pool: &Mutex<Vec<Memory>>) -> std::sync::MutexGuard<'_, Vec<Memory>> {
    // The lock only guards push/pop: a poisoned pool is still a valid pool.
    pool.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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
        let pool_size = config.pool_size.max(1);
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(pool_size)),
            memory: Arc::new(Mutex::new(Vec::with_capacity(pool_size))),
            allocations: Arc::new(AtomicUsize::new(0)),
            dummy: Arc::new(dummy),
            verifications: Arc::new(AtomicU64::new(0)),
        })
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// How many hashes may start now (for metrics).
    pub fn available_permits(&self) -> usize {
        self.permits.available_permits()
    }

    /// How many argon2 memory areas this hasher (and its clones) allocated:
    /// `pool_size` at most while hashes use the configured parameters,
    /// however many ran.
    pub fn memory_allocations(&self) -> usize {
        self.allocations.load(Ordering::Relaxed)
    }

    #[expect(
        clippy::expect_used,
        reason = "the semaphore is owned by the hasher and never closed"
    )]
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Borrowed) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        // The permit moves into the blocking task: if this future is dropped
        // (the client went away), the hash still holds its permit and its
        // memory until it ends, so neither bound is ever exceeded.
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .expect("the hashing semaphore is never closed");
        let mut memory = Borrowed {
            area: lock(&self.memory).pop(),
            configured: self.params.block_count(),
            spill: Memory::new(),
            pool: Arc::clone(&self.memory),
            allocations: Arc::clone(&self.allocations),
        };
        tokio::task::spawn_blocking(move || {
            let result = work(&mut memory);
            drop(memory);
            drop(permit);
            result
        })
        .await
        .map_err(HashError::Join)
    }

    /// How many argon2 verifications this hasher (and its clones) ran to
    /// the end, against a stored or the dummy hash (for metrics and tests).
    pub fn verifications_run(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Hashes a (normalized) password with a fresh 16-byte salt.
    pub async fn hash(
        &self,
        password: SecretString,
        salt: [u8; 16],
    ) -> Result<PasswordHash, HashError> {
        let argon = self.argon();
        self.run(move |memory| {
            let params = argon.params();
            let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
            let output = compute(
                &argon,
                password.expose_secret().as_bytes(),
                &salt,
                output_len,
                memory,
            )
            .map_err(HashError::Hash)?;
            let salt = SaltString::encode_b64(&salt).map_err(HashError::Hash)?;
            let phc = PhcHash {
                algorithm: argon2::ARGON2ID_IDENT,
                version: Some(Version::V0x13.into()),
                params: params.try_into().map_err(HashError::Hash)?,
                salt: Some(salt.as_salt()),
                hash: Some(output),
            };
            Ok(PasswordHash::new(phc.to_string()))
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
        let expected = self.params.clone();
        let dummy = Arc::clone(&self.dummy);
        let verifications = Arc::clone(&self.verifications);
        self.run(move |memory| {
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
            let matches =
                verify_with_memory(password.expose_secret().as_bytes(), &parsed, memory) && known;
            verifications.fetch_add(1, Ordering::Relaxed);
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

/// What `PasswordVerifier::verify_password` does, computing in `memory`:
/// the algorithm, version, parameters and salt of the stored hash, its output
/// compared in constant time. A hash that is not argon2 never matches.
fn verify_with_memory(password: &[u8], stored: &PhcHash<'_>, memory: &mut Borrowed) -> bool {
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(stored.algorithm) else {
        return false;
    };
    let version = match stored.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(stored) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params);
    let computed = compute(&argon, password, salt_bytes, expected.len(), memory);
    // `Output`'s equality is constant-time.
    computed.is_ok_and(|computed| &computed == expected)
}

/// `argon` of `password` and `salt`, `len` bytes, computed in `memory`.
fn compute(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    len: usize,
    memory: &mut Borrowed,
) -> argon2::password_hash::Result<Output> {
    let blocks = memory.blocks(argon.params().block_count());
    Output::init_with(len, |out| {
        argon
            .hash_password_into_with_memory(password, salt, out, blocks)
            .map_err(Into::into)
    })
}

#[cfg(test)]
mod tests;
