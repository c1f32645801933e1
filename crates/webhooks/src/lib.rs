//! [`HttpWebhookSender`]: the [`WebhookSender`] that POSTs each signed
//! delivery over HTTP(S) (reqwest with rustls).
//!
//! - A 2xx answer is a delivery; 408, 429 and 5xx, a timeout or a
//!   connection error are transient (the dispatcher retries with backoff);
//!   any other status (4xx, a redirect: redirects are not followed) is
//!   permanent.
//! - The answer's body is never read: the status line and headers decide,
//!   and the connection is dropped, so a receiver that answers with a huge
//!   body or never closes holds nothing. A receiver that does not answer at
//!   all is cut at the sender's `timeout` (and at the dispatcher's
//!   `send_timeout`, whichever comes first).
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use portal_access_core::webhook::{WebhookEndpoint, WebhookEndpoints, WebhookSecret};
//! use portal_access_core::{Dispatcher, DispatcherConfig, SystemClock};
//! use portal_access_core::testing::MemoryStore;
//! use portal_access_webhooks::HttpWebhookSender;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! let endpoints = WebhookEndpoints {
//!     all_tenants: vec![WebhookEndpoint::new("https://crm.example.com/hooks", secret)?],
//!     ..WebhookEndpoints::default()
//! };
//! let dispatcher = Dispatcher::for_webhooks(
//!     Arc::new(MemoryStore::new()),
//!     Arc::new(HttpWebhookSender::new(Duration::from_secs(10))?),
//!     endpoints,
//!     Arc::new(SystemClock),
//!     DispatcherConfig::default(),
//! );
//! dispatcher.run(std::future::pending()).await;
//! # Ok(()) }
//! ```

use std::time::Duration;

use async_trait::async_trait;
use portal_access_core::{WebhookError, WebhookRequest, WebhookSender};

/// The HTTP client could not be built (no TLS backend).
#[derive(Debug, thiserror::Error)]
#[error("could not build the webhook HTTP client")]
pub struct BuildError(#[source] reqwest::Error);

/// POSTs webhook deliveries. Cheap to clone (one connection pool inside).
#[derive(Debug, Clone)]
pub struct HttpWebhookSender {
    client: reqwest::Client,
}

impl HttpWebhookSender {
    /// A sender that gives up on one delivery after `timeout` (connect,
    /// send and the answer's status line and headers).
    pub fn new(timeout: Duration) -> Result<Self, BuildError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "portal-access-webhooks/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(BuildError)?;
        Ok(Self { client })
    }
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn send(&self, request: &WebhookRequest) -> Result<(), WebhookError> {
        let answer = self
            .client
            .post(&request.url)
            .header("content-type", "application/json")
            .header("webhook-id", &request.id)
            .header("webhook-timestamp", request.timestamp.to_string())
            .header("webhook-signature", &request.signature)
            .body(request.body.clone())
            .send()
            .await;
        let response = match answer {
            Ok(response) => response,
            // The URL is left out of the error: it is configuration, and
            // the staff view names the endpoint already.
            Err(error) if error.is_builder() => {
                return Err(WebhookError::permanent(error.without_url()))
            }
            Err(error) => return Err(WebhookError::transient(error.without_url())),
        };
        let status = response.status().as_u16();
        // The body is not read: dropping the response closes the connection.
        drop(response);
        match WebhookError::for_status(status) {
            None => Ok(()),
            Some(error) => Err(error),
        }
    }
}
