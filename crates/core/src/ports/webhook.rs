//! The `WebhookSender` port: posts one signed webhook delivery.
//!
//! The dispatcher signs each delivery (see [`crate::webhook`]) and hands it
//! to the sender; the sender's error says whether to retry. The HTTP
//! implementation is `HttpWebhookSender` (crate `portal-access-webhooks`).
//!
//! ```
//! use async_trait::async_trait;
//! use portal_access_core::{WebhookError, WebhookRequest, WebhookSender};
//!
//! /// Prints deliveries instead of posting them.
//! struct StdoutSender;
//!
//! #[async_trait]
//! impl WebhookSender for StdoutSender {
//!     async fn send(&self, request: &WebhookRequest) -> Result<(), WebhookError> {
//!         println!("POST {} webhook-id: {} {}", request.url, request.id, request.body);
//!         Ok(())
//!     }
//! }
//! ```

use std::error::Error as StdError;
use std::fmt;

use async_trait::async_trait;

/// One signed delivery: POST `body` (JSON) to `url` with the three
/// Standard Webhooks headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRequest {
    /// Where.
    pub url: String,
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp` (Unix seconds).
    pub timestamp: i64,
    /// `webhook-signature` (`v1,<base64>`).
    pub signature: String,
    /// The JSON body.
    pub body: String,
}

/// A webhook delivery failure: transient (retry: 5xx, 408, 429, timeout,
/// connection error) or permanent (give up: any other 4xx, a redirect, a
/// bad URL).
#[derive(Debug, thiserror::Error)]
pub struct WebhookError {
    permanent: bool,
    #[source]
    source: Box<dyn StdError + Send + Sync + 'static>,
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.permanent {
            f.write_str("permanent webhook delivery failure")
        } else {
            f.write_str("transient webhook delivery failure")
        }
    }
}

impl WebhookError {
    /// A failure worth retrying.
    pub fn transient(source: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Self {
            permanent: false,
            source: source.into(),
        }
    }

    /// A failure not worth retrying.
    pub fn permanent(source: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Self {
            permanent: true,
            source: source.into(),
        }
    }

    /// Not worth retrying.
    pub fn is_permanent(&self) -> bool {
        self.permanent
    }

    /// The failure an HTTP status means, or none for 2xx: 408, 429 and
    /// 5xx are transient; every other status is permanent.
    pub fn for_status(status: u16) -> Option<Self> {
        match status {
            200..=299 => None,
            408 | 429 | 500..=599 => {
                Some(Self::transient(format!("the endpoint answered {status}")))
            }
            _ => Some(Self::permanent(format!("the endpoint answered {status}"))),
        }
    }
}

/// Posts one delivery. Implementations must bound what they read of the
/// answer (the dispatcher also cuts every call at its `send_timeout`).
#[async_trait]
pub trait WebhookSender: Send + Sync + 'static {
    /// Posts `request`; `Ok` only for a 2xx answer.
    async fn send(&self, request: &WebhookRequest) -> Result<(), WebhookError>;
}
