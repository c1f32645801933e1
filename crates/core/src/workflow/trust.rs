//! The client's sessions and remembered devices (SPEC.md section 8,
//! "Sessions and devices page"), and staff ending an account's sessions.
//!
//! - **Remembering a device**: at the code step, opt-in; lasts the
//!   policy's `remember_device_days` (0: never remembered). A remembered
//!   device lets its own account, and no other, skip the second factor
//!   ([`DeviceRecord::remembers`]).
//! - **Listing**: the live sessions (unrevoked, unexpired, not idle past
//!   the limit) and devices (unrevoked, unexpired), each with its
//!   [`ListingId`], the IP, its location, OS and browser; the caller's
//!   own session is marked `current`.
//! - **Revoking**: one session or device by its id (an id that is not one
//!   of the account's live ones is `not_found`, and nothing changes), all
//!   other sessions, all devices; staff revoke every session.
//!
//! ```
//! use portal_access_core::workflow::trust::remember_device;
//! use portal_access_core::{Account, AccountId, EmailAddress, MfaPolicy, RawToken, RequestContext, TenantId};
//!
//! let now = time::macros::datetime!(2026-03-01 9:00 UTC);
//! let account = Account::new(AccountId::from_random([1; 16]), TenantId::new("firm").unwrap(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! let token = RawToken::from_bytes([2; 32]);
//! let ctx = RequestContext::default();
//! let device = remember_device(&account, &token, &ctx, &MfaPolicy::default(), now).unwrap();
//! assert_eq!(device.expires_at, now + time::Duration::days(30));
//! let never = MfaPolicy { remember_device_days: 0, ..MfaPolicy::default() };
//! assert!(remember_device(&account, &token, &ctx, &never, now).is_none());
//! ```

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::attribution::Attribution;
use super::changes::client_event;
use super::{Decision, NotFoundError};
use crate::domain::device::parse_user_agent;
use crate::{
    Account, AuditKind, Changes, DeviceRecord, DeviceRevocation, EventId, ListingId, Location,
    MfaPolicy, RawToken, RequestContext, SessionRecord, SessionRevocation,
};

/// A device record for `account` under `token`, remembered for the
/// policy's days from `now`; `None` when the policy remembers no device.
pub fn remember_device(
    account: &Account,
    token: &RawToken,
    ctx: &RequestContext,
    policy: &MfaPolicy,
    now: OffsetDateTime,
) -> Option<DeviceRecord> {
    (policy.remember_device_days > 0).then(|| DeviceRecord {
        hash: token.hash(),
        tenant: account.tenant.clone(),
        account_id: account.id,
        created_at: now,
        expires_at: now + Duration::days(i64::from(policy.remember_device_days)),
        revoked_at: None,
        ip: ctx.ip,
        user_agent: ctx.user_agent.clone(),
    })
}

/// Whether the device cookie's record (as loaded, if any) lets `account`
/// skip the second factor at `now`: a device of another account, revoked
/// or expired, is ignored.
pub fn device_remembers(
    device: Option<&DeviceRecord>,
    account: &Account,
    now: OffsetDateTime,
) -> bool {
    device.is_some_and(|d| d.remembers(&account.tenant, account.id, now))
}

/// A session as its client (and staff) see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionView {
    /// Its listing id (what revoking names).
    pub id: ListingId,
    /// Signed in at.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last used at (written at most once a minute).
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    /// IP at sign-in.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "203.0.113.7"))]
    pub ip: Option<IpAddr>,
    /// Where that IP is, when known.
    pub location: Option<String>,
    /// Operating system, from the User-Agent.
    pub os: Option<String>,
    /// Browser, from the User-Agent.
    pub browser: Option<String>,
    /// Whether this is the session of the request.
    pub current: bool,
}

/// A remembered device as its client (and staff) see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceView {
    /// Its listing id (what forgetting names).
    pub id: ListingId,
    /// Remembered at.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Forgotten by itself at.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// IP when remembered.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "203.0.113.7"))]
    pub ip: Option<IpAddr>,
    /// Where that IP is, when known.
    pub location: Option<String>,
    /// Operating system, from the User-Agent.
    pub os: Option<String>,
    /// Browser, from the User-Agent.
    pub browser: Option<String>,
}

/// Locations by IP, looked up by the service before the views are built.
pub type Locations = HashMap<IpAddr, Location>;

fn place(ip: Option<IpAddr>, locations: &Locations) -> Option<String> {
    ip.and_then(|ip| locations.get(&ip))
        .map(ToString::to_string)
}

/// The live sessions among `sessions` (as listed by the store) at `now`,
/// newest first, the one stored under `current` marked.
pub fn session_views(
    sessions: &[SessionRecord],
    current: Option<&SessionRecord>,
    locations: &Locations,
    idle_ttl: Duration,
    now: OffsetDateTime,
) -> Vec<SessionView> {
    sessions
        .iter()
        .filter(|s| is_live(s, idle_ttl, now))
        .map(|s| {
            let device = parse_user_agent(s.user_agent.as_deref().unwrap_or_default());
            SessionView {
                id: ListingId::of(&s.hash),
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                ip: s.ip,
                location: place(s.ip, locations),
                os: device.os,
                browser: device.browser,
                current: current.is_some_and(|c| c.hash.ct_eq(&s.hash)),
            }
        })
        .collect()
}

/// The devices among `devices` (as listed by the store) still in force at `now`.
pub fn device_views(
    devices: &[DeviceRecord],
    locations: &Locations,
    now: OffsetDateTime,
) -> Vec<DeviceView> {
    devices
        .iter()
        .filter(|d| d.revoked_at.is_none() && d.expires_at > now)
        .map(|d| {
            let device = parse_user_agent(d.user_agent.as_deref().unwrap_or_default());
            DeviceView {
                id: ListingId::of(&d.hash),
                created_at: d.created_at,
                expires_at: d.expires_at,
                ip: d.ip,
                location: place(d.ip, locations),
                os: device.os,
                browser: device.browser,
            }
        })
        .collect()
}

fn is_live(session: &SessionRecord, idle_ttl: Duration, now: OffsetDateTime) -> bool {
    session.revoked_at.is_none()
        && session.expires_at > now
        && session.last_seen_at + idle_ttl > now
}

/// The client revokes one of their sessions by its id: `not_found` (and
/// nothing changes) unless it names one of `sessions`, the account's live
/// sessions as loaded.
pub fn decide_revoke_session(
    account: &Account,
    sessions: &[SessionRecord],
    id: &ListingId,
    ctx: &RequestContext,
    event_id: EventId,
    now: OffsetDateTime,
) -> Result<Decision<()>, NotFoundError> {
    let session = sessions
        .iter()
        .find(|s| s.account_id == account.id && s.tenant == account.tenant && id.names(&s.hash))
        .ok_or(NotFoundError)?;
    let changes = Changes {
        revoke_sessions: vec![SessionRevocation::One {
            hash: session.hash,
            at: now,
        }],
        audit: vec![sessions_event(account, "one", ctx, event_id, now)],
        ..Changes::default()
    };
    Ok(Decision::new(changes, ()))
}

/// The client signs out every other session, keeping `current`.
pub fn decide_revoke_other_sessions(
    account: &Account,
    current: &SessionRecord,
    ctx: &RequestContext,
    event_id: EventId,
    now: OffsetDateTime,
) -> Decision<()> {
    let changes = Changes {
        revoke_sessions: vec![SessionRevocation::AllOfAccount {
            tenant: account.tenant.clone(),
            account_id: account.id,
            except: Some(current.hash),
            at: now,
        }],
        audit: vec![sessions_event(account, "others", ctx, event_id, now)],
        ..Changes::default()
    };
    Decision::new(changes, ())
}

/// Staff end every session of the account (devices stay remembered).
pub fn decide_staff_revoke_sessions(
    account: &Account,
    by: Attribution<'_>,
    now: OffsetDateTime,
) -> Decision<()> {
    let changes = Changes {
        revoke_sessions: vec![SessionRevocation::all_of(account, now)],
        audit: vec![by.on(
            account,
            AuditKind::SessionsRevoked,
            now,
            serde_json::json!({ "which": "all" }),
        )],
        ..Changes::default()
    };
    Decision::new(changes, ())
}

/// The client forgets one remembered device by its id: `not_found` (and
/// nothing changes) unless it names one of `devices`, the account's
/// devices as loaded.
pub fn decide_forget_device(
    account: &Account,
    devices: &[DeviceRecord],
    id: &ListingId,
    ctx: &RequestContext,
    event_id: EventId,
    now: OffsetDateTime,
) -> Result<Decision<()>, NotFoundError> {
    let device = devices
        .iter()
        .find(|d| d.remembers(&account.tenant, account.id, now) && id.names(&d.hash))
        .ok_or(NotFoundError)?;
    let changes = Changes {
        revoke_devices: vec![DeviceRevocation::one_of(account, device.hash, now)],
        audit: vec![devices_event(account, "one", ctx, event_id, now)],
        ..Changes::default()
    };
    Ok(Decision::new(changes, ()))
}

/// The client forgets every remembered device.
pub fn decide_forget_devices(
    account: &Account,
    ctx: &RequestContext,
    event_id: EventId,
    now: OffsetDateTime,
) -> Decision<()> {
    let changes = Changes {
        revoke_devices: vec![DeviceRevocation::all_of(account, now)],
        audit: vec![devices_event(account, "all", ctx, event_id, now)],
        ..Changes::default()
    };
    Decision::new(changes, ())
}

fn sessions_event(
    account: &Account,
    which: &str,
    ctx: &RequestContext,
    event_id: EventId,
    now: OffsetDateTime,
) -> crate::AuditEvent {
    client_event(account, AuditKind::SessionsRevoked, ctx, event_id, now)
        .with_detail(serde_json::json!({ "which": which }))
}

fn devices_event(
    account: &Account,
    which: &str,
    ctx: &RequestContext,
    event_id: EventId,
    now: OffsetDateTime,
) -> crate::AuditEvent {
    client_event(account, AuditKind::DevicesForgotten, ctx, event_id, now)
        .with_detail(serde_json::json!({ "which": which }))
}

#[cfg(test)]
#[path = "trust_tests.rs"]
mod tests;
