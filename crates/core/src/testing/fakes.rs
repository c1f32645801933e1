//! Fakes of the ports, for tests and demos: public API.
//!
//! - [`RecordingMailer`]: records what it sends; fails transiently or
//!   permanently on demand.
//! - [`ScriptedCaptcha`]: answers from a script.
//! - [`TableGeoIp`]: answers from a table.
//! - [`ManualClock`]: time that moves only when told.
//! - [`SeededRandom`]: repeatable "random" bytes (never in production).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use rand::{RngCore, SeedableRng};
use secrecy::{ExposeSecret, SecretString};
use time::{Duration, OffsetDateTime};

use crate::{
    CaptchaError, CaptchaVerdict, CaptchaVerifier, Clock, GeoIpError, GeoIpLookup, Location,
    Mailer, MailerError, MailerErrorKind, NewMessage, SecureRandom,
};

/// What the recording mailer does with the next message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailerBehaviour {
    /// Record it and succeed.
    Deliver,
    /// Fail with this kind of error (and record nothing).
    Fail(MailerErrorKind),
}

/// A mailer that records each message it "sends".
///
/// ```
/// # use portal_access_core::testing::fakes::RecordingMailer;
/// # use portal_access_core::MailerErrorKind;
/// let mailer = RecordingMailer::new();
/// mailer.fail_next(2, MailerErrorKind::Transient);
/// assert!(mailer.sent().is_empty());
/// ```
#[derive(Debug, Default)]
pub struct RecordingMailer {
    sent: Mutex<Vec<NewMessage>>,
    script: Mutex<VecDeque<MailerBehaviour>>,
    fail_ratio: Mutex<Option<(u32, u32, u64)>>,
}

/// The error a scripted failure carries.
#[derive(Debug, thiserror::Error)]
#[error("scripted {0:?} failure")]
pub struct ScriptedFailure(pub MailerErrorKind);

impl RecordingMailer {
    /// A mailer that delivers everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next `count` sends fail with `kind`.
    pub fn fail_next(&self, count: usize, kind: MailerErrorKind) {
        let mut script = self.script.lock().unwrap_or_else(PoisonError::into_inner);
        script.extend(std::iter::repeat_n(MailerBehaviour::Fail(kind), count));
    }

    /// Queues explicit behaviours for the next sends.
    pub fn script(&self, behaviours: impl IntoIterator<Item = MailerBehaviour>) {
        self.script
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(behaviours);
    }

    /// From now on, `numerator` in `denominator` sends (chosen by a
    /// deterministic generator seeded with `seed`) fail transiently.
    pub fn fail_transiently_at_rate(&self, numerator: u32, denominator: u32, seed: u64) {
        *self
            .fail_ratio
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((numerator, denominator, seed));
    }

    /// Everything delivered so far, in order.
    pub fn sent(&self) -> Vec<NewMessage> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Messages delivered to this address.
    pub fn sent_to(&self, address: &str) -> Vec<NewMessage> {
        self.sent()
            .into_iter()
            .filter(|m| m.to.eq_ignore_ascii_case(address))
            .collect()
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, message: &NewMessage) -> Result<(), MailerError> {
        let next = self
            .script
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
        if let Some(MailerBehaviour::Fail(kind)) = next {
            return Err(match kind {
                MailerErrorKind::Transient => MailerError::transient(ScriptedFailure(kind)),
                MailerErrorKind::Permanent => MailerError::permanent(ScriptedFailure(kind)),
            });
        }
        if let Some((num, den, seed)) = self
            .fail_ratio
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            // splitmix64 step: deterministic, thread-safe under the lock.
            *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = *seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            if (z % u64::from(*den)) < u64::from(*num) {
                return Err(MailerError::transient(ScriptedFailure(
                    MailerErrorKind::Transient,
                )));
            }
        }
        if [&message.to, &message.subject]
            .iter()
            .any(|v| v.contains(['\r', '\n']))
            || message
                .to_name
                .as_deref()
                .is_some_and(|n| n.contains(['\r', '\n']))
        {
            return Err(MailerError::permanent("header value carries CR or LF"));
        }
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(message.clone());
        Ok(())
    }
}

/// What the scripted CAPTCHA answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptchaScript {
    /// Pass when the response equals this text, fail otherwise.
    Accept(String),
    /// Always fail.
    RejectAll,
    /// Always answer an infrastructure error.
    Unavailable,
}

/// A CAPTCHA verifier that answers from a script, and records what it saw.
#[derive(Debug)]
pub struct ScriptedCaptcha {
    script: Mutex<CaptchaScript>,
    seen: Mutex<Vec<(String, Option<IpAddr>)>>,
}

impl ScriptedCaptcha {
    /// Passes exactly `answer`.
    pub fn accepting(answer: impl Into<String>) -> Self {
        Self::new(CaptchaScript::Accept(answer.into()))
    }

    /// Follows `script`.
    pub fn new(script: CaptchaScript) -> Self {
        Self {
            script: Mutex::new(script),
            seen: Mutex::new(Vec::new()),
        }
    }

    /// Changes the script.
    pub fn set(&self, script: CaptchaScript) {
        *self.script.lock().unwrap_or_else(PoisonError::into_inner) = script;
    }

    /// Responses and IPs verified so far.
    pub fn seen(&self) -> Vec<(String, Option<IpAddr>)> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl CaptchaVerifier for ScriptedCaptcha {
    async fn verify(
        &self,
        response: &SecretString,
        remote_ip: Option<IpAddr>,
    ) -> Result<CaptchaVerdict, CaptchaError> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((response.expose_secret().to_owned(), remote_ip));
        match &*self.script.lock().unwrap_or_else(PoisonError::into_inner) {
            CaptchaScript::Accept(answer)
                if bool::from(subtle::ConstantTimeEq::ct_eq(
                    answer.as_bytes(),
                    response.expose_secret().as_bytes(),
                )) =>
            {
                Ok(CaptchaVerdict::Passed)
            }
            CaptchaScript::Accept(_) | CaptchaScript::RejectAll => Ok(CaptchaVerdict::Failed {
                error_codes: vec!["invalid-input-response".into()],
            }),
            CaptchaScript::Unavailable => Err(CaptchaError::new("scripted outage")),
        }
    }
}

/// A GeoIP lookup from a fixed table.
#[derive(Debug, Default)]
pub struct TableGeoIp {
    table: HashMap<IpAddr, Location>,
}

impl TableGeoIp {
    /// An empty table (every address unknown).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a row.
    pub fn with(mut self, ip: IpAddr, location: Location) -> Self {
        self.table.insert(ip, location);
        self
    }
}

#[async_trait]
impl GeoIpLookup for TableGeoIp {
    async fn locate(&self, ip: IpAddr) -> Result<Option<Location>, GeoIpError> {
        Ok(self.table.get(&ip).cloned())
    }
}

/// A clock that moves only when told.
///
/// ```
/// # use portal_access_core::{testing::fakes::ManualClock, Clock};
/// let clock = ManualClock::new(time::macros::datetime!(2026-01-01 0:00 UTC));
/// clock.advance(time::Duration::hours(2));
/// assert_eq!(clock.now(), time::macros::datetime!(2026-01-01 2:00 UTC));
/// ```
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// Starts at `at`.
    pub fn new(at: OffsetDateTime) -> Self {
        Self(Mutex::new(at))
    }

    /// Sets the time.
    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }

    /// Moves time forward.
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Repeatable bytes from a seeded generator: for tests only.
#[derive(Debug)]
pub struct SeededRandom(Mutex<rand::rngs::StdRng>);

impl SeededRandom {
    /// Seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(rand::rngs::StdRng::seed_from_u64(seed)))
    }
}

impl SecureRandom for SeededRandom {
    fn fill(&self, dest: &mut [u8]) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .fill_bytes(dest);
    }
}
