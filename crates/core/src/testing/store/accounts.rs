//! Accounts: lookups, tenant isolation, unique emails and usernames under concurrency.

use std::sync::Arc;

use crate::{
    Access, AccountChange, AccountStore, AuditKind, Changes, EmailAddress, Invitation, Language,
    PasswordHash, SessionRevocation, StoreError, TenantId, TokenKind, TokenRevocation,
};

use super::fixtures::*;

/// An inserted account is found by id, by normalized email and by username
/// key, with every field as written.
pub async fn an_inserted_account_is_found_by_id_normalized_email_and_username_key(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let mut ann = account(&firm, 1, "Ann.Client@Example.com");
    ann.username = username("Ann.C");
    ann.contact_ref = Some("contact-7".into());
    ann.display_name = Some("Ann Client".into());
    ann.password_hash = Some(PasswordHash::new(
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
    ));
    ann.invitation = Invitation::Pending {
        sent_at: at(10),
        expires_at: at(10 + 7 * 86_400),
    };
    ann.must_change_password = true;
    ann.language = Some(Language::stored("es"));
    ann.last_sign_in_at = Some(at(20));
    ann.updated_at = at(30);
    let mut bob = account(&firm, 2, "bob@example.com");
    bob.access = Access::Disabled;
    bob.archived = true;
    bob.invitation = Invitation::Accepted { at: at(40) };

    insert(&store, &ann).await;
    insert(&store, &bob).await;

    assert_eq!(
        store.account(&firm, ann.id).await.unwrap(),
        Some(ann.clone())
    );
    assert_eq!(
        store.account(&firm, bob.id).await.unwrap(),
        Some(bob.clone())
    );
    assert_eq!(
        found_by_email(&store, &firm, "ann.client@example.com").await,
        Some(ann.clone())
    );
    assert_eq!(
        store.account_by_username(&firm, "ann.c").await.unwrap(),
        Some(ann.clone())
    );
    assert_eq!(store.account(&firm, account_id(99)).await.unwrap(), None);
    assert_eq!(
        found_by_email(&store, &firm, "nobody@example.com").await,
        None
    );
    assert_eq!(
        store.account_by_username(&firm, "nobody").await.unwrap(),
        None
    );
}

/// One email address (and one username) may hold an account in each tenant,
/// and no lookup ever returns another tenant's account.
pub async fn one_email_address_holds_one_account_in_each_tenant_and_reads_never_cross_tenants(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let other = tenant("other-firm");
    let mut ann = account(&firm, 1, "ann@example.com");
    ann.username = username("ann");
    let mut twin = account(&other, 2, "ANN@example.com");
    twin.username = username("Ann");

    insert(&store, &ann).await;
    insert(&store, &twin).await;

    assert_eq!(store.account(&other, ann.id).await.unwrap(), None);
    assert_eq!(store.account(&firm, twin.id).await.unwrap(), None);
    let by_email = |t: TenantId| {
        let store = Arc::clone(&store);
        async move { found_by_email(&store, &t, "ann@example.com").await }
    };
    assert_eq!(by_email(firm.clone()).await.map(|a| a.id), Some(ann.id));
    assert_eq!(by_email(other.clone()).await.map(|a| a.id), Some(twin.id));
    assert_eq!(
        store
            .account_by_username(&firm, "ann")
            .await
            .unwrap()
            .map(|a| a.id),
        Some(ann.id)
    );
    assert_eq!(
        store
            .account_by_username(&other, "ann")
            .await
            .unwrap()
            .map(|a| a.id),
        Some(twin.id)
    );
    assert_eq!(
        store
            .account_by_email(&tenant("third"), "ann@example.com")
            .await
            .unwrap(),
        None
    );

    // Records of an account are not listed under another tenant.
    let reset = token(&ann, 1, TokenKind::PasswordReset, 0, 3_600);
    commit(
        &store,
        Changes {
            new_tokens: vec![reset.clone()],
            outbox: vec![message(&ann, 1, 0, Some((reset.hash, 3_600)))],
            audit: vec![event(&ann, 1, AuditKind::PasswordResetSent, 0)],
            link_openings: vec![opening(&reset, 5)],
            ..Changes::default()
        },
    )
    .await
    .unwrap();
    assert!(store
        .tokens_for_account(&other, ann.id, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .messages_for_account(&other, ann.id, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .audit_events(&other, ann.id, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .link_openings(&other, ann.id, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .tokens_for_account(&firm, ann.id, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// An update, token revocation or session revocation that names another
/// tenant than the account's changes nothing.
pub async fn writes_naming_another_tenant_change_nothing(store: Arc<dyn AccountStore>) {
    let firm = tenant("firm");
    let other = tenant("other-firm");
    let ann = account(&firm, 1, "ann@example.com");
    insert(&store, &ann).await;
    let (invitation, signed_in) = invite_and_sign_in(&store, &ann).await;

    let mut hijack = ann.clone();
    hijack.tenant = other.clone();
    hijack.display_name = Some("Mallory".into());
    assert!(matches!(
        update(&store, &hijack).await,
        Err(StoreError::Conflict)
    ));
    commit(
        &store,
        Changes {
            revoke_tokens: vec![TokenRevocation {
                tenant: other.clone(),
                account_id: ann.id,
                kinds: TokenKind::ALL.to_vec(),
                at: at(60),
            }],
            revoke_sessions: vec![SessionRevocation::AllOfAccount {
                tenant: other.clone(),
                account_id: ann.id,
                except: None,
                at: at(60),
            }],
            ..Changes::default()
        },
    )
    .await
    .unwrap();

    assert_eq!(stored(&store, &ann).await, ann);
    assert_eq!(stored_token(&store, &invitation.hash).await, invitation);
    assert_eq!(stored_session(&store, &signed_in.hash).await, signed_in);
    assert_eq!(store.account(&other, ann.id).await.unwrap(), None);
}

/// A second account whose email normalizes to a taken one is refused with
/// `EmailTaken`, on insert and on update.
pub async fn a_second_account_with_the_same_normalized_email_is_refused_as_email_taken(
    store: Arc<dyn AccountStore>,
) {
    let (firm, _, bob) = ann_and_bob(&store).await;

    let twin = account(&firm, 3, "ANN@Example.COM");
    let refused = write(&store, AccountChange::Insert(twin.clone())).await;
    assert!(
        matches!(refused, Err(StoreError::EmailTaken)),
        "{refused:?}"
    );
    assert_eq!(store.account(&firm, twin.id).await.unwrap(), None);

    let mut renamed = bob.clone();
    renamed.email = EmailAddress::parse("Ann@example.com").unwrap();
    let refused = update(&store, &renamed).await;
    assert!(
        matches!(refused, Err(StoreError::EmailTaken)),
        "{refused:?}"
    );
    assert_eq!(stored(&store, &bob).await, bob);
}

/// A username whose key equals a taken one (it differs only in case) is
/// refused with `UsernameTaken`; an account may change the case of its own.
pub async fn a_username_differing_only_in_case_is_refused_as_username_taken(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let mut ann = account(&firm, 1, "ann@example.com");
    ann.username = username("Joe.Fake");
    let bob = account(&firm, 2, "bob@example.com");
    insert(&store, &ann).await;
    insert(&store, &bob).await;

    let mut twin = account(&firm, 3, "twin@example.com");
    twin.username = username("joe.fake");
    let refused = write(&store, AccountChange::Insert(twin.clone())).await;
    assert!(
        matches!(refused, Err(StoreError::UsernameTaken)),
        "{refused:?}"
    );

    let mut claim = bob.clone();
    claim.username = username("JOE.FAKE");
    let refused = update(&store, &claim).await;
    assert!(
        matches!(refused, Err(StoreError::UsernameTaken)),
        "{refused:?}"
    );
    assert_eq!(stored(&store, &bob).await, bob);

    let mut recased = ann.clone();
    recased.username = username("joe.FAKE");
    update(&store, &recased)
        .await
        .expect("a new case of one's own username");
    assert_eq!(
        stored(&store, &ann)
            .await
            .username
            .map(|u| u.as_str().to_owned()),
        Some("joe.FAKE".to_owned())
    );
}

/// Fifty accounts claiming one username at once: exactly one succeeds, the
/// other 49 are refused with `UsernameTaken`.
pub async fn fifty_concurrent_claims_of_one_username_succeed_exactly_once(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let mut accounts = Vec::new();
    for n in 0..50 {
        let a = account(&firm, n, &format!("client{n}@example.com"));
        insert(&store, &a).await;
        accounts.push(a);
    }
    let claims = accounts.into_iter().map(|mut claim| {
        let store = Arc::clone(&store);
        claim.username = username(if claim.id == account_id(7) {
            "Popular"
        } else {
            "popular"
        });
        async move { update(&store, &claim).await }
    });
    let results = at_once(claims).await;
    let (won, taken) = won_and_refused(results, |e| matches!(e, StoreError::UsernameTaken));
    assert_eq!((won, taken), (1, 49));
    assert!(store
        .account_by_username(&firm, "popular")
        .await
        .unwrap()
        .is_some());
}

/// Twenty concurrent inserts of one email address in a tenant create exactly
/// one account; the others are refused with `EmailTaken`.
pub async fn twenty_concurrent_inserts_of_one_email_create_exactly_one_account(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let inserts = (0..20).map(|n| {
        let store = Arc::clone(&store);
        let a = account(&firm, n, "same@example.com");
        async move { commit(&store, Changes::of_account(AccountChange::Insert(a))).await }
    });
    let results = at_once(inserts).await;
    let (won, taken) = won_and_refused(results, |e| matches!(e, StoreError::EmailTaken));
    assert_eq!((won, taken), (1, 19));
}

/// A search finds the tenant's accounts whose email, username or contact
/// reference contains the text (any case, `%` and `_` literal), newest
/// first, a page at a time, and never an account of another tenant.
pub async fn a_search_matches_email_username_or_contact_ref_newest_first_within_the_tenant(
    store: Arc<dyn AccountStore>,
) {
    let firm = tenant("firm");
    let mut ann = account(&firm, 1, "ann@example.com");
    ann.created_at = at(10);
    ann.contact_ref = Some("CRM-100_A".into());
    let mut bob = account(&firm, 2, "bob@example.com");
    bob.created_at = at(20);
    bob.username = username("Bobby.Tables");
    let mut cat = account(&firm, 3, "cat@other.org");
    cat.created_at = at(30);
    let intruder = account(&tenant("other"), 4, "ann@example.com");
    for a in [&ann, &bob, &cat, &intruder] {
        insert(&store, a).await;
    }
    let search = |text: &str, offset, limit| crate::AccountSearch {
        text: text.to_owned(),
        offset,
        limit,
    };
    let ids = |found: Vec<crate::Account>| found.iter().map(|a| a.id).collect::<Vec<_>>();

    let all = store
        .search_accounts(&firm, &search("", 0, 10))
        .await
        .unwrap();
    assert_eq!(ids(all), vec![cat.id, bob.id, ann.id]);
    let page_two = store
        .search_accounts(&firm, &search("", 1, 1))
        .await
        .unwrap();
    assert_eq!(ids(page_two), vec![bob.id]);
    let by_email = store
        .search_accounts(&firm, &search("example.com", 0, 10))
        .await
        .unwrap();
    assert_eq!(ids(by_email), vec![bob.id, ann.id]);
    let by_username = store
        .search_accounts(&firm, &search("bobby", 0, 10))
        .await
        .unwrap();
    assert_eq!(ids(by_username), vec![bob.id]);
    let by_contact = store
        .search_accounts(&firm, &search("crm-100_a", 0, 10))
        .await
        .unwrap();
    assert_eq!(ids(by_contact), vec![ann.id]);
    let wildcard = store
        .search_accounts(&firm, &search("100%", 0, 10))
        .await
        .unwrap();
    assert!(wildcard.is_empty(), "% is a literal, not a wildcard");
    let underscore = store
        .search_accounts(&firm, &search("m_1", 0, 10))
        .await
        .unwrap();
    assert!(underscore.is_empty(), "_ is a literal, not a wildcard");
    let nothing = store
        .search_accounts(&firm, &search("nobody", 0, 10))
        .await
        .unwrap();
    assert!(nothing.is_empty());
}
