//! Sending an emailed sign-in code for a challenge: 6 digits, 10 minutes,
//! stored as its keyed hash (a new code replaces the last one and its
//! tries), queued through the outbox; the message body is redacted once
//! sent or expired, like a link's.

use time::{Duration, OffsetDateTime};

use super::{check_challenge, email_code_hash, SecondFactorError};
use crate::crypto::SecretKey;
use crate::domain::factor::{PendingEmailCode, SixDigitCode};
use crate::workflow::changes::client_event;
use crate::workflow::{Decision, MailIntent, MailSecret};
use crate::{
    Account, AccountChange, AuditKind, Changes, EventId, FactorKind, MessageKind, MfaPolicy,
    RequestContext, TokenRecord,
};

/// What [`decide_send_email_code`] needs, loaded and computed by the service.
#[derive(Debug)]
pub struct SendEmailCodeInput<'a> {
    /// The challenge as loaded.
    pub challenge: &'a TokenRecord,
    /// Its account as loaded.
    pub account: &'a Account,
    /// The tenant's policy.
    pub policy: &'a MfaPolicy,
    /// The server key.
    pub key: &'a SecretKey,
    /// The fresh code.
    pub code: SixDigitCode,
    /// How long it lives.
    pub ttl: Duration,
    /// Whether the account asked for too many codes lately.
    pub over_rate: bool,
    /// The request.
    pub ctx: &'a RequestContext,
    /// The audit event's id.
    pub event_id: EventId,
}

/// Sends a code: refused unless the challenge is usable and the account
/// has email codes as an allowed factor, and under the rate.
pub fn decide_send_email_code(
    input: SendEmailCodeInput<'_>,
    now: OffsetDateTime,
) -> Result<Decision<()>, SecondFactorError> {
    let SendEmailCodeInput {
        challenge,
        account,
        policy,
        key,
        code,
        ttl,
        over_rate,
        ctx,
        event_id,
    } = input;
    check_challenge(Some(challenge), Some(account), now)?;
    if account.mfa.email.is_none() || !policy.allows(FactorKind::EmailCode) {
        return Err(SecondFactorError::NotEnrolled);
    }
    if over_rate {
        return Err(SecondFactorError::RateLimited);
    }
    let expires_at = now + ttl;
    let mut updated = account.clone();
    updated.mfa.email_code = Some(PendingEmailCode {
        hash: email_code_hash(key, account, &code),
        expires_at,
        tries: 0,
    });
    updated.updated_at = now;
    let mut intent =
        MailIntent::to_account(MessageKind::SignInCode, account).with_vars(serde_json::json!({
            "code": code.as_str(),
            "expires_at": crate::mail::mail_time(expires_at),
        }));
    intent.secret = Some(MailSecret {
        hash: challenge.hash,
        expires_at,
    });
    let changes = Changes {
        account: Some(AccountChange::Update(updated)),
        audit: vec![client_event(
            account,
            AuditKind::EmailCodeSent,
            ctx,
            event_id,
            now,
        )],
        ..Changes::default()
    };
    Ok(Decision {
        changes,
        mail: vec![intent],
        outcome: (),
    })
}
