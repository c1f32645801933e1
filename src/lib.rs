//! # portal-access
//!
//! Client portal accounts for any CRM: inviting a client contact, password
//! reset (sent by staff or asked for by the client), staff setting a password
//! by hand, turning access on and off, archiving, signing in, and the client
//! changing their own username.
//!
//! This facade re-exports the core (`portal_access::core`) and, behind one
//! additive feature each, the adapters:
//!
//! | feature    | crate                     | what it brings                          |
//! |------------|---------------------------|-----------------------------------------|
//! | `sqlite`   | `portal-access-sqlite`    | `AccountStore` on SQLite (default)      |
//! | `postgres` | `portal-access-postgres`  | `AccountStore` on PostgreSQL            |
//! | `smtp`     | `portal-access-smtp`      | `Mailer` over SMTP + a directory mailer (default) |
//! | `geoip`    | `portal-access-geoip`     | `GeoIpLookup` on MaxMind `.mmdb` files  |
//! | `captcha`  | `portal-access-captcha`   | `CaptchaVerifier` (hCaptcha, reCAPTCHA, Turnstile) |
//! | `axum`     | `portal-access-axum`      | staff API, client API, portal pages     |
//! | `webhooks` | `portal-access-webhooks`  | `WebhookSender` over HTTP(S), signed per Standard Webhooks |
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use portal_access_core as core;
pub use portal_access_core::*;

/// PostgreSQL store (feature `postgres`).
#[cfg(feature = "postgres")]
pub use portal_access_postgres as postgres;

/// SQLite store (feature `sqlite`).
#[cfg(feature = "sqlite")]
pub use portal_access_sqlite as sqlite;

/// SMTP and directory mailers (feature `smtp`).
#[cfg(feature = "smtp")]
pub use portal_access_smtp as smtp;

/// MaxMind GeoIP lookup (feature `geoip`).
#[cfg(feature = "geoip")]
pub use portal_access_geoip as geoip;

/// CAPTCHA verifiers (feature `captcha`).
#[cfg(feature = "captcha")]
pub use portal_access_captcha as captcha;

/// HTTP routers for axum (feature `axum`).
#[cfg(feature = "axum")]
pub use portal_access_axum as axum;

/// The HTTP webhook sender (feature `webhooks`).
#[cfg(feature = "webhooks")]
pub use portal_access_webhooks as webhooks;
