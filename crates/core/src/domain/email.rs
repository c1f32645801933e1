//! Email addresses.

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// An email address: as the user gave it (for sending) plus a normalized
/// form for lookup (trimmed, NFKC, case-folded as a whole).
///
/// ```
/// # use portal_access_core::EmailAddress;
/// let email = EmailAddress::parse("  Ann.Client@Example.COM ").unwrap();
/// assert_eq!(email.as_str(), "Ann.Client@Example.COM");
/// assert_eq!(email.normalized(), "ann.client@example.com");
/// assert!(EmailAddress::parse("not an address").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress {
    given: String,
    normalized: String,
}

/// Why an email address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEmail {
    /// Empty after trimming.
    #[error("the email address is empty")]
    Empty,
    /// Longer than 254 characters.
    #[error("the email address is longer than 254 characters")]
    TooLong,
    /// Not of the form `local@domain.tld`.
    #[error("the email address must look like name@example.com")]
    Malformed,
}

impl EmailAddress {
    /// Parses an address as typed by a person.
    pub fn parse(input: &str) -> Result<Self, InvalidEmail> {
        let given = input.trim();
        if given.is_empty() {
            return Err(InvalidEmail::Empty);
        }
        if given.chars().count() > 254 {
            return Err(InvalidEmail::TooLong);
        }
        if given.chars().any(|c| {
            c.is_control()
                || c.is_whitespace()
                || matches!(
                    c,
                    '<' | '>' | ',' | ';' | '"' | '\\' | '(' | ')' | '[' | ']'
                )
        }) {
            return Err(InvalidEmail::Malformed);
        }
        let (local, domain) = given.rsplit_once('@').ok_or(InvalidEmail::Malformed)?;
        let domain_ok = !domain.is_empty()
            && domain.contains('.')
            && !domain.starts_with(['.', '-'])
            && !domain.ends_with(['.', '-'])
            && !domain.contains("..")
            && !domain.contains('@');
        if local.is_empty() || local.contains('@') || local.chars().count() > 64 || !domain_ok {
            return Err(InvalidEmail::Malformed);
        }
        let normalized = given.nfkc().collect::<String>().to_lowercase();
        Ok(Self {
            given: given.to_owned(),
            normalized,
        })
    }

    /// The address as the user gave it (trimmed): the one mail is sent to.
    pub fn as_str(&self) -> &str {
        &self.given
    }

    /// The lookup key: NFKC and lower-cased as a whole.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

given_text!(EmailAddress, given, InvalidEmail);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_differing_only_in_case_share_one_lookup_key() {
        let a = EmailAddress::parse("Ann@Example.com").unwrap();
        let b = EmailAddress::parse("ann@EXAMPLE.COM").unwrap();
        assert_eq!(a.normalized(), b.normalized());
        assert_ne!(a.as_str(), b.as_str());
    }

    #[test]
    fn full_width_characters_normalize_to_ascii() {
        let a = EmailAddress::parse("ＡＮＮ@example.com").unwrap();
        assert_eq!(a.normalized(), "ann@example.com");
    }

    #[test]
    fn header_injection_in_an_address_is_refused() {
        assert_eq!(
            EmailAddress::parse("ann@example.com\r\nBcc: evil@example.com"),
            Err(InvalidEmail::Malformed)
        );
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "ann",
            "@example.com",
            "ann@",
            "ann@localhost",
            "ann@@example.com",
            "a b@example.com",
            "ann@example..com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad} should be refused");
        }
        assert_eq!(EmailAddress::parse("   "), Err(InvalidEmail::Empty));
    }
}
