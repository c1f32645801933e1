//! The client-side service over the in-memory store and the fakes: every
//! operation end to end through `PortalService`, the store's transactions
//! and the outbox.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use common::*;

use portal_access_core::config::PortalConfig;
use portal_access_core::service::{
    AcceptInvitationError, ChangePasswordError, ChangeUsernameError, ClientSession,
    CompleteResetError, ForgotPasswordError, LinkView, PortalEvent, PortalService,
    SecureAccountError, ServiceError, SignInError, SignedIn, UnauthenticatedError,
};
use portal_access_core::testing::fakes::{
    ManualClock, RecordingMailer, ScriptedCaptcha, SeededRandom,
};
use portal_access_core::testing::MemoryStore;
use portal_access_core::workflow::Refusal;
use portal_access_core::{
    Access, Account, AccountChange, AccountId, AccountStore, AuditKind, Changes, EmailAddress,
    Invitation, MessageKind, NewMessage, RawToken, RequestContext, TenantId, TokenKind,
    TokenRecord, TokenState, Username,
};
use time::{Duration, OffsetDateTime};

const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "purple elephants dance at dawn";
const FIREFOX_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";

fn other_ip() -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 51, 100, 9))
}

fn ctx() -> RequestContext {
    ctx_from(berlin_ip())
}

fn ctx_from(ip: IpAddr) -> RequestContext {
    RequestContext {
        ip: Some(ip),
        user_agent: Some(FIREFOX_LINUX.into()),
        expected_version: None,
    }
}

fn cheap_config() -> PortalConfig {
    let mut config = common::cheap_config();
    // No time floor: the tests that need it set it.
    config.forgot_min_duration = std::time::Duration::ZERO;
    config
}

struct Portal {
    service: PortalService,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    tenant: TenantId,
}

fn portal() -> Portal {
    portal_with(|_| {})
}

fn portal_with(adjust: impl FnOnce(&mut PortalConfig)) -> Portal {
    portal_built(adjust, |b| b)
}

fn portal_built(
    adjust: impl FnOnce(&mut PortalConfig),
    extra: impl FnOnce(
        portal_access_core::service::PortalServiceBuilder,
    ) -> portal_access_core::service::PortalServiceBuilder,
) -> Portal {
    let mut config = cheap_config();
    adjust(&mut config);
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(start()));
    let geoip = berlin_geoip(Some("Land Berlin"));
    let builder = PortalService::builder(store.clone())
        .config(config)
        .mailer(Arc::new(RecordingMailer::new()))
        .clock(clock.clone())
        .random(Arc::new(SeededRandom::new(7)))
        .geoip(Arc::new(geoip));
    let service = extra(builder).build().expect("valid configuration");
    Portal {
        service,
        store,
        clock,
        tenant: TenantId::new("firm").unwrap(),
    }
}

impl Portal {
    fn now(&self) -> OffsetDateTime {
        self.service.now()
    }

    fn new_account(&self, email: &str, n: u8) -> Account {
        Account::new(
            AccountId::from_random([n; 16]),
            self.tenant.clone(),
            EmailAddress::parse(email).unwrap(),
            None,
            Some("Ann Client".into()),
            self.now() - Duration::days(40),
        )
    }

    async fn insert(&self, account: Account) -> Account {
        self.store
            .commit(Changes {
                account: Some(AccountChange::Insert(account.clone())),
                ..Changes::default()
            })
            .await
            .unwrap();
        account
    }

    /// An accepted, enabled account with a username and `PASSWORD`.
    async fn accepted(&self, email: &str, username: &str, n: u8) -> Account {
        let mut account = self.new_account(email, n);
        account.invitation = Invitation::Accepted {
            at: self.now() - Duration::days(30),
        };
        account.username = Some(Username::parse(username).unwrap());
        account.password_hash = Some(
            self.service
                .hasher()
                .hash(secret(PASSWORD), [n; 16])
                .await
                .unwrap(),
        );
        self.insert(account).await
    }

    /// A pending account and its invitation link.
    async fn pending(&self, email: &str, n: u8) -> (Account, RawToken) {
        let mut account = self.new_account(email, n);
        let expires_at = self.now() + Duration::days(7);
        account.invitation = Invitation::Pending {
            sent_at: self.now(),
            expires_at,
        };
        let account = self.insert(account).await;
        let token = self
            .issue(&account, TokenKind::Invitation, Duration::days(7), n)
            .await;
        (account, token)
    }

    async fn issue(&self, account: &Account, kind: TokenKind, ttl: Duration, n: u8) -> RawToken {
        let token = RawToken::from_bytes([n.wrapping_add(100); 32]);
        self.store
            .commit(Changes {
                new_tokens: vec![TokenRecord {
                    hash: token.hash(),
                    kind,
                    tenant: account.tenant.clone(),
                    account_id: account.id,
                    created_at: self.now(),
                    expires_at: self.now() + ttl,
                    used_at: None,
                    revoked_at: None,
                    message_id: None,
                }],
                ..Changes::default()
            })
            .await
            .unwrap();
        token
    }

    async fn account(&self, id: AccountId) -> Account {
        self.store.account(&self.tenant, id).await.unwrap().unwrap()
    }

    /// Every queued message (peeked: the lease ends at once).
    async fn queued(&self) -> Vec<NewMessage> {
        queued(self.store.as_ref(), self.now()).await
    }

    async fn queued_of_kind(&self, kind: MessageKind) -> Vec<NewMessage> {
        self.queued()
            .await
            .into_iter()
            .filter(|m| m.kind == kind)
            .collect()
    }

    async fn sign_in(
        &self,
        login: &str,
        password: &str,
    ) -> Result<SignedIn, ServiceError<SignInError>> {
        self.service
            .sign_in(&self.tenant, &ctx(), login, secret(password))
            .await
            .map(signed_in)
    }

    async fn reset(&self, token: &str) -> Result<SignedIn, ServiceError<CompleteResetError>> {
        self.reset_with(token, NEW_PASSWORD, NEW_PASSWORD).await
    }

    async fn reset_with(
        &self,
        token: &str,
        password: &str,
        confirmation: &str,
    ) -> Result<SignedIn, ServiceError<CompleteResetError>> {
        let (password, confirmation) = (secret(password), secret(confirmation));
        let ctx = ctx();
        self.service
            .reset_password(&ctx, token, password, confirmation)
            .await
            .map(signed_in)
    }

    /// Accepts the invitation `token` with `username` and `PASSWORD`.
    async fn accept(
        &self,
        token: &str,
        username: &str,
    ) -> Result<SignedIn, ServiceError<AcceptInvitationError>> {
        accept_invitation(&self.service, &ctx(), token, username, PASSWORD).await
    }

    /// A reset link for `account`, valid for an hour.
    async fn issue_reset(&self, account: &Account, n: u8) -> RawToken {
        self.issue(account, TokenKind::PasswordReset, Duration::hours(1), n)
            .await
    }

    async fn update(&self, account: Account) {
        let update = AccountChange::Update(account);
        self.store
            .commit(Changes {
                account: Some(update),
                ..Changes::default()
            })
            .await
            .unwrap();
    }

    async fn authenticate(
        &self,
        session_token: &str,
    ) -> Result<ClientSession, ServiceError<UnauthenticatedError>> {
        self.service.authenticate(session_token).await
    }

    /// The session of a fresh sign-in with `PASSWORD`.
    async fn session(&self, login: &str) -> ClientSession {
        let signed_in = self.sign_in(login, PASSWORD).await.unwrap();
        self.authenticate(signed_in.session_token.expose())
            .await
            .unwrap()
    }

    async fn fresh_invitation(&self, token: &str) {
        let ctx = ctx();
        self.service
            .request_fresh_invitation(&ctx, token)
            .await
            .unwrap();
    }

    async fn open(&self, kind: TokenKind, token: &str) -> LinkView {
        self.service.open_link(&ctx(), kind, token).await.unwrap()
    }

    async fn forgot(&self, email: &str) {
        self.service
            .forgot_password(&self.tenant, &ctx(), email, None)
            .await
            .expect("forgot-password always answers Ok");
    }

    /// Whether `account`'s trail holds an event of `kind`.
    async fn audited(&self, account: &Account, kind: AuditKind) -> bool {
        self.audit_kinds(account).await.contains(&kind)
    }

    async fn audit_kinds(&self, account: &Account) -> Vec<AuditKind> {
        self.store
            .audit_events(&self.tenant, account.id, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }
}

// ------------------------------------------------------------ forgot password

#[tokio::test]
async fn forgot_password_queues_a_reset_link_that_resets_and_signs_in() {
    let p = portal();
    let ann = p.accepted("ann@example.com", "ann", 1).await;
    p.forgot("ANN@example.com").await;
    let mail = p.queued_of_kind(MessageKind::PasswordReset).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, "ann@example.com");
    assert!(mail[0]
        .text_body
        .contains("https://portal.example.com/portal/reset-password?token="));
    let token = token_in(&mail[0]);

    let signed_in = p.reset(&token).await.unwrap();
    assert_eq!(signed_in.account.id, ann.id);
    let session = p
        .authenticate(signed_in.session_token.expose())
        .await
        .unwrap();
    assert_eq!(session.account.id, ann.id);
    assert_eq!(
        code(p.sign_in("ann", PASSWORD).await),
        "invalid_credentials"
    );
    assert!(p.sign_in("ann", NEW_PASSWORD).await.is_ok());
    assert!(p.audited(&ann, AuditKind::PasswordReset).await);
}

#[tokio::test]
async fn forgot_password_gives_identical_results_for_unknown_disabled_archived_pending_and_rate_limited_addresses(
) {
    let p = portal();
    let mut disabled = p.new_account("disabled@example.com", 2);
    disabled.invitation = Invitation::Accepted { at: p.now() };
    disabled.access = Access::Disabled;
    p.insert(disabled).await;
    let mut archived = p.new_account("archived@example.com", 3);
    archived.invitation = Invitation::Accepted { at: p.now() };
    archived.archived = true;
    p.insert(archived).await;
    p.insert(p.new_account("never-invited@example.com", 4))
        .await;
    let (pending, _) = p.pending("pending@example.com", 5).await;
    p.accepted("limited@example.com", "limited", 6).await;
    for _ in 0..5 {
        p.forgot("limited@example.com").await;
    }
    let before = p.queued().await.len();

    let mut answers = Vec::new();
    for address in [
        "unknown@example.com",
        "disabled@example.com",
        "archived@example.com",
        "never-invited@example.com",
        "pending@example.com",
        "limited@example.com",
        "not an address",
    ] {
        let answer = p
            .service
            .forgot_password(&p.tenant, &ctx(), address, None)
            .await;
        answers.push(format!("{answer:?}"));
    }
    assert!(answers.iter().all(|a| a == "Ok(())"), "{answers:?}");

    let after = p.queued().await;
    let new: Vec<_> = after[before..]
        .iter()
        .map(|m| (m.kind, m.to.clone()))
        .collect();
    // Only the pending invitation was re-sent; the rate-limited address got nothing more.
    assert_eq!(
        new,
        vec![(MessageKind::Reinvitation, "pending@example.com".to_owned())]
    );
    assert!(p.audited(&pending, AuditKind::InvitationResent).await);
}

#[tokio::test]
async fn forgot_password_for_a_pending_invitation_resends_it_and_revokes_the_old_link() {
    let p = portal();
    let (pending, old_link) = p.pending("pending@example.com", 5).await;
    p.forgot("pending@example.com").await;
    let mail = p.queued_of_kind(MessageKind::Reinvitation).await;
    assert_eq!(mail.len(), 1);
    let new_link = token_in(&mail[0]);

    let refused = p.accept(old_link.expose(), "pending.p").await;
    assert_eq!(code(refused), "token_invalid");
    let accepted = p.accept(&new_link, "pending.p").await.unwrap();
    assert_eq!(accepted.account.id, pending.id);
}

#[tokio::test]
async fn forgot_password_for_an_unknown_address_sends_a_no_account_notice_when_configured() {
    let p = portal_with(|c| c.notify_unknown_address = true);
    p.forgot("stranger@example.com").await;
    let mail = p.queued_of_kind(MessageKind::NoAccount).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, "stranger@example.com");
    assert_eq!(mail[0].account_id, None);
    assert_eq!(mail[0].token_hash, None);
}

#[tokio::test]
async fn forgot_password_per_ip_rate_stops_sending_to_every_address() {
    let p = portal_with(|c| c.forgot_per_ip.limit = 2);
    p.accepted("ann@example.com", "ann", 1).await;
    p.accepted("bob@example.com", "bob", 2).await;
    p.accepted("cat@example.com", "cat", 3).await;
    for address in ["ann@example.com", "bob@example.com", "cat@example.com"] {
        p.forgot(address).await;
    }
    let sent: Vec<String> = p
        .queued_of_kind(MessageKind::PasswordReset)
        .await
        .into_iter()
        .map(|m| m.to)
        .collect();
    assert_eq!(sent, vec!["ann@example.com", "bob@example.com"]);
}

#[tokio::test]
async fn a_newer_reset_link_supersedes_the_older_one() {
    let p = portal();
    p.accepted("ann@example.com", "ann", 1).await;
    p.forgot("ann@example.com").await;
    p.forgot("ann@example.com").await;
    let mail = p.queued_of_kind(MessageKind::PasswordReset).await;
    assert_eq!(mail.len(), 2);
    let (older, newer) = (token_in(&mail[0]), token_in(&mail[1]));
    let refused = p.reset(&older).await;
    assert_eq!(code(refused), "token_invalid");
    assert!(p.reset(&newer).await.is_ok());
}

#[tokio::test]
async fn forgot_password_requiring_a_captcha_refuses_a_missing_or_failed_one() {
    let p = portal_built(
        |c| c.forgot_requires_captcha = true,
        |b| b.captcha(Arc::new(ScriptedCaptcha::accepting("human"))),
    );
    p.accepted("ann@example.com", "ann", 1).await;
    let missing = p
        .service
        .forgot_password(&p.tenant, &ctx(), "ann@example.com", None)
        .await;
    assert!(matches!(
        missing,
        Err(ServiceError::Refused(ForgotPasswordError::CaptchaFailed))
    ));
    let wrong = p
        .service
        .forgot_password(&p.tenant, &ctx(), "ann@example.com", Some(secret("robot")))
        .await;
    assert_eq!(code(wrong), "captcha_failed");
    assert!(p.queued().await.is_empty());
    p.service
        .forgot_password(&p.tenant, &ctx(), "ann@example.com", Some(secret("human")))
        .await
        .unwrap();
    assert_eq!(p.queued_of_kind(MessageKind::PasswordReset).await.len(), 1);
}

#[tokio::test]
async fn forgot_password_takes_at_least_the_configured_minimum_for_known_and_unknown_addresses() {
    let p = portal_with(|c| c.forgot_min_duration = std::time::Duration::from_millis(60));
    p.accepted("ann@example.com", "ann", 1).await;
    for address in ["ann@example.com", "unknown@example.com"] {
        let started = std::time::Instant::now();
        p.forgot(address).await;
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(60),
            "{address} answered early"
        );
    }
}

// -------------------------------------------------------------- reset password

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_redemptions_of_one_reset_token_succeed_exactly_once() {
    let p = portal();
    let ann = p.accepted("ann@example.com", "ann", 1).await;
    let token = p.issue_reset(&ann, 1).await;
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let service = p.service.clone();
        let token = token.expose().to_owned();
        tasks.push(tokio::spawn(async move {
            service
                .reset_password(&ctx(), &token, secret(NEW_PASSWORD), secret(NEW_PASSWORD))
                .await
        }));
    }
    let mut won = 0;
    let mut token_invalid = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(ServiceError::Refused(CompleteResetError::TokenInvalid)) => token_invalid += 1,
            Err(other) => panic!("unexpected: {other:?}"),
        }
    }
    assert_eq!((won, token_invalid), (1, 99));
    assert_eq!(
        p.queued_of_kind(MessageKind::PasswordChanged).await.len(),
        1,
        "one notice, from the one redemption"
    );
}

#[tokio::test]
async fn an_expired_reset_link_is_refused_as_token_invalid_after_the_ttl() {
    let p = portal();
    p.accepted("ann@example.com", "ann", 1).await;
    p.forgot("ann@example.com").await;
    let token = token_in(&p.queued_of_kind(MessageKind::PasswordReset).await[0]);
    p.clock.advance(Duration::hours(1) + Duration::seconds(1));
    let refused = p.reset(&token).await;
    assert_eq!(code(refused), "token_invalid");
}

#[tokio::test]
async fn unknown_used_and_malformed_reset_tokens_get_the_same_refusal() {
    let p = portal();
    let ann = p.accepted("ann@example.com", "ann", 1).await;
    let token = p.issue_reset(&ann, 1).await;
    p.reset(token.expose()).await.unwrap();
    let unknown = RawToken::from_bytes([42; 32]);
    for candidate in [token.expose(), unknown.expose(), "garbage"] {
        let refused = p.reset(candidate).await;
        assert_eq!(code(refused), "token_invalid");
    }
}

#[tokio::test]
async fn a_reset_with_a_bad_password_keeps_the_link_usable() {
    let p = portal();
    let ann = p.accepted("ann@example.com", "ann", 1).await;
    let token = p.issue_reset(&ann, 1).await;
    let mismatch = p
        .reset_with(token.expose(), NEW_PASSWORD, "something else entirely")
        .await;
    assert_eq!(code(mismatch), "password_mismatch");
    let weak = p.reset_with(token.expose(), "password", "password").await;
    let Err(ServiceError::Refused(e)) = weak else {
        panic!("expected a refusal")
    };
    assert_eq!(e.code().as_str(), "password_rejected");
    assert!(!e.password_reasons().unwrap().is_empty());
    assert!(p.reset(token.expose()).await.is_ok());
}

#[tokio::test]
async fn a_reset_revokes_every_session_and_every_other_reset_link() {
    let p = portal();
    let ann = p.accepted("ann@example.com", "ann", 1).await;
    let old_session = p.sign_in("ann", PASSWORD).await.unwrap();
    let first = p.issue_reset(&ann, 1).await;
    let second = p.issue_reset(&ann, 2).await;
    let new_session = p.reset(second.expose()).await.unwrap();
    assert_eq!(
        code(p.authenticate(old_session.session_token.expose()).await),
        "unauthenticated"
    );
    assert!(p
        .authenticate(new_session.session_token.expose())
        .await
        .is_ok());
    let first_state = p.store.token(&first.hash()).await.unwrap().unwrap();
    assert_eq!(first_state.state(p.now()), TokenState::Superseded);
    let account = p.account(ann.id).await;
    assert!(!account.must_change_password);
    assert_eq!(account.last_sign_in_at, Some(p.now()));
}

#[tokio::test]
async fn a_reset_clears_the_sign_in_throttle_of_the_account() {
    let p = portal();
    let ann = p.accepted("ann@example.com", "ann", 1).await;
    for _ in 0..5 {
        assert_eq!(
            code(p.sign_in("ann", "wrong password entirely").await),
            "invalid_credentials"
        );
    }
    assert_eq!(code(p.sign_in("ann", PASSWORD).await), "rate_limited");
    let token = p.issue_reset(&ann, 1).await;
    p.reset(token.expose()).await.unwrap();
    assert!(p.sign_in("ann", NEW_PASSWORD).await.is_ok());
}

#[tokio::test]
async fn the_password_changed_notice_carries_time_ip_location_os_and_browser() {
    let p = portal();
    let ann = p.accepted("ann@example.com", "ann", 1).await;
    let token = p.issue_reset(&ann, 1).await;
    p.reset(token.expose()).await.unwrap();
    let notices = p.queued_of_kind(MessageKind::PasswordChanged).await;
    assert_eq!(notices.len(), 1);
    let notice = &notices[0];
    assert_eq!(notice.to, "ann@example.com");
    for expected in [
        "Mar 2, 2026, 10:00 AM UTC",
        "203.0.113.7",
        "Berlin",
        "Germany",
        "Linux",
        "Firefox",
    ] {
        assert!(
            notice.text_body.contains(expected),
            "the notice lacks {expected:?}:\n{}",
            notice.text_body
        );
    }
    assert!(
        notice.text_body.contains("/not-me?token="),
        "it carries the not-me link"
    );
    assert!(!notice.text_body.contains(NEW_PASSWORD));
}

// ---------------------------------------------------------- accept invitation

#[tokio::test]
async fn accepting_an_invitation_sets_username_and_password_and_signs_in() {
    let p = portal();
    let (pending, token) = p.pending("ann@example.com", 1).await;
    let signed_in = p.accept(token.expose(), "Ann.C").await.unwrap();
    let account = p.account(pending.id).await;
    assert_eq!(account.invitation, Invitation::Accepted { at: p.now() });
    assert_eq!(account.username.as_ref().map(|u| u.as_str()), Some("Ann.C"));
    assert_eq!(signed_in.account.version, account.version);
    assert!(p
        .authenticate(signed_in.session_token.expose())
        .await
        .is_ok());
    assert!(
        p.sign_in("ann.c", PASSWORD).await.is_ok(),
        "username is case-insensitive"
    );
    let again = p.accept(token.expose(), "Ann.C").await;
    assert_eq!(code(again), "token_invalid");
}

#[tokio::test]
async fn an_expired_invitation_is_refused_as_token_invalid() {
    let p = portal();
    let (_, token) = p.pending("ann@example.com", 1).await;
    p.clock.advance(Duration::days(7));
    let refused = p.accept(token.expose(), "ann").await;
    assert_eq!(code(refused), "token_invalid");
}

#[tokio::test]
async fn accepting_with_a_taken_or_invalid_username_is_refused() {
    let p = portal();
    p.accepted("bob@example.com", "Taken.Name", 2).await;
    let (_, token) = p.pending("ann@example.com", 1).await;
    let taken = p.accept(token.expose(), "taken.name").await;
    assert!(matches!(
        taken,
        Err(ServiceError::Refused(AcceptInvitationError::UsernameTaken))
    ));
    let invalid = p.accept(token.expose(), "a@b").await;
    assert_eq!(code(invalid), "username_invalid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_clients_racing_for_one_username_get_it_once() {
    let p = portal();
    let (_, ann_token) = p.pending("ann@example.com", 1).await;
    let (_, bob_token) = p.pending("bob@example.com", 2).await;
    let tasks: Vec<_> = [ann_token, bob_token]
        .into_iter()
        .map(|token| {
            let service = p.service.clone();
            tokio::spawn(async move {
                service
                    .accept_invitation(
                        &ctx(),
                        token.expose(),
                        "shared",
                        secret(PASSWORD),
                        secret(PASSWORD),
                    )
                    .await
            })
        })
        .collect();
    let mut codes = Vec::new();
    for task in tasks {
        codes.push(code(task.await.unwrap()));
    }
    codes.sort();
    assert_eq!(codes, vec!["ok", "username_taken"]);
}

// -------------------------------------------------------------------- sign in

#[tokio::test]
async fn sign_in_works_by_email_and_by_username_with_a_new_session_each_time() {
    let p = portal();
    let ann = p.accepted("ann@example.com", "Ann.C", 1).await;
    let by_email = p.sign_in("ANN@example.com", PASSWORD).await.unwrap();
    let by_username = p.sign_in("ann.c", PASSWORD).await.unwrap();
    assert_ne!(
        by_email.session_token.expose(),
        by_username.session_token.expose()
    );
    assert_eq!(by_email.expires_at, p.now() + Duration::days(30));
    assert_eq!(p.account(ann.id).await.last_sign_in_at, Some(p.now()));
    assert!(p.audited(&ann, AuditKind::SignedIn).await);
}

#[tokio::test]
async fn unknown_login_and_wrong_password_are_the_same_refusal() {
    let p = portal();
    let ann = p.accepted("ann@example.com", "ann", 1).await;
    assert_eq!(
        code(p.sign_in("nobody", PASSWORD).await),
        "invalid_credentials"
    );
    assert_eq!(
        code(p.sign_in("nobody@example.com", PASSWORD).await),
        "invalid_credentials"
    );
    assert_eq!(
        code(p.sign_in("ann", "not the password at all").await),
        "invalid_credentials"
    );
    assert!(p.audited(&ann, AuditKind::SignInFailed).await);
}

#[tokio::test]
async fn an_unknown_login_is_verified_against_a_dummy_hash_like_a_wrong_password() {
    // Arrange: a known account, and one that has no password yet.
    let p = portal();
    p.accepted("ann@example.com", "ann", 1).await;
    p.pending("bob@example.com", 2).await;
    let verifications = || p.service.hasher().verifications_run();

    // Act + Assert: every failing login costs exactly one argon2 verification.
    for (login, password) in [
        ("ann", "not the password at all"),
        ("nobody", PASSWORD),
        ("nobody@example.com", PASSWORD),
        ("bob@example.com", PASSWORD),
        ("not a login @@", PASSWORD),
    ] {
        let before = verifications();
        assert_eq!(
            code(p.sign_in(login, password).await),
            "invalid_credentials"
        );
        assert_eq!(verifications(), before + 1, "login {login:?}");
    }
}

/// After `change` to an accepted account, a wrong password is still just
/// `invalid_credentials`; only the right one hears `refusal`.
async fn told_only_after_a_correct_password(change: impl FnOnce(&mut Account), refusal: &str) {
    let p = portal();
    let mut ann = p.accepted("ann@example.com", "ann", 1).await;
    change(&mut ann);
    p.update(ann).await;
    assert_eq!(
        code(p.sign_in("ann", "not the password at all").await),
        "invalid_credentials"
    );
    assert_eq!(code(p.sign_in("ann", PASSWORD).await), refusal);
}

#[tokio::test]
async fn disabled_access_is_told_only_after_a_correct_password() {
    told_only_after_a_correct_password(|a| a.access = Access::Disabled, "access_disabled").await;
}

#[tokio::test]
async fn an_archived_account_is_told_only_after_a_correct_password() {
    told_only_after_a_correct_password(|a| a.archived = true, "account_archived").await;
}

#[tokio::test]
async fn an_attacker_on_another_ip_cannot_lock_the_client_out() {
    let p = portal();
    p.accepted("ann@example.com", "ann", 1).await;
    for _ in 0..5 {
        let r = p
            .service
            .sign_in(
                &p.tenant,
                &ctx_from(other_ip()),
                "ann",
                secret("guess guess guess"),
            )
            .await;
        assert_eq!(code(r), "invalid_credentials");
    }
    let attacker = p
        .service
        .sign_in(&p.tenant, &ctx_from(other_ip()), "ann", secret(PASSWORD))
        .await;
    assert_eq!(
        code(attacker),
        "rate_limited",
        "refused before hashing, even the right password"
    );
    assert!(
        p.sign_in("ann", PASSWORD).await.is_ok(),
        "the client's own IP still works"
    );
}

#[tokio::test]
async fn the_throttle_window_passes() {
    let p = portal();
    p.accepted("ann@example.com", "ann", 1).await;
    for _ in 0..5 {
        let _ = p.sign_in("ann", "guess guess guess").await;
    }
    assert_eq!(code(p.sign_in("ann", PASSWORD).await), "rate_limited");
    p.clock.advance(Duration::minutes(15));
    assert!(p.sign_in("ann", PASSWORD).await.is_ok());
}

#[tokio::test]
async fn a_hash_with_old_parameters_is_rehashed_at_sign_in() {
    let p = portal();
    let mut ann = p.new_account("ann@example.com", 1);
    ann.invitation = Invitation::Accepted { at: p.now() };
    ann.username = Some(Username::parse("ann").unwrap());
    let old = portal_access_core::service::PortalService::builder(Arc::new(MemoryStore::new()))
        .config({
            let mut c = cheap_config();
            c.hashing.memory_kib = 128;
            c
        })
        .build()
        .unwrap();
    ann.password_hash = Some(old.hasher().hash(secret(PASSWORD), [1; 16]).await.unwrap());
    let ann = p.insert(ann).await;
    p.sign_in("ann", PASSWORD).await.unwrap();
    let stored = p.account(ann.id).await.password_hash.unwrap();
    assert!(stored.as_str().contains("m=256"), "{}", stored.as_str());
    assert!(p.sign_in("ann", PASSWORD).await.is_ok());
}

#[tokio::test]
async fn a_hash_with_the_current_parameters_is_not_rewritten_at_sign_in() {
    let p = portal();
    let ann = p.accepted("ann@example.com", "ann", 1).await;
    let before = ann.password_hash.clone().unwrap();
    p.sign_in("ann", PASSWORD).await.unwrap();
    let after = p.account(ann.id).await.password_hash.unwrap();
    assert_eq!(
        after.as_str(),
        before.as_str(),
        "no second argon2 run per sign-in"
    );
}

// ------------------------------------------------------------------- sessions

#[tokio::test]
async fn a_session_expires_after_the_idle_limit_and_is_touched_at_most_once_a_minute() {
    let p = portal();
    p.accepted("ann@example.com", "ann", 1).await;
    let signed_in = p.sign_in("ann", PASSWORD).await.unwrap();
    let token = signed_in.session_token.expose().to_owned();
    let hash = signed_in.session_token.hash();
    let start = p.now();

    p.clock.advance(Duration::seconds(30));
    p.authenticate(&token).await.unwrap();
    assert_eq!(
        p.store.session(&hash).await.unwrap().unwrap().last_seen_at,
        start
    );
    p.clock.advance(Duration::seconds(31));
    p.authenticate(&token).await.unwrap();
    assert_eq!(
        p.store.session(&hash).await.unwrap().unwrap().last_seen_at,
        start + Duration::seconds(61)
    );

    p.clock.advance(Duration::hours(12));
    assert!(matches!(
        p.authenticate(&token).await,
        Err(ServiceError::Refused(UnauthenticatedError::IdleExpired))
    ));
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_expiry_however_active() {
    let p = portal();
    p.accepted("ann@example.com", "ann", 1).await;
    let token = p.sign_in("ann", PASSWORD).await.unwrap().session_token;
    let signed_in_at = p.now();
    // Used every 11 h 59 min: never idle, until the 30 days are up.
    while p.authenticate(token.expose()).await.is_ok() {
        p.clock.advance(Duration::hours(12) - Duration::minutes(1));
    }
    assert!(p.now() >= signed_in_at + Duration::days(30));
    assert!(p.now() < signed_in_at + Duration::days(30) + Duration::hours(12));
    assert!(matches!(
        p.authenticate(token.expose()).await,
        Err(ServiceError::Refused(UnauthenticatedError::Expired))
    ));
}

#[tokio::test]
async fn sign_out_revokes_the_session() {
    let p = portal();
    let ann = p.accepted("ann@example.com", "ann", 1).await;
    let token = p.sign_in("ann", PASSWORD).await.unwrap().session_token;
    let session = p.authenticate(token.expose()).await.unwrap();
    p.service.sign_out(&ctx(), &session).await.unwrap();
    assert_eq!(
        code(p.authenticate(token.expose()).await),
        "unauthenticated"
    );
    assert!(p.audited(&ann, AuditKind::SignedOut).await);
}

#[tokio::test]
async fn a_malformed_or_unknown_session_cookie_is_unauthenticated() {
    let p = portal();
    assert_eq!(code(p.authenticate("nope").await), "unauthenticated");
    let unknown = RawToken::from_bytes([3; 32]);
    assert_eq!(
        code(p.authenticate(unknown.expose()).await),
        "unauthenticated"
    );
}

// ------------------------------------------------------------------- username

#[tokio::test]
async fn the_client_changes_their_username_and_is_notified() {
    let p = portal();
    let ann = p.accepted("ann@example.com", "ann", 1).await;
    let session = p.session("ann").await;
    p.service
        .change_username(&session, &ctx(), "Ann.New")
        .await
        .unwrap();
    assert_eq!(
        p.account(ann.id)
            .await
            .username
            .map(|u| u.as_str().to_owned()),
        Some("Ann.New".to_owned())
    );
    assert_eq!(
        p.queued_of_kind(MessageKind::UsernameChanged).await.len(),
        1
    );
    assert!(p.sign_in("ann.new", PASSWORD).await.is_ok());
    assert!(p.audited(&ann, AuditKind::UsernameChanged).await);
}

#[tokio::test]
async fn a_username_held_by_another_account_is_refused_as_taken() {
    let p = portal();
    p.accepted("bob@example.com", "Bob", 2).await;
    p.accepted("ann@example.com", "ann", 1).await;
    let session = p.session("ann").await;
    let taken = p.service.change_username(&session, &ctx(), "BOB").await;
    assert!(matches!(
        taken,
        Err(ServiceError::Refused(ChangeUsernameError::UsernameTaken))
    ));
    assert_eq!(
        code(p.service.change_username(&session, &ctx(), "x").await),
        "username_invalid"
    );
}

#[tokio::test]
async fn a_stale_session_account_still_changes_the_username_after_a_conflict() {
    let p = portal();
    p.accepted("ann@example.com", "ann", 1).await;
    let session = p.session("ann").await;
    // Another sign-in bumps the account's version after the session was read.
    p.sign_in("ann", PASSWORD).await.unwrap();
    p.service
        .change_username(&session, &ctx(), "ann.two")
        .await
        .unwrap();
    assert!(p.sign_in("ann.two", PASSWORD).await.is_ok());
}

// ------------------------------------------------------------------- password

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_rotates_sessions() {
    let p = portal();
    let mut ann = p.accepted("ann@example.com", "ann", 1).await;
    ann.must_change_password = true;
    p.update(ann.clone()).await;
    let token = p.sign_in("ann", PASSWORD).await.unwrap().session_token;
    let session = p.authenticate(token.expose()).await.unwrap();
    let wrong = p
        .service
        .change_password(
            &session,
            &ctx(),
            secret("not my password"),
            secret(NEW_PASSWORD),
            secret(NEW_PASSWORD),
        )
        .await;
    assert!(matches!(
        wrong,
        Err(ServiceError::Refused(
            ChangePasswordError::InvalidCredentials
        ))
    ));
    let rotated = p
        .service
        .change_password(
            &session,
            &ctx(),
            secret(PASSWORD),
            secret(NEW_PASSWORD),
            secret(NEW_PASSWORD),
        )
        .await
        .unwrap();
    assert_eq!(
        code(p.authenticate(token.expose()).await),
        "unauthenticated"
    );
    assert!(p.authenticate(rotated.session_token.expose()).await.is_ok());
    assert!(!p.account(ann.id).await.must_change_password);
    assert!(p.sign_in("ann", NEW_PASSWORD).await.is_ok());
    let notices = p.queued_of_kind(MessageKind::PasswordChanged).await;
    assert_eq!(notices.len(), 1);
}

// ---------------------------------------------------------- this wasn't me

#[tokio::test]
async fn this_wasnt_me_secures_the_account_and_tells_staff() {
    let p = portal_with(|c| c.staff_notice_address = Some("office@firm.example".into()));
    let mut events = p.service.subscribe();
    let ann = p.accepted("ann@example.com", "ann", 1).await;
    let token = p.issue_reset(&ann, 1).await;
    let intruder = p
        .service
        .reset_password(
            &ctx_from(other_ip()),
            token.expose(),
            secret(NEW_PASSWORD),
            secret(NEW_PASSWORD),
        )
        .await
        .map(signed_in)
        .unwrap();
    let notice = &p.queued_of_kind(MessageKind::PasswordChanged).await[0];
    let not_me = token_in(notice);

    p.service.secure_account(&ctx(), &not_me).await.unwrap();

    assert_eq!(
        code(p.authenticate(intruder.session_token.expose()).await),
        "unauthenticated"
    );
    assert_eq!(
        code(p.sign_in("ann", NEW_PASSWORD).await),
        "invalid_credentials"
    );
    assert!(p.account(ann.id).await.password_hash.is_none());
    let staff = p.queued_of_kind(MessageKind::AccountSecured).await;
    assert_eq!(staff.len(), 1);
    assert_eq!(staff[0].to, "office@firm.example");
    assert!(p.audited(&ann, AuditKind::AccountSecured).await);
    assert_eq!(
        events.try_recv().unwrap(),
        PortalEvent::AccountSecured {
            tenant: p.tenant.clone(),
            account_id: ann.id,
            at: p.now()
        }
    );
    let again = p.service.secure_account(&ctx(), &not_me).await;
    assert!(matches!(
        again,
        Err(ServiceError::Refused(SecureAccountError::TokenInvalid))
    ));
    // A reset is now the way back in.
    p.forgot("ann@example.com").await;
    let reset = token_in(&p.queued_of_kind(MessageKind::PasswordReset).await[0]);
    p.reset_with(&reset, PASSWORD, PASSWORD).await.unwrap();
}

// ------------------------------------------------ link pages, fresh invitations

#[tokio::test]
async fn opening_a_link_never_consumes_it_and_is_recorded() {
    let p = portal();
    let ann = p.accepted("ann@example.com", "ann", 1).await;
    let token = p.issue_reset(&ann, 1).await;
    for _ in 0..3 {
        let view = p.open(TokenKind::PasswordReset, token.expose()).await;
        assert_eq!(
            view,
            LinkView::Valid {
                kind: TokenKind::PasswordReset,
                email: "ann@example.com".into(),
                username: Some("ann".into()),
                expires_at: p.now() + Duration::hours(1),
            }
        );
    }
    let openings = p.store.link_openings(&p.tenant, ann.id, 10).await.unwrap();
    assert_eq!(openings.len(), 3);
    assert_eq!(openings[0].ip, Some(berlin_ip()));
    assert_eq!(openings[0].user_agent.as_deref(), Some(FIREFOX_LINUX));
    assert!(p.reset(token.expose()).await.is_ok());
    let used = p.open(TokenKind::PasswordReset, token.expose()).await;
    assert_eq!(
        used,
        LinkView::Invalid {
            fresh_invitation_available: false
        }
    );
    assert_eq!(
        p.store
            .link_openings(&p.tenant, ann.id, 10)
            .await
            .unwrap()
            .len(),
        4
    );
}

#[tokio::test]
async fn an_expired_invitation_link_offers_and_sends_a_fresh_invitation_within_the_rate() {
    let p = portal();
    let (pending, token) = p.pending("ann@example.com", 1).await;
    p.clock.advance(Duration::days(8));
    let view = p.open(TokenKind::Invitation, token.expose()).await;
    assert_eq!(
        view,
        LinkView::Invalid {
            fresh_invitation_available: true
        }
    );

    for _ in 0..5 {
        p.fresh_invitation(token.expose()).await;
    }
    let sent = p.queued_of_kind(MessageKind::Reinvitation).await;
    assert_eq!(sent.len(), 3, "three per hour per account");
    assert!(sent.iter().all(|m| m.to == "ann@example.com"));
    let newest = token_in(sent.last().unwrap());
    assert!(p.accept(&newest, "ann").await.is_ok());
    assert!(
        p.audited(&pending, AuditKind::FreshInvitationRequested)
            .await
    );
    // Accepted now: no more fresh invitations, same answer.
    p.fresh_invitation(token.expose()).await;
    assert_eq!(p.queued_of_kind(MessageKind::Reinvitation).await.len(), 3);
}

#[tokio::test]
async fn a_fresh_invitation_is_never_sent_for_an_unknown_link_or_a_disabled_account() {
    let p = portal();
    let (mut pending, token) = p.pending("ann@example.com", 1).await;
    pending.access = Access::Disabled;
    p.update(pending).await;
    p.clock.advance(Duration::days(8));
    p.fresh_invitation(token.expose()).await;
    p.service
        .request_fresh_invitation(&ctx(), RawToken::from_bytes([9; 32]).expose())
        .await
        .unwrap();
    p.fresh_invitation("garbage").await;
    assert!(p.queued().await.is_empty());
}
