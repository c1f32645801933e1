//! Webhook endpoints and their signatures (Standard Webhooks).
//!
//! An endpoint is a URL and a secret in the `whsec_<base64>` form. Each
//! delivery carries three headers:
//!
//! - `webhook-id`: the delivery's id, the same on every attempt;
//! - `webhook-timestamp`: the attempt's time, in Unix seconds;
//! - `webhook-signature`: `v1,<base64 of HMAC-SHA256(secret, "id.timestamp.body")>`.
//!
//! ```
//! use portal_access_core::webhook::{WebhookEndpoint, WebhookSecret};
//!
//! let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
//! let endpoint = WebhookEndpoint::new("https://crm.example.com/hooks", secret).unwrap();
//! let signature = endpoint.secret().sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, "{\"test\": 2432232314}");
//! assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
//! assert!(WebhookEndpoint::new("ftp://crm.example.com", endpoint.secret().clone()).is_err());
//! ```

use std::collections::HashMap;
use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::TenantId;

/// A webhook configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidWebhook {
    /// The URL is not `http://` or `https://` with a host.
    #[error("a webhook URL must be http:// or https:// with a host, not {0:?}")]
    Url(String),
    /// The secret is not `whsec_` followed by base64 of at least 16 bytes.
    #[error("a webhook secret must be whsec_ followed by base64 of 16 to 64 bytes")]
    Secret,
}

/// An endpoint's signing secret (`whsec_<base64>`). `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

impl WebhookSecret {
    /// Parses `whsec_` followed by standard base64 of 16 to 64 bytes.
    pub fn parse(text: &str) -> Result<Self, InvalidWebhook> {
        let encoded = text.strip_prefix("whsec_").ok_or(InvalidWebhook::Secret)?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| InvalidWebhook::Secret)?;
        if !(16..=64).contains(&bytes.len()) {
            return Err(InvalidWebhook::Secret);
        }
        Ok(Self(bytes))
    }

    /// A secret of these bytes (16 to 64 of them).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, InvalidWebhook> {
        if !(16..=64).contains(&bytes.len()) {
            return Err(InvalidWebhook::Secret);
        }
        Ok(Self(bytes))
    }

    /// The `whsec_` form, to hand to the receiver.
    pub fn to_whsec(&self) -> String {
        format!("whsec_{}", STANDARD.encode(&self.0))
    }

    /// The `webhook-signature` value of one delivery:
    /// `v1,` and the base64 HMAC-SHA256 of `"{id}.{timestamp}.{body}"`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &str) -> String {
        // HMAC takes a key of any length: this cannot fail.
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body.as_bytes());
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// One receiver: a URL and its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    url: String,
    secret: WebhookSecret,
}

impl WebhookEndpoint {
    /// An endpoint at `url` (`http://` or `https://`, with a host).
    pub fn new(url: impl Into<String>, secret: WebhookSecret) -> Result<Self, InvalidWebhook> {
        let url: String = url.into();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
        let valid = host.is_some_and(|h| !h.is_empty() && !h.contains(char::is_whitespace))
            && !url.chars().any(char::is_control);
        if !valid {
            return Err(InvalidWebhook::Url(url));
        }
        Ok(Self { url, secret })
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its secret.
    pub fn secret(&self) -> &WebhookSecret {
        &self.secret
    }
}

/// Which endpoints hear which tenant's events: some for every tenant, some
/// for one tenant. Empty by default (no webhooks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookEndpoints {
    /// Endpoints that receive every tenant's events.
    pub all_tenants: Vec<WebhookEndpoint>,
    /// Endpoints that receive one tenant's events (besides `all_tenants`).
    pub tenants: HashMap<TenantId, Vec<WebhookEndpoint>>,
}

impl WebhookEndpoints {
    /// The endpoints that receive `tenant`'s events.
    pub fn of<'a>(&'a self, tenant: &TenantId) -> impl Iterator<Item = &'a WebhookEndpoint> + 'a {
        self.all_tenants
            .iter()
            .chain(self.tenants.get(tenant).into_iter().flatten())
    }

    /// The endpoint of `tenant` at `url`, if it is still configured.
    pub fn find(&self, tenant: &TenantId, url: &str) -> Option<&WebhookEndpoint> {
        self.of(tenant).find(|e| e.url == url)
    }

    /// Whether no endpoint is configured.
    pub fn is_empty(&self) -> bool {
        self.all_tenants.is_empty() && self.tenants.values().all(Vec::is_empty)
    }
}

/// One outbox row per endpoint of the event's tenant, each with a fresh id
/// from `random`, queued at `now`: what a commit writes beside the change.
pub fn deliveries(
    event: &crate::HostEvent,
    endpoints: &WebhookEndpoints,
    random: &dyn crate::SecureRandom,
    now: time::OffsetDateTime,
) -> Vec<crate::NewWebhook> {
    let payload = event.body();
    endpoints
        .of(&event.tenant)
        .map(|endpoint| {
            let mut bytes = [0u8; 16];
            random.fill(&mut bytes);
            crate::NewWebhook {
                id: crate::WebhookId::from_random(bytes),
                tenant: event.tenant.clone(),
                account_id: event.account_id,
                endpoint: endpoint.url().to_owned(),
                event_type: event.event_type,
                payload: payload.clone(),
                created_at: now,
            }
        })
        .collect()
}
