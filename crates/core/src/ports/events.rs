//! The `EventSink` port: an embedding host hears the [`HostEvent`]s in
//! process, without HTTP.
//!
//! Delivery is **at most once, after commit**: the service hands a
//! commit's events to the sink once the commit succeeded (never for a
//! refused or failed one), in order, awaiting each call. A process that
//! dies between the commit and the call loses them, and a sink that fails
//! is not retried: a host that must not miss an event uses a webhook
//! endpoint (delivered from the outbox, at least once) instead.
//! `message.failed` is handed over by the mail dispatcher (see
//! [`Dispatcher::with_event_sink`](crate::Dispatcher::with_event_sink)).
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use async_trait::async_trait;
//! use portal_access_core::{EventSink, HostEvent};
//!
//! /// Keeps the type of every event.
//! #[derive(Default)]
//! struct Seen(Mutex<Vec<&'static str>>);
//!
//! #[async_trait]
//! impl EventSink for Seen {
//!     async fn publish(&self, event: &HostEvent) {
//!         self.0.lock().unwrap().push(event.event_type.as_str());
//!     }
//! }
//!
//! let sink: Arc<dyn EventSink> = Arc::new(Seen::default());
//! # let _ = sink;
//! ```

use async_trait::async_trait;

use crate::HostEvent;

/// Receives host events in process, after commit, at most once. It should
/// return quickly (hand the event to a channel or a task): the request
/// that caused the event waits for it.
#[async_trait]
pub trait EventSink: Send + Sync + 'static {
    /// One event, after its commit.
    async fn publish(&self, event: &HostEvent);
}
