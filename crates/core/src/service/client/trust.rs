//! The signed-in client's sessions and remembered devices (the security
//! page and `/api/portal/sessions`, `/api/portal/devices`).

use super::super::{infra, ClientSession, PortalService, ServiceError};
use crate::service::MAX_LISTED;
use crate::workflow::trust::{
    decide_forget_device, decide_forget_devices, decide_revoke_other_sessions,
    decide_revoke_session, device_views, session_views, DeviceView, SessionView,
};
use crate::workflow::{NoRefusal, NotFoundError};
use crate::{ListingId, RequestContext};

impl PortalService {
    /// The client's live sessions, newest first, the caller's own marked
    /// `current`, with location (GeoIP), OS and browser.
    pub async fn sessions<E: crate::workflow::Refusal>(
        &self,
        session: &ClientSession,
    ) -> Result<Vec<SessionView>, ServiceError<E>> {
        let account = &session.account;
        let sessions = self
            .store()
            .sessions_for_account(&account.tenant, account.id, MAX_LISTED)
            .await
            .map_err(infra)?;
        let locations = self
            .locations(sessions.iter().map(|s| s.ip).collect())
            .await;
        let idle = self.config().session_idle_ttl;
        Ok(session_views(
            &sessions,
            Some(&session.session),
            &locations,
            idle,
            self.now(),
        ))
    }

    /// The client's remembered devices still in force, newest first.
    pub async fn devices<E: crate::workflow::Refusal>(
        &self,
        session: &ClientSession,
    ) -> Result<Vec<DeviceView>, ServiceError<E>> {
        let account = &session.account;
        let devices = self
            .store()
            .devices_for_account(&account.tenant, account.id, MAX_LISTED)
            .await
            .map_err(infra)?;
        let locations = self.locations(devices.iter().map(|d| d.ip).collect()).await;
        Ok(device_views(&devices, &locations, self.now()))
    }

    /// Ends one of the client's sessions by its id (their own current one
    /// included: that is a sign-out). An id that is not one of their live
    /// sessions (another account's, revoked, malformed) is `not_found`,
    /// and nothing changes.
    pub async fn revoke_session(
        &self,
        ctx: &RequestContext,
        session: &ClientSession,
        id: &str,
    ) -> Result<(), ServiceError<NotFoundError>> {
        let id = ListingId::parse(id).ok_or(ServiceError::Refused(NotFoundError))?;
        let account = &session.account;
        let now = self.now();
        let sessions = self
            .store()
            .sessions_for_account(&account.tenant, account.id, MAX_LISTED)
            .await
            .map_err(infra)?;
        let decision =
            decide_revoke_session(account, &sessions, &id, ctx, self.new_event_id(), now)
                .map_err(ServiceError::Refused)?;
        self.commit_unversioned(decision, now).await
    }

    /// Ends every other session of the client, keeping the caller's.
    pub async fn revoke_other_sessions(
        &self,
        ctx: &RequestContext,
        session: &ClientSession,
    ) -> Result<(), ServiceError<NoRefusal>> {
        let now = self.now();
        let decision = decide_revoke_other_sessions(
            &session.account,
            &session.session,
            ctx,
            self.new_event_id(),
            now,
        );
        self.commit_unversioned(decision, now).await
    }

    /// Forgets one remembered device by its id: that browser is asked for
    /// the second factor again. An id that is not one of the client's
    /// devices in force is `not_found`, and nothing changes.
    pub async fn forget_device(
        &self,
        ctx: &RequestContext,
        session: &ClientSession,
        id: &str,
    ) -> Result<(), ServiceError<NotFoundError>> {
        let id = ListingId::parse(id).ok_or(ServiceError::Refused(NotFoundError))?;
        let account = &session.account;
        let now = self.now();
        let devices = self
            .store()
            .devices_for_account(&account.tenant, account.id, MAX_LISTED)
            .await
            .map_err(infra)?;
        let decision = decide_forget_device(account, &devices, &id, ctx, self.new_event_id(), now)
            .map_err(ServiceError::Refused)?;
        self.commit_unversioned(decision, now).await
    }

    /// Forgets every remembered device of the client.
    pub async fn forget_devices(
        &self,
        ctx: &RequestContext,
        session: &ClientSession,
    ) -> Result<(), ServiceError<NoRefusal>> {
        let now = self.now();
        let decision = decide_forget_devices(&session.account, ctx, self.new_event_id(), now);
        self.commit_unversioned(decision, now).await
    }
}
