//! Sessions: revocation, touch, and the one-call read with the account.

use std::sync::Arc;

use crate::{AccountStore, Changes, SessionRevocation, TokenHash};

use super::fixtures::*;

/// Revoking every session of an account but one takes effect at once: the
/// next lookup shows them revoked; other accounts' sessions stay.
pub async fn revoking_all_sessions_of_an_account_but_one_is_immediate(
    store: Arc<dyn AccountStore>,
) {
    let (firm, ann, bob) = ann_and_bob(&store).await;
    let (s1, s2, s3, theirs) = (
        session(&ann, 1),
        session(&ann, 2),
        session(&ann, 3),
        session(&bob, 4),
    );
    for s in [&s1, &s2, &s3, &theirs] {
        start_session(&store, s).await;
    }
    let revoke = |except: Option<TokenHash>, seconds: i64| Changes {
        revoke_sessions: vec![SessionRevocation::AllOfAccount {
            tenant: firm.clone(),
            account_id: ann.id,
            except,
            at: at(seconds),
        }],
        ..Changes::default()
    };

    commit(&store, revoke(Some(s2.hash), 60)).await.unwrap();
    assert_eq!(
        stored_session(&store, &s1.hash).await.revoked_at,
        Some(at(60))
    );
    assert_eq!(stored_session(&store, &s2.hash).await.revoked_at, None);
    assert_eq!(
        stored_session(&store, &s3.hash).await.revoked_at,
        Some(at(60))
    );
    assert_eq!(stored_session(&store, &theirs.hash).await, theirs);

    commit(&store, revoke(None, 120)).await.unwrap();
    assert_eq!(
        stored_session(&store, &s1.hash).await.revoked_at,
        Some(at(60)),
        "kept"
    );
    assert_eq!(
        stored_session(&store, &s2.hash).await.revoked_at,
        Some(at(120))
    );
    assert_eq!(stored_session(&store, &theirs.hash).await.revoked_at, None);
}

/// Signing out revokes that session only, and a new session can be issued
/// in the same commit.
pub async fn signing_out_revokes_only_that_session(store: Arc<dyn AccountStore>) {
    let (_, ann) = firm_with_ann(&store).await;
    let (s1, s2) = (session(&ann, 1), session(&ann, 2));
    start_session(&store, &s1).await;
    commit(
        &store,
        Changes {
            revoke_sessions: vec![SessionRevocation::One {
                hash: s1.hash,
                at: at(30),
            }],
            new_session: Some(s2.clone()),
            ..Changes::default()
        },
    )
    .await
    .unwrap();
    let mut expected = s1.clone();
    expected.revoked_at = Some(at(30));
    assert_eq!(stored_session(&store, &s1.hash).await, expected);
    assert_eq!(stored_session(&store, &s2.hash).await, s2);
    assert_eq!(store.session(&hash(99)).await.unwrap(), None);
}

/// Touching a session sets its last-seen time and nothing else; touching an
/// unknown session is not an error.
pub async fn touching_a_session_sets_only_its_last_seen_time(store: Arc<dyn AccountStore>) {
    let (_, ann) = firm_with_ann(&store).await;
    let (s1, s2) = (session(&ann, 1), session(&ann, 2));
    for s in [&s1, &s2] {
        start_session(&store, s).await;
    }
    store.touch_session(&s1.hash, at(300)).await.unwrap();
    let mut expected = s1.clone();
    expected.last_seen_at = at(300);
    assert_eq!(stored_session(&store, &s1.hash).await, expected);
    assert_eq!(stored_session(&store, &s2.hash).await, s2);
    store.touch_session(&hash(99), at(300)).await.unwrap();
    assert_eq!(store.session(&hash(99)).await.unwrap(), None);
}

/// `session_and_account` answers what `session` and then `account` answer:
/// the session with its account, revoked or not; nothing for an unknown hash.
pub async fn a_session_is_read_with_its_account_in_one_call(store: Arc<dyn AccountStore>) {
    let (firm, ann, bob) = ann_and_bob(&store).await;
    let (s1, s2) = (session(&ann, 1), session(&bob, 2));
    for s in [&s1, &s2] {
        start_session(&store, s).await;
    }
    revoke_session(&store, s2.hash, 30).await;

    let (session_1, account_1) = store
        .session_and_account(&s1.hash)
        .await
        .unwrap()
        .expect("a session");
    let (session_2, account_2) = store
        .session_and_account(&s2.hash)
        .await
        .unwrap()
        .expect("a revoked session");

    assert_eq!(session_1, stored_session(&store, &s1.hash).await);
    assert_eq!(
        account_1,
        store.account(&firm, ann.id).await.unwrap(),
        "ann's account"
    );
    assert!(account_1.is_some());
    assert_eq!(session_2.revoked_at, Some(at(30)));
    assert_eq!(account_2, store.account(&firm, bob.id).await.unwrap());
    assert_eq!(account_2.map(|a| a.id), Some(bob.id));
    assert_eq!(store.session_and_account(&hash(99)).await.unwrap(), None);
}
