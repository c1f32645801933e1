//! The stored forms of times and JSON documents a [`Dialect`](crate::Dialect)
//! picks: SQLite keeps integer microseconds since the Unix epoch and JSON
//! text; PostgreSQL timestamptz and jsonb. Both encodings stay as they are
//! in existing databases.

use portal_access_core::StoreError;
use time::OffsetDateTime;

use crate::corrupt;

/// A stored form of a time.
pub trait StoredTime: Sized + Send + 'static {
    /// The stored form of `at`.
    fn store(at: OffsetDateTime) -> Self;
    /// The time this stands for.
    fn load(self) -> Result<OffsetDateTime, StoreError>;
}

/// Microseconds since the Unix epoch (truncating below the microsecond).
impl StoredTime for i64 {
    fn store(at: OffsetDateTime) -> Self {
        // Years -9999..=9999 fit easily in i64 microseconds.
        (at.unix_timestamp_nanos().div_euclid(1_000)) as i64
    }

    fn load(self) -> Result<OffsetDateTime, StoreError> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self) * 1_000)
            .map_err(|e| corrupt("timestamp", e))
    }
}

/// The time in UTC, truncated to the microsecond (what timestamptz keeps).
impl StoredTime for OffsetDateTime {
    fn store(at: OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        // The nanosecond field is within [0, 1e9): this floors.
        at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
            .unwrap_or(at)
    }

    fn load(self) -> Result<OffsetDateTime, StoreError> {
        Ok(self)
    }
}

/// A stored form of a JSON document.
pub trait StoredJson: Sized + Send + 'static {
    /// The stored form of `value`.
    fn store(value: &serde_json::Value) -> Self;
    /// The document this stands for.
    fn load(self) -> Result<serde_json::Value, serde_json::Error>;
}

/// JSON text.
impl StoredJson for String {
    fn store(value: &serde_json::Value) -> Self {
        value.to_string()
    }

    fn load(self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self)
    }
}

/// A document (jsonb).
impl StoredJson for serde_json::Value {
    fn store(value: &serde_json::Value) -> Self {
        value.clone()
    }

    fn load(self) -> Result<serde_json::Value, serde_json::Error> {
        Ok(self)
    }
}
