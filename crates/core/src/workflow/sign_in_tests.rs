use super::super::session::test_support::*;
use super::*;

fn counts(account_ip: u32, account: u32, ip: u32) -> ThrottleCounts {
    ThrottleCounts {
        account_ip,
        account,
        ip,
    }
}
use std::net::Ipv4Addr;

const MATCH: Verification = Verification {
    matches: true,
    needs_rehash: false,
};
const NO_MATCH: Verification = Verification {
    matches: false,
    needs_rehash: false,
};

fn decide(
    account: Option<&Account>,
    verification: Verification,
    rehashed: Option<PasswordHash>,
) -> Result<Decision<SignInDecided>, SignInFailure> {
    decide_with(account, verification, rehashed, &MfaPolicy::default())
}

fn decide_with(
    account: Option<&Account>,
    verification: Verification,
    rehashed: Option<PasswordHash>,
    policy: &MfaPolicy,
) -> Result<Decision<SignInDecided>, SignInFailure> {
    decide_on_device(account, verification, rehashed, policy, None)
}

fn decide_on_device(
    account: Option<&Account>,
    verification: Verification,
    rehashed: Option<PasswordHash>,
    policy: &MfaPolicy,
    device: Option<&DeviceRecord>,
) -> Result<Decision<SignInDecided>, SignInFailure> {
    decide_sign_in(
        SignInInput {
            account,
            verification,
            rehashed,
            session_token: token(30).hash(),
            session_absolute_ttl: Duration::days(30),
            ctx: &ctx(),
            event_id: event_id(7),
            policy,
            challenge_token: &token(31),
            challenge_ttl: Duration::minutes(5),
            device,
        },
        now(),
    )
}

fn rates() -> SignInRates {
    SignInRates::from_config(&PortalConfig::new("https://portal.example.com"))
}

#[test]
fn a_login_with_an_at_sign_is_looked_up_as_an_email_address() {
    assert_eq!(
        parse_login(" Ann.Client@Example.COM "),
        Login::Email("ann.client@example.com".into())
    );
}

#[test]
fn a_login_without_an_at_sign_is_looked_up_as_a_username_case_insensitively() {
    assert_eq!(parse_login("Ann.C"), Login::Username("ann.c".into()));
}

#[test]
fn a_login_that_is_neither_matches_no_account() {
    assert!(matches!(parse_login("no such@"), Login::Unusable(_)));
    assert!(matches!(parse_login("a b"), Login::Unusable(_)));
}

#[test]
fn correct_password_signs_in_with_a_new_session_and_records_it() {
    let account = accepted_account();
    let d = decide(Some(&account), MATCH, None).unwrap();
    let session = d.changes.new_session.as_ref().unwrap();
    assert_eq!(session.hash, token(30).hash());
    assert_eq!(session.expires_at, now() + Duration::days(30));
    let Some(AccountChange::Update(updated)) = &d.changes.account else {
        panic!("expected an update")
    };
    assert_eq!(updated.last_sign_in_at, Some(now()));
    assert_eq!(
        updated.password_hash.as_ref().map(|h| h.as_str()),
        account.password_hash.as_ref().map(|h| h.as_str())
    );
    assert_eq!(d.changes.audit[0].kind, AuditKind::SignedIn);
    assert_eq!(d.outcome.signed_in().unwrap().version, account.version + 1);
}

#[test]
fn a_hash_with_old_parameters_is_replaced_at_sign_in() {
    let account = accepted_account();
    let d = decide(
        Some(&account),
        Verification {
            matches: true,
            needs_rehash: true,
        },
        Some(PasswordHash::new("$argon2id$rehashed")),
    )
    .unwrap();
    let Some(AccountChange::Update(updated)) = &d.changes.account else {
        panic!("expected an update")
    };
    assert_eq!(
        updated.password_hash.as_ref().map(|h| h.as_str()),
        Some("$argon2id$rehashed")
    );
}

#[test]
fn wrong_password_is_invalid_credentials_counted_and_audited() {
    let account = accepted_account();
    let f = decide(Some(&account), NO_MATCH, None).unwrap_err();
    assert_eq!(f.error, SignInError::InvalidCredentials);
    assert!(f.counts_as_failure);
    assert_eq!(f.audit.unwrap().kind, AuditKind::SignInFailed);
}

#[test]
fn unknown_login_is_invalid_credentials_counted_without_audit() {
    let f = decide(None, NO_MATCH, None).unwrap_err();
    assert_eq!(f.error, SignInError::InvalidCredentials);
    assert!(f.counts_as_failure);
    assert!(f.audit.is_none());
}

#[test]
fn an_account_without_a_password_is_invalid_credentials() {
    let mut account = pending_account();
    account.password_hash = None;
    // Even a (impossible) match against the dummy hash cannot sign in.
    let f = decide(Some(&account), MATCH, None).unwrap_err();
    assert_eq!(f.error, SignInError::InvalidCredentials);
}

#[test]
fn disabled_access_is_told_only_after_a_correct_password() {
    let mut account = accepted_account();
    account.access = Access::Disabled;
    assert_eq!(
        decide(Some(&account), NO_MATCH, None).unwrap_err().error,
        SignInError::InvalidCredentials
    );
    let f = decide(Some(&account), MATCH, None).unwrap_err();
    assert_eq!(f.error, SignInError::AccessDisabled);
    assert!(!f.counts_as_failure, "a correct password is not a guess");
}

#[test]
fn archived_is_told_only_after_a_correct_password() {
    let mut account = accepted_account();
    account.archived = true;
    assert_eq!(
        decide(Some(&account), NO_MATCH, None).unwrap_err().error,
        SignInError::InvalidCredentials
    );
    assert_eq!(
        decide(Some(&account), MATCH, None).unwrap_err().error,
        SignInError::AccountArchived
    );
}

#[test]
fn below_every_limit_the_attempt_may_proceed() {
    assert_eq!(check_throttle(counts(4, 99, 99), rates()), Ok(()));
}

#[test]
fn five_failures_of_one_account_from_one_ip_throttle_that_pair() {
    assert_eq!(
        check_throttle(counts(5, 5, 5), rates()),
        Err(SignInError::RateLimited)
    );
}

#[test]
fn failures_from_another_ip_do_not_lock_the_client_out_of_their_own() {
    let account = accepted_account();
    let attacker = Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)));
    let own = ctx().ip;
    let a = throttle_keys(&tenant(), &parse_login("ann.c"), Some(&account), attacker);
    let b = throttle_keys(&tenant(), &parse_login("ann.c"), Some(&account), own);
    assert_ne!(a.account_ip, b.account_ip);
    assert_eq!(a.account, b.account);
    // The attacker exhausted their pair and 50 more tries across IPs:
    // the client's own pair is untouched and the global ceiling is far.
    assert_eq!(check_throttle(counts(0, 55, 0), rates()), Ok(()));
}

#[test]
fn the_global_per_account_ceiling_throttles_a_distributed_attack() {
    assert_eq!(
        check_throttle(counts(0, 100, 0), rates()),
        Err(SignInError::RateLimited)
    );
}

#[test]
fn unknown_logins_are_throttled_under_keys_of_their_own_text() {
    let a = throttle_keys(&tenant(), &parse_login("nobody"), None, ctx().ip);
    let b = throttle_keys(&tenant(), &parse_login("NOBODY"), None, ctx().ip);
    let c = throttle_keys(&tenant(), &parse_login("someone"), None, ctx().ip);
    assert_eq!(a, b);
    assert_ne!(a.account_ip, c.account_ip);
    assert!(!a.account_ip.contains("nobody"), "the login text is hashed");
    assert_eq!(a.ip, rate_keys::sign_in_ip(ctx().ip));
}

#[test]
fn a_successful_sign_in_uses_the_accounts_own_reset_clearable_keys() {
    let account = accepted_account();
    let keys = throttle_keys(&tenant(), &parse_login("ann.c"), Some(&account), ctx().ip);
    let prefix = rate_keys::sign_in_account_prefix(account.id);
    assert!(keys.account_ip.starts_with(&prefix));
    assert!(keys.account.starts_with(&prefix));
}

mod remembered_devices {
    use super::*;
    use crate::domain::factor::{EmailFactor, MfaMode};
    use crate::workflow::trust::remember_device;

    fn optional() -> MfaPolicy {
        MfaPolicy {
            mode: MfaMode::Optional,
            ..MfaPolicy::default()
        }
    }

    fn with_factor(account: &Account) -> Account {
        let mut account = account.clone();
        account.mfa.email = Some(EmailFactor {
            created_at: now(),
            last_used_at: None,
        });
        account
    }

    fn device_of(account: &Account) -> DeviceRecord {
        remember_device(account, &token(40), &ctx(), &optional(), now()).unwrap()
    }

    #[test]
    fn a_remembered_device_skips_the_second_factor_for_its_account() {
        let ann = with_factor(&accepted_account());
        let device = device_of(&ann);
        let decision =
            decide_on_device(Some(&ann), MATCH, None, &optional(), Some(&device)).unwrap();
        assert!(matches!(decision.outcome, SignInDecided::SignedIn(_)));
        assert!(decision.changes.new_session.is_some());
        assert_eq!(decision.changes.audit[0].detail["remembered_device"], true);
    }

    #[test]
    fn a_device_remembered_for_another_account_still_asks_for_the_second_factor() {
        let ann = with_factor(&accepted_account());
        let bob = Account {
            id: crate::AccountId::from_random([77; 16]),
            ..ann.clone()
        };
        let device = device_of(&bob);
        let decision =
            decide_on_device(Some(&ann), MATCH, None, &optional(), Some(&device)).unwrap();
        assert!(matches!(decision.outcome, SignInDecided::Challenged { .. }));
        assert!(decision.changes.new_session.is_none());
    }

    #[test]
    fn a_remembered_device_never_stands_in_for_a_wrong_password_or_for_enrolment() {
        let ann = with_factor(&accepted_account());
        let device = device_of(&ann);
        assert!(decide_on_device(Some(&ann), NO_MATCH, None, &optional(), Some(&device)).is_err());
        let required = MfaPolicy {
            mode: MfaMode::Required,
            ..MfaPolicy::default()
        };
        let bare = accepted_account();
        let device = device_of(&bare);
        let decision =
            decide_on_device(Some(&bare), MATCH, None, &required, Some(&device)).unwrap();
        assert!(matches!(
            decision.outcome,
            SignInDecided::Challenged {
                enrolment_required: true,
                ..
            }
        ));
    }
}
