//! Host events (SPEC.md section 10): each flow queues its webhook delivery
//! in its own commit and hands the same event to the `EventSink` after it;
//! a refused flow does neither; no payload carries a secret, token, code,
//! link or address.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::{accept_invitation, cheap_config, queued, secret, start, token_in};

use portal_access_core::service::{NewAccountInput, PortalService, SetPasswordInput, StaffActor};
use portal_access_core::testing::fakes::{ManualClock, RecordingMailer, SeededRandom};
use portal_access_core::testing::MemoryStore;
use portal_access_core::webhook::{WebhookEndpoint, WebhookEndpoints, WebhookSecret};
use portal_access_core::{
    Account, AccountId, AccountStore, Clock, DeliveryState, Dispatcher, DispatcherConfig,
    EventSink, HostEvent, MailerErrorKind, MessageKind, RequestContext, StaffId, TenantId,
};

const PASSWORD: &str = "violet kettle harbour";
const NEW_PASSWORD: &str = "amber lantern meadow";

#[derive(Default)]
struct RecordingSink(Mutex<Vec<HostEvent>>);

#[async_trait]
impl EventSink for RecordingSink {
    async fn publish(&self, event: &HostEvent) {
        self.0.lock().unwrap().push(event.clone());
    }
}

impl RecordingSink {
    fn types(&self) -> Vec<&'static str> {
        let events = self.0.lock().unwrap();
        events.iter().map(|e| e.event_type.as_str()).collect()
    }
}

struct World {
    store: Arc<MemoryStore>,
    sink: Arc<RecordingSink>,
    service: PortalService,
    mailer: Arc<RecordingMailer>,
    clock: Arc<ManualClock>,
    endpoints: WebhookEndpoints,
    staff: StaffActor,
    ctx: RequestContext,
}

fn endpoints() -> WebhookEndpoints {
    let secret = WebhookSecret::from_bytes(vec![7; 24]).unwrap();
    let firm = WebhookEndpoint::new("https://crm.example.com/hooks", secret.clone()).unwrap();
    let other = WebhookEndpoint::new("https://other.example.com/hooks", secret).unwrap();
    WebhookEndpoints {
        all_tenants: vec![firm],
        tenants: [(TenantId::new("other-firm").unwrap(), vec![other])].into(),
    }
}

fn world() -> World {
    let store = Arc::new(MemoryStore::new());
    let sink = Arc::new(RecordingSink::default());
    let clock = Arc::new(ManualClock::new(start()));
    let mailer = Arc::new(RecordingMailer::new());
    let mut config = cheap_config();
    config.webhooks = endpoints();
    config.forgot_min_duration = std::time::Duration::ZERO;
    let service = PortalService::builder(Arc::clone(&store) as Arc<dyn AccountStore>)
        .config(config)
        .clock(Arc::clone(&clock) as _)
        .random(Arc::new(SeededRandom::new(9)))
        .mailer(mailer.clone())
        .event_sink(sink.clone())
        .build()
        .unwrap();
    World {
        store,
        sink,
        service,
        mailer,
        clock,
        endpoints: endpoints(),
        staff: StaffActor {
            tenant: TenantId::new("firm").unwrap(),
            staff_id: StaffId::new("staff-7").unwrap(),
        },
        ctx: RequestContext::default(),
    }
}

impl World {
    /// `staff` create an account of `email` (no name, language or reference).
    async fn create(&self, staff: &StaffActor, email: &str) -> Account {
        let input = NewAccountInput {
            email: email.into(),
            contact_ref: None,
            display_name: None,
            language: None,
        };
        self.service
            .create_account(staff, &self.ctx, input)
            .await
            .unwrap()
    }

    /// The link token of the newest queued message of `kind`.
    async fn token_of(&self, kind: MessageKind) -> String {
        let messages = queued(self.store.as_ref(), self.clock.now()).await;
        let message = messages.iter().rev().find(|m| m.kind == kind).unwrap();
        token_in(message)
    }

    /// The event types queued for `account`, oldest first.
    async fn queued_types(&self, account: AccountId) -> Vec<&'static str> {
        let rows = self
            .store
            .webhooks_for_account(&self.staff.tenant, account, 100)
            .await
            .unwrap();
        rows.iter()
            .rev()
            .map(|w| w.webhook.event_type.as_str())
            .collect()
    }
}

#[tokio::test]
async fn every_account_flow_queues_its_webhook_in_its_commit_and_tells_the_sink_after() {
    let w = world();
    let (staff, ctx, service) = (&w.staff, &w.ctx, &w.service);
    let input = NewAccountInput {
        email: "ann@example.com".into(),
        contact_ref: None,
        display_name: Some("Ann Client".into()),
        language: None,
    };
    let ann = service.create_account(staff, ctx, input).await.unwrap();
    assert!(
        w.sink.types().is_empty(),
        "creating an account is not an event"
    );

    service.send_invitation(staff, ctx, ann.id).await.unwrap();
    let invitation = w.token_of(MessageKind::Invitation).await;
    accept_invitation(service, ctx, &invitation, "ann", PASSWORD)
        .await
        .unwrap();
    service
        .forgot_password(&staff.tenant, ctx, "ann@example.com", None)
        .await
        .unwrap();
    let reset = w.token_of(MessageKind::PasswordReset).await;
    service
        .reset_password(ctx, &reset, secret(NEW_PASSWORD), secret(NEW_PASSWORD))
        .await
        .unwrap();
    let not_me = w.token_of(MessageKind::PasswordChanged).await;
    service.secure_account(ctx, &not_me).await.unwrap();
    let set = SetPasswordInput {
        password: secret(PASSWORD),
        password_confirmation: secret(PASSWORD),
        must_change: true,
    };
    service.set_password(staff, ctx, ann.id, set).await.unwrap();
    service.set_access(staff, ctx, ann.id, false).await.unwrap();
    service.set_access(staff, ctx, ann.id, true).await.unwrap();
    service
        .change_email(staff, ctx, ann.id, "ann.new@example.com")
        .await
        .unwrap();
    service.archive(staff, ctx, ann.id).await.unwrap();

    let expected = [
        "account.invited",
        "invitation.accepted",
        "password.reset_requested",
        "password.changed",
        "account.secured",
        "password.changed",
        "access.changed",
        "access.changed",
        "email.changed",
        "account.archived",
    ];
    assert_eq!(w.sink.types(), expected, "the sink heard each event once");
    assert_eq!(
        w.queued_types(ann.id).await,
        expected,
        "one delivery per event"
    );

    let events = w.sink.0.lock().unwrap().clone();
    assert_eq!(events[3].extra["how"], "reset");
    assert_eq!(events[5].extra["how"], "set_by_staff");
    assert_eq!(events[6].extra["access"], "disabled");
    let rows = w
        .store
        .webhooks_for_account(&staff.tenant, ann.id, 100)
        .await
        .unwrap();
    for row in &rows {
        let body: serde_json::Value = serde_json::from_str(&row.webhook.payload).unwrap();
        assert_eq!(body["data"]["tenant"], "firm");
        assert_eq!(body["data"]["account_id"], ann.id.to_string());
        assert!(body["timestamp"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-02T"));
        assert_eq!(row.webhook.endpoint, "https://crm.example.com/hooks");
        assert_eq!(row.state, DeliveryState::Queued);
        for secret_part in [
            invitation.as_str(),
            reset.as_str(),
            not_me.as_str(),
            "@",
            "token",
            "http",
            PASSWORD,
        ] {
            assert!(
                !row.webhook.payload.contains(secret_part),
                "{}",
                row.webhook.payload
            );
        }
    }
}

#[tokio::test]
async fn a_refused_flow_queues_no_webhook_and_tells_the_sink_nothing() {
    let w = world();
    let ann = w.create(&w.staff, "ann@example.com").await;
    w.service.archive(&w.staff, &w.ctx, ann.id).await.unwrap();
    let before = w.sink.types();
    assert!(w
        .service
        .send_invitation(&w.staff, &w.ctx, ann.id)
        .await
        .is_err());
    assert!(
        accept_invitation(&w.service, &w.ctx, &"A".repeat(43), "ann", PASSWORD)
            .await
            .is_err()
    );
    assert_eq!(w.sink.types(), before);
    assert_eq!(w.queued_types(ann.id).await, ["account.archived"]);
}

#[tokio::test]
async fn a_message_given_up_on_raises_message_failed_for_the_webhooks_and_the_sink() {
    let w = world();
    let ann = w.create(&w.staff, "ann@example.com").await;
    w.service
        .send_invitation(&w.staff, &w.ctx, ann.id)
        .await
        .unwrap();
    w.mailer.fail_next(1, MailerErrorKind::Permanent);
    let dispatcher = Dispatcher::new(
        w.store.clone(),
        w.mailer.clone(),
        w.clock.clone(),
        DispatcherConfig::default(),
    )
    .with_webhooks(w.endpoints.clone())
    .with_event_sink(w.sink.clone());
    let report = dispatcher.run_once().await.unwrap();
    assert_eq!(report.failed, 1);

    assert_eq!(w.sink.types(), ["account.invited", "message.failed"]);
    assert_eq!(
        w.queued_types(ann.id).await,
        ["account.invited", "message.failed"]
    );
    let failed = w.sink.0.lock().unwrap()[1].clone();
    assert_eq!(failed.extra["message_kind"], "invitation");
    let message = &w
        .store
        .messages_for_account(&w.staff.tenant, ann.id, 1)
        .await
        .unwrap()[0];
    assert_eq!(failed.extra["message_id"], message.message.id.to_string());
    assert_eq!(message.state, DeliveryState::Failed);
}

#[tokio::test]
async fn a_tenant_s_events_go_to_its_own_endpoints_and_the_shared_ones_only() {
    let w = world();
    let other = StaffActor {
        tenant: TenantId::new("other-firm").unwrap(),
        staff_id: StaffId::new("staff-9").unwrap(),
    };
    let bob = w.create(&other, "bob@example.com").await;
    w.service.archive(&other, &w.ctx, bob.id).await.unwrap();
    let rows = w
        .store
        .webhooks_for_account(&other.tenant, bob.id, 10)
        .await
        .unwrap();
    let mut urls: Vec<_> = rows.iter().map(|r| r.webhook.endpoint.as_str()).collect();
    urls.sort_unstable();
    assert_eq!(
        urls,
        [
            "https://crm.example.com/hooks",
            "https://other.example.com/hooks"
        ]
    );
    assert_ne!(
        rows[0].webhook.id, rows[1].webhook.id,
        "one delivery id per endpoint"
    );
    assert_eq!(rows[0].webhook.payload, rows[1].webhook.payload);
    assert!(w
        .store
        .webhooks_for_account(&w.staff.tenant, bob.id, 10)
        .await
        .unwrap()
        .is_empty());
}
