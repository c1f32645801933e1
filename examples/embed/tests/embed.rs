//! The CRM serves its own routes and the portal mounted under `/clients`,
//! on port 0, with the in-memory store and a recording mailer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use portal_access::testing::fakes::RecordingMailer;
use portal_access::testing::MemoryStore;
use portal_embed_example::{build, session_cookie, CrmConfig, CrmUser};
use reqwest::header::COOKIE;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// An HTTP client of the CRM at `base` (redirects are not followed).
struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// `method path`, with the CRM session `cookie` when given: the status
    /// and the body.
    async fn call(&self, method: Method, path: &str, cookie: Option<&str>) -> (StatusCode, String) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// [`Client::call`] with a JSON answer.
    async fn json(&self, method: Method, path: &str, cookie: Option<&str>) -> (StatusCode, Value) {
        let (status, body) = self.call(method, path, cookie).await;
        let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        (status, json)
    }
}

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
    let signed_in = Some(cookie.as_str());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crm.serve(listener, async move {
        let _ = stopped.await;
    }));
    let client = Client {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: base.clone(),
    };

    // A CRM route: refused without the CRM session, answered with it.
    let (anonymous, _) = client.call(Method::GET, "/crm/contacts", None).await;
    assert_eq!(anonymous, StatusCode::UNAUTHORIZED);
    let (_, contacts) = client.json(Method::GET, "/crm/contacts", signed_in).await;
    assert_eq!(contacts["firm"], "acme-accounting");
    assert_eq!(contacts["contacts"][0]["email"], "ann@client.example");

    // The CRM's "invite to the portal" calls the service in process.
    let (status, invited) = client
        .json(
            Method::POST,
            "/crm/contacts/c-1001/portal-invitation",
            signed_in,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(invited["sent"], "invitation");
    let status_path = invited["status"].as_str().unwrap().to_owned();
    assert!(status_path.starts_with("/clients/staff/accounts/"));

    // The mounted staff API trusts the CRM session, and only it.
    let (status, account) = client.json(Method::GET, &status_path, signed_in).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(account["contact_ref"], "c-1001");
    assert_eq!(account["invitation"]["state"], "pending");
    let (refused, refusal) = client.json(Method::GET, &status_path, None).await;
    assert_eq!(refused, StatusCode::UNAUTHORIZED);
    assert_eq!(refusal["error"]["code"], "unauthenticated");

    // The mounted portal pages answer under the prefix.
    let (status, html) = client
        .call(Method::GET, "/clients/portal/sign-in", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    // (minijinja escapes `/` in attribute values as `&#x2f;`.)
    let html = html.replace("&#x2f;", "/");
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
