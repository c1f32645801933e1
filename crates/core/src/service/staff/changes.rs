//! Staff changes to one account: invitations, reset links, passwords set
//! by hand, access, archival and the email address.

use secrecy::SecretString;

use super::super::notice::PasswordChangeReason;
use super::super::transaction::{no_constraints, Step};
use super::super::{infra, PortalService, ServiceError, StaffActor};
use super::{
    count, AccessError, ArchiveError, ChangeEmailError, InvitationError, InvitationSent,
    LanguageError, SetPasswordError, SetPasswordInput, SetPasswordOutcome, StaffResetError,
};
use crate::workflow::access::decide_set_access;
use crate::workflow::archive::decide_archive;
use crate::workflow::attribution::Attribution;
use crate::workflow::email_change::decide_change_email;
use crate::workflow::invitation::decide_send_invitation;
use crate::workflow::language::decide_set_language;
use crate::workflow::set_password::{check_set_password, decide_set_password};
use crate::workflow::staff_reset::{check_staff_reset, decide_staff_reset};
use crate::workflow::Refusal;
use crate::{AccountId, RequestContext, StoreError};

impl PortalService {
    /// Sends the invitation (never invited) or a new one replacing the old
    /// link (pending, expired or not). Refused: `not_found`,
    /// `account_archived`, `validation_failed` (already accepted),
    /// `access_disabled`, `mailer_not_configured`.
    pub async fn send_invitation(
        &self,
        staff: &StaffActor,
        ctx: &RequestContext,
        id: AccountId,
    ) -> Result<InvitationSent, ServiceError<InvitationError>> {
        let actor = staff.actor();
        let mailer = self.mailer().is_some();
        let ttl = self.config().invitation_ttl;
        let result = self
            .decide_and_commit(staff, ctx, id, no_constraints, |account, now| {
                decide_send_invitation(
                    account,
                    Attribution::new(&actor, ctx, self.new_event_id()),
                    now,
                    mailer,
                    self.new_token(),
                    ttl,
                )
            })
            .await;
        match &result {
            Ok(sent) => {
                tracing::info!(account_id = %id, staff_id = %staff.staff_id, ?sent, "invitation queued");
                count(
                    "portal_staff_invitations_total",
                    match sent {
                        InvitationSent::Invitation => "invitation",
                        InvitationSent::Reinvitation => "reinvitation",
                    },
                );
            }
            Err(ServiceError::Refused(e)) => {
                count("portal_staff_invitations_total", e.code().as_str())
            }
            Err(ServiceError::Infrastructure(_)) => {}
        }
        result
    }

    /// Sends a password reset link to the account's address. Refused, in
    /// this order: `not_found`, `account_archived`, `not_invited`,
    /// `invitation_pending`, `access_disabled`, `mailer_not_configured`,
    /// then `human_verification_required` once the staff member passed the
    /// configured rate without a recent CAPTCHA.
    pub async fn send_password_reset(
        &self,
        staff: &StaffActor,
        ctx: &RequestContext,
        id: AccountId,
    ) -> Result<(), ServiceError<StaffResetError>> {
        let result = self.staff_reset(staff, ctx, id).await;
        match &result {
            Ok(()) => {
                tracing::info!(account_id = %id, staff_id = %staff.staff_id, "staff reset link queued");
                count("portal_staff_resets_total", "sent");
            }
            Err(ServiceError::Refused(e)) => {
                if matches!(e, StaffResetError::HumanVerificationRequired) {
                    tracing::warn!(staff_id = %staff.staff_id, "staff reset rate passed: human verification required");
                }
                count("portal_staff_resets_total", e.code().as_str());
            }
            Err(ServiceError::Infrastructure(_)) => {}
        }
        result
    }

    async fn staff_reset(
        &self,
        staff: &StaffActor,
        ctx: &RequestContext,
        id: AccountId,
    ) -> Result<(), ServiceError<StaffResetError>> {
        let now = self.now();
        let mailer = self.mailer().is_some();
        // The cheap refusals first: they do not use up the staff member's rate.
        let account = self.load_account_at(staff, ctx, id).await?;
        check_staff_reset(&account, mailer).map_err(ServiceError::Refused)?;

        let human = self.count_staff_reset(staff, now).await.map_err(infra)?;

        let actor = staff.actor();
        let ttl = self.config().reset_ttl;
        let reload = move |_| async move { self.load_account_at(staff, ctx, id).await };
        self.transact(now, no_constraints, account, reload, |account| {
            decide_staff_reset(
                account,
                Attribution::new(&actor, ctx, self.new_event_id()),
                now,
                mailer,
                human,
                self.new_token(),
                ttl,
            )
            .map(Step::unless_empty)
            .map_err(ServiceError::Refused)
        })
        .await
    }

    /// Sets the client's password by hand. Refused: `not_found`,
    /// `account_archived`, `password_rejected` (with reasons),
    /// `password_mismatch`. Revokes every session and pending link; the
    /// client is notified when a mailer exists (reported back either way);
    /// a not-yet-accepted account is activated.
    pub async fn set_password(
        &self,
        staff: &StaffActor,
        ctx: &RequestContext,
        id: AccountId,
        input: SetPasswordInput,
    ) -> Result<SetPasswordOutcome, ServiceError<SetPasswordError>> {
        let now = self.now();
        let policy = self.config().password_policy;
        let (password, confirmation) = (&input.password, &input.password_confirmation);
        let load = move || async move {
            let account = self.load_account_at(staff, ctx, id).await?;
            check_set_password(&account, password, confirmation, &policy)
                .map_err(ServiceError::Refused)?;
            Ok(account)
        };
        let account = self.load_account_at(staff, ctx, id).await?;
        let new = check_set_password(&account, password, confirmation, &policy)
            .map_err(ServiceError::Refused)?;
        // Only now, with the cheap checks passed, the expensive hash (once).
        let hash = self
            .hasher()
            .hash(
                SecretString::from(new.expose().to_owned()),
                self.random_bytes::<16>(),
            )
            .await?;
        drop(new);
        let notice = match self.mailer() {
            Some(_) => Some(
                self.password_notice(ctx, PasswordChangeReason::SetByStaff)
                    .await,
            ),
            None => None,
        };
        let actor = staff.actor();
        // The address or username may have changed: each reload checks the
        // password again (no rehash).
        let outcome = self
            .transact(
                now,
                no_constraints,
                account,
                move |_| load(),
                |account| {
                    decide_set_password(
                        account,
                        Attribution::new(&actor, ctx, self.new_event_id()),
                        now,
                        hash.clone(),
                        input.must_change,
                        notice
                            .as_ref()
                            .map(|notice| notice.for_account(self, account, now)),
                    )
                    .map(Step::unless_empty)
                    .map_err(ServiceError::Refused)
                },
            )
            .await?;
        tracing::info!(account_id = %id, staff_id = %staff.staff_id, notice = ?outcome.notice, "password set by staff");
        count("portal_staff_password_sets_total", "set");
        Ok(outcome)
    }

    /// Turns portal access on or off. Disabling revokes every session and
    /// pending link. Refused: `not_found`, `account_archived`.
    pub async fn set_access(
        &self,
        staff: &StaffActor,
        ctx: &RequestContext,
        id: AccountId,
        enabled: bool,
    ) -> Result<(), ServiceError<AccessError>> {
        let actor = staff.actor();
        self.decide_and_commit(staff, ctx, id, no_constraints, |account, now| {
            decide_set_access(
                account,
                Attribution::new(&actor, ctx, self.new_event_id()),
                now,
                enabled,
            )
        })
        .await?;
        tracing::info!(account_id = %id, staff_id = %staff.staff_id, enabled, "portal access set");
        Ok(())
    }

    /// Sets the language of the account's mail (`None` or blank: the
    /// firm's default). Refused: `not_found`, `stale_version`,
    /// `validation_failed` (a language the service does not speak).
    pub async fn set_language(
        &self,
        staff: &StaffActor,
        ctx: &RequestContext,
        id: AccountId,
        language: Option<&str>,
    ) -> Result<(), ServiceError<LanguageError>> {
        let language = self
            .language_of(language)
            .ok_or(ServiceError::Refused(LanguageError::UnsupportedLanguage))?;
        let actor = staff.actor();
        self.decide_and_commit(staff, ctx, id, no_constraints, |account, now| {
            decide_set_language(
                account,
                Attribution::new(&actor, ctx, self.new_event_id()),
                now,
                language.clone(),
            )
        })
        .await?;
        tracing::info!(account_id = %id, staff_id = %staff.staff_id, language = ?language, "mail language set");
        Ok(())
    }

    /// Archives the account: every session and link token is revoked.
    /// Refused: `not_found`.
    pub async fn archive(
        &self,
        staff: &StaffActor,
        ctx: &RequestContext,
        id: AccountId,
    ) -> Result<(), ServiceError<ArchiveError>> {
        self.set_archived(staff, ctx, id, true).await
    }

    /// Unarchives the account: the earlier state comes back, nothing is
    /// issued. Refused: `not_found`.
    pub async fn unarchive(
        &self,
        staff: &StaffActor,
        ctx: &RequestContext,
        id: AccountId,
    ) -> Result<(), ServiceError<ArchiveError>> {
        self.set_archived(staff, ctx, id, false).await
    }

    async fn set_archived(
        &self,
        staff: &StaffActor,
        ctx: &RequestContext,
        id: AccountId,
        archived: bool,
    ) -> Result<(), ServiceError<ArchiveError>> {
        let actor = staff.actor();
        self.decide_and_commit(staff, ctx, id, no_constraints, |account, now| {
            decide_archive(
                account,
                Attribution::new(&actor, ctx, self.new_event_id()),
                now,
                archived,
            )
        })
        .await?;
        tracing::info!(account_id = %id, staff_id = %staff.staff_id, archived, "archive state set");
        Ok(())
    }

    /// Changes the account's email address: every link token is revoked
    /// and a notice goes to the old and the new address. Refused:
    /// `not_found`, `validation_failed`, `email_taken`, `account_archived`.
    pub async fn change_email(
        &self,
        staff: &StaffActor,
        ctx: &RequestContext,
        id: AccountId,
        email: &str,
    ) -> Result<(), ServiceError<ChangeEmailError>> {
        let actor = staff.actor();
        let notify = self.mailer().is_some();
        self.decide_and_commit(
            staff,
            ctx,
            id,
            |e| matches!(e, StoreError::EmailTaken).then_some(ChangeEmailError::EmailTaken),
            |account, now| {
                decide_change_email(
                    account,
                    Attribution::new(&actor, ctx, self.new_event_id()),
                    now,
                    email,
                    notify,
                )
            },
        )
        .await?;
        tracing::info!(account_id = %id, staff_id = %staff.staff_id, "email address changed");
        Ok(())
    }
}
