//! The staff service against mocked ports (mockall): the failure paths a
//! real store, CAPTCHA provider or mailer produce only when they break.
//! Infrastructure failures must come back as `Infrastructure`, never as a
//! refusal and never as a panic, and must commit nothing.

use std::sync::Arc;

use async_trait::async_trait;
use mockall::predicate::always;
use secrecy::SecretString;
use time::OffsetDateTime;

use super::{InfraError, PortalService, ServiceError, SetPasswordInput, StaffActor};
use crate::config::{HashingConfig, PortalConfig};
use crate::testing::fakes::{ManualClock, SeededRandom};
use crate::workflow::attribution::fixtures;
use crate::workflow::{ErrorCode, Refusal};
use crate::{
    Account, AccountChange, AccountId, AccountStore, AuditEvent, AuditQuery, CaptchaError,
    CaptchaVerdict, CaptchaVerifier, ChainEnds, ChainedEvent, Changes, ConsoleSignIn,
    DeliveryOutcome, DeviceRecord, LinkOpening, Mailer, MailerError, MessageId, MessageKind,
    NewMessage, OutboxMessage, RequestContext, ServerSecret, SessionRecord, StaffId,
    StaffVerification, StoreError, TenantId, TokenHash, TokenKind, TokenRecord,
};

mockall::mock! {
    pub Store {}

    #[async_trait]
    impl AccountStore for Store {
        async fn commit(&self, changes: Changes) -> Result<(), StoreError>;
        async fn account(&self, tenant: &TenantId, id: AccountId) -> Result<Option<Account>, StoreError>;
        async fn search_accounts(&self, tenant: &TenantId, query: &crate::AccountSearch) -> Result<Vec<Account>, StoreError>;
        async fn account_by_email(&self, tenant: &TenantId, normalized_email: &str) -> Result<Option<Account>, StoreError>;
        async fn account_by_username(&self, tenant: &TenantId, username_key: &str) -> Result<Option<Account>, StoreError>;
        async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError>;
        async fn tokens_for_account(&self, tenant: &TenantId, account_id: AccountId, limit: u32) -> Result<Vec<TokenRecord>, StoreError>;
        async fn session(&self, hash: &TokenHash) -> Result<Option<SessionRecord>, StoreError>;
        async fn sessions_for_account(&self, tenant: &TenantId, account_id: AccountId, limit: u32) -> Result<Vec<SessionRecord>, StoreError>;
        async fn device(&self, hash: &TokenHash) -> Result<Option<DeviceRecord>, StoreError>;
        async fn devices_for_account(&self, tenant: &TenantId, account_id: AccountId, limit: u32) -> Result<Vec<DeviceRecord>, StoreError>;
        async fn touch_session(&self, hash: &TokenHash, at: OffsetDateTime) -> Result<(), StoreError>;
        async fn hit_rate(&self, key: &str, window_start: OffsetDateTime, expires_at: OffsetDateTime) -> Result<u32, StoreError>;
        async fn rate_count(&self, key: &str, window_start: OffsetDateTime) -> Result<u32, StoreError>;
        async fn staff_verification(&self, tenant: &TenantId, staff_id: &StaffId) -> Result<Option<StaffVerification>, StoreError>;
        async fn audit_events(&self, tenant: &TenantId, account_id: AccountId, limit: u32) -> Result<Vec<AuditEvent>, StoreError>;
        async fn messages_for_account(&self, tenant: &TenantId, account_id: AccountId, limit: u32) -> Result<Vec<OutboxMessage>, StoreError>;
        async fn link_openings(&self, tenant: &TenantId, account_id: AccountId, limit: u32) -> Result<Vec<LinkOpening>, StoreError>;
        async fn lease_outbox(&self, now: OffsetDateTime, lease_until: OffsetDateTime, limit: u32) -> Result<Vec<OutboxMessage>, StoreError>;
        async fn record_delivery(&self, id: MessageId, outcome: DeliveryOutcome) -> Result<(), StoreError>;
        async fn lease_webhooks(&self, now: OffsetDateTime, lease_until: OffsetDateTime, limit: u32) -> Result<Vec<crate::OutboxWebhook>, StoreError>;
        async fn record_webhook_delivery(&self, id: crate::WebhookId, outcome: DeliveryOutcome) -> Result<(), StoreError>;
        async fn webhooks_for_account(&self, tenant: &TenantId, account_id: AccountId, limit: u32) -> Result<Vec<crate::OutboxWebhook>, StoreError>;
        async fn redact_expired_bodies(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
        async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
        async fn server_secret(&self, name: &str, candidate: &ServerSecret) -> Result<ServerSecret, StoreError>;
        async fn insert_console_sign_in(&self, sign_in: &ConsoleSignIn) -> Result<(), StoreError>;
        async fn console_sign_in(&self, hash: &TokenHash, now: OffsetDateTime) -> Result<Option<ConsoleSignIn>, StoreError>;
        async fn end_console_sign_in(&self, hash: &TokenHash) -> Result<(), StoreError>;
        async fn ping(&self) -> Result<(), StoreError>;
        async fn audit_page(&self, query: &AuditQuery) -> Result<Vec<ChainedEvent>, StoreError>;
        async fn audit_chain_ends(&self, tenant: &TenantId) -> Result<ChainEnds, StoreError>;
        async fn audit_tenants(&self) -> Result<Vec<TenantId>, StoreError>;
        async fn prune_audit(&self, tenant: &TenantId, before: OffsetDateTime) -> Result<u64, StoreError>;
    }
}

mockall::mock! {
    pub Captcha {}

    #[async_trait]
    impl CaptchaVerifier for Captcha {
        async fn verify(&self, response: &SecretString, remote_ip: Option<std::net::IpAddr>) -> Result<CaptchaVerdict, CaptchaError>;
    }
}

mockall::mock! {
    pub Outgoing {}

    #[async_trait]
    impl Mailer for Outgoing {
        async fn send(&self, message: &NewMessage) -> Result<(), MailerError>;
    }
}

fn down() -> StoreError {
    StoreError::backend(std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        "database unreachable",
    ))
}

fn staff() -> StaffActor {
    StaffActor {
        tenant: fixtures::tenant(),
        staff_id: StaffId::new("staff-7").unwrap(),
    }
}

fn ctx() -> RequestContext {
    fixtures::ctx()
}

/// A mailer that must never be called: the service only writes the outbox.
fn silent_mailer() -> Arc<dyn Mailer> {
    let mut mailer = MockOutgoing::new();
    mailer.expect_send().never();
    Arc::new(mailer)
}

fn service(
    store: MockStore,
    mailer: Option<Arc<dyn Mailer>>,
    captcha: Option<MockCaptcha>,
) -> PortalService {
    let mut builder = PortalService::builder(Arc::new(store))
        .config(PortalConfig {
            hashing: HashingConfig {
                memory_kib: 256,
                iterations: 1,
                parallelism: 1,
                pool_size: 1,
            },
            ..PortalConfig::new("https://portal.example.com")
        })
        .clock(Arc::new(ManualClock::new(fixtures::now())))
        .random(Arc::new(SeededRandom::new(3)));
    if let Some(mailer) = mailer {
        builder = builder.mailer(mailer);
    }
    if let Some(captcha) = captcha {
        builder = builder.captcha(Arc::new(captcha));
    }
    builder.build().unwrap()
}

fn store_returning(account: Account) -> MockStore {
    let mut store = MockStore::new();
    store
        .expect_account()
        .returning(move |_, _| Ok(Some(account.clone())));
    store
}

fn assert_store_failure<T: std::fmt::Debug, E: Refusal>(result: Result<T, ServiceError<E>>) {
    match result {
        Err(ServiceError::Infrastructure(InfraError::Store(StoreError::Backend(_)))) => {}
        other => panic!("expected a store infrastructure failure, got {other:?}"),
    }
}

fn password() -> SetPasswordInput {
    SetPasswordInput::new(
        SecretString::from("violet kettle harbour"),
        SecretString::from("violet kettle harbour"),
    )
}

#[tokio::test]
async fn a_store_that_is_down_makes_every_staff_operation_an_infrastructure_failure() {
    let mut store = MockStore::new();
    store.expect_account().returning(|_, _| Err(down()));
    store.expect_commit().never();
    let service = service(store, Some(silent_mailer()), None);
    let (staff, ctx, id) = (staff(), ctx(), fixtures::accepted().id);

    assert_store_failure(service.account_status(&staff, id).await);
    assert_store_failure(service.send_invitation(&staff, &ctx, id).await);
    assert_store_failure(service.send_password_reset(&staff, &ctx, id).await);
    assert_store_failure(service.set_password(&staff, &ctx, id, password()).await);
    assert_store_failure(service.set_access(&staff, &ctx, id, false).await);
    assert_store_failure(service.archive(&staff, &ctx, id).await);
    assert_store_failure(service.unarchive(&staff, &ctx, id).await);
    assert_store_failure(
        service
            .change_email(&staff, &ctx, id, "ann@new.example")
            .await,
    );
    assert_store_failure(service.account_events(&staff, id, 10).await);
}

#[tokio::test]
async fn a_failing_commit_is_an_infrastructure_failure_not_a_refusal() {
    let mut store = store_returning(fixtures::accepted());
    store.expect_commit().times(1).returning(|_| Err(down()));
    let service = service(store, Some(silent_mailer()), None);
    assert_store_failure(
        service
            .set_access(&staff(), &ctx(), fixtures::accepted().id, false)
            .await,
    );
}

#[tokio::test]
async fn a_failing_create_is_an_infrastructure_failure() {
    let mut store = MockStore::new();
    store.expect_commit().times(1).returning(|_| Err(down()));
    let service = service(store, None, None);
    let result = service
        .create_account(
            &staff(),
            &ctx(),
            super::NewAccountInput {
                email: "ann@example.com".into(),
                contact_ref: None,
                display_name: None,
                language: None,
            },
        )
        .await;
    assert_store_failure(result);
}

#[tokio::test]
async fn a_version_conflict_is_retried_on_a_fresh_copy() {
    let mut store = MockStore::new();
    store
        .expect_account()
        .times(2)
        .returning(|_, _| Ok(Some(fixtures::accepted())));
    let mut attempts = 0;
    store.expect_commit().times(2).returning(move |_| {
        attempts += 1;
        if attempts == 1 {
            Err(StoreError::Conflict)
        } else {
            Ok(())
        }
    });
    let service = service(store, Some(silent_mailer()), None);
    service
        .archive(&staff(), &ctx(), fixtures::accepted().id)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_persistent_conflict_gives_up_after_the_configured_retries() {
    let mut store = store_returning(fixtures::accepted());
    // conflict_retries = 3 (the default): four attempts in all.
    store
        .expect_commit()
        .times(4)
        .returning(|_| Err(StoreError::Conflict));
    let service = service(store, Some(silent_mailer()), None);
    let result = service
        .set_access(&staff(), &ctx(), fixtures::accepted().id, false)
        .await;
    assert!(matches!(
        result,
        Err(ServiceError::Infrastructure(InfraError::PersistentConflict))
    ));
}

#[tokio::test]
async fn a_failing_rate_counter_is_an_infrastructure_failure_and_sends_nothing() {
    let mut store = store_returning(fixtures::accepted());
    store.expect_hit_rate().returning(|_, _, _| Err(down()));
    store.expect_commit().never();
    let service = service(store, Some(silent_mailer()), None);
    assert_store_failure(
        service
            .send_password_reset(&staff(), &ctx(), fixtures::accepted().id)
            .await,
    );
}

#[tokio::test]
async fn a_captcha_provider_error_is_an_infrastructure_failure_never_a_pass() {
    let mut store = MockStore::new();
    store.expect_commit().never();
    let mut captcha = MockCaptcha::new();
    captcha
        .expect_verify()
        .times(1)
        .returning(|_, _| Err(CaptchaError::new("siteverify timed out")));
    let service = service(store, None, Some(captcha));
    let result = service
        .pass_human_verification(&staff(), &ctx(), SecretString::from("token"))
        .await;
    assert!(matches!(
        result,
        Err(ServiceError::Infrastructure(InfraError::Captcha(_)))
    ));
}

#[tokio::test]
async fn a_failed_captcha_is_refused_and_commits_nothing() {
    let mut store = MockStore::new();
    store.expect_commit().never();
    let mut captcha = MockCaptcha::new();
    captcha
        .expect_verify()
        .with(always(), always())
        .returning(|_, _| {
            Ok(CaptchaVerdict::Failed {
                error_codes: vec!["timeout-or-duplicate".into()],
            })
        });
    let service = service(store, None, Some(captcha));
    let result = service
        .pass_human_verification(&staff(), &ctx(), SecretString::from("token"))
        .await;
    assert_eq!(
        result.unwrap_err().refusal().map(|e| e.code()),
        Some(ErrorCode::CaptchaFailed)
    );
}

#[tokio::test]
async fn a_passed_captcha_commits_the_verification_and_clears_the_counter_at_once() {
    let mut store = MockStore::new();
    store
        .expect_commit()
        .withf(|changes| {
            changes
                .staff_verification
                .as_ref()
                .is_some_and(|v| v.verified_until == fixtures::now() + time::Duration::hours(1))
                && changes.clear_rate_prefixes.len() == 1
                && changes.audit.len() == 1
                && changes.account.is_none()
        })
        .times(1)
        .returning(|_| Ok(()));
    let mut captcha = MockCaptcha::new();
    captcha
        .expect_verify()
        .returning(|_, _| Ok(CaptchaVerdict::Passed));
    let service = service(store, None, Some(captcha));
    service
        .pass_human_verification(&staff(), &ctx(), SecretString::from("token"))
        .await
        .unwrap();
}

#[tokio::test]
async fn without_a_captcha_provider_verification_is_refused_as_validation_failed() {
    let mut store = MockStore::new();
    store.expect_commit().never();
    let service = service(store, None, None);
    let result = service
        .pass_human_verification(&staff(), &ctx(), SecretString::from("token"))
        .await;
    assert_eq!(
        result.unwrap_err().refusal().map(|e| e.code()),
        Some(ErrorCode::ValidationFailed)
    );
}

#[tokio::test]
async fn without_a_mailer_links_are_refused_before_the_rate_is_touched() {
    let mut store = store_returning(fixtures::accepted());
    store.expect_hit_rate().never();
    store.expect_commit().never();
    let service = service(store, None, None);
    let id = fixtures::accepted().id;
    let reset = service.send_password_reset(&staff(), &ctx(), id).await;
    assert_eq!(
        reset.unwrap_err().refusal().map(|e| e.code()),
        Some(ErrorCode::MailerNotConfigured)
    );
}

#[tokio::test]
async fn without_a_mailer_no_invitation_is_committed() {
    let mut store = store_returning(fixtures::not_invited());
    store.expect_commit().never();
    let service = service(store, None, None);
    let result = service
        .send_invitation(&staff(), &ctx(), fixtures::not_invited().id)
        .await;
    assert_eq!(
        result.unwrap_err().refusal().map(|e| e.code()),
        Some(ErrorCode::MailerNotConfigured)
    );
}

#[tokio::test]
async fn an_invitation_is_one_commit_revoking_the_old_link_before_issuing_the_new_one() {
    let mut store = store_returning(fixtures::pending());
    store
        .expect_commit()
        .withf(|changes| {
            let revoked = changes
                .revoke_tokens
                .iter()
                .any(|r| r.kinds == [TokenKind::Invitation]);
            let issued = matches!(changes.new_tokens.as_slice(), [t] if t.kind == TokenKind::Invitation);
            let queued = matches!(changes.outbox.as_slice(),
                [m] if m.kind == MessageKind::Reinvitation
                    && m.token_hash == Some(changes.new_tokens[0].hash)
                    && m.text_body.contains("https://portal.example.com/portal/invitation?token="));
            let updated = matches!(&changes.account, Some(AccountChange::Update(a)) if a.version == fixtures::pending().version);
            revoked && issued && queued && updated && changes.audit.len() == 1
        })
        .times(1)
        .returning(|_| Ok(()));
    // The mailer is configured but never called: delivery is the dispatcher's job.
    let service = service(store, Some(silent_mailer()), None);
    service
        .send_invitation(&staff(), &ctx(), fixtures::pending().id)
        .await
        .unwrap();
}
