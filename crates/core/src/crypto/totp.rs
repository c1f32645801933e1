//! TOTP (RFC 6238 over RFC 4226 HOTP): SHA-1, 6 digits, 30-second steps,
//! one step of skew either way, and replay refused by the last accepted
//! step. Time is an argument; nothing here reads a clock.
//!
//! ```
//! use portal_access_core::crypto::totp::{self, TotpRefusal};
//! use time::macros::datetime;
//!
//! let secret = b"12345678901234567890";
//! let now = datetime!(2009-02-13 23:31:30 UTC);
//! let code = format!("{:06}", totp::code_at(secret, totp::step_of(now)));
//! assert_eq!(code, "005924");
//! let step = totp::check(secret, &code, now, None).unwrap();
//! assert_eq!(totp::check(secret, &code, now, Some(step)), Err(TotpRefusal::Replayed));
//! ```

use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

/// Seconds per step.
pub const STEP_SECONDS: i64 = 30;
/// Digits of a code.
pub const DIGITS: usize = 6;
/// Steps of skew accepted either way.
pub const SKEW: u64 = 1;
/// Bytes of a new secret (160 bits, RFC 4226's recommendation).
pub const SECRET_LEN: usize = 20;

/// Why a TOTP code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpRefusal {
    /// Not the code of the current step, nor of one step either side.
    Mismatch,
    /// The code of a step already accepted (or older): a replay.
    Replayed,
}

/// The step that holds `now`.
pub fn step_of(now: OffsetDateTime) -> u64 {
    u64::try_from(now.unix_timestamp().div_euclid(STEP_SECONDS)).unwrap_or(0)
}

/// The HOTP value (RFC 4226, dynamic truncation, 6 digits) of `counter`.
pub fn code_at(secret: &[u8], counter: u64) -> u32 {
    let mut mac = match <Hmac<Sha1> as Mac>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = (u32::from(digest[offset]) & 0x7f) << 24
        | u32::from(digest[offset + 1]) << 16
        | u32::from(digest[offset + 2]) << 8
        | u32::from(digest[offset + 3]);
    binary % 1_000_000
}

/// Checks a 6-digit `code` against the steps around `now`; the step it
/// matched must be later than `last_step` (the last accepted one). Returns
/// the matched step, to store as the new `last_step`. Every candidate step
/// is compared, in constant time.
pub fn check(
    secret: &[u8],
    code: &str,
    now: OffsetDateTime,
    last_step: Option<u64>,
) -> Result<u64, TotpRefusal> {
    let current = step_of(now);
    let mut matched = None;
    for step in current.saturating_sub(SKEW)..=current + SKEW {
        let expected = format!("{:06}", code_at(secret, step));
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            matched = Some(step);
        }
    }
    let step = matched.ok_or(TotpRefusal::Mismatch)?;
    match last_step {
        Some(last) if step <= last => Err(TotpRefusal::Replayed),
        Some(_) | None => Ok(step),
    }
}

/// RFC 4648 base32 without padding: how authenticator apps take a secret.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The `otpauth://` URI an authenticator app enrols from: issuer (the
/// product name) and label (the account's address), SHA-1, 6 digits, 30 s.
pub fn otpauth_uri(issuer: &str, label: &str, secret: &[u8]) -> String {
    let issuer = uri_escape(issuer);
    format!(
        "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        uri_escape(label),
        base32(secret),
    )
}

fn uri_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    /// RFC 6238 appendix B, SHA-1 column (8 digits there; the last 6 here).
    #[test]
    fn the_rfc_6238_appendix_b_sha1_vectors_hold() {
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (unix, eight) in vectors {
            let now = OffsetDateTime::from_unix_timestamp(unix).unwrap();
            assert_eq!(
                format!("{:06}", code_at(RFC_SECRET, step_of(now))),
                eight[2..],
                "at {unix}"
            );
        }
    }

    /// RFC 4226 appendix D, the first counters.
    #[test]
    fn the_rfc_4226_hotp_vectors_hold() {
        let expected = [755_224, 287_082, 359_152, 969_429, 338_314];
        for (counter, code) in expected.into_iter().enumerate() {
            assert_eq!(code_at(RFC_SECRET, counter as u64), code);
        }
    }

    fn code(step: u64) -> String {
        format!("{:06}", code_at(RFC_SECRET, step))
    }

    #[test]
    fn one_step_of_skew_either_way_is_accepted() {
        let now = datetime!(2026-03-01 9:00:10 UTC);
        let step = step_of(now);
        assert_eq!(check(RFC_SECRET, &code(step - 1), now, None), Ok(step - 1));
        assert_eq!(check(RFC_SECRET, &code(step + 1), now, None), Ok(step + 1));
    }

    #[test]
    fn a_code_from_the_previous_previous_step_is_refused() {
        let now = datetime!(2026-03-01 9:00:10 UTC);
        let step = step_of(now);
        assert_eq!(
            check(RFC_SECRET, &code(step - 2), now, None),
            Err(TotpRefusal::Mismatch)
        );
        assert_eq!(
            check(RFC_SECRET, &code(step + 2), now, None),
            Err(TotpRefusal::Mismatch)
        );
    }

    #[test]
    fn a_step_once_accepted_is_never_accepted_again_nor_an_older_one() {
        let now = datetime!(2026-03-01 9:00:10 UTC);
        let step = step_of(now);
        assert_eq!(
            check(RFC_SECRET, &code(step), now, Some(step)),
            Err(TotpRefusal::Replayed)
        );
        assert_eq!(
            check(RFC_SECRET, &code(step - 1), now, Some(step)),
            Err(TotpRefusal::Replayed)
        );
        assert_eq!(
            check(RFC_SECRET, &code(step + 1), now, Some(step)),
            Ok(step + 1)
        );
    }

    #[test]
    fn base32_matches_rfc_4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn the_otpauth_uri_names_issuer_label_and_parameters() {
        let uri = otpauth_uri("Client portal", "ann@example.com", RFC_SECRET);
        assert_eq!(
            uri,
            "otpauth://totp/Client%20portal:ann@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Client%20portal&algorithm=SHA1&digits=6&period=30"
        );
    }
}
