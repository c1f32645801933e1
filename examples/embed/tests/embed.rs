//! The CRM serves its own routes and the portal mounted under `/clients`,
//! on port 0, with the in-memory store and a recording mailer.

use std::sync::Arc;
use std::time::Duration;

use portal_access::testing::fakes::RecordingMailer;
use portal_access::testing::MemoryStore;
use portal_embed_example::{build, session_cookie, CrmConfig, CrmUser};
use reqwest::header::COOKIE;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crm_answers_its_own_routes_and_the_portal_mounted_under_its_prefix() {
    // Arrange: the CRM on port 0, a signed-in CRM staff member.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mailer = Arc::new(RecordingMailer::new());
    let config = CrmConfig::demo(base.clone());
    let firm = config.firm.clone();
    let crm = build(config, Arc::new(MemoryStore::new()), mailer.clone()).unwrap();
    let session = crm.sessions.start(CrmUser {
        id: "alice".into(),
        firm,
    });
    let cookie = session_cookie(&session);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crm.serve(listener, async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // A CRM route: refused without the CRM session, answered with it.
    let anonymous = http
        .get(format!("{base}/crm/contacts"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let contacts: Value = http
        .get(format!("{base}/crm/contacts"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(contacts["firm"], "acme-accounting");
    assert_eq!(contacts["contacts"][0]["email"], "ann@client.example");

    // The CRM's "invite to the portal" calls the service in process.
    let invited = http
        .post(format!("{base}/crm/contacts/c-1001/portal-invitation"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(invited.status(), StatusCode::CREATED);
    let invited: Value = invited.json().await.unwrap();
    assert_eq!(invited["sent"], "invitation");
    let status_path = invited["status"].as_str().unwrap().to_owned();
    assert!(status_path.starts_with("/clients/staff/accounts/"));

    // The mounted staff API trusts the CRM session, and only it.
    let status = http
        .get(format!("{base}{status_path}"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), StatusCode::OK);
    let status: Value = status.json().await.unwrap();
    assert_eq!(status["contact_ref"], "c-1001");
    assert_eq!(status["invitation"]["state"], "pending");
    let refused = http
        .get(format!("{base}{status_path}"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["error"]["code"], "unauthenticated");

    // The mounted portal pages answer under the prefix.
    let page = http
        .get(format!("{base}/clients/portal/sign-in"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    // (minijinja escapes `/` in attribute values as `&#x2f;`.)
    let html = page.text().await.unwrap().replace("&#x2f;", "/");
    assert!(
        html.contains(r#"action="/clients/portal/sign-in""#),
        "{html}"
    );

    // The dispatcher delivers the invitation, its link under the prefix.
    let mut sent = Vec::new();
    for _ in 0..100 {
        sent = mailer.sent_to("ann@client.example");
        if !sent.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sent.len(), 1, "the invitation was not delivered in 5 s");
    let link_prefix = format!("{base}/clients/portal/invitation?token=");
    assert!(
        sent[0].text_body.contains(&link_prefix),
        "{}",
        sent[0].text_body
    );

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
