//! Host events (SPEC.md section 10) and the webhook rows of the outbox.
//!
//! A [`HostEvent`] is what an embedding host or a CRM's webhook endpoint is
//! told: `{type, timestamp, data: {tenant, account_id, ...}}`. It never
//! carries a secret, a token, a code, a link or an address: only ids, kinds
//! and times. Events are derived from the audit events of a commit
//! ([`HostEvent::from_audit`]: one exhaustive match over [`AuditKind`], so a
//! new audit kind does not compile until it says whether hosts hear of it)
//! and from a mail delivery given up ([`HostEvent::message_failed`]).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::DeliveryState;
use crate::{AccountId, Actor, AuditEvent, AuditKind, OutboxMessage, TenantId, WebhookId};

/// What happened, as a host hears it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum HostEventType {
    /// An invitation was sent (first, again, or a fresh one).
    #[serde(rename = "account.invited")]
    AccountInvited,
    /// The client accepted an invitation and chose a password.
    #[serde(rename = "invitation.accepted")]
    InvitationAccepted,
    /// A reset link was sent (asked by the client or by staff).
    #[serde(rename = "password.reset_requested")]
    PasswordResetRequested,
    /// The password changed (`data.how`: `changed`, `reset`, `set_by_staff`).
    #[serde(rename = "password.changed")]
    PasswordChanged,
    /// Access was turned on or off (`data.access`: `enabled` / `disabled`).
    #[serde(rename = "access.changed")]
    AccessChanged,
    /// The account was archived.
    #[serde(rename = "account.archived")]
    AccountArchived,
    /// The client said "this wasn't me": sessions revoked, password cleared.
    #[serde(rename = "account.secured")]
    AccountSecured,
    /// A second factor was added (`data.factor`).
    #[serde(rename = "mfa.enrolled")]
    MfaEnrolled,
    /// Staff reset the client's second factors. Mapped from the audit kind
    /// of the staff MFA reset once it exists.
    #[serde(rename = "mfa.reset")]
    MfaReset,
    /// Staff changed the account's email address.
    #[serde(rename = "email.changed")]
    EmailChanged,
    /// A message to the client was given up on (`data.message_id`,
    /// `data.message_kind`).
    #[serde(rename = "message.failed")]
    MessageFailed,
}

impl HostEventType {
    /// The stable name (`account.invited`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AccountInvited => "account.invited",
            Self::InvitationAccepted => "invitation.accepted",
            Self::PasswordResetRequested => "password.reset_requested",
            Self::PasswordChanged => "password.changed",
            Self::AccessChanged => "access.changed",
            Self::AccountArchived => "account.archived",
            Self::AccountSecured => "account.secured",
            Self::MfaEnrolled => "mfa.enrolled",
            Self::MfaReset => "mfa.reset",
            Self::EmailChanged => "email.changed",
            Self::MessageFailed => "message.failed",
        }
    }

    /// Every type.
    pub const ALL: [HostEventType; 11] = [
        Self::AccountInvited,
        Self::InvitationAccepted,
        Self::PasswordResetRequested,
        Self::PasswordChanged,
        Self::AccessChanged,
        Self::AccountArchived,
        Self::AccountSecured,
        Self::MfaEnrolled,
        Self::MfaReset,
        Self::EmailChanged,
        Self::MessageFailed,
    ];

    /// Parses [`as_str`](Self::as_str)'s text.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// One event for hosts. Its JSON ([`body`](Self::body)) is what a webhook
/// endpoint receives and what an [`EventSink`](crate::EventSink) is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEvent {
    /// What happened.
    pub event_type: HostEventType,
    /// When.
    pub at: OffsetDateTime,
    /// The tenant.
    pub tenant: TenantId,
    /// The account concerned, if any.
    pub account_id: Option<AccountId>,
    /// Type-specific facts (ids, kinds, flags; never a secret).
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl HostEvent {
    fn of(event_type: HostEventType, audit: &AuditEvent) -> Self {
        Self {
            event_type,
            at: audit.at,
            tenant: audit.tenant.clone(),
            account_id: audit.account_id,
            extra: serde_json::Map::new(),
        }
    }

    fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    /// The host event an audit event means, if hosts hear of it at all.
    /// Every [`AuditKind`] is named here: a new kind must decide.
    pub fn from_audit(audit: &AuditEvent) -> Option<Self> {
        use HostEventType as T;
        let by = match &audit.actor {
            Actor::Staff { .. } => "staff",
            Actor::Client { .. } => "client",
            Actor::System => "system",
        };
        let event = match audit.kind {
            AuditKind::InvitationSent | AuditKind::InvitationResent => {
                Self::of(T::AccountInvited, audit)
                    .with("resent", audit.kind == AuditKind::InvitationResent)
            }
            AuditKind::InvitationAccepted => Self::of(T::InvitationAccepted, audit),
            AuditKind::PasswordResetSent => {
                Self::of(T::PasswordResetRequested, audit).with("by", by)
            }
            AuditKind::PasswordReset => Self::of(T::PasswordChanged, audit).with("how", "reset"),
            AuditKind::PasswordSetByStaff => {
                Self::of(T::PasswordChanged, audit).with("how", "set_by_staff")
            }
            AuditKind::PasswordChanged => {
                Self::of(T::PasswordChanged, audit).with("how", "changed")
            }
            AuditKind::AccessEnabled => Self::of(T::AccessChanged, audit).with("access", "enabled"),
            AuditKind::AccessDisabled => {
                Self::of(T::AccessChanged, audit).with("access", "disabled")
            }
            AuditKind::Archived => Self::of(T::AccountArchived, audit),
            AuditKind::AccountSecured => Self::of(T::AccountSecured, audit),
            AuditKind::EmailChanged => Self::of(T::EmailChanged, audit),
            AuditKind::FactorAdded => {
                let factor = audit.detail.get("kind").cloned().unwrap_or_default();
                Self::of(T::MfaEnrolled, audit).with("factor", factor)
            }
            AuditKind::MfaReset => {
                let factors = audit.detail.get("factors").cloned().unwrap_or_default();
                Self::of(T::MfaReset, audit)
                    .with("by", by)
                    .with("factors", factors)
            }
            // Not told to hosts: sign-ins and their failures (volume, and the
            // audit trail has them), link openings, staff bookkeeping, and
            // changes staff made themselves through the host.
            AuditKind::AccountCreated
            | AuditKind::FreshInvitationRequested
            | AuditKind::Unarchived
            | AuditKind::UsernameChanged
            | AuditKind::SignedIn
            | AuditKind::SignInFailed
            | AuditKind::SignedOut
            | AuditKind::LinkOpened
            | AuditKind::HumanVerificationPassed
            | AuditKind::SecondFactorChallenged
            | AuditKind::SecondFactorFailed
            | AuditKind::EmailCodeSent
            | AuditKind::FactorRemoved
            | AuditKind::RecoveryCodesGenerated
            | AuditKind::RecoveryCodeUsed
            | AuditKind::SessionsRevoked
            | AuditKind::DevicesForgotten
            | AuditKind::LanguageChanged => return None,
        };
        Some(event)
    }

    /// `message.failed`: the dispatcher gave up on `message` at `at`.
    pub fn message_failed(message: &OutboxMessage, at: OffsetDateTime) -> Self {
        Self {
            event_type: HostEventType::MessageFailed,
            at,
            tenant: message.message.tenant.clone(),
            account_id: message.message.account_id,
            extra: serde_json::Map::new(),
        }
        .with("message_id", message.message.id.to_string())
        .with("message_kind", message.message.kind.as_str())
    }

    /// The JSON a host receives: `{"type", "timestamp", "data": {"tenant",
    /// "account_id", ...}}` (timestamp in RFC 3339).
    pub fn to_json(&self) -> serde_json::Value {
        let mut data = serde_json::Map::new();
        data.insert("tenant".into(), self.tenant.as_str().into());
        data.insert(
            "account_id".into(),
            self.account_id
                .map_or(serde_json::Value::Null, |a| a.to_string().into()),
        );
        for (key, value) in &self.extra {
            data.insert(key.clone(), value.clone());
        }
        let timestamp = self
            .at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        serde_json::json!({
            "type": self.event_type.as_str(),
            "timestamp": timestamp,
            "data": data,
        })
    }

    /// [`to_json`](Self::to_json) as the exact bytes sent and signed.
    pub fn body(&self) -> String {
        self.to_json().to_string()
    }
}

/// One event queued for one webhook endpoint, written to the outbox in
/// the transaction of the change that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    /// Its id: the `webhook-id` header, the same on every attempt, so a
    /// receiver can drop a repeat.
    pub id: WebhookId,
    /// The tenant.
    pub tenant: TenantId,
    /// The account concerned, if any.
    pub account_id: Option<AccountId>,
    /// The endpoint's URL (its secret stays in the configuration).
    pub endpoint: String,
    /// What happened.
    pub event_type: HostEventType,
    /// The exact JSON body to send.
    pub payload: String,
    /// Queued at; first attempt is due then.
    pub created_at: OffsetDateTime,
}

/// A webhook delivery as the outbox holds it: the same states, attempts and
/// leases as a message ([`DeliveryState::Superseded`] is never used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxWebhook {
    /// The delivery as queued.
    pub webhook: NewWebhook,
    /// Delivery state.
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (queued / retrying).
    pub next_attempt_at: OffsetDateTime,
    /// The last error (an HTTP status, a timeout), for staff.
    pub last_error: Option<String>,
    /// When the endpoint answered 2xx.
    pub sent_at: Option<OffsetDateTime>,
    /// When the dispatcher gave up.
    pub failed_at: Option<OffsetDateTime>,
}

impl OutboxWebhook {
    /// A delivery just queued: due at once, never tried.
    pub fn queued(webhook: NewWebhook) -> Self {
        Self {
            next_attempt_at: webhook.created_at,
            webhook,
            state: DeliveryState::Queued,
            attempts: 0,
            last_error: None,
            sent_at: None,
            failed_at: None,
        }
    }
}

/// One webhook delivery as staff see it beside the account's messages
/// (`webhooks` of `GET /staff/accounts/{id}`): never the payload's secret
/// parts (it has none) nor the endpoint's secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookStatus {
    /// The delivery id (`webhook-id` without its `msg_` prefix).
    pub id: WebhookId,
    /// The event (`password.changed`, ...).
    pub event_type: HostEventType,
    /// The endpoint's URL.
    pub endpoint: String,
    /// Delivery state (`queued`, `sent`, `retrying`, `failed`).
    pub state: DeliveryState,
    /// Attempts so far.
    pub attempts: u32,
    /// The last error (an HTTP status, a timeout).
    pub last_error: Option<String>,
    /// When it was queued.
    #[serde(with = "time::serde::rfc3339")]
    pub queued_at: OffsetDateTime,
    /// When the next attempt is due (queued / retrying).
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// When the endpoint answered 2xx.
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    /// When delivery was given up.
    #[serde(with = "time::serde::rfc3339::option")]
    pub failed_at: Option<OffsetDateTime>,
}

impl From<&OutboxWebhook> for WebhookStatus {
    fn from(row: &OutboxWebhook) -> Self {
        let pending = matches!(row.state, DeliveryState::Queued | DeliveryState::Retrying);
        Self {
            id: row.webhook.id,
            event_type: row.webhook.event_type,
            endpoint: row.webhook.endpoint.clone(),
            state: row.state,
            attempts: row.attempts,
            last_error: row.last_error.clone(),
            queued_at: row.webhook.created_at,
            next_attempt_at: pending.then_some(row.next_attempt_at),
            sent_at: row.sent_at,
            failed_at: row.failed_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventId, StaffId};

    #[test]
    fn a_staff_mfa_reset_reaches_hosts_as_mfa_reset_with_the_removed_kinds_only() {
        let tenant = TenantId::new("firm").unwrap();
        let reset = AuditEvent {
            id: EventId::from_random([1; 16]),
            tenant: tenant.clone(),
            account_id: Some(AccountId::from_random([2; 16])),
            actor: Actor::Staff {
                tenant,
                staff_id: StaffId::new("alice").unwrap(),
            },
            kind: AuditKind::MfaReset,
            at: OffsetDateTime::UNIX_EPOCH,
            ip: None,
            user_agent: None,
            detail: serde_json::json!({ "staff_id": "alice", "factors": ["totp"], "notice": "queued" }),
        };
        let event = HostEvent::from_audit(&reset).expect("told to hosts");
        assert_eq!(event.event_type, HostEventType::MfaReset);
        assert_eq!(event.to_json()["type"], "mfa.reset");
        assert_eq!(event.extra["by"], "staff");
        assert_eq!(event.extra["factors"], serde_json::json!(["totp"]));
        assert_eq!(event.extra.len(), 2, "nothing else of the audit detail");

        let housekeeping = [AuditKind::SessionsRevoked, AuditKind::DevicesForgotten];
        for kind in housekeeping {
            let event = AuditEvent {
                kind,
                ..reset.clone()
            };
            assert!(HostEvent::from_audit(&event).is_none(), "{kind:?}");
        }
    }
}
