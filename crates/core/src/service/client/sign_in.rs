//! Signing in and out, and authenticating a session cookie.

use secrecy::{ExposeSecret, SecretString};

use super::super::transaction::{no_constraints, Step};
use super::super::{infra, ClientSession, InfraError, PortalService, ServiceError};
use super::{same_hash, SignInError, SignInOutcome, UnauthenticatedError};
use crate::hashing::Verification;
use crate::workflow::session;
use crate::workflow::sign_in::{
    check_throttle, decide_sign_in, parse_login, throttle_keys, Login, SignInInput, SignInRates,
    ThrottleCounts,
};
use crate::workflow::{Decision, NoRefusal};
use crate::{
    normalize_password, Account, Changes, PasswordHash, RawToken, RequestContext, TenantId,
};

/// What a sign-in attempt decides on: the account the login matched, the
/// hash the password was verified against, the verification, and a new
/// hash of the password when the stored one used old parameters.
struct Verified {
    account: Option<Account>,
    against: Option<PasswordHash>,
    verification: Verification,
    rehashed: Option<PasswordHash>,
}

impl PortalService {
    /// Signs a client in by username or email (a login with `@`) and
    /// password. Unknown logins cost the same as wrong passwords; over the
    /// throttle the attempt is refused with `rate_limited` before hashing.
    /// With a correct password on an account that needs a second factor
    /// (its tenant's [`MfaPolicy`](crate::MfaPolicy)), the outcome is a
    /// challenge and no session ([`SignInOutcome::SecondFactor`]).
    pub async fn sign_in(
        &self,
        tenant: &TenantId,
        ctx: &RequestContext,
        login: &str,
        password: SecretString,
    ) -> Result<SignInOutcome, ServiceError<SignInError>> {
        self.sign_in_on_device(tenant, ctx, login, password, None)
            .await
    }

    /// [`sign_in`](Self::sign_in) from a browser that may carry a device
    /// cookie (`device_token`): a device remembered for the account that
    /// signs in skips the second factor; any other (another account's,
    /// revoked, expired, unknown, malformed) is ignored.
    pub async fn sign_in_on_device(
        &self,
        tenant: &TenantId,
        ctx: &RequestContext,
        login: &str,
        password: SecretString,
        device_token: Option<&str>,
    ) -> Result<SignInOutcome, ServiceError<SignInError>> {
        let started = std::time::Instant::now();
        let result = async {
            let config = self.config();
            let now = self.now();
            let login = parse_login(login);
            let account = match &login {
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
            let first = self.verify_sign_in(account, &password).await?;
            // The password changed meanwhile: verify against the new one.
            let password = &password;
            let reload = move |stale: Verified| async move {
                let Some(current) = stale.account.as_ref() else {
                    return Err(ServiceError::Infrastructure(InfraError::PersistentConflict));
                };
                let reloaded = self.reload(current).await?;
                if same_hash(stale.against.as_ref(), reloaded.password_hash.as_ref()) {
                    Ok(Verified {
                        account: Some(reloaded),
                        ..stale
                    })
                } else {
                    self.verify_sign_in(Some(reloaded), password).await
                }
            };
            let session = self.fresh_session(now);
            let challenge = self.fresh_challenge(now);
            let policy = config.mfa_policy(tenant);
            let device = match device_token.map(RawToken::parse) {
                Some(Ok(raw)) => self.store().device(&raw.hash()).await.map_err(infra)?,
                Some(Err(_)) | None => None,
            };
            let decided = self
                .transact(now, no_constraints, first, reload, |verified| {
                    let decided = decide_sign_in(
                        SignInInput {
                            account: verified.account.as_ref(),
                            verification: verified.verification,
                            rehashed: verified.rehashed.clone(),
                            session_token: session.token.hash(),
                            session_absolute_ttl: session.ttl,
                            ctx,
                            event_id: self.new_event_id(),
                            policy,
                            challenge_token: &challenge.token,
                            challenge_ttl: config.challenge_ttl,
                            device: device.as_ref(),
                        },
                        now,
                    );
                    Ok(match decided {
                        Ok(decision) => Step::Commit(decision.map(Ok)),
                        Err(failure) => Step::Done(Err(failure)),
                    })
                })
                .await?;
            let failure = match decided {
                Ok(decided) => return Ok(challenge.outcome(session, decided)),
                Err(failure) => failure,
            };
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
            self.commit_unversioned(Decision::new(changes, ()), now)
                .await?;
            Err(ServiceError::Refused(failure.error))
        }
        .await;
        let label = match &result {
            Ok(SignInOutcome::SignedIn(_)) => "success",
            Ok(SignInOutcome::SecondFactor(_)) => "second_factor",
            Err(ServiceError::Refused(e)) => e.as_str(),
            Err(ServiceError::Infrastructure(_)) => "error",
        };
        metrics::counter!("portal_sign_ins_total", "result" => label).increment(1);
        metrics::histogram!("portal_sign_in_duration_seconds", "result" => label)
            .record(started.elapsed().as_secs_f64());
        result
    }

    /// Verifies `password` against `account`'s hash (the dummy hash when
    /// there is none) and re-hashes it when the stored hash is outdated.
    async fn verify_sign_in(
        &self,
        account: Option<Account>,
        password: &SecretString,
    ) -> Result<Verified, ServiceError<SignInError>> {
        let against = account.as_ref().and_then(|a| a.password_hash.clone());
        let verification = self
            .hasher()
            .verify(password.clone(), against.clone())
            .await?;
        let rehashed = if verification.matches && verification.needs_rehash {
            Some(
                self.hasher()
                    .hash(password.clone(), self.random_bytes())
                    .await?,
            )
        } else {
            None
        };
        Ok(Verified {
            account,
            against,
            verification,
            rehashed,
        })
    }

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
        self.commit_unversioned(decision, now).await
    }
}
