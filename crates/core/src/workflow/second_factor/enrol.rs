//! Enrolling and removing factors, and recovery codes.
//!
//! - TOTP enrolment is pending until one valid code confirms it; confirming
//!   when nothing is pending (twice, say) is refused. Confirmation generates
//!   the recovery codes (shown once) and, during an enrolment required at
//!   sign-in, redeems the challenge and issues the session.
//! - Email codes as a factor are added by the signed-in client (or during
//!   required enrolment), with the current password checked by the service.
//! - Removing a factor needs the current password; under `required` the
//!   last one cannot be removed. Recovery codes go with the last TOTP factor.
//! - Regenerating recovery codes replaces them all.
//!
//! Every change is audited and notified ("this wasn't me" link).

use time::OffsetDateTime;

use super::{
    factor_event, recovery_code_hash, totp_associated_data, FactorNotice, SecondFactorError,
};
use crate::crypto::totp;
use crate::crypto::SecretKey;
use crate::domain::factor::{
    EmailFactor, PendingTotp, RecoveryCode, RecoveryCodes, SixDigitCode, StoredRecoveryCode,
    TotpFactor,
};
use crate::workflow::changes::client_event;
use crate::workflow::Decision;
use crate::{
    Account, AccountChange, AuditKind, Changes, EventId, FactorKind, MessageKind, MfaPolicy,
    Redemption, RequestContext, SessionRecord, TokenKind, TokenRecord,
};

/// An authenticator enrolment as shown to the client (once).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpEnrolment {
    /// The secret in base32, to type into an app.
    pub secret: String,
    /// The `otpauth://` URI (for the QR code).
    pub otpauth_uri: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment(<redacted>)")
    }
}

/// What [`decide_start_totp`] needs.
#[derive(Debug)]
pub struct StartTotpInput<'a> {
    /// The account as loaded.
    pub account: &'a Account,
    /// The tenant's policy.
    pub policy: &'a MfaPolicy,
    /// The server key.
    pub key: &'a SecretKey,
    /// 160 fresh random bits.
    pub secret: [u8; totp::SECRET_LEN],
    /// A fresh nonce for sealing it.
    pub nonce: [u8; crate::crypto::NONCE_LEN],
    /// The issuer shown by the app (the product name).
    pub issuer: &'a str,
}

fn require_allowed(policy: &MfaPolicy, kind: FactorKind) -> Result<(), SecondFactorError> {
    policy
        .allows(kind)
        .then_some(())
        .ok_or(SecondFactorError::NotAllowed)
}

/// Starts (or restarts) an authenticator enrolment: the sealed secret is
/// kept pending until confirmed. Refused when TOTP is not allowed or one is
/// already confirmed.
pub fn decide_start_totp(
    input: StartTotpInput<'_>,
    now: OffsetDateTime,
) -> Result<Decision<TotpEnrolment>, SecondFactorError> {
    let StartTotpInput {
        account,
        policy,
        key,
        secret,
        nonce,
        issuer,
    } = input;
    require_allowed(policy, FactorKind::Totp)?;
    if account.mfa.totp.is_some() {
        return Err(SecondFactorError::AlreadyEnrolled);
    }
    let mut updated = account.clone();
    updated.mfa.pending_totp = Some(PendingTotp {
        secret: key.seal(nonce, &totp_associated_data(account), &secret),
        created_at: now,
    });
    updated.updated_at = now;
    let outcome = TotpEnrolment {
        secret: totp::base32(&secret),
        otpauth_uri: totp::otpauth_uri(issuer, account.email.as_str(), &secret),
    };
    Ok(Decision::new(
        Changes::of_account(AccountChange::Update(updated)),
        outcome,
    ))
}

/// A challenge being completed by an enrolment (required at sign-in): it
/// is redeemed and this session issued in the same commit.
#[derive(Debug)]
pub struct EnrolmentSignIn<'a> {
    /// The challenge as loaded.
    pub challenge: &'a TokenRecord,
    /// The session to issue.
    pub session: SessionRecord,
}

/// What [`decide_confirm_totp`] needs.
#[derive(Debug)]
pub struct ConfirmTotpInput<'a> {
    /// The account as loaded.
    pub account: &'a Account,
    /// The tenant's policy.
    pub policy: &'a MfaPolicy,
    /// The server key.
    pub key: &'a SecretKey,
    /// The code the app shows.
    pub code: &'a SixDigitCode,
    /// Fresh recovery codes (shown once).
    pub recovery_codes: Vec<RecoveryCode>,
    /// The sign-in this enrolment completes, if it was required at sign-in.
    pub sign_in: Option<EnrolmentSignIn<'a>>,
    /// The "factor added" notice.
    pub notice: FactorNotice,
    /// The request.
    pub ctx: &'a RequestContext,
    /// The audit events' ids.
    pub event_ids: [EventId; 3],
}

/// Fresh recovery codes of `account`, by hash.
fn stored_codes(
    key: &SecretKey,
    account: &Account,
    codes: &[RecoveryCode],
    now: OffsetDateTime,
) -> RecoveryCodes {
    RecoveryCodes {
        codes: codes
            .iter()
            .map(|code| StoredRecoveryCode {
                hash: recovery_code_hash(key, account, code),
                used_at: None,
            })
            .collect(),
        created_at: now,
    }
}

/// Confirms the pending enrolment with one valid code: the factor is
/// confirmed (its step stored: the code cannot be replayed at sign-in),
/// recovery codes generated, the notice queued; during a required
/// enrolment the challenge is redeemed and the session issued. The outcome
/// is the recovery codes, to show once.
pub fn decide_confirm_totp(
    input: ConfirmTotpInput<'_>,
    now: OffsetDateTime,
) -> Result<Decision<Vec<RecoveryCode>>, SecondFactorError> {
    let ConfirmTotpInput {
        account,
        policy,
        key,
        code,
        recovery_codes,
        sign_in,
        notice,
        ctx,
        event_ids: [added_id, codes_id, signed_in_id],
    } = input;
    require_allowed(policy, FactorKind::Totp)?;
    let pending = match (&account.mfa.pending_totp, &account.mfa.totp) {
        (Some(pending), None) => pending,
        (None, _) | (Some(_), Some(_)) => return Err(SecondFactorError::NothingToConfirm),
    };
    let secret = key
        .open(&pending.secret, &totp_associated_data(account))
        .map_err(|_| SecondFactorError::SecretUnreadable)?;
    let step = totp::check(&secret, code.as_str(), now, None)
        .map_err(|_| SecondFactorError::InvalidCode)?;
    let mut updated = account.clone();
    updated.mfa.totp = Some(TotpFactor {
        secret: pending.secret.clone(),
        created_at: now,
        last_used_at: Some(now),
        last_step: Some(step),
    });
    updated.mfa.pending_totp = None;
    updated.mfa.recovery = Some(stored_codes(key, account, &recovery_codes, now));
    updated.updated_at = now;
    let (intent, not_me) = notice.to(MessageKind::FactorAdded, account, "totp", now);
    let mut changes = Changes {
        new_tokens: vec![not_me],
        audit: vec![
            factor_event(account, AuditKind::FactorAdded, "totp", ctx, added_id, now),
            client_event(
                account,
                AuditKind::RecoveryCodesGenerated,
                ctx,
                codes_id,
                now,
            ),
        ],
        ..Changes::default()
    };
    if let Some(sign_in) = sign_in {
        super::check_challenge(Some(sign_in.challenge), Some(account), now)?;
        updated.last_sign_in_at = Some(now);
        changes.redeem = Some(Redemption::of(
            sign_in.challenge.hash,
            TokenKind::SignInChallenge,
            now,
        ));
        changes.new_session = Some(sign_in.session);
        changes.audit.push(
            client_event(account, AuditKind::SignedIn, ctx, signed_in_id, now)
                .with_detail(serde_json::json!({ "second_factor": "totp_enrolment" })),
        );
    }
    changes.account = Some(AccountChange::Update(updated));
    Ok(Decision {
        changes,
        mail: vec![intent],
        outcome: recovery_codes,
    })
}

/// What adding or removing a factor needs (the current password was checked).
#[derive(Debug)]
pub struct FactorChangeInput<'a> {
    /// The account as loaded.
    pub account: &'a Account,
    /// The tenant's policy.
    pub policy: &'a MfaPolicy,
    /// The "factor added" or "factor removed" notice.
    pub notice: FactorNotice,
    /// The request.
    pub ctx: &'a RequestContext,
    /// The audit event's id.
    pub event_id: EventId,
}

impl FactorChangeInput<'_> {
    /// Writes `updated`, queues the notice with its "this wasn't me" token
    /// and records `audit` about `factor`.
    fn notified(
        self,
        updated: Account,
        message: MessageKind,
        audit: AuditKind,
        factor: &str,
        now: OffsetDateTime,
    ) -> Decision<()> {
        let (intent, not_me) = self.notice.to(message, self.account, factor, now);
        let event = factor_event(self.account, audit, factor, self.ctx, self.event_id, now);
        let changes = Changes {
            account: Some(AccountChange::Update(updated)),
            new_tokens: vec![not_me],
            audit: vec![event],
            ..Changes::default()
        };
        Decision {
            changes,
            mail: vec![intent],
            outcome: (),
        }
    }
}

/// Adds email codes as a factor. During a required enrolment the challenge
/// stays: the client then passes it with an emailed code.
pub fn decide_add_email_factor(
    input: FactorChangeInput<'_>,
    now: OffsetDateTime,
) -> Result<Decision<()>, SecondFactorError> {
    require_allowed(input.policy, FactorKind::EmailCode)?;
    if input.account.mfa.email.is_some() {
        return Err(SecondFactorError::AlreadyEnrolled);
    }
    let mut updated = input.account.clone();
    updated.mfa.email = Some(EmailFactor {
        created_at: now,
        last_used_at: None,
    });
    updated.updated_at = now;
    let (message, audit) = (MessageKind::FactorAdded, AuditKind::FactorAdded);
    Ok(input.notified(updated, message, audit, "email_code", now))
}

/// Removes a factor; under `required` (in effect) the last one is refused
/// with `second_factor_required` and nothing changes. Removing TOTP drops
/// its pending enrolment and, with no TOTP left, the recovery codes.
pub fn decide_remove_factor(
    input: FactorChangeInput<'_>,
    kind: FactorKind,
    now: OffsetDateTime,
) -> Result<Decision<()>, SecondFactorError> {
    let account = input.account;
    let enrolled = match kind {
        FactorKind::Totp => account.mfa.totp.is_some(),
        FactorKind::EmailCode => account.mfa.email.is_some(),
    };
    if !enrolled {
        return Err(SecondFactorError::NotEnrolled);
    }
    let others = account
        .mfa
        .enrolled(input.policy)
        .into_iter()
        .filter(|other| *other != kind)
        .count();
    if input.policy.requires_factor_at(now) && others == 0 {
        return Err(SecondFactorError::FactorRequired);
    }
    let mut updated = account.clone();
    match kind {
        FactorKind::Totp => {
            updated.mfa.totp = None;
            updated.mfa.pending_totp = None;
            updated.mfa.recovery = None;
        }
        FactorKind::EmailCode => {
            updated.mfa.email = None;
            updated.mfa.email_code = None;
        }
    }
    updated.updated_at = now;
    let (message, audit) = (MessageKind::FactorRemoved, AuditKind::FactorRemoved);
    Ok(input.notified(updated, message, audit, kind.as_str(), now))
}

/// Replaces every recovery code with `codes` (shown once). Refused without
/// a TOTP factor (the codes stand in for it).
pub fn decide_regenerate_recovery_codes(
    account: &Account,
    key: &SecretKey,
    codes: Vec<RecoveryCode>,
    ctx: &RequestContext,
    event_id: EventId,
    now: OffsetDateTime,
) -> Result<Decision<Vec<RecoveryCode>>, SecondFactorError> {
    if account.mfa.totp.is_none() {
        return Err(SecondFactorError::NotEnrolled);
    }
    let mut updated = account.clone();
    updated.mfa.recovery = Some(stored_codes(key, account, &codes, now));
    updated.updated_at = now;
    let changes = Changes {
        account: Some(AccountChange::Update(updated)),
        audit: vec![client_event(
            account,
            AuditKind::RecoveryCodesGenerated,
            ctx,
            event_id,
            now,
        )],
        ..Changes::default()
    };
    Ok(Decision::new(changes, codes))
}
