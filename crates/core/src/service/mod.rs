//! The service: loads state, calls a workflow with `now` and fresh random
//! material, renders the mail it asks for, and commits the decision through
//! the store in one transaction.
//!
//! ```
//! use std::sync::Arc;
//! use portal_access_core::{testing::MemoryStore, service::PortalService, config::PortalConfig};
//!
//! let service = PortalService::builder(Arc::new(MemoryStore::new()))
//!     .config(PortalConfig::new("https://portal.example.com"))
//!     .build()
//!     .expect("valid configuration");
//! assert!(service.mailer().is_none());
//! ```

mod client;
#[cfg(test)]
mod mock_tests;
mod notice;
mod provenance;
mod staff;
pub(crate) mod transaction;

pub use client::*;
pub use notice::PasswordChangeReason;
pub use staff::*;

use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::broadcast;

use crate::config::PortalConfig;
use crate::hashing::{HashError, Hasher};
use crate::mail::{TemplateError, Templates};
use crate::workflow::{Decision, MailIntent, Refusal};
use crate::{
    Account, AccountId, AccountStore, Actor, CaptchaError, CaptchaVerifier, Clock, EventId,
    EventSink, GeoIpLookup, HostEvent, Mailer, MessageId, NewMessage, OsRandom, RawToken,
    SecureRandom, SessionRecord, StaffId, StoreError, SystemClock, TenantId,
};

pub use crate::hashing::Verification;

/// A staff member acting through the staff API, scoped to their tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffActor {
    /// Their tenant: every call sees only this tenant's accounts.
    pub tenant: TenantId,
    /// Their id.
    pub staff_id: StaffId,
}

impl StaffActor {
    /// As an audit actor.
    pub fn actor(&self) -> Actor {
        Actor::Staff {
            tenant: self.tenant.clone(),
            staff_id: self.staff_id.clone(),
        }
    }
}

/// An infrastructure failure: logged, never shown to a user.
#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    /// The store failed.
    #[error("store failure")]
    Store(#[source] StoreError),
    /// Hashing failed.
    #[error("hashing failure")]
    Hash(#[source] HashError),
    /// A template failed to render.
    #[error("template failure")]
    Template(#[source] TemplateError),
    /// The CAPTCHA provider failed.
    #[error("captcha provider failure")]
    Captcha(#[source] CaptchaError),
    /// The account kept changing under us past the configured retries.
    #[error("the account kept changing concurrently; gave up after retries")]
    PersistentConflict,
}

/// What a service call returns on failure: a refusal the user can hit
/// (with a stable code), or an infrastructure failure.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError<E: Refusal> {
    /// Refused, for a reason the user can act on.
    #[error(transparent)]
    Refused(E),
    /// Something underneath failed.
    #[error("infrastructure failure")]
    Infrastructure(#[source] InfraError),
}

impl<E: Refusal> ServiceError<E> {
    /// The refusal, if it is one.
    pub fn refusal(&self) -> Option<&E> {
        match self {
            Self::Refused(e) => Some(e),
            Self::Infrastructure(_) => None,
        }
    }
}

impl<E: Refusal> ServiceError<E> {
    /// The same failure with the refusal converted (into an operation's
    /// wider refusal type, say).
    pub fn map_refusal<F: Refusal>(self, convert: impl FnOnce(E) -> F) -> ServiceError<F> {
        match self {
            Self::Refused(e) => ServiceError::Refused(convert(e)),
            Self::Infrastructure(e) => ServiceError::Infrastructure(e),
        }
    }
}

impl<E: Refusal> From<InfraError> for ServiceError<E> {
    fn from(e: InfraError) -> Self {
        Self::Infrastructure(e)
    }
}

impl<E: Refusal> From<HashError> for ServiceError<E> {
    fn from(e: HashError) -> Self {
        Self::Infrastructure(InfraError::Hash(e))
    }
}

impl<E: Refusal> From<TemplateError> for ServiceError<E> {
    fn from(e: TemplateError) -> Self {
        Self::Infrastructure(InfraError::Template(e))
    }
}

/// Events the host can subscribe to ([`PortalService::subscribe`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortalEvent {
    /// A client confirmed "this wasn't me": sessions revoked, password cleared.
    AccountSecured {
        /// Tenant.
        tenant: TenantId,
        /// Account.
        account_id: AccountId,
        /// When.
        at: OffsetDateTime,
    },
}

/// A configuration the service cannot run with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The argon2 parameters are invalid.
    #[error("invalid hashing configuration")]
    Hashing(#[source] HashError),
    /// The public base URL is not http(s).
    #[error("the public base URL must start with http:// or https://, not {0:?}")]
    PublicUrl(String),
    /// A template override does not compile or render.
    #[error("invalid template override")]
    Templates(#[source] TemplateError),
    /// A second-factor policy other than `off` needs `PortalConfig::secret_key`.
    #[error(
        "a second-factor policy other than off needs a secret key (PortalConfig::secret_key, \
         --secret-key): it seals TOTP secrets and keys the hash of one-time codes"
    )]
    MissingSecretKey,
}

/// The built service: the builder's parts, checked, with what they made.
struct Inner {
    parts: PortalServiceBuilder,
    hasher: Hasher,
    events: broadcast::Sender<PortalEvent>,
}

/// The portal service. Cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct PortalService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PortalService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalService")
            .field("public_base_url", &self.inner.parts.config.public_base_url)
            .field("mailer", &self.inner.parts.mailer.is_some())
            .field("captcha", &self.inner.parts.captcha.is_some())
            .field("geoip", &self.inner.parts.geoip.is_some())
            .finish()
    }
}

/// Builds a [`PortalService`].
pub struct PortalServiceBuilder {
    store: Arc<dyn AccountStore>,
    mailer: Option<Arc<dyn Mailer>>,
    captcha: Option<Arc<dyn CaptchaVerifier>>,
    geoip: Option<Arc<dyn GeoIpLookup>>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn SecureRandom>,
    config: PortalConfig,
    templates: Templates,
    locales: Arc<crate::i18n::Locales>,
    event_sink: Option<Arc<dyn EventSink>>,
}

impl PortalServiceBuilder {
    /// The configuration (default: `PortalConfig::new("http://127.0.0.1:8080")`).
    pub fn config(mut self, config: PortalConfig) -> Self {
        self.config = config;
        self
    }

    /// The mailer. Without one, anything that must send a link is refused
    /// with `mailer_not_configured` (the outbox is still written for notices).
    pub fn mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// The CAPTCHA verifier (human verification of staff; optional on forgot-password).
    pub fn captcha(mut self, captcha: Arc<dyn CaptchaVerifier>) -> Self {
        self.captcha = Some(captcha);
        self
    }

    /// The GeoIP lookup for notices.
    pub fn geoip(mut self, geoip: Arc<dyn GeoIpLookup>) -> Self {
        self.geoip = Some(geoip);
        self
    }

    /// The clock (default: system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The random source (default: the OS CSPRNG).
    pub fn random(mut self, random: Arc<dyn SecureRandom>) -> Self {
        self.random = random;
        self
    }

    /// The in-process [`EventSink`] (default: none): it is handed each
    /// commit's host events after the commit, at most once.
    pub fn event_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.event_sink = Some(sink);
        self
    }

    /// Mail templates (default: the built-in ones).
    pub fn templates(mut self, templates: Templates) -> Self {
        self.templates = templates;
        self
    }

    /// The languages of pages and mail (default: English and Spanish as
    /// shipped; see [`Locales::with_dir`](crate::i18n::Locales::with_dir)).
    pub fn locales(mut self, locales: Arc<crate::i18n::Locales>) -> Self {
        self.locales = locales;
        self
    }

    /// Checks the configuration and builds the service.
    pub fn build(self) -> Result<PortalService, ConfigError> {
        let url = &self.config.public_base_url;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ConfigError::PublicUrl(url.clone()));
        }
        if self.config.mfa_in_use() && self.config.secret_key.is_none() {
            return Err(ConfigError::MissingSecretKey);
        }
        let hasher = Hasher::new(&self.config.hashing).map_err(ConfigError::Hashing)?;
        let mut parts = self;
        parts.templates = parts.templates.with_locales(Arc::clone(&parts.locales));
        parts.templates.validate().map_err(ConfigError::Templates)?;
        let (events, _) = broadcast::channel(256);
        Ok(PortalService {
            inner: Arc::new(Inner {
                parts,
                hasher,
                events,
            }),
        })
    }
}

impl PortalService {
    /// Starts building a service over `store`.
    pub fn builder(store: Arc<dyn AccountStore>) -> PortalServiceBuilder {
        PortalServiceBuilder {
            store,
            mailer: None,
            captcha: None,
            geoip: None,
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
            config: PortalConfig::new("http://127.0.0.1:8080"),
            templates: Templates::builtin(),
            locales: Arc::new(crate::i18n::Locales::builtin()),
            event_sink: None,
        }
    }

    /// The languages of pages and mail.
    pub fn locales(&self) -> &Arc<crate::i18n::Locales> {
        &self.inner.parts.locales
    }

    /// An account's language as given (absent or blank: the firm's
    /// default, `Some(None)`); `None` when the service does not speak it.
    pub(crate) fn language_of(&self, tag: Option<&str>) -> Option<Option<crate::Language>> {
        match tag.map(str::trim).filter(|t| !t.is_empty()) {
            None => Some(None),
            Some(tag) => self.locales().language(tag).map(Some),
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn AccountStore> {
        &self.inner.parts.store
    }

    /// The mailer, if configured.
    pub fn mailer(&self) -> Option<&Arc<dyn Mailer>> {
        self.inner.parts.mailer.as_ref()
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.parts.clock
    }

    /// The configuration.
    pub fn config(&self) -> &PortalConfig {
        &self.inner.parts.config
    }

    /// The hasher (bounded pool).
    pub fn hasher(&self) -> &Hasher {
        &self.inner.hasher
    }

    /// The mail templates.
    pub fn templates(&self) -> &Templates {
        &self.inner.parts.templates
    }

    /// The CAPTCHA verifier, if configured.
    pub fn captcha(&self) -> Option<&Arc<dyn CaptchaVerifier>> {
        self.inner.parts.captcha.as_ref()
    }

    /// The GeoIP lookup, if configured.
    pub fn geoip(&self) -> Option<&Arc<dyn GeoIpLookup>> {
        self.inner.parts.geoip.as_ref()
    }

    /// Subscribes to [`PortalEvent`]s.
    pub fn subscribe(&self) -> broadcast::Receiver<PortalEvent> {
        self.inner.events.subscribe()
    }

    pub(crate) fn publish(&self, event: PortalEvent) {
        // No subscriber is fine.
        let _ = self.inner.events.send(event);
    }

    /// Now, truncated to whole microseconds (what every store keeps).
    pub fn now(&self) -> OffsetDateTime {
        let now = self.inner.parts.clock.now();
        now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
            .unwrap_or(now)
    }

    pub(crate) fn random_bytes<const N: usize>(&self) -> [u8; N] {
        let mut bytes = [0u8; N];
        self.inner.parts.random.fill(&mut bytes);
        bytes
    }

    /// A fresh link or session token.
    pub(crate) fn new_token(&self) -> RawToken {
        RawToken::from_bytes(self.random_bytes())
    }

    pub(crate) fn new_account_id(&self) -> AccountId {
        AccountId::from_random(self.random_bytes())
    }

    pub(crate) fn new_event_id(&self) -> EventId {
        EventId::from_random(self.random_bytes())
    }

    pub(crate) fn new_message_id(&self) -> MessageId {
        MessageId::from_random(self.random_bytes())
    }

    /// Renders one mail intent into an outbox message.
    pub(crate) fn render(
        &self,
        intent: MailIntent,
        now: OffsetDateTime,
    ) -> Result<NewMessage, TemplateError> {
        let config = &self.inner.parts.config;
        let mut vars = match intent.vars {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        vars.insert("product_name".into(), config.product_name.clone().into());
        vars.insert("recipient_name".into(), intent.to_name.clone().into());
        vars.insert("recipient_email".into(), intent.to.clone().into());
        vars.insert("portal_url".into(), config.portal_url("/", None).into());
        let lang = intent
            .language
            .as_ref()
            .and_then(|l| self.locales().supported(l.as_str()))
            .unwrap_or(crate::i18n::DEFAULT_LANGUAGE);
        vars.insert("lang".into(), lang.into());
        let tz = config.time_zone_of(&intent.tenant);
        vars.insert("tz".into(), tz.iana_name().unwrap_or("UTC").into());
        let (token_hash, token_expires_at) = match &intent.link {
            Some(link) => {
                vars.insert(
                    "link".into(),
                    config
                        .portal_url(link.page, Some(link.token.expose()))
                        .into(),
                );
                vars.insert(
                    "link_expires_at".into(),
                    crate::mail::mail_time(link.expires_at).into(),
                );
                (Some(link.token.hash()), Some(link.expires_at))
            }
            None => intent
                .secret
                .map(|secret| (Some(secret.hash), Some(secret.expires_at)))
                .unwrap_or((None, None)),
        };
        let rendered = self
            .inner
            .parts
            .templates
            .render(intent.kind, &serde_json::Value::Object(vars))?;
        Ok(NewMessage {
            id: self.new_message_id(),
            tenant: intent.tenant,
            account_id: intent.account_id,
            kind: intent.kind,
            to: intent.to,
            to_name: intent.to_name,
            subject: rendered.subject,
            text_body: rendered.text,
            html_body: rendered.html,
            token_hash,
            token_expires_at,
            created_at: now,
        })
    }

    /// Renders the decision's mail into its outbox and commits it in one
    /// transaction; returns the outcome. Store errors are returned as they
    /// are for [`transact`](Self::transact) to map (`Conflict` -> retry,
    /// `UsernameTaken` -> refusal).
    pub(crate) async fn commit<T>(
        &self,
        decision: Decision<T>,
        now: OffsetDateTime,
    ) -> Result<Result<T, StoreError>, TemplateError> {
        let Decision {
            mut changes,
            mail,
            outcome,
        } = decision;
        for intent in mail {
            changes.outbox.push(self.render(intent, now)?);
        }
        self.mark_provenance(&mut changes.audit).await;
        let parts = &self.inner.parts;
        let events: Vec<HostEvent> = changes
            .audit
            .iter()
            .filter_map(HostEvent::from_audit)
            .collect();
        for event in &events {
            let random = parts.random.as_ref();
            let queued = crate::webhook::deliveries(event, &parts.config.webhooks, random, now);
            changes.webhooks.extend(queued);
        }
        let committed = parts.store.commit(changes).await;
        if let (Ok(()), Some(sink)) = (&committed, &parts.event_sink) {
            for event in &events {
                sink.publish(event).await;
            }
        }
        Ok(committed.map(|()| outcome))
    }

    /// Commits a decision that writes no account version, so nothing can
    /// conflict (sign-out, link openings, audit-only records): one attempt,
    /// every store error an infrastructure failure.
    pub(crate) async fn commit_unversioned<T, E: Refusal>(
        &self,
        decision: Decision<T>,
        now: OffsetDateTime,
    ) -> Result<T, ServiceError<E>> {
        debug_assert!(!matches!(
            decision.changes.account,
            Some(crate::AccountChange::Update(_))
        ));
        match self.commit(decision, now).await? {
            Ok(outcome) => Ok(outcome),
            Err(StoreError::Conflict) => Err(InfraError::PersistentConflict.into()),
            Err(other) => Err(infra(other)),
        }
    }
}

/// Maps a store failure that is not a domain refusal.
pub(crate) fn infra<E: Refusal>(e: StoreError) -> ServiceError<E> {
    ServiceError::Infrastructure(InfraError::Store(e))
}

/// A client signed in: the session cookie's token and until when it lives.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The account (as committed).
    pub account: Account,
    /// The new session's raw token, for the cookie. A new one at every sign-in.
    pub session_token: RawToken,
    /// The session's absolute expiry.
    pub expires_at: OffsetDateTime,
    /// The device remembered at this sign-in ("remember this device" at
    /// the code step), for its own cookie.
    pub remembered_device: Option<RememberedDevice>,
}

/// A device remembered at sign-in: the raw token of its cookie
/// (`portal_device`, `__Host-portal_device` under https) and until when.
#[derive(Debug, Clone)]
pub struct RememberedDevice {
    /// The raw token, for the cookie only.
    pub token: RawToken,
    /// When it stops skipping the second factor.
    pub expires_at: OffsetDateTime,
}

/// An authenticated client request: the account and its session.
#[derive(Debug, Clone)]
pub struct ClientSession {
    /// The account.
    pub account: Account,
    /// The session.
    pub session: SessionRecord,
}
