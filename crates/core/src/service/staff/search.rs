//! Finding accounts: what the staff console's search and list show.

use serde::Serialize;
use time::OffsetDateTime;

use super::super::{infra, PortalService, ServiceError, StaffActor};
use crate::workflow::status::InvitationState;
use crate::workflow::NoRefusal;
use crate::{Access, Account, AccountId, AccountSearch};

/// How many accounts one page of a search lists.
pub const ACCOUNTS_PER_PAGE: u32 = 25;
/// The longest search text kept (longer input is cut).
const MAX_SEARCH_CHARS: usize = 200;

/// One account in a list: what its badges say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountSummary {
    /// The account id.
    pub id: AccountId,
    /// The email address, as given.
    pub email: String,
    /// The username the client chose, if any.
    pub username: Option<String>,
    /// The host's contact reference.
    pub contact_ref: Option<String>,
    /// The display name.
    pub display_name: Option<String>,
    /// `enabled` or `disabled`.
    pub access: Access,
    /// Whether archived.
    pub archived: bool,
    /// Where the invitation stands.
    pub invitation: InvitationState,
    /// Whether the client must change the password at next sign-in.
    pub must_change_password: bool,
    /// The last sign-in.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_sign_in_at: Option<OffsetDateTime>,
}

impl From<&Account> for AccountSummary {
    fn from(account: &Account) -> Self {
        let status: crate::workflow::status::InvitationStatus = account.invitation.into();
        Self {
            id: account.id,
            email: account.email.as_str().to_owned(),
            username: account.username.as_ref().map(|u| u.as_str().to_owned()),
            contact_ref: account.contact_ref.clone(),
            display_name: account.display_name.clone(),
            access: account.access,
            archived: account.archived,
            invitation: status.state,
            must_change_password: account.must_change_password,
            last_sign_in_at: account.last_sign_in_at,
        }
    }
}

/// A page of found accounts, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountPage {
    /// The accounts of this page.
    pub accounts: Vec<AccountSummary>,
    /// The page number (from 1).
    pub page: u32,
    /// Whether a next page exists.
    pub has_more: bool,
}

impl PortalService {
    /// The accounts of the staff member's tenant whose email, username or
    /// contact reference contains `text` (case-insensitive; every account
    /// when empty), [`ACCOUNTS_PER_PAGE`] per page, newest first. `page`
    /// counts from 1 (0 is read as 1).
    pub async fn find_accounts(
        &self,
        staff: &StaffActor,
        text: &str,
        page: u32,
    ) -> Result<AccountPage, ServiceError<NoRefusal>> {
        let page = page.max(1);
        let text: String = text.trim().chars().take(MAX_SEARCH_CHARS).collect();
        let query = AccountSearch {
            text: text.to_lowercase(),
            offset: (page - 1).saturating_mul(ACCOUNTS_PER_PAGE),
            limit: ACCOUNTS_PER_PAGE + 1,
        };
        let mut found = self
            .store()
            .search_accounts(&staff.tenant, &query)
            .await
            .map_err(infra)?;
        let has_more = found.len() > ACCOUNTS_PER_PAGE as usize;
        found.truncate(ACCOUNTS_PER_PAGE as usize);
        Ok(AccountPage {
            accounts: found.iter().map(AccountSummary::from).collect(),
            page,
            has_more,
        })
    }
}
