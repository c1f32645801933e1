//! Link and session tokens: 256 bits from the CSPRNG, URL-safe, stored only
//! as a SHA-256 hash.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A raw token as it travels in a link or a cookie. Never stored; its
/// `Debug` is redacted.
///
/// ```
/// # use portal_access_core::RawToken;
/// let token = RawToken::from_bytes([7u8; 32]);
/// let parsed = RawToken::parse(token.expose()).unwrap();
/// assert!(parsed.hash().ct_eq(&token.hash()));
/// assert_eq!(format!("{token:?}"), "RawToken(<redacted>)");
/// ```
#[derive(Clone)]
pub struct RawToken(SecretString);

/// The text was not a token of ours (wrong length or alphabet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a well-formed token")]
pub struct MalformedToken;

impl RawToken {
    /// Length in characters of the URL-safe form (32 bytes, base64url, no padding).
    pub const ENCODED_LEN: usize = 43;

    /// Makes a token from 32 bytes of fresh CSPRNG output.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(SecretString::from(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Parses a token from a link or cookie. Only the shape is checked; the
    /// store decides whether it exists.
    pub fn parse(text: &str) -> Result<Self, MalformedToken> {
        let text = text.trim();
        if text.len() != Self::ENCODED_LEN
            || !text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(MalformedToken);
        }
        Ok(Self(SecretString::from(text.to_owned())))
    }

    /// The URL-safe text, for building a link or a cookie.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The SHA-256 hash under which the token is stored.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.expose_secret().as_bytes()).into())
    }
}

impl fmt::Debug for RawToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RawToken(<redacted>)")
    }
}

/// The SHA-256 hash of a [`RawToken`]: what stores keep. Compared in constant
/// time; `Debug` shows only a short prefix.
#[derive(Clone, Copy, Serialize, Deserialize)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Wraps 32 bytes read back from a store.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Wraps a slice read back from a store; `None` unless it is 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Self)
    }

    /// The hash bytes, for storage.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time equality.
    pub fn ct_eq(&self, other: &TokenHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl PartialEq for TokenHash {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other)
    }
}

impl Eq for TokenHash {}

impl std::hash::Hash for TokenHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({:02x}{:02x}…)", self.0[0], self.0[1])
    }
}

/// What a link token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// Accept an invitation: choose a username and a password.
    Invitation,
    /// Set a new password.
    PasswordReset,
    /// "This wasn't me": secure the account after an unexpected password change.
    NotMe,
    /// A sign-in waiting for its second factor (5 minutes, in its own
    /// cookie, never in a link).
    SignInChallenge,
}

impl TokenKind {
    /// Stable text form, for storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::PasswordReset => "password_reset",
            Self::NotMe => "not_me",
            Self::SignInChallenge => "sign_in_challenge",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s text.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "invitation" => Some(Self::Invitation),
            "password_reset" => Some(Self::PasswordReset),
            "not_me" => Some(Self::NotMe),
            "sign_in_challenge" => Some(Self::SignInChallenge),
            _ => None,
        }
    }

    /// Every kind.
    pub const ALL: [TokenKind; 4] = [
        Self::Invitation,
        Self::PasswordReset,
        Self::NotMe,
        Self::SignInChallenge,
    ];

    /// Whether tokens of this kind travel in mailed links (and so belong
    /// in the staff delivery timeline); a sign-in challenge does not.
    pub const fn is_link(self) -> bool {
        match self {
            Self::Invitation | Self::PasswordReset | Self::NotMe => true,
            Self::SignInChallenge => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_43_url_safe_characters() {
        let token = RawToken::from_bytes([255u8; 32]);
        assert_eq!(token.expose().len(), RawToken::ENCODED_LEN);
        assert!(token
            .expose()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn malformed_tokens_are_refused_before_any_lookup() {
        assert!(RawToken::parse("short").is_err());
        assert!(RawToken::parse(&"a".repeat(42).to_string().replace('a', "%")).is_err());
        assert!(RawToken::parse(&format!("{}=", "a".repeat(42))).is_err());
    }

    #[test]
    fn different_tokens_have_different_hashes() {
        let a = RawToken::from_bytes([1u8; 32]).hash();
        let b = RawToken::from_bytes([2u8; 32]).hash();
        assert_ne!(a, b);
        assert_eq!(a, RawToken::from_bytes([1u8; 32]).hash());
    }

    #[test]
    fn token_hash_debug_shows_only_a_prefix() {
        let text = format!("{:?}", RawToken::from_bytes([1u8; 32]).hash());
        assert!(text.len() < 20, "{text}");
    }
}
