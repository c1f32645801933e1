//! Link tokens: single-use redemption, revocation and reissue.

use std::sync::Arc;

use crate::{
    AccountStore, AuditKind, Changes, Redemption, StoreError, TokenHash, TokenKind, TokenRevocation,
};

use super::fixtures::*;

/// A hundred concurrent redemptions of one token: exactly one commits; the
/// others fail with `TokenNotRedeemable` and write nothing.
pub async fn a_hundred_concurrent_redemptions_of_one_token_succeed_exactly_once(
    store: Arc<dyn AccountStore>,
) {
    let (firm, ann) = firm_with_ann(&store).await;
    let reset = token(&ann, 1, TokenKind::PasswordReset, 0, 3_600);
    store_tokens(&store, vec![reset.clone()]).await;

    let redemptions = (0..100).map(|n| {
        let store = Arc::clone(&store);
        let changes = Changes {
            redeem: Some(Redemption {
                hash: reset.hash,
                kind: TokenKind::PasswordReset,
                at: at(60),
            }),
            audit: vec![event(&ann, n, AuditKind::PasswordReset, 60)],
            ..Changes::default()
        };
        async move { commit(&store, changes).await }
    });
    let results = at_once(redemptions).await;
    let (won, refused) = won_and_refused(results, |e| matches!(e, StoreError::TokenNotRedeemable));
    assert_eq!((won, refused), (1, 99));
    assert_eq!(
        stored_token(&store, &reset.hash).await.used_at,
        Some(at(60))
    );
    assert_eq!(
        store
            .audit_events(&firm, ann.id, 1_000)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Expired (including expiring exactly now), revoked, used, wrong-kind and
/// unknown tokens never redeem; a valid one redeems once.
pub async fn expired_revoked_used_wrong_kind_and_unknown_tokens_never_redeem(
    store: Arc<dyn AccountStore>,
) {
    let (_, ann) = firm_with_ann(&store).await;
    let expired = token(&ann, 1, TokenKind::PasswordReset, 0, 100);
    let mut revoked = token(&ann, 2, TokenKind::PasswordReset, 0, 3_600);
    revoked.revoked_at = Some(at(50));
    let mut used = token(&ann, 3, TokenKind::PasswordReset, 0, 3_600);
    used.used_at = Some(at(50));
    let invitation = token(&ann, 4, TokenKind::Invitation, 0, 3_600);
    let valid = token(&ann, 5, TokenKind::PasswordReset, 0, 3_600);
    store_tokens(
        &store,
        vec![
            expired.clone(),
            revoked.clone(),
            used.clone(),
            invitation.clone(),
            valid.clone(),
        ],
    )
    .await;

    let redeem = |hash: TokenHash, kind: TokenKind, seconds: i64| {
        let store = Arc::clone(&store);
        async move {
            commit(
                &store,
                Changes {
                    redeem: Some(Redemption {
                        hash,
                        kind,
                        at: at(seconds),
                    }),
                    ..Changes::default()
                },
            )
            .await
        }
    };
    let cases = [
        ("expired", expired.hash, TokenKind::PasswordReset, 200),
        ("expiring now", expired.hash, TokenKind::PasswordReset, 100),
        ("revoked", revoked.hash, TokenKind::PasswordReset, 60),
        ("used", used.hash, TokenKind::PasswordReset, 60),
        ("wrong kind", invitation.hash, TokenKind::PasswordReset, 60),
        ("wrong kind", valid.hash, TokenKind::Invitation, 60),
        ("unknown", hash(99), TokenKind::PasswordReset, 60),
    ];
    for (what, hash, kind, seconds) in cases {
        let result = redeem(hash, kind, seconds).await;
        assert!(
            matches!(result, Err(StoreError::TokenNotRedeemable)),
            "{what}: {result:?}"
        );
    }
    for t in [&expired, &revoked, &used, &invitation, &valid] {
        assert_eq!(&stored_token(&store, &t.hash).await, t, "unchanged");
    }

    redeem(valid.hash, TokenKind::PasswordReset, 99)
        .await
        .expect("a valid token redeems");
    let again = redeem(valid.hash, TokenKind::PasswordReset, 100).await;
    assert!(
        matches!(again, Err(StoreError::TokenNotRedeemable)),
        "{again:?}"
    );
    let redeemed = stored_token(&store, &valid.hash).await;
    assert_eq!(redeemed.used_at, Some(at(99)));
    assert_eq!(redeemed.revoked_at, None);
}

/// Revoking an account's pending tokens of some kinds and issuing a new one
/// in one commit revokes the old ones and keeps the new link; used tokens,
/// other kinds and other accounts are untouched.
pub async fn revoking_tokens_then_issuing_a_new_one_keeps_the_new_link(
    store: Arc<dyn AccountStore>,
) {
    let (firm, ann, bob) = ann_and_bob(&store).await;
    let old = token(&ann, 1, TokenKind::Invitation, 0, 3_600);
    let mut used = token(&ann, 2, TokenKind::Invitation, 0, 3_600);
    used.used_at = Some(at(10));
    let reset = token(&ann, 3, TokenKind::PasswordReset, 0, 3_600);
    let bobs = token(&bob, 4, TokenKind::Invitation, 0, 3_600);
    store_tokens(
        &store,
        vec![old.clone(), used.clone(), reset.clone(), bobs.clone()],
    )
    .await;

    let fresh = token(&ann, 5, TokenKind::Invitation, 60, 3_660);
    commit(
        &store,
        Changes {
            revoke_tokens: vec![TokenRevocation {
                tenant: firm.clone(),
                account_id: ann.id,
                kinds: vec![TokenKind::Invitation],
                at: at(60),
            }],
            new_tokens: vec![fresh.clone()],
            ..Changes::default()
        },
    )
    .await
    .unwrap();

    assert_eq!(
        stored_token(&store, &old.hash).await.revoked_at,
        Some(at(60))
    );
    assert_eq!(stored_token(&store, &fresh.hash).await, fresh);
    assert_eq!(stored_token(&store, &used.hash).await, used);
    assert_eq!(stored_token(&store, &reset.hash).await, reset);
    assert_eq!(stored_token(&store, &bobs.hash).await, bobs);
    commit(
        &store,
        Changes {
            redeem: Some(Redemption {
                hash: fresh.hash,
                kind: TokenKind::Invitation,
                at: at(61),
            }),
            ..Changes::default()
        },
    )
    .await
    .expect("the new link works");
}
