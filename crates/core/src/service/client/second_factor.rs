//! The second-factor step of a sign-in: completing a challenge with a code,
//! and sending an emailed code. The outcome types every sign-in path
//! (password, reset, invitation) shares live here too.

use time::OffsetDateTime;

use super::super::transaction::{no_constraints, Step};
use super::super::{infra, InfraError, PortalService, RememberedDevice, ServiceError, SignedIn};
use super::FreshSession;
use crate::crypto::SecretKey;
use crate::domain::factor::SixDigitCode;
use crate::workflow::rate_keys;
use crate::workflow::second_factor::check::{decide_complete_challenge, CompleteChallengeInput};
use crate::workflow::second_factor::email_code::{decide_send_email_code, SendEmailCodeInput};
use crate::workflow::second_factor::{
    check_challenge, FactorCode, FactorNotice, SecondFactorError,
};
use crate::workflow::sign_in::SignInDecided;
use crate::workflow::trust::remember_device;
use crate::{Account, RawToken, RequestContext, SecondFactorMethod, StoreError, TokenRecord};

pub use crate::workflow::second_factor::enrol::TotpEnrolment;

/// A sign-in that needs a second factor: no session yet, a challenge. Its
/// raw token goes in the challenge cookie (`portal_mfa`, `__Host-portal_mfa`
/// under https), never in a link or a page.
#[derive(Debug, Clone)]
pub struct SecondFactorChallenge {
    /// The challenge's raw token, for its cookie.
    pub token: RawToken,
    /// When it stops working (5 minutes by default).
    pub expires_at: OffsetDateTime,
    /// The client must enrol a factor before any session (`required`).
    pub enrolment_required: bool,
    /// How it can be passed (when enrolment is required: what can be enrolled).
    pub methods: Vec<SecondFactorMethod>,
}

/// What a correct password (or a completed reset or invitation) leads to.
#[derive(Debug, Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "made once per sign-in and matched at once, never stored"
)]
pub enum SignInOutcome {
    /// Signed in: a session.
    SignedIn(SignedIn),
    /// A second factor first.
    SecondFactor(SecondFactorChallenge),
}

impl SignInOutcome {
    /// The session, if signed in.
    pub fn signed_in(self) -> Option<SignedIn> {
        match self {
            Self::SignedIn(signed_in) => Some(signed_in),
            Self::SecondFactor(_) => None,
        }
    }
}

/// A challenge token drawn once per call, before the retry loop.
pub(super) struct FreshChallenge {
    pub(super) token: RawToken,
    pub(super) expires_at: OffsetDateTime,
}

impl FreshChallenge {
    /// The caller's outcome for a decided gate.
    pub(super) fn outcome(self, session: FreshSession, decided: SignInDecided) -> SignInOutcome {
        match decided {
            SignInDecided::SignedIn(account) => SignInOutcome::SignedIn(session.signed_in(account)),
            SignInDecided::Challenged {
                enrolment_required,
                methods,
            } => SignInOutcome::SecondFactor(SecondFactorChallenge {
                token: self.token,
                expires_at: self.expires_at,
                enrolment_required,
                methods,
            }),
        }
    }
}

impl PortalService {
    pub(super) fn fresh_challenge(&self, now: OffsetDateTime) -> FreshChallenge {
        FreshChallenge {
            token: self.new_token(),
            expires_at: now + self.config().challenge_ttl,
        }
    }

    /// The server key, or `not_allowed` when second factors are off (a
    /// service with a policy other than `off` always has one).
    pub(super) fn mfa_key(&self) -> Result<&SecretKey, ServiceError<SecondFactorError>> {
        self.config()
            .secret_key
            .as_ref()
            .ok_or(ServiceError::Refused(SecondFactorError::NotAllowed))
    }

    pub(super) fn factor_notice(&self) -> FactorNotice {
        FactorNotice {
            not_me: self.new_token(),
            not_me_ttl: self.config().not_me_ttl,
        }
    }

    /// A usable challenge (by its cookie's raw token) and its account.
    pub(super) async fn load_challenge(
        &self,
        challenge_token: &str,
        now: OffsetDateTime,
    ) -> Result<(TokenRecord, Account), ServiceError<SecondFactorError>> {
        let hash = RawToken::parse(challenge_token)
            .map_err(|_| ServiceError::Refused(SecondFactorError::NoChallenge))?
            .hash();
        self.load_usable_token(&hash, now, check_challenge, SecondFactorError::NoChallenge)
            .await
    }

    /// Completes a sign-in challenge with a code (`method`: `totp`,
    /// `recovery_code`, `email_code`): redeems it and issues the session.
    ///
    /// Refusals: `second_factor_invalid` for a malformed, wrong, replayed,
    /// used or expired code or a method the account cannot use;
    /// `unauthenticated` for a challenge that is unknown, expired, used or
    /// dead after `config.challenge_tries` wrong codes (a right code then
    /// fails too). Every wrong code counts against the challenge and the
    /// sign-in throttle and is audited (`second_factor_failed`).
    pub async fn complete_second_factor(
        &self,
        ctx: &RequestContext,
        challenge_token: &str,
        method: &str,
        code: &str,
    ) -> Result<SignedIn, ServiceError<SecondFactorError>> {
        self.complete_second_factor_remembering(ctx, challenge_token, method, code, false)
            .await
    }

    /// [`complete_second_factor`](Self::complete_second_factor) with
    /// "remember this device" (`remember`): when ticked and the policy
    /// remembers devices (`remember_device_days` > 0), the right code also
    /// remembers this browser ([`SignedIn::remembered_device`]: the raw
    /// token for the device cookie).
    pub async fn complete_second_factor_remembering(
        &self,
        ctx: &RequestContext,
        challenge_token: &str,
        method: &str,
        code: &str,
        remember: bool,
    ) -> Result<SignedIn, ServiceError<SecondFactorError>> {
        let refused = ServiceError::Refused;
        let now = self.now();
        let config = self.config();
        let first = self.load_challenge(challenge_token, now).await?;
        let tries_key = rate_keys::second_factor_challenge(&first.0.hash);
        let tries = self
            .store()
            .rate_count(&tries_key, first.0.created_at)
            .await
            .map_err(infra)?;
        if tries >= config.challenge_tries {
            return Err(refused(SecondFactorError::NoChallenge));
        }
        let key = self.mfa_key()?;
        let parsed = SecondFactorMethod::parse(method)
            .ok_or(SecondFactorError::InvalidCode)
            .and_then(|method| FactorCode::parse(method, code));
        let code = match parsed {
            Ok(code) => code,
            Err(error) => {
                self.count_wrong_code(&first.0, &first.1, ctx, now).await?;
                return Err(refused(error));
            }
        };
        let session = self.fresh_session(now);
        let (record, account) = (&first.0, &first.1);
        let policy = config.mfa_policy(&account.tenant);
        let device_token = remember.then(|| self.new_token());
        let reload = move |(record, _): (TokenRecord, Account)| async move {
            let account = self
                .store()
                .account(&record.tenant, record.account_id)
                .await
                .map_err(infra)?
                .ok_or(ServiceError::Infrastructure(InfraError::PersistentConflict))?;
            Ok((record, account))
        };
        let result = self
            .transact(
                now,
                |e| {
                    matches!(e, StoreError::TokenNotRedeemable)
                        .then_some(SecondFactorError::NoChallenge)
                },
                first.clone(),
                reload,
                |(record, account)| {
                    let decided = decide_complete_challenge(
                        CompleteChallengeInput {
                            challenge: record,
                            account,
                            policy,
                            key,
                            code: &code,
                            session: session.record(account, ctx),
                            notice: self.factor_notice(),
                            ctx,
                            event_ids: [self.new_event_id(), self.new_event_id()],
                            remember: device_token
                                .as_ref()
                                .and_then(|t| remember_device(account, t, ctx, policy, now)),
                        },
                        now,
                    );
                    Step::commit_or_refuse(decided)
                },
            )
            .await?;
        match result {
            Ok(account) => {
                let device = device_token.and_then(|token| {
                    let device = remember_device(&account, &token, ctx, policy, now)?;
                    Some(RememberedDevice {
                        token,
                        expires_at: device.expires_at,
                    })
                });
                Ok(SignedIn {
                    remembered_device: device,
                    ..session.signed_in(account)
                })
            }
            Err(error) => {
                if error == SecondFactorError::SecretUnreadable {
                    tracing::error!(
                        account_id = %account.id,
                        "cannot decrypt the TOTP secret of account {}: was --secret-key changed?",
                        account.id
                    );
                }
                self.count_wrong_code(record, account, ctx, now).await?;
                Err(refused(error))
            }
        }
    }

    /// Counts a wrong code against its challenge and the sign-in throttle.
    async fn count_wrong_code(
        &self,
        challenge: &TokenRecord,
        account: &Account,
        ctx: &RequestContext,
        now: OffsetDateTime,
    ) -> Result<(), ServiceError<SecondFactorError>> {
        let config = self.config();
        self.store()
            .hit_rate(
                &rate_keys::second_factor_challenge(&challenge.hash),
                challenge.created_at,
                challenge.expires_at,
            )
            .await
            .map_err(infra)?;
        for (key, rate) in [
            (
                rate_keys::sign_in_account_ip(account.id, ctx.ip),
                config.sign_in_per_account_ip,
            ),
            (
                rate_keys::sign_in_account(account.id),
                config.sign_in_per_account,
            ),
            (rate_keys::sign_in_ip(ctx.ip), config.sign_in_per_ip),
        ] {
            self.hit(&key, rate, now).await.map_err(infra)?;
        }
        Ok(())
    }

    /// Sends an emailed sign-in code for a challenge (6 digits, 10 minutes,
    /// replacing any earlier one), queued through the outbox. Refused when
    /// the account has no email-code factor (`validation_failed`), past
    /// `config.email_code_rate` (`rate_limited`), or without a usable
    /// challenge (`unauthenticated`).
    pub async fn send_sign_in_code(
        &self,
        ctx: &RequestContext,
        challenge_token: &str,
    ) -> Result<(), ServiceError<SecondFactorError>> {
        let now = self.now();
        let config = self.config();
        let first = self.load_challenge(challenge_token, now).await?;
        let key = self.mfa_key()?;
        let sent = self
            .hit(
                &rate_keys::email_codes(first.1.id),
                config.email_code_rate,
                now,
            )
            .await
            .map_err(infra)?;
        let over_rate = sent > config.email_code_rate.limit;
        let code = SixDigitCode::from_random(self.random_bytes());
        let reload = move |(record, _): (TokenRecord, Account)| async move {
            self.load_challenge(challenge_token, now)
                .await
                .map(|(_, account)| (record, account))
        };
        self.transact(now, no_constraints, first, reload, |(record, account)| {
            Step::commit_or_refuse(decide_send_email_code(
                SendEmailCodeInput {
                    challenge: record,
                    account,
                    policy: config.mfa_policy(&account.tenant),
                    key,
                    code: code.clone(),
                    ttl: config.email_code_ttl,
                    over_rate,
                    ctx,
                    event_id: self.new_event_id(),
                },
                now,
            ))
        })
        .await
    }
}
