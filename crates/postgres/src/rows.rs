//! Row <-> domain mapping: times as timestamptz (microseconds), ids as
//! uuid, hashes as 32-byte bytea, enums as their stable text.

use std::net::IpAddr;

use portal_access_core::{
    Access, Account, AccountId, Actor, AuditEvent, AuditKind, DeliveryState, EmailAddress, EventId,
    Invitation, LinkOpening, MessageId, MessageKind, NewMessage, OutboxMessage, PasswordHash,
    SessionRecord, StoreError, TenantId, TokenHash, TokenKind, TokenRecord, Username,
};
use sqlx::postgres::PgRow;
use sqlx::types::Uuid;
use sqlx::Row;
use time::OffsetDateTime;

/// A stored value that does not decode into the domain (a corrupt row).
#[derive(Debug, thiserror::Error)]
#[error("stored {column} does not decode: {reason}")]
pub struct CorruptRow {
    column: &'static str,
    reason: String,
}

fn corrupt(column: &'static str, reason: impl ToString) -> StoreError {
    StoreError::backend(CorruptRow {
        column,
        reason: reason.to_string(),
    })
}

/// `at` in UTC, truncated to the microsecond (what timestamptz keeps).
pub fn ts(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    // The nanosecond field is within [0, 1e9): this floors.
    at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(at)
}

/// [`ts`] of an optional time.
pub fn opt_ts(at: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    at.map(ts)
}

/// A stored counter as `u32`.
pub fn count(value: i32) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|e| corrupt("count", e))
}

pub fn access_str(access: Access) -> &'static str {
    match access {
        Access::Enabled => "enabled",
        Access::Disabled => "disabled",
    }
}

/// The columns an [`Invitation`] is stored in.
pub struct InvitationColumns {
    pub state: &'static str,
    pub sent_at: Option<OffsetDateTime>,
    pub expires_at: Option<OffsetDateTime>,
    pub accepted_at: Option<OffsetDateTime>,
}

impl From<&Invitation> for InvitationColumns {
    fn from(invitation: &Invitation) -> Self {
        match invitation {
            Invitation::NotInvited => Self {
                state: "not_invited",
                sent_at: None,
                expires_at: None,
                accepted_at: None,
            },
            Invitation::Pending {
                sent_at,
                expires_at,
            } => Self {
                state: "pending",
                sent_at: Some(ts(*sent_at)),
                expires_at: Some(ts(*expires_at)),
                accepted_at: None,
            },
            Invitation::Accepted { at } => Self {
                state: "accepted",
                sent_at: None,
                expires_at: None,
                accepted_at: Some(ts(*at)),
            },
        }
    }
}

/// Typed column access with errors as [`StoreError`].
trait Get {
    fn get_opt<T>(&self, column: &'static str) -> Result<T, StoreError>
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>;

    fn time(&self, column: &'static str) -> Result<OffsetDateTime, StoreError> {
        self.get_opt(column)
    }

    fn opt_time(&self, column: &'static str) -> Result<Option<OffsetDateTime>, StoreError> {
        self.get_opt(column)
    }

    fn uuid(&self, column: &'static str) -> Result<Uuid, StoreError> {
        self.get_opt(column)
    }

    fn hash(&self, column: &'static str) -> Result<TokenHash, StoreError> {
        let bytes: Vec<u8> = self.get_opt(column)?;
        TokenHash::from_slice(&bytes).ok_or_else(|| corrupt(column, "not 32 bytes"))
    }

    fn opt_hash(&self, column: &'static str) -> Result<Option<TokenHash>, StoreError> {
        self.get_opt::<Option<Vec<u8>>>(column)?
            .map(|bytes| {
                TokenHash::from_slice(&bytes).ok_or_else(|| corrupt(column, "not 32 bytes"))
            })
            .transpose()
    }

    fn tenant(&self) -> Result<TenantId, StoreError> {
        TenantId::new(self.get_opt::<String>("tenant")?).map_err(|e| corrupt("tenant", e))
    }

    fn ip(&self) -> Result<Option<IpAddr>, StoreError> {
        self.get_opt::<Option<String>>("ip")?
            .map(|text| text.parse().map_err(|e| corrupt("ip", e)))
            .transpose()
    }
}

impl Get for PgRow {
    fn get_opt<T>(&self, column: &'static str) -> Result<T, StoreError>
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        self.try_get(column).map_err(StoreError::backend)
    }
}

/// Builds a domain value from a row.
pub trait Decode: Sized {
    /// Decodes one row.
    fn decode(row: &PgRow) -> Result<Self, StoreError>;
}

impl Decode for Account {
    fn decode(row: &PgRow) -> Result<Self, StoreError> {
        let invitation = match row.get_opt::<String>("invitation_state")?.as_str() {
            "not_invited" => Invitation::NotInvited,
            "pending" => Invitation::Pending {
                sent_at: row.time("invitation_sent_at")?,
                expires_at: row.time("invitation_expires_at")?,
            },
            "accepted" => Invitation::Accepted {
                at: row.time("invitation_accepted_at")?,
            },
            other => return Err(corrupt("invitation_state", other)),
        };
        let access = match row.get_opt::<String>("access")?.as_str() {
            "enabled" => Access::Enabled,
            "disabled" => Access::Disabled,
            other => return Err(corrupt("access", other)),
        };
        Ok(Account {
            id: AccountId::from_uuid(row.uuid("id")?),
            tenant: row.tenant()?,
            contact_ref: row.get_opt("contact_ref")?,
            display_name: row.get_opt("display_name")?,
            email: EmailAddress::parse(&row.get_opt::<String>("email")?)
                .map_err(|e| corrupt("email", e))?,
            username: row
                .get_opt::<Option<String>>("username")?
                .map(|name| Username::parse(&name).map_err(|e| corrupt("username", e)))
                .transpose()?,
            password_hash: row
                .get_opt::<Option<String>>("password_hash")?
                .map(PasswordHash::new),
            access,
            archived: row.get_opt("archived")?,
            invitation,
            must_change_password: row.get_opt("must_change_password")?,
            last_sign_in_at: row.opt_time("last_sign_in_at")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            version: row.get_opt("version")?,
        })
    }
}

impl Decode for TokenRecord {
    fn decode(row: &PgRow) -> Result<Self, StoreError> {
        let kind = row.get_opt::<String>("kind")?;
        Ok(TokenRecord {
            hash: row.hash("hash")?,
            kind: TokenKind::parse(&kind).ok_or_else(|| corrupt("kind", kind))?,
            tenant: row.tenant()?,
            account_id: AccountId::from_uuid(row.uuid("account_id")?),
            created_at: row.time("created_at")?,
            expires_at: row.time("expires_at")?,
            used_at: row.opt_time("used_at")?,
            revoked_at: row.opt_time("revoked_at")?,
            message_id: row
                .get_opt::<Option<Uuid>>("message_id")?
                .map(MessageId::from_uuid),
        })
    }
}

impl Decode for SessionRecord {
    fn decode(row: &PgRow) -> Result<Self, StoreError> {
        decode_session(row, "created_at")
    }
}

/// A session from a row whose session creation time is in `created_at`
/// (another name when the row also holds the account's columns).
pub fn decode_session(row: &PgRow, created_at: &'static str) -> Result<SessionRecord, StoreError> {
    {
        Ok(SessionRecord {
            hash: row.hash("hash")?,
            tenant: row.tenant()?,
            account_id: AccountId::from_uuid(row.uuid("account_id")?),
            created_at: row.time(created_at)?,
            last_seen_at: row.time("last_seen_at")?,
            expires_at: row.time("expires_at")?,
            revoked_at: row.opt_time("revoked_at")?,
            ip: row.ip()?,
            user_agent: row.get_opt("user_agent")?,
        })
    }
}

impl Decode for AuditEvent {
    fn decode(row: &PgRow) -> Result<Self, StoreError> {
        let kind = row.get_opt::<String>("kind")?;
        let actor: Actor = serde_json::from_value(row.get_opt::<serde_json::Value>("actor")?)
            .map_err(|e| corrupt("actor", e))?;
        Ok(AuditEvent {
            id: EventId::from_uuid(row.uuid("id")?),
            tenant: row.tenant()?,
            account_id: row
                .get_opt::<Option<Uuid>>("account_id")?
                .map(AccountId::from_uuid),
            actor,
            kind: AuditKind::parse(&kind).ok_or_else(|| corrupt("kind", kind))?,
            at: row.time("at")?,
            ip: row.ip()?,
            user_agent: row.get_opt("user_agent")?,
            detail: row.get_opt("detail")?,
        })
    }
}

impl Decode for OutboxMessage {
    fn decode(row: &PgRow) -> Result<Self, StoreError> {
        let kind = row.get_opt::<String>("kind")?;
        let state = row.get_opt::<String>("state")?;
        Ok(OutboxMessage {
            message: NewMessage {
                id: MessageId::from_uuid(row.uuid("id")?),
                tenant: row.tenant()?,
                account_id: row
                    .get_opt::<Option<Uuid>>("account_id")?
                    .map(AccountId::from_uuid),
                kind: MessageKind::parse(&kind).ok_or_else(|| corrupt("kind", kind))?,
                to: row.get_opt("to_address")?,
                to_name: row.get_opt("to_name")?,
                subject: row.get_opt("subject")?,
                text_body: row.get_opt("text_body")?,
                html_body: row.get_opt("html_body")?,
                token_hash: row.opt_hash("token_hash")?,
                token_expires_at: row.opt_time("token_expires_at")?,
                created_at: row.time("created_at")?,
            },
            state: DeliveryState::parse(&state).ok_or_else(|| corrupt("state", state))?,
            attempts: count(row.get_opt::<i32>("attempts")?)?,
            next_attempt_at: row.time("next_attempt_at")?,
            last_error: row.get_opt("last_error")?,
            sent_at: row.opt_time("sent_at")?,
            failed_at: row.opt_time("failed_at")?,
            redacted: row.get_opt("redacted")?,
        })
    }
}

impl Decode for LinkOpening {
    fn decode(row: &PgRow) -> Result<Self, StoreError> {
        Ok(LinkOpening {
            token_hash: row.hash("token_hash")?,
            account_id: AccountId::from_uuid(row.uuid("account_id")?),
            tenant: row.tenant()?,
            at: row.time("at")?,
            ip: row.ip()?,
            user_agent: row.get_opt("user_agent")?,
        })
    }
}
