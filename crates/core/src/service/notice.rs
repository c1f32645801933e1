//! The "your password was changed" notice: what it says about the request
//! (time, IP, location, OS, browser) is worked out once per call, before
//! the conflict-retry loop; each attempt only addresses it to the account
//! as loaded and draws its "this wasn't me" token.

use time::OffsetDateTime;

use super::PortalService;
use crate::domain::device::{parse_user_agent, Device};
use crate::workflow::{MailIntent, MailLink};
use crate::{Account, Location, MessageKind, RequestContext, TokenKind, TokenRecord};

/// Why the password changed, for the notice's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordChangeReason {
    /// The client used a reset link.
    Reset,
    /// Staff set it by hand.
    SetByStaff,
    /// The signed-in client changed it.
    ChangedByClient,
}

impl PasswordChangeReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Reset => "reset",
            Self::SetByStaff => "staff",
            Self::ChangedByClient => "self",
        }
    }
}

/// The request's part of a password-changed notice, worked out once.
#[derive(Debug, Clone)]
pub(crate) struct PasswordNotice {
    reason: PasswordChangeReason,
    ip: Option<String>,
    location: Option<Location>,
    device: Device,
}

impl PortalService {
    /// Looks up where the request came from (GeoIP failures count as
    /// unknown) and what device sent it: the state-independent part of the
    /// notice, for [`PasswordNotice::for_account`] in every attempt.
    pub(crate) async fn password_notice(
        &self,
        ctx: &RequestContext,
        reason: PasswordChangeReason,
    ) -> PasswordNotice {
        let location = self.locate(ctx.ip).await;
        PasswordNotice {
            reason,
            ip: ctx.ip.map(|ip| ip.to_string()),
            location,
            device: ctx
                .user_agent
                .as_deref()
                .map(parse_user_agent)
                .unwrap_or_default(),
        }
    }
}

impl PasswordNotice {
    /// The notice to `account` (as loaded) with its single-use "this wasn't
    /// me" link, and the token record to issue in the same commit.
    pub(crate) fn for_account(
        &self,
        service: &PortalService,
        account: &Account,
        now: OffsetDateTime,
    ) -> (MailIntent, TokenRecord) {
        let token = service.new_token();
        let record = TokenRecord::issued(
            &token,
            TokenKind::NotMe,
            account,
            now,
            now + service.config().not_me_ttl,
        );
        let intent = MailIntent {
            kind: MessageKind::PasswordChanged,
            tenant: account.tenant.clone(),
            account_id: Some(account.id),
            to: account.email.as_str().to_owned(),
            to_name: account.display_name.clone(),
            link: Some(MailLink {
                page: "/not-me",
                token,
                expires_at: record.expires_at,
            }),
            secret: None,
            vars: serde_json::json!({
                "reason": self.reason.as_str(),
                "changed_at": crate::mail::mail_time(now),
                "ip": self.ip,
                "location": self.location.as_ref().map(|l| l.to_string()),
                "os": self.device.os,
                "browser": self.device.browser,
                "reset_url": service.config().portal_url("/forgot-password", None),
            }),
            language: account.language.clone(),
        };
        (intent, record)
    }
}
