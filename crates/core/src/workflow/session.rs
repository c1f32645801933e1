//! Client sessions: issue, validate, touch, revoke.
//!
//! A session lives until the first of: its absolute expiry
//! (`session_absolute_ttl` after sign-in), `session_idle_ttl` without use,
//! its revocation (sign-out, password change, reset, access disabled,
//! archived, "this wasn't me"), or the account losing access. Its
//! `last_seen_at` is written at most once per [`TOUCH_INTERVAL`], so a busy
//! client does not turn every request into a write.
//!
//! ```
//! use portal_access_core::workflow::session::{issue, validate, SessionCheck};
//! use portal_access_core::{Account, AccountId, EmailAddress, RawToken, RequestContext, TenantId};
//! use time::{macros::datetime, Duration};
//!
//! let now = datetime!(2026-01-01 9:00 UTC);
//! let account = Account::new(AccountId::from_random([1; 16]), TenantId::new("firm").unwrap(),
//!     EmailAddress::parse("ann@example.com").unwrap(), None, None, now);
//! let token = RawToken::from_bytes([2; 32]);
//! let session = issue(&account, token.hash(), &RequestContext::default(), now, Duration::days(30));
//!
//! let later = now + Duration::minutes(5);
//! let check = validate(Some(&session), Some(&account), later, Duration::hours(12)).unwrap();
//! assert_eq!(check, SessionCheck { touch: true });
//! assert!(validate(Some(&session), Some(&account), now + Duration::hours(13), Duration::hours(12)).is_err());
//! ```

use time::{Duration, OffsetDateTime};

use super::changes::client_event;
use super::{Decision, ErrorCode, Refusal};
use crate::{
    Access, Account, AuditKind, Changes, EventId, RequestContext, SessionRecord, SessionRevocation,
    TokenHash,
};

/// `last_seen_at` is written at most this often.
pub const TOUCH_INTERVAL: Duration = Duration::minutes(1);

/// No valid session (`unauthenticated`). The variants say why, for logs and
/// tests; every one has the same code and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnauthenticatedError {
    /// No cookie, a malformed one, or no such session.
    #[error("please sign in")]
    NoSession,
    /// Signed out, or revoked by a change to the account.
    #[error("please sign in")]
    Revoked,
    /// Unused for longer than the idle limit.
    #[error("please sign in")]
    IdleExpired,
    /// Past its absolute expiry.
    #[error("please sign in")]
    Expired,
    /// The account is gone, archived, or its access is disabled.
    #[error("please sign in")]
    AccountUnavailable,
}

impl Refusal for UnauthenticatedError {
    fn code(&self) -> ErrorCode {
        ErrorCode::Unauthenticated
    }
}

/// A valid session, and whether its `last_seen_at` should be written now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCheck {
    /// Write `last_seen_at = now` (more than [`TOUCH_INTERVAL`] since the last write).
    pub touch: bool,
}

/// A new session for `account`, stored under `token` (the hash of the
/// cookie's fresh raw token), ending `absolute_ttl` after `now` whatever
/// the activity.
pub fn issue(
    account: &Account,
    token: TokenHash,
    ctx: &RequestContext,
    now: OffsetDateTime,
    absolute_ttl: Duration,
) -> SessionRecord {
    SessionRecord {
        hash: token,
        tenant: account.tenant.clone(),
        account_id: account.id,
        created_at: now,
        last_seen_at: now,
        expires_at: now + absolute_ttl,
        revoked_at: None,
        ip: ctx.ip,
        user_agent: ctx.user_agent.clone(),
    }
}

/// Whether `session` (as loaded) of `account` (as loaded) is valid at `now`.
pub fn validate(
    session: Option<&SessionRecord>,
    account: Option<&Account>,
    now: OffsetDateTime,
    idle_ttl: Duration,
) -> Result<SessionCheck, UnauthenticatedError> {
    let session = session.ok_or(UnauthenticatedError::NoSession)?;
    if session.revoked_at.is_some() {
        return Err(UnauthenticatedError::Revoked);
    }
    if session.expires_at <= now {
        return Err(UnauthenticatedError::Expired);
    }
    if session.last_seen_at + idle_ttl <= now {
        return Err(UnauthenticatedError::IdleExpired);
    }
    let account = account.ok_or(UnauthenticatedError::AccountUnavailable)?;
    if account.id != session.account_id
        || account.tenant != session.tenant
        || account.archived
        || account.access == Access::Disabled
    {
        return Err(UnauthenticatedError::AccountUnavailable);
    }
    Ok(SessionCheck {
        touch: now - session.last_seen_at >= TOUCH_INTERVAL,
    })
}

/// Revokes every session of `account` (none kept).
pub fn revoke_all(account: &Account, now: OffsetDateTime) -> SessionRevocation {
    SessionRevocation::all_of(account, now)
}

/// Sign-out: revokes this one session and records it.
pub fn decide_sign_out(
    account: &Account,
    session: &SessionRecord,
    ctx: &RequestContext,
    event_id: EventId,
    now: OffsetDateTime,
) -> Decision<()> {
    let changes = Changes {
        revoke_sessions: vec![SessionRevocation::One {
            hash: session.hash,
            at: now,
        }],
        audit: vec![client_event(
            account,
            AuditKind::SignedOut,
            ctx,
            event_id,
            now,
        )],
        ..Changes::default()
    };
    Decision::new(changes, ())
}

/// Shared fixtures for the client-side workflow tests.
#[cfg(test)]
pub(crate) mod test_support {
    use std::net::{IpAddr, Ipv4Addr};

    use time::macros::datetime;
    use time::OffsetDateTime;

    use crate::{
        Account, AccountId, EmailAddress, EventId, Invitation, PasswordHash, RawToken,
        RequestContext, TenantId, TokenKind, TokenRecord, Username,
    };

    pub fn now() -> OffsetDateTime {
        datetime!(2026-03-02 10:00 UTC)
    }

    pub fn tenant() -> TenantId {
        TenantId::new("firm").unwrap()
    }

    pub fn ctx() -> RequestContext {
        RequestContext {
            ip: Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7))),
            user_agent: Some(
                "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0".into(),
            ),
            expected_version: None,
        }
    }

    pub fn event_id(n: u8) -> EventId {
        EventId::from_random([n; 16])
    }

    pub fn token(n: u8) -> RawToken {
        RawToken::from_bytes([n; 32])
    }

    /// A never-invited account.
    pub fn new_account() -> Account {
        let mut account = Account::new(
            AccountId::from_random([9; 16]),
            tenant(),
            EmailAddress::parse("ann.client@example.com").unwrap(),
            Some("contact-1".into()),
            Some("Ann Client".into()),
            now() - time::Duration::days(30),
        );
        account.version = 3;
        account
    }

    /// An account whose invitation is pending.
    pub fn pending_account() -> Account {
        let mut account = new_account();
        account.invitation = Invitation::Pending {
            sent_at: now() - time::Duration::days(1),
            expires_at: now() + time::Duration::days(6),
        };
        account
    }

    /// An accepted account with a username and a password.
    pub fn accepted_account() -> Account {
        let mut account = new_account();
        account.invitation = Invitation::Accepted {
            at: now() - time::Duration::days(20),
        };
        account.username = Some(Username::parse("ann.c").unwrap());
        account.password_hash = Some(PasswordHash::new(
            "$argon2id$v=19$m=256,t=1,p=1$c2FsdA$aGFzaA",
        ));
        account
    }

    /// `account` archived, and `account` with access disabled: the two
    /// states in which no link of it may work.
    pub fn archived_or_disabled(account: Account) -> [Account; 2] {
        let mut archived = account.clone();
        archived.archived = true;
        let mut disabled = account;
        disabled.access = crate::Access::Disabled;
        [archived, disabled]
    }

    /// The password-changed notice a client-side change queues, with the
    /// "this wasn't me" token `n` it carries.
    pub fn password_changed_notice(
        account: &Account,
        reason: &str,
        n: u8,
    ) -> (crate::workflow::MailIntent, TokenRecord) {
        let intent = crate::workflow::MailIntent {
            kind: crate::MessageKind::PasswordChanged,
            tenant: account.tenant.clone(),
            account_id: Some(account.id),
            to: account.email.as_str().into(),
            to_name: None,
            link: None,
            secret: None,
            vars: serde_json::json!({ "reason": reason }),
            language: None,
        };
        (intent, token_record(account, TokenKind::NotMe, n))
    }

    pub fn token_record(account: &Account, kind: TokenKind, n: u8) -> TokenRecord {
        TokenRecord {
            hash: token(n).hash(),
            kind,
            tenant: account.tenant.clone(),
            account_id: account.id,
            created_at: now() - time::Duration::minutes(10),
            expires_at: now() + time::Duration::minutes(50),
            used_at: None,
            revoked_at: None,
            message_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    fn live_session(account: &Account) -> SessionRecord {
        issue(
            account,
            token(1).hash(),
            &ctx(),
            now() - Duration::hours(1),
            Duration::days(30),
        )
    }

    #[test]
    fn a_new_session_ends_absolute_ttl_after_sign_in_and_records_ip_and_agent() {
        let account = accepted_account();
        let session = issue(&account, token(1).hash(), &ctx(), now(), Duration::days(30));
        assert_eq!(session.expires_at, now() + Duration::days(30));
        assert_eq!(session.last_seen_at, now());
        assert_eq!(session.ip, ctx().ip);
        assert_eq!(session.user_agent, ctx().user_agent);
        assert_eq!(session.account_id, account.id);
    }

    #[test]
    fn a_live_session_of_an_enabled_account_is_valid() {
        let account = accepted_account();
        let session = live_session(&account);
        assert!(validate(Some(&session), Some(&account), now(), Duration::hours(12)).is_ok());
    }

    #[test]
    fn a_missing_session_is_unauthenticated() {
        let account = accepted_account();
        assert_eq!(
            validate(None, Some(&account), now(), Duration::hours(12)),
            Err(UnauthenticatedError::NoSession)
        );
    }

    #[test]
    fn a_revoked_session_is_unauthenticated() {
        let account = accepted_account();
        let mut session = live_session(&account);
        session.revoked_at = Some(now() - Duration::minutes(1));
        assert_eq!(
            validate(Some(&session), Some(&account), now(), Duration::hours(12)),
            Err(UnauthenticatedError::Revoked)
        );
    }

    #[test]
    fn a_session_unused_for_the_idle_limit_is_unauthenticated() {
        let account = accepted_account();
        let session = live_session(&account);
        let at_limit = session.last_seen_at + Duration::hours(12);
        assert_eq!(
            validate(
                Some(&session),
                Some(&account),
                at_limit,
                Duration::hours(12)
            ),
            Err(UnauthenticatedError::IdleExpired)
        );
        assert!(validate(
            Some(&session),
            Some(&account),
            at_limit - Duration::seconds(1),
            Duration::hours(12)
        )
        .is_ok());
    }

    #[test]
    fn a_session_past_its_absolute_expiry_is_unauthenticated_however_active() {
        let account = accepted_account();
        let mut session = live_session(&account);
        let end = session.expires_at;
        session.last_seen_at = end - Duration::minutes(1);
        assert_eq!(
            validate(Some(&session), Some(&account), end, Duration::hours(12)),
            Err(UnauthenticatedError::Expired)
        );
    }

    #[test]
    fn a_session_of_a_disabled_or_archived_account_is_unauthenticated() {
        let mut disabled = accepted_account();
        disabled.access = Access::Disabled;
        let session = live_session(&disabled);
        assert_eq!(
            validate(Some(&session), Some(&disabled), now(), Duration::hours(12)),
            Err(UnauthenticatedError::AccountUnavailable)
        );
        let mut archived = accepted_account();
        archived.archived = true;
        assert_eq!(
            validate(Some(&session), Some(&archived), now(), Duration::hours(12)),
            Err(UnauthenticatedError::AccountUnavailable)
        );
        assert_eq!(
            validate(Some(&session), None, now(), Duration::hours(12)),
            Err(UnauthenticatedError::AccountUnavailable)
        );
    }

    #[test]
    fn last_seen_is_touched_at_most_once_a_minute() {
        let account = accepted_account();
        let mut session = live_session(&account);
        session.last_seen_at = now() - Duration::seconds(59);
        let check = validate(Some(&session), Some(&account), now(), Duration::hours(12)).unwrap();
        assert!(!check.touch);
        session.last_seen_at = now() - Duration::seconds(60);
        let check = validate(Some(&session), Some(&account), now(), Duration::hours(12)).unwrap();
        assert!(check.touch);
    }

    #[test]
    fn sign_out_revokes_only_this_session_and_records_it() {
        let account = accepted_account();
        let session = live_session(&account);
        let decision = decide_sign_out(&account, &session, &ctx(), event_id(1), now());
        assert_eq!(
            decision.changes.revoke_sessions,
            vec![SessionRevocation::One {
                hash: session.hash,
                at: now()
            }]
        );
        assert_eq!(decision.changes.audit[0].kind, AuditKind::SignedOut);
        assert!(decision.changes.account.is_none());
    }

    #[test]
    fn revoke_all_keeps_no_session() {
        let account = accepted_account();
        assert_eq!(
            revoke_all(&account, now()),
            SessionRevocation::AllOfAccount {
                tenant: account.tenant.clone(),
                account_id: account.id,
                except: None,
                at: now(),
            }
        );
    }
}
