//! The rules of second factors, one test each.

use time::Duration;

use super::check::{decide_complete_challenge, Checked, CompleteChallengeInput};
use super::email_code::{decide_send_email_code, SendEmailCodeInput};
use super::test_support::*;
use super::*;
use crate::crypto::totp;
use crate::domain::factor::{MfaMode, PendingEmailCode, SixDigitCode};
use crate::{AccountChange, Changes};

fn complete(
    account: &Account,
    code: FactorCode,
    at: OffsetDateTime,
) -> Result<Checked, SecondFactorError> {
    complete_with(
        account,
        &challenge(account),
        &policy(MfaMode::Optional),
        code,
        at,
    )
}

fn complete_with(
    account: &Account,
    challenge: &TokenRecord,
    policy: &MfaPolicy,
    code: FactorCode,
    at: OffsetDateTime,
) -> Result<Checked, SecondFactorError> {
    decide_complete_challenge(
        CompleteChallengeInput {
            challenge,
            account,
            policy,
            key: &key(),
            code: &code,
            session: session(account),
            notice: notice(),
            ctx: &ctx(),
            event_ids: [event_id(1), event_id(2)],
            remember: None,
        },
        at,
    )
}

fn totp(offset: i64) -> FactorCode {
    FactorCode::parse(SecondFactorMethod::Totp, &totp_code(offset)).unwrap()
}

fn recovery(text: &str) -> FactorCode {
    FactorCode::parse(SecondFactorMethod::RecoveryCode, text).unwrap()
}

fn updated(changes: &Changes) -> &Account {
    match &changes.account {
        Some(AccountChange::Update(account)) => account,
        other => panic!("expected an update, got {other:?}"),
    }
}

// ------------------------------------------------------------------- gates

/// The code step, with enrolment first or not, offering `methods`.
fn challenge_gate(enrolment_required: bool, methods: Vec<SecondFactorMethod>) -> Gate {
    Gate::Challenge {
        enrolment_required,
        methods,
    }
}

#[test]
fn under_an_optional_policy_a_client_without_a_factor_signs_in_at_once() {
    assert_eq!(
        gate(&accepted_account(), &policy(MfaMode::Optional), now()),
        Gate::Session
    );
}

#[test]
fn an_enrolled_authenticator_is_asked_for_with_recovery_codes_as_the_alternative() {
    let asked = gate(&totp_account(), &policy(MfaMode::Optional), now());
    let methods = vec![SecondFactorMethod::Totp, SecondFactorMethod::RecoveryCode];
    assert_eq!(asked, challenge_gate(false, methods));
}

#[test]
fn under_required_a_client_without_a_factor_must_enrol_before_any_session() {
    let asked = gate(&accepted_account(), &policy(MfaMode::Required), now());
    let methods = vec![SecondFactorMethod::Totp, SecondFactorMethod::EmailCode];
    assert_eq!(asked, challenge_gate(true, methods));
}

#[test]
fn required_from_a_later_date_does_not_ask_for_enrolment_yet() {
    let announced = MfaPolicy {
        required_from: Some(now().date() + Duration::days(1)),
        ..policy(MfaMode::Required)
    };
    assert_eq!(gate(&accepted_account(), &announced, now()), Gate::Session);
}

#[test]
fn with_the_policy_off_no_factor_is_asked_for() {
    assert_eq!(
        gate(&totp_account(), &policy(MfaMode::Off), now()),
        Gate::Session
    );
}

#[test]
fn a_factor_the_policy_no_longer_allows_is_not_asked_for() {
    let no_totp = MfaPolicy {
        factors: crate::domain::factor::AllowedFactors {
            totp: false,
            email_code: true,
        },
        ..policy(MfaMode::Optional)
    };
    assert_eq!(gate(&totp_account(), &no_totp, now()), Gate::Session);
}

#[test]
fn an_emailed_link_signs_in_when_the_inbox_is_the_only_factor() {
    let optional = policy(MfaMode::Optional);
    assert!(matches!(
        gate(&email_account(), &optional, now()),
        Gate::Challenge { .. }
    ));
    assert_eq!(link_gate(&email_account(), &optional, now()), Gate::Session);
}

#[test]
fn an_emailed_link_never_bypasses_an_authenticator() {
    assert!(matches!(
        link_gate(&totp_account(), &policy(MfaMode::Optional), now()),
        Gate::Challenge {
            enrolment_required: false,
            ..
        }
    ));
}

#[test]
fn a_reset_with_an_authenticator_keeps_the_new_password_but_gives_a_challenge_not_a_session() {
    let account = totp_account();
    let mut signed_in = account.clone();
    signed_in.last_sign_in_at = Some(now());
    signed_in.password_hash = Some(crate::PasswordHash::new("$argon2id$new"));
    let decision = Decision::new(
        Changes {
            account: Some(AccountChange::Update(signed_in.clone())),
            new_session: Some(session(&account)),
            ..Changes::default()
        },
        signed_in,
    );

    let gated = gate_link_sign_in(
        decision,
        &account,
        &policy(MfaMode::Optional),
        &token(80),
        Duration::minutes(5),
        now(),
    );

    assert!(gated.changes.new_session.is_none());
    assert!(is_challenge(&gated.changes.new_tokens[0]));
    assert_eq!(gated.changes.new_tokens[0].hash, token(80).hash());
    let stored = updated(&gated.changes);
    assert_eq!(
        stored.password_hash.as_ref().unwrap().as_str(),
        "$argon2id$new"
    );
    assert_eq!(stored.last_sign_in_at, account.last_sign_in_at);
    assert!(gated.outcome.signed_in().is_none());
}

// ------------------------------------------------------------- challenges

#[test]
fn a_right_authenticator_code_redeems_the_challenge_and_issues_the_session_in_one_commit() {
    let account = totp_account();
    let d = complete(&account, totp(0), now()).unwrap();
    let signed_in = d.outcome.clone().unwrap();
    assert_eq!(
        d.changes.redeem.as_ref().unwrap().kind,
        TokenKind::SignInChallenge
    );
    assert!(d.changes.new_session.is_some());
    let factor = updated(&d.changes).mfa.totp.clone().unwrap();
    assert_eq!(factor.last_step, Some(totp::step_of(now())));
    assert_eq!(factor.last_used_at, Some(now()));
    assert_eq!(signed_in.version, account.version + 1);
    assert_eq!(d.changes.audit[0].kind, AuditKind::SignedIn);
}

#[test]
fn one_step_of_skew_is_accepted_at_sign_in() {
    assert!(complete(&totp_account(), totp(-1), now())
        .unwrap()
        .outcome
        .is_ok());
    assert!(complete(&totp_account(), totp(1), now())
        .unwrap()
        .outcome
        .is_ok());
}

#[test]
fn a_code_from_the_previous_previous_step_is_refused_and_recorded() {
    let d = complete(&totp_account(), totp(-2), now()).unwrap();
    assert_eq!(d.outcome, Err(SecondFactorError::InvalidCode));
    assert!(d.changes.redeem.is_none() && d.changes.new_session.is_none());
    assert!(d.changes.account.is_none());
    assert_eq!(d.changes.audit[0].kind, AuditKind::SecondFactorFailed);
}

#[test]
fn an_authenticator_step_once_accepted_is_refused_again() {
    let account = totp_account();
    let first = complete(&account, totp(0), now()).unwrap();
    let after = updated(&first.changes).clone();
    let again = complete(&after, totp(0), now()).unwrap();
    assert_eq!(again.outcome, Err(SecondFactorError::InvalidCode));
    assert_eq!(again.changes.audit[0].detail["reason"], "replayed");
}

#[test]
fn a_challenge_after_five_minutes_is_refused() {
    let account = totp_account();
    assert_eq!(
        complete(&account, totp(0), later(4)).map(|_| ()),
        Err(SecondFactorError::NoChallenge)
    );
}

#[test]
fn another_accounts_challenge_never_works() {
    let account = totp_account();
    let mut other = totp_account();
    other.id = crate::AccountId::from_random([77; 16]);
    let theirs = challenge(&other);
    assert_eq!(
        complete_with(
            &account,
            &theirs,
            &policy(MfaMode::Optional),
            totp(0),
            now()
        )
        .map(|_| ()),
        Err(SecondFactorError::NoChallenge)
    );
}

#[test]
fn a_used_challenge_is_refused() {
    let account = totp_account();
    let mut used = challenge(&account);
    used.used_at = Some(now());
    assert_eq!(
        complete_with(&account, &used, &policy(MfaMode::Optional), totp(0), now()).map(|_| ()),
        Err(SecondFactorError::NoChallenge)
    );
}

#[test]
fn a_secret_sealed_under_another_key_fails_closed() {
    let mut account = totp_account();
    let factor = account.mfa.totp.as_mut().unwrap();
    factor.secret = SecretKey::from_bytes([1; 32]).seal([1; 24], b"other", SECRET);
    let d = complete(&account, totp(0), now()).unwrap();
    assert_eq!(d.outcome, Err(SecondFactorError::SecretUnreadable));
    assert_eq!(
        SecondFactorError::SecretUnreadable.code(),
        ErrorCode::SecondFactorInvalid
    );
}

#[test]
fn a_method_the_account_has_not_enrolled_is_refused() {
    let d = complete(&email_account(), totp(0), now()).unwrap();
    assert_eq!(d.outcome, Err(SecondFactorError::InvalidCode));
}

#[test]
fn codes_of_the_wrong_length_or_alphabet_are_refused_before_anything_is_loaded() {
    for (method, text) in [
        (SecondFactorMethod::Totp, "12345"),
        (SecondFactorMethod::Totp, "12345x"),
        (SecondFactorMethod::EmailCode, "1234567"),
        (SecondFactorMethod::RecoveryCode, "ABCDEFGH1K"),
        (SecondFactorMethod::RecoveryCode, "ABCD"),
    ] {
        assert_eq!(
            FactorCode::parse(method, text),
            Err(SecondFactorError::InvalidCode)
        );
    }
}

// ---------------------------------------------------------- recovery codes

#[test]
fn a_recovery_code_signs_in_once_and_queues_a_notice() {
    let account = totp_account();
    let d = complete(&account, recovery("2222222222"), now()).unwrap();
    assert!(d.outcome.is_ok());
    let codes = updated(&d.changes).mfa.recovery.clone().unwrap();
    assert_eq!(codes.left(), 9);
    assert_eq!(d.mail[0].kind, MessageKind::RecoveryCodeUsed);
    assert!(d.mail[0].link.is_some(), "with the this-wasn't-me link");
    assert_eq!(d.changes.new_tokens[0].kind, TokenKind::NotMe);
    assert!(d
        .changes
        .audit
        .iter()
        .any(|e| e.kind == AuditKind::RecoveryCodeUsed));

    let after = updated(&d.changes).clone();
    let again = complete(&after, recovery("2222222222"), now()).unwrap();
    assert_eq!(again.outcome, Err(SecondFactorError::InvalidCode));
}

#[test]
fn a_recovery_code_is_accepted_whatever_its_case_spaces_and_dashes() {
    let d = complete(&totp_account(), recovery("33333-33333"), now()).unwrap();
    assert!(d.outcome.is_ok());
    let lower = RecoveryCode::from_random([9; 10]).as_str().to_lowercase();
    let d = complete(&totp_account(), recovery(&lower), now()).unwrap();
    assert!(d.outcome.is_ok());
}

#[test]
fn a_code_that_is_not_one_of_the_accounts_is_refused() {
    let d = complete(&totp_account(), recovery("ZZZZZZZZZZ"), now()).unwrap();
    assert_eq!(d.outcome, Err(SecondFactorError::InvalidCode));
}

// ------------------------------------------------------------- email codes

fn send(account: &Account, over_rate: bool) -> Result<Decision<()>, SecondFactorError> {
    decide_send_email_code(
        SendEmailCodeInput {
            challenge: &challenge(account),
            account,
            policy: &policy(MfaMode::Optional),
            key: &key(),
            code: SixDigitCode::parse("042917").unwrap(),
            ttl: Duration::minutes(10),
            over_rate,
            ctx: &ctx(),
            event_id: event_id(3),
        },
        now(),
    )
}

fn with_code_sent(tries: u32) -> Account {
    let mut account = email_account();
    account.mfa.email_code = Some(PendingEmailCode {
        hash: email_code_hash(&key(), &account, &SixDigitCode::parse("042917").unwrap()),
        expires_at: later(10),
        tries,
    });
    account
}

fn email(text: &str) -> FactorCode {
    FactorCode::parse(SecondFactorMethod::EmailCode, text).unwrap()
}

#[test]
fn an_emailed_code_is_stored_hashed_and_queued_with_a_body_redacted_once_sent() {
    let account = email_account();
    let d = send(&account, false).unwrap();
    let pending = updated(&d.changes).mfa.email_code.clone().unwrap();
    assert_eq!(pending.expires_at, now() + Duration::minutes(10));
    assert_eq!(pending.tries, 0);
    assert!(!serde_json::to_string(&pending).unwrap().contains("042917"));
    assert_eq!(d.mail[0].kind, MessageKind::SignInCode);
    assert_eq!(d.mail[0].vars["code"], "042917");
    assert!(
        d.mail[0].secret.is_some(),
        "the body is redacted like a link's"
    );
    assert_eq!(d.changes.audit[0].kind, AuditKind::EmailCodeSent);
}

#[test]
fn no_code_is_sent_without_an_email_factor_or_over_the_rate() {
    assert_eq!(
        send(&totp_account(), false).map(|_| ()),
        Err(SecondFactorError::NotEnrolled)
    );
    assert_eq!(
        send(&email_account(), true).map(|_| ()),
        Err(SecondFactorError::RateLimited)
    );
}

#[test]
fn the_right_emailed_code_signs_in_once() {
    let d = complete(&with_code_sent(0), email("042917"), now()).unwrap();
    assert!(d.outcome.is_ok());
    let after = updated(&d.changes).clone();
    assert!(after.mfa.email_code.is_none(), "single use");
    assert_eq!(after.mfa.email.as_ref().unwrap().last_used_at, Some(now()));
}

#[test]
fn a_wrong_emailed_code_counts_a_try_on_the_account() {
    let d = complete(&with_code_sent(2), email("000000"), now()).unwrap();
    assert_eq!(d.outcome, Err(SecondFactorError::InvalidCode));
    assert_eq!(
        updated(&d.changes).mfa.email_code.as_ref().unwrap().tries,
        3
    );
}

#[test]
fn after_five_wrong_tries_even_the_right_emailed_code_is_refused() {
    let d = complete(&with_code_sent(5), email("042917"), now()).unwrap();
    assert_eq!(d.outcome, Err(SecondFactorError::InvalidCode));
}

#[test]
fn an_emailed_code_after_ten_minutes_is_refused() {
    let mut account = with_code_sent(0);
    account.mfa.email_code.as_mut().unwrap().expires_at = now() - Duration::seconds(1);
    let d = complete(&account, email("042917"), now()).unwrap();
    assert_eq!(d.outcome, Err(SecondFactorError::InvalidCode));
}
