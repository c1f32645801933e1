//! # portal-access-core
//!
//! The domain of client portal accounts, the ports adapters implement, the
//! pure workflows that decide every change, and the service that loads
//! state, runs a workflow and commits its decision in one transaction.
//!
//! - Domain types parse, not validate: [`EmailAddress`], [`Username`],
//!   [`NewPassword`] (via [`PasswordPolicy`]), [`RawToken`] / [`TokenHash`].
//! - Ports: [`AccountStore`], [`Mailer`], [`CaptchaVerifier`],
//!   [`GeoIpLookup`], [`Clock`], [`SecureRandom`].
//! - [`testing::MemoryStore`] and the [`testing::fakes`] are public API for
//!   tests and demos behind the `testing` feature.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod account;
mod actor;
pub mod config;
pub mod device;
pub mod dispatcher;
mod email;
pub mod hasher;
mod ids;
mod password;
pub mod ports;
mod records;
pub mod service;
pub mod templates;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
/// Old paths of the memory store and fakes, until every caller writes
/// `testing::…` (hidden; they go once the tree is rewritten).
#[cfg(any(test, feature = "testing"))]
#[doc(hidden)]
pub use testing::{fakes, memory};
mod token;
mod username;
pub mod workflow;

pub use account::{Access, Account, Invitation, PasswordHash};
pub use actor::{Actor, AuditEvent, AuditKind, RequestContext};
pub use config::{HashingConfig, PortalConfig, Rate};
pub use dispatcher::{DispatchReport, Dispatcher, DispatcherConfig};
pub use email::{EmailAddress, InvalidEmail};
pub use ids::{AccountId, EventId, InvalidId, MessageId, StaffId, TenantId};
pub use password::{
    normalize_password, InvalidPolicy, NewPassword, PasswordPolicy, PasswordReason,
    PasswordRejected,
};
pub use ports::captcha::{CaptchaError, CaptchaVerdict, CaptchaVerifier};
pub use ports::clock::{Clock, OsRandom, SecureRandom, SystemClock};
pub use ports::geoip::{GeoIpError, GeoIpLookup, Location};
pub use ports::mailer::{Mailer, MailerError, MailerErrorKind};
pub use ports::store::{
    AccountChange, AccountStore, ChangeStep, Changes, Redemption, SessionRevocation, StoreError,
    TokenRevocation,
};
pub use records::{
    DeliveryOutcome, DeliveryState, LinkOpening, MessageKind, NewMessage, OutboxMessage,
    SessionRecord, StaffVerification, TokenRecord, TokenState, REDACTED_BODY,
};
pub use service::{
    ClientSession, InfraError, PortalEvent, PortalService, PortalServiceBuilder, ServiceError,
    SignedIn, StaffActor,
};
pub use templates::Templates;
#[cfg(any(test, feature = "testing"))]
pub use testing::MemoryStore;
pub use token::{MalformedToken, RawToken, TokenHash, TokenKind};
pub use username::{InvalidUsername, Username};
pub use workflow::{ErrorCode, NoRefusal, Refusal};
