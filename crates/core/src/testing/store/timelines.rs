//! What staff read of an account: audit events, messages, tokens and link openings, newest first.

use std::sync::Arc;

use crate::{AccountStore, Actor, AuditKind, Changes, MessageKind, TokenKind};

use super::fixtures::*;

/// Audit events are listed newest first (later insertion first among equal
/// times), per tenant and account, up to the limit, with every field intact.
pub async fn audit_events_are_listed_newest_first_per_tenant_and_account(
    store: Arc<dyn AccountStore>,
) {
    let (firm, ann, bob) = ann_and_bob(&store).await;
    let e1 = event(&ann, 1, AuditKind::AccountCreated, 10);
    let e3 = event(&ann, 3, AuditKind::InvitationSent, 30);
    let e2 = event(&ann, 2, AuditKind::AccessDisabled, 20);
    let mut e4 = event(&ann, 4, AuditKind::SignedIn, 30);
    e4.actor = Actor::Client { account_id: ann.id };
    e4.ip = None;
    e4.user_agent = None;
    e4.detail = serde_json::Value::Null;
    let mut e5 = event(&ann, 5, AuditKind::SignInFailed, 15);
    e5.actor = Actor::System;
    let bobs = event(&bob, 6, AuditKind::AccountCreated, 40);
    let mut anonymous = event(&ann, 7, AuditKind::SignInFailed, 50);
    anonymous.account_id = None;
    commit(
        &store,
        Changes {
            audit: vec![e1.clone(), e3.clone(), e2.clone()],
            ..Changes::default()
        },
    )
    .await
    .unwrap();
    commit(
        &store,
        Changes {
            audit: vec![e4.clone(), e5.clone(), bobs.clone(), anonymous],
            ..Changes::default()
        },
    )
    .await
    .unwrap();

    let listed = store.audit_events(&firm, ann.id, 10).await.unwrap();
    assert_eq!(listed, vec![e4.clone(), e3.clone(), e2.clone(), e5, e1]);
    let limited = store.audit_events(&firm, ann.id, 2).await.unwrap();
    assert_eq!(ids(&limited, |e| e.id), vec![e4.id, e3.id]);
    assert_eq!(
        store.audit_events(&firm, bob.id, 10).await.unwrap(),
        vec![bobs]
    );
    assert!(store
        .audit_events(&tenant("other"), ann.id, 10)
        .await
        .unwrap()
        .is_empty());
}

/// Outbox messages, link tokens and link openings are listed newest first,
/// per tenant and account, up to the limit.
pub async fn messages_tokens_and_link_openings_are_listed_newest_first_per_account(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let mut ann = account(&firm, 1, "ann@example.com");
    ann.display_name = Some("Ann Client".into());
    let bob = account(&firm, 2, "bob@example.com");
    insert(&store, &ann).await;
    insert(&store, &bob).await;
    let t1 = token(&ann, 1, TokenKind::Invitation, 10, 3_600);
    let mut t2 = token(&ann, 2, TokenKind::PasswordReset, 20, 3_600);
    t2.message_id = Some(message_id(2));
    let t3 = token(&ann, 3, TokenKind::NotMe, 15, 3_600);
    let m1 = message(&ann, 1, 10, Some((t1.hash, 3_600)));
    let m2 = message(&ann, 2, 20, Some((t2.hash, 3_600)));
    let m3 = message(&ann, 3, 15, None);
    let mut orphan = message(&ann, 4, 30, None);
    orphan.account_id = None;
    orphan.kind = MessageKind::NoAccount;
    let bobs = message(&bob, 5, 40, None);
    commit(
        &store,
        Changes {
            new_tokens: vec![t1.clone(), t2.clone(), t3.clone()],
            outbox: vec![m1.clone(), m2.clone(), m3.clone(), orphan, bobs.clone()],
            link_openings: vec![opening(&t1, 50), opening(&t2, 70), opening(&t1, 60)],
            ..Changes::default()
        },
    )
    .await
    .unwrap();

    assert_eq!(
        store.tokens_for_account(&firm, ann.id, 10).await.unwrap(),
        vec![t2.clone(), t3.clone(), t1.clone()]
    );
    assert_eq!(
        ids(
            &store.tokens_for_account(&firm, ann.id, 1).await.unwrap(),
            |t| t.hash
        ),
        vec![t2.hash]
    );
    assert_eq!(
        store.messages_for_account(&firm, ann.id, 10).await.unwrap(),
        vec![queued(m2.clone()), queued(m3.clone()), queued(m1.clone())]
    );
    assert_eq!(
        ids(
            &store.messages_for_account(&firm, ann.id, 2).await.unwrap(),
            |m| m.message.id
        ),
        vec![m2.id, m3.id]
    );
    assert_eq!(
        store.messages_for_account(&firm, bob.id, 10).await.unwrap(),
        vec![queued(bobs)]
    );
    assert_eq!(
        store.link_openings(&firm, ann.id, 10).await.unwrap(),
        vec![opening(&t2, 70), opening(&t1, 60), opening(&t1, 50)]
    );
    assert_eq!(
        store.link_openings(&firm, ann.id, 1).await.unwrap().len(),
        1
    );
    assert!(store
        .link_openings(&firm, bob.id, 10)
        .await
        .unwrap()
        .is_empty());
}
