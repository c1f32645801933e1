//! Managing second factors: the security overview, TOTP enrolment and
//! confirmation, email codes as a factor, removing a factor and
//! regenerating recovery codes.
//!
//! Enrolment (start and confirm TOTP, add email codes) is done by a
//! signed-in client, or — during an enrolment required at sign-in — with
//! the sign-in challenge instead of a session ([`FactorAuth::Challenge`]):
//! a challenge allows enrolment only while the account has no factor, so a
//! password alone never adds a factor to an account that has one.

use crate::workflow::trust::{DeviceView, SessionView};
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

use super::super::transaction::{no_constraints, Step};
use super::super::{infra, ClientSession, PortalService, ServiceError, SignedIn};
use crate::domain::factor::{FactorSummary, RecoveryCode, SixDigitCode, RECOVERY_CODE_COUNT};
use crate::workflow::rate_keys;
use crate::workflow::second_factor::enrol::{
    decide_add_email_factor, decide_confirm_totp, decide_regenerate_recovery_codes,
    decide_remove_factor, decide_start_totp, ConfirmTotpInput, EnrolmentSignIn, FactorChangeInput,
    StartTotpInput, TotpEnrolment,
};
use crate::workflow::second_factor::{gate, Gate, SecondFactorError};
use crate::{normalize_password, Account, FactorKind, RequestContext, StoreError, TokenRecord};

/// Who manages factors: a signed-in client, or a client in the middle of a
/// sign-in whose policy requires enrolment (the challenge cookie's raw token).
#[derive(Debug, Clone, Copy)]
pub enum FactorAuth<'a> {
    /// A signed-in client.
    Session(&'a ClientSession),
    /// The raw token of a sign-in challenge that requires enrolment.
    Challenge(&'a str),
}

/// The factors, sessions and remembered devices of an account (`GET
/// /api/portal/security`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecurityView {
    /// The tenant's policy state: `off`, `optional`, `required`, `required_from`.
    pub policy: &'static str,
    /// The factors the client may enrol.
    pub allowed: Vec<FactorKind>,
    /// The enrolled factors.
    pub factors: Vec<FactorSummary>,
    /// Unused recovery codes.
    pub recovery_codes_left: usize,
    /// How long "remember this device" lasts, in days (0: not offered).
    pub remember_device_days: u32,
    /// The live sessions, the caller's own marked `current`.
    pub sessions: Vec<SessionView>,
    /// The remembered devices in force.
    pub devices: Vec<DeviceView>,
}

impl SecurityView {
    /// The view of `account` under its tenant's policy at `now`.
    pub fn of(account: &Account, policy: &crate::MfaPolicy, now: OffsetDateTime) -> Self {
        let mfa = &account.mfa;
        Self {
            policy: policy.state_at(now),
            allowed: [FactorKind::Totp, FactorKind::EmailCode]
                .into_iter()
                .filter(|kind| policy.allows(*kind))
                .collect(),
            factors: mfa.summary(),
            recovery_codes_left: mfa.recovery.as_ref().map_or(0, |r| r.left()),
            remember_device_days: policy.remember_device_days,
            sessions: Vec::new(),
            devices: Vec::new(),
        }
    }
}

/// A confirmed authenticator: the recovery codes (show them once) and,
/// when it completed an enrolment required at sign-in, the new session.
#[derive(Debug, Clone)]
pub struct ConfirmedTotp {
    /// The recovery codes, in plain text this once.
    pub recovery_codes: Vec<RecoveryCode>,
    /// The session, when the confirmation completed a sign-in.
    pub signed_in: Option<SignedIn>,
}

/// The account a factor change acts on, and the challenge it may complete.
type Subject = (Account, Option<TokenRecord>);

impl PortalService {
    /// The security overview of a signed-in client: factors, recovery
    /// codes left, live sessions and remembered devices.
    pub async fn security(
        &self,
        session: &ClientSession,
    ) -> Result<SecurityView, ServiceError<SecondFactorError>> {
        let account = self.reload(&session.account).await?;
        let policy = self.config().mfa_policy(&account.tenant);
        Ok(SecurityView {
            sessions: self.sessions::<SecondFactorError>(session).await?,
            devices: self.devices::<SecondFactorError>(session).await?,
            ..SecurityView::of(&account, policy, self.now())
        })
    }

    /// The account `auth` stands for; a challenge only while enrolment is
    /// required (no factor yet), else `second_factor_required`.
    async fn factor_subject(
        &self,
        auth: FactorAuth<'_>,
        now: OffsetDateTime,
    ) -> Result<Subject, ServiceError<SecondFactorError>> {
        match auth {
            FactorAuth::Session(session) => Ok((self.reload(&session.account).await?, None)),
            FactorAuth::Challenge(token) => {
                let (record, account) = self.load_challenge(token, now).await?;
                let policy = self.config().mfa_policy(&account.tenant);
                match gate(&account, policy, now) {
                    Gate::Challenge {
                        enrolment_required: true,
                        ..
                    } => Ok((account, Some(record))),
                    Gate::Challenge { .. } | Gate::Session => {
                        Err(ServiceError::Refused(SecondFactorError::FactorRequired))
                    }
                }
            }
        }
    }

    async fn reload_subject(
        &self,
        (stale, record): Subject,
    ) -> Result<Subject, ServiceError<SecondFactorError>> {
        Ok((self.reload(&stale).await?, record))
    }

    /// Verifies the current password (throttled like a sign-in; a wrong one
    /// counts) before a factor change.
    async fn verify_current_password(
        &self,
        account: &Account,
        ctx: &RequestContext,
        password: &SecretString,
        now: OffsetDateTime,
    ) -> Result<(), ServiceError<SecondFactorError>> {
        let refused = ServiceError::Refused;
        let key = rate_keys::sign_in_account_ip(account.id, ctx.ip);
        let rate = self.config().sign_in_per_account_ip;
        if self.count(&key, rate, now).await.map_err(infra)? >= rate.limit {
            return Err(refused(SecondFactorError::RateLimited));
        }
        let verification = self
            .hasher()
            .verify(
                normalize_password(password.expose_secret()),
                account.password_hash.clone(),
            )
            .await?;
        if !verification.matches {
            self.hit(&key, rate, now).await.map_err(infra)?;
            return Err(refused(SecondFactorError::InvalidCredentials));
        }
        Ok(())
    }

    /// What adding or removing a factor of `account` decides on.
    fn factor_change<'a>(
        &'a self,
        account: &'a Account,
        ctx: &'a RequestContext,
    ) -> FactorChangeInput<'a> {
        FactorChangeInput {
            account,
            policy: self.config().mfa_policy(&account.tenant),
            notice: self.factor_notice(),
            ctx,
            event_id: self.new_event_id(),
        }
    }

    fn recovery_codes(&self) -> Vec<RecoveryCode> {
        (0..RECOVERY_CODE_COUNT)
            .map(|_| RecoveryCode::from_random(self.random_bytes()))
            .collect()
    }

    /// Starts an authenticator enrolment: a fresh 160-bit secret, sealed and
    /// kept pending until confirmed; returns it (base32) and its
    /// `otpauth://` URI. Starting again replaces a pending one.
    pub async fn start_totp(
        &self,
        auth: FactorAuth<'_>,
    ) -> Result<TotpEnrolment, ServiceError<SecondFactorError>> {
        let now = self.now();
        let key = self.mfa_key()?;
        let first = self.factor_subject(auth, now).await?;
        let secret = self.random_bytes();
        let nonce = self.random_bytes();
        let issuer = &self.config().product_name;
        self.transact(
            now,
            no_constraints,
            first,
            |subject| self.reload_subject(subject),
            |(account, _)| {
                Step::commit_or_refuse(decide_start_totp(
                    StartTotpInput {
                        account,
                        policy: self.config().mfa_policy(&account.tenant),
                        key,
                        secret,
                        nonce,
                        issuer,
                    },
                    now,
                ))
            },
        )
        .await
    }

    /// Confirms the pending authenticator with one valid code: recovery
    /// codes are generated (returned once); with a challenge, the sign-in
    /// completes with a session. Refused when nothing is pending
    /// (`validation_failed`) or the code is wrong (`second_factor_invalid`).
    pub async fn confirm_totp(
        &self,
        ctx: &RequestContext,
        auth: FactorAuth<'_>,
        code: &str,
    ) -> Result<ConfirmedTotp, ServiceError<SecondFactorError>> {
        let now = self.now();
        let key = self.mfa_key()?;
        let code = SixDigitCode::parse(code)
            .map_err(|_| ServiceError::Refused(SecondFactorError::InvalidCode))?;
        let first = self.factor_subject(auth, now).await?;
        let codes = self.recovery_codes();
        let session = self.fresh_session(now);
        let recovery_codes = self
            .transact(
                now,
                |e| {
                    matches!(e, StoreError::TokenNotRedeemable)
                        .then_some(SecondFactorError::NoChallenge)
                },
                first.clone(),
                |subject| self.reload_subject(subject),
                |(account, challenge)| {
                    Step::commit_or_refuse(decide_confirm_totp(
                        ConfirmTotpInput {
                            account,
                            policy: self.config().mfa_policy(&account.tenant),
                            key,
                            code: &code,
                            recovery_codes: codes.clone(),
                            sign_in: challenge.as_ref().map(|challenge| EnrolmentSignIn {
                                challenge,
                                session: session.record(account, ctx),
                            }),
                            notice: self.factor_notice(),
                            ctx,
                            event_ids: [
                                self.new_event_id(),
                                self.new_event_id(),
                                self.new_event_id(),
                            ],
                        },
                        now,
                    ))
                },
            )
            .await?;
        let signed_in = match first.1 {
            Some(_) => Some(session.signed_in(self.reload(&first.0).await?)),
            None => None,
        };
        Ok(ConfirmedTotp {
            recovery_codes,
            signed_in,
        })
    }

    /// Adds email codes as a factor, after the current password. During a
    /// required enrolment the challenge stays, to be passed with an emailed code.
    pub async fn add_email_factor(
        &self,
        ctx: &RequestContext,
        auth: FactorAuth<'_>,
        current_password: SecretString,
    ) -> Result<(), ServiceError<SecondFactorError>> {
        let now = self.now();
        self.mfa_key()?;
        let first = self.factor_subject(auth, now).await?;
        self.verify_current_password(&first.0, ctx, &current_password, now)
            .await?;
        self.transact(
            now,
            no_constraints,
            first,
            |subject| self.reload_subject(subject),
            |(account, _)| {
                Step::commit_or_refuse(decide_add_email_factor(
                    self.factor_change(account, ctx),
                    now,
                ))
            },
        )
        .await
    }

    /// Removes a factor of the signed-in client, after the current
    /// password. Under `required` the last one is refused
    /// (`second_factor_required`) and nothing changes.
    pub async fn remove_factor(
        &self,
        ctx: &RequestContext,
        session: &ClientSession,
        kind: FactorKind,
        current_password: SecretString,
    ) -> Result<(), ServiceError<SecondFactorError>> {
        let now = self.now();
        let first = self.reload(&session.account).await?;
        self.verify_current_password(&first, ctx, &current_password, now)
            .await?;
        self.transact(
            now,
            no_constraints,
            first,
            |stale| async move { self.reload(&stale).await },
            |account| {
                Step::commit_or_refuse(decide_remove_factor(
                    self.factor_change(account, ctx),
                    kind,
                    now,
                ))
            },
        )
        .await
    }

    /// Replaces every recovery code of the signed-in client (after the
    /// current password); returns the new ones, to show once.
    pub async fn regenerate_recovery_codes(
        &self,
        ctx: &RequestContext,
        session: &ClientSession,
        current_password: SecretString,
    ) -> Result<Vec<RecoveryCode>, ServiceError<SecondFactorError>> {
        let now = self.now();
        let key = self.mfa_key()?;
        let first = self.reload(&session.account).await?;
        self.verify_current_password(&first, ctx, &current_password, now)
            .await?;
        let codes = self.recovery_codes();
        self.transact(
            now,
            no_constraints,
            first,
            |stale| async move { self.reload(&stale).await },
            |account| {
                Step::commit_or_refuse(decide_regenerate_recovery_codes(
                    account,
                    key,
                    codes.clone(),
                    ctx,
                    self.new_event_id(),
                    now,
                ))
            },
        )
        .await
    }
}
