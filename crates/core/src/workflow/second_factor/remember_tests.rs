//! "Remember this device" at the code step: one test per rule.

use super::check::{decide_complete_challenge, Checked, CompleteChallengeInput};
use super::test_support::*;
use super::*;
use crate::domain::factor::MfaMode;
use crate::workflow::trust::remember_device;

fn complete_remembering(account: &Account, code: FactorCode, remember: bool) -> Checked {
    let policy = policy(MfaMode::Optional);
    let device = remember
        .then(|| {
            remember_device(
                account,
                &RawToken::from_bytes([44; 32]),
                &ctx(),
                &policy,
                now(),
            )
        })
        .flatten();
    decide_complete_challenge(
        CompleteChallengeInput {
            challenge: &challenge(account),
            account,
            policy: &policy,
            key: &key(),
            code: &code,
            session: session(account),
            notice: notice(),
            ctx: &ctx(),
            event_ids: [
                crate::EventId::from_random([1; 16]),
                crate::EventId::from_random([2; 16]),
            ],
            remember: device,
        },
        now(),
    )
    .unwrap()
}

fn totp_now() -> FactorCode {
    FactorCode::parse(SecondFactorMethod::Totp, &totp_code(0)).unwrap()
}

#[test]
fn a_right_code_with_remember_ticked_remembers_the_device_with_the_session() {
    let account = totp_account();
    let d = complete_remembering(&account, totp_now(), true);
    assert!(d.outcome.is_ok());
    let device = d.changes.new_device.as_ref().expect("a remembered device");
    assert_eq!(device.account_id, account.id);
    assert_eq!(device.hash, RawToken::from_bytes([44; 32]).hash());
    assert!(d.changes.new_session.is_some());
    assert_eq!(d.changes.audit[0].detail["remember_device"], true);
}

#[test]
fn a_wrong_code_remembers_no_device() {
    let account = totp_account();
    let wrong = FactorCode::parse(SecondFactorMethod::Totp, "000000").unwrap();
    let d = complete_remembering(&account, wrong, true);
    assert!(d.outcome.is_err());
    assert_eq!(d.changes.new_device, None);
}

#[test]
fn without_remember_ticked_no_device_is_remembered() {
    let account = totp_account();
    let d = complete_remembering(&account, totp_now(), false);
    assert!(d.outcome.is_ok());
    assert_eq!(d.changes.new_device, None);
}
