//! The server key and what it protects: TOTP secrets sealed with
//! XChaCha20-Poly1305, and one-time codes (emailed codes, recovery codes)
//! stored as HMAC-SHA-256 under a subkey.
//!
//! A sealed secret's associated data binds its tenant, account and purpose:
//! a sealed secret copied to another account does not open. A 6-digit code's
//! plain SHA-256 would be brute-forced offline in milliseconds; its HMAC
//! under a key the database does not hold is not.
//!
//! ```
//! use portal_access_core::crypto::{SealedSecret, SecretKey};
//!
//! let key = SecretKey::from_bytes([7; 32]);
//! let sealed = key.seal([1; 24], b"firm/ann/totp", b"secret bytes");
//! assert_eq!(&key.open(&sealed, b"firm/ann/totp").unwrap()[..], b"secret bytes");
//! assert!(key.open(&sealed, b"firm/bob/totp").is_err(), "bound to its account");
//! assert!(SecretKey::from_bytes([8; 32]).open(&sealed, b"firm/ann/totp").is_err());
//! assert_eq!(format!("{key:?}"), "SecretKey(<redacted>)");
//! let text = key.to_base64();
//! assert_eq!(SecretKey::parse_base64(&text).unwrap().to_base64(), text);
//! ```

pub mod totp;

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Length of a sealed secret's nonce (XChaCha20: 192 bits).
pub const NONCE_LEN: usize = 24;

/// The server key (32 bytes): seals TOTP secrets and keys the HMAC of
/// one-time codes. `Debug` is redacted. Changing it makes every TOTP factor
/// fail closed and every pending code invalid.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

/// The text is not 32 bytes of standard base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the secret key must be 32 bytes of base64")]
pub struct InvalidSecretKey;

/// A sealed secret did not open: the key changed, or it was moved to
/// another account, or it was altered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the sealed secret does not open under this key and account")]
pub struct OpenError;

impl SecretKey {
    /// Wraps 32 bytes (from the CSPRNG, or a configured key).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses 32 bytes of standard base64 (surrounding whitespace ignored).
    pub fn parse_base64(text: &str) -> Result<Self, InvalidSecretKey> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| InvalidSecretKey)?;
        <[u8; 32]>::try_from(bytes.as_slice())
            .map(Self)
            .map_err(|_| InvalidSecretKey)
    }

    /// The key as standard base64 (to keep it in a file).
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// A subkey for one purpose: HMAC-SHA-256(key, label).
    fn subkey(&self, label: &str) -> [u8; 32] {
        let mut mac = hmac_sha256(&self.0);
        mac.update(b"portal-access subkey\0");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Seals `plaintext` under the sealing subkey with this fresh `nonce`
    /// (from [`SecureRandom`](crate::SecureRandom)), binding `associated`.
    pub fn seal(
        &self,
        nonce: [u8; NONCE_LEN],
        associated: &[u8],
        plaintext: &[u8],
    ) -> SealedSecret {
        let key = self.subkey("seal/v1");
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&key));
        let payload = Payload {
            msg: plaintext,
            aad: associated,
        };
        // Encryption fails only past 256 GiB of plaintext; an empty result
        // would never open (fail closed).
        let ciphertext = cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&ciphertext);
        SealedSecret(bytes)
    }

    /// Opens what [`seal`](Self::seal) sealed with the same associated data.
    pub fn open(&self, sealed: &SealedSecret, associated: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.0.len() <= NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = sealed.0.split_at(NONCE_LEN);
        let key = self.subkey("seal/v1");
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&key));
        cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: associated,
                },
            )
            .map_err(|_| OpenError)
    }

    /// The keyed hash of a one-time code: HMAC-SHA-256 under the codes
    /// subkey of `parts` joined by NUL (purpose, tenant, account, code).
    pub fn code_hash(&self, parts: &[&str]) -> CodeHash {
        let key = self.subkey("codes/v1");
        let mut mac = hmac_sha256(&key);
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\0");
        }
        CodeHash(mac.finalize().into_bytes().into())
    }
}

fn hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// A secret sealed by [`SecretKey::seal`]: nonce and ciphertext. Stored as
/// base64; `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret(Vec<u8>);

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedSecret(<redacted>)")
    }
}

impl Serialize for SealedSecret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for SealedSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD
            .decode(text)
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

/// The keyed hash of a one-time code (see [`SecretKey::code_hash`]).
/// Compared in constant time; `Debug` is redacted; stored as base64.
#[derive(Clone, Copy)]
pub struct CodeHash([u8; 32]);

impl CodeHash {
    /// Constant-time equality.
    pub fn ct_eq(&self, other: &CodeHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }

    /// The hash bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for CodeHash {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other)
    }
}

impl Eq for CodeHash {}

impl fmt::Debug for CodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeHash(<redacted>)")
    }
}

impl Serialize for CodeHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(self.0))
    }
}

impl<'de> Deserialize<'de> for CodeHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = STANDARD.decode(text).map_err(serde::de::Error::custom)?;
        <[u8; 32]>::try_from(bytes.as_slice())
            .map(Self)
            .map_err(|_| serde::de::Error::custom("a code hash is 32 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_is_not_32_bytes_of_base64_is_refused() {
        assert!(SecretKey::parse_base64("c2hvcnQ=").is_err());
        assert!(SecretKey::parse_base64("not base64 at all!").is_err());
        assert!(SecretKey::parse_base64(&STANDARD.encode([1u8; 32])).is_ok());
    }

    #[test]
    fn a_sealed_secret_does_not_open_once_altered() {
        let key = SecretKey::from_bytes([3; 32]);
        let mut sealed = key.seal([9; 24], b"ad", b"totp secret");
        let last = sealed.0.len() - 1;
        sealed.0[last] ^= 1;
        assert_eq!(key.open(&sealed, b"ad"), Err(OpenError));
        assert_eq!(key.open(&SealedSecret(vec![1, 2]), b"ad"), Err(OpenError));
    }

    #[test]
    fn two_seals_of_one_secret_differ_by_their_nonce() {
        let key = SecretKey::from_bytes([3; 32]);
        assert_ne!(
            key.seal([1; 24], b"ad", b"s"),
            key.seal([2; 24], b"ad", b"s")
        );
    }

    #[test]
    fn code_hashes_depend_on_key_account_and_code_and_never_show() {
        let key = SecretKey::from_bytes([3; 32]);
        let a = key.code_hash(&["email", "firm", "acct-1", "123456"]);
        assert_eq!(a, key.code_hash(&["email", "firm", "acct-1", "123456"]));
        assert_ne!(a, key.code_hash(&["email", "firm", "acct-2", "123456"]));
        assert_ne!(a, key.code_hash(&["email", "firm", "acct-1", "123457"]));
        assert_ne!(
            a,
            SecretKey::from_bytes([4; 32]).code_hash(&["email", "firm", "acct-1", "123456"])
        );
        assert_eq!(format!("{a:?}"), "CodeHash(<redacted>)");
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<CodeHash>(&json).unwrap(), a);
    }

    #[test]
    fn sealed_secrets_survive_a_json_round_trip() {
        let key = SecretKey::from_bytes([3; 32]);
        let sealed = key.seal([5; 24], b"ad", b"secret");
        let back: SealedSecret =
            serde_json::from_str(&serde_json::to_string(&sealed).unwrap()).unwrap();
        assert_eq!(key.open(&back, b"ad").unwrap(), b"secret");
        assert_eq!(format!("{sealed:?}"), "SealedSecret(<redacted>)");
    }
}
