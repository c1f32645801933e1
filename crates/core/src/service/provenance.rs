//! Where an audited request came from, in human terms: every audit event
//! committed through the service gets `"from": {"location", "os",
//! "browser"}` in its detail (each only when known: the location needs a
//! GeoIP database; OS and browser come from the User-Agent). Added here,
//! in the shell, once for every workflow and every audit kind, so a new
//! kind carries it with no work of its own.

use std::net::IpAddr;

use super::PortalService;
use crate::domain::device::parse_user_agent;
use crate::{AuditEvent, Location};

impl PortalService {
    /// Where `ip` is, if a GeoIP database is configured and knows it (a
    /// lookup failure is logged and counts as unknown: it never blocks a
    /// change).
    pub(crate) async fn locate(&self, ip: Option<IpAddr>) -> Option<Location> {
        let (Some(geoip), Some(ip)) = (self.geoip(), ip) else {
            return None;
        };
        match geoip.locate(ip).await {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, "geoip lookup failed; the location is unknown");
                None
            }
        }
    }

    /// The locations of `ips` (each looked up once; unknown ones absent),
    /// for the session and device lists.
    pub(crate) async fn locations(
        &self,
        ips: Vec<Option<IpAddr>>,
    ) -> crate::workflow::trust::Locations {
        let mut found = crate::workflow::trust::Locations::new();
        let mut asked = std::collections::HashSet::new();
        for ip in ips.into_iter().flatten() {
            if asked.insert(ip) {
                if let Some(location) = self.locate(Some(ip)).await {
                    found.insert(ip, location);
                }
            }
        }
        found
    }

    /// Adds `"from"` to the detail of each event (see the module
    /// documentation); an event with nothing known is left as it is.
    pub(crate) async fn mark_provenance(&self, events: &mut [AuditEvent]) {
        for event in events {
            let mut from = serde_json::Map::new();
            if let Some(location) = self.locate(event.ip).await {
                from.insert("location".into(), location.to_string().into());
            }
            if let Some(user_agent) = event.user_agent.as_deref() {
                let device = parse_user_agent(user_agent);
                if let Some(os) = device.os {
                    from.insert("os".into(), os.into());
                }
                if let Some(browser) = device.browser {
                    from.insert("browser".into(), browser.into());
                }
            }
            if from.is_empty() {
                continue;
            }
            if !event.detail.is_object() {
                event.detail = serde_json::Value::Object(serde_json::Map::new());
            }
            if let Some(detail) = event.detail.as_object_mut() {
                detail.insert("from".into(), serde_json::Value::Object(from));
            }
        }
    }
}
