//! What the JSON API answers once a password was right (sign-in, reset,
//! invitation, second factor): the account and the session cookie, or the
//! second-factor shape with the challenge cookie and no session.

use axum::http::StatusCode;
use axum::response::Response;
use portal_access_core::service::{SignInOutcome, SignedIn};
use portal_access_core::Account;
use serde::Serialize;

use crate::failure::json_response;
use crate::state::PortalHttp;

/// What `GET /api/portal/me` and the sign-in calls answer.
#[derive(Serialize)]
pub(crate) struct Me<'a> {
    username: Option<&'a str>,
    email: &'a str,
    must_change_password: bool,
    /// The language of the client's mail (`null`: the firm's default).
    language: Option<&'a str>,
}

impl<'a> Me<'a> {
    pub(crate) fn of(account: &'a Account) -> Self {
        Self {
            username: account.username.as_ref().map(|u| u.as_str()),
            email: account.email.as_str(),
            must_change_password: account.must_change_password,
            language: account.language.as_ref().map(|l| l.as_str()),
        }
    }
}

/// 200 with the account and the new session's cookie (the challenge
/// cookie, if any, is cleared).
pub(crate) fn signed_in_response(http: &PortalHttp, done: &SignedIn) -> Response {
    let mut response = json_response(StatusCode::OK, &Me::of(&done.account));
    http.set_session_cookie(response.headers_mut(), done);
    http.clear_challenge_cookie(response.headers_mut());
    response
}

/// What a correct password led to: the session, or the second-factor shape
/// with the challenge cookie and no session.
pub(crate) fn outcome_response(http: &PortalHttp, outcome: SignInOutcome) -> Response {
    match outcome {
        SignInOutcome::SignedIn(done) => signed_in_response(http, &done),
        SignInOutcome::SecondFactor(challenge) => {
            let methods: Vec<&str> = challenge.methods.iter().map(|m| m.as_str()).collect();
            let mut response = json_response(
                StatusCode::OK,
                &serde_json::json!({
                    "second_factor_required": true,
                    "enrolment_required": challenge.enrolment_required,
                    "methods": methods,
                }),
            );
            http.set_challenge_cookie(response.headers_mut(), &challenge);
            response
        }
    }
}
