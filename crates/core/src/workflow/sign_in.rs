//! Sign-in by username or email + password, with a store-backed throttle.
//!
//! - A login containing `@` is an email address, anything else a username.
//! - An unknown login is verified against the dummy hash (by the service),
//!   so it costs the same as a wrong password; so does an account without
//!   a password yet. Both are `invalid_credentials`.
//! - `access_disabled` and `account_archived` are told **only after a
//!   correct password**; with a wrong one they are `invalid_credentials`
//!   like any other. (Archived: telling the holder of the right password
//!   that the account is archived gives an attacker nothing and saves the
//!   client a useless reset request.)
//! - Throttle: failed attempts are counted per (account, IP), per account
//!   from every IP (a far higher ceiling) and per IP. Over any limit the
//!   attempt is refused with `rate_limited` **before hashing**. Because
//!   the tight limit is per (account, IP), an attacker elsewhere cannot
//!   lock the client out from their own IP. Unknown logins are counted
//!   under keys derived from the login text in the same way, so the
//!   throttle behaves the same whether or not the account exists.
//!
//! ```
//! use portal_access_core::workflow::sign_in::{check_throttle, parse_login, Login, SignInRates, ThrottleCounts, SignInError};
//! use portal_access_core::config::PortalConfig;
//!
//! assert!(matches!(parse_login("Ann@Example.com"), Login::Email(e) if e == "ann@example.com"));
//! assert!(matches!(parse_login("Ann.C"), Login::Username(u) if u == "ann.c"));
//!
//! let rates = SignInRates::from_config(&PortalConfig::new("https://portal.example.com"));
//! let counts = ThrottleCounts { account_ip: 5, account: 5, ip: 5 };
//! assert_eq!(check_throttle(counts, rates), Err(SignInError::RateLimited));
//! ```

use std::net::IpAddr;

use time::{Duration, OffsetDateTime};

use super::changes::{account_event, client_event};
pub use super::second_factor::SignInDecided;
use super::second_factor::{gate, issue_challenge, Gate};
use super::trust::device_remembers;
use super::{rate_keys, Decision, ErrorCode, Refusal};
use crate::config::{PortalConfig, Rate};
use crate::hashing::Verification;
use crate::{
    Access, Account, AccountChange, Actor, AuditEvent, AuditKind, Changes, DeviceRecord,
    EmailAddress, EventId, MfaPolicy, PasswordHash, RawToken, RequestContext, TenantId, TokenHash,
    Username,
};

/// Why a sign-in was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    /// Wrong login or password (`invalid_credentials`).
    #[error("the login or password is wrong")]
    InvalidCredentials,
    /// Correct password, but access is turned off (`access_disabled`).
    #[error("portal access is turned off for this account; contact your firm")]
    AccessDisabled,
    /// Correct password, but the account is archived (`account_archived`).
    #[error("this portal account is archived; contact your firm")]
    AccountArchived,
    /// Too many failed attempts (`rate_limited`).
    #[error("too many attempts; try again later")]
    RateLimited,
}

impl SignInError {
    /// A label for metrics.
    pub fn as_str(self) -> &'static str {
        self.code().as_str()
    }
}

impl Refusal for SignInError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::AccessDisabled => ErrorCode::AccessDisabled,
            Self::AccountArchived => ErrorCode::AccountArchived,
            Self::RateLimited => ErrorCode::RateLimited,
        }
    }
}

/// A login as typed, parsed into what to look it up by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// Contains `@`: the normalized email address.
    Email(String),
    /// The username key (case-insensitive).
    Username(String),
    /// Neither a valid address nor a valid username: matches no account.
    Unusable(String),
}

impl Login {
    /// The text the login is throttled under when it matches no account.
    pub fn throttle_text(&self) -> &str {
        match self {
            Self::Email(s) | Self::Username(s) | Self::Unusable(s) => s,
        }
    }
}

/// Parses a login: with `@` an email address, otherwise a username.
pub fn parse_login(input: &str) -> Login {
    if input.contains('@') {
        match EmailAddress::parse(input) {
            Ok(email) => Login::Email(email.normalized().to_owned()),
            Err(_) => Login::Unusable(input.trim().to_lowercase()),
        }
    } else {
        match Username::parse(input) {
            Ok(username) => Login::Username(username.key().to_owned()),
            Err(_) => Login::Unusable(input.trim().to_lowercase()),
        }
    }
}

/// The three sign-in throttle counters of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleKeys {
    /// Failed attempts on this account from this IP.
    pub account_ip: String,
    /// Failed attempts on this account from everywhere.
    pub account: String,
    /// Failed attempts from this IP on any account.
    pub ip: String,
}

/// The throttle keys of an attempt: the account's keys
/// ([`rate_keys`](super::rate_keys)) when the login matched one, else keys
/// derived from the login text (hashed: the store never holds it).
pub fn throttle_keys(
    tenant: &TenantId,
    login: &Login,
    account: Option<&Account>,
    ip: Option<IpAddr>,
) -> ThrottleKeys {
    match account {
        Some(account) => ThrottleKeys {
            account_ip: rate_keys::sign_in_account_ip(account.id, ip),
            account: rate_keys::sign_in_account(account.id),
            ip: rate_keys::sign_in_ip(ip),
        },
        None => {
            use sha2::{Digest, Sha256};
            let digest =
                Sha256::digest(format!("{tenant}\u{0}{}", login.throttle_text()).as_bytes());
            let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
            let ip_text = ip
                .map(|ip| ip.to_string().replace(':', "."))
                .unwrap_or_else(|| "none".into());
            ThrottleKeys {
                account_ip: format!("signin:login:{hex}:ip:{ip_text}"),
                account: format!("signin:login:{hex}:all"),
                ip: rate_keys::sign_in_ip(ip),
            }
        }
    }
}

/// The configured sign-in rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInRates {
    /// Per (account, IP).
    pub account_ip: Rate,
    /// Per account, every IP.
    pub account: Rate,
    /// Per IP.
    pub ip: Rate,
}

impl SignInRates {
    /// From the configuration.
    pub fn from_config(config: &PortalConfig) -> Self {
        Self {
            account_ip: config.sign_in_per_account_ip,
            account: config.sign_in_per_account,
            ip: config.sign_in_per_ip,
        }
    }
}

/// The failed-attempt counts of the current windows, as read from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleCounts {
    /// Per (account, IP).
    pub account_ip: u32,
    /// Per account.
    pub account: u32,
    /// Per IP.
    pub ip: u32,
}

/// Refuses with `rate_limited` when any counter reached its limit. Called
/// before any hashing.
pub fn check_throttle(counts: ThrottleCounts, rates: SignInRates) -> Result<(), SignInError> {
    if counts.account_ip >= rates.account_ip.limit
        || counts.account >= rates.account.limit
        || counts.ip >= rates.ip.limit
    {
        Err(SignInError::RateLimited)
    } else {
        Ok(())
    }
}

/// A refused sign-in: the refusal, whether it counts as a failed attempt
/// (the service then adds one to each throttle counter), and the audit
/// event to record (for known accounts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInFailure {
    /// The refusal.
    pub error: SignInError,
    /// Count it against the throttle (wrong or unknown credentials).
    pub counts_as_failure: bool,
    /// `SignInFailed` on the account, when there is one.
    pub audit: Option<Box<AuditEvent>>,
}

/// What [`decide_sign_in`] needs, loaded and computed by the service.
#[derive(Debug)]
pub struct SignInInput<'a> {
    /// The account the login matched.
    pub account: Option<&'a Account>,
    /// The password's verification (against the dummy hash when there is
    /// no account or no password).
    pub verification: Verification,
    /// A new hash of the same password, when the stored one used old parameters.
    pub rehashed: Option<PasswordHash>,
    /// The hash of the new session's fresh token.
    pub session_token: TokenHash,
    /// Absolute session lifetime.
    pub session_absolute_ttl: Duration,
    /// The request.
    pub ctx: &'a RequestContext,
    /// The audit event's id.
    pub event_id: EventId,
    /// The tenant's second-factor policy.
    pub policy: &'a MfaPolicy,
    /// A fresh challenge token, used when a second factor is needed.
    pub challenge_token: &'a RawToken,
    /// How long a challenge lives.
    pub challenge_ttl: Duration,
    /// The record of the request's device cookie, if it carried one: a
    /// device remembered for this account skips the second factor.
    pub device: Option<&'a DeviceRecord>,
}

/// Decides a sign-in after the password was verified. On success: a new
/// session (a new id at every sign-in), `last_sign_in_at`, the re-hash if
/// any, and `SignedIn` recorded. When the account needs a second factor
/// ([`gate`]): no session, a challenge token instead, and
/// `SecondFactorChallenged` recorded.
pub fn decide_sign_in(
    input: SignInInput<'_>,
    now: OffsetDateTime,
) -> Result<Decision<SignInDecided>, SignInFailure> {
    let Some(account) = input.account else {
        return Err(SignInFailure {
            error: SignInError::InvalidCredentials,
            counts_as_failure: true,
            audit: None,
        });
    };
    let failed = |error: SignInError, counts_as_failure: bool, reason: &str| SignInFailure {
        error,
        counts_as_failure,
        audit: Some(Box::new(
            account_event(
                account,
                &Actor::System,
                AuditKind::SignInFailed,
                input.ctx,
                input.event_id,
                now,
            )
            .with_detail(serde_json::json!({ "reason": reason })),
        )),
    };
    if account.password_hash.is_none() {
        return Err(failed(SignInError::InvalidCredentials, true, "no_password"));
    }
    if !input.verification.matches {
        return Err(failed(
            SignInError::InvalidCredentials,
            true,
            "wrong_password",
        ));
    }
    if account.archived {
        return Err(failed(SignInError::AccountArchived, false, "archived"));
    }
    if account.access == Access::Disabled {
        return Err(failed(
            SignInError::AccessDisabled,
            false,
            "access_disabled",
        ));
    }
    let remembered = device_remembers(input.device, account, now);
    let gated = match gate(account, input.policy, now) {
        Gate::Challenge {
            enrolment_required: false,
            ..
        } if remembered => Gate::Session,
        other => other,
    };
    if let Gate::Challenge {
        enrolment_required,
        methods,
    } = gated
    {
        let mut changes = Changes {
            new_tokens: vec![issue_challenge(
                account,
                input.challenge_token,
                now,
                input.challenge_ttl,
            )],
            audit: vec![client_event(
                account,
                AuditKind::SecondFactorChallenged,
                input.ctx,
                input.event_id,
                now,
            )
            .with_detail(serde_json::json!({ "enrolment_required": enrolment_required }))],
            ..Changes::default()
        };
        if let Some(hash) = input.rehashed {
            let mut updated = account.clone();
            updated.password_hash = Some(hash);
            updated.updated_at = now;
            changes.account = Some(AccountChange::Update(updated));
        }
        return Ok(Decision::new(
            changes,
            SignInDecided::Challenged {
                enrolment_required,
                methods,
            },
        ));
    }
    let mut updated = account.clone();
    updated.last_sign_in_at = Some(now);
    let rehashed = input.rehashed.is_some();
    if let Some(hash) = input.rehashed {
        updated.password_hash = Some(hash);
        updated.updated_at = now;
    }
    let session = super::session::issue(
        account,
        input.session_token,
        input.ctx,
        now,
        input.session_absolute_ttl,
    );
    let changes = Changes {
        account: Some(AccountChange::Update(updated.clone())),
        new_session: Some(session),
        audit: vec![
            client_event(account, AuditKind::SignedIn, input.ctx, input.event_id, now).with_detail(
                serde_json::json!({
                    "rehashed": rehashed,
                    "remembered_device": remembered,
                }),
            ),
        ],
        ..Changes::default()
    };
    updated.version += 1;
    Ok(Decision::new(changes, SignInDecided::SignedIn(updated)))
}

#[cfg(test)]
#[path = "sign_in_tests.rs"]
mod tests;
