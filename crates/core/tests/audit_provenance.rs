//! Every audit event committed through the service says where its request
//! came from: location (with a GeoIP database), OS and browser, beside the
//! IP and User-Agent; and it joins the tenant's verified chain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use portal_access_core::audit::verify_chain;
use portal_access_core::config::PortalConfig;
use portal_access_core::service::{NewAccountInput, PortalService, StaffActor};
use portal_access_core::testing::fakes::TableGeoIp;
use portal_access_core::testing::MemoryStore;
use portal_access_core::{
    AccountStore, AuditEvent, AuditKind, AuditQuery, Location, RequestContext, StaffId, TenantId,
};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";

fn staff() -> StaffActor {
    StaffActor {
        tenant: TenantId::new("firm").unwrap(),
        staff_id: StaffId::new("alice").unwrap(),
    }
}

fn ctx() -> RequestContext {
    RequestContext {
        ip: Some("203.0.113.9".parse().unwrap()),
        user_agent: Some(FIREFOX.into()),
        expected_version: None,
    }
}

async fn create(service: &PortalService) {
    let input = NewAccountInput {
        email: "ann@example.com".into(),
        contact_ref: None,
        display_name: None,
        language: None,
    };
    service
        .create_account(&staff(), &ctx(), input)
        .await
        .unwrap();
}

async fn first_event(store: &MemoryStore) -> AuditEvent {
    let trail = store
        .audit_page(&AuditQuery::all(staff().tenant, 10))
        .await
        .unwrap();
    trail[0].event.clone()
}

#[tokio::test]
async fn a_staff_action_records_who_when_ip_location_os_and_browser_in_the_chain() {
    let store = Arc::new(MemoryStore::new());
    let berlin = Location {
        city: Some("Berlin".into()),
        region: None,
        country: Some("Germany".into()),
        country_code: Some("DE".into()),
    };
    let geoip = TableGeoIp::new().with("203.0.113.9".parse().unwrap(), berlin);
    let service = PortalService::builder(store.clone())
        .config(PortalConfig::new("https://portal.example.com"))
        .geoip(Arc::new(geoip))
        .build()
        .unwrap();

    create(&service).await;

    let event = &first_event(&store).await;
    assert_eq!(event.kind, AuditKind::AccountCreated);
    assert_eq!(event.actor, staff().actor());
    assert_eq!(event.ip, ctx().ip);
    assert_eq!(event.user_agent.as_deref(), Some(FIREFOX));
    assert_eq!(event.detail["from"]["location"], "Berlin, Germany");
    assert_eq!(event.detail["from"]["os"], "Linux");
    assert_eq!(event.detail["from"]["browser"], "Firefox 121.0");
    let head = verify_chain(store.as_ref(), &staff().tenant).await.unwrap();
    assert_eq!(head.unwrap().seq, 1);
}

#[tokio::test]
async fn without_geoip_or_user_agent_only_what_is_known_is_recorded() {
    let store = Arc::new(MemoryStore::new());
    let service = PortalService::builder(store.clone())
        .config(PortalConfig::new("https://portal.example.com"))
        .build()
        .unwrap();

    create(&service).await;

    let from = &first_event(&store).await.detail["from"];
    assert_eq!(from.get("location"), None);
    assert_eq!(from["browser"], "Firefox 121.0");
}
