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

pub mod audit;
pub mod config;
pub mod crypto;
pub mod dispatch;
pub mod domain;
pub mod hashing;
pub mod i18n;
pub mod mail;
pub mod ports;
pub mod service;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod webhook;
pub mod workflow;

pub use config::{HashingConfig, PortalConfig, Rate};
pub use crypto::SecretKey;
pub use dispatch::{DispatchReport, Dispatcher, DispatcherConfig, MailLane, WebhookLane};
pub use domain::factor::{FactorKind, MfaMode, MfaPolicy, MfaState, SecondFactorMethod};
pub use domain::{
    canonical_body, normalize_password, Access, Account, AccountId, Actor, AuditEvent, AuditFilter,
    AuditKind, AuditQuery, ChainBreak, ChainEnds, ChainHash, ChainPoint, ChainVerifier,
    ChainedEvent, ConsoleSignIn, DeliveryOutcome, DeliveryRecord, DeliveryState, DeviceRecord,
    EmailAddress, EventId, HostEvent, HostEventType, InvalidEmail, InvalidId, InvalidPolicy,
    InvalidUsername, Invitation, Language, LinkOpening, ListingId, MalformedToken, MessageId,
    MessageKind, NewMessage, NewPassword, NewWebhook, OutboxMessage, OutboxWebhook, PasswordHash,
    PasswordPolicy, PasswordReason, PasswordRejected, RawToken, RequestContext, ServerSecret,
    SessionRecord, StaffId, StaffVerification, TenantId, TokenHash, TokenKind, TokenRecord,
    TokenState, Username, WebhookId, WebhookStatus, CHAIN_ENCODING_VERSION, NOT_SENT_SUPERSEDED,
    REDACTED_BODY,
};
pub use mail::Templates;
pub use ports::captcha::{CaptchaError, CaptchaVerdict, CaptchaVerifier};
pub use ports::clock::{Clock, OsRandom, SecureRandom, SystemClock};
pub use ports::events::EventSink;
pub use ports::geoip::{GeoIpError, GeoIpLookup, Location};
pub use ports::mailer::{Mailer, MailerError, MailerErrorKind};
pub use ports::store::{
    AccountChange, AccountSearch, AccountStore, ChangeStep, Changes, DeviceRevocation, Redemption,
    SessionRevocation, StoreError, StoreUnavailable, TokenRevocation,
};
pub use ports::webhook::{WebhookError, WebhookRequest, WebhookSender};
pub use service::{
    ClientSession, InfraError, PortalEvent, PortalService, PortalServiceBuilder, ServiceError,
    SignedIn, StaffActor,
};
#[cfg(any(test, feature = "testing"))]
pub use testing::MemoryStore;
pub use workflow::{ErrorCode, NoRefusal, Refusal};
