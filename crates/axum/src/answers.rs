//! The JSON bodies of the APIs' successful answers that are not a core type
//! as it is: what the handlers serialize, and what the OpenAPI document
//! ([`crate::openapi`]) describes.

use portal_access_core::domain::factor::RecoveryCode;
use portal_access_core::workflow::invitation::InvitationSent;
use portal_access_core::workflow::trust::{DeviceView, SessionView};
use portal_access_core::{AuditEvent, ChainedEvent};
use serde::Serialize;
use utoipa::ToSchema;

/// A sentence for the person (a request was taken; the outcome is not told).
#[derive(Serialize, ToSchema)]
pub(crate) struct Notice {
    /// The sentence.
    pub(crate) message: &'static str,
}

/// Which invitation mail was queued.
#[derive(Serialize, ToSchema)]
pub(crate) struct InvitationQueued {
    /// `invitation` (the first) or `reinvitation` (the earlier link stopped working).
    pub(crate) sent: InvitationSent,
}

/// The mail a staff password reset queued.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ResetSent {
    /// A password-reset link.
    PasswordReset,
}

/// A staff password reset was queued.
#[derive(Serialize, ToSchema)]
pub(crate) struct ResetQueued {
    /// Always `password_reset`.
    pub(crate) sent: ResetSent,
}

/// The live sessions of an account, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct Sessions {
    /// The sessions (for the client, its own marked `current`).
    pub(crate) sessions: Vec<SessionView>,
}

/// The remembered devices in force.
#[derive(Serialize, ToSchema)]
pub(crate) struct Devices {
    /// The devices.
    pub(crate) devices: Vec<DeviceView>,
}

/// An account's audit events, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct Events {
    /// The events.
    pub(crate) events: Vec<AuditEvent>,
}

/// One page of the tenant's audit trail, in chain order.
#[derive(Serialize, ToSchema)]
pub(crate) struct AuditPage {
    /// The events, each with its sequence number and hash.
    pub(crate) events: Vec<ChainedEvent>,
    /// Pass it back as `cursor` for the next page; `null` on the last.
    pub(crate) next_cursor: Option<String>,
}

/// A TOTP enrolment begun: what the authenticator app needs. Confirm it
/// with a code (`POST /api/portal/mfa/totp/confirm`).
#[derive(Serialize, ToSchema)]
pub(crate) struct TotpSetup {
    /// The secret in base32, to type into an app.
    pub(crate) secret: String,
    /// The `otpauth://` URI.
    pub(crate) otpauth_uri: String,
    /// The URI as a QR code (an SVG document).
    pub(crate) qr_svg: String,
}

/// Fresh recovery codes: shown once, each usable once.
#[derive(Serialize, ToSchema)]
pub(crate) struct RecoveryCodes {
    /// The codes.
    pub(crate) recovery_codes: Vec<String>,
}

impl RecoveryCodes {
    /// The codes as shown.
    pub(crate) fn of(codes: &[RecoveryCode]) -> Self {
        Self {
            recovery_codes: codes.iter().map(|c| c.as_str().to_owned()).collect(),
        }
    }
}
