//! What the JSON API answers once a password was right (sign-in, reset,
//! invitation, second factor): the account and the session cookie, or the
//! second-factor shape with the challenge cookie and no session.

use axum::http::StatusCode;
use axum::response::Response;
use portal_access_core::service::{SignInOutcome, SignedIn};
use portal_access_core::{Account, SecondFactorMethod};
use serde::Serialize;
use utoipa::ToSchema;

use crate::failure::json_response;
use crate::state::PortalHttp;

/// The signed-in account: what `GET /api/portal/me` and a completed
/// sign-in answer.
#[derive(Serialize, ToSchema)]
pub(crate) struct Me {
    /// The username, once the client chose one.
    username: Option<String>,
    /// The email address.
    email: String,
    /// The client must change the password before anything else.
    must_change_password: bool,
    /// The language of the client's mail (`null`: the firm's default).
    language: Option<String>,
}

impl Me {
    pub(crate) fn of(account: &Account) -> Self {
        Self {
            username: account.username.as_ref().map(|u| u.as_str().to_owned()),
            email: account.email.as_str().to_owned(),
            must_change_password: account.must_change_password,
            language: account.language.as_ref().map(|l| l.as_str().to_owned()),
        }
    }
}

/// The password was right, and a second factor comes next: no session
/// yet, only the challenge cookie.
#[derive(Serialize, ToSchema)]
pub(crate) struct SecondFactorStep {
    /// Always `true`.
    second_factor_required: bool,
    /// A factor must be enrolled first (policy `required`): the enrolment
    /// calls accept the challenge cookie.
    enrolment_required: bool,
    /// How the step can be passed (when enrolling: what can be enrolled).
    methods: Vec<SecondFactorMethod>,
}

/// The document's description of a [`SignInAnswer`].
pub(crate) const SIGN_IN_ANSWERED: &str =
    "Signed in (the session cookie is set), or the second-factor step (the challenge cookie is set).";

/// What a correct password (or a completed reset or invitation) answers:
/// the signed-in account with the session cookie, or the second-factor step.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum SignInAnswer {
    /// Signed in (the session cookie is set).
    SignedIn(Me),
    /// A second factor first (the challenge cookie is set).
    SecondFactor(SecondFactorStep),
}

/// 200 with the account and the new session's cookie (the challenge
/// cookie, if any, is cleared).
pub(crate) fn signed_in_response(http: &PortalHttp, done: &SignedIn) -> Response {
    let answer = SignInAnswer::SignedIn(Me::of(&done.account));
    let mut response = json_response(StatusCode::OK, &answer);
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
            let step = SignInAnswer::SecondFactor(SecondFactorStep {
                second_factor_required: true,
                enrolment_required: challenge.enrolment_required,
                methods: challenge.methods.clone(),
            });
            let mut response = json_response(StatusCode::OK, &step);
            http.set_challenge_cookie(response.headers_mut(), &challenge);
            response
        }
    }
}
