//! Mail in the account's language over real SMTP: the service renders at
//! enqueue, the dispatcher delivers through the SMTP mailer to aiosmtpd,
//! and the times are in the firm's time zone.

use std::sync::Arc;
use std::time::Duration;

use portal_access_core::config::{HashingConfig, PortalConfig};
use portal_access_core::dispatch::{Dispatcher, DispatcherConfig};
use portal_access_core::i18n::time_zone;
use portal_access_core::service::{NewAccountInput, PortalService, StaffActor};
use portal_access_core::testing::fakes::ManualClock;
use portal_access_core::testing::mailer::ReceivedMessage;
use portal_access_core::testing::memory::MemoryStore;
use portal_access_core::{Mailer, RequestContext, StaffId, TenantId};
use portal_access_smtp::{Sender, SmtpMailer};
use time::macros::datetime;

use crate::support::{start_sink, SinkOptions, SmtpSink, FROM};

/// A firm in Chicago inviting one client per entry (address, language),
/// delivered over SMTP to a fresh sink; what the sink received.
async fn invitations(clients: &[(&str, Option<&str>)]) -> (SmtpSink, Vec<ReceivedMessage>) {
    let sink = start_sink(SinkOptions::default()).await;
    let mailer: Arc<dyn Mailer> = Arc::new(
        SmtpMailer::builder(&sink.url(), FROM.parse::<Sender>().expect("sender"))
            .expect("valid URL")
            .timeout(Duration::from_secs(10))
            .build()
            .expect("mailer"),
    );
    let store = Arc::new(MemoryStore::new());
    // 14:04 UTC is 8:04 in Chicago (CST); the invitation lasts 7 days.
    let clock = Arc::new(ManualClock::new(datetime!(2026-12-05 14:04 UTC)));
    let mut config = PortalConfig::new("https://portal.example.com");
    config.time_zone = time_zone("America/Chicago").expect("a tz database zone");
    config.invitation_ttl = time::Duration::days(7);
    config.hashing = HashingConfig {
        memory_kib: 256,
        iterations: 1,
        parallelism: 1,
        pool_size: 1,
    };
    let service = PortalService::builder(store.clone())
        .config(config)
        .clock(clock.clone())
        .mailer(mailer.clone())
        .build()
        .expect("a valid service");
    let staff = StaffActor {
        tenant: TenantId::new("firm").unwrap(),
        staff_id: StaffId::new("alice").unwrap(),
    };
    let ctx = RequestContext::default();
    for (email, language) in clients {
        let input = NewAccountInput {
            email: (*email).into(),
            contact_ref: None,
            display_name: Some("Ana Cliente".into()),
            language: language.map(str::to_owned),
        };
        let account = service.create_account(&staff, &ctx, input).await.unwrap();
        service
            .send_invitation(&staff, &ctx, account.id)
            .await
            .unwrap();
    }
    Dispatcher::new(store, mailer, clock, DispatcherConfig::default())
        .run_once()
        .await
        .expect("dispatch");
    let received = sink.received().expect("what the sink received");
    (sink, received)
}

fn to<'a>(received: &'a [ReceivedMessage], email: &str) -> &'a ReceivedMessage {
    received
        .iter()
        .find(|m| m.to.iter().any(|t| t == email))
        .unwrap_or_else(|| panic!("no mail to {email} in {received:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spanish_account_gets_its_invitation_in_spanish_with_the_expiry_in_the_firms_zone() {
    let (_sink, received) =
        invitations(&[("ana@example.com", Some("es")), ("bob@example.com", None)]).await;

    let ana = to(&received, "ana@example.com");
    assert_eq!(ana.subject, "Su invitación a Client portal");
    assert!(
        ana.text.starts_with("Estimado/a Ana Cliente:"),
        "{}",
        ana.text
    );
    assert!(
        ana.text
            .contains("es válido hasta el 12 dic 2026, 8:04 CST"),
        "{}",
        ana.text
    );
    assert!(ana.html.contains("Activar mi cuenta"), "{}", ana.html);
    assert!(ana.html.contains(r#"<html lang="es">"#));
    assert!(!ana.text.contains("UTC"), "{}", ana.text);

    let bob = to(&received, "bob@example.com");
    assert_eq!(bob.subject, "You're invited to Client portal");
    assert!(
        bob.text.contains("until Dec 12, 2026, 8:04 AM CST"),
        "{}",
        bob.text
    );
    assert!(bob.html.contains("Set up my account"));
}
