//! [`CorruptRow`]: a stored value that does not decode into the domain.

use portal_access_core::StoreError;

/// A stored value that does not decode into the domain (a corrupt row).
#[derive(Debug, thiserror::Error)]
#[error("stored {column} does not decode: {reason}")]
pub struct CorruptRow {
    column: &'static str,
    reason: String,
}

/// The error for a stored value that does not decode.
pub fn corrupt(column: &'static str, reason: impl ToString) -> StoreError {
    StoreError::backend(CorruptRow {
        column,
        reason: reason.to_string(),
    })
}
