//! Staff-side service operations: every call is scoped to the staff
//! member's tenant (an account of another tenant is `not_found`), loads the
//! account, runs a pure workflow with `now` and fresh random material,
//! hashes only once the cheap checks passed, and commits the decision in
//! one store transaction, retrying on a version conflict.
//!
//! ```
//! use std::sync::Arc;
//! use portal_access_core::service::{NewAccountInput, PortalService, StaffActor};
//! use portal_access_core::workflow::Refusal;
//! use portal_access_core::{memory::MemoryStore, RequestContext, StaffId, TenantId};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let service = PortalService::builder(Arc::new(MemoryStore::new())).build().unwrap();
//! let staff = StaffActor { tenant: TenantId::new("firm").unwrap(), staff_id: StaffId::new("bob").unwrap() };
//! let ctx = RequestContext::default();
//! let account = service.create_account(&staff, &ctx, NewAccountInput {
//!     email: "ann@example.com".into(), contact_ref: None, display_name: Some("Ann".into()),
//! }).await.unwrap();
//! // No mailer is configured: no invitation can be sent.
//! let refused = service.send_invitation(&staff, &ctx, account.id).await.unwrap_err();
//! assert_eq!(refused.refusal().unwrap().code().as_str(), "mailer_not_configured");
//! # });
//! ```

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use time::OffsetDateTime;

use super::{infra, InfraError, PasswordChangeReason, PortalService, ServiceError, StaffActor};
use crate::workflow::access::decide_set_access;
use crate::workflow::archive::decide_archive;
use crate::workflow::attribution::Attribution;
use crate::workflow::create_account::{decide_create_account, NewAccount};
use crate::workflow::email_change::decide_change_email;
use crate::workflow::human_verification::decide_human_verification;
use crate::workflow::invitation::decide_send_invitation;
use crate::workflow::set_password::{check_set_password, decide_set_password};
use crate::workflow::staff_reset::{check_staff_reset, decide_staff_reset, HumanCheck};
use crate::workflow::status::account_status;
use crate::workflow::{rate_keys, window_start, Decision, Refusal};
use crate::{Account, AccountId, AuditEvent, RequestContext, StoreError, TokenRecord};

pub use crate::workflow::access::AccessError;
pub use crate::workflow::archive::ArchiveError;
pub use crate::workflow::create_account::CreateAccountError;
pub use crate::workflow::email_change::ChangeEmailError;
pub use crate::workflow::human_verification::HumanVerificationError;
pub use crate::workflow::invitation::{InvitationError, InvitationSent};
pub use crate::workflow::set_password::{NoticeDelivery, SetPasswordError, SetPasswordOutcome};
pub use crate::workflow::staff_reset::StaffResetError;
pub use crate::workflow::status::{AccountStatus, NotFoundError, StaffAction};

/// How many recent messages the staff status shows.
pub const STATUS_MESSAGES: u32 = 20;
/// How many recent link tokens and openings the status reads to annotate them.
const STATUS_TOKENS: u32 = 100;
const STATUS_OPENINGS: u32 = 500;
/// The most audit events one call returns.
pub const MAX_EVENTS: u32 = 1_000;

/// What staff gives to create an account (`POST /staff/accounts`).
#[derive(Debug, Clone, Deserialize)]
pub struct NewAccountInput {
    /// The contact's email address.
    pub email: String,
    /// The host CRM's reference of the contact.
    #[serde(default)]
    pub contact_ref: Option<String>,
    /// A display name for mail.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// A password set by staff (`PUT /staff/accounts/{id}/password`). `Debug`
/// is redacted.
#[derive(Debug, Deserialize)]
pub struct SetPasswordInput {
    /// The new password.
    pub password: SecretString,
    /// The same again.
    pub password_confirmation: SecretString,
    /// The client must change it at next sign-in (default on).
    #[serde(default = "must_change_default")]
    pub must_change: bool,
}

fn must_change_default() -> bool {
    true
}

impl SetPasswordInput {
    /// A password and its confirmation, with "must change at next sign-in" on.
    pub fn new(password: SecretString, password_confirmation: SecretString) -> Self {
        Self {
            password,
            password_confirmation,
            must_change: true,
        }
    }
}

/// The result of one commit attempt.
enum Attempt<T> {
    Done(T),
    Conflict,
}

fn no_refusal<E>(_: &StoreError) -> Option<E> {
    None
}

fn count(name: &'static str, outcome: &'static str) {
    metrics::counter!(name, "outcome" => outcome).increment(1);
}

impl PortalService {
    async fn load_account<E: Refusal + From<NotFoundError>>(
        &self,
        staff: &StaffActor,
        id: AccountId,
    ) -> Result<Account, ServiceError<E>> {
        self.store()
            .account(&staff.tenant, id)
            .await
            .map_err(infra)?
            .ok_or_else(|| ServiceError::Refused(NotFoundError.into()))
    }

    /// Commits a decision (nothing to do for an empty one); a version
    /// conflict is reported for a retry, `refusal` maps constraint errors.
    async fn try_commit<T, E: Refusal>(
        &self,
        decision: Decision<T>,
        now: OffsetDateTime,
        refusal: fn(&StoreError) -> Option<E>,
    ) -> Result<Attempt<T>, ServiceError<E>> {
        if decision.changes.is_empty() && decision.mail.is_empty() {
            return Ok(Attempt::Done(decision.outcome));
        }
        match self.commit(decision, now).await? {
            Ok(outcome) => Ok(Attempt::Done(outcome)),
            Err(StoreError::Conflict) => Ok(Attempt::Conflict),
            Err(e) => match refusal(&e) {
                Some(refused) => Err(ServiceError::Refused(refused)),
                None => Err(infra(e)),
            },
        }
    }

    /// Load, decide, commit; on a version conflict, again (up to the
    /// configured retries).
    async fn decide_and_commit<T, E, F>(
        &self,
        staff: &StaffActor,
        id: AccountId,
        refusal: fn(&StoreError) -> Option<E>,
        mut decide: F,
    ) -> Result<T, ServiceError<E>>
    where
        E: Refusal + From<NotFoundError>,
        F: FnMut(&Account, OffsetDateTime) -> Result<Decision<T>, E>,
    {
        for _ in 0..=self.config().conflict_retries {
            let account = self.load_account(staff, id).await?;
            let now = self.now();
            let decision = decide(&account, now).map_err(ServiceError::Refused)?;
            if let Attempt::Done(outcome) = self.try_commit(decision, now, refusal).await? {
                return Ok(outcome);
            }
        }
        Err(InfraError::PersistentConflict.into())
    }

    /// Creates the portal account of a client contact: never invited,
    /// access enabled. Refused: `validation_failed`, `email_taken`.
    pub async fn create_account(
        &self,
        staff: &StaffActor,
        ctx: &RequestContext,
        input: NewAccountInput,
    ) -> Result<Account, ServiceError<CreateAccountError>> {
        let actor = staff.actor();
        for _ in 0..=self.config().conflict_retries {
            let now = self.now();
            let decision = decide_create_account(
                &staff.tenant,
                Attribution::new(&actor, ctx, self.new_event_id()),
                NewAccount {
                    email: &input.email,
                    contact_ref: input.contact_ref.as_deref(),
                    display_name: input.display_name.as_deref(),
                },
                self.new_account_id(),
                now,
            )
            .map_err(ServiceError::Refused)?;
            let attempt = self
                .try_commit(decision, now, |e| {
                    matches!(e, StoreError::EmailTaken).then_some(CreateAccountError::EmailTaken)
                })
                .await?;
            if let Attempt::Done(account) = attempt {
                tracing::info!(account_id = %account.id, staff_id = %staff.staff_id, "portal account created");
                count("portal_staff_accounts_created_total", "created");
                return Ok(account);
            }
        }
        Err(InfraError::PersistentConflict.into())
    }

    /// The staff view of an account: state, available actions, and the
    /// delivery timeline of its recent messages.
    pub async fn account_status(
        &self,
        staff: &StaffActor,
        id: AccountId,
    ) -> Result<AccountStatus, ServiceError<NotFoundError>> {
        let account = self.load_account(staff, id).await?;
        let store = self.store();
        let messages = store
            .messages_for_account(&staff.tenant, id, STATUS_MESSAGES)
            .await
            .map_err(infra)?;
        let mut tokens = store
            .tokens_for_account(&staff.tenant, id, STATUS_TOKENS)
            .await
            .map_err(infra)?;
        // A message older than the recent tokens still gets its link's state.
        for hash in messages.iter().filter_map(|m| m.message.token_hash) {
            if !tokens.iter().any(|t| t.hash.ct_eq(&hash)) {
                let found: Option<TokenRecord> = store.token(&hash).await.map_err(infra)?;
                tokens.extend(found.filter(|t| t.tenant == staff.tenant && t.account_id == id));
            }
        }
        let openings = store
            .link_openings(&staff.tenant, id, STATUS_OPENINGS)
            .await
            .map_err(infra)?;
        Ok(account_status(
            &account,
            &messages,
            &tokens,
            &openings,
            self.mailer().is_some(),
            self.now(),
        ))
    }

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
            .decide_and_commit(staff, id, no_refusal, |account, now| {
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
        let mailer = self.mailer().is_some();
        // The cheap refusals first: they do not use up the staff member's rate.
        let account = self.load_account(staff, id).await?;
        check_staff_reset(&account, mailer).map_err(ServiceError::Refused)?;

        let rate = self.config().staff_reset_rate;
        let now = self.now();
        let start = window_start(now, rate.window);
        let key = rate_keys::staff_resets(&staff.tenant, &staff.staff_id);
        let resets_in_window = self
            .store()
            .hit_rate(&key, start, start + rate.window)
            .await
            .map_err(infra)?;
        let verified_until = self
            .store()
            .staff_verification(&staff.tenant, &staff.staff_id)
            .await
            .map_err(infra)?
            .map(|v| v.verified_until);
        let human = HumanCheck {
            resets_in_window,
            limit: rate.limit,
            verified_until,
        };

        let actor = staff.actor();
        let ttl = self.config().reset_ttl;
        let mut loaded = Some(account);
        for _ in 0..=self.config().conflict_retries {
            let account = match loaded.take() {
                Some(account) => account,
                None => self.load_account(staff, id).await?,
            };
            let now = self.now();
            let decision = decide_staff_reset(
                &account,
                Attribution::new(&actor, ctx, self.new_event_id()),
                now,
                mailer,
                human,
                self.new_token(),
                ttl,
            )
            .map_err(ServiceError::Refused)?;
            if let Attempt::Done(()) = self.try_commit(decision, now, no_refusal).await? {
                return Ok(());
            }
        }
        Err(InfraError::PersistentConflict.into())
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
        let policy = self.config().password_policy;
        let account = self.load_account(staff, id).await?;
        let new = check_set_password(
            &account,
            &input.password,
            &input.password_confirmation,
            &policy,
        )
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

        let actor = staff.actor();
        let mut loaded = Some(account);
        for _ in 0..=self.config().conflict_retries {
            let account = match loaded.take() {
                Some(account) => account,
                None => {
                    // The address or username may have changed: check again (no rehash).
                    let account = self.load_account(staff, id).await?;
                    check_set_password(
                        &account,
                        &input.password,
                        &input.password_confirmation,
                        &policy,
                    )
                    .map_err(ServiceError::Refused)?;
                    account
                }
            };
            let now = self.now();
            let notice = match self.mailer() {
                Some(_) => Some(
                    self.password_changed_notice(
                        &account,
                        ctx,
                        PasswordChangeReason::SetByStaff,
                        now,
                    )
                    .await,
                ),
                None => None,
            };
            let decision = decide_set_password(
                &account,
                Attribution::new(&actor, ctx, self.new_event_id()),
                now,
                hash.clone(),
                input.must_change,
                notice,
            )
            .map_err(ServiceError::Refused)?;
            if let Attempt::Done(outcome) = self.try_commit(decision, now, no_refusal).await? {
                tracing::info!(account_id = %id, staff_id = %staff.staff_id, notice = ?outcome.notice, "password set by staff");
                count("portal_staff_password_sets_total", "set");
                return Ok(outcome);
            }
        }
        Err(InfraError::PersistentConflict.into())
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
        self.decide_and_commit(staff, id, no_refusal, |account, now| {
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
        self.decide_and_commit(staff, id, no_refusal, |account, now| {
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

    /// The account's most recent audit events, newest first (at most
    /// [`MAX_EVENTS`]). Refused: `not_found`.
    pub async fn account_events(
        &self,
        staff: &StaffActor,
        id: AccountId,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, ServiceError<NotFoundError>> {
        self.load_account::<NotFoundError>(staff, id).await?;
        self.store()
            .audit_events(&staff.tenant, id, limit.clamp(1, MAX_EVENTS))
            .await
            .map_err(infra)
    }

    /// Human verification of a staff member past the reset rate: a passed
    /// CAPTCHA clears the flag for `config.human_verification_ttl`. Refused:
    /// `captcha_failed`; `validation_failed` when the response is empty or
    /// no CAPTCHA provider is configured. A provider failure is an
    /// infrastructure error, never a pass.
    pub async fn pass_human_verification(
        &self,
        staff: &StaffActor,
        ctx: &RequestContext,
        captcha_response: SecretString,
    ) -> Result<(), ServiceError<HumanVerificationError>> {
        if captcha_response.expose_secret().trim().is_empty() {
            return Err(ServiceError::Refused(
                HumanVerificationError::MissingResponse,
            ));
        }
        let verdict = match self.captcha() {
            Some(captcha) => Some(
                captcha
                    .verify(&captcha_response, ctx.ip)
                    .await
                    .map_err(|e| ServiceError::Infrastructure(InfraError::Captcha(e)))?,
            ),
            None => None,
        };
        let actor = staff.actor();
        let now = self.now();
        let result = decide_human_verification(
            &staff.tenant,
            &staff.staff_id,
            Attribution::new(&actor, ctx, self.new_event_id()),
            verdict,
            now,
            self.config().human_verification_ttl,
        );
        let decision = match result {
            Ok(decision) => decision,
            Err(refused) => {
                count(
                    "portal_staff_human_verifications_total",
                    refused.code().as_str(),
                );
                return Err(ServiceError::Refused(refused));
            }
        };
        match self.try_commit(decision, now, no_refusal).await? {
            Attempt::Done(()) => {
                tracing::info!(staff_id = %staff.staff_id, "human verification passed");
                count("portal_staff_human_verifications_total", "passed");
                Ok(())
            }
            // No account is written, so no version can conflict.
            Attempt::Conflict => Err(InfraError::PersistentConflict.into()),
        }
    }
}
