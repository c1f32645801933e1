//! Who did something, and the audit trail.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{AccountId, EventId, StaffId, TenantId};

/// Who caused a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    /// A staff member of the host CRM, acting within their tenant.
    Staff {
        /// Their tenant.
        tenant: TenantId,
        /// Their id.
        staff_id: StaffId,
    },
    /// The client of a portal account.
    Client {
        /// The account.
        account_id: AccountId,
    },
    /// The library itself (dispatcher, expiry, anonymous requests).
    System,
}

/// Where a request came from: recorded with every change and shown in the
/// password-changed notice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestContext {
    /// The client IP (from the socket, or a trusted proxy's header).
    pub ip: Option<IpAddr>,
    /// The User-Agent header.
    pub user_agent: Option<String>,
    /// A precondition of a staff change: the account version the staff
    /// member read (the console's forms carry it, like HTTP `If-Match`).
    /// When the account has moved on, the change is refused with
    /// `stale_version` and nothing is changed. Never stored.
    #[serde(skip)]
    pub expected_version: Option<i64>,
}

/// What happened, in an audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// Staff created the account.
    AccountCreated,
    /// An invitation was sent.
    InvitationSent,
    /// An invitation was sent again (the old link stops working).
    InvitationResent,
    /// The client accepted the invitation.
    InvitationAccepted,
    /// The client asked for a fresh invitation from an expired link.
    FreshInvitationRequested,
    /// A reset link was sent (by staff or on the client's request).
    PasswordResetSent,
    /// The client set a new password with a reset link.
    PasswordReset,
    /// Staff set the password by hand.
    PasswordSetByStaff,
    /// The signed-in client changed their password.
    PasswordChanged,
    /// Access was turned on.
    AccessEnabled,
    /// Access was turned off.
    AccessDisabled,
    /// The account was archived.
    Archived,
    /// The account was unarchived.
    Unarchived,
    /// The client changed their username.
    UsernameChanged,
    /// Staff changed the email address.
    EmailChanged,
    /// The client signed in.
    SignedIn,
    /// A sign-in with this account's login failed.
    SignInFailed,
    /// The client signed out.
    SignedOut,
    /// "This wasn't me" was confirmed: sessions revoked, password cleared.
    AccountSecured,
    /// A link of this account was opened (GET/HEAD).
    LinkOpened,
    /// A staff member passed human verification.
    HumanVerificationPassed,
    /// A correct password on an account that needs a second factor: a
    /// challenge was issued (detail: `enrolment_required`).
    SecondFactorChallenged,
    /// A second-factor code was refused (detail: `method`, `reason`).
    SecondFactorFailed,
    /// An emailed sign-in code was sent.
    EmailCodeSent,
    /// A factor was added (detail: `kind`).
    FactorAdded,
    /// A factor was removed (detail: `kind`).
    FactorRemoved,
    /// Recovery codes were generated (replacing any earlier ones).
    RecoveryCodesGenerated,
    /// A recovery code was used to sign in.
    RecoveryCodeUsed,
    /// Staff removed every second factor and remembered device (detail:
    /// `staff_id`, `factors`).
    MfaReset,
    /// Sessions were revoked from the security page or by staff (detail:
    /// `which`: `one`, `others` or `all`).
    SessionsRevoked,
    /// Remembered devices were forgotten (detail: `which`: `one` or `all`).
    DevicesForgotten,
    /// The language of the account's mail was set, by staff or by the
    /// client (detail: `old`, `new`: tags, `null` for the default).
    LanguageChanged,
}

impl AuditKind {
    /// Stable text form, for storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccountCreated => "account_created",
            Self::InvitationSent => "invitation_sent",
            Self::InvitationResent => "invitation_resent",
            Self::InvitationAccepted => "invitation_accepted",
            Self::FreshInvitationRequested => "fresh_invitation_requested",
            Self::PasswordResetSent => "password_reset_sent",
            Self::PasswordReset => "password_reset",
            Self::PasswordSetByStaff => "password_set_by_staff",
            Self::PasswordChanged => "password_changed",
            Self::AccessEnabled => "access_enabled",
            Self::AccessDisabled => "access_disabled",
            Self::Archived => "archived",
            Self::Unarchived => "unarchived",
            Self::UsernameChanged => "username_changed",
            Self::EmailChanged => "email_changed",
            Self::SignedIn => "signed_in",
            Self::SignInFailed => "sign_in_failed",
            Self::SignedOut => "signed_out",
            Self::AccountSecured => "account_secured",
            Self::LinkOpened => "link_opened",
            Self::HumanVerificationPassed => "human_verification_passed",
            Self::SecondFactorChallenged => "second_factor_challenged",
            Self::SecondFactorFailed => "second_factor_failed",
            Self::EmailCodeSent => "email_code_sent",
            Self::FactorAdded => "factor_added",
            Self::FactorRemoved => "factor_removed",
            Self::RecoveryCodesGenerated => "recovery_codes_generated",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::MfaReset => "mfa_reset",
            Self::SessionsRevoked => "sessions_revoked",
            Self::DevicesForgotten => "devices_forgotten",
            Self::LanguageChanged => "language_changed",
        }
    }

    /// Every kind, for parsing stored text.
    pub const ALL: [AuditKind; 32] = [
        Self::AccountCreated,
        Self::InvitationSent,
        Self::InvitationResent,
        Self::InvitationAccepted,
        Self::FreshInvitationRequested,
        Self::PasswordResetSent,
        Self::PasswordReset,
        Self::PasswordSetByStaff,
        Self::PasswordChanged,
        Self::AccessEnabled,
        Self::AccessDisabled,
        Self::Archived,
        Self::Unarchived,
        Self::UsernameChanged,
        Self::EmailChanged,
        Self::SignedIn,
        Self::SignInFailed,
        Self::SignedOut,
        Self::AccountSecured,
        Self::LinkOpened,
        Self::HumanVerificationPassed,
        Self::SecondFactorChallenged,
        Self::SecondFactorFailed,
        Self::EmailCodeSent,
        Self::FactorAdded,
        Self::FactorRemoved,
        Self::RecoveryCodesGenerated,
        Self::RecoveryCodeUsed,
        Self::MfaReset,
        Self::SessionsRevoked,
        Self::DevicesForgotten,
        Self::LanguageChanged,
    ];

    /// Parses [`as_str`](Self::as_str)'s text.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// One entry of the audit trail. Every change records at least one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    /// Its id.
    pub id: EventId,
    /// The tenant.
    pub tenant: TenantId,
    /// The account concerned, if any.
    pub account_id: Option<AccountId>,
    /// Who.
    pub actor: Actor,
    /// What.
    pub kind: AuditKind,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// From which IP.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "203.0.113.7"))]
    pub ip: Option<IpAddr>,
    /// With which User-Agent.
    pub user_agent: Option<String>,
    /// Kind-specific facts (never a secret): e.g. `{"old_username": …}`.
    pub detail: serde_json::Value,
}

impl AuditEvent {
    /// The same event with this detail (a JSON object).
    pub fn with_detail(self, detail: serde_json::Value) -> Self {
        Self { detail, ..self }
    }
}
