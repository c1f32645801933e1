//! Statement arguments: the values the shared body binds, encoded by the
//! [`Dialect`](crate::Dialect) where the two databases store them
//! differently (times, JSON).

use std::borrow::Cow;

use time::OffsetDateTime;
use uuid::Uuid;

/// One bound value.
#[derive(Debug, Clone)]
pub enum Arg<'q> {
    /// A UUID.
    Uuid(Uuid),
    /// A nullable UUID.
    OptUuid(Option<Uuid>),
    /// Text.
    Text(&'q str),
    /// Nullable text.
    OptText(Option<&'q str>),
    /// Nullable owned text (formatted values such as IP addresses).
    OptString(Option<String>),
    /// Bytes (hashes).
    Bytes(&'q [u8]),
    /// Nullable bytes.
    OptBytes(Option<&'q [u8]>),
    /// A boolean.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A time (stored per dialect).
    Time(OffsetDateTime),
    /// A nullable time (stored per dialect).
    OptTime(Option<OffsetDateTime>),
    /// A JSON document (stored per dialect).
    Json(Cow<'q, serde_json::Value>),
}

macro_rules! from {
    ($($type:ty => $variant:ident),* $(,)?) => {
        $(impl<'q> From<$type> for Arg<'q> {
            fn from(value: $type) -> Self {
                Arg::$variant(value)
            }
        })*
    };
}

from! {
    Uuid => Uuid,
    Option<Uuid> => OptUuid,
    &'q str => Text,
    Option<&'q str> => OptText,
    Option<String> => OptString,
    &'q [u8] => Bytes,
    Option<&'q [u8]> => OptBytes,
    bool => Bool,
    i64 => Int,
    OffsetDateTime => Time,
    Option<OffsetDateTime> => OptTime,
}

impl From<u32> for Arg<'_> {
    fn from(value: u32) -> Self {
        Arg::Int(i64::from(value))
    }
}

/// A statement and its arguments (`$1`, `$2`, … in order).
#[derive(Debug, Clone)]
pub struct Statement<'q> {
    pub(crate) sql: &'static str,
    pub(crate) args: Vec<Arg<'q>>,
}

impl<'q> Statement<'q> {
    /// A statement with no arguments yet.
    pub fn new(sql: &'static str) -> Self {
        Self {
            sql,
            args: Vec::with_capacity(4),
        }
    }

    /// Binds the next argument.
    #[must_use]
    pub fn arg(mut self, value: impl Into<Arg<'q>>) -> Self {
        self.args.push(value.into());
        self
    }
}
