//! The adapters the command line chooses: the mailer (SMTP or a mail
//! directory), GeoIP, CAPTCHA, and the outbox dispatcher task.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use portal_access::captcha::{Provider, SiteVerifyCaptcha};
use portal_access::dispatch::{Dispatcher, DispatcherConfig, Lane, WebhookLane};
use portal_access::geoip::MaxMindGeoIp;
use portal_access::smtp::{DirectoryMailer, MessageComposer, Sender, SmtpMailer};
use portal_access::webhook::WebhookEndpoints;
use portal_access::{AccountStore, CaptchaVerifier, GeoIpLookup, Mailer, SystemClock};
use secrecy::ExposeSecret;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cli::{CaptchaProvider, ServerConfig};
use crate::error::{portal_access_error_chain, StartError};

/// The mailer of the configuration: SMTP with `--smtp-url`, else the
/// directory mailer (and its directory).
pub async fn mailer(
    config: &ServerConfig,
) -> Result<(Arc<dyn Mailer>, Option<PathBuf>), StartError> {
    let from: Sender = config
        .mail_from
        .parse()
        .map_err(|e| StartError::Mail(Box::new(e)))?;
    match &config.smtp_url {
        Some(url) => {
            let mailer = SmtpMailer::builder(url.expose_secret(), MessageComposer::new(from))
                .map_err(|e| StartError::Mail(Box::new(e)))?
                .build()
                .map_err(|e| StartError::Mail(Box::new(e)))?;
            match mailer.check_connection().await {
                Ok(()) => tracing::info!(
                    host = mailer.endpoint().host(),
                    port = mailer.endpoint().port(),
                    "SMTP server reachable"
                ),
                // Not fatal: the outbox keeps messages and retries.
                Err(error) => tracing::warn!(
                    host = mailer.endpoint().host(),
                    port = mailer.endpoint().port(),
                    error = %portal_access_error_chain(&error),
                    "SMTP server not reachable at start; messages wait in the outbox"
                ),
            }
            Ok((Arc::new(mailer), None))
        }
        None => {
            let mailer = DirectoryMailer::new(&config.mail_dir, MessageComposer::new(from))
                .map_err(|e| StartError::Mail(Box::new(e)))?;
            tracing::info!(dir = %config.mail_dir.display(), "mail is written to a directory (development mailer)");
            Ok((Arc::new(mailer), Some(config.mail_dir.clone())))
        }
    }
}

/// The GeoIP lookup of `--geoip-db`, if given.
pub fn geoip(config: &ServerConfig) -> Result<Option<Arc<dyn GeoIpLookup>>, StartError> {
    let Some(path) = &config.geoip_db else {
        return Ok(None);
    };
    let geoip = MaxMindGeoIp::open(path).map_err(|e| StartError::GeoIp(Box::new(e)))?;
    tracing::info!(path = %path.display(), database_type = geoip.database_type(), "GeoIP database loaded");
    Ok(Some(Arc::new(geoip)))
}

/// The CAPTCHA verifier of `--captcha-provider`, if given.
pub fn captcha(config: &ServerConfig) -> Result<Option<Arc<dyn CaptchaVerifier>>, StartError> {
    let (Some(provider), Some(secret)) = (config.captcha_provider, &config.captcha_secret) else {
        return Ok(None);
    };
    let provider = match provider {
        CaptchaProvider::Hcaptcha => Provider::HCaptcha,
        CaptchaProvider::Recaptcha => Provider::RecaptchaV2,
        CaptchaProvider::Turnstile => Provider::Turnstile,
    };
    let captcha = SiteVerifyCaptcha::builder(provider, secret.clone())
        .build()
        .map_err(|e| StartError::Captcha(Box::new(e)))?;
    Ok(Some(Arc::new(captcha)))
}

/// The outbox dispatchers, ready to run in-process: mail, and webhooks
/// when endpoints are configured (each with its own slots).
pub struct DispatcherTask {
    dispatcher: Dispatcher,
    webhooks: Option<Dispatcher<WebhookLane>>,
}

impl DispatcherTask {
    /// A dispatcher over `store` sending through `mailer`, and one posting
    /// to `webhooks` (if any).
    pub fn new(
        store: Arc<dyn AccountStore>,
        mailer: Arc<dyn Mailer>,
        webhooks: WebhookEndpoints,
    ) -> Result<Self, StartError> {
        let dispatcher = Dispatcher::new(
            store.clone(),
            mailer,
            Arc::new(SystemClock),
            DispatcherConfig::default(),
        )
        .with_webhooks(webhooks.clone());
        let webhooks = if webhooks.is_empty() {
            None
        } else {
            let sender = crate::webhooks::sender()?;
            Some(Dispatcher::for_webhooks(
                store,
                Arc::new(sender),
                webhooks,
                Arc::new(SystemClock),
                crate::webhooks::dispatcher_config(),
            ))
        };
        Ok(Self {
            dispatcher,
            webhooks,
        })
    }

    /// Runs until `stop` turns true, then finishes the deliveries in hand.
    pub fn spawn(self, stop: watch::Receiver<bool>) -> JoinHandle<()> {
        let mail = tokio::spawn(run(self.dispatcher, stopped(stop.clone()), "mail"));
        let webhooks = self
            .webhooks
            .map(|webhooks| tokio::spawn(run(webhooks, stopped(stop), "webhook")));
        tokio::spawn(async move {
            let _ = mail.await;
            if let Some(webhooks) = webhooks {
                let _ = webhooks.await;
            }
        })
    }
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

async fn run<L: Lane>(
    dispatcher: Dispatcher<L>,
    shutdown: impl Future<Output = ()>,
    what: &'static str,
) {
    dispatcher.run(shutdown).await;
    tracing::info!("{what} dispatcher stopped");
}
