//! Staff-side service operations: every call is scoped to the staff
//! member's tenant (an account of another tenant is `not_found`), loads the
//! account, runs a pure workflow with `now` and fresh random material,
//! hashes only once the cheap checks passed, and commits the decision in
//! one store transaction through
//! [`PortalService::transact`](super::transaction) (one `now` per call,
//! retrying on a version conflict).
//!
//! ```
//! use std::sync::Arc;
//! use portal_access_core::service::{NewAccountInput, PortalService, StaffActor};
//! use portal_access_core::workflow::Refusal;
//! use portal_access_core::{testing::MemoryStore, RequestContext, StaffId, TenantId};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let service = PortalService::builder(Arc::new(MemoryStore::new())).build().unwrap();
//! let staff = StaffActor { tenant: TenantId::new("firm").unwrap(), staff_id: StaffId::new("bob").unwrap() };
//! let ctx = RequestContext::default();
//! let account = service.create_account(&staff, &ctx, NewAccountInput {
//!     email: "ann@example.com".into(), contact_ref: None, display_name: Some("Ann".into()),
//!     language: None,
//! }).await.unwrap();
//! // No mailer is configured: no invitation can be sent.
//! let refused = service.send_invitation(&staff, &ctx, account.id).await.unwrap_err();
//! assert_eq!(refused.refusal().unwrap().code().as_str(), "mailer_not_configured");
//! # });
//! ```

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use time::OffsetDateTime;

use super::transaction::{Constraints, Step};
use super::{infra, InfraError, PortalService, ServiceError, StaffActor};
use crate::workflow::attribution::Attribution;
use crate::workflow::create_account::{decide_create_account, NewAccount};
use crate::workflow::human_verification::decide_human_verification;
use crate::workflow::status::account_status;
use crate::workflow::{Decision, Refusal, StaleVersionError};
use crate::{Account, AccountId, AuditEvent, RequestContext, StoreError, TokenRecord};

mod audit;
mod changes;
mod search;
mod trust;

pub use audit::MAX_AUDIT_PAGE;
pub use search::{AccountPage, AccountSummary, ACCOUNTS_PER_PAGE};
pub use trust::{MfaResetError, MAX_LISTED};

pub use crate::workflow::access::AccessError;
pub use crate::workflow::archive::ArchiveError;
pub use crate::workflow::create_account::CreateAccountError;
pub use crate::workflow::email_change::ChangeEmailError;
pub use crate::workflow::human_verification::HumanVerificationError;
pub use crate::workflow::invitation::{InvitationError, InvitationSent};
pub use crate::workflow::language::LanguageError;
pub use crate::workflow::set_password::{NoticeDelivery, SetPasswordError, SetPasswordOutcome};
pub use crate::workflow::staff_reset::StaffResetError;
pub use crate::workflow::status::{AccountStatus, StaffAction};
pub use crate::workflow::NotFoundError;

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
    /// The language of the client's mail: a tag of the service's
    /// [`Locales`](crate::i18n::Locales) (`es`); absent or blank: the
    /// firm's default, English.
    #[serde(default)]
    pub language: Option<String>,
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

    /// [`load_account`](Self::load_account), refused with `stale_version`
    /// when the request expects another version
    /// ([`RequestContext::expected_version`]). Checked at every (re)load:
    /// the commit is conditional on the loaded version, so a change made at
    /// the expected version is the only one that can win.
    async fn load_account_at<E>(
        &self,
        staff: &StaffActor,
        ctx: &RequestContext,
        id: AccountId,
    ) -> Result<Account, ServiceError<E>>
    where
        E: Refusal + From<NotFoundError> + From<StaleVersionError>,
    {
        let account = self.load_account(staff, id).await?;
        match ctx.expected_version {
            Some(expected) if expected != account.version => {
                Err(ServiceError::Refused(StaleVersionError.into()))
            }
            Some(_) | None => Ok(account),
        }
    }

    /// Load the account, decide, commit (nothing for an empty decision);
    /// on a version conflict, again (see [`transact`](Self::transact)).
    async fn decide_and_commit<T, E, F>(
        &self,
        staff: &StaffActor,
        ctx: &RequestContext,
        id: AccountId,
        constraints: Constraints<E>,
        mut decide: F,
    ) -> Result<T, ServiceError<E>>
    where
        E: Refusal + From<NotFoundError> + From<StaleVersionError>,
        F: FnMut(&Account, OffsetDateTime) -> Result<Decision<T>, E>,
    {
        let now = self.now();
        let first = self.load_account_at(staff, ctx, id).await?;
        let reload = move |_| async move { self.load_account_at(staff, ctx, id).await };
        self.transact(now, constraints, first, reload, |account| {
            decide(account, now)
                .map(Step::unless_empty)
                .map_err(ServiceError::Refused)
        })
        .await
    }

    /// Creates the portal account of a client contact: never invited,
    /// access enabled. Refused: `validation_failed` (also for a language
    /// the service does not speak), `email_taken`.
    pub async fn create_account(
        &self,
        staff: &StaffActor,
        ctx: &RequestContext,
        input: NewAccountInput,
    ) -> Result<Account, ServiceError<CreateAccountError>> {
        let actor = staff.actor();
        let now = self.now();
        let language = self
            .language_of(input.language.as_deref())
            .ok_or(ServiceError::Refused(
                CreateAccountError::UnsupportedLanguage,
            ))?;
        // Nothing to load: a new account cannot conflict, only collide.
        let account = self
            .transact(
                now,
                |e| matches!(e, StoreError::EmailTaken).then_some(CreateAccountError::EmailTaken),
                (),
                |()| async { Ok(()) },
                |()| {
                    decide_create_account(
                        &staff.tenant,
                        Attribution::new(&actor, ctx, self.new_event_id()),
                        NewAccount {
                            email: &input.email,
                            contact_ref: input.contact_ref.as_deref(),
                            display_name: input.display_name.as_deref(),
                            language: language.clone(),
                        },
                        self.new_account_id(),
                        now,
                    )
                    .map(Step::unless_empty)
                    .map_err(ServiceError::Refused)
                },
            )
            .await?;
        tracing::info!(account_id = %account.id, staff_id = %staff.staff_id, "portal account created");
        count("portal_staff_accounts_created_total", "created");
        Ok(account)
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
        // A sign-in challenge (what an emailed code is recorded under) is
        // not a link: its message shows without one.
        tokens.retain(|t| t.kind.is_link());
        let openings = store
            .link_openings(&staff.tenant, id, STATUS_OPENINGS)
            .await
            .map_err(infra)?;
        let sessions = store
            .sessions_for_account(&staff.tenant, id, MAX_LISTED)
            .await
            .map_err(infra)?;
        let devices = store
            .devices_for_account(&staff.tenant, id, MAX_LISTED)
            .await
            .map_err(infra)?;
        let now = self.now();
        Ok(account_status(
            &account,
            &messages,
            &tokens,
            &openings,
            self.mailer().is_some(),
            self.config().mfa_policy(&account.tenant),
            now,
        )
        .with_trust(&sessions, &devices, self.config().session_idle_ttl, now))
    }

    /// The account's most recent webhook deliveries, newest first (at most
    /// [`STATUS_MESSAGES`]): what staff see beside its messages.
    /// Refused: `not_found`.
    pub async fn account_webhooks(
        &self,
        staff: &StaffActor,
        id: AccountId,
    ) -> Result<Vec<crate::WebhookStatus>, ServiceError<NotFoundError>> {
        self.load_account(staff, id).await?;
        let rows = self
            .store()
            .webhooks_for_account(&staff.tenant, id, STATUS_MESSAGES)
            .await
            .map_err(infra)?;
        Ok(rows.iter().map(crate::WebhookStatus::from).collect())
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
        // No account is written, so no version can conflict.
        self.commit_unversioned(decision, now).await?;
        tracing::info!(staff_id = %staff.staff_id, "human verification passed");
        count("portal_staff_human_verifications_total", "passed");
        Ok(())
    }
}
