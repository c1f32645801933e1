//! Second factors: who must pass one ([`gate`], [`link_gate`]), the sign-in
//! challenge, and the factor workflows (one file each): completing a
//! challenge ([`check`]), emailed codes ([`email_code`]), enrolling and
//! removing factors and recovery codes ([`enrol`]).
//!
//! - A correct password on an account that needs a factor gives no session
//!   but a challenge: a [`TokenKind::SignInChallenge`] token (5 minutes,
//!   bound to the account, raw token in its own cookie). Completing it
//!   redeems it (single use) and issues the session in one commit.
//! - **No single-channel takeover**: an emailed link (reset, invitation)
//!   signs in only when no factor stronger than the inbox (TOTP) is
//!   enrolled; otherwise the password change stands and the outcome is a
//!   challenge. With the emailed code as the only factor, the inbox is the
//!   factor.
//!
//! ```
//! use portal_access_core::workflow::second_factor::{gate, Gate};
//! use portal_access_core::{Account, AccountId, EmailAddress, MfaMode, MfaPolicy, TenantId};
//!
//! let now = time::macros::datetime!(2026-03-01 9:00 UTC);
//! let account = Account::new(AccountId::from_random([1; 16]), TenantId::new("firm").unwrap(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! let optional = MfaPolicy { mode: MfaMode::Optional, ..MfaPolicy::default() };
//! assert_eq!(gate(&account, &optional, now), Gate::Session);
//! let required = MfaPolicy { mode: MfaMode::Required, ..MfaPolicy::default() };
//! assert!(matches!(gate(&account, &required, now), Gate::Challenge { enrolment_required: true, .. }));
//! ```

pub mod check;
pub mod email_code;
pub mod enrol;

use time::{Duration, OffsetDateTime};

use super::changes::client_event;
use super::{Decision, ErrorCode, MailIntent, Refusal};
use crate::crypto::{CodeHash, SecretKey};
use crate::domain::factor::{RecoveryCode, SixDigitCode};
use crate::{
    Account, AccountChange, AuditEvent, AuditKind, EventId, FactorKind, MessageKind, MfaPolicy,
    RawToken, RequestContext, SecondFactorMethod, TokenKind, TokenRecord, TokenState,
};

/// Why a second-factor operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecondFactorError {
    /// The code is wrong, malformed, used or expired, or the method is not
    /// one this account can use (`second_factor_invalid`).
    #[error("that code is not valid; check it and try again")]
    InvalidCode,
    /// No valid session or sign-in challenge: expired (5 minutes), completed,
    /// dead after too many wrong codes, or unknown (`unauthenticated`).
    #[error("your sign-in expired; sign in again")]
    NoChallenge,
    /// The current password is wrong (`invalid_credentials`).
    #[error("the current password is wrong")]
    InvalidCredentials,
    /// The last factor cannot be removed while the policy requires one, or
    /// this needs a signed-in session with a factor (`second_factor_required`).
    #[error("a second factor is required for this portal; add another before removing this one")]
    FactorRequired,
    /// The portal does not allow this factor (`validation_failed`).
    #[error("this kind of second factor is not available on this portal")]
    NotAllowed,
    /// Nothing to confirm: no authenticator enrolment is pending (confirmed
    /// already, or never started) (`validation_failed`).
    #[error("there is no authenticator enrolment to confirm; start again")]
    NothingToConfirm,
    /// A factor of this kind is already enrolled (`validation_failed`).
    #[error("this second factor is already set up")]
    AlreadyEnrolled,
    /// No such factor is enrolled (`validation_failed`).
    #[error("this second factor is not set up")]
    NotEnrolled,
    /// Too many codes asked for or tried (`rate_limited`).
    #[error("too many attempts; try again later")]
    RateLimited,
    /// The server key cannot open the TOTP secret (logged; `second_factor_invalid`).
    #[error("that code is not valid; check it and try again")]
    SecretUnreadable,
}

impl Refusal for SecondFactorError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidCode | Self::SecretUnreadable => ErrorCode::SecondFactorInvalid,
            Self::NoChallenge => ErrorCode::Unauthenticated,
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::FactorRequired => ErrorCode::SecondFactorRequired,
            Self::NotAllowed
            | Self::NothingToConfirm
            | Self::AlreadyEnrolled
            | Self::NotEnrolled => ErrorCode::ValidationFailed,
            Self::RateLimited => ErrorCode::RateLimited,
        }
    }

    fn message_key(&self) -> &'static str {
        match self {
            Self::NoChallenge => "sign_in_expired",
            Self::InvalidCredentials => crate::workflow::refusal::CURRENT_PASSWORD_WRONG,
            Self::NotAllowed => "factor_not_allowed",
            Self::NothingToConfirm => "nothing_to_confirm",
            Self::AlreadyEnrolled => "factor_already_set_up",
            Self::NotEnrolled => "factor_not_set_up",
            Self::InvalidCode
            | Self::SecretUnreadable
            | Self::FactorRequired
            | Self::RateLimited => self.code().as_str(),
        }
    }
}

/// What a correct password led to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "made once per sign-in and matched at once, never stored"
)]
pub enum SignInDecided {
    /// Signed in: the account as committed.
    SignedIn(Account),
    /// A second factor is needed: the challenge was issued, no session.
    Challenged {
        /// The client must enrol a factor first (`required`, none enrolled).
        enrolment_required: bool,
        /// How the challenge can be passed.
        methods: Vec<SecondFactorMethod>,
    },
}

impl SignInDecided {
    /// The account as committed, when signed in.
    pub fn signed_in(&self) -> Option<&Account> {
        match self {
            Self::SignedIn(account) => Some(account),
            Self::Challenged { .. } => None,
        }
    }
}

/// What a correct password (or an emailed link) leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// A session, at once.
    Session,
    /// A challenge first.
    Challenge {
        /// Under `required` with no factor: enrol before any session.
        enrolment_required: bool,
        /// How the challenge can be passed (when enrolment is required: the
        /// factor kinds that can be enrolled, as methods).
        methods: Vec<SecondFactorMethod>,
    },
}

/// The methods the enrolled factors offer.
fn methods_of(account: &Account, policy: &MfaPolicy) -> Vec<SecondFactorMethod> {
    let mut methods = Vec::new();
    for kind in account.mfa.enrolled(policy) {
        match kind {
            FactorKind::Totp => {
                methods.push(SecondFactorMethod::Totp);
                if account.mfa.recovery.as_ref().is_some_and(|r| r.left() > 0) {
                    methods.push(SecondFactorMethod::RecoveryCode);
                }
            }
            FactorKind::EmailCode => methods.push(SecondFactorMethod::EmailCode),
        }
    }
    methods
}

/// After a correct password: a session, or a challenge when the account
/// has an enrolled factor the policy allows, or when `required` is in
/// effect and it has none (then enrolment is required).
pub fn gate(account: &Account, policy: &MfaPolicy, now: OffsetDateTime) -> Gate {
    let methods = methods_of(account, policy);
    if !methods.is_empty() {
        return Gate::Challenge {
            enrolment_required: false,
            methods,
        };
    }
    if policy.requires_factor_at(now) {
        let enrollable = [
            (FactorKind::Totp, SecondFactorMethod::Totp),
            (FactorKind::EmailCode, SecondFactorMethod::EmailCode),
        ]
        .into_iter()
        .filter(|(kind, _)| policy.allows(*kind))
        .map(|(_, method)| method)
        .collect();
        return Gate::Challenge {
            enrolment_required: true,
            methods: enrollable,
        };
    }
    Gate::Session
}

/// After an emailed link (reset, invitation) set the password: the link
/// proved the inbox, so an account whose only factor is the emailed code
/// is signed in; one with a stronger factor (TOTP) is challenged, and under
/// `required` one without any factor must enrol.
pub fn link_gate(account: &Account, policy: &MfaPolicy, now: OffsetDateTime) -> Gate {
    match gate(account, policy, now) {
        Gate::Challenge {
            enrolment_required: false,
            ..
        } if !(account.mfa.has_stronger_than_inbox() && policy.allows(FactorKind::Totp)) => {
            Gate::Session
        }
        other => other,
    }
}

/// Applies [`link_gate`] to the decision of a reset or an accepted
/// invitation (which sets the password and issues a session): when a
/// second factor is needed, the password change stands but the session is
/// replaced by a challenge and `last_sign_in_at` is left as it was.
pub fn gate_link_sign_in(
    mut decision: Decision<Account>,
    loaded: &Account,
    policy: &MfaPolicy,
    challenge: &RawToken,
    ttl: Duration,
    now: OffsetDateTime,
) -> Decision<SignInDecided> {
    match link_gate(loaded, policy, now) {
        Gate::Session => decision.map(SignInDecided::SignedIn),
        Gate::Challenge {
            enrolment_required,
            methods,
        } => {
            decision.changes.new_session = None;
            if let Some(AccountChange::Update(updated)) = decision.changes.account.as_mut() {
                updated.last_sign_in_at = loaded.last_sign_in_at;
            }
            decision
                .changes
                .new_tokens
                .push(issue_challenge(loaded, challenge, now, ttl));
            decision.map(|_| SignInDecided::Challenged {
                enrolment_required,
                methods,
            })
        }
    }
}

/// A new sign-in challenge for `account`: its token record (5 minutes by
/// default), stored by hash; the raw token goes in the challenge cookie.
pub fn issue_challenge(
    account: &Account,
    token: &RawToken,
    now: OffsetDateTime,
    ttl: Duration,
) -> TokenRecord {
    TokenRecord::issued(token, TokenKind::SignInChallenge, account, now, now + ttl)
}

/// Whether a loaded challenge (and its account) can be used at `now`.
pub fn check_challenge(
    token: Option<&TokenRecord>,
    account: Option<&Account>,
    now: OffsetDateTime,
) -> Result<(), SecondFactorError> {
    let (Some(token), Some(account)) = (token, account) else {
        return Err(SecondFactorError::NoChallenge);
    };
    let usable = token.kind == TokenKind::SignInChallenge
        && token.state(now) == TokenState::Valid
        && token.account_id == account.id
        && token.tenant == account.tenant
        && !account.archived
        && account.access == crate::Access::Enabled;
    usable.then_some(()).ok_or(SecondFactorError::NoChallenge)
}

/// A code as typed, parsed for its method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactorCode {
    /// A code of the authenticator app.
    Totp(SixDigitCode),
    /// A recovery code.
    Recovery(RecoveryCode),
    /// An emailed code.
    Email(SixDigitCode),
}

impl FactorCode {
    /// Parses `code` for `method`; a code of the wrong length or alphabet
    /// is `second_factor_invalid` before anything is loaded.
    pub fn parse(method: SecondFactorMethod, code: &str) -> Result<Self, SecondFactorError> {
        let invalid = |_| SecondFactorError::InvalidCode;
        match method {
            SecondFactorMethod::Totp => SixDigitCode::parse(code).map(Self::Totp).map_err(invalid),
            SecondFactorMethod::RecoveryCode => RecoveryCode::parse(code)
                .map(Self::Recovery)
                .map_err(invalid),
            SecondFactorMethod::EmailCode => {
                SixDigitCode::parse(code).map(Self::Email).map_err(invalid)
            }
        }
    }

    /// Its method.
    pub fn method(&self) -> SecondFactorMethod {
        match self {
            Self::Totp(_) => SecondFactorMethod::Totp,
            Self::Recovery(_) => SecondFactorMethod::RecoveryCode,
            Self::Email(_) => SecondFactorMethod::EmailCode,
        }
    }
}

/// The associated data a TOTP secret of `account` is sealed with.
pub fn totp_associated_data(account: &Account) -> Vec<u8> {
    format!("portal-access totp v1\0{}\0{}", account.tenant, account.id).into_bytes()
}

/// The keyed hash of a recovery code of `account`.
pub fn recovery_code_hash(key: &SecretKey, account: &Account, code: &RecoveryCode) -> CodeHash {
    key.code_hash(&[
        "recovery",
        account.tenant.as_str(),
        &account.id.to_string(),
        code.as_str(),
    ])
}

/// The keyed hash of an emailed code of `account`.
pub fn email_code_hash(key: &SecretKey, account: &Account, code: &SixDigitCode) -> CodeHash {
    key.code_hash(&[
        "email",
        account.tenant.as_str(),
        &account.id.to_string(),
        code.as_str(),
    ])
}

/// A factor notice to the client (added, removed, recovery code used)
/// carrying a single-use "this wasn't me" link, and that link's token record.
#[derive(Debug, Clone)]
pub struct FactorNotice {
    /// The fresh "this wasn't me" token.
    pub not_me: RawToken,
    /// How long it lives.
    pub not_me_ttl: Duration,
}

impl FactorNotice {
    /// The notice of `kind` to `account` about `factor`, and its token.
    pub fn to(
        self,
        kind: MessageKind,
        account: &Account,
        factor: &str,
        now: OffsetDateTime,
    ) -> (MailIntent, TokenRecord) {
        let expires_at = now + self.not_me_ttl;
        let record = TokenRecord::issued(&self.not_me, TokenKind::NotMe, account, now, expires_at);
        let intent = MailIntent::to_account(kind, account)
            .with_link("/not-me", self.not_me, expires_at)
            .with_vars(serde_json::json!({
                "factor": factor,
                "changed_at": crate::mail::mail_time(now),
            }));
        (intent, record)
    }
}

/// The client's audit event of a factor change, with `{"kind": …}`.
pub(crate) fn factor_event(
    account: &Account,
    kind: AuditKind,
    factor: &str,
    ctx: &RequestContext,
    id: EventId,
    now: OffsetDateTime,
) -> AuditEvent {
    client_event(account, kind, ctx, id, now).with_detail(serde_json::json!({ "kind": factor }))
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod enrol_tests;
#[cfg(test)]
mod remember_tests;
#[cfg(test)]
mod tests;
