//! Staff helping a client who cannot get in, or who may be under attack:
//! resetting the second factor, reading and ending the account's sessions.

use time::OffsetDateTime;

use super::super::transaction::{no_constraints, Step};
use super::super::{infra, PortalService, ServiceError, StaffActor};
use super::count;
use crate::workflow::attribution::Attribution;
use crate::workflow::mfa_reset::{check_mfa_reset, decide_mfa_reset, MfaResetInput};
use crate::workflow::second_factor::FactorNotice;
use crate::workflow::staff_reset::HumanCheck;
use crate::workflow::trust::{decide_staff_revoke_sessions, session_views, SessionView};
use crate::workflow::{rate_keys, window_start, NotFoundError, Refusal};
use crate::{AccountId, RequestContext, StoreError};

pub use crate::workflow::mfa_reset::MfaResetError;

/// The most sessions or devices one listing reads.
pub const MAX_LISTED: u32 = 100;

impl PortalService {
    /// Counts one more staff reset (password or second factor) of `staff`
    /// in the current window and reads their human verification: what the
    /// rate check of [`HumanCheck`] decides on.
    pub(super) async fn count_staff_reset(
        &self,
        staff: &StaffActor,
        now: OffsetDateTime,
    ) -> Result<HumanCheck, StoreError> {
        let rate = self.config().staff_reset_rate;
        let start = window_start(now, rate.window);
        let key = rate_keys::staff_resets(&staff.tenant, &staff.staff_id);
        let resets_in_window = self
            .store()
            .hit_rate(&key, start, start + rate.window)
            .await?;
        let verified_until = self
            .store()
            .staff_verification(&staff.tenant, &staff.staff_id)
            .await?
            .map(|v| v.verified_until);
        Ok(HumanCheck {
            resets_in_window,
            limit: rate.limit,
            verified_until,
        })
    }

    /// Resets the client's second factor: removes every factor and
    /// remembered device, revokes every session and sign-in challenge; the
    /// client is told at once (with "this wasn't me") when a mailer exists.
    /// Refused, in order: `not_found`, `account_archived`,
    /// `validation_failed` (no factor), `human_verification_required`
    /// (past the staff reset rate, which password resets share).
    pub async fn mfa_reset(
        &self,
        staff: &StaffActor,
        ctx: &RequestContext,
        id: AccountId,
    ) -> Result<(), ServiceError<MfaResetError>> {
        let result = self.decide_mfa_reset(staff, ctx, id).await;
        match &result {
            Ok(()) => {
                tracing::info!(account_id = %id, staff_id = %staff.staff_id, "second factor reset by staff");
                count("portal_staff_mfa_resets_total", "reset");
            }
            Err(ServiceError::Refused(e)) => {
                if matches!(e, MfaResetError::HumanVerificationRequired) {
                    tracing::warn!(staff_id = %staff.staff_id, "staff reset rate passed: human verification required");
                }
                count("portal_staff_mfa_resets_total", e.code().as_str());
            }
            Err(ServiceError::Infrastructure(_)) => {}
        }
        result
    }

    async fn decide_mfa_reset(
        &self,
        staff: &StaffActor,
        ctx: &RequestContext,
        id: AccountId,
    ) -> Result<(), ServiceError<MfaResetError>> {
        let now = self.now();
        // The cheap refusals first: they do not use up the staff member's rate.
        // At the version the staff member read, when they said which
        // (`RequestContext::expected_version`, the console's forms).
        let account = self.load_account_at(staff, ctx, id).await?;
        check_mfa_reset(&account).map_err(ServiceError::Refused)?;
        let human = self.count_staff_reset(staff, now).await.map_err(infra)?;
        let policy = self.config().mfa_policy(&account.tenant);
        let mailer = self.mailer().is_some();
        let actor = staff.actor();
        let reload = move |_| async move { self.load_account_at(staff, ctx, id).await };
        self.transact(now, no_constraints, account, reload, |account| {
            decide_mfa_reset(
                MfaResetInput {
                    account,
                    staff_id: &staff.staff_id,
                    policy,
                    human,
                    notice: mailer.then(|| FactorNotice {
                        not_me: self.new_token(),
                        not_me_ttl: self.config().not_me_ttl,
                    }),
                },
                Attribution::new(&actor, ctx, self.new_event_id()),
                now,
            )
            .map(Step::unless_empty)
            .map_err(ServiceError::Refused)
        })
        .await
    }

    /// The account's live sessions, newest first (at most [`MAX_LISTED`]),
    /// with location, OS and browser. Refused: `not_found`.
    pub async fn account_sessions(
        &self,
        staff: &StaffActor,
        id: AccountId,
    ) -> Result<Vec<SessionView>, ServiceError<NotFoundError>> {
        self.load_account::<NotFoundError>(staff, id).await?;
        let sessions = self
            .store()
            .sessions_for_account(&staff.tenant, id, MAX_LISTED)
            .await
            .map_err(infra)?;
        let locations = self
            .locations(sessions.iter().map(|s| s.ip).collect())
            .await;
        let idle = self.config().session_idle_ttl;
        Ok(session_views(&sessions, None, &locations, idle, self.now()))
    }

    /// Ends every session of the account (remembered devices stay).
    /// Refused: `not_found`.
    pub async fn revoke_account_sessions(
        &self,
        staff: &StaffActor,
        ctx: &RequestContext,
        id: AccountId,
    ) -> Result<(), ServiceError<NotFoundError>> {
        let account = self.load_account::<NotFoundError>(staff, id).await?;
        let now = self.now();
        let actor = staff.actor();
        let decision = decide_staff_revoke_sessions(
            &account,
            Attribution::new(&actor, ctx, self.new_event_id()),
            now,
        );
        self.commit_unversioned(decision, now).await?;
        tracing::info!(account_id = %id, staff_id = %staff.staff_id, "sessions revoked by staff");
        Ok(())
    }
}
