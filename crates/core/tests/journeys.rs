//! Whole journeys through `PortalService` over the in-memory store, staff
//! side and client side together: invite -> accept -> sign out -> forgot ->
//! reset -> sign in -> change username, checking what the client and the
//! staff see at every step.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use common::*;

use portal_access_core::dispatch::{Dispatcher, DispatcherConfig};
use portal_access_core::service::{
    AcceptInvitationError, ClientSession, LinkView, NewAccountInput, PortalService, ServiceError,
    SignInError, SignedIn, StaffActor, UnauthenticatedError,
};
use portal_access_core::testing::fakes::{ManualClock, RecordingMailer, SeededRandom};
use portal_access_core::testing::MemoryStore;
use portal_access_core::{
    Account, AccountId, AccountStore, AuditKind, MessageKind, NewMessage, RequestContext, StaffId,
    TenantId, TokenKind,
};
use time::Duration;

const FIRST_PASSWORD: &str = "correct horse battery staple";
const SECOND_PASSWORD: &str = "purple elephants dance at dawn";

fn client_ctx() -> RequestContext {
    RequestContext {
        ip: Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7))),
        user_agent: Some(
            "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0".into(),
        ),
        expected_version: None,
    }
}

fn staff_ctx() -> RequestContext {
    RequestContext {
        ip: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))),
        user_agent: Some("crm-backend/1.0".into()),
        expected_version: None,
    }
}

struct World {
    service: PortalService,
    store: Arc<MemoryStore>,
    mailer: Arc<RecordingMailer>,
    clock: Arc<ManualClock>,
    staff: StaffActor,
    tenant: TenantId,
}

impl World {
    fn new() -> Self {
        let config = cheap_config();
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::new(start()));
        let mailer = Arc::new(RecordingMailer::new());
        let service = PortalService::builder(store.clone())
            .config(config)
            .mailer(mailer.clone())
            .clock(clock.clone())
            .random(Arc::new(SeededRandom::new(11)))
            .geoip(Arc::new(berlin_geoip(None)))
            .build()
            .unwrap();
        let tenant = TenantId::new("firm").unwrap();
        Self {
            service,
            store,
            mailer,
            clock,
            staff: StaffActor {
                tenant: tenant.clone(),
                staff_id: StaffId::new("staff-1").unwrap(),
            },
            tenant,
        }
    }

    /// Staff creates the account and sends its invitation.
    async fn invited(&self, email: &str, contact: Option<&str>, name: Option<&str>) -> Account {
        let input = NewAccountInput {
            email: email.into(),
            contact_ref: contact.map(Into::into),
            display_name: name.map(Into::into),
            language: None,
        };
        let (staff, ctx) = (&self.staff, staff_ctx());
        let account = self.service.create_account(staff, &ctx, input).await;
        let account = account.unwrap();
        let sent = self.service.send_invitation(staff, &ctx, account.id).await;
        sent.unwrap();
        account
    }

    /// The client accepts the invitation `token` with `FIRST_PASSWORD`.
    async fn accept(
        &self,
        token: &str,
        username: &str,
    ) -> Result<SignedIn, ServiceError<AcceptInvitationError>> {
        accept_invitation(
            &self.service,
            &client_ctx(),
            token,
            username,
            FIRST_PASSWORD,
        )
        .await
    }

    async fn sign_in(
        &self,
        login: &str,
        password: &str,
    ) -> Result<SignedIn, ServiceError<SignInError>> {
        let ctx = client_ctx();
        self.service
            .sign_in(&self.tenant, &ctx, login, secret(password))
            .await
            .map(signed_in)
    }

    async fn authenticate(
        &self,
        session_token: &str,
    ) -> Result<ClientSession, ServiceError<UnauthenticatedError>> {
        self.service.authenticate(session_token).await
    }

    /// What staff sees of the account, as JSON.
    async fn status_json(&self, id: AccountId) -> serde_json::Value {
        let status = self.service.account_status(&self.staff, id).await.unwrap();
        serde_json::to_value(status).unwrap()
    }

    /// The newest queued message of `kind` to `to`.
    async fn newest(&self, kind: MessageKind, to: &str) -> NewMessage {
        queued(self.store.as_ref(), self.service.now())
            .await
            .into_iter()
            .rev()
            .find(|m| m.kind == kind && m.to == to)
            .unwrap_or_else(|| panic!("no {kind:?} queued to {to}"))
    }
}

#[tokio::test]
async fn invite_accept_sign_out_forgot_reset_sign_in_change_username() {
    let w = World::new();

    // Staff creates the account and invites the client.
    let account = w
        .invited(
            "Ann.Client@example.com",
            Some("crm-contact-17"),
            Some("Ann Client"),
        )
        .await;
    let invitation = w
        .newest(MessageKind::Invitation, "Ann.Client@example.com")
        .await;
    let invitation_token = token_in(&invitation);

    // A mail scanner opens the link first; it still works for the client.
    w.clock.advance(Duration::minutes(3));
    let scanned = w
        .service
        .open_link(
            &RequestContext::default(),
            TokenKind::Invitation,
            &invitation_token,
        )
        .await
        .unwrap();
    assert!(matches!(
        scanned,
        LinkView::Valid {
            kind: TokenKind::Invitation,
            ..
        }
    ));

    // The client accepts: chooses a username and a password, and is signed in.
    w.clock.advance(Duration::minutes(10));
    let signed_in = w.accept(&invitation_token, "ann.c").await.unwrap();
    let session = w
        .authenticate(signed_in.session_token.expose())
        .await
        .unwrap();
    assert_eq!(session.account.id, account.id);

    let status = w.status_json(account.id).await;
    assert_eq!(status["username"], "ann.c");
    assert_eq!(status["invitation"]["state"], "accepted");

    // Sign out.
    w.service.sign_out(&client_ctx(), &session).await.unwrap();
    assert_eq!(
        code(w.authenticate(signed_in.session_token.expose()).await),
        "unauthenticated"
    );

    // A week later the client forgot the password.
    w.clock.advance(Duration::days(7));
    assert_eq!(
        code(w.sign_in("ann.c", "what was it again").await),
        "invalid_credentials"
    );
    w.service
        .forgot_password(&w.tenant, &client_ctx(), "ann.client@EXAMPLE.com", None)
        .await
        .unwrap();
    let reset_mail = w
        .newest(MessageKind::PasswordReset, "Ann.Client@example.com")
        .await;
    let reset_token = token_in(&reset_mail);
    assert!(reset_mail
        .text_body
        .contains("https://portal.example.com/portal/reset-password?token="));

    // The reset signs the client in and sends the notice.
    w.clock.advance(Duration::minutes(5));
    let after_reset = w
        .service
        .reset_password(
            &client_ctx(),
            &reset_token,
            secret(SECOND_PASSWORD),
            secret(SECOND_PASSWORD),
        )
        .await
        .map(common::signed_in)
        .unwrap();
    assert!(w
        .authenticate(after_reset.session_token.expose())
        .await
        .is_ok());
    let notice = w
        .newest(MessageKind::PasswordChanged, "Ann.Client@example.com")
        .await;
    assert!(notice.text_body.contains("/not-me?token="));
    assert!(!notice.text_body.contains(SECOND_PASSWORD));

    // Later, sign in by email with the new password; the old one fails.
    w.clock.advance(Duration::hours(1));
    assert_eq!(
        code(w.sign_in("ann.c", FIRST_PASSWORD).await),
        "invalid_credentials"
    );
    let by_email = w
        .sign_in("ann.client@example.com", SECOND_PASSWORD)
        .await
        .unwrap();
    let session = w
        .authenticate(by_email.session_token.expose())
        .await
        .unwrap();

    // Change the username; sign in with it.
    w.service
        .change_username(&session, &client_ctx(), "Ann.Client")
        .await
        .unwrap();
    let renamed = w
        .newest(MessageKind::UsernameChanged, "Ann.Client@example.com")
        .await;
    assert!(renamed.text_body.contains("Ann.Client") || renamed.html_body.contains("Ann.Client"));
    assert!(w.sign_in("ann.client", SECOND_PASSWORD).await.is_ok());

    // Staff sees the facts: username, last sign-in, the trail of events.
    let status = w.status_json(account.id).await;
    assert_eq!(status["username"], "Ann.Client");
    assert_eq!(status["access"], "enabled");
    assert_eq!(status["has_password"], true);
    assert!(status["last_sign_in_at"].is_string());
    let mut kinds: Vec<AuditKind> = w
        .service
        .account_events(&w.staff, account.id, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    kinds.reverse(); // oldest first
    let expected_in_order = [
        AuditKind::AccountCreated,
        AuditKind::InvitationSent,
        AuditKind::InvitationAccepted,
        AuditKind::SignedOut,
        AuditKind::SignInFailed,
        AuditKind::PasswordResetSent,
        AuditKind::PasswordReset,
        AuditKind::SignInFailed,
        AuditKind::SignedIn,
        AuditKind::UsernameChanged,
        AuditKind::SignedIn,
    ];
    let mut rest = kinds.iter();
    for wanted in expected_in_order {
        assert!(
            rest.any(|k| *k == wanted),
            "{wanted:?} missing or out of order in {kinds:?}"
        );
    }
    // The invitation link was opened once (by the scanner) and then used.
    let openings = w
        .store
        .link_openings(&w.tenant, account.id, 10)
        .await
        .unwrap();
    assert_eq!(openings.len(), 1);
}

#[tokio::test]
async fn an_expired_invitation_is_renewed_by_the_client_and_accepted() {
    let w = World::new();
    let account = w.invited("bob@example.com", None, None).await;
    let first = token_in(&w.newest(MessageKind::Invitation, "bob@example.com").await);

    w.clock.advance(Duration::days(8));
    assert_eq!(code(w.accept(&first, "bob").await), "token_invalid");
    let view = w
        .service
        .open_link(&client_ctx(), TokenKind::Invitation, &first)
        .await
        .unwrap();
    assert_eq!(
        view,
        LinkView::Invalid {
            fresh_invitation_available: true
        }
    );
    w.service
        .request_fresh_invitation(&client_ctx(), &first)
        .await
        .unwrap();
    let fresh = token_in(&w.newest(MessageKind::Reinvitation, "bob@example.com").await);
    w.accept(&fresh, "bob").await.unwrap();
    let status = w.status_json(account.id).await;
    assert_eq!(status["invitation"]["state"], "accepted");
}

#[tokio::test]
async fn links_resent_twice_while_the_dispatcher_is_stopped_mail_only_the_last_one() {
    let w = World::new();
    let account = w.invited("ann@example.com", None, None).await;
    for _ in 0..2 {
        w.clock.advance(Duration::seconds(20));
        let ctx = staff_ctx();
        let resent = w.service.send_invitation(&w.staff, &ctx, account.id);
        resent.await.unwrap();
    }
    let last = w.newest(MessageKind::Reinvitation, "ann@example.com").await;

    let dispatcher = Dispatcher::new(
        w.store.clone(),
        w.mailer.clone(),
        w.clock.clone(),
        DispatcherConfig::default(),
    );
    let report = dispatcher.run_once().await.unwrap();

    assert_eq!((report.leased, report.sent, report.superseded), (3, 1, 2));
    let mailed = w.mailer.sent();
    assert_eq!(mailed.len(), 1, "only the last link leaves");
    assert_eq!(token_in(&mailed[0]), token_in(&last));
    let status = w.status_json(account.id).await;
    let mut states: Vec<(String, String)> = status["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let note = m["last_error"].as_str().unwrap_or_default();
            (m["state"].as_str().unwrap().to_owned(), note.to_owned())
        })
        .collect();
    states.sort();
    let superseded = (
        "superseded".to_owned(),
        "not sent: link superseded before delivery".to_owned(),
    );
    assert_eq!(
        states,
        vec![
            ("sent".to_owned(), String::new()),
            superseded.clone(),
            superseded
        ]
    );
    // The one link mailed works.
    w.accept(&token_in(&last), "ann").await.unwrap();
    assert!(dispatcher.run_once().await.unwrap().leased <= 1);
}
