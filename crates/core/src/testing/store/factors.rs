//! Second factors: the account's factor document round-trips, and a factor
//! is used once however many commits race for it (the account version
//! decides); sign-in challenges are tokens like the others.

use std::sync::Arc;

use crate::crypto::SecretKey;
use crate::domain::factor::{
    EmailFactor, PendingEmailCode, RecoveryCodes, StoredRecoveryCode, TotpFactor,
};
use crate::{
    Account, AccountChange, AccountStore, AuditKind, Changes, MfaState, Redemption, StoreError,
    TokenKind,
};

use super::fixtures::*;

/// A full factor document: a sealed TOTP secret, email codes with a
/// pending code, and ten recovery codes.
fn enrolled(account: &Account) -> MfaState {
    let key = SecretKey::from_bytes([5; 32]);
    let codes = (0..10)
        .map(|n: u8| StoredRecoveryCode {
            hash: key.code_hash(&["recovery", &n.to_string()]),
            used_at: None,
        })
        .collect();
    MfaState {
        totp: Some(TotpFactor {
            secret: key.seal([1; 24], account.id.to_string().as_bytes(), &[7; 20]),
            created_at: at(0),
            last_used_at: Some(at(30)),
            last_step: Some(59_000_000),
        }),
        pending_totp: None,
        email: Some(EmailFactor {
            created_at: at(0),
            last_used_at: None,
        }),
        recovery: Some(RecoveryCodes {
            codes,
            created_at: at(0),
        }),
        email_code: Some(PendingEmailCode {
            hash: key.code_hash(&["email", "042917"]),
            expires_at: at(600),
            tries: 2,
        }),
        last_reset: Some(crate::domain::factor::MfaResetMark {
            by: crate::StaffId::new("staff-1").unwrap(),
            at: at(5),
        }),
    }
}

/// The factor document is written with the account and read back equal,
/// by every read (id, email, username, with a session).
pub async fn second_factors_round_trip_with_the_account(store: Arc<dyn AccountStore>) {
    let (firm, mut ann) = firm_with_ann(&store).await;
    ann.mfa = enrolled(&ann);
    update(&store, &ann).await.unwrap();
    ann.version += 1;

    assert_eq!(stored(&store, &ann).await.mfa, ann.mfa);
    let by_email = store
        .account_by_email(&firm, ann.email.normalized())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_email.mfa, ann.mfa);
    let session = session(&ann, 9);
    start_session(&store, &session).await;
    let (_, with_session) = store
        .session_and_account(&session.hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(with_session.unwrap().mfa, ann.mfa);

    ann.mfa = MfaState::default();
    update(&store, &ann).await.unwrap();
    assert!(
        stored(&store, &ann).await.mfa.is_empty(),
        "removing factors is written too"
    );
}

/// Commits that each mark one factor use on the account as loaded, all at
/// once: the version lets exactly one through.
async fn race(
    store: &Arc<dyn AccountStore>,
    loaded: &Account,
    attempts: u32,
    using: fn(&mut Account),
) -> (u32, u32) {
    let mut attempts_at_once = Vec::new();
    for n in 0..attempts {
        let mut used = loaded.clone();
        using(&mut used);
        // Each attempt completes a challenge of its own: only the
        // account version can refuse it.
        let challenge = token(&used, 100 + n, TokenKind::SignInChallenge, 0, 300);
        store_tokens(store, vec![challenge]).await;
        let changes = Changes {
            redeem: Some(Redemption::of(
                hash(100 + n),
                TokenKind::SignInChallenge,
                at(60),
            )),
            audit: vec![event(&used, n, AuditKind::RecoveryCodeUsed, 60)],
            account: Some(AccountChange::Update(used)),
            ..Changes::default()
        };
        let store = Arc::clone(store);
        attempts_at_once.push(async move { commit(&store, changes).await });
    }
    let results = at_once(attempts_at_once).await;
    won_and_refused(results, |e| matches!(e, StoreError::Conflict))
}

/// A hundred concurrent uses of one recovery code: exactly one commits,
/// and the code is stored as used.
pub async fn a_hundred_concurrent_uses_of_one_recovery_code_succeed_exactly_once(
    store: Arc<dyn AccountStore>,
) {
    let (firm, mut ann) = firm_with_ann(&store).await;
    ann.mfa = enrolled(&ann);
    update(&store, &ann).await.unwrap();
    let loaded = stored(&store, &ann).await;

    let (won, refused) = race(&store, &loaded, 100, |account| {
        if let Some(codes) = account.mfa.recovery.as_mut() {
            codes.codes[0].used_at = Some(at(60));
        }
    })
    .await;

    assert_eq!((won, refused), (1, 99));
    let after = stored(&store, &ann).await;
    assert_eq!(after.version, loaded.version + 1);
    assert_eq!(after.mfa.recovery.unwrap().left(), 9);
    let events = store.audit_events(&firm, ann.id, 200).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == AuditKind::RecoveryCodeUsed)
            .count(),
        1
    );
}

/// One TOTP step raced twice: exactly one commit records it.
pub async fn one_totp_step_raced_twice_is_accepted_once(store: Arc<dyn AccountStore>) {
    let (_, mut ann) = firm_with_ann(&store).await;
    ann.mfa = enrolled(&ann);
    update(&store, &ann).await.unwrap();
    let loaded = stored(&store, &ann).await;

    let (won, refused) = race(&store, &loaded, 2, |account| {
        if let Some(totp) = account.mfa.totp.as_mut() {
            totp.last_step = Some(59_000_001);
        }
    })
    .await;

    assert_eq!((won, refused), (1, 1));
    let after = stored(&store, &ann).await;
    assert_eq!(after.mfa.totp.unwrap().last_step, Some(59_000_001));
}

/// A sign-in challenge is a token of its own kind: listed, redeemed once,
/// and never redeemable as another kind.
pub async fn a_sign_in_challenge_is_a_single_use_token_of_its_own_kind(
    store: Arc<dyn AccountStore>,
) {
    let (_, ann) = firm_with_ann(&store).await;
    let challenge = token(&ann, 1, TokenKind::SignInChallenge, 0, 300);
    store_tokens(&store, vec![challenge.clone()]).await;
    assert_eq!(
        stored_token(&store, &challenge.hash).await.kind,
        TokenKind::SignInChallenge
    );

    let as_reset = Changes {
        redeem: Some(Redemption::of(
            challenge.hash,
            TokenKind::PasswordReset,
            at(60),
        )),
        ..Changes::default()
    };
    assert!(matches!(
        commit(&store, as_reset).await,
        Err(StoreError::TokenNotRedeemable)
    ));
    let redeem = || Changes {
        redeem: Some(Redemption::of(
            challenge.hash,
            TokenKind::SignInChallenge,
            at(60),
        )),
        ..Changes::default()
    };
    commit(&store, redeem()).await.unwrap();
    assert!(matches!(
        commit(&store, redeem()).await,
        Err(StoreError::TokenNotRedeemable)
    ));
    let after_expiry = Changes {
        redeem: Some(Redemption::of(hash(2), TokenKind::SignInChallenge, at(301))),
        ..Changes::default()
    };
    assert!(matches!(
        commit(&store, after_expiry).await,
        Err(StoreError::TokenNotRedeemable)
    ));
}
