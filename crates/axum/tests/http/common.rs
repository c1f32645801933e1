//! The harness: a freshly spawned app on port 0 with its own database
//! (a SQLite file in a temporary directory, or a uniquely named PostgreSQL
//! database dropped afterwards), cheap argon2 parameters, a recording
//! mailer fed by the real outbox dispatcher, and a manual clock.

use std::net::SocketAddr;
use std::sync::Arc;

use portal_access_axum::{router, BearerTokens, Hsts, PortalHttp};
use portal_access_core::config::{HashingConfig, PortalConfig};
use portal_access_core::crypto::totp;
use portal_access_core::dispatch::{Dispatcher, DispatcherConfig};
use portal_access_core::service::{PortalService, StaffActor};
use portal_access_core::testing::fakes::{
    CaptchaScript, ManualClock, RecordingMailer, ScriptedCaptcha,
};
use portal_access_core::{AccountStore, Clock, MfaMode, SecretKey, StaffId, TenantId};
use portal_access_postgres::testing::TestDatabase;
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use time::OffsetDateTime;

/// Which store the app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A password every policy accepts.
pub const PASSWORD: &str = "correct horse battery staple";
/// Another one.
pub const OTHER_PASSWORD: &str = "tangerine submarine orchestra";

/// The staff token of `alice` in tenant `firm` (the tenant of the client side).
pub const ALICE: &str = "alice-token-0123456789abcdef";
/// The staff token of `bob` in tenant `other`.
pub const BOB: &str = "bob-token-0123456789abcdef";

/// What the app is built with.
#[derive(Clone)]
pub struct Options {
    /// With a mailer (default) or without one.
    pub mailer: bool,
    /// A CAPTCHA verifier answering from this script.
    pub captcha: Option<CaptchaScript>,
    /// Forgot-password requires a CAPTCHA response.
    pub forgot_requires_captcha: bool,
    /// Request body limit.
    pub body_limit: Option<usize>,
    /// The public URL (default: the app's own `http://` address).
    pub public_url: Option<String>,
    /// The HSTS policy (default: the builder's).
    pub hsts: Option<Hsts>,
    /// Changes to the service configuration.
    pub tune: Option<fn(&mut PortalConfig)>,
    /// SQLite: how long a writer waits for the write lock (default the store's).
    pub sqlite_busy_timeout: Option<std::time::Duration>,
    /// The second-factor policy of every tenant (with a server key when not off).
    pub mfa: MfaMode,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            mailer: true,
            captcha: None,
            forgot_requires_captcha: false,
            body_limit: None,
            public_url: None,
            hsts: None,
            tune: None,
            sqlite_busy_timeout: None,
            mfa: MfaMode::Off,
        }
    }
}

impl Options {
    /// The default options with a CAPTCHA that accepts only `response`.
    pub fn captcha_accepting(response: &str) -> Self {
        Self {
            captcha: Some(CaptchaScript::Accept(response.into())),
            ..Self::default()
        }
    }

    /// The default options without a mailer.
    pub fn without_mailer() -> Self {
        Self {
            mailer: false,
            ..Self::default()
        }
    }

    /// The default options with every tenant's second-factor policy `mfa`.
    pub fn with_mfa(mfa: MfaMode) -> Self {
        Self {
            mfa,
            ..Self::default()
        }
    }
}

/// The store's own pool, to break the database under the app.
enum RawPool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Held only to be dropped with the app: removes the database.
#[allow(dead_code)]
enum DbGuard {
    Sqlite(tempfile::TempDir),
    Postgres(TestDatabase),
}

pub struct TestApp {
    pub base: String,
    pub store: Arc<dyn AccountStore>,
    pub mailer: Arc<RecordingMailer>,
    pub clock: Arc<ManualClock>,
    dispatcher: Dispatcher,
    raw: RawPool,
    server: tokio::task::JoinHandle<()>,
    _db: DbGuard,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, Options::default()).await
    }

    pub async fn spawn_with(backend: Backend, options: Options) -> Self {
        let (store, raw, db): (Arc<dyn AccountStore>, RawPool, DbGuard) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}", dir.path().join("portal.db").display());
                let mut store_options = portal_access_sqlite::SqliteStoreOptions::default();
                if let Some(timeout) = options.sqlite_busy_timeout {
                    store_options.busy_timeout = timeout;
                }
                let store = portal_access_sqlite::SqliteStore::connect_with(&url, store_options)
                    .await
                    .unwrap_or_else(|e| panic!("open SQLite at {url}: {e:?}"));
                let raw = RawPool::Sqlite(store.pool().clone());
                (Arc::new(store), raw, DbGuard::Sqlite(dir))
            }
            Backend::Postgres => {
                let db = TestDatabase::create().await;
                let store = db.store(8).await;
                let raw = RawPool::Postgres(store.pool().clone());
                (Arc::new(store), raw, DbGuard::Postgres(db))
            }
        };

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let addr: SocketAddr = listener.local_addr().expect("local address");
        let base = format!("http://{addr}");

        let mut config = PortalConfig::new(options.public_url.clone().unwrap_or(base.clone()));
        config.hashing = HashingConfig {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
            pool_size: 2,
        };
        config.forgot_requires_captcha = options.forgot_requires_captcha;
        config.mfa.mode = options.mfa;
        config.secret_key = Some(SecretKey::from_bytes([21; 32]));
        if let Some(tune) = options.tune {
            tune(&mut config);
        }
        let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
        let mailer = Arc::new(RecordingMailer::new());
        let mut builder = PortalService::builder(store.clone())
            .config(config)
            .clock(clock.clone());
        if options.mailer {
            builder = builder.mailer(mailer.clone());
        }
        if let Some(script) = options.captcha.clone() {
            builder = builder.captcha(Arc::new(ScriptedCaptcha::new(script)));
        }
        let service = builder.build().expect("a valid service configuration");

        let mut tokens = BearerTokens::new();
        tokens.insert(ALICE.to_owned().into(), staff("firm", "alice"));
        tokens.insert(BOB.to_owned().into(), staff("other", "bob"));
        let mut http = PortalHttp::builder(service.clone(), Arc::new(tokens))
            .tenant(TenantId::new("firm").unwrap());
        if let Some(limit) = options.body_limit {
            http = http.body_limit(limit);
        }
        if let Some(hsts) = options.hsts {
            http = http.hsts(hsts);
        }
        let http = http.build().expect("a valid HTTP configuration");

        let app = router(http.clone())
            .merge(portal_access_axum::staff_console_router(
                http,
                portal_access_axum::ConsoleOptions::default(),
            ))
            .layer(axum::middleware::from_fn(
                crate::openapi::documented_answers,
            ))
            .into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        let dispatcher = Dispatcher::new(
            store.clone(),
            mailer.clone(),
            clock.clone(),
            DispatcherConfig::default(),
        );
        Self {
            base,
            store,
            mailer,
            clock,
            dispatcher,
            raw,
            server,
            _db: db,
        }
    }

    /// Breaks the database under the app: the accounts table disappears.
    pub async fn break_database(&self) {
        let sql = "ALTER TABLE accounts RENAME TO accounts_gone";
        match &self.raw {
            RawPool::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
            RawPool::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
        }
        .expect("rename the accounts table");
    }

    /// PostgreSQL: terminates every other backend connected to the app's
    /// database (what a failover or an administrator does); returns how many.
    pub async fn terminate_connections(&self) -> i64 {
        let RawPool::Postgres(pool) = &self.raw else {
            panic!("only PostgreSQL has backends to terminate")
        };
        let sql = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                   WHERE datname = current_database() AND pid <> pg_backend_pid()";
        sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await
            .expect("terminate")
    }

    /// SQLite: a second connection takes the write lock (`BEGIN IMMEDIATE`)
    /// and holds it for `held`, as another process writing would.
    pub async fn hold_write_lock(&self, held: std::time::Duration) {
        let RawPool::Sqlite(pool) = &self.raw else {
            panic!("only SQLite has one write lock")
        };
        let mut connection = pool.acquire().await.expect("a connection");
        // The app may hold the lock past this connection's busy timeout on
        // a loaded machine: wait for it, as a writing process would.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while let Err(error) = sqlx::raw_sql("BEGIN IMMEDIATE")
            .execute(&mut *connection)
            .await
        {
            assert!(
                std::time::Instant::now() < deadline,
                "take the write lock: {error:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        tokio::time::sleep(held).await;
        sqlx::raw_sql("ROLLBACK")
            .execute(&mut *connection)
            .await
            .expect("release the write lock");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A browser-like client: a cookie store, no automatic redirects.
    pub fn client(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client")
    }

    /// A staff request of alice (tenant `firm`).
    pub fn staff(&self, method: Method, path: &str) -> RequestBuilder {
        self.client()
            .request(method, self.url(path))
            .bearer_auth(ALICE)
    }

    /// A staff request of bob (tenant `other`).
    pub fn other_staff(&self, method: Method, path: &str) -> RequestBuilder {
        self.client()
            .request(method, self.url(path))
            .bearer_auth(BOB)
    }

    /// Alice's call without a body.
    pub async fn staff_call(&self, method: Method, path: &str) -> Response {
        sent(self.staff(method, path)).await
    }

    /// Alice's call with a JSON body.
    pub async fn staff_json(&self, method: Method, path: &str, body: Value) -> Response {
        sent(self.staff(method, path).json(&body)).await
    }

    /// Alice's `GET` of a JSON answer.
    pub async fn staff_get(&self, path: &str) -> Value {
        self.staff_call(Method::GET, path)
            .await
            .json()
            .await
            .unwrap()
    }

    /// Alice creates an account in tenant `firm` with `body`.
    pub async fn staff_create(&self, body: Value) -> Response {
        self.staff_json(Method::POST, "/staff/accounts", body).await
    }

    /// Bob creates an account in tenant `other` with `body`.
    pub async fn other_staff_create(&self, body: Value) -> Response {
        self.other_staff_json(Method::POST, "/staff/accounts", body)
            .await
    }

    /// Bob's call with a JSON body.
    pub async fn other_staff_json(&self, method: Method, path: &str, body: Value) -> Response {
        sent(self.other_staff(method, path).json(&body)).await
    }

    /// The staff status of an account (as alice).
    pub async fn status_of(&self, id: &str) -> Value {
        let response = self
            .staff_call(Method::GET, &format!("/staff/accounts/{id}"))
            .await;
        response.json().await.unwrap()
    }

    /// A client's POST with a JSON body.
    pub async fn post_json(&self, client: &Client, path: &str, body: Value) -> Response {
        sent(client.post(self.url(path)).json(&body)).await
    }

    /// A client's PUT with a JSON body.
    pub async fn put_json(&self, client: &Client, path: &str, body: Value) -> Response {
        sent(client.put(self.url(path)).json(&body)).await
    }

    /// Signs in through the client API, with a fresh client.
    pub async fn api_sign_in(&self, login: &str, password: &str) -> Response {
        let body = json!({ "login": login, "password": password });
        self.post_json(&self.client(), "/api/portal/sign-in", body)
            .await
    }

    /// `GET /api/portal/me` of a signed-in client.
    pub async fn me(&self, client: &Client) -> Value {
        sent(client.get(self.url("/api/portal/me")))
            .await
            .json()
            .await
            .unwrap()
    }

    /// The HTML of a page.
    pub async fn page(&self, client: &Client, path: &str) -> String {
        sent(client.get(self.url(path))).await.text().await.unwrap()
    }

    /// A browser's form POST.
    pub async fn post_form(&self, client: &Client, path: &str, form: &[(&str, &str)]) -> Response {
        sent(client.post(self.url(path)).form(form)).await
    }

    /// A browser's form POST: this CSRF token first, then `fields`.
    pub async fn submit(
        &self,
        client: &Client,
        path: &str,
        csrf: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let mut form = vec![("csrf_token", csrf)];
        form.extend_from_slice(fields);
        self.post_form(client, path, &form).await
    }

    /// Staff turn the account's access on or off over the API.
    pub async fn set_access(&self, id: &str, enabled: bool) -> Response {
        let path = format!("/staff/accounts/{id}/access");
        self.staff_json(Method::PUT, &path, json!({ "enabled": enabled }))
            .await
    }

    /// Creates an account in tenant `firm`; returns its id.
    pub async fn create_account(&self, email: &str) -> String {
        let response = self
            .staff(Method::POST, "/staff/accounts")
            .json(&json!({ "email": email }))
            .sent()
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "create {email}");
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().expect("an id").to_owned()
    }

    /// Delivers the outbox through the recording mailer.
    pub async fn deliver_mail(&self) {
        self.dispatcher.run_once().await.expect("dispatch");
    }

    /// The token of the newest link mailed to `email`.
    pub async fn latest_token(&self, email: &str) -> String {
        self.deliver_mail().await;
        let messages = self.mailer.sent_to(email);
        let message = messages
            .iter()
            .rev()
            .find(|m| m.text_body.contains("token="))
            .unwrap_or_else(|| panic!("no link mailed to {email}: {messages:#?}"));
        token_in(&message.text_body)
    }

    /// Creates and invites an account; returns (id, invitation token).
    pub async fn invited(&self, email: &str) -> (String, String) {
        let id = self.create_account(email).await;
        let response = self
            .staff(Method::POST, &format!("/staff/accounts/{id}/invitation"))
            .sent()
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        (id.clone(), self.latest_token(email).await)
    }

    /// An account that accepted its invitation, and a client signed in to it.
    pub async fn signed_in(&self, email: &str, username: &str) -> (String, Client) {
        let (id, token) = self.invited(email).await;
        let client = self.client();
        let response = client
            .post(self.url("/api/portal/invitation/accept"))
            .json(&json!({
                "token": token, "username": username,
                "password": PASSWORD, "password_confirmation": PASSWORD,
            }))
            .sent()
            .await;
        assert_eq!(response.status(), StatusCode::OK, "accept invitation");
        (id, client)
    }
}

/// Sends a request (a transport error fails the test).
pub async fn sent(request: RequestBuilder) -> Response {
    request.sent().await
}

/// `.sent()`: sends a request that must reach the server (a transport
/// error fails the test).
pub trait Sent {
    /// Sends it; the answer, whatever its status.
    async fn sent(self) -> Response;
}

impl Sent for RequestBuilder {
    async fn sent(self) -> Response {
        self.send().await.unwrap()
    }
}

fn staff(tenant: &str, id: &str) -> StaffActor {
    StaffActor {
        tenant: TenantId::new(tenant).unwrap(),
        staff_id: StaffId::new(id).unwrap(),
    }
}

/// The 43-character token after `token=` in a text.
pub fn token_in(text: &str) -> String {
    let start = text.find("token=").expect("a link with a token") + "token=".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// Asserts an error answer: status, code, and the JSON shape.
pub async fn assert_error(response: Response, status: StatusCode, code: &str) -> Value {
    let actual = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(actual, status, "status of {body}");
    assert_eq!(body["error"]["code"], code, "code of {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "a message in {body}"
    );
    body
}

/// The value of `name="field" value="…"` in a page's HTML.
pub fn hidden_field(html: &str, field: &str) -> String {
    let marker = format!("name=\"{field}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {field} in {html}"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The JSON body of an answer.
pub async fn body(response: Response) -> Value {
    response.json().await.unwrap()
}

/// RFC 4648 base32 (no padding), as authenticator apps read it.
pub fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in text.chars() {
        buffer = (buffer << 5) | ALPHABET.find(c).expect("base32") as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// The code an authenticator app shows at the app's clock, `steps` steps off.
pub fn totp_code(app: &TestApp, secret: &[u8], steps: i64) -> String {
    let step = totp::step_of(app.clock.now())
        .checked_add_signed(steps)
        .unwrap();
    format!("{:06}", totp::code_at(secret, step))
}

/// Enrols an authenticator over the API for a signed-in `client`: the
/// secret and the recovery codes.
pub async fn enrol_totp(app: &TestApp, client: &Client) -> (Vec<u8>, Vec<String>) {
    let started = body(
        app.post_json(client, "/api/portal/mfa/totp", json!({}))
            .await,
    )
    .await;
    let secret = base32_decode(started["secret"].as_str().unwrap());
    assert!(started["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    assert!(started["qr_svg"].as_str().unwrap().starts_with("<svg "));
    let confirm = json!({ "code": totp_code(app, &secret, 0) });
    let response = app
        .post_json(client, "/api/portal/mfa/totp/confirm", confirm)
        .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "confirm the authenticator"
    );
    let codes = body(response).await["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, codes)
}

/// The body of an answer as text.
pub async fn body_text(response: Response) -> String {
    response.text().await.unwrap()
}

/// Every `Set-Cookie` header of an answer.
pub fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The `Set-Cookie` header of an answer that sets the cookie `name`.
pub fn set_cookie(response: &Response, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    set_cookies(response)
        .into_iter()
        .find(|c| c.starts_with(&prefix))
}

/// Asserts that `text` holds `part`, showing the whole text when it does not.
#[track_caller]
pub fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "{text}");
}
