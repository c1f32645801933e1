//! The staff side of the service over the in-memory store, with the fakes:
//! a manual clock, seeded randomness, a scripted CAPTCHA and cheap hashing.
//! Mail is read from the store's outbox (the dispatcher delivers it later).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{cheap_config, start};

use portal_access_core::config::PortalConfig;
use portal_access_core::service::{
    InfraError, InvitationSent, NewAccountInput, NoticeDelivery, PortalService, ServiceError,
    SetPasswordInput, StaffAction, StaffActor,
};
use portal_access_core::testing::fakes::{
    CaptchaScript, ManualClock, RecordingMailer, ScriptedCaptcha, SeededRandom,
};
use portal_access_core::testing::MemoryStore;
use portal_access_core::workflow::set_password::SetPasswordOutcome;
use portal_access_core::workflow::status::AccountStatus;
use portal_access_core::workflow::{ErrorCode, Refusal};
use portal_access_core::{
    Access, Account, AccountId, AccountStore, AuditEvent, AuditKind, Changes, DeliveryOutcome,
    Invitation, LinkOpening, MessageKind, OutboxMessage, RawToken, RequestContext, SessionRecord,
    StaffId, TenantId, TokenState,
};
use secrecy::SecretString;
use time::{Duration, OffsetDateTime};

const PASSWORD: &str = "violet kettle harbour";

struct Harness {
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    captcha: Arc<ScriptedCaptcha>,
    service: PortalService,
    staff: StaffActor,
    ctx: RequestContext,
}

fn config() -> PortalConfig {
    cheap_config()
}

fn build(
    store: &Arc<MemoryStore>,
    clock: &Arc<ManualClock>,
    captcha: &Arc<ScriptedCaptcha>,
    mailer: bool,
    seed: u64,
) -> PortalService {
    let mut builder = PortalService::builder(Arc::clone(store) as Arc<dyn AccountStore>)
        .config(config())
        .clock(Arc::clone(clock) as _)
        .random(Arc::new(SeededRandom::new(seed)))
        .captcha(Arc::clone(captcha) as _);
    if mailer {
        builder = builder.mailer(Arc::new(RecordingMailer::new()));
    }
    builder.build().expect("valid test configuration")
}

impl Harness {
    fn new(mailer: bool) -> Self {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::new(start()));
        let captcha = Arc::new(ScriptedCaptcha::accepting("human"));
        let service = build(&store, &clock, &captcha, mailer, 1);
        Self {
            store,
            clock,
            captcha,
            service,
            staff: staff("firm-1", "staff-7"),
            ctx: RequestContext {
                ip: Some("203.0.113.9".parse().unwrap()),
                user_agent: Some(
                    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
                        .into(),
                ),
                expected_version: None,
            },
        }
    }

    /// A second service instance on the same store (another seed: other ids).
    fn second_instance(&self) -> PortalService {
        build(&self.store, &self.clock, &self.captcha, true, 2)
    }

    async fn create(&self, email: &str) -> Account {
        self.service
            .create_account(
                &self.staff,
                &self.ctx,
                NewAccountInput {
                    email: email.into(),
                    contact_ref: Some("contact-1".into()),
                    display_name: Some("Ann Client".into()),
                    language: None,
                },
            )
            .await
            .unwrap()
    }

    async fn account(&self, id: AccountId) -> Account {
        self.store
            .account(&self.staff.tenant, id)
            .await
            .unwrap()
            .unwrap()
    }

    /// An account that accepted its invitation (activated by a staff-set password).
    async fn accepted(&self, email: &str) -> Account {
        let account = self.create(email).await;
        self.set_password(account.id, input(PASSWORD, PASSWORD))
            .await;
        self.account(account.id).await
    }

    // The staff actions, as this harness's staff member, from its request:
    // `x` expects success, `x_refusal` a refusal and gives its code.

    async fn invite(&self, id: AccountId) -> InvitationSent {
        let sent = self.service.send_invitation(&self.staff, &self.ctx, id);
        sent.await.unwrap()
    }

    async fn invitation_refusal(&self, id: AccountId) -> ErrorCode {
        code(
            self.service
                .send_invitation(&self.staff, &self.ctx, id)
                .await,
        )
    }

    async fn reset(&self, id: AccountId) {
        let sent = self.service.send_password_reset(&self.staff, &self.ctx, id);
        sent.await.unwrap();
    }

    async fn reset_refusal(&self, id: AccountId) -> ErrorCode {
        code(
            self.service
                .send_password_reset(&self.staff, &self.ctx, id)
                .await,
        )
    }

    async fn set_password(&self, id: AccountId, input: SetPasswordInput) -> SetPasswordOutcome {
        let set = self.service.set_password(&self.staff, &self.ctx, id, input);
        set.await.unwrap()
    }

    async fn set_password_refusal(&self, id: AccountId, input: SetPasswordInput) -> ErrorCode {
        code(
            self.service
                .set_password(&self.staff, &self.ctx, id, input)
                .await,
        )
    }

    async fn set_access(&self, id: AccountId, enabled: bool) {
        let set = self.service.set_access(&self.staff, &self.ctx, id, enabled);
        set.await.unwrap();
    }

    async fn archive(&self, id: AccountId) {
        self.service
            .archive(&self.staff, &self.ctx, id)
            .await
            .unwrap();
    }

    async fn unarchive(&self, id: AccountId) {
        self.service
            .unarchive(&self.staff, &self.ctx, id)
            .await
            .unwrap();
    }

    async fn change_email(&self, id: AccountId, email: &str) {
        let changed = self.service.change_email(&self.staff, &self.ctx, id, email);
        changed.await.unwrap();
    }

    async fn change_email_refusal(&self, id: AccountId, email: &str) -> ErrorCode {
        code(
            self.service
                .change_email(&self.staff, &self.ctx, id, email)
                .await,
        )
    }

    async fn status(&self, id: AccountId) -> AccountStatus {
        self.service.account_status(&self.staff, id).await.unwrap()
    }

    async fn events(&self, id: AccountId, limit: u32) -> Vec<AuditEvent> {
        let events = self.service.account_events(&self.staff, id, limit);
        events.await.unwrap()
    }

    async fn messages(&self, id: AccountId) -> Vec<OutboxMessage> {
        self.store
            .messages_for_account(&self.staff.tenant, id, 100)
            .await
            .unwrap()
    }

    async fn token_state(&self, token: &RawToken) -> TokenState {
        self.store
            .token(&token.hash())
            .await
            .unwrap()
            .expect("token stored")
            .state(self.clock_now())
    }

    fn clock_now(&self) -> OffsetDateTime {
        self.service.now()
    }

    async fn add_session(&self, id: AccountId, seed: u8) -> RawToken {
        let token = RawToken::from_bytes([seed; 32]);
        let now = self.clock_now();
        self.store
            .commit(Changes {
                new_session: Some(SessionRecord {
                    hash: token.hash(),
                    tenant: self.staff.tenant.clone(),
                    account_id: id,
                    created_at: now,
                    last_seen_at: now,
                    expires_at: now + Duration::days(30),
                    revoked_at: None,
                    ip: None,
                    user_agent: None,
                }),
                ..Changes::default()
            })
            .await
            .unwrap();
        token
    }
}

fn staff(tenant: &str, id: &str) -> StaffActor {
    StaffActor {
        tenant: TenantId::new(tenant).unwrap(),
        staff_id: StaffId::new(id).unwrap(),
    }
}

fn input(password: &str, confirmation: &str) -> SetPasswordInput {
    SetPasswordInput::new(
        SecretString::from(password),
        SecretString::from(confirmation),
    )
}

/// The raw token of the link a message carries (from its text body).
fn link_token(message: &OutboxMessage) -> RawToken {
    let body = &message.message.text_body;
    let at = body.find("?token=").expect("a link in the body") + "?token=".len();
    RawToken::parse(&body[at..at + RawToken::ENCODED_LEN]).unwrap()
}

fn code<E: Refusal>(result: Result<impl std::fmt::Debug, ServiceError<E>>) -> ErrorCode {
    match result {
        Err(ServiceError::Refused(e)) => e.code(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_created_account_is_not_invited_and_offers_send_invitation() {
    let h = Harness::new(true);
    let account = h.create("Ann.Client@example.com").await;
    assert_eq!(account.invitation, Invitation::NotInvited);

    let status = h.status(account.id).await;
    assert_eq!(status.email, "Ann.Client@example.com");
    assert!(status
        .available_actions
        .contains(&StaffAction::SendInvitation));
    assert!(!status
        .available_actions
        .contains(&StaffAction::SendPasswordReset));
    let events = h.events(account.id, 10).await;
    assert_eq!(events[0].kind, AuditKind::AccountCreated);
    assert_eq!(events[0].ip, h.ctx.ip);
}

#[tokio::test]
async fn a_second_account_with_the_same_address_is_refused_as_email_taken() {
    let h = Harness::new(true);
    h.create("ann@example.com").await;
    let again = h
        .service
        .create_account(
            &h.staff,
            &h.ctx,
            NewAccountInput {
                email: "ANN@example.com".into(),
                contact_ref: None,
                display_name: None,
                language: None,
            },
        )
        .await;
    assert_eq!(code(again), ErrorCode::EmailTaken);
}

#[tokio::test]
async fn an_account_of_another_tenant_is_not_found() {
    let h = Harness::new(true);
    let account = h.create("ann@example.com").await;
    let outsider = staff("firm-2", "staff-7");
    assert_eq!(
        code(h.service.account_status(&outsider, account.id).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(
            h.service
                .send_invitation(&outsider, &h.ctx, account.id)
                .await
        ),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(h.service.archive(&outsider, &h.ctx, account.id).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(h.service.account_events(&outsider, account.id, 10).await),
        ErrorCode::NotFound
    );
    assert!(!h.account(account.id).await.archived);
}

#[tokio::test]
async fn an_invitation_is_queued_with_a_link_built_from_the_public_url() {
    let h = Harness::new(true);
    let account = h.create("ann@example.com").await;
    let sent = h.invite(account.id).await;
    assert_eq!(sent, InvitationSent::Invitation);

    let messages = h.messages(account.id).await;
    let [message] = messages.as_slice() else {
        panic!("one message expected, got {messages:?}");
    };
    assert_eq!(message.message.kind, MessageKind::Invitation);
    assert_eq!(message.message.to, "ann@example.com");
    assert!(message
        .message
        .text_body
        .contains("https://portal.example.com/portal/invitation?token="));
    let token = link_token(message);
    assert_eq!(h.token_state(&token).await, TokenState::Valid);
    assert!(matches!(
        h.account(account.id).await.invitation,
        Invitation::Pending { expires_at, .. } if expires_at == start() + Duration::days(7)
    ));
}

#[tokio::test]
async fn resending_an_invitation_makes_the_old_link_unusable() {
    let h = Harness::new(true);
    let account = h.create("ann@example.com").await;
    h.invite(account.id).await;
    let first = link_token(&h.messages(account.id).await[0]);
    h.clock.advance(Duration::days(8)); // expired by now

    let sent = h.invite(account.id).await;
    assert_eq!(sent, InvitationSent::Reinvitation);
    let messages = h.messages(account.id).await;
    assert_eq!(messages[0].message.kind, MessageKind::Reinvitation);
    let second = link_token(&messages[0]);
    assert_eq!(h.token_state(&first).await, TokenState::Superseded);
    assert_eq!(h.token_state(&second).await, TokenState::Valid);

    let status = h.status(account.id).await;
    assert!(status
        .available_actions
        .contains(&StaffAction::ResendInvitation));
    let states: Vec<TokenState> = status
        .messages
        .iter()
        .map(|m| m.link.as_ref().unwrap().state)
        .collect();
    assert_eq!(states, [TokenState::Valid, TokenState::Superseded]);
}

#[tokio::test]
async fn an_accepted_account_cannot_be_invited_again() {
    let h = Harness::new(true);
    let account = h.accepted("ann@example.com").await;
    assert_eq!(
        h.invitation_refusal(account.id).await,
        ErrorCode::ValidationFailed
    );
    let status = h.status(account.id).await;
    assert!(!status
        .available_actions
        .contains(&StaffAction::SendInvitation));
    assert!(!status
        .available_actions
        .contains(&StaffAction::ResendInvitation));
}

#[tokio::test]
async fn without_a_mailer_links_are_refused_as_mailer_not_configured() {
    let h = Harness::new(false);
    let account = h.create("ann@example.com").await;
    assert_eq!(
        h.invitation_refusal(account.id).await,
        ErrorCode::MailerNotConfigured
    );
    let accepted = h.accepted("bob@example.com").await;
    assert_eq!(
        h.reset_refusal(accepted.id).await,
        ErrorCode::MailerNotConfigured
    );
    assert!(h.messages(account.id).await.is_empty());
}

#[tokio::test]
async fn staff_reset_refusals_follow_the_account_state() {
    let h = Harness::new(true);
    let account = h.create("ann@example.com").await;
    assert_eq!(h.reset_refusal(account.id).await, ErrorCode::NotInvited);
    h.invite(account.id).await;
    assert_eq!(
        h.reset_refusal(account.id).await,
        ErrorCode::InvitationPending
    );
    let accepted = h.accepted("bob@example.com").await;
    h.set_access(accepted.id, false).await;
    assert_eq!(
        h.reset_refusal(accepted.id).await,
        ErrorCode::AccessDisabled
    );
    h.set_access(accepted.id, true).await;
    h.archive(accepted.id).await;
    assert_eq!(
        h.reset_refusal(accepted.id).await,
        ErrorCode::AccountArchived
    );
}

#[tokio::test]
async fn a_new_staff_reset_supersedes_the_previous_link() {
    let h = Harness::new(true);
    let account = h.accepted("ann@example.com").await;
    h.reset(account.id).await;
    let first = link_token(&h.messages(account.id).await[0]);
    h.reset(account.id).await;
    let messages = h.messages(account.id).await;
    assert_eq!(messages[0].message.kind, MessageKind::PasswordReset);
    assert!(messages[0]
        .message
        .text_body
        .contains("https://portal.example.com/portal/reset-password?token="));
    assert_eq!(h.token_state(&first).await, TokenState::Superseded);
    assert_eq!(
        h.token_state(&link_token(&messages[0])).await,
        TokenState::Valid
    );
}

#[tokio::test]
async fn the_eleventh_reset_in_an_hour_needs_human_verification_on_every_instance() {
    let h = Harness::new(true);
    let account = h.accepted("ann@example.com").await;
    for _ in 0..10 {
        h.reset(account.id).await;
    }
    assert_eq!(
        h.reset_refusal(account.id).await,
        ErrorCode::HumanVerificationRequired
    );
    // The state is in the store: another instance refuses as well.
    let other = h.second_instance();
    assert_eq!(
        code(
            other
                .send_password_reset(&h.staff, &h.ctx, account.id)
                .await
        ),
        ErrorCode::HumanVerificationRequired
    );
    // Another staff member is not affected.
    let colleague = staff("firm-1", "staff-8");
    other
        .send_password_reset(&colleague, &h.ctx, account.id)
        .await
        .unwrap();

    // A wrong CAPTCHA answer changes nothing.
    assert_eq!(
        code(
            other
                .pass_human_verification(&h.staff, &h.ctx, SecretString::from("robot"))
                .await
        ),
        ErrorCode::CaptchaFailed
    );
    assert_eq!(
        h.reset_refusal(account.id).await,
        ErrorCode::HumanVerificationRequired
    );

    // Passing it on one instance lets the same reset through on the other.
    other
        .pass_human_verification(&h.staff, &h.ctx, SecretString::from("human"))
        .await
        .unwrap();
    h.reset(account.id).await;
    assert_eq!(h.captcha.seen().last().unwrap().1, h.ctx.ip);
}

#[tokio::test]
async fn human_verification_lapses_after_its_time_and_the_limit_applies_again() {
    let h = Harness::new(true);
    let account = h.accepted("ann@example.com").await;
    for _ in 0..10 {
        h.reset(account.id).await;
    }
    h.service
        .pass_human_verification(&h.staff, &h.ctx, SecretString::from("human"))
        .await
        .unwrap();
    // The counter restarted, and the verification covers the rest of the hour.
    for _ in 0..15 {
        h.reset(account.id).await;
    }
    // An hour later the verification has lapsed, and a new window began.
    h.clock.advance(Duration::hours(1));
    for _ in 0..10 {
        h.reset(account.id).await;
    }
    assert_eq!(
        h.reset_refusal(account.id).await,
        ErrorCode::HumanVerificationRequired
    );
}

#[tokio::test]
async fn refused_resets_do_not_use_up_the_rate() {
    let h = Harness::new(true);
    let pending = h.create("ann@example.com").await;
    h.invite(pending.id).await;
    for _ in 0..20 {
        assert_eq!(
            h.reset_refusal(pending.id).await,
            ErrorCode::InvitationPending
        );
    }
    let accepted = h.accepted("bob@example.com").await;
    h.reset(accepted.id).await;
}

#[tokio::test]
async fn a_failing_captcha_provider_is_an_infrastructure_error_not_a_pass() {
    let h = Harness::new(true);
    h.captcha.set(CaptchaScript::Unavailable);
    let result = h
        .service
        .pass_human_verification(&h.staff, &h.ctx, SecretString::from("human"))
        .await;
    assert!(matches!(
        result,
        Err(ServiceError::Infrastructure(InfraError::Captcha(_)))
    ));
    let verification = h
        .store
        .staff_verification(&h.staff.tenant, &h.staff.staff_id)
        .await
        .unwrap();
    assert!(verification.is_none());
}

#[tokio::test]
async fn staff_set_password_revokes_sessions_and_links_and_must_be_changed() {
    let h = Harness::new(true);
    let account = h.accepted("ann@example.com").await;
    let session = h.add_session(account.id, 42).await;
    h.reset(account.id).await;
    let reset = link_token(&h.messages(account.id).await[0]);

    let new_password = "amber lantern meadow";
    let outcome = h
        .set_password(account.id, input(new_password, new_password))
        .await;
    assert_eq!(outcome.notice, NoticeDelivery::Queued);

    let stored = h.store.session(&session.hash()).await.unwrap().unwrap();
    assert!(stored.revoked_at.is_some(), "sessions are revoked");
    assert_eq!(h.token_state(&reset).await, TokenState::Superseded);
    let after = h.account(account.id).await;
    assert!(after.must_change_password);
    let verified = h
        .service
        .hasher()
        .verify(
            SecretString::from(new_password),
            after.password_hash.clone(),
        )
        .await
        .unwrap();
    assert!(
        verified.matches,
        "the client signs in with the new password"
    );

    // The notice: never the password; when, where, device; a "this wasn't me" link.
    let notice = &h.messages(account.id).await[0];
    assert_eq!(notice.message.kind, MessageKind::PasswordChanged);
    let body = &notice.message.text_body;
    assert!(!body.contains(new_password));
    assert!(body.contains("203.0.113.9"));
    assert!(body.contains("Windows"));
    assert!(body.contains("Firefox"));
    assert!(body.contains("Location: unknown"));
    assert!(body.contains("https://portal.example.com/portal/not-me?token="));
    assert_eq!(h.token_state(&link_token(notice)).await, TokenState::Valid);
}

#[tokio::test]
async fn must_change_can_be_turned_off_by_staff() {
    let h = Harness::new(true);
    let account = h.create("ann@example.com").await;
    let mut request = input(PASSWORD, PASSWORD);
    request.must_change = false;
    h.set_password(account.id, request).await;
    assert!(!h.account(account.id).await.must_change_password);
}

#[tokio::test]
async fn staff_set_password_activates_a_pending_account_and_revokes_its_invitation() {
    let h = Harness::new(true);
    let account = h.create("ann@example.com").await;
    h.invite(account.id).await;
    let invitation = link_token(&h.messages(account.id).await[0]);
    h.set_password(account.id, input(PASSWORD, PASSWORD)).await;
    let after = h.account(account.id).await;
    assert_eq!(after.invitation, Invitation::Accepted { at: start() });
    assert!(after.username.is_none());
    assert_eq!(h.token_state(&invitation).await, TokenState::Superseded);
    // Now a reset applies.
    h.reset(account.id).await;
}

#[tokio::test]
async fn staff_set_password_without_a_mailer_reports_the_skipped_notice() {
    let h = Harness::new(false);
    let account = h.create("ann@example.com").await;
    let outcome = h.set_password(account.id, input(PASSWORD, PASSWORD)).await;
    assert_eq!(outcome.notice, NoticeDelivery::SkippedNoMailer);
    assert!(h.messages(account.id).await.is_empty());
    assert!(h.account(account.id).await.password_hash.is_some());
}

#[tokio::test]
async fn a_weak_or_mismatched_password_is_refused_and_nothing_changes() {
    let h = Harness::new(true);
    let account = h.create("ann@example.com").await;
    let weak = h
        .service
        .set_password(
            &h.staff,
            &h.ctx,
            account.id,
            input("password123", "password123"),
        )
        .await;
    match weak {
        Err(ServiceError::Refused(e)) => {
            assert_eq!(e.code(), ErrorCode::PasswordRejected);
            assert!(!e.password_reasons().unwrap().is_empty());
        }
        other => panic!("expected password_rejected, got {other:?}"),
    }
    assert_eq!(
        h.set_password_refusal(account.id, input(PASSWORD, "violet kettle harbor"))
            .await,
        ErrorCode::PasswordMismatch
    );
    let after = h.account(account.id).await;
    assert!(after.password_hash.is_none());
    assert_eq!(after.version, account.version);
}

#[tokio::test]
async fn disabling_access_revokes_sessions_and_links_and_enabling_issues_nothing() {
    let h = Harness::new(true);
    let account = h.accepted("ann@example.com").await;
    let session = h.add_session(account.id, 7).await;
    h.reset(account.id).await;
    let reset = link_token(&h.messages(account.id).await[0]);
    let before = h.messages(account.id).await.len();

    h.set_access(account.id, false).await;
    assert_eq!(h.account(account.id).await.access, Access::Disabled);
    assert!(h
        .store
        .session(&session.hash())
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    assert_eq!(h.token_state(&reset).await, TokenState::Superseded);

    h.set_access(account.id, true).await;
    assert_eq!(h.account(account.id).await.access, Access::Enabled);
    assert_eq!(h.messages(account.id).await.len(), before);
    let kinds: Vec<AuditKind> = h
        .events(account.id, 2)
        .await
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, [AuditKind::AccessEnabled, AuditKind::AccessDisabled]);
}

#[tokio::test]
async fn archiving_blocks_everything_and_unarchiving_restores_without_issuing() {
    let h = Harness::new(true);
    let account = h.create("ann@example.com").await;
    h.invite(account.id).await;
    let invitation = link_token(&h.messages(account.id).await[0]);
    let before = h.account(account.id).await;

    h.archive(account.id).await;
    assert_eq!(h.token_state(&invitation).await, TokenState::Superseded);
    assert_eq!(
        h.invitation_refusal(account.id).await,
        ErrorCode::AccountArchived
    );
    assert_eq!(
        h.set_password_refusal(account.id, input(PASSWORD, PASSWORD))
            .await,
        ErrorCode::AccountArchived
    );
    let status = h.status(account.id).await;
    assert_eq!(status.available_actions, [StaffAction::Unarchive]);

    h.unarchive(account.id).await;
    let after = h.account(account.id).await;
    assert!(!after.archived);
    assert_eq!(after.invitation, before.invitation);
    assert_eq!(after.access, before.access);
    assert_eq!(h.messages(account.id).await.len(), 1, "nothing issued");
    assert_eq!(h.token_state(&invitation).await, TokenState::Superseded);
    // Staff can resend the invitation now.
    assert_eq!(h.invite(account.id).await, InvitationSent::Reinvitation);
}

#[tokio::test]
async fn changing_the_email_notifies_both_addresses_and_revokes_links() {
    let h = Harness::new(true);
    let account = h.accepted("ann@example.com").await;
    h.create("taken@example.com").await;
    h.reset(account.id).await;
    let reset = link_token(&h.messages(account.id).await[0]);

    assert_eq!(
        h.change_email_refusal(account.id, "Taken@Example.com")
            .await,
        ErrorCode::EmailTaken
    );
    assert_eq!(
        h.change_email_refusal(account.id, "nope").await,
        ErrorCode::ValidationFailed
    );

    h.change_email(account.id, "ann@new.example").await;
    assert_eq!(
        h.account(account.id).await.email.as_str(),
        "ann@new.example"
    );
    assert_eq!(h.token_state(&reset).await, TokenState::Superseded);
    let notices: Vec<String> = h
        .messages(account.id)
        .await
        .iter()
        .filter(|m| m.message.kind == MessageKind::EmailChanged)
        .map(|m| m.message.to.clone())
        .collect();
    assert_eq!(notices.len(), 2);
    assert!(notices.contains(&"ann@example.com".to_owned()));
    assert!(notices.contains(&"ann@new.example".to_owned()));
}

#[tokio::test]
async fn the_delivery_timeline_shows_retries_and_link_openings() {
    let h = Harness::new(true);
    let account = h.accepted("ann@example.com").await;
    h.reset(account.id).await;
    let reset = link_token(&h.messages(account.id).await[0]);

    // The dispatcher tried once and got a transient error.
    let now = h.service.now();
    let leased = h
        .store
        .lease_outbox(now, now + Duration::minutes(1), 10)
        .await
        .unwrap();
    let reset_message = leased
        .iter()
        .find(|m| m.message.kind == MessageKind::PasswordReset)
        .unwrap();
    for message in &leased {
        let outcome = if message.message.id == reset_message.message.id {
            DeliveryOutcome::Retry {
                next_attempt_at: now + Duration::minutes(2),
                error: "421 4.7.0 try again later".into(),
            }
        } else {
            DeliveryOutcome::Sent { at: now }
        };
        h.store
            .record_delivery(message.message.id, outcome)
            .await
            .unwrap();
    }
    // A mail scanner opened the link (recorded, never consumed).
    h.store
        .commit(Changes {
            link_openings: vec![LinkOpening {
                token_hash: reset.hash(),
                account_id: account.id,
                tenant: h.staff.tenant.clone(),
                at: now,
                ip: Some("198.51.100.20".parse().unwrap()),
                user_agent: Some("SafeLinks/1.0".into()),
            }],
            ..Changes::default()
        })
        .await
        .unwrap();

    let status = h.status(account.id).await;
    let json = serde_json::to_value(&status).unwrap();
    let latest = &json["messages"][0];
    assert_eq!(latest["kind"], "password_reset");
    assert_eq!(latest["state"], "retrying");
    assert_eq!(latest["last_error"], "421 4.7.0 try again later");
    assert_eq!(latest["attempts"], 1);
    assert_eq!(latest["link"]["state"], "valid");
    assert_eq!(latest["link"]["openings"][0]["user_agent"], "SafeLinks/1.0");
    assert_eq!(latest["link"]["openings"][0]["ip"], "198.51.100.20");
    let notice = &json["messages"][1];
    assert_eq!(notice["kind"], "password_changed");
    assert_eq!(notice["state"], "sent");
    assert_eq!(notice["sent_at"], "2026-03-02T10:00:00Z");
}

#[tokio::test]
async fn staff_actions_read_the_username_and_never_set_or_clear_it() {
    // Arrange: the client accepted the invitation and chose a username.
    let h = Harness::new(true);
    let account = h.create("ann@example.com").await;
    h.invite(account.id).await;
    let invitation = h.messages(account.id).await.remove(0);
    h.service
        .accept_invitation(
            &h.ctx,
            link_token(&invitation).expose(),
            "Ann.Client",
            SecretString::from(PASSWORD),
            SecretString::from(PASSWORD),
        )
        .await
        .unwrap();
    let username = |a: &Account| a.username.as_ref().map(|u| u.as_str().to_owned());
    assert_eq!(
        username(&h.account(account.id).await).as_deref(),
        Some("Ann.Client")
    );

    // Act: every staff action there is.
    h.reset(account.id).await;
    h.set_password(
        account.id,
        input("a brand new staff password", "a brand new staff password"),
    )
    .await;
    h.set_access(account.id, false).await;
    h.set_access(account.id, true).await;
    h.archive(account.id).await;
    h.unarchive(account.id).await;
    h.change_email(account.id, "ann.new@example.com").await;
    assert_eq!(
        h.invitation_refusal(account.id).await,
        ErrorCode::ValidationFailed
    );

    // Assert: staff still read the username the client chose; nothing changed it.
    let after = h.account(account.id).await;
    assert_eq!(username(&after).as_deref(), Some("Ann.Client"));
    let status = h.status(account.id).await;
    assert_eq!(status.username.as_deref(), Some("Ann.Client"));
    assert_eq!(status.access, Access::Enabled);
    assert!(!status.archived);
    let changed_username = h
        .events(account.id, 100)
        .await
        .into_iter()
        .filter(|e| e.kind == AuditKind::UsernameChanged)
        .count();
    assert_eq!(changed_username, 0);
}

#[tokio::test]
async fn staff_set_the_language_of_an_account_and_its_next_mail_is_written_in_it() {
    let h = Harness::new(true);
    let ann = h.create("ann@example.com").await;
    let set = |staff: StaffActor, tag: Option<&'static str>| {
        let service = h.service.clone();
        let ctx = h.ctx.clone();
        async move { service.set_language(&staff, &ctx, ann.id, tag).await }
    };

    assert_eq!(
        code(set(h.staff.clone(), Some("fr")).await),
        ErrorCode::ValidationFailed
    );
    assert_eq!(
        code(set(staff("firm-2", "staff-9"), Some("es")).await),
        ErrorCode::NotFound
    );
    assert_eq!(h.account(ann.id).await, ann, "nothing changed");

    set(h.staff.clone(), Some("es")).await.unwrap();
    let spanish = h.account(ann.id).await;
    assert_eq!(spanish.language.as_ref().map(|l| l.as_str()), Some("es"));
    assert_eq!(h.status(ann.id).await.language, spanish.language);
    set(h.staff.clone(), Some("es")).await.unwrap();
    assert_eq!(
        h.account(ann.id).await.version,
        spanish.version,
        "no change"
    );

    h.invite(ann.id).await;
    let messages = h.messages(ann.id).await;
    let invitation = &messages[0].message;
    assert_eq!(invitation.subject, "Su invitación a Client portal");
    assert!(
        invitation.text_body.contains("UTC"),
        "the default zone: {}",
        invitation.text_body
    );
    let kinds: Vec<AuditKind> = h.events(ann.id, 10).await.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == AuditKind::LanguageChanged)
            .count(),
        1
    );
}
