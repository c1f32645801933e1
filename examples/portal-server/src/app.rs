//! The application: the store, the mailer, the service, the routers, the
//! outbox dispatcher, and serving them until a shutdown signal.
//!
//! [`build_app`] does everything but listen, so tests (and the browser
//! journey) spawn the same application on port 0.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use portal_access::axum::{
    router as portal_router, staff_console_router, BearerTokens, CaptchaWidget, ConsoleOptions,
    CsrfKey, Hsts, PortalHttp, TrustedProxies,
};
use portal_access::config::{HashingConfig, PortalConfig};
use portal_access::service::{PortalService, StaffActor};
use portal_access::{AccountStore, Mailer, OsRandom, SecureRandom, StaffId, TenantId};
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::cli::{redact_url, CaptchaProvider, MfaFlag, ServerConfig, StaffToken};
pub use crate::error::{portal_access_error_chain, StartError};
use crate::secret_key::{server_key, KeySource};

/// The application, built and ready to serve.
pub struct App {
    /// Every route: the portal (staff API, client API, pages), `/healthz`,
    /// `/readyz`, `/metrics`, `/openapi.json`.
    pub router: Router,
    /// The service.
    pub service: PortalService,
    /// The staff token generated because none was given on the command line.
    pub generated_token: Option<StaffToken>,
    /// Where the directory mailer writes (none with SMTP).
    pub mail_dir: Option<std::path::PathBuf>,
    /// Where the second factors' server key came from (none: `--mfa off`
    /// and no `--secret-key`).
    pub key_source: Option<KeySource>,
    dispatcher: crate::mail::DispatcherTask,
    /// With --audit-retention-days: the store to prune, and the days kept.
    retention: Option<(Arc<dyn AccountStore>, u32)>,
    shutdown_grace: Duration,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("service", &self.service)
            .field("mail_dir", &self.mail_dir)
            .finish_non_exhaustive()
    }
}

/// The bounds (seconds) of the request latency histogram's buckets.
const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide Prometheus recorder (installed once, whatever the
/// number of apps a test process builds).
fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(&LATENCY_BUCKETS)
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "latency buckets refused; histograms become summaries");
                PrometheusBuilder::new()
            });
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics shows only ours");
        }
        handle
    })
}

/// Opens the store named by the database URL, creating a SQLite file's
/// directory, and runs the migrations.
pub async fn open_store(url: &str) -> Result<Arc<dyn AccountStore>, StartError> {
    let store_error = |source| StartError::Store {
        url: redact_url(url),
        source,
    };
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = portal_access::postgres::PostgresStore::connect(url)
            .await
            .map_err(store_error)?;
        Ok(Arc::new(store))
    } else if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest.trim_start_matches("//");
        let path = path.split('?').next().unwrap_or_default();
        if !path.is_empty() && !path.contains(":memory:") {
            if let Some(dir) = std::path::Path::new(path).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).map_err(|source| StartError::DatabaseDir {
                        path: path.to_owned(),
                        source,
                    })?;
                }
            }
        }
        let store = portal_access::sqlite::SqliteStore::connect(url)
            .await
            .map_err(store_error)?;
        Ok(Arc::new(store))
    } else {
        Err(StartError::DatabaseScheme(url.to_owned()))
    }
}

/// A fresh staff token: 32 random bytes from the operating system, URL-safe.
fn generate_token() -> SecretString {
    let mut bytes = [0u8; 32];
    OsRandom.fill(&mut bytes);
    SecretString::from(URL_SAFE_NO_PAD.encode(bytes))
}

/// Builds the application from its configuration: opens and migrates the
/// store, sets up the mailer, the service and the routes. Nothing listens
/// yet and the dispatcher does not run yet ([`App::serve`] starts both).
pub async fn build_app(config: &ServerConfig) -> Result<App, StartError> {
    let tenant = TenantId::new(config.tenant.clone()).map_err(|source| StartError::Id {
        what: "--tenant",
        source,
    })?;
    let store = open_store(&config.database_url).await?;
    tracing::info!(database = %redact_url(&config.database_url), "database ready (migrations applied)");

    let (mailer, mail_dir) = crate::mail::mailer(config).await?;

    let mut portal = PortalConfig::new(config.public_url());
    portal.hashing = HashingConfig {
        memory_kib: config.argon2_memory_kib,
        iterations: config.argon2_iterations,
        pool_size: config
            .hash_pool_size
            .unwrap_or(HashingConfig::default().pool_size),
        ..HashingConfig::default()
    };
    portal.forgot_requires_captcha = config.forgot_requires_captcha;
    portal.staff_notice_address = config.staff_notice_address.clone();
    portal.time_zone = config.time_zone.clone();
    portal.mfa = config.mfa_policy();
    portal.webhooks = crate::webhooks::endpoints(config)?;
    let mut key_source = None;
    if config.mfa != MfaFlag::Off || config.secret_key.is_some() {
        let (key, source) = server_key(config.secret_key.as_ref(), &config.data_dir)?;
        portal.secret_key = Some(key);
        key_source = Some(source);
    }

    let webhooks = portal.webhooks.clone();
    let mut builder = PortalService::builder(store.clone())
        .config(portal)
        .mailer(mailer.clone());
    if let Some(geoip) = crate::mail::geoip(config)? {
        builder = builder.geoip(geoip);
    }
    if let Some(captcha) = crate::mail::captcha(config)? {
        builder = builder.captcha(captcha);
    }
    if let Some(dir) = &config.locales_dir {
        let locales = portal_access::i18n::Locales::builtin()
            .with_dir(dir)
            .map_err(StartError::Locales)?;
        builder = builder.locales(Arc::new(locales));
    }
    let service = builder.build().map_err(StartError::Service)?;

    let mut tokens = BearerTokens::new();
    let mut generated_token = None;
    let staff_actor = |id: &str| -> Result<StaffActor, StartError> {
        Ok(StaffActor {
            tenant: tenant.clone(),
            staff_id: StaffId::new(id).map_err(|source| StartError::Id {
                what: "--staff-token id",
                source,
            })?,
        })
    };
    for token in &config.staff_tokens {
        tokens.insert(token.token.clone(), staff_actor(&token.id)?);
    }
    if tokens.is_empty() {
        let token = generate_token();
        tokens.insert(token.clone(), staff_actor("admin")?);
        generated_token = Some(StaffToken {
            id: "admin".into(),
            token,
        });
    }

    let mut http = PortalHttp::builder(service.clone(), Arc::new(tokens))
        .tenant(tenant)
        .hsts(Hsts {
            max_age: config.hsts_max_age,
            include_subdomains: config.hsts_include_subdomains,
        });
    if let Some(list) = &config.trusted_proxies {
        http = http.trusted_proxies(
            TrustedProxies::parse(list).map_err(|e| StartError::Http(Box::new(e)))?,
        );
    }
    let csrf = match &config.csrf_key {
        Some(key) => {
            CsrfKey::from_base64(key.expose_secret()).map_err(|e| StartError::Http(Box::new(e)))?
        }
        // Generated by the first instance ever started on this database and
        // kept there: every instance and every restart shares it.
        None => CsrfKey::shared(store.as_ref(), &OsRandom)
            .await
            .map_err(|e| StartError::Http(Box::new(e)))?,
    };
    http = http.csrf_key(csrf);
    let http = http.build().map_err(|e| StartError::Http(Box::new(e)))?;

    let dispatcher = crate::mail::DispatcherTask::new(store.clone(), mailer, webhooks)?;
    let retention = config
        .audit_retention_days
        .map(|days| (store.clone(), days));
    let console = console_options(config);
    let router = routes(http, console, store, prometheus().clone());
    Ok(App {
        router,
        service,
        generated_token,
        mail_dir,
        key_source,
        dispatcher,
        retention,
        shutdown_grace: Duration::from_secs(config.shutdown_grace_secs),
    })
}

#[derive(Clone)]
struct Ops {
    store: Arc<dyn AccountStore>,
    prometheus: PrometheusHandle,
}

/// The staff console's widget: the provider of `--captcha-provider` with
/// `--captcha-site-key`.
fn console_options(config: &ServerConfig) -> ConsoleOptions {
    let (Some(provider), Some(key)) = (config.captcha_provider, &config.captcha_site_key) else {
        return ConsoleOptions::default();
    };
    let key = key.clone();
    ConsoleOptions::default().captcha_widget(match provider {
        CaptchaProvider::Hcaptcha => CaptchaWidget::HCaptcha(key),
        CaptchaProvider::Recaptcha => CaptchaWidget::Recaptcha(key),
        CaptchaProvider::Turnstile => CaptchaWidget::Turnstile(key),
    })
}

/// The portal's routes plus the operational ones, with request ids,
/// tracing and metrics around them.
fn routes(
    http: PortalHttp,
    console: ConsoleOptions,
    store: Arc<dyn AccountStore>,
    prometheus: PrometheusHandle,
) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let ops = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_page))
        .route("/openapi.json", get(openapi_document))
        .with_state(Ops { store, prometheus });
    let portal_base = http.portal_base().to_owned();
    let hsts = http.strict_transport_security().cloned();
    let router = Router::new()
        .merge(portal_router(http.clone()))
        .merge(staff_console_router(http, console))
        .merge(ops)
        .route(
            "/",
            get(move || async move { axum::response::Redirect::to(&format!("{portal_base}/")) }),
        )
        .layer(middleware::from_fn(record_metrics));
    // The portal's routers add HSTS themselves; this covers the
    // operational routes, the redirect of `/` and unknown paths.
    let router = match hsts {
        Some(value) => router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            value,
        )),
        None => router,
    };
    router
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                    request_id = %id,
                )
            }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// The OpenAPI 3.1 document of the staff and client JSON APIs.
async fn openapi_document() -> Response {
    match portal_access::axum::openapi_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(error) => {
            tracing::error!(%error, "the OpenAPI document did not serialize");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(ops): State<Ops>) -> Response {
    match ops.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(error) => {
            tracing::warn!(error = %portal_access_error_chain(&error), "readiness check failed: store unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "store unreachable\n").into_response()
        }
    }
}

async fn metrics_page(State(ops): State<Ops>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        ops.prometheus.render(),
    )
        .into_response()
}

/// Middleware: request count and latency per route and status.
async fn record_metrics(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
}

impl App {
    /// Serves on `listener` until `shutdown` resolves; then stops accepting,
    /// lets in-flight requests finish and the dispatcher finish its current
    /// batch (each within the shutdown grace), and returns.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let dispatcher: JoinHandle<()> = self.dispatcher.spawn(stop_rx.clone());
        if let Some((store, days)) = self.retention {
            crate::audit::spawn_retention(store, days);
        }
        let server = tokio::spawn(crate::serve::serve(listener, self.router, stop_rx.clone()));
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests and the current mail batch");
        let _ = stop_tx.send(true);
        let grace = self.shutdown_grace;
        let served = match tokio::time::timeout(grace, server).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(join)) => Err(std::io::Error::other(join)),
            Err(_) => {
                tracing::warn!(?grace, "in-flight requests did not finish in time");
                Ok(())
            }
        };
        if tokio::time::timeout(grace, dispatcher).await.is_err() {
            tracing::warn!(
                ?grace,
                "the mail dispatcher did not finish its batch in time"
            );
        }
        tracing::info!("stopped");
        served
    }
}

/// Resolves at SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Re-exported so `main` and tests name the mailer type in one place.
pub type SharedMailer = Arc<dyn Mailer>;
