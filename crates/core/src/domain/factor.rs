//! Second factors: the tenant's [`MfaPolicy`], an account's [`MfaState`]
//! (its factors, stored as one JSON document on the account row so every
//! change is a versioned account update), and the codes a client types.
//!
//! `Debug` never shows a secret or a hash.
//!
//! ```
//! use portal_access_core::domain::factor::{MfaMode, MfaPolicy, RecoveryCode, SixDigitCode};
//! use time::macros::{date, datetime};
//!
//! let policy = MfaPolicy { mode: MfaMode::Required, required_from: Some(date!(2026-04-01)),
//!     ..MfaPolicy::default() };
//! assert!(!policy.requires_factor_at(datetime!(2026-03-31 23:59 UTC)));
//! assert!(policy.requires_factor_at(datetime!(2026-04-01 0:00 UTC)));
//! assert_eq!(SixDigitCode::parse(" 123 456 ").unwrap().as_str(), "123456");
//! assert!(SixDigitCode::parse("12345").is_err());
//! assert_eq!(RecoveryCode::parse("abcd-efgh-jk").unwrap().as_str(), "ABCDEFGHJK");
//! assert!(RecoveryCode::parse("ABCDEFGHI1").is_err(), "I and 1 are not in the alphabet");
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::crypto::{CodeHash, SealedSecret};
use crate::StaffId;

/// Whether a tenant asks its clients for a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MfaMode {
    /// Never asked; factors cannot be enrolled.
    #[default]
    Off,
    /// Asked of clients who enrolled one.
    Optional,
    /// Asked of everyone: a client without one enrols before any session.
    Required,
}

impl MfaMode {
    /// Stable text form (`off`, `optional`, `required`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Optional => "optional",
            Self::Required => "required",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s text.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Off, Self::Optional, Self::Required]
            .into_iter()
            .find(|m| m.as_str() == text)
    }
}

/// A kind of factor a client can enrol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FactorKind {
    /// An authenticator app (TOTP).
    Totp,
    /// A code sent to the account's address.
    EmailCode,
}

impl FactorKind {
    /// Stable text form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::EmailCode => "email_code",
        }
    }
}

/// How a client may pass the second-factor step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorMethod {
    /// A code of the authenticator app.
    Totp,
    /// One of the recovery codes.
    RecoveryCode,
    /// A code sent by email.
    EmailCode,
}

impl SecondFactorMethod {
    /// Stable text form (`totp`, `recovery_code`, `email_code`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::RecoveryCode => "recovery_code",
            Self::EmailCode => "email_code",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s text.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Totp, Self::RecoveryCode, Self::EmailCode]
            .into_iter()
            .find(|m| m.as_str() == text)
    }
}

/// Which factors a tenant allows (default: both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowedFactors {
    /// Authenticator apps.
    pub totp: bool,
    /// Emailed codes.
    pub email_code: bool,
}

impl Default for AllowedFactors {
    fn default() -> Self {
        Self {
            totp: true,
            email_code: true,
        }
    }
}

impl AllowedFactors {
    /// Whether `kind` is allowed.
    pub const fn allows(self, kind: FactorKind) -> bool {
        match kind {
            FactorKind::Totp => self.totp,
            FactorKind::EmailCode => self.email_code,
        }
    }
}

/// A tenant's second-factor policy
/// ([`PortalConfig::mfa_policy`](crate::PortalConfig::mfa_policy)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaPolicy {
    /// Off, optional or required.
    pub mode: MfaMode,
    /// Under `required`: from this day on (UTC) only; before it the policy
    /// acts as `optional`, so a firm can announce it.
    pub required_from: Option<Date>,
    /// The factors clients may enrol.
    pub factors: AllowedFactors,
    /// How long a remembered device lasts, in days (0: never). Used by
    /// remembered devices (issue 13).
    pub remember_device_days: u32,
}

impl Default for MfaPolicy {
    fn default() -> Self {
        Self {
            mode: MfaMode::Off,
            required_from: None,
            factors: AllowedFactors::default(),
            remember_device_days: 30,
        }
    }
}

impl MfaPolicy {
    /// Whether `required` is in effect at `now` (past `required_from`).
    pub fn requires_factor_at(&self, now: OffsetDateTime) -> bool {
        self.mode == MfaMode::Required && self.required_from.is_none_or(|from| now.date() >= from)
    }

    /// Whether clients may enrol `kind` at all.
    pub fn allows(&self, kind: FactorKind) -> bool {
        self.mode != MfaMode::Off && self.factors.allows(kind)
    }

    /// What staff see of it: `off`, `optional`, `required`, or
    /// `required_from` (announced, not yet in effect).
    pub fn state_at(&self, now: OffsetDateTime) -> &'static str {
        match self.mode {
            MfaMode::Required if !self.requires_factor_at(now) => "required_from",
            mode => mode.as_str(),
        }
    }
}

/// A confirmed authenticator app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpFactor {
    /// The sealed secret ([`SecretKey::seal`](crate::crypto::SecretKey::seal)).
    pub secret: SealedSecret,
    /// Confirmed at.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last accepted at.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_used_at: Option<OffsetDateTime>,
    /// The last accepted step: it and every older one are refused (replay).
    #[serde(default)]
    pub last_step: Option<u64>,
}

/// An authenticator app being enrolled: shown, not yet confirmed by a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingTotp {
    /// The sealed secret.
    pub secret: SealedSecret,
    /// Started at.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Email codes as a factor (the inbox is the factor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailFactor {
    /// Enrolled at.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last accepted at.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_used_at: Option<OffsetDateTime>,
}

/// One recovery code, by its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRecoveryCode {
    /// Keyed hash of the code.
    pub hash: CodeHash,
    /// Used at (single use).
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub used_at: Option<OffsetDateTime>,
}

/// The recovery codes of an account (a regeneration replaces them all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodes {
    /// The codes.
    pub codes: Vec<StoredRecoveryCode>,
    /// Generated at.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl RecoveryCodes {
    /// How many are still unused.
    pub fn left(&self) -> usize {
        self.codes.iter().filter(|c| c.used_at.is_none()).count()
    }
}

/// The emailed code waiting to be typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingEmailCode {
    /// Keyed hash of the code.
    pub hash: CodeHash,
    /// It stops working at.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Wrong tries so far (at most [`EMAIL_CODE_TRIES`]).
    pub tries: u32,
}

/// Wrong tries an emailed code survives.
pub const EMAIL_CODE_TRIES: u32 = 5;

/// An account's second factors. Stored as one JSON document on the account
/// row; every change is a versioned account update, so of two concurrent
/// uses of one recovery code or one TOTP step exactly one commits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaState {
    /// The confirmed authenticator app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<TotpFactor>,
    /// An authenticator app shown but not yet confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_totp: Option<PendingTotp>,
    /// Email codes as a factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailFactor>,
    /// Recovery codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<RecoveryCodes>,
    /// The emailed code waiting to be typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_code: Option<PendingEmailCode>,
    /// The last staff MFA reset (kept when factors are enrolled again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reset: Option<MfaResetMark>,
}

/// Who last reset an account's second factor, and when (staff see it as
/// "second factor reset by X at T").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaResetMark {
    /// The staff member.
    pub by: StaffId,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl MfaState {
    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// Whether a confirmed factor (TOTP or email codes) or recovery codes
    /// are stored, whatever the policy: what a staff MFA reset removes.
    pub fn has_factor(&self) -> bool {
        self.totp.is_some() || self.email.is_some() || self.recovery.is_some()
    }

    /// The confirmed factors the policy allows (what sign-in asks for).
    pub fn enrolled(&self, policy: &MfaPolicy) -> Vec<FactorKind> {
        let mut kinds = Vec::new();
        if self.totp.is_some() && policy.allows(FactorKind::Totp) {
            kinds.push(FactorKind::Totp);
        }
        if self.email.is_some() && policy.allows(FactorKind::EmailCode) {
            kinds.push(FactorKind::EmailCode);
        }
        kinds
    }

    /// Whether a factor stronger than the inbox (TOTP) is enrolled: then an
    /// emailed link never signs in on its own.
    pub fn has_stronger_than_inbox(&self) -> bool {
        self.totp.is_some()
    }
}

/// One enrolled factor as the client and staff see it (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FactorSummary {
    /// `totp` or `email_code`.
    pub kind: FactorKind,
    /// Enrolled at.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last used at.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

impl MfaState {
    /// The enrolled factors, with their dates.
    pub fn summary(&self) -> Vec<FactorSummary> {
        (self.totp.iter().map(|f| FactorSummary {
            kind: FactorKind::Totp,
            created_at: f.created_at,
            last_used_at: f.last_used_at,
        }))
        .chain(self.email.iter().map(|f| FactorSummary {
            kind: FactorKind::EmailCode,
            created_at: f.created_at,
            last_used_at: f.last_used_at,
        }))
        .collect()
    }
}

/// What staff see of an account's second factors: the tenant's policy
/// state, the enrolled kinds with their dates (never a secret), the
/// remembered devices and the last staff reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaStatus {
    /// `off`, `optional`, `required`, or `required_from` (announced).
    pub policy: &'static str,
    /// The enrolled factors.
    pub factors: Vec<FactorSummary>,
    /// How many remembered devices are in force.
    pub remembered_devices: usize,
    /// The last staff MFA reset: `{by, at}`.
    pub last_reset: Option<MfaResetMark>,
}

impl MfaStatus {
    /// The status of `state` under `policy` at `now`, with
    /// `remembered_devices` devices in force.
    pub fn of(
        state: &MfaState,
        policy: &MfaPolicy,
        now: OffsetDateTime,
        remembered_devices: usize,
    ) -> Self {
        Self {
            policy: policy.state_at(now),
            factors: state.summary(),
            remembered_devices,
            last_reset: state.last_reset.clone(),
        }
    }
}

/// A code of 6 digits as typed (spaces and dashes ignored): a TOTP code or
/// an emailed code.
#[derive(Clone, PartialEq, Eq)]
pub struct SixDigitCode(String);

/// The text is not a code of the expected shape (`second_factor_invalid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a code of the expected length and characters")]
pub struct MalformedCode;

fn squeeze(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

impl SixDigitCode {
    /// Parses 6 ASCII digits, ignoring spaces and dashes.
    pub fn parse(text: &str) -> Result<Self, MalformedCode> {
        let code = squeeze(text);
        if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(code))
        } else {
            Err(MalformedCode)
        }
    }

    /// A fresh code from 8 random bytes (uniform to within 2^-44).
    pub fn from_random(bytes: [u8; 8]) -> Self {
        Self(format!("{:06}", u64::from_le_bytes(bytes) % 1_000_000))
    }

    /// The 6 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SixDigitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SixDigitCode(<redacted>)")
    }
}

/// The alphabet of recovery codes: no 0/O, 1/I/L look-alikes.
pub const RECOVERY_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Characters of a recovery code.
pub const RECOVERY_CODE_LEN: usize = 10;
/// Recovery codes generated at once.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// A recovery code as typed: case, spaces and dashes do not matter.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl RecoveryCode {
    /// Parses 10 characters of [`RECOVERY_ALPHABET`] (any case, spaces and
    /// dashes ignored).
    pub fn parse(text: &str) -> Result<Self, MalformedCode> {
        let code = squeeze(text).to_ascii_uppercase();
        if code.len() == RECOVERY_CODE_LEN && code.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)) {
            Ok(Self(code))
        } else {
            Err(MalformedCode)
        }
    }

    /// A fresh code from 10 random bytes (32 letters: 5 bits each, unbiased).
    pub fn from_random(bytes: [u8; RECOVERY_CODE_LEN]) -> Self {
        Self(
            bytes
                .iter()
                .map(|b| char::from(RECOVERY_ALPHABET[usize::from(b % 32)]))
                .collect(),
        )
    }

    /// The 10 characters, upper case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn codes_of_the_wrong_length_or_alphabet_are_refused() {
        assert!(SixDigitCode::parse("1234567").is_err());
        assert!(SixDigitCode::parse("12345a").is_err());
        assert!(SixDigitCode::parse("").is_err());
        assert!(RecoveryCode::parse("ABCDEFGHJ").is_err());
        assert!(RecoveryCode::parse("ABCDEFGHJKM").is_err());
        assert!(
            RecoveryCode::parse("ABCDEFGH0K").is_err(),
            "0 is not in the alphabet"
        );
        assert!(
            RecoveryCode::parse("abcdefgh-OK").is_err(),
            "O is not either"
        );
    }

    #[test]
    fn a_recovery_code_is_accepted_whatever_the_case_spaces_and_dashes() {
        let code = RecoveryCode::from_random([0, 1, 2, 3, 4, 5, 6, 7, 8, 31]);
        assert_eq!(code.as_str(), "23456789AZ");
        assert_eq!(RecoveryCode::parse("23456-789az").unwrap(), code);
        assert_eq!(RecoveryCode::parse(" 2345 6789 AZ ").unwrap(), code);
    }

    #[test]
    fn generated_codes_have_the_documented_shape() {
        assert_eq!(SixDigitCode::from_random([255; 8]).as_str().len(), 6);
        let code = RecoveryCode::from_random([200; 10]);
        assert!(RecoveryCode::parse(code.as_str()).is_ok());
    }

    #[test]
    fn debug_never_shows_a_code() {
        let code = SixDigitCode::parse("123456").unwrap();
        assert!(!format!("{code:?}").contains("123456"));
        let recovery = RecoveryCode::parse("ABCDEFGHJK").unwrap();
        assert!(!format!("{recovery:?}").contains("ABCDEFGHJK"));
    }

    #[test]
    fn required_from_a_date_acts_as_optional_before_it() {
        let policy = MfaPolicy {
            mode: MfaMode::Required,
            required_from: Some(date!(2026 - 04 - 01)),
            ..MfaPolicy::default()
        };
        assert_eq!(
            policy.state_at(datetime!(2026-03-01 0:00 UTC)),
            "required_from"
        );
        assert_eq!(policy.state_at(datetime!(2026-04-02 0:00 UTC)), "required");
        assert!(policy.allows(FactorKind::Totp));
        assert!(
            !MfaPolicy::default().allows(FactorKind::Totp),
            "off allows nothing"
        );
    }

    #[test]
    fn an_empty_state_is_stored_as_an_empty_document_and_read_back() {
        let json = serde_json::to_value(MfaState::default()).unwrap();
        assert_eq!(json, serde_json::json!({}));
        assert_eq!(
            serde_json::from_value::<MfaState>(json).unwrap(),
            MfaState::default()
        );
    }
}
