//! A staff member passes human verification (a CAPTCHA) after too many
//! resets: the flag is cleared until `now + ttl`, and their reset counter
//! starts again from zero. The state is in the store, so it holds across
//! instances.
//!
//! The service asks the [`CaptchaVerifier`](crate::CaptchaVerifier) and
//! hands the verdict in; a provider failure never reaches this workflow (it
//! is an infrastructure error, never a pass).
//!
//! ```
//! use portal_access_core::workflow::attribution::Attribution;
//! use portal_access_core::workflow::human_verification::decide_human_verification;
//! use portal_access_core::{Actor, CaptchaVerdict, EventId, RequestContext, StaffId, TenantId};
//!
//! let tenant = TenantId::new("firm").unwrap();
//! let staff_id = StaffId::new("bob").unwrap();
//! let actor = Actor::Staff { tenant: tenant.clone(), staff_id: staff_id.clone() };
//! let ctx = RequestContext::default();
//! let now = time::macros::datetime!(2026-03-01 9:00 UTC);
//! let decision = decide_human_verification(&tenant, &staff_id, Attribution::new(&actor, &ctx, EventId::from_random([1; 16])),
//!     Some(CaptchaVerdict::Passed), now, time::Duration::hours(1)).unwrap();
//! assert_eq!(decision.changes.staff_verification.unwrap().verified_until, now + time::Duration::hours(1));
//! ```

use time::{Duration, OffsetDateTime};

use super::attribution::Attribution;
use super::{rate_keys, Decision, ErrorCode, Refusal};
use crate::{AuditKind, CaptchaVerdict, Changes, StaffId, StaffVerification, TenantId};

/// Why human verification was not passed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HumanVerificationError {
    /// The provider said no (`captcha_failed`).
    #[error("the human verification was not passed; try again")]
    CaptchaFailed {
        /// The provider's error codes (e.g. `timeout-or-duplicate`).
        error_codes: Vec<String>,
    },
    /// No CAPTCHA provider is configured, so there is nothing to pass
    /// (`validation_failed`): wait until the reset rate window ends.
    #[error("human verification is not available (no CAPTCHA provider is configured); wait until the hourly reset limit resets")]
    NotConfigured,
    /// The response was empty (`validation_failed`).
    #[error("the CAPTCHA response is missing")]
    MissingResponse,
}

impl Refusal for HumanVerificationError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::CaptchaFailed { .. } => ErrorCode::CaptchaFailed,
            Self::NotConfigured | Self::MissingResponse => ErrorCode::ValidationFailed,
        }
    }
}

/// Decides on a verdict: `None` means no verifier is configured. A pass
/// sets the staff member's verification until `now + ttl`, clears their
/// staff-reset counter and records `HumanVerificationPassed`.
pub fn decide_human_verification(
    tenant: &TenantId,
    staff_id: &StaffId,
    by: Attribution<'_>,
    verdict: Option<CaptchaVerdict>,
    now: OffsetDateTime,
    ttl: Duration,
) -> Result<Decision<()>, HumanVerificationError> {
    match verdict {
        None => Err(HumanVerificationError::NotConfigured),
        Some(CaptchaVerdict::Failed { error_codes }) => {
            Err(HumanVerificationError::CaptchaFailed { error_codes })
        }
        Some(CaptchaVerdict::Passed) => {
            let verified_until = now + ttl;
            let changes = Changes {
                staff_verification: Some(StaffVerification {
                    tenant: tenant.clone(),
                    staff_id: staff_id.clone(),
                    verified_until,
                }),
                clear_rate_prefixes: vec![rate_keys::staff_resets(tenant, staff_id)],
                audit: vec![by.event(
                    tenant,
                    None,
                    AuditKind::HumanVerificationPassed,
                    now,
                    serde_json::json!({ "staff_id": staff_id.as_str(), "verified_until": verified_until.unix_timestamp() }),
                )],
                ..Changes::default()
            };
            Ok(Decision::new(changes, ()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::attribution::fixtures::*;

    fn staff_id() -> StaffId {
        StaffId::new("staff-7").unwrap()
    }

    fn decide(verdict: Option<CaptchaVerdict>) -> Result<Decision<()>, HumanVerificationError> {
        decide_human_verification(
            &tenant(),
            &staff_id(),
            by(),
            verdict,
            now(),
            Duration::hours(1),
        )
    }

    #[test]
    fn a_passed_captcha_clears_the_flag_for_the_configured_time() {
        let decision = decide(Some(CaptchaVerdict::Passed)).unwrap();
        assert_eq!(
            decision.changes.staff_verification,
            Some(StaffVerification {
                tenant: tenant(),
                staff_id: staff_id(),
                verified_until: now() + Duration::hours(1),
            })
        );
    }

    #[test]
    fn a_passed_captcha_restarts_the_staff_reset_counter() {
        let decision = decide(Some(CaptchaVerdict::Passed)).unwrap();
        assert_eq!(
            decision.changes.clear_rate_prefixes,
            vec![rate_keys::staff_resets(&tenant(), &staff_id())]
        );
        assert_eq!(
            decision.changes.audit[0].kind,
            AuditKind::HumanVerificationPassed
        );
        assert_eq!(decision.changes.audit[0].account_id, None);
    }

    #[test]
    fn a_failed_captcha_is_refused_as_captcha_failed() {
        let err = decide(Some(CaptchaVerdict::Failed {
            error_codes: vec!["invalid-input-response".into()],
        }))
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::CaptchaFailed);
    }

    #[test]
    fn without_a_captcha_provider_verification_is_refused_with_a_clear_message() {
        let err = decide(None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationFailed);
        assert!(err.to_string().contains("no CAPTCHA provider"));
    }
}
