//! # portal-server
//!
//! The example server of portal-access, as a library so tests and the
//! browser journey spawn the very same application on port 0:
//!
//! - [`cli::ServerConfig`]: the flags (each also an environment variable);
//! - [`app::build_app`]: store + migrations, mailer, service, routes;
//! - [`audit`]: `portal-server audit verify | export | prune`;
//! - [`app::App::serve`]: serves with the outbox dispatcher until a
//!   shutdown signal, then drains in-flight requests and the current batch.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod app;
pub mod audit;
pub mod cli;
pub mod error;
pub mod mail;
pub mod secret_key;
mod serve;
pub mod webhooks;
