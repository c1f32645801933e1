//! Ports: the traits adapters implement. All are object safe and held as
//! `Arc<dyn Port>`; the core owns each port's error type.

pub mod captcha;
mod changes;
pub mod clock;
pub mod events;
pub mod geoip;
pub mod mailer;
pub mod store;
pub mod webhook;
