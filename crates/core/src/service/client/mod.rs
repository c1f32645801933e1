//! Client-side service operations: forgot password, reset, accept an
//! invitation, sign in and out, sessions, username and password changes,
//! link pages, fresh invitations and "this wasn't me".
//!
//! Each operation loads state, calls its pure workflow
//! ([`crate::workflow`]) with `now` and fresh random material, and commits
//! the decision in one store transaction through
//! [`PortalService::transact`](super::transaction) (one `now` per call; a
//! version conflict reloads and decides again, up to
//! `config.conflict_retries` times). Argon2 runs on the bounded pool, once,
//! and only after the cheap checks passed (token loaded and usable,
//! confirmation, policy, throttle); the GeoIP lookup and User-Agent parsing
//! of a notice and the new session's token are also done once, before the
//! loop.
//!
//! ```
//! use std::sync::Arc;
//! use portal_access_core::{testing::MemoryStore, service::PortalService};
//! use portal_access_core::config::{HashingConfig, PortalConfig};
//! use portal_access_core::{RequestContext, TenantId};
//! use portal_access_core::workflow::{ErrorCode, Refusal};
//! use secrecy::SecretString;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let mut config = PortalConfig::new("https://portal.example.com");
//! config.hashing = HashingConfig { memory_kib: 256, iterations: 1, ..HashingConfig::default() };
//! let service = PortalService::builder(Arc::new(MemoryStore::new()))
//!     .config(config)
//!     .build()
//!     .unwrap();
//! let tenant = TenantId::new("firm").unwrap();
//! let ctx = RequestContext::default();
//!
//! // Forgot-password answers the same whether or not the address has an account.
//! service.forgot_password(&tenant, &ctx, "nobody@example.com", None).await.unwrap();
//!
//! // An unknown login is refused like a wrong password.
//! let refused = service
//!     .sign_in(&tenant, &ctx, "nobody", SecretString::from("some password"))
//!     .await
//!     .unwrap_err();
//! assert_eq!(refused.refusal().unwrap().code(), ErrorCode::InvalidCredentials);
//! # });
//! ```

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use super::notice::PasswordNotice;
use super::transaction::{no_constraints, Step};
use super::{infra, InfraError, PortalService, ServiceError, SignedIn};
use crate::config::Rate;
use crate::workflow::change_password::{check_new_password, NewPasswordError, PasswordChange};
use crate::workflow::forgot_password::{decide_forgot_password, ForgotPasswordInput};
use crate::workflow::{rate_keys, session, window_start, Refusal};
use crate::{
    Account, CaptchaError, CaptchaVerdict, EmailAddress, PasswordHash, RawToken, RequestContext,
    SessionRecord, StoreError, TenantId, TokenHash, TokenRecord, Username,
};

/// A workflow's check that a loaded link token (and its account) is usable.
type TokenCheck<E> = fn(Option<&TokenRecord>, Option<&Account>, OffsetDateTime) -> Result<(), E>;

mod account;
mod factors;
mod links;
mod second_factor;
mod sign_in;
mod tokens;
mod trust;

pub use crate::domain::factor::FactorSummary;
pub use crate::workflow::second_factor::SecondFactorError;
pub use factors::{ConfirmedTotp, FactorAuth, SecurityView};
pub use second_factor::{SecondFactorChallenge, SignInOutcome, TotpEnrolment};

pub use crate::workflow::accept_invitation::AcceptInvitationError;
pub use crate::workflow::change_password::ChangePasswordError;
pub use crate::workflow::complete_reset::CompleteResetError;
pub use crate::workflow::forgot_password::ForgotPasswordError;
pub use crate::workflow::link_opening::LinkView;
pub use crate::workflow::not_me::SecureAccountError;
pub use crate::workflow::session::UnauthenticatedError;
pub use crate::workflow::sign_in::SignInError;
pub use crate::workflow::trust::{DeviceView, SessionView};
pub use crate::workflow::username::ChangeUsernameError;

/// Whether two stored password hashes are the same (constant time).
fn same_hash(a: Option<&PasswordHash>, b: Option<&PasswordHash>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.as_str().as_bytes().ct_eq(b.as_str().as_bytes()).into(),
        (Some(_), None) | (None, Some(_)) => false,
    }
}

/// The session a successful sign-in, reset, invitation or password change
/// issues: its token is drawn once per call, before the retry loop.
struct FreshSession {
    token: RawToken,
    now: OffsetDateTime,
    ttl: Duration,
}

impl FreshSession {
    /// The session record for `account` (as loaded).
    fn record(&self, account: &Account, ctx: &RequestContext) -> SessionRecord {
        session::issue(account, self.token.hash(), ctx, self.now, self.ttl)
    }

    /// What the caller gets once `account` is committed.
    fn signed_in(self, account: Account) -> SignedIn {
        SignedIn {
            account,
            session_token: self.token,
            expires_at: self.now + self.ttl,
            remembered_device: None,
        }
    }
}

/// A client's new password, prepared once per call: its hash, the
/// request's part of the notice and the new session.
struct PreparedPassword {
    hash: PasswordHash,
    notice: PasswordNotice,
    session: FreshSession,
}

impl PreparedPassword {
    /// The change of `account` (as loaded) one attempt decides on.
    fn change<'a>(
        &self,
        service: &PortalService,
        account: &Account,
        ctx: &'a RequestContext,
    ) -> PasswordChange<'a> {
        PasswordChange {
            new_hash: self.hash.clone(),
            new_session: self.session.record(account, ctx),
            notice: self.notice.for_account(service, account, self.session.now),
            ctx,
            event_id: service.new_event_id(),
        }
    }
}

impl PortalService {
    // ---------------------------------------------------------------- helpers

    fn fresh_session(&self, now: OffsetDateTime) -> FreshSession {
        FreshSession {
            token: self.new_token(),
            now,
            ttl: self.config().session_absolute_ttl,
        }
    }

    async fn hit(&self, key: &str, rate: Rate, now: OffsetDateTime) -> Result<u32, StoreError> {
        let start = window_start(now, rate.window);
        self.store().hit_rate(key, start, start + rate.window).await
    }

    async fn count(&self, key: &str, rate: Rate, now: OffsetDateTime) -> Result<u32, StoreError> {
        self.store()
            .rate_count(key, window_start(now, rate.window))
            .await
    }

    /// Loads a link token that `check` finds usable, with its account;
    /// anything else is refused with `invalid` (or `check`'s own refusal).
    async fn load_usable_token<E: Refusal>(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
        check: TokenCheck<E>,
        invalid: E,
    ) -> Result<(TokenRecord, Account), ServiceError<E>> {
        let (record, account) = self.load_token(hash).await?;
        check(record.as_ref(), account.as_ref(), now).map_err(ServiceError::Refused)?;
        match (record, account) {
            (Some(record), Some(account)) => Ok((record, account)),
            _ => Err(ServiceError::Refused(invalid)),
        }
    }

    /// The link token with this hash and its account.
    async fn load_token<E: Refusal>(
        &self,
        hash: &TokenHash,
    ) -> Result<(Option<TokenRecord>, Option<Account>), ServiceError<E>> {
        let Some(record) = self.store().token(hash).await.map_err(infra)? else {
            return Ok((None, None));
        };
        let account = self
            .store()
            .account(&record.tenant, record.account_id)
            .await
            .map_err(infra)?;
        Ok((Some(record), account))
    }

    /// Checks a chosen password (policy with the account's username and
    /// address, then the confirmation) and hashes it, once, on the pool.
    async fn hash_new_password(
        &self,
        password: &SecretString,
        confirmation: &SecretString,
        username: Option<&Username>,
        email: &EmailAddress,
    ) -> Result<PasswordHash, ServiceError<NewPasswordError>> {
        let checked = check_new_password(
            &self.config().password_policy,
            password,
            confirmation,
            username,
            email,
        )
        .map_err(ServiceError::Refused)?;
        Ok(self
            .hasher()
            .hash(
                SecretString::from(checked.expose().to_owned()),
                self.random_bytes(),
            )
            .await?)
    }

    /// The account again, after a conflict; gone counts as a persistent conflict.
    async fn reload<E: Refusal>(&self, account: &Account) -> Result<Account, ServiceError<E>> {
        self.store()
            .account(&account.tenant, account.id)
            .await
            .map_err(infra)?
            .ok_or(ServiceError::Infrastructure(InfraError::PersistentConflict))
    }

    // -------------------------------------------------------- forgot password

    /// Forgot password (self-service). Always the same answer, `Ok(())`,
    /// whatever the address (unknown, disabled, archived, pending,
    /// rate-limited, malformed): the same store reads and one commit happen
    /// in every case, and the answer takes at least
    /// `config.forgot_min_duration`. The only refusal is `captcha_failed`
    /// when `config.forgot_requires_captcha` is set.
    pub async fn forgot_password(
        &self,
        tenant: &TenantId,
        ctx: &RequestContext,
        email: &str,
        captcha_response: Option<SecretString>,
    ) -> Result<(), ServiceError<ForgotPasswordError>> {
        let started = tokio::time::Instant::now();
        let result = async {
            if self.config().forgot_requires_captcha {
                self.forgot_captcha(ctx, captcha_response).await?;
            }
            self.forgot_password_inner(tenant, ctx, email).await
        }
        .await;
        tokio::time::sleep_until(started + self.config().forgot_min_duration).await;
        metrics::histogram!("portal_forgot_password_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        result
    }

    async fn forgot_captcha(
        &self,
        ctx: &RequestContext,
        response: Option<SecretString>,
    ) -> Result<(), ServiceError<ForgotPasswordError>> {
        let Some(verifier) = self.captcha() else {
            tracing::error!("forgot_requires_captcha is set but no CaptchaVerifier is configured");
            return Err(ServiceError::Infrastructure(InfraError::Captcha(
                CaptchaError::new(
                    "forgot_requires_captcha is set but no CaptchaVerifier is configured",
                ),
            )));
        };
        let Some(response) = response.filter(|r| !r.expose_secret().trim().is_empty()) else {
            return Err(ServiceError::Refused(ForgotPasswordError::CaptchaFailed));
        };
        match verifier.verify(&response, ctx.ip).await {
            Ok(CaptchaVerdict::Passed) => Ok(()),
            Ok(CaptchaVerdict::Failed { .. }) => {
                Err(ServiceError::Refused(ForgotPasswordError::CaptchaFailed))
            }
            Err(e) => Err(ServiceError::Infrastructure(InfraError::Captcha(e))),
        }
    }

    async fn forgot_password_inner(
        &self,
        tenant: &TenantId,
        ctx: &RequestContext,
        email: &str,
    ) -> Result<(), ServiceError<ForgotPasswordError>> {
        let config = self.config();
        let now = self.now();
        let parsed = EmailAddress::parse(email).ok();
        let lookup = parsed
            .as_ref()
            .map(|e| e.normalized().to_owned())
            .unwrap_or_else(|| email.trim().to_lowercase());
        let by_address = self
            .hit(
                &rate_keys::forgot_address(tenant, &lookup),
                config.forgot_per_address,
                now,
            )
            .await
            .map_err(infra)?;
        let by_ip = self
            .hit(&rate_keys::forgot_ip(ctx.ip), config.forgot_per_ip, now)
            .await
            .map_err(infra)?;
        let over_rate =
            by_address > config.forgot_per_address.limit || by_ip > config.forgot_per_ip.limit;
        // Looked up even for a malformed address: the same reads every time.
        let lookup = &lookup;
        let load = move || async move {
            self.store()
                .account_by_email(tenant, lookup)
                .await
                .map_err(infra)
        };
        let first = load().await?;
        let outcome = self
            .transact(
                now,
                no_constraints,
                first,
                move |_| load(),
                |account| {
                    // Committed in every case; an empty commit costs a store
                    // nothing, so a known address does more work here:
                    // `forgot_min_duration` (applied by the caller) hides the
                    // difference.
                    Ok(Step::Commit(decide_forgot_password(
                        ForgotPasswordInput {
                            tenant,
                            email: parsed.as_ref(),
                            account: account.as_ref(),
                            over_rate,
                            new_token: self.new_token(),
                            reset_ttl: config.reset_ttl,
                            invitation_ttl: config.invitation_ttl,
                            notify_unknown_address: config.notify_unknown_address,
                            forgot_url: config.portal_url("/forgot-password", None),
                            ctx,
                            event_id: self.new_event_id(),
                        },
                        now,
                    )))
                },
            )
            .await?;
        metrics::counter!("portal_forgot_password_total", "outcome" => outcome.as_str())
            .increment(1);
        Ok(())
    }
}
