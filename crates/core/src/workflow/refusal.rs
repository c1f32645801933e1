//! The refusals of every workflow: the stable [`ErrorCode`]s of the HTTP
//! contract, the [`Refusal`] trait every refusal type implements, and the
//! refusals several workflows share ([`NoRefusal`], [`NotFoundError`]).

use serde::Serialize;

use crate::PasswordReason;

/// The stable error codes of the HTTP contract (SPEC.md section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Expired, used, superseded or unknown link token (one refusal for all).
    TokenInvalid,
    /// The password fails the policy (with reasons).
    PasswordRejected,
    /// Password and confirmation differ.
    PasswordMismatch,
    /// The username breaks the username rules.
    UsernameInvalid,
    /// Another account of the tenant has this username.
    UsernameTaken,
    /// Another account of the tenant has this email address.
    EmailTaken,
    /// Wrong login or password.
    InvalidCredentials,
    /// Access is turned off for this account.
    AccessDisabled,
    /// The account is archived.
    AccountArchived,
    /// The account was never invited: send an invitation.
    NotInvited,
    /// The invitation is still pending: resend it.
    InvitationPending,
    /// The staff member must pass a CAPTCHA first.
    HumanVerificationRequired,
    /// The CAPTCHA was not passed.
    CaptchaFailed,
    /// No mailer is configured.
    MailerNotConfigured,
    /// Too many attempts; try later.
    RateLimited,
    /// No such account (in this tenant).
    NotFound,
    /// No valid session.
    Unauthenticated,
    /// The input is malformed.
    ValidationFailed,
    /// A second-factor code is wrong, malformed, used or expired.
    SecondFactorInvalid,
    /// A second factor is needed first (or cannot be removed: it is the last
    /// one under a `required` policy).
    SecondFactorRequired,
    /// The account changed since the staff member read it (another staff
    /// member acted first): nothing was changed; read it again.
    StaleVersion,
}

impl ErrorCode {
    /// The code's text.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TokenInvalid => "token_invalid",
            Self::PasswordRejected => "password_rejected",
            Self::PasswordMismatch => "password_mismatch",
            Self::UsernameInvalid => "username_invalid",
            Self::UsernameTaken => "username_taken",
            Self::EmailTaken => "email_taken",
            Self::InvalidCredentials => "invalid_credentials",
            Self::AccessDisabled => "access_disabled",
            Self::AccountArchived => "account_archived",
            Self::NotInvited => "not_invited",
            Self::InvitationPending => "invitation_pending",
            Self::HumanVerificationRequired => "human_verification_required",
            Self::CaptchaFailed => "captcha_failed",
            Self::MailerNotConfigured => "mailer_not_configured",
            Self::RateLimited => "rate_limited",
            Self::NotFound => "not_found",
            Self::Unauthenticated => "unauthenticated",
            Self::ValidationFailed => "validation_failed",
            Self::SecondFactorInvalid => "second_factor_invalid",
            Self::SecondFactorRequired => "second_factor_required",
            Self::StaleVersion => "stale_version",
        }
    }
}

/// A refusal a user can hit: it has a stable code and a message fit to show.
///
/// ```
/// use portal_access_core::workflow::{ErrorCode, Refusal};
///
/// #[derive(Debug, thiserror::Error)]
/// enum SurveyError {
///     #[error("this link no longer works")]
///     TokenInvalid,
/// }
///
/// impl Refusal for SurveyError {
///     fn code(&self) -> ErrorCode {
///         match self {
///             Self::TokenInvalid => ErrorCode::TokenInvalid,
///         }
///     }
/// }
///
/// assert_eq!(SurveyError::TokenInvalid.code().as_str(), "token_invalid");
/// ```
pub trait Refusal: std::error::Error + Send + Sync + 'static {
    /// The stable code.
    fn code(&self) -> ErrorCode;

    /// For `password_rejected`: the reasons.
    fn password_reasons(&self) -> Option<&[PasswordReason]> {
        None
    }

    /// What names the sentence a page shows for this refusal (the Fluent
    /// message `refusal-<key>`, `_` written `-`, in `locales/*/portal.ftl`):
    /// the code's text, unless the refusal's variants say different things
    /// under one code.
    fn message_key(&self) -> &'static str {
        self.code().as_str()
    }
}

/// The [`Refusal::message_key`] of a wrong current password (a wrong
/// sign-in is `invalid_credentials`).
pub(crate) const CURRENT_PASSWORD_WRONG: &str = "current_password_wrong";

/// A refusal that cannot happen: for operations that only fail on infrastructure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoRefusal {}

impl Refusal for NoRefusal {
    fn code(&self) -> ErrorCode {
        match *self {}
    }
}

/// No such account in the staff member's tenant (`not_found`). An account
/// of another tenant is not found either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no such portal account")]
pub struct NotFoundError;

impl Refusal for NotFoundError {
    fn code(&self) -> ErrorCode {
        ErrorCode::NotFound
    }
}

/// `impl From<NotFoundError> for $refusal`, into its `NotFound` variant:
/// what the staff service needs of every refusal of an account lookup.
macro_rules! not_found_is {
    ($refusal:ty) => {
        impl From<$crate::workflow::NotFoundError> for $refusal {
            fn from(_: $crate::workflow::NotFoundError) -> Self {
                Self::NotFound
            }
        }
    };
}
pub(crate) use not_found_is;

/// The account is no longer at the version the staff member acted on
/// (`stale_version`): another change came first, nothing was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the account changed since you read it: nothing was changed")]
pub struct StaleVersionError;

impl Refusal for StaleVersionError {
    fn code(&self) -> ErrorCode {
        ErrorCode::StaleVersion
    }
}

/// `impl From<StaleVersionError> for $refusal`, into its `StaleVersion`
/// variant: what the staff service needs of every refusal of a change made
/// at an expected version.
macro_rules! stale_version_is {
    ($refusal:ty) => {
        impl From<$crate::workflow::StaleVersionError> for $refusal {
            fn from(_: $crate::workflow::StaleVersionError) -> Self {
                Self::StaleVersion
            }
        }
    };
}
pub(crate) use stale_version_is;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_has_the_not_found_code() {
        assert_eq!(NotFoundError.code(), ErrorCode::NotFound);
    }

    #[test]
    fn a_stale_version_has_the_stale_version_code() {
        assert_eq!(StaleVersionError.code(), ErrorCode::StaleVersion);
        assert_eq!(ErrorCode::StaleVersion.as_str(), "stale_version");
    }
}
