//! Row <-> domain mapping, once for every dialect: ids as UUIDs, hashes as
//! 32 bytes, enums as their stable text; times, counters and JSON as the
//! [`Dialect`](crate::Dialect) stores them.

use std::net::IpAddr;

use portal_access_core::{
    Access, Account, AccountId, Actor, AuditEvent, AuditKind, ChainHash, ChainPoint, ChainedEvent,
    ConsoleSignIn, DeliveryState, DeviceRecord, EmailAddress, EventId, Invitation, Language,
    LinkOpening, MessageId, MessageKind, NewMessage, OutboxMessage, PasswordHash, SessionRecord,
    StaffId, StoreError, TenantId, TokenHash, TokenKind, TokenRecord, Username,
};
use time::OffsetDateTime;

use crate::{corrupt, Arg, Backend, SqlRow, Statement};

fn access_str(access: Access) -> &'static str {
    match access {
        Access::Enabled => "enabled",
        Access::Disabled => "disabled",
    }
}

/// The columns an [`Invitation`] is stored in.
struct InvitationColumns {
    state: &'static str,
    sent_at: Option<OffsetDateTime>,
    expires_at: Option<OffsetDateTime>,
    accepted_at: Option<OffsetDateTime>,
}

impl From<&Invitation> for InvitationColumns {
    fn from(invitation: &Invitation) -> Self {
        let (state, sent_at, expires_at, accepted_at) = match invitation {
            Invitation::NotInvited => ("not_invited", None, None, None),
            Invitation::Pending {
                sent_at,
                expires_at,
            } => ("pending", Some(*sent_at), Some(*expires_at), None),
            Invitation::Accepted { at } => ("accepted", None, None, Some(*at)),
        };
        Self {
            state,
            sent_at,
            expires_at,
            accepted_at,
        }
    }
}

/// An account's twenty-two columns, in `account_columns` order, bound to
/// `sql` (an insert or a versioned update). The second factors are one JSON
/// document (`mfa`).
pub fn account_statement<'q>(
    sql: &'static str,
    account: &'q Account,
) -> Result<Statement<'q>, StoreError> {
    let invitation = InvitationColumns::from(&account.invitation);
    Ok(Statement::new(sql)
        .arg(account.id.as_uuid())
        .arg(account.tenant.as_str())
        .arg(account.contact_ref.as_deref())
        .arg(account.display_name.as_deref())
        .arg(account.email.as_str())
        .arg(account.email.normalized())
        .arg(account.username.as_ref().map(|u| u.as_str()))
        .arg(account.username.as_ref().map(|u| u.key()))
        .arg(account.password_hash.as_ref().map(|h| h.as_str()))
        .arg(access_str(account.access))
        .arg(account.archived)
        .arg(invitation.state)
        .arg(invitation.sent_at)
        .arg(invitation.expires_at)
        .arg(invitation.accepted_at)
        .arg(account.must_change_password)
        .arg(account.last_sign_in_at)
        .arg(account.created_at)
        .arg(account.updated_at)
        .arg(account.version)
        .arg(Arg::Json(std::borrow::Cow::Owned(
            serde_json::to_value(&account.mfa).map_err(StoreError::backend)?,
        )))
        .arg(account.language.as_ref().map(Language::as_str)))
}

/// A hash as bound bytes.
pub fn hash_arg(hash: &TokenHash) -> Arg<'_> {
    Arg::Bytes(&hash.as_bytes()[..])
}

/// An IP address as bound text.
pub fn ip_arg(ip: Option<IpAddr>) -> Arg<'static> {
    Arg::OptString(ip.map(|ip| ip.to_string()))
}

fn hash<D: Backend>(row: &SqlRow<D>, column: &'static str) -> Result<TokenHash, StoreError> {
    opt_hash::<D>(row, column)?.ok_or_else(|| corrupt(column, "null"))
}

fn opt_hash<D: Backend>(
    row: &SqlRow<D>,
    column: &'static str,
) -> Result<Option<TokenHash>, StoreError> {
    D::opt_bytes(row, column)?
        .map(|bytes| TokenHash::from_slice(&bytes).ok_or_else(|| corrupt(column, "not 32 bytes")))
        .transpose()
}

pub(crate) fn tenant<D: Backend>(row: &SqlRow<D>) -> Result<TenantId, StoreError> {
    TenantId::new(D::text(row, "tenant")?).map_err(|e| corrupt("tenant", e))
}

fn ip<D: Backend>(row: &SqlRow<D>) -> Result<Option<IpAddr>, StoreError> {
    D::opt_text(row, "ip")?
        .map(|text| text.parse().map_err(|e| corrupt("ip", e)))
        .transpose()
}

/// A domain value built from a row of any dialect.
pub trait FromRow: Sized {
    /// Decodes one row.
    fn from_row<D: Backend>(row: &SqlRow<D>) -> Result<Self, StoreError>;
}

impl FromRow for Account {
    fn from_row<D: Backend>(row: &SqlRow<D>) -> Result<Self, StoreError> {
        let invitation = match D::text(row, "invitation_state")?.as_str() {
            "not_invited" => Invitation::NotInvited,
            "pending" => Invitation::Pending {
                sent_at: D::time(row, "invitation_sent_at")?,
                expires_at: D::time(row, "invitation_expires_at")?,
            },
            "accepted" => Invitation::Accepted {
                at: D::time(row, "invitation_accepted_at")?,
            },
            other => return Err(corrupt("invitation_state", other)),
        };
        let access = match D::text(row, "access")?.as_str() {
            "enabled" => Access::Enabled,
            "disabled" => Access::Disabled,
            other => return Err(corrupt("access", other)),
        };
        Ok(Account {
            id: AccountId::from_uuid(D::uuid(row, "id")?),
            tenant: tenant::<D>(row)?,
            contact_ref: D::opt_text(row, "contact_ref")?,
            display_name: D::opt_text(row, "display_name")?,
            email: EmailAddress::parse(&D::text(row, "email")?).map_err(|e| corrupt("email", e))?,
            username: D::opt_text(row, "username")?
                .map(|name| Username::parse(&name).map_err(|e| corrupt("username", e)))
                .transpose()?,
            password_hash: D::opt_text(row, "password_hash")?.map(PasswordHash::new),
            access,
            archived: D::boolean(row, "archived")?,
            invitation,
            must_change_password: D::boolean(row, "must_change_password")?,
            last_sign_in_at: D::opt_time(row, "last_sign_in_at")?,
            created_at: D::time(row, "created_at")?,
            updated_at: D::time(row, "updated_at")?,
            mfa: serde_json::from_value(D::json(row, "mfa")?).map_err(|e| corrupt("mfa", e))?,
            language: D::opt_text(row, "language")?.map(Language::stored),
            version: D::int(row, "version")?,
        })
    }
}

impl FromRow for TokenRecord {
    fn from_row<D: Backend>(row: &SqlRow<D>) -> Result<Self, StoreError> {
        let kind = D::text(row, "kind")?;
        Ok(TokenRecord {
            hash: hash::<D>(row, "hash")?,
            kind: TokenKind::parse(&kind).ok_or_else(|| corrupt("kind", kind))?,
            tenant: tenant::<D>(row)?,
            account_id: AccountId::from_uuid(D::uuid(row, "account_id")?),
            created_at: D::time(row, "created_at")?,
            expires_at: D::time(row, "expires_at")?,
            used_at: D::opt_time(row, "used_at")?,
            revoked_at: D::opt_time(row, "revoked_at")?,
            message_id: D::opt_uuid(row, "message_id")?.map(MessageId::from_uuid),
        })
    }
}

impl FromRow for SessionRecord {
    fn from_row<D: Backend>(row: &SqlRow<D>) -> Result<Self, StoreError> {
        session::<D>(row, "created_at")
    }
}

/// A session from a row whose session creation time is in `created_at`
/// (another name when the row also holds the account's columns).
pub fn session<D: Backend>(
    row: &SqlRow<D>,
    created_at: &'static str,
) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        hash: hash::<D>(row, "hash")?,
        tenant: tenant::<D>(row)?,
        account_id: AccountId::from_uuid(D::uuid(row, "account_id")?),
        created_at: D::time(row, created_at)?,
        last_seen_at: D::time(row, "last_seen_at")?,
        expires_at: D::time(row, "expires_at")?,
        revoked_at: D::opt_time(row, "revoked_at")?,
        ip: ip::<D>(row)?,
        user_agent: D::opt_text(row, "user_agent")?,
    })
}

impl FromRow for ConsoleSignIn {
    fn from_row<D: Backend>(row: &SqlRow<D>) -> Result<Self, StoreError> {
        Ok(ConsoleSignIn {
            hash: hash::<D>(row, "hash")?,
            tenant: tenant::<D>(row)?,
            staff_id: StaffId::new(D::text(row, "staff_id")?)
                .map_err(|e| corrupt("staff_id", e))?,
            created_at: D::time(row, "created_at")?,
            expires_at: D::time(row, "expires_at")?,
        })
    }
}

impl FromRow for DeviceRecord {
    fn from_row<D: Backend>(row: &SqlRow<D>) -> Result<Self, StoreError> {
        Ok(DeviceRecord {
            hash: hash::<D>(row, "hash")?,
            tenant: tenant::<D>(row)?,
            account_id: AccountId::from_uuid(D::uuid(row, "account_id")?),
            created_at: D::time(row, "created_at")?,
            expires_at: D::time(row, "expires_at")?,
            revoked_at: D::opt_time(row, "revoked_at")?,
            ip: ip::<D>(row)?,
            user_agent: D::opt_text(row, "user_agent")?,
        })
    }
}

impl FromRow for AuditEvent {
    fn from_row<D: Backend>(row: &SqlRow<D>) -> Result<Self, StoreError> {
        let kind = D::text(row, "kind")?;
        let actor: Actor =
            serde_json::from_value(D::json(row, "actor")?).map_err(|e| corrupt("actor", e))?;
        Ok(AuditEvent {
            id: EventId::from_uuid(D::uuid(row, "id")?),
            tenant: tenant::<D>(row)?,
            account_id: D::opt_uuid(row, "account_id")?.map(AccountId::from_uuid),
            actor,
            kind: AuditKind::parse(&kind).ok_or_else(|| corrupt("kind", kind))?,
            at: D::time(row, "at")?,
            ip: ip::<D>(row)?,
            user_agent: D::opt_text(row, "user_agent")?,
            detail: D::json(row, "detail")?,
        })
    }
}

/// A chain sequence number as stored (a signed 64-bit column).
pub(crate) fn seq_arg(seq: u64) -> Result<i64, StoreError> {
    i64::try_from(seq).map_err(|e| corrupt("chain_seq", e))
}

fn chain_hash<D: Backend>(row: &SqlRow<D>, column: &'static str) -> Result<ChainHash, StoreError> {
    let bytes = D::opt_bytes(row, column)?.ok_or_else(|| corrupt(column, "null"))?;
    ChainHash::from_slice(&bytes).ok_or_else(|| corrupt(column, "not 32 bytes"))
}

fn chain_seq<D: Backend>(row: &SqlRow<D>, column: &'static str) -> Result<u64, StoreError> {
    u64::try_from(D::int(row, column)?).map_err(|e| corrupt(column, e))
}

/// A chain head or checkpoint: columns `seq` and `hash`.
pub(crate) fn chain_point<D: Backend>(row: &SqlRow<D>) -> Result<ChainPoint, StoreError> {
    Ok(ChainPoint {
        seq: chain_seq::<D>(row, "seq")?,
        hash: chain_hash::<D>(row, "hash")?,
    })
}

impl FromRow for ChainedEvent {
    fn from_row<D: Backend>(row: &SqlRow<D>) -> Result<Self, StoreError> {
        Ok(ChainedEvent {
            seq: chain_seq::<D>(row, "chain_seq")?,
            hash: chain_hash::<D>(row, "hash")?,
            event: AuditEvent::from_row::<D>(row)?,
        })
    }
}

impl FromRow for OutboxMessage {
    fn from_row<D: Backend>(row: &SqlRow<D>) -> Result<Self, StoreError> {
        let kind = D::text(row, "kind")?;
        let state = D::text(row, "state")?;
        Ok(OutboxMessage {
            message: NewMessage {
                id: MessageId::from_uuid(D::uuid(row, "id")?),
                tenant: tenant::<D>(row)?,
                account_id: D::opt_uuid(row, "account_id")?.map(AccountId::from_uuid),
                kind: MessageKind::parse(&kind).ok_or_else(|| corrupt("kind", kind))?,
                to: D::text(row, "to_address")?,
                to_name: D::opt_text(row, "to_name")?,
                subject: D::text(row, "subject")?,
                text_body: D::text(row, "text_body")?,
                html_body: D::text(row, "html_body")?,
                token_hash: opt_hash::<D>(row, "token_hash")?,
                token_expires_at: D::opt_time(row, "token_expires_at")?,
                created_at: D::time(row, "created_at")?,
            },
            state: DeliveryState::parse(&state).ok_or_else(|| corrupt("state", state))?,
            attempts: D::count(row, "attempts")?,
            next_attempt_at: D::time(row, "next_attempt_at")?,
            last_error: D::opt_text(row, "last_error")?,
            sent_at: D::opt_time(row, "sent_at")?,
            failed_at: D::opt_time(row, "failed_at")?,
            redacted: D::boolean(row, "redacted")?,
        })
    }
}

impl FromRow for LinkOpening {
    fn from_row<D: Backend>(row: &SqlRow<D>) -> Result<Self, StoreError> {
        Ok(LinkOpening {
            token_hash: hash::<D>(row, "token_hash")?,
            account_id: AccountId::from_uuid(D::uuid(row, "account_id")?),
            tenant: tenant::<D>(row)?,
            at: D::time(row, "at")?,
            ip: ip::<D>(row)?,
            user_agent: D::opt_text(row, "user_agent")?,
        })
    }
}
