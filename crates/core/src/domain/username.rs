//! Usernames.

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// A client's chosen username: 3 to 32 characters after NFKC; letters,
/// digits, `.`, `_` and `-`; no `@`. Unique per tenant case-insensitively,
/// by its [`key`](Username::key).
///
/// ```
/// # use portal_access_core::Username;
/// let name = Username::parse("Joe.Fake").unwrap();
/// assert_eq!(name.as_str(), "Joe.Fake");
/// assert_eq!(name.key(), "joe.fake");
/// assert!(Username::parse("jo").is_err());
/// assert!(Username::parse("joe@fake").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username {
    value: String,
    key: String,
}

/// Why a username was refused (`username_invalid`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidUsername {
    /// Fewer than 3 or more than 32 characters.
    #[error("a username has 3 to 32 characters")]
    Length,
    /// A character other than letters, digits, `.`, `_`, `-`.
    #[error("a username may contain only letters, digits, '.', '_' and '-'")]
    Characters,
}

impl InvalidUsername {
    /// What names its sentence on a page (see
    /// [`Refusal::message_key`](crate::workflow::Refusal::message_key)).
    pub fn message_key(&self) -> &'static str {
        match self {
            Self::Length => "username_length",
            Self::Characters => "username_characters",
        }
    }
}

impl Username {
    /// The fewest characters a username may have.
    pub const MIN_CHARS: usize = 3;
    /// The most characters a username may have.
    pub const MAX_CHARS: usize = 32;

    /// Parses a username as typed (surrounding white space is trimmed).
    pub fn parse(input: &str) -> Result<Self, InvalidUsername> {
        let value: String = input.trim().nfkc().collect();
        let count = value.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&count) {
            return Err(InvalidUsername::Length);
        }
        if !value
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(InvalidUsername::Characters);
        }
        let key = value.to_lowercase();
        Ok(Self { value, key })
    }

    /// The username as chosen (after NFKC).
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The case-insensitive uniqueness key (lower-cased NFKC form).
    pub fn key(&self) -> &str {
        &self.key
    }
}

given_text!(Username, value, InvalidUsername);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_differing_only_in_case_share_one_key() {
        assert_eq!(
            Username::parse("JoeFake").unwrap().key(),
            Username::parse("joefake").unwrap().key()
        );
    }

    #[test]
    fn username_length_is_counted_after_nfkc() {
        // "ﬀ" (one code point) becomes "ff" (two) under NFKC.
        assert!(Username::parse("aﬀ").is_ok());
        assert_eq!(
            Username::parse(&"a".repeat(33)),
            Err(InvalidUsername::Length)
        );
        assert!(Username::parse(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn username_with_at_sign_or_space_is_refused() {
        assert_eq!(
            Username::parse("joe@fake"),
            Err(InvalidUsername::Characters)
        );
        assert_eq!(
            Username::parse("joe fake"),
            Err(InvalidUsername::Characters)
        );
    }

    #[test]
    fn unicode_letters_digits_dot_underscore_and_dash_are_allowed() {
        assert!(Username::parse("Zoë_2.x-y").is_ok());
    }
}
