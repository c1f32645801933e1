//! The audit chain: every audit event of a tenant gets the next sequence
//! number and `hash = SHA-256(previous hash || seq || canonical body)`.
//!
//! The canonical encoding is versioned ([`CHAIN_ENCODING_VERSION`]) and
//! written out in docs/audit.md; [`canonical_body`] is its one
//! implementation, used by every store when appending and by
//! [`ChainVerifier`] when checking.

use std::fmt;

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::{AccountId, AuditEvent, AuditKind, TenantId};

/// The version of the canonical encoding, written into every body as `"v"`.
pub const CHAIN_ENCODING_VERSION: u32 = 1;

/// A link of the chain: a SHA-256 digest. The hash before a tenant's first
/// event is [`ChainHash::GENESIS`] (32 zero bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"))]
pub struct ChainHash([u8; 32]);

impl ChainHash {
    /// The hash before the first event of every chain.
    pub const GENESIS: Self = Self([0; 32]);

    /// A hash from its 32 bytes (`None` for any other length).
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Self)
    }

    /// Parses the lowercase or uppercase hex form of [`Display`](fmt::Display).
    pub fn parse_hex(text: &str) -> Option<Self> {
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut bytes = [0; 32];
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).ok()?;
            *byte = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(Self(bytes))
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The hash of the event numbered `seq` whose canonical body is `body`,
    /// following `self`: `SHA-256(self || seq as 8 bytes big-endian || body)`.
    pub fn link(&self, seq: u64, body: &[u8]) -> Self {
        let mut digest = Sha256::new();
        digest.update(self.0);
        digest.update(seq.to_be_bytes());
        digest.update(body);
        Self(digest.finalize().into())
    }
}

impl fmt::Display for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

/// A chain hash is public (it proves, it does not grant): shown in full.
impl fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainHash({self})")
    }
}

impl Serialize for ChainHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A position in a tenant's chain: a sequence number and the hash there.
/// `ChainPoint::START` (0, genesis) is before the first event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainPoint {
    /// The last sequence number (0: none yet).
    pub seq: u64,
    /// The hash of that event (genesis for 0).
    pub hash: ChainHash,
}

impl ChainPoint {
    /// Before the first event.
    pub const START: Self = Self {
        seq: 0,
        hash: ChainHash::GENESIS,
    };

    /// The point after appending `event`.
    pub fn next(&self, event: &AuditEvent) -> Self {
        let seq = self.seq + 1;
        Self {
            seq,
            hash: self.hash.link(seq, &canonical_body(event)),
        }
    }
}

/// The two ends a verification needs: where the stored chain starts (the
/// retention checkpoint: the last removed event, or [`ChainPoint::START`])
/// and its head (the last appended event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainEnds {
    /// The last pruned event (or the start).
    pub checkpoint: ChainPoint,
    /// The last appended event (or the start).
    pub head: ChainPoint,
}

impl Default for ChainEnds {
    fn default() -> Self {
        Self {
            checkpoint: ChainPoint::START,
            head: ChainPoint::START,
        }
    }
}

/// An audit event as the trail holds it: with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainedEvent {
    /// Its sequence number in its tenant's chain (from 1, no gaps).
    pub seq: u64,
    /// `SHA-256(previous hash || seq || canonical body)`.
    pub hash: ChainHash,
    /// The event.
    #[serde(flatten)]
    pub event: AuditEvent,
}

/// Which events of a trail to read: each filter given must pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only events at or after this time.
    pub from: Option<OffsetDateTime>,
    /// Only events at or before this time.
    pub to: Option<OffsetDateTime>,
    /// Only events of this account.
    pub account: Option<AccountId>,
    /// Only events of this kind.
    pub kind: Option<AuditKind>,
}

impl AuditFilter {
    /// Whether `event` passes every filter given.
    pub fn matches(&self, event: &AuditEvent) -> bool {
        self.from.is_none_or(|from| event.at >= from)
            && self.to.is_none_or(|to| event.at <= to)
            && self.account.is_none_or(|id| event.account_id == Some(id))
            && self.kind.is_none_or(|kind| event.kind == kind)
    }
}

/// One page of a tenant's trail, in chain order: the events after
/// `after_seq` that pass `filter`, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// The tenant.
    pub tenant: TenantId,
    /// Only events with a larger sequence number (the page cursor; 0: from the start).
    pub after_seq: u64,
    /// Which events.
    pub filter: AuditFilter,
    /// At most this many events.
    pub limit: u32,
}

impl AuditQuery {
    /// The whole trail of a tenant, `limit` events a page.
    pub fn all(tenant: TenantId, limit: u32) -> Self {
        Self {
            tenant,
            after_seq: 0,
            filter: AuditFilter::default(),
            limit,
        }
    }

    /// Whether `event` is of the tenant and passes the filter (the cursor
    /// and limit aside).
    pub fn matches(&self, event: &AuditEvent) -> bool {
        event.tenant == self.tenant && self.filter.matches(event)
    }
}

/// The canonical encoding, version 1, of an event's content: compact JSON
/// (no whitespace), object keys sorted bytewise at every depth, strings
/// escaped as serde_json escapes them, of
/// `{"v":1,"id","tenant","account_id","actor","kind","at_us","ip","user_agent","detail"}`
/// where `at_us` is the time in whole microseconds since the Unix epoch
/// (what every store keeps) and absent values are `null`.
pub fn canonical_body(event: &AuditEvent) -> Vec<u8> {
    // Years -9999..=9999 fit in i64 microseconds.
    let at_us =
        i64::try_from(event.at.unix_timestamp_nanos().div_euclid(1_000)).unwrap_or(i64::MAX);
    let body = serde_json::json!({
        "v": CHAIN_ENCODING_VERSION,
        "id": event.id.as_uuid().to_string(),
        "tenant": event.tenant.as_str(),
        "account_id": event.account_id.map(|a| a.as_uuid().to_string()),
        "actor": serde_json::to_value(&event.actor).unwrap_or(serde_json::Value::Null),
        "kind": event.kind.as_str(),
        "at_us": at_us,
        "ip": event.ip.map(|ip| ip.to_string()),
        "user_agent": event.user_agent,
        "detail": event.detail,
    });
    let mut out = Vec::with_capacity(256);
    write_canonical(&body, &mut out);
    out
}

fn write_canonical(value: &serde_json::Value, out: &mut Vec<u8>) {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_scalar(&serde_json::Value::String(key.clone()), out);
                out.push(b':');
                write_canonical(value, out);
            }
            out.push(b'}');
        }
        serde_json::Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar(value: &serde_json::Value, out: &mut Vec<u8>) {
    // A scalar Value always serializes; nothing to fail.
    out.extend_from_slice(value.to_string().as_bytes());
}

/// The first place a stored chain disagrees with its recomputation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// The stored event numbered `seq` is not what was appended there: its
    /// content or hash was changed (or it replaces a removed event).
    #[error(
        "event {seq} was changed: its hash does not match its content and the chain before it"
    )]
    Changed {
        /// The sequence number.
        seq: u64,
    },
    /// The event numbered `seq` is missing (removed).
    #[error("event {seq} was removed")]
    Removed {
        /// The sequence number.
        seq: u64,
    },
    /// The event numbered `seq` was never appended: it is beyond the
    /// chain's head, or repeats a number already seen or pruned.
    #[error("event {seq} was inserted: it is not part of the appended chain")]
    Inserted {
        /// The sequence number.
        seq: u64,
    },
    /// The head records another hash than the last event's.
    #[error("the chain head (event {seq}) does not match the last event")]
    HeadMismatch {
        /// The head's sequence number.
        seq: u64,
    },
}

impl ChainBreak {
    /// The sequence number it names.
    pub fn seq(&self) -> u64 {
        match self {
            Self::Changed { seq }
            | Self::Removed { seq }
            | Self::Inserted { seq }
            | Self::HeadMismatch { seq } => *seq,
        }
    }
}

/// Recomputes a tenant's chain from its stored events, fed in sequence
/// order (pure: the caller reads the pages).
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    verified: ChainPoint,
    head: ChainPoint,
}

impl ChainVerifier {
    /// A verifier of the chain between `ends.checkpoint` and `ends.head`.
    pub fn new(ends: ChainEnds) -> Self {
        Self {
            verified: ends.checkpoint,
            head: ends.head,
        }
    }

    /// Checks the next stored event.
    pub fn check(&mut self, stored: &ChainedEvent) -> Result<(), ChainBreak> {
        let seq = stored.seq;
        if seq <= self.verified.seq || seq > self.head.seq {
            return Err(ChainBreak::Inserted { seq });
        }
        if seq > self.verified.seq + 1 {
            return Err(ChainBreak::Removed {
                seq: self.verified.seq + 1,
            });
        }
        let next = self.verified.next(&stored.event);
        if next.hash != stored.hash {
            return Err(ChainBreak::Changed { seq });
        }
        self.verified = next;
        Ok(())
    }

    /// After the last stored event: every event up to the head was seen
    /// and the head's hash is the last one's. Returns the verified head.
    pub fn finish(self) -> Result<ChainPoint, ChainBreak> {
        if self.verified.seq < self.head.seq {
            return Err(ChainBreak::Removed {
                seq: self.verified.seq + 1,
            });
        }
        if self.verified.hash != self.head.hash {
            return Err(ChainBreak::HeadMismatch { seq: self.head.seq });
        }
        Ok(self.verified)
    }
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;
