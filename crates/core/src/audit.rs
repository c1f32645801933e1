//! Reading the audit trail back: page by page in chain order (constant
//! memory however long the trail), and verifying a tenant's chain.
//!
//! ```
//! # use portal_access_core::{testing::MemoryStore, audit, AuditQuery, TenantId};
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = MemoryStore::new();
//! let tenant = TenantId::new("firm").unwrap();
//! let mut pages = audit::AuditPages::new(AuditQuery::all(tenant.clone(), 500));
//! while let Some(page) = pages.next(&store).await.unwrap() {
//!     for event in page { println!("{} {}", event.seq, event.hash); }
//! }
//! // An empty chain verifies (to the start).
//! assert_eq!(audit::verify_chain(&store, &tenant).await.unwrap().unwrap().seq, 0);
//! # });
//! ```

use crate::{
    AccountStore, AuditQuery, ChainBreak, ChainPoint, ChainVerifier, ChainedEvent, StoreError,
    TenantId,
};

/// How many events a verification or an export reads at once.
pub const PAGE_SIZE: u32 = 500;

/// A cursor over a query's events, one page at a time, in chain order.
#[derive(Debug, Clone)]
pub struct AuditPages {
    query: AuditQuery,
    done: bool,
}

impl AuditPages {
    /// Pages of `query`'s events, from `query.after_seq` on, `query.limit`
    /// events a page.
    pub fn new(query: AuditQuery) -> Self {
        Self { query, done: false }
    }

    /// The next page (`None` after the last event).
    pub async fn next(
        &mut self,
        store: &dyn AccountStore,
    ) -> Result<Option<Vec<ChainedEvent>>, StoreError> {
        if self.done {
            return Ok(None);
        }
        let page = store.audit_page(&self.query).await?;
        match page.last() {
            Some(last) if page.len() >= self.query.limit as usize => {
                self.query.after_seq = last.seq;
            }
            Some(_) => self.done = true,
            None => return Ok(None),
        }
        Ok(Some(page))
    }
}

/// Recomputes `tenant`'s chain from the store: from its retention
/// checkpoint through every stored event to its head. `Ok(Ok(head))` when
/// it holds; `Ok(Err(break))` names the first event changed, removed or
/// inserted.
pub async fn verify_chain(
    store: &dyn AccountStore,
    tenant: &TenantId,
) -> Result<Result<ChainPoint, ChainBreak>, StoreError> {
    let ends = store.audit_chain_ends(tenant).await?;
    let mut verifier = ChainVerifier::new(ends);
    let mut pages = AuditPages::new(AuditQuery::all(tenant.clone(), PAGE_SIZE));
    while let Some(page) = pages.next(store).await? {
        for event in &page {
            if let Err(found) = verifier.check(event) {
                return Ok(Err(found));
            }
        }
    }
    Ok(verifier.finish())
}

/// Retention: on every tenant's chain, removes the longest prefix of events
/// before `before` and records its checkpoint
/// ([`AccountStore::prune_audit`]). Returns how many events were removed.
pub async fn prune_before(
    store: &dyn AccountStore,
    before: time::OffsetDateTime,
) -> Result<u64, StoreError> {
    let mut removed = 0;
    for tenant in store.audit_tenants().await? {
        removed += store.prune_audit(&tenant, before).await?;
    }
    Ok(removed)
}
