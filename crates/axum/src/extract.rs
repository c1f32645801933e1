//! Extractors: JSON bodies with clear refusals, the request context (client
//! IP and User-Agent), the staff member, the tenant, the client session.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use portal_access_core::service::{ClientSession, FactorAuth, ServiceError, StaffActor};
use portal_access_core::workflow::ErrorCode;
use portal_access_core::{AccountId, RequestContext, TenantId};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::PortalHttp;

/// The longest User-Agent kept for the audit trail.
const MAX_USER_AGENT: usize = 512;

/// A JSON body; a malformed, oversized or mistyped one is `validation_failed`
/// (400, 413, 415) with a message that says what was wrong.
pub(crate) struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::from(rejection)),
        }
    }
}

/// Where a request comes from: the client IP (the socket peer, or what a
/// trusted proxy says) and the User-Agent.
#[derive(Debug, Clone)]
pub struct ClientContext(pub RequestContext);

impl ClientContext {
    /// Reads the context from a request's parts.
    pub fn from_parts(parts: &Parts, http: &PortalHttp) -> Self {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let ip = http.proxies().client_ip(peer, &parts.headers);
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| truncate(ua, MAX_USER_AGENT).to_owned());
        Self(RequestContext {
            ip,
            user_agent,
            expected_version: None,
        })
    }
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl FromRequestParts<PortalHttp> for ClientContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &PortalHttp,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts, state))
    }
}

/// The authenticated staff member (401 `unauthenticated` otherwise).
pub(crate) struct Staff(pub StaffActor);

impl FromRequestParts<PortalHttp> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &PortalHttp,
    ) -> Result<Self, Self::Rejection> {
        match state.staff_auth().authenticate(parts).await {
            Some(staff) => Ok(Self(staff)),
            None => Err(ApiError::refused(
                ErrorCode::Unauthenticated,
                "Authenticate as a staff member (e.g. `Authorization: Bearer <token>`).",
            )),
        }
    }
}

/// The tenant of a client-side request (404 `not_found` if none).
pub(crate) struct Tenant(pub TenantId);

impl FromRequestParts<PortalHttp> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &PortalHttp,
    ) -> Result<Self, Self::Rejection> {
        state
            .tenants()
            .resolve(parts)
            .await
            .map(Self)
            .ok_or_else(|| ApiError::refused(ErrorCode::NotFound, "No portal here."))
    }
}

/// Authenticates the request's session cookie, if it carries one: `Ok(None)`
/// without a cookie or with an invalid one (expired, revoked, of another
/// tenant); `Err` only on an infrastructure failure.
pub(crate) async fn session_of(
    parts: &Parts,
    state: &PortalHttp,
) -> Result<Option<ClientSession>, ApiError> {
    let Some(token) = state.session_cookie().token(&parts.headers) else {
        return Ok(None);
    };
    let session = match state.service().authenticate(token).await {
        Ok(session) => session,
        // Every refusal (expired, revoked, unknown) is "no session".
        Err(ServiceError::Refused(_)) => return Ok(None),
        Err(error @ ServiceError::Infrastructure(_)) => return Err(ApiError::from(error)),
    };
    match state.tenants().resolve(parts).await {
        Some(tenant) if tenant == session.account.tenant => Ok(Some(session)),
        _ => Ok(None),
    }
}

/// The signed-in client (401 `unauthenticated` otherwise).
pub(crate) struct Session(pub ClientSession);

impl FromRequestParts<PortalHttp> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &PortalHttp,
    ) -> Result<Self, Self::Rejection> {
        match session_of(parts, state).await? {
            Some(session) => Ok(Self(session)),
            None => Err(ApiError::unauthenticated()),
        }
    }
}

/// The sign-in challenge cookie's raw token (401 `unauthenticated` without one).
pub(crate) struct Challenge(pub String);

impl FromRequestParts<PortalHttp> for Challenge {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &PortalHttp,
    ) -> Result<Self, Self::Rejection> {
        state
            .challenge_token(&parts.headers)
            .map(|token| Self(token.to_owned()))
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// Who manages factors: the signed-in client, else (during an enrolment
/// required at sign-in) the challenge cookie; 401 `unauthenticated` without
/// either.
pub(crate) enum FactorCaller {
    /// A signed-in client.
    Session(Box<ClientSession>),
    /// The challenge cookie's raw token.
    Challenge(String),
}

impl FactorCaller {
    /// As the service takes it.
    pub(crate) fn auth(&self) -> FactorAuth<'_> {
        match self {
            Self::Session(session) => FactorAuth::Session(session),
            Self::Challenge(token) => FactorAuth::Challenge(token),
        }
    }
}

impl FromRequestParts<PortalHttp> for FactorCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &PortalHttp,
    ) -> Result<Self, Self::Rejection> {
        if let Some(session) = session_of(parts, state).await? {
            return Ok(Self::Session(Box::new(session)));
        }
        let Challenge(token) = Challenge::from_request_parts(parts, state).await?;
        Ok(Self::Challenge(token))
    }
}

/// An account id from the path; one that does not parse names no account (404).
pub(crate) fn parse_account_id(text: &str) -> Result<AccountId, ApiError> {
    text.parse().map_err(|_| ApiError::not_found())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_user_agents_are_cut_on_a_character_boundary() {
        let ua = "é".repeat(400);
        let cut = truncate(&ua, MAX_USER_AGENT);
        assert!(cut.len() <= MAX_USER_AGENT);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
