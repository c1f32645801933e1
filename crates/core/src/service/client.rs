//! Client-side service operations: forgot password, reset, accept an
//! invitation, sign in and out, sessions, username and password changes,
//! link pages, fresh invitations and "this wasn't me".
//!
//! Each operation loads state, calls its pure workflow
//! ([`crate::workflow`]) with `now` and fresh random material, and commits
//! the decision in one store transaction. Argon2 runs on the bounded pool
//! and only after the cheap checks passed (token loaded and usable,
//! confirmation, policy, throttle). A version conflict reloads and decides
//! again, up to `config.conflict_retries` times.
//!
//! ```
//! use std::sync::Arc;
//! use portal_access_core::{memory::MemoryStore, service::PortalService};
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
use time::OffsetDateTime;

use super::{
    infra, ClientSession, InfraError, PasswordChangeReason, PortalEvent, PortalService,
    ServiceError, SignedIn,
};
use crate::config::Rate;
use crate::workflow::accept_invitation::{
    check_invitation_token, decide_accept_invitation, parse_username, AcceptInvitationInput,
};
use crate::workflow::change_password::{
    check_current_password, check_new_password, decide_change_password, ChangePasswordInput,
};
use crate::workflow::complete_reset::{
    check_reset_token, decide_complete_reset, CompleteResetInput,
};
use crate::workflow::forgot_password::{decide_forgot_password, ForgotPasswordInput};
use crate::workflow::fresh_invitation::{
    decide_fresh_invitation, fresh_invitation_available, FreshInvitationInput,
};
use crate::workflow::link_opening::decide_link_opening;
use crate::workflow::not_me::{decide_secure_account, SecureAccountInput};
use crate::workflow::sign_in::{
    check_throttle, decide_sign_in, parse_login, throttle_keys, Login, SignInInput, SignInRates,
    ThrottleCounts,
};
use crate::workflow::username::{decide_change_username, ChangeUsernameOutcome};
use crate::workflow::{rate_keys, session, window_start, Decision, NoRefusal, Refusal};
use crate::{
    normalize_password, Account, CaptchaError, CaptchaVerdict, Changes, EmailAddress, PasswordHash,
    RawToken, RequestContext, StoreError, TenantId, TokenHash, TokenKind, TokenRecord,
};

pub use crate::workflow::accept_invitation::AcceptInvitationError;
pub use crate::workflow::change_password::ChangePasswordError;
pub use crate::workflow::complete_reset::CompleteResetError;
pub use crate::workflow::forgot_password::ForgotPasswordError;
pub use crate::workflow::link_opening::LinkView;
pub use crate::workflow::not_me::SecureAccountError;
pub use crate::workflow::session::UnauthenticatedError;
pub use crate::workflow::sign_in::SignInError;
pub use crate::workflow::username::ChangeUsernameError;

/// Counts one more conflict; past the configured retries, gives up.
fn next_attempt<E: Refusal>(attempt: &mut u32, retries: u32) -> Result<(), ServiceError<E>> {
    if *attempt >= retries {
        return Err(ServiceError::Infrastructure(InfraError::PersistentConflict));
    }
    *attempt += 1;
    Ok(())
}

/// Whether two stored password hashes are the same (constant time).
fn same_hash(a: Option<&PasswordHash>, b: Option<&PasswordHash>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.as_str().as_bytes().ct_eq(b.as_str().as_bytes()).into(),
        _ => false,
    }
}

impl PortalService {
    // ---------------------------------------------------------------- helpers

    async fn hit(&self, key: &str, rate: Rate, now: OffsetDateTime) -> Result<u32, StoreError> {
        let start = window_start(now, rate.window);
        self.store().hit_rate(key, start, start + rate.window).await
    }

    async fn count(&self, key: &str, rate: Rate, now: OffsetDateTime) -> Result<u32, StoreError> {
        self.store()
            .rate_count(key, window_start(now, rate.window))
            .await
    }

    /// The link token with this hash and its account.
    async fn load_token(
        &self,
        hash: &TokenHash,
    ) -> Result<(Option<TokenRecord>, Option<Account>), StoreError> {
        let Some(record) = self.store().token(hash).await? else {
            return Ok((None, None));
        };
        let account = self
            .store()
            .account(&record.tenant, record.account_id)
            .await?;
        Ok((Some(record), account))
    }

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
        let mut attempt = 0;
        loop {
            // Looked up even for a malformed address: the same reads every time.
            let account = self
                .store()
                .account_by_email(tenant, &lookup)
                .await
                .map_err(infra)?;
            let decision = decide_forgot_password(
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
            );
            // Committed in every case; an empty commit costs a store nothing,
            // so a known address does more work here: `forgot_min_duration`
            // (applied by the caller) hides the difference.
            match self.commit(decision, now).await? {
                Ok(outcome) => {
                    metrics::counter!("portal_forgot_password_total", "outcome" => outcome.as_str())
                        .increment(1);
                    return Ok(());
                }
                Err(StoreError::Conflict) => next_attempt(&mut attempt, config.conflict_retries)?,
                Err(e) => return Err(infra(e)),
            }
        }
    }

    // --------------------------------------------------------- complete reset

    /// Completes a password reset with the link's token: sets the password,
    /// revokes every other reset link and every session, clears the sign-in
    /// throttle, signs the client in with a fresh session and queues the
    /// password-changed notice. Any unusable token is `token_invalid`; of
    /// concurrent redemptions of one token exactly one succeeds.
    pub async fn reset_password(
        &self,
        ctx: &RequestContext,
        token: &str,
        password: SecretString,
        password_confirmation: SecretString,
    ) -> Result<SignedIn, ServiceError<CompleteResetError>> {
        let result = self
            .reset_password_inner(ctx, token, password, password_confirmation)
            .await;
        let label = match &result {
            Ok(_) => "success",
            Err(ServiceError::Refused(e)) => e.code().as_str(),
            Err(ServiceError::Infrastructure(_)) => "error",
        };
        metrics::counter!("portal_password_resets_total", "result" => label).increment(1);
        result
    }

    async fn reset_password_inner(
        &self,
        ctx: &RequestContext,
        token: &str,
        password: SecretString,
        password_confirmation: SecretString,
    ) -> Result<SignedIn, ServiceError<CompleteResetError>> {
        let refused = ServiceError::Refused;
        let Ok(raw) = RawToken::parse(token) else {
            return Err(refused(CompleteResetError::TokenInvalid));
        };
        let hash = raw.hash();
        let now = self.now();
        let config = self.config();
        let (record, account) = self.load_token(&hash).await.map_err(infra)?;
        check_reset_token(record.as_ref(), account.as_ref(), now).map_err(refused)?;
        let (Some(mut record), Some(mut account)) = (record, account) else {
            return Err(refused(CompleteResetError::TokenInvalid));
        };
        let checked = check_new_password(
            &config.password_policy,
            &password,
            &password_confirmation,
            account.username.as_ref(),
            &account.email,
        )
        .map_err(|e| refused(e.into()))?;
        let new_hash = self
            .hasher()
            .hash(
                SecretString::from(checked.expose().to_owned()),
                self.random_bytes(),
            )
            .await?;
        let mut attempt = 0;
        loop {
            let session_token = self.new_token();
            let new_session = session::issue(
                &account,
                session_token.hash(),
                ctx,
                now,
                config.session_absolute_ttl,
            );
            let expires_at = new_session.expires_at;
            let notice = self
                .password_changed_notice(&account, ctx, PasswordChangeReason::Reset, now)
                .await;
            let decision = decide_complete_reset(
                CompleteResetInput {
                    token: &record,
                    account: &account,
                    new_hash: new_hash.clone(),
                    new_session,
                    notice,
                    ctx,
                    event_id: self.new_event_id(),
                },
                now,
            )
            .map_err(refused)?;
            match self.commit(decision, now).await? {
                Ok(account) => {
                    return Ok(SignedIn {
                        account,
                        session_token,
                        expires_at,
                    })
                }
                Err(StoreError::TokenNotRedeemable) => {
                    return Err(refused(CompleteResetError::TokenInvalid))
                }
                Err(StoreError::Conflict) => {
                    next_attempt(&mut attempt, config.conflict_retries)?;
                    let (r, a) = self.load_token(&hash).await.map_err(infra)?;
                    check_reset_token(r.as_ref(), a.as_ref(), now).map_err(refused)?;
                    let (Some(r), Some(a)) = (r, a) else {
                        return Err(refused(CompleteResetError::TokenInvalid));
                    };
                    check_new_password(
                        &config.password_policy,
                        &password,
                        &password_confirmation,
                        a.username.as_ref(),
                        &a.email,
                    )
                    .map_err(|e| refused(e.into()))?;
                    (record, account) = (r, a);
                }
                Err(e) => return Err(infra(e)),
            }
        }
    }

    // ------------------------------------------------------ accept invitation

    /// Accepts an invitation: sets the chosen username (unique per tenant)
    /// and password, marks the invitation accepted, and signs the client in.
    pub async fn accept_invitation(
        &self,
        ctx: &RequestContext,
        token: &str,
        username: &str,
        password: SecretString,
        password_confirmation: SecretString,
    ) -> Result<SignedIn, ServiceError<AcceptInvitationError>> {
        let refused = ServiceError::Refused;
        let Ok(raw) = RawToken::parse(token) else {
            return Err(refused(AcceptInvitationError::TokenInvalid));
        };
        let hash = raw.hash();
        let now = self.now();
        let config = self.config();
        let (record, account) = self.load_token(&hash).await.map_err(infra)?;
        check_invitation_token(record.as_ref(), account.as_ref(), now).map_err(refused)?;
        let (Some(mut record), Some(mut account)) = (record, account) else {
            return Err(refused(AcceptInvitationError::TokenInvalid));
        };
        let username = parse_username(username).map_err(refused)?;
        // A fast answer before hashing; the store's unique index decides at commit.
        if let Some(holder) = self
            .store()
            .account_by_username(&account.tenant, username.key())
            .await
            .map_err(infra)?
        {
            if holder.id != account.id {
                return Err(refused(AcceptInvitationError::UsernameTaken));
            }
        }
        let checked = check_new_password(
            &config.password_policy,
            &password,
            &password_confirmation,
            Some(&username),
            &account.email,
        )
        .map_err(|e| refused(e.into()))?;
        let password_hash = self
            .hasher()
            .hash(
                SecretString::from(checked.expose().to_owned()),
                self.random_bytes(),
            )
            .await?;
        let mut attempt = 0;
        loop {
            let session_token = self.new_token();
            let new_session = session::issue(
                &account,
                session_token.hash(),
                ctx,
                now,
                config.session_absolute_ttl,
            );
            let expires_at = new_session.expires_at;
            let decision = decide_accept_invitation(
                AcceptInvitationInput {
                    token: &record,
                    account: &account,
                    username: username.clone(),
                    password_hash: password_hash.clone(),
                    new_session,
                    ctx,
                    event_id: self.new_event_id(),
                },
                now,
            )
            .map_err(refused)?;
            match self.commit(decision, now).await? {
                Ok(account) => {
                    metrics::counter!("portal_invitations_accepted_total").increment(1);
                    return Ok(SignedIn {
                        account,
                        session_token,
                        expires_at,
                    });
                }
                Err(StoreError::TokenNotRedeemable) => {
                    return Err(refused(AcceptInvitationError::TokenInvalid))
                }
                Err(StoreError::UsernameTaken) => {
                    return Err(refused(AcceptInvitationError::UsernameTaken))
                }
                Err(StoreError::Conflict) => {
                    next_attempt(&mut attempt, config.conflict_retries)?;
                    let (r, a) = self.load_token(&hash).await.map_err(infra)?;
                    check_invitation_token(r.as_ref(), a.as_ref(), now).map_err(refused)?;
                    let (Some(r), Some(a)) = (r, a) else {
                        return Err(refused(AcceptInvitationError::TokenInvalid));
                    };
                    (record, account) = (r, a);
                }
                Err(e) => return Err(infra(e)),
            }
        }
    }

    // ---------------------------------------------------------------- sign in

    /// Signs a client in by username or email (a login with `@`) and
    /// password. Unknown logins cost the same as wrong passwords; over the
    /// throttle the attempt is refused with `rate_limited` before hashing.
    pub async fn sign_in(
        &self,
        tenant: &TenantId,
        ctx: &RequestContext,
        login: &str,
        password: SecretString,
    ) -> Result<SignedIn, ServiceError<SignInError>> {
        let started = std::time::Instant::now();
        let result = self.sign_in_inner(tenant, ctx, login, password).await;
        let label = match &result {
            Ok(_) => "success",
            Err(ServiceError::Refused(e)) => e.as_str(),
            Err(ServiceError::Infrastructure(_)) => "error",
        };
        metrics::counter!("portal_sign_ins_total", "result" => label).increment(1);
        metrics::histogram!("portal_sign_in_duration_seconds", "result" => label)
            .record(started.elapsed().as_secs_f64());
        result
    }

    async fn sign_in_inner(
        &self,
        tenant: &TenantId,
        ctx: &RequestContext,
        login: &str,
        password: SecretString,
    ) -> Result<SignedIn, ServiceError<SignInError>> {
        let config = self.config();
        let now = self.now();
        let login = parse_login(login);
        let mut account = match &login {
            Login::Email(email) => self.store().account_by_email(tenant, email).await,
            Login::Username(key) => self.store().account_by_username(tenant, key).await,
            Login::Unusable(_) => Ok(None),
        }
        .map_err(infra)?;
        let keys = throttle_keys(tenant, &login, account.as_ref(), ctx.ip);
        let rates = SignInRates::from_config(config);
        let counts = ThrottleCounts {
            account_ip: self
                .count(&keys.account_ip, rates.account_ip, now)
                .await
                .map_err(infra)?,
            account: self
                .count(&keys.account, rates.account, now)
                .await
                .map_err(infra)?,
            ip: self.count(&keys.ip, rates.ip, now).await.map_err(infra)?,
        };
        check_throttle(counts, rates).map_err(ServiceError::Refused)?;

        let password = normalize_password(password.expose_secret());
        let mut verified_against = account.as_ref().and_then(|a| a.password_hash.clone());
        let mut verification = self
            .hasher()
            .verify(password.clone(), verified_against.clone())
            .await?;
        let mut attempt = 0;
        loop {
            let rehashed = if verification.matches && verification.needs_rehash {
                Some(
                    self.hasher()
                        .hash(password.clone(), self.random_bytes())
                        .await?,
                )
            } else {
                None
            };
            let session_token = self.new_token();
            let decided = decide_sign_in(
                SignInInput {
                    account: account.as_ref(),
                    verification,
                    rehashed,
                    session_token: session_token.hash(),
                    session_absolute_ttl: config.session_absolute_ttl,
                    ctx,
                    event_id: self.new_event_id(),
                },
                now,
            );
            let decision = match decided {
                Ok(decision) => decision,
                Err(failure) => {
                    if failure.counts_as_failure {
                        self.hit(&keys.account_ip, rates.account_ip, now)
                            .await
                            .map_err(infra)?;
                        self.hit(&keys.account, rates.account, now)
                            .await
                            .map_err(infra)?;
                        self.hit(&keys.ip, rates.ip, now).await.map_err(infra)?;
                    }
                    // One commit either way (empty for unknown logins).
                    let changes = Changes {
                        audit: failure.audit.map(|a| *a).into_iter().collect(),
                        ..Changes::default()
                    };
                    self.commit(Decision::new(changes, ()), now)
                        .await?
                        .map_err(infra)?;
                    return Err(ServiceError::Refused(failure.error));
                }
            };
            let expires_at = decision
                .changes
                .new_session
                .as_ref()
                .map(|s| s.expires_at)
                .unwrap_or(now + config.session_absolute_ttl);
            match self.commit(decision, now).await? {
                Ok(account) => {
                    return Ok(SignedIn {
                        account,
                        session_token,
                        expires_at,
                    })
                }
                Err(StoreError::Conflict) => {
                    next_attempt(&mut attempt, config.conflict_retries)?;
                    let Some(current) = account.as_ref() else {
                        return Err(ServiceError::Infrastructure(InfraError::PersistentConflict));
                    };
                    let reloaded = self.reload(current).await?;
                    // The password changed meanwhile: verify against the new one.
                    if !same_hash(verified_against.as_ref(), reloaded.password_hash.as_ref()) {
                        verified_against = reloaded.password_hash.clone();
                        verification = self
                            .hasher()
                            .verify(password.clone(), verified_against.clone())
                            .await?;
                    }
                    account = Some(reloaded);
                }
                Err(e) => return Err(infra(e)),
            }
        }
    }

    // --------------------------------------------------------------- sessions

    /// The signed-in client of a session cookie. Revoked, idle-expired,
    /// absolutely expired sessions and sessions of disabled or archived
    /// accounts are `unauthenticated`. Writes `last_seen_at` at most once a
    /// minute.
    pub async fn authenticate(
        &self,
        session_token: &str,
    ) -> Result<ClientSession, ServiceError<UnauthenticatedError>> {
        let Ok(raw) = RawToken::parse(session_token) else {
            return Err(ServiceError::Refused(UnauthenticatedError::NoSession));
        };
        let hash = raw.hash();
        let now = self.now();
        let (session, account) = match self
            .store()
            .session_and_account(&hash)
            .await
            .map_err(infra)?
        {
            Some((session, account)) => (Some(session), account),
            None => (None, None),
        };
        let check = session::validate(
            session.as_ref(),
            account.as_ref(),
            now,
            self.config().session_idle_ttl,
        )
        .map_err(ServiceError::Refused)?;
        let (Some(mut session), Some(account)) = (session, account) else {
            return Err(ServiceError::Refused(UnauthenticatedError::NoSession));
        };
        if check.touch {
            self.store()
                .touch_session(&hash, now)
                .await
                .map_err(infra)?;
            session.last_seen_at = now;
        }
        Ok(ClientSession { account, session })
    }

    /// Signs out: revokes this session.
    pub async fn sign_out(
        &self,
        ctx: &RequestContext,
        session: &ClientSession,
    ) -> Result<(), ServiceError<NoRefusal>> {
        let now = self.now();
        let decision = session::decide_sign_out(
            &session.account,
            &session.session,
            ctx,
            self.new_event_id(),
            now,
        );
        self.commit(decision, now).await?.map_err(infra)
    }

    // --------------------------------------------------------------- username

    /// Changes the signed-in client's username (unique per tenant,
    /// case-insensitively); the client is told by email.
    pub async fn change_username(
        &self,
        session: &ClientSession,
        ctx: &RequestContext,
        username: &str,
    ) -> Result<(), ServiceError<ChangeUsernameError>> {
        let now = self.now();
        let mut account = session.account.clone();
        let mut attempt = 0;
        loop {
            let decision =
                decide_change_username(&account, username, ctx, self.new_event_id(), now)
                    .map_err(ServiceError::Refused)?;
            if decision.outcome == ChangeUsernameOutcome::Unchanged {
                return Ok(());
            }
            match self.commit(decision, now).await? {
                Ok(_) => return Ok(()),
                Err(StoreError::UsernameTaken) => {
                    return Err(ServiceError::Refused(ChangeUsernameError::UsernameTaken))
                }
                Err(StoreError::Conflict) => {
                    next_attempt(&mut attempt, self.config().conflict_retries)?;
                    account = self.reload(&account).await?;
                }
                Err(e) => return Err(infra(e)),
            }
        }
    }

    // --------------------------------------------------------------- password

    /// Changes the signed-in client's password: verifies the current one,
    /// checks the new one, revokes every session (this one included) and
    /// issues a new one, and queues the password-changed notice.
    pub async fn change_password(
        &self,
        session: &ClientSession,
        ctx: &RequestContext,
        current_password: SecretString,
        password: SecretString,
        password_confirmation: SecretString,
    ) -> Result<SignedIn, ServiceError<ChangePasswordError>> {
        let refused = ServiceError::Refused;
        let config = self.config();
        let now = self.now();
        let mut account = self.reload(&session.account).await?;
        let checked = check_new_password(
            &config.password_policy,
            &password,
            &password_confirmation,
            account.username.as_ref(),
            &account.email,
        )
        .map_err(|e| refused(e.into()))?;
        // Guesses of the current password count against the sign-in throttle.
        let key = rate_keys::sign_in_account_ip(account.id, ctx.ip);
        let rate = config.sign_in_per_account_ip;
        if self.count(&key, rate, now).await.map_err(infra)? >= rate.limit {
            return Err(refused(ChangePasswordError::RateLimited));
        }
        let verified_against = account.password_hash.clone();
        let verification = self
            .hasher()
            .verify(
                normalize_password(current_password.expose_secret()),
                verified_against.clone(),
            )
            .await?;
        if !verification.matches {
            self.hit(&key, rate, now).await.map_err(infra)?;
        }
        check_current_password(verification.matches).map_err(refused)?;
        let new_hash = self
            .hasher()
            .hash(
                SecretString::from(checked.expose().to_owned()),
                self.random_bytes(),
            )
            .await?;
        let mut attempt = 0;
        loop {
            let session_token = self.new_token();
            let new_session = session::issue(
                &account,
                session_token.hash(),
                ctx,
                now,
                config.session_absolute_ttl,
            );
            let expires_at = new_session.expires_at;
            let notice = self
                .password_changed_notice(&account, ctx, PasswordChangeReason::ChangedByClient, now)
                .await;
            let decision = decide_change_password(
                ChangePasswordInput {
                    account: &account,
                    new_hash: new_hash.clone(),
                    new_session,
                    notice,
                    ctx,
                    event_id: self.new_event_id(),
                },
                now,
            )
            .map_err(refused)?;
            match self.commit(decision, now).await? {
                Ok(account) => {
                    return Ok(SignedIn {
                        account,
                        session_token,
                        expires_at,
                    })
                }
                Err(StoreError::Conflict) => {
                    next_attempt(&mut attempt, config.conflict_retries)?;
                    account = self.reload(&account).await?;
                    if !same_hash(verified_against.as_ref(), account.password_hash.as_ref()) {
                        // Changed meanwhile: the current password verified is stale.
                        return Err(refused(ChangePasswordError::InvalidCredentials));
                    }
                }
                Err(e) => return Err(infra(e)),
            }
        }
    }

    // -------------------------------------------------------------- link pages

    /// A GET/HEAD of a link page: never consumes or changes the token;
    /// records the opening when the token exists (any state).
    pub async fn open_link(
        &self,
        ctx: &RequestContext,
        kind: TokenKind,
        token: &str,
    ) -> Result<LinkView, ServiceError<NoRefusal>> {
        let Ok(raw) = RawToken::parse(token) else {
            return Ok(LinkView::Invalid {
                fresh_invitation_available: false,
            });
        };
        let now = self.now();
        let (record, account) = self.load_token(&raw.hash()).await.map_err(infra)?;
        let decision = decide_link_opening(kind, record.as_ref(), account.as_ref(), ctx, now);
        if decision.changes.is_empty() {
            return Ok(decision.outcome);
        }
        self.commit(decision, now).await?.map_err(infra)
    }

    /// "Send me a fresh invitation" from an expired or superseded
    /// invitation link. Always `Ok(())`; sends only when the account is
    /// still pending, not archived, with access enabled, and the
    /// per-account rate allows.
    pub async fn request_fresh_invitation(
        &self,
        ctx: &RequestContext,
        token: &str,
    ) -> Result<(), ServiceError<NoRefusal>> {
        let Ok(raw) = RawToken::parse(token) else {
            return Ok(());
        };
        let hash = raw.hash();
        let config = self.config();
        let now = self.now();
        let (mut record, mut account) = self.load_token(&hash).await.map_err(infra)?;
        let over_rate = match (&record, &account) {
            (Some(r), Some(a)) if fresh_invitation_available(r, a, now) => {
                self.hit(
                    &rate_keys::fresh_invitation(a.id),
                    config.fresh_invitation_rate,
                    now,
                )
                .await
                .map_err(infra)?
                    > config.fresh_invitation_rate.limit
            }
            _ => false,
        };
        let mut attempt = 0;
        loop {
            let decision = decide_fresh_invitation(
                FreshInvitationInput {
                    token: record.as_ref(),
                    account: account.as_ref(),
                    over_rate,
                    new_token: self.new_token(),
                    invitation_ttl: config.invitation_ttl,
                    ctx,
                    event_id: self.new_event_id(),
                },
                now,
            );
            let outcome = decision.outcome;
            if decision.changes.is_empty() {
                tracing::debug!(?outcome, "fresh invitation not sent");
                return Ok(());
            }
            match self.commit(decision, now).await? {
                Ok(_) => return Ok(()),
                Err(StoreError::Conflict) => {
                    next_attempt(&mut attempt, config.conflict_retries)?;
                    (record, account) = self.load_token(&hash).await.map_err(infra)?;
                }
                Err(e) => return Err(infra(e)),
            }
        }
    }

    /// "This wasn't me" (POST of the link in a password-changed notice):
    /// revokes every session, clears the password, revokes pending reset
    /// links, notifies staff and publishes [`PortalEvent::AccountSecured`].
    pub async fn secure_account(
        &self,
        ctx: &RequestContext,
        token: &str,
    ) -> Result<(), ServiceError<SecureAccountError>> {
        let refused = ServiceError::Refused;
        let Ok(raw) = RawToken::parse(token) else {
            return Err(refused(SecureAccountError::TokenInvalid));
        };
        let hash = raw.hash();
        let config = self.config();
        let now = self.now();
        let (mut record, mut account) = self.load_token(&hash).await.map_err(infra)?;
        let mut attempt = 0;
        loop {
            let decision = decide_secure_account(
                SecureAccountInput {
                    token: record.as_ref(),
                    account: account.as_ref(),
                    staff_notice_address: config.staff_notice_address.as_deref(),
                    ctx,
                    event_id: self.new_event_id(),
                },
                now,
            )
            .map_err(refused)?;
            match self.commit(decision, now).await? {
                Ok(secured) => {
                    metrics::counter!("portal_accounts_secured_total").increment(1);
                    self.publish(PortalEvent::AccountSecured {
                        tenant: secured.tenant,
                        account_id: secured.id,
                        at: now,
                    });
                    return Ok(());
                }
                Err(StoreError::TokenNotRedeemable) => {
                    return Err(refused(SecureAccountError::TokenInvalid))
                }
                Err(StoreError::Conflict) => {
                    next_attempt(&mut attempt, config.conflict_retries)?;
                    (record, account) = self.load_token(&hash).await.map_err(infra)?;
                }
                Err(e) => return Err(infra(e)),
            }
        }
    }
}
