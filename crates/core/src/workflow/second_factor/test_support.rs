//! Fixtures of the second-factor workflow tests.

use time::{Duration, OffsetDateTime};

pub use super::super::session::test_support::*;
use super::{recovery_code_hash, totp_associated_data, FactorNotice};
use crate::crypto::{totp, SecretKey};
use crate::domain::factor::{
    EmailFactor, MfaMode, MfaPolicy, RecoveryCode, RecoveryCodes, StoredRecoveryCode, TotpFactor,
};
use crate::{Account, SessionRecord, TokenKind, TokenRecord};

/// The TOTP secret of the fixtures (RFC 6238's).
pub const SECRET: &[u8; 20] = b"12345678901234567890";

pub fn key() -> SecretKey {
    SecretKey::from_bytes([42; 32])
}

pub fn policy(mode: MfaMode) -> MfaPolicy {
    MfaPolicy {
        mode,
        ..MfaPolicy::default()
    }
}

/// The TOTP code of the step `offset` steps from `now()`.
pub fn totp_code(offset: i64) -> String {
    let step = totp::step_of(now()).checked_add_signed(offset).unwrap();
    format!("{:06}", totp::code_at(SECRET, step))
}

/// The fixtures' recovery codes: "2222222222", "3333333333", …
pub fn recovery_codes() -> Vec<RecoveryCode> {
    (0..10u8)
        .map(|n| RecoveryCode::from_random([n; 10]))
        .collect()
}

/// An accepted account with a confirmed TOTP factor and recovery codes.
pub fn totp_account() -> Account {
    let mut account = accepted_account();
    account.mfa.totp = Some(TotpFactor {
        secret: key().seal([1; 24], &totp_associated_data(&account), SECRET),
        created_at: now() - Duration::days(3),
        last_used_at: None,
        last_step: None,
    });
    let codes = recovery_codes()
        .iter()
        .map(|code| StoredRecoveryCode {
            hash: recovery_code_hash(&key(), &account, code),
            used_at: None,
        })
        .collect();
    account.mfa.recovery = Some(RecoveryCodes {
        codes,
        created_at: now() - Duration::days(3),
    });
    account
}

/// An accepted account with email codes as its factor.
pub fn email_account() -> Account {
    let mut account = accepted_account();
    account.mfa.email = Some(EmailFactor {
        created_at: now() - Duration::days(3),
        last_used_at: None,
    });
    account
}

/// A challenge of `account` issued a minute ago.
pub fn challenge(account: &Account) -> TokenRecord {
    super::issue_challenge(
        account,
        &token(50),
        now() - Duration::minutes(1),
        Duration::minutes(5),
    )
}

pub fn session(account: &Account) -> SessionRecord {
    super::super::session::issue(account, token(60).hash(), &ctx(), now(), Duration::days(30))
}

pub fn notice() -> FactorNotice {
    FactorNotice {
        not_me: token(70),
        not_me_ttl: Duration::days(7),
    }
}

pub fn later(minutes: i64) -> OffsetDateTime {
    now() + Duration::minutes(minutes)
}

pub fn is_challenge(record: &TokenRecord) -> bool {
    record.kind == TokenKind::SignInChallenge
}
