//! An authenticator app in the test: the code of a base32 secret read
//! from the enrolment page, by the core's own RFC 6238 functions.

use portal_access_core::crypto::totp;
use time::OffsetDateTime;

/// The current TOTP step (30 s).
pub fn step_now() -> u64 {
    totp::step_of(OffsetDateTime::now_utc())
}

/// The 6-digit code of `secret` (base32, as the page shows it) at `step`.
pub fn code(secret: &str, step: u64) -> String {
    format!("{:06}", totp::code_at(&base32_decode(secret), step))
}

/// Waits for the next step: a step once accepted is never accepted again.
pub async fn next_step(after: u64) -> u64 {
    while step_now() <= after {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    step_now()
}

fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut value, mut out) = (0u32, 0u32, Vec::new());
    for c in text.trim().bytes().filter(|c| *c != b'=' && *c != b' ') {
        let index = ALPHABET.iter().position(|a| *a == c).unwrap_or(0) as u32;
        value = (value << 5) | index;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((value >> bits) as u8);
        }
    }
    out
}
