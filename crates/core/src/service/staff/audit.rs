//! Staff read their tenant's audit trail (SPEC.md section 9): page by page
//! in chain order, never another tenant's events.

use super::super::{infra, PortalService, ServiceError, StaffActor};
use crate::workflow::NoRefusal;
use crate::{AuditFilter, AuditQuery, ChainedEvent};

/// The most events one page of the trail holds.
pub const MAX_AUDIT_PAGE: u32 = 500;

impl PortalService {
    /// The events of the staff member's tenant after sequence number
    /// `after_seq` that pass `filter`, in chain order, at most `limit`
    /// (clamped to 1..=[`MAX_AUDIT_PAGE`]). The next page starts after the
    /// last event's `seq`; a page shorter than `limit` is the last.
    pub async fn audit_page(
        &self,
        staff: &StaffActor,
        filter: &AuditFilter,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<ChainedEvent>, ServiceError<NoRefusal>> {
        let query = AuditQuery {
            tenant: staff.tenant.clone(),
            after_seq,
            filter: filter.clone(),
            limit: limit.clamp(1, MAX_AUDIT_PAGE),
        };
        self.store().audit_page(&query).await.map_err(infra)
    }
}
