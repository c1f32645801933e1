//! The example server as a newcomer runs it: built from its command line,
//! on SQLite and on PostgreSQL, with the directory mailer and the
//! dispatcher in-process; health, readiness, metrics, request ids; and a
//! graceful shutdown that lets an in-flight request finish.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use base64::Engine as _;
use clap::{CommandFactory, Parser};
use portal_access_postgres::testing::TestDatabase;
use portal_server::app::build_app;
use portal_server::cli::ServerConfig;
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

struct Running {
    base: String,
    token: String,
    mail_dir: std::path::PathBuf,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

/// Starts the server from flags, on port 0, with a database URL.
async fn start(database_url: Option<String>) -> Running {
    start_with(database_url, &[]).await
}

/// Starts the server from flags, on port 0, with a database URL and
/// `extra` flags.
async fn start_with(database_url: Option<String>, extra: &[&str]) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mail_dir = dir.path().join("mail");
    let database_url = database_url.unwrap_or_else(|| {
        // A nested directory that does not exist yet: the server creates it.
        format!(
            "sqlite://{}",
            dir.path().join("data/nested/portal.db").display()
        )
    });
    let flags = [
        "portal-server".to_owned(),
        format!("--listen={addr}"),
        format!("--database-url={database_url}"),
        format!("--mail-dir={}", mail_dir.display()),
        "--argon2-memory-kib=256".to_owned(),
        "--argon2-iterations=1".to_owned(),
        "--shutdown-grace-secs=10".to_owned(),
    ];
    let flags = flags
        .into_iter()
        .chain(extra.iter().map(|f| (*f).to_owned()));
    let config = ServerConfig::try_parse_from(flags).unwrap();
    if config.public_url.is_none() {
        assert_eq!(config.public_url(), format!("http://{addr}"));
    }
    let app = build_app(&config).await.expect("the app builds");
    let token = app
        .generated_token
        .as_ref()
        .expect("a generated staff token without --staff-token")
        .token
        .expose_secret()
        .to_owned();
    assert_eq!(app.mail_dir.as_deref(), Some(mail_dir.as_path()));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async move {
        let _ = stopped.await;
    }));
    Running {
        base: format!("http://{addr}"),
        token,
        mail_dir,
        stop: Some(stop),
        server,
        _dir: dir,
    }
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `GET path`, with the header `x-request-id: id` when given.
    async fn get(&self, path: &str, request_id: Option<&str>) -> reqwest::Response {
        let mut request = reqwest::Client::new().get(self.url(path));
        if let Some(id) = request_id {
            request = request.header("x-request-id", id);
        }
        request.send().await.unwrap()
    }

    /// `POST path` to the staff API with the generated token.
    async fn staff_post(&self, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut request = reqwest::Client::new()
            .post(self.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// Creates the account of ann@example.com through the staff API; its id.
    async fn create_ann(&self) -> String {
        let created: Value = self
            .staff_post(
                "/staff/accounts",
                Some(json!({ "email": "ann@example.com" })),
            )
            .await
            .json()
            .await
            .unwrap();
        created["id"].as_str().unwrap().to_owned()
    }

    async fn shutdown(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(20), &mut self.server)
            .await
            .expect("the server stops within its grace")
            .unwrap()
            .unwrap();
    }
}

/// Waits until the mail directory holds an .eml file; returns its text.
async fn wait_for_mail(dir: &std::path::Path) -> String {
    for _ in 0..100 {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry.path().extension().is_some_and(|e| e == "eml") {
                    return std::fs::read_to_string(entry.path()).unwrap();
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no .eml file appeared in {}", dir.display());
}

async fn a_newcomer_session(running: &Running) {
    let health = running.get("/healthz", None).await;
    assert_eq!(health.status(), StatusCode::OK);
    assert!(health.headers().contains_key("x-request-id"));
    let ready = running.get("/readyz", None).await;
    assert_eq!(ready.status(), StatusCode::OK);

    // The printed staff token works; the dispatcher delivers the invitation.
    let id = running.create_ann().await;
    let sent = running
        .staff_post(&format!("/staff/accounts/{id}/invitation"), None)
        .await;
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    let mail = wait_for_mail(&running.mail_dir).await;
    assert!(mail.contains("ann@example.com"));
    assert!(
        mail.contains(&format!("{}/portal/invitation?token=", running.base)),
        "{mail}"
    );

    let page = running.get("/portal/sign-in", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let root = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(running.url("/"))
        .send()
        .await
        .unwrap();
    assert_eq!(root.headers()["location"], "/portal/");

    // A caller's request id is kept.
    let traced = running.get("/healthz", Some("abc-123")).await;
    assert_eq!(traced.headers()["x-request-id"], "abc-123");

    // The OpenAPI document of the JSON APIs.
    let document = running.get("/openapi.json", None).await;
    assert_eq!(document.status(), StatusCode::OK);
    assert_eq!(document.headers()["content-type"], "application/json");
    let document: Value = document.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["paths"]["/staff/accounts"]["post"].is_object());

    let metrics = running.get("/metrics", None).await;
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("route=\"/staff/accounts\""), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_runs_on_sqlite_from_its_default_flags() {
    let running = start(None).await;
    a_newcomer_session(&running).await;
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_runs_on_postgres_with_a_database_url() {
    let database = TestDatabase::create().await;
    let running = start(Some(database.url())).await;
    a_newcomer_session(&running).await;
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_shutdown_lets_an_in_flight_request_finish() {
    let running = start(None).await;
    let addr = running.base.trim_start_matches("http://").to_owned();
    let body = json!({ "login": "nobody", "password": "correct horse battery staple" }).to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/portal/sign-in HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (first, rest) = body.split_at(10);
    stream.write_all(first.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Shut down while the request is in flight.
    let Running {
        stop: Some(stop),
        server,
        _dir,
        ..
    } = running
    else {
        unreachable!("a running server has its stop handle")
    };
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!server.is_finished(), "the server waits for the request");

    stream.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .expect("an answer in time")
            .unwrap();
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&answer);
        if text.contains("\r\n\r\n") && text.contains("invalid_credentials") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 401"), "{text}");
    assert!(text.contains("invalid_credentials"), "{text}");
    drop(stream);
    tokio::time::timeout(Duration::from_secs(15), server)
        .await
        .expect("the server stops once the request is done")
        .unwrap()
        .unwrap();
    assert!(
        tokio::net::TcpStream::connect(&addr).await.is_err(),
        "no longer accepting"
    );
}

/// The `Strict-Transport-Security` of a portal page, an operational route
/// and an unknown path.
async fn hsts_of_every_kind_of_route(running: &Running) -> Vec<Option<String>> {
    let mut seen = Vec::new();
    for path in ["/portal/sign-in", "/healthz", "/no-such-page"] {
        let response = running.get(path, None).await;
        let hsts = response.headers().get("strict-transport-security");
        seen.push(hsts.map(|v| v.to_str().unwrap().to_owned()));
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_an_https_public_url_every_route_sends_hsts_as_configured() {
    let running = start_with(None, &["--public-url=https://portal.example.com"]).await;
    let seen = hsts_of_every_kind_of_route(&running).await;
    assert_eq!(seen, vec![Some("max-age=31536000".to_owned()); 3]);
    running.shutdown().await;

    let flags = [
        "--public-url=https://portal.example.com",
        "--hsts-max-age=86400",
        "--hsts-include-subdomains",
    ];
    let running = start_with(None, &flags).await;
    let seen = hsts_of_every_kind_of_route(&running).await;
    let expected = Some("max-age=86400; includeSubDomains".to_owned());
    assert_eq!(seen, vec![expected; 3]);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_plain_http_no_route_sends_hsts() {
    let running = start_with(None, &["--hsts-include-subdomains"]).await;
    assert_eq!(hsts_of_every_kind_of_route(&running).await, vec![None; 3]);
    running.shutdown().await;
}

#[test]
fn help_explains_every_flag_and_its_environment_variable() {
    let help = ServerConfig::command().render_long_help().to_string();
    for (flag, env) in [
        ("--listen", "PORTAL_LISTEN"),
        ("--database-url", "PORTAL_DATABASE_URL"),
        ("--smtp-url", "PORTAL_SMTP_URL"),
        ("--mail-dir", "PORTAL_MAIL_DIR"),
        ("--public-url", "PORTAL_PUBLIC_URL"),
        ("--staff-token", "PORTAL_STAFF_TOKENS"),
        ("--geoip-db", "PORTAL_GEOIP_DB"),
        ("--mail-from", "PORTAL_MAIL_FROM"),
        ("--tenant", "PORTAL_TENANT"),
        ("--captcha-provider", "PORTAL_CAPTCHA_PROVIDER"),
        ("--trusted-proxies", "PORTAL_TRUSTED_PROXIES"),
        ("--hsts-max-age", "PORTAL_HSTS_MAX_AGE"),
        (
            "--hsts-include-subdomains",
            "PORTAL_HSTS_INCLUDE_SUBDOMAINS",
        ),
        ("--mfa", "PORTAL_MFA"),
        ("--mfa-required-from", "PORTAL_MFA_REQUIRED_FROM"),
        ("--mfa-factors", "PORTAL_MFA_FACTORS"),
        ("--secret-key", "PORTAL_SECRET_KEY"),
        ("--data-dir", "PORTAL_DATA_DIR"),
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
        assert!(help.contains(env), "{env} missing from --help");
    }
}

#[tokio::test]
async fn an_unknown_database_scheme_is_refused_with_a_clear_message() {
    let config =
        ServerConfig::try_parse_from(["portal-server", "--database-url=mysql://localhost/portal"])
            .unwrap();
    let error = build_app(&config).await.unwrap_err();
    assert!(error.to_string().contains("sqlite://"), "{error}");
}

/// A sign-in form as a browser holds it after opening the page on one
/// instance: the pre-session cookie and the form's CSRF token.
struct OpenedForm {
    cookie: String,
    csrf_token: String,
}

impl OpenedForm {
    async fn open(running: &Running) -> Self {
        Self::open_at(running, "/portal/sign-in").await
    }

    /// The form of the page at `path`: its cookie and CSRF token.
    async fn open_at(running: &Running, path: &str) -> Self {
        let page = running.get(path, None).await;
        assert_eq!(page.status(), StatusCode::OK);
        let set_cookie = page.headers()["set-cookie"].to_str().unwrap();
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        let csrf_token = csrf_field(&page.text().await.unwrap());
        Self { cookie, csrf_token }
    }

    /// Posts the form with these credentials to `running`: its status.
    async fn sign_in(&self, running: &Running, login: &str, password: &str) -> StatusCode {
        let fields = [("login", login), ("password", password)];
        self.post(running, "/portal/sign-in", &fields)
            .await
            .status()
    }

    /// Posts the form, with `fields`, to `path` of `running` (no redirects
    /// followed).
    async fn post(
        &self,
        running: &Running,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form = vec![("csrf_token", self.csrf_token.as_str())];
        form.extend_from_slice(fields);
        without_redirects()
            .post(running.url(path))
            .header("cookie", &self.cookie)
            .form(&form)
            .send()
            .await
            .unwrap()
    }
}

/// The value of the page's `csrf_token` field.
fn csrf_field(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("a CSRF field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn without_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The console's home page on `running` with the console `cookie`: its
/// status (200 signed in; 303 to the sign-in page otherwise).
async fn console_home(running: &Running, cookie: &str) -> StatusCode {
    without_redirects()
        .get(running.url("/staff/console/"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_sign_in_on_one_instance_holds_on_another_and_after_a_restart_until_signed_out() {
    let database = TestDatabase::create().await;
    let url = database.url();
    let (a, b) = tokio::join!(start(Some(url.clone())), start(Some(url.clone())));
    let form = OpenedForm::open_at(&a, "/staff/console/sign-in").await;
    let signed_in = form
        .post(&a, "/staff/console/sign-in", &[("token", a.token.as_str())])
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find(|c| c.starts_with("portal_staff="))
        .and_then(|c| c.split(';').next())
        .expect("the console cookie")
        .to_owned();
    assert_eq!(console_home(&a, &cookie).await, StatusCode::OK);
    assert_eq!(
        console_home(&b, &cookie).await,
        StatusCode::OK,
        "another instance"
    );
    b.shutdown().await;
    let b_again = start(Some(url)).await;
    assert_eq!(
        console_home(&b_again, &cookie).await,
        StatusCode::OK,
        "after a restart"
    );

    // Signed out on B: no instance opens the console with it any more.
    let home = without_redirects()
        .get(b_again.url("/staff/console/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let signed_out = OpenedForm {
        cookie: cookie.clone(),
        csrf_token: csrf_field(&home),
    }
    .post(&b_again, "/staff/console/sign-out", &[])
    .await;
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    assert_eq!(console_home(&a, &cookie).await, StatusCode::SEE_OTHER);
    assert_eq!(console_home(&b_again, &cookie).await, StatusCode::SEE_OTHER);
    for running in [a, b_again] {
        running.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_from_one_instance_is_accepted_by_another_and_after_a_restart() {
    let database = TestDatabase::create().await;
    let url = database.url();
    // Two instances starting at the same moment on one fresh database.
    let (a, b) = tokio::join!(start(Some(url.clone())), start(Some(url.clone())));
    let password = "correct horse battery staple";
    let id = a.create_ann().await;
    let set = reqwest::Client::new()
        .put(a.url(&format!("/staff/accounts/{id}/password")))
        .bearer_auth(&a.token)
        .json(&json!({ "password": password, "password_confirmation": password, "must_change": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::NO_CONTENT);

    // Rendered by A, posted to B: signed in (a redirect), not refused.
    let from_a = OpenedForm::open(&a).await;
    assert_eq!(
        from_a.sign_in(&b, "ann@example.com", password).await,
        StatusCode::SEE_OTHER
    );

    // Rendered by B, which then restarts: its successor accepts it.
    let from_b = OpenedForm::open(&b).await;
    b.shutdown().await;
    let b_again = start(Some(url.clone())).await;
    assert_eq!(
        from_b.sign_in(&b_again, "ann@example.com", password).await,
        StatusCode::SEE_OTHER
    );

    // An instance given another key by flag refuses the forms of the others.
    let other_key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let keyed = start_with(Some(url), &[&format!("--csrf-key={other_key}")]).await;
    let from_a = OpenedForm::open(&a).await;
    assert_eq!(
        from_a.sign_in(&keyed, "ann@example.com", password).await,
        StatusCode::FORBIDDEN
    );
    for running in [a, b_again, keyed] {
        running.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_1_1_and_http_2_with_prior_knowledge_are_both_answered() {
    let running = start(None).await;
    let http2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();

    let over_2 = http2.get(running.url("/healthz")).send().await.unwrap();
    let over_1 = running.get("/healthz", None).await;

    assert_eq!(over_2.version(), reqwest::Version::HTTP_2);
    assert_eq!(over_2.status(), StatusCode::OK);
    assert_eq!(over_1.version(), reqwest::Version::HTTP_11);
    assert_eq!(over_1.status(), StatusCode::OK);
}
