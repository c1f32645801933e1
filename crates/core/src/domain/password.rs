//! The password policy ("eligible password", NIST SP 800-63B-4).

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::{EmailAddress, Username};

/// Every password of 8 or more characters from the MIT-licensed ranked list
/// of `@zxcvbn-ts/language-common` (see `data/LICENSE-common-passwords.txt`).
const COMMON_PASSWORDS: &str = include_str!("../../data/common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON_PASSWORDS.lines().filter(|l| !l.is_empty()).collect())
}

/// The password policy. Defaults: at least 15 characters (the password is
/// the only factor), at most 128, counted in code points after NFKC.
///
/// ```
/// # use portal_access_core::{PasswordPolicy, EmailAddress, PasswordReason};
/// # use secrecy::SecretString;
/// let policy = PasswordPolicy::default();
/// let email = EmailAddress::parse("ann@example.com").unwrap();
/// let ok = policy.check(&SecretString::from("correct horse battery staple"), None, &email);
/// assert!(ok.is_ok());
/// let refused = policy.check(&SecretString::from("password"), None, &email).unwrap_err();
/// assert!(refused.reasons.contains(&PasswordReason::TooShort { min: 15 }));
/// assert!(refused.reasons.contains(&PasswordReason::Common));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    min_chars: usize,
    max_chars: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_chars: Self::DEFAULT_MIN_CHARS,
            max_chars: Self::MAX_CHARS,
        }
    }
}

/// A policy setting out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the minimum password length must be between 8 and 128 characters, not {0}")]
pub struct InvalidPolicy(pub usize);

/// Why a password was refused (`password_rejected`, with these as `reasons`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum PasswordReason {
    /// Fewer characters than the policy's minimum.
    TooShort {
        /// The minimum.
        min: usize,
    },
    /// More than the policy's maximum.
    TooLong {
        /// The maximum.
        max: usize,
    },
    /// On the list of common or breached passwords.
    Common,
    /// The same as the username (ignoring case).
    SameAsUsername,
    /// The same as the email address (ignoring case).
    SameAsEmail,
}

impl PasswordReason {
    /// A sentence for a person.
    pub fn message(&self) -> String {
        match self {
            Self::TooShort { min } => format!("Use at least {min} characters."),
            Self::TooLong { max } => format!("Use at most {max} characters."),
            Self::Common => "This password is too common; choose another.".into(),
            Self::SameAsUsername => "The password cannot be your username.".into(),
            Self::SameAsEmail => "The password cannot be your email address.".into(),
        }
    }

    /// Stable code of the reason.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "too_short",
            Self::TooLong { .. } => "too_long",
            Self::Common => "common",
            Self::SameAsUsername => "same_as_username",
            Self::SameAsEmail => "same_as_email",
        }
    }
}

/// The password was refused, for these reasons.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the password was refused: {}", reasons.iter().map(|r| r.code()).collect::<Vec<_>>().join(", "))]
pub struct PasswordRejected {
    /// Every reason that applies.
    pub reasons: Vec<PasswordReason>,
}

/// A password that passed the policy: NFKC-normalized, held as a secret.
/// `Debug` is redacted.
pub struct NewPassword(SecretString);

impl NewPassword {
    /// The normalized text, for the hasher.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

/// NFKC form of a password, as both the policy and sign-in use it.
pub fn normalize_password(raw: &str) -> SecretString {
    SecretString::from(raw.nfkc().collect::<String>())
}

impl PasswordPolicy {
    /// The default minimum (NIST SP 800-63B-4, password as the only factor).
    pub const DEFAULT_MIN_CHARS: usize = 15;
    /// The lowest minimum a host may configure.
    pub const LOWEST_MIN_CHARS: usize = 8;
    /// The maximum; longer passwords are refused before any hashing.
    pub const MAX_CHARS: usize = 128;

    /// A policy with another minimum length (8 to 128).
    pub fn with_min_chars(min_chars: usize) -> Result<Self, InvalidPolicy> {
        if !(Self::LOWEST_MIN_CHARS..=Self::MAX_CHARS).contains(&min_chars) {
            return Err(InvalidPolicy(min_chars));
        }
        Ok(Self {
            min_chars,
            max_chars: Self::MAX_CHARS,
        })
    }

    /// The minimum length.
    pub fn min_chars(&self) -> usize {
        self.min_chars
    }

    /// The maximum length.
    pub fn max_chars(&self) -> usize {
        self.max_chars
    }

    /// Checks a candidate password for the account with this username and email.
    pub fn check(
        &self,
        raw: &SecretString,
        username: Option<&Username>,
        email: &EmailAddress,
    ) -> Result<NewPassword, PasswordRejected> {
        let raw = raw.expose_secret();
        // Refuse absurd input before normalizing it: NFKC can expand text
        // at most 18-fold, so anything over 4 bytes per allowed character
        // times that bound cannot fit.
        if raw.len() > self.max_chars * 4 * 18 {
            return Err(PasswordRejected {
                reasons: vec![PasswordReason::TooLong {
                    max: self.max_chars,
                }],
            });
        }
        let normalized = normalize_password(raw);
        let text = normalized.expose_secret();
        let count = text.chars().count();
        let mut reasons = Vec::new();
        if count < self.min_chars {
            reasons.push(PasswordReason::TooShort {
                min: self.min_chars,
            });
        }
        if count > self.max_chars {
            reasons.push(PasswordReason::TooLong {
                max: self.max_chars,
            });
            return Err(PasswordRejected { reasons });
        }
        let folded = text.to_lowercase();
        if common_passwords().contains(folded.as_str()) {
            reasons.push(PasswordReason::Common);
        }
        if username.is_some_and(|u| u.key() == folded) {
            reasons.push(PasswordReason::SameAsUsername);
        }
        if email.normalized() == folded {
            reasons.push(PasswordReason::SameAsEmail);
        }
        if reasons.is_empty() {
            Ok(NewPassword(normalized))
        } else {
            Err(PasswordRejected { reasons })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> EmailAddress {
        EmailAddress::parse("ann.client@example.com").unwrap()
    }

    fn check(policy: PasswordPolicy, pw: &str) -> Result<NewPassword, PasswordRejected> {
        policy.check(
            &SecretString::from(pw),
            Username::parse("joefake").ok().as_ref(),
            &email(),
        )
    }

    #[test]
    fn password_shorter_than_fifteen_characters_is_refused_by_default() {
        let err = check(PasswordPolicy::default(), "fourteen chars").unwrap_err();
        assert_eq!(err.reasons, vec![PasswordReason::TooShort { min: 15 }]);
        assert!(check(PasswordPolicy::default(), "fifteen chars!!").is_ok());
    }

    #[test]
    fn minimum_can_be_lowered_to_eight_but_not_below() {
        let policy = PasswordPolicy::with_min_chars(8).unwrap();
        assert!(check(policy, "zq8!vLm#").is_ok());
        assert_eq!(PasswordPolicy::with_min_chars(7), Err(InvalidPolicy(7)));
    }

    #[test]
    fn password_longer_than_128_characters_is_refused() {
        let err = check(PasswordPolicy::default(), &"x".repeat(129)).unwrap_err();
        assert_eq!(err.reasons, vec![PasswordReason::TooLong { max: 128 }]);
        assert!(check(PasswordPolicy::default(), &"xy".repeat(64)).is_ok());
    }

    #[test]
    fn huge_input_is_refused_without_normalizing_it() {
        let err = check(PasswordPolicy::default(), &"x".repeat(1_000_000)).unwrap_err();
        assert_eq!(err.reasons, vec![PasswordReason::TooLong { max: 128 }]);
    }

    #[test]
    fn length_is_counted_in_code_points_after_nfkc() {
        // 15 emoji: 15 code points, 60 bytes.
        assert!(check(PasswordPolicy::default(), &"🔑".repeat(15)).is_ok());
        assert!(check(PasswordPolicy::default(), &"🔑".repeat(14)).is_err());
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        let policy = PasswordPolicy::with_min_chars(8).unwrap();
        assert_eq!(
            check(policy, "PassWord1").unwrap_err().reasons,
            vec![PasswordReason::Common]
        );
        assert_eq!(
            check(policy, "baseball").unwrap_err().reasons,
            vec![PasswordReason::Common]
        );
    }

    #[test]
    fn the_shipped_list_holds_thousands_of_passwords() {
        assert!(common_passwords().len() > 10_000);
    }

    #[test]
    fn password_equal_to_username_or_email_is_refused() {
        let policy = PasswordPolicy::with_min_chars(8).unwrap();
        let username = Username::parse("Joe.Fake.Client").unwrap();
        let err = policy
            .check(
                &SecretString::from("joe.fake.client"),
                Some(&username),
                &email(),
            )
            .unwrap_err();
        assert_eq!(err.reasons, vec![PasswordReason::SameAsUsername]);
        let err = policy
            .check(
                &SecretString::from("Ann.Client@Example.com"),
                None,
                &email(),
            )
            .unwrap_err();
        assert_eq!(err.reasons, vec![PasswordReason::SameAsEmail]);
    }

    #[test]
    fn no_composition_rules_apply() {
        assert!(check(PasswordPolicy::default(), "all lower case words here").is_ok());
    }

    #[test]
    fn new_password_debug_is_redacted() {
        let pw = check(PasswordPolicy::default(), "a very secret passphrase").unwrap();
        assert_eq!(format!("{pw:?}"), "NewPassword(<redacted>)");
    }
}
