//! Completing a sign-in challenge with a code: TOTP (skew, replay),
//! a recovery code (single use, queues a notice) or an emailed code
//! (10 minutes, single use, 5 tries).
//!
//! A right code redeems the challenge (single use: of concurrent
//! completions exactly one wins), writes the factor's use on the account
//! (versioned: one TOTP step or one recovery code is accepted once) and
//! issues the session, in one commit. A wrong code is refused with
//! `second_factor_invalid` and recorded (`second_factor_failed`); an
//! emailed code also counts the try on the account. The service counts
//! every wrong code against the challenge (5 and it is dead) and the
//! sign-in throttle.

use time::OffsetDateTime;

use super::{
    check_challenge, email_code_hash, methods_of, recovery_code_hash, totp_associated_data,
    FactorCode, FactorNotice, SecondFactorError,
};
use crate::crypto::totp;
use crate::crypto::SecretKey;
use crate::domain::factor::EMAIL_CODE_TRIES;
use crate::workflow::changes::client_event;
use crate::workflow::Decision;
use crate::{
    Account, AccountChange, Actor, AuditKind, Changes, DeviceRecord, EventId, MessageKind,
    MfaPolicy, Redemption, RequestContext, SessionRecord, TokenKind, TokenRecord,
};

/// What [`decide_complete_challenge`] needs, loaded and computed by the service.
#[derive(Debug)]
pub struct CompleteChallengeInput<'a> {
    /// The challenge as loaded.
    pub challenge: &'a TokenRecord,
    /// Its account as loaded (the version guards the update).
    pub account: &'a Account,
    /// The tenant's policy.
    pub policy: &'a MfaPolicy,
    /// The server key.
    pub key: &'a SecretKey,
    /// The code as typed, parsed for its method.
    pub code: &'a FactorCode,
    /// The session to issue.
    pub session: SessionRecord,
    /// The notice a used recovery code queues.
    pub notice: FactorNotice,
    /// The request.
    pub ctx: &'a RequestContext,
    /// The audit events' ids (the sign-in, and a recovery code's use).
    pub event_ids: [EventId; 2],
    /// The device to remember when the code is right ("remember this
    /// device" ticked and the policy remembers devices:
    /// [`remember_device`](crate::workflow::trust::remember_device)).
    pub remember: Option<DeviceRecord>,
}

/// A decision whose outcome is the committed account, or a refusal whose
/// record (audit, tries) is committed all the same.
pub type Checked = Decision<Result<Account, SecondFactorError>>;

/// Decides a challenge completion. `Err` refuses with nothing to commit
/// (no usable challenge); `Ok` holds changes either way: the sign-in, or
/// the record of a wrong code.
pub fn decide_complete_challenge(
    input: CompleteChallengeInput<'_>,
    now: OffsetDateTime,
) -> Result<Checked, SecondFactorError> {
    let CompleteChallengeInput {
        challenge,
        account,
        policy,
        key,
        code,
        session,
        notice,
        ctx,
        event_ids: [event_id, second_event_id],
        remember,
    } = input;
    check_challenge(Some(challenge), Some(account), now)?;
    let method = code.method();
    let failed = |updated: Option<Account>, reason: &str| {
        let audit = crate::workflow::changes::account_event(
            account,
            &Actor::System,
            AuditKind::SecondFactorFailed,
            ctx,
            event_id,
            now,
        )
        .with_detail(serde_json::json!({ "method": method.as_str(), "reason": reason }));
        let error = if reason == "secret_unreadable" {
            SecondFactorError::SecretUnreadable
        } else {
            SecondFactorError::InvalidCode
        };
        let changes = Changes {
            account: updated.map(AccountChange::Update),
            audit: vec![audit],
            ..Changes::default()
        };
        Ok(Decision::new(changes, Err(error)))
    };
    if !methods_of(account, policy).contains(&method) {
        return failed(None, "method_unavailable");
    }
    let mut updated = account.clone();
    let mut mail = Vec::new();
    let mut new_tokens = Vec::new();
    let mut audit = Vec::new();
    match code {
        FactorCode::Totp(typed) => {
            let Some(factor) = updated.mfa.totp.as_mut() else {
                return failed(None, "method_unavailable");
            };
            let Ok(secret) = key.open(&factor.secret, &totp_associated_data(account)) else {
                return failed(None, "secret_unreadable");
            };
            match totp::check(&secret, typed.as_str(), now, factor.last_step) {
                Ok(step) => {
                    factor.last_step = Some(step);
                    factor.last_used_at = Some(now);
                }
                Err(totp::TotpRefusal::Mismatch) => return failed(None, "wrong_code"),
                Err(totp::TotpRefusal::Replayed) => return failed(None, "replayed"),
            }
        }
        FactorCode::Recovery(typed) => {
            let hash = recovery_code_hash(key, account, typed);
            let Some(codes) = updated.mfa.recovery.as_mut() else {
                return failed(None, "method_unavailable");
            };
            // Every unused code is compared (constant time each).
            let mut found = None;
            for (index, stored) in codes.codes.iter().enumerate() {
                if stored.used_at.is_none() && stored.hash.ct_eq(&hash) {
                    found = Some(index);
                }
            }
            let Some(index) = found else {
                return failed(None, "wrong_code");
            };
            codes.codes[index].used_at = Some(now);
            let left = codes.left();
            let (intent, not_me) =
                notice.to(MessageKind::RecoveryCodeUsed, account, "recovery_code", now);
            mail.push(intent.with_vars(serde_json::json!({
                "factor": "recovery_code",
                "changed_at": crate::mail::mail_time(now),
                "codes_left": left,
            })));
            new_tokens.push(not_me);
            audit.push(
                client_event(
                    account,
                    AuditKind::RecoveryCodeUsed,
                    ctx,
                    second_event_id,
                    now,
                )
                .with_detail(serde_json::json!({ "codes_left": left })),
            );
        }
        FactorCode::Email(typed) => {
            let Some(pending) = updated.mfa.email_code.as_mut() else {
                return failed(None, "no_code_sent");
            };
            if pending.expires_at <= now || pending.tries >= EMAIL_CODE_TRIES {
                return failed(None, "code_expired");
            }
            if !pending.hash.ct_eq(&email_code_hash(key, account, typed)) {
                pending.tries += 1;
                updated.updated_at = now;
                return failed(Some(updated), "wrong_code");
            }
            updated.mfa.email_code = None;
            if let Some(factor) = updated.mfa.email.as_mut() {
                factor.last_used_at = Some(now);
            }
        }
    }
    updated.last_sign_in_at = Some(now);
    updated.updated_at = now;
    audit.push(
        client_event(account, AuditKind::SignedIn, ctx, event_id, now).with_detail(
            serde_json::json!({
                "second_factor": method.as_str(),
                "remember_device": remember.is_some(),
            }),
        ),
    );
    let changes = Changes {
        redeem: Some(Redemption::of(
            challenge.hash,
            TokenKind::SignInChallenge,
            now,
        )),
        account: Some(AccountChange::Update(updated.clone())),
        new_tokens,
        new_session: Some(session),
        audit,
        new_device: remember,
        ..Changes::default()
    };
    updated.version += 1;
    Ok(Decision {
        changes,
        mail,
        outcome: Ok(updated),
    })
}
