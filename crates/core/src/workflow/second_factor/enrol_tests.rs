//! The rules of enrolling and removing factors, one test each.

use super::enrol::*;
use super::test_support::*;
use super::*;
use crate::crypto::totp;
use crate::domain::factor::{MfaMode, SixDigitCode};
use crate::{AccountChange, Changes};

fn updated(changes: &Changes) -> &Account {
    match &changes.account {
        Some(AccountChange::Update(account)) => account,
        other => panic!("expected an update, got {other:?}"),
    }
}

// --------------------------------------------------------------- enrolment

fn start(
    account: &Account,
    policy: &MfaPolicy,
) -> Result<Decision<TotpEnrolment>, SecondFactorError> {
    decide_start_totp(
        StartTotpInput {
            account,
            policy,
            key: &key(),
            secret: *SECRET,
            nonce: [3; 24],
            issuer: "Client portal",
        },
        now(),
    )
}

fn confirm(
    account: &Account,
    code: &str,
    sign_in: Option<EnrolmentSignIn<'_>>,
) -> Result<Decision<Vec<RecoveryCode>>, SecondFactorError> {
    decide_confirm_totp(
        ConfirmTotpInput {
            account,
            policy: &policy(MfaMode::Optional),
            key: &key(),
            code: &SixDigitCode::parse(code).unwrap(),
            recovery_codes: recovery_codes(),
            sign_in,
            notice: notice(),
            ctx: &ctx(),
            event_ids: [event_id(4), event_id(5), event_id(6)],
        },
        now(),
    )
}

fn pending() -> Account {
    let d = start(&accepted_account(), &policy(MfaMode::Optional)).unwrap();
    updated(&d.changes).clone()
}

#[test]
fn enrolment_shows_the_secret_and_otpauth_uri_and_stays_pending_until_confirmed() {
    let d = start(&accepted_account(), &policy(MfaMode::Optional)).unwrap();
    assert_eq!(d.outcome.secret, totp::base32(SECRET));
    assert!(d
        .outcome
        .otpauth_uri
        .starts_with("otpauth://totp/Client%20portal:ann.client@example.com?"));
    let account = updated(&d.changes);
    assert!(account.mfa.pending_totp.is_some() && account.mfa.totp.is_none());
    assert_eq!(
        gate(account, &policy(MfaMode::Optional), now()),
        Gate::Session
    );
    assert!(!format!("{:?}", d.outcome).contains(&d.outcome.secret));
}

#[test]
fn enrolment_is_refused_when_the_policy_is_off_or_disallows_it_or_one_is_confirmed() {
    assert_eq!(
        start(&accepted_account(), &policy(MfaMode::Off)).map(|_| ()),
        Err(SecondFactorError::NotAllowed)
    );
    assert_eq!(
        start(&totp_account(), &policy(MfaMode::Optional)).map(|_| ()),
        Err(SecondFactorError::AlreadyEnrolled)
    );
}

#[test]
fn one_valid_code_confirms_the_authenticator_and_generates_recovery_codes_shown_once() {
    let d = confirm(&pending(), &totp_code(0), None).unwrap();
    assert_eq!(d.outcome.len(), 10);
    let account = updated(&d.changes);
    let factor = account.mfa.totp.as_ref().unwrap();
    assert_eq!(
        factor.last_step,
        Some(totp::step_of(now())),
        "the code cannot be replayed"
    );
    assert!(account.mfa.pending_totp.is_none());
    assert_eq!(account.mfa.recovery.as_ref().unwrap().left(), 10);
    assert!(!serde_json::to_string(&account.mfa)
        .unwrap()
        .contains(d.outcome[0].as_str()));
    assert_eq!(d.mail[0].kind, MessageKind::FactorAdded);
    assert!(
        d.changes.new_session.is_none(),
        "a signed-in client keeps their session"
    );
    let kinds: Vec<_> = d.changes.audit.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [AuditKind::FactorAdded, AuditKind::RecoveryCodesGenerated]
    );
}

#[test]
fn confirming_twice_is_refused_and_changes_nothing() {
    let d = confirm(&pending(), &totp_code(0), None).unwrap();
    let confirmed = updated(&d.changes).clone();
    assert_eq!(
        confirm(&confirmed, &totp_code(1), None).map(|_| ()),
        Err(SecondFactorError::NothingToConfirm)
    );
}

#[test]
fn a_wrong_confirmation_code_is_refused() {
    assert_eq!(
        confirm(&pending(), &totp_code(-3), None).map(|_| ()),
        Err(SecondFactorError::InvalidCode)
    );
}

#[test]
fn a_required_enrolment_confirmed_with_the_challenge_redeems_it_and_issues_the_session() {
    let account = pending();
    let challenge = challenge(&account);
    let d = confirm(
        &account,
        &totp_code(0),
        Some(EnrolmentSignIn {
            challenge: &challenge,
            session: session(&account),
        }),
    )
    .unwrap();
    assert_eq!(d.changes.redeem.as_ref().unwrap().hash, challenge.hash);
    assert!(d.changes.new_session.is_some());
    assert_eq!(updated(&d.changes).last_sign_in_at, Some(now()));
}

fn remove(
    account: &Account,
    mode: MfaMode,
    kind: FactorKind,
) -> Result<Decision<()>, SecondFactorError> {
    decide_remove_factor(
        FactorChangeInput {
            account,
            policy: &policy(mode),
            notice: notice(),
            ctx: &ctx(),
            event_id: event_id(8),
        },
        kind,
        now(),
    )
}

#[test]
fn under_required_the_last_factor_cannot_be_removed() {
    assert_eq!(
        remove(&totp_account(), MfaMode::Required, FactorKind::Totp).map(|_| ()),
        Err(SecondFactorError::FactorRequired)
    );
    assert_eq!(
        SecondFactorError::FactorRequired.code(),
        ErrorCode::SecondFactorRequired
    );
}

#[test]
fn under_required_a_factor_can_be_removed_while_another_remains() {
    let mut both = totp_account();
    both.mfa.email = email_account().mfa.email;
    let d = remove(&both, MfaMode::Required, FactorKind::Totp).unwrap();
    let after = updated(&d.changes);
    assert!(after.mfa.totp.is_none() && after.mfa.recovery.is_none());
    assert!(after.mfa.email.is_some());
}

#[test]
fn removing_a_factor_is_audited_and_notified() {
    let d = remove(&totp_account(), MfaMode::Optional, FactorKind::Totp).unwrap();
    assert_eq!(d.changes.audit[0].kind, AuditKind::FactorRemoved);
    assert_eq!(d.changes.audit[0].detail["kind"], "totp");
    assert_eq!(d.mail[0].kind, MessageKind::FactorRemoved);
    assert_eq!(
        remove(&accepted_account(), MfaMode::Optional, FactorKind::Totp).map(|_| ()),
        Err(SecondFactorError::NotEnrolled)
    );
}

#[test]
fn email_codes_are_added_as_a_factor_once() {
    let add = |account: &Account| {
        decide_add_email_factor(
            FactorChangeInput {
                account,
                policy: &policy(MfaMode::Optional),
                notice: notice(),
                ctx: &ctx(),
                event_id: event_id(9),
            },
            now(),
        )
    };
    let d = add(&accepted_account()).unwrap();
    assert!(updated(&d.changes).mfa.email.is_some());
    assert_eq!(d.changes.audit[0].detail["kind"], "email_code");
    assert_eq!(
        add(&email_account()).map(|_| ()),
        Err(SecondFactorError::AlreadyEnrolled)
    );
}

#[test]
fn regenerating_recovery_codes_replaces_them_all() {
    let account = totp_account();
    let fresh: Vec<_> = (20..30u8)
        .map(|n| RecoveryCode::from_random([n; 10]))
        .collect();
    let d = decide_regenerate_recovery_codes(&account, &key(), fresh, &ctx(), event_id(10), now())
        .unwrap();
    let after = updated(&d.changes).clone();
    assert_eq!(after.mfa.recovery.as_ref().unwrap().left(), 10);
    let old = recovery_code_hash(
        &key(),
        &account,
        &RecoveryCode::parse("2222222222").unwrap(),
    );
    let stored = &after.mfa.recovery.as_ref().unwrap().codes;
    assert!(
        stored.iter().all(|code| !code.hash.ct_eq(&old)),
        "the old codes are gone"
    );
    assert_eq!(
        decide_regenerate_recovery_codes(
            &accepted_account(),
            &key(),
            vec![],
            &ctx(),
            event_id(10),
            now()
        )
        .map(|_| ()),
        Err(SecondFactorError::NotEnrolled)
    );
}

#[test]
fn factor_state_debug_never_shows_secrets_or_hashes() {
    let account = totp_account();
    let shown = format!("{:?}", account.mfa);
    assert!(shown.contains("<redacted>"));
    let sealed = serde_json::to_value(&account.mfa.totp.as_ref().unwrap().secret).unwrap();
    assert!(!shown.contains(sealed.as_str().unwrap()));
}
