//! Time and randomness, injected into the service (never read in a workflow).

use rand::RngCore;
use time::OffsetDateTime;

/// The current time. The service reads it once per operation and passes
/// `now` to the workflow; tests use a clock they move by hand.
///
/// ```
/// use std::sync::Mutex;
/// use portal_access_core::Clock;
/// use time::{macros::datetime, Duration, OffsetDateTime};
///
/// /// A clock that stands still until told to move.
/// struct Frozen(Mutex<OffsetDateTime>);
///
/// impl Clock for Frozen {
///     fn now(&self) -> OffsetDateTime {
///         *self.0.lock().unwrap()
///     }
/// }
///
/// let clock = Frozen(Mutex::new(datetime!(2026-03-02 09:00 UTC)));
/// *clock.0.lock().unwrap() += Duration::hours(1);
/// assert_eq!(clock.now(), datetime!(2026-03-02 10:00 UTC));
/// ```
pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Fresh random material for tokens, ids and salts. Production uses
/// [`OsRandom`]; only tests may use anything else (a seeded generator makes
/// tokens reproducible, and so guessable).
///
/// ```
/// use portal_access_core::{OsRandom, RawToken, SecureRandom};
///
/// let mut bytes = [0u8; 32];
/// OsRandom.fill(&mut bytes);
/// let token = RawToken::from_bytes(bytes);
/// assert_eq!(token.expose().len(), RawToken::ENCODED_LEN);
/// ```
pub trait SecureRandom: Send + Sync + 'static {
    /// Fills `dest` with cryptographically secure random bytes.
    fn fill(&self, dest: &mut [u8]);
}

/// The operating system's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl SecureRandom for OsRandom {
    fn fill(&self, dest: &mut [u8]) {
        rand::rngs::OsRng.fill_bytes(dest);
    }
}
