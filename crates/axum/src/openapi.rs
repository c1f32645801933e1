//! The OpenAPI 3.1 document of the staff and client JSON APIs (SPEC.md
//! section 10): [`openapi`], served by the example server at
//! `/openapi.json` and kept as `docs/openapi.json`.
//!
//! Each handler carries its own `#[utoipa::path]` (method, path, request
//! body, success answers), and the bodies are the handlers' own types. What
//! every operation can answer besides its success is decided here, in one
//! place: [`contract`] says who may call it ([`Caller`]) and which refusals
//! its service call has; [`Contracts`] turns that, the request body and the
//! method into the operation's security, its error answers (one per
//! status, listing its stable codes in `x-error-codes`), its tag and its
//! path parameters.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::{Method, StatusCode};
use portal_access_core::config::PortalConfig;
use portal_access_core::workflow::ErrorCode;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Content, PathItem, Ref, RefOr, Required, Response, Schema};
use utoipa::{Modify, OpenApi, PartialSchema};

use crate::error::{status_for, HttpCode};
use crate::failure::{ErrorBody, FailureAnswer};
use crate::session::SessionCookie;
use crate::{audit, client_api, mfa_api, staff, trust_api};

/// The OpenAPI 3.1 document of the staff API ([`staff_router`](crate::staff_router))
/// and the client API ([`client_api_router`](crate::client_api_router)).
///
/// ```
/// let document = portal_access_axum::openapi();
/// assert!(document.paths.paths.contains_key("/api/portal/sign-in"));
/// ```
pub fn openapi() -> utoipa::openapi::OpenApi {
    Document::openapi()
}

/// [`openapi`] as pretty JSON, as `/openapi.json` serves it.
pub fn openapi_json() -> Result<String, serde_json::Error> {
    openapi().to_pretty_json()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "portal-access",
        description = "The staff and client JSON APIs of portal-access (SPEC.md section 4). \
            Every refusal answers `{\"error\": {\"code\", \"message\"}}` with a stable code; \
            each operation lists the codes it can answer, per status, in `x-error-codes`."
    ),
    paths(
        staff::create_account,
        staff::account_status,
        staff::send_invitation,
        staff::send_password_reset,
        staff::set_password,
        staff::set_access,
        staff::set_language,
        staff::archive,
        staff::unarchive,
        staff::change_email,
        staff::account_events,
        staff::mfa_reset,
        staff::account_sessions,
        staff::revoke_account_sessions,
        staff::human_verification,
        audit::audit_trail,
        client_api::forgot_password,
        client_api::reset_password,
        client_api::accept_invitation,
        client_api::sign_in,
        client_api::sign_out,
        client_api::me,
        client_api::change_username,
        client_api::set_own_language,
        client_api::change_password,
        mfa_api::second_factor,
        mfa_api::email_code,
        mfa_api::security,
        mfa_api::start_totp,
        mfa_api::confirm_totp,
        mfa_api::remove_totp,
        mfa_api::add_email,
        mfa_api::remove_email,
        mfa_api::recovery_codes,
        trust_api::sessions,
        trust_api::revoke_session,
        trust_api::revoke_others,
        trust_api::devices,
        trust_api::forget_device,
        trust_api::forget_devices,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Contracts),
    tags(
        (name = "staff", description = "The staff API (`/staff/...`): every call is scoped to the staff member's tenant."),
        (name = "client", description = "The client API (`/api/portal/...`): the portal's clients, with the session cookie."),
    )
)]
struct Document;

/// Who may call an operation: what its extractors ask of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// Anyone: a link's token or the password is the credential.
    Anyone,
    /// Anyone, in the tenant of the request (404 `not_found` where there is none).
    AnyoneOfTenant,
    /// A signed-in client (the session cookie).
    Client,
    /// A client between password and second factor (the challenge cookie).
    Challenge,
    /// A signed-in client, or the challenge cookie while enrolment is required.
    ClientOrChallenge,
    /// A staff member.
    Staff,
    /// A staff member, on the account of the path (404 `not_found` for an
    /// id that names no account of their tenant).
    StaffOnAccount,
}

impl Caller {
    /// The refusals of the caller's extractors.
    fn codes(self) -> &'static [ErrorCode] {
        match self {
            Self::Anyone => &[],
            Self::AnyoneOfTenant => &[ErrorCode::NotFound],
            Self::Client | Self::Challenge | Self::ClientOrChallenge | Self::Staff => {
                &[ErrorCode::Unauthenticated]
            }
            Self::StaffOnAccount => &[ErrorCode::Unauthenticated, ErrorCode::NotFound],
        }
    }

    /// The security schemes that admit the caller (any one of them).
    fn schemes(self) -> &'static [&'static str] {
        match self {
            Self::Anyone | Self::AnyoneOfTenant => &[],
            Self::Client => &[SESSION_SCHEME],
            Self::Challenge => &[CHALLENGE_SCHEME],
            Self::ClientOrChallenge => &[SESSION_SCHEME, CHALLENGE_SCHEME],
            Self::Staff | Self::StaffOnAccount => &[STAFF_SCHEME],
        }
    }
}

const STAFF_SCHEME: &str = "staff_bearer";
const SESSION_SCHEME: &str = "portal_session";
const CHALLENGE_SCHEME: &str = "portal_challenge";

/// The refusals of each service call, named after its refusal type in
/// portal-access-core (`ServiceError<...>`).
mod refusals {
    use portal_access_core::workflow::ErrorCode::{self, *};

    pub(super) const NONE: &[ErrorCode] = &[];
    pub(super) const NOT_FOUND: &[ErrorCode] = &[NotFound];
    /// A query string that does not parse, or a value out of range.
    pub(super) const QUERY: &[ErrorCode] = &[ValidationFailed];
    pub(super) const CREATE_ACCOUNT: &[ErrorCode] = &[ValidationFailed, EmailTaken];
    pub(super) const INVITATION: &[ErrorCode] = &[
        NotFound,
        StaleVersion,
        AccountArchived,
        ValidationFailed,
        AccessDisabled,
        MailerNotConfigured,
    ];
    pub(super) const STAFF_RESET: &[ErrorCode] = &[
        NotFound,
        StaleVersion,
        AccountArchived,
        NotInvited,
        InvitationPending,
        AccessDisabled,
        MailerNotConfigured,
        HumanVerificationRequired,
    ];
    pub(super) const SET_PASSWORD: &[ErrorCode] = &[
        NotFound,
        StaleVersion,
        AccountArchived,
        PasswordRejected,
        PasswordMismatch,
    ];
    pub(super) const ACCESS: &[ErrorCode] = &[NotFound, StaleVersion, AccountArchived];
    pub(super) const ARCHIVE: &[ErrorCode] = &[NotFound, StaleVersion];
    pub(super) const LANGUAGE: &[ErrorCode] = &[NotFound, StaleVersion, ValidationFailed];
    pub(super) const CHANGE_EMAIL: &[ErrorCode] = &[
        NotFound,
        StaleVersion,
        ValidationFailed,
        EmailTaken,
        AccountArchived,
    ];
    pub(super) const MFA_RESET: &[ErrorCode] = &[
        NotFound,
        AccountArchived,
        ValidationFailed,
        HumanVerificationRequired,
        StaleVersion,
    ];
    pub(super) const HUMAN_VERIFICATION: &[ErrorCode] = &[CaptchaFailed, ValidationFailed];
    pub(super) const FORGOT_PASSWORD: &[ErrorCode] = &[CaptchaFailed];
    pub(super) const COMPLETE_RESET: &[ErrorCode] =
        &[TokenInvalid, PasswordMismatch, PasswordRejected];
    pub(super) const ACCEPT_INVITATION: &[ErrorCode] = &[
        TokenInvalid,
        UsernameInvalid,
        UsernameTaken,
        PasswordMismatch,
        PasswordRejected,
    ];
    pub(super) const SIGN_IN: &[ErrorCode] = &[
        InvalidCredentials,
        AccessDisabled,
        AccountArchived,
        RateLimited,
    ];
    pub(super) const CHANGE_USERNAME: &[ErrorCode] = &[UsernameInvalid, UsernameTaken];
    pub(super) const CHANGE_PASSWORD: &[ErrorCode] = &[
        InvalidCredentials,
        PasswordMismatch,
        PasswordRejected,
        RateLimited,
    ];
    pub(super) const SECOND_FACTOR: &[ErrorCode] = &[
        SecondFactorInvalid,
        Unauthenticated,
        InvalidCredentials,
        SecondFactorRequired,
        ValidationFailed,
        RateLimited,
    ];
}

/// Who may call each operation (by its id, the handler's name) and the
/// refusals of its service call; `None` for an operation this table lacks
/// (a test fails on it).
fn contract(operation: &str) -> Option<(Caller, &'static [ErrorCode])> {
    use refusals::*;
    use Caller::*;
    Some(match operation {
        "create_account" => (Staff, CREATE_ACCOUNT),
        "account_status" | "account_sessions" | "revoke_account_sessions" => {
            (StaffOnAccount, NOT_FOUND)
        }
        "send_invitation" => (StaffOnAccount, INVITATION),
        "send_password_reset" => (StaffOnAccount, STAFF_RESET),
        "set_password" => (StaffOnAccount, SET_PASSWORD),
        "set_access" => (StaffOnAccount, ACCESS),
        "set_language" => (StaffOnAccount, LANGUAGE),
        "archive" | "unarchive" => (StaffOnAccount, ARCHIVE),
        "change_email" => (StaffOnAccount, CHANGE_EMAIL),
        "account_events" => (StaffOnAccount, QUERY),
        "mfa_reset" => (StaffOnAccount, MFA_RESET),
        "human_verification" => (Staff, HUMAN_VERIFICATION),
        "audit_trail" => (Staff, QUERY),
        "forgot_password" => (AnyoneOfTenant, FORGOT_PASSWORD),
        "reset_password" => (Anyone, COMPLETE_RESET),
        "accept_invitation" => (Anyone, ACCEPT_INVITATION),
        "sign_in" => (AnyoneOfTenant, SIGN_IN),
        "sign_out" | "me" | "sessions" | "revoke_others" | "devices" | "forget_devices" => {
            (Client, NONE)
        }
        "revoke_session" | "forget_device" => (Client, NOT_FOUND),
        "change_username" => (Client, CHANGE_USERNAME),
        "set_own_language" => (Client, LANGUAGE),
        "change_password" => (Client, CHANGE_PASSWORD),
        "second_factor" | "email_code" => (Challenge, SECOND_FACTOR),
        "start_totp" | "confirm_totp" | "add_email" => (ClientOrChallenge, SECOND_FACTOR),
        "security" | "remove_totp" | "remove_email" | "recovery_codes" => (Client, SECOND_FACTOR),
        _ => return None,
    })
}

/// The error answers of an operation: each status with its stable codes.
fn error_answers(
    method: &Method,
    path: &str,
    operation: &Operation,
) -> Option<BTreeMap<StatusCode, BTreeSet<&'static str>>> {
    let (caller, refusals) = contract(operation.operation_id.as_deref()?)?;
    let mut codes: Vec<(StatusCode, &'static str)> = caller
        .codes()
        .iter()
        .chain(refusals)
        .map(|code| (status_for(*code), code.as_str()))
        .collect();
    if operation.request_body.is_some() {
        // `ApiJson`: a body that is malformed, too large or not JSON.
        let invalid = ErrorCode::ValidationFailed.as_str();
        codes.extend([
            (StatusCode::BAD_REQUEST, invalid),
            (StatusCode::PAYLOAD_TOO_LARGE, invalid),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, invalid),
        ]);
    }
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if path.starts_with(CLIENT_PREFIX) && !safe {
        // The client API's cross-site check (`refuse_cross_site`).
        codes.push((
            status_for(HttpCode::CsrfFailed),
            HttpCode::CsrfFailed.as_str(),
        ));
    }
    codes.extend([
        (FailureAnswer::INTERNAL.status, FailureAnswer::INTERNAL.code),
        (
            status_for(HttpCode::ServiceUnavailable),
            HttpCode::ServiceUnavailable.as_str(),
        ),
    ]);
    let mut answers: BTreeMap<StatusCode, BTreeSet<&'static str>> = BTreeMap::new();
    for (status, code) in codes {
        answers.entry(status).or_default().insert(code);
    }
    Some(answers)
}

const CLIENT_PREFIX: &str = "/api/portal/";

/// Completes every operation from [`contract`] and the routes (see the
/// module documentation), and adds the security schemes and the
/// `ErrorCode` schema.
struct Contracts;

impl Modify for Contracts {
    fn modify(&self, document: &mut utoipa::openapi::OpenApi) {
        let components = document.components.get_or_insert_with(Default::default);
        components.schemas.insert(
            "ErrorCode".to_owned(),
            RefOr::T(Schema::Object(error_code_schema())),
        );
        if let Some(RefOr::T(Schema::Object(detail))) = components.schemas.get_mut("ErrorDetail") {
            detail
                .properties
                .insert("code".to_owned(), Ref::from_schema_name("ErrorCode").into());
        }
        for (name, scheme) in security_schemes() {
            components.add_security_scheme(name, scheme);
        }
        for (path, item) in document.paths.paths.iter_mut() {
            for (method, operation) in operations_mut(item) {
                complete(&method, path, operation);
            }
        }
    }
}

/// Every stable code of the APIs: core's [`ErrorCode`]s, the HTTP layer's
/// own ([`HttpCode`]) and the 500's `internal_error`.
fn error_code_schema() -> Object {
    let mut schema = Object::with_type(Type::String);
    let mut codes: Vec<serde_json::Value> = match ErrorCode::schema() {
        RefOr::T(Schema::Object(core)) => core.enum_values.unwrap_or_default(),
        RefOr::T(_) | RefOr::Ref(_) => Vec::new(),
    };
    codes.extend(
        [
            HttpCode::CsrfFailed.as_str(),
            HttpCode::ServiceUnavailable.as_str(),
            FailureAnswer::INTERNAL.code,
        ]
        .map(serde_json::Value::from),
    );
    schema.enum_values = Some(codes);
    schema.description = Some(
        "A stable error code: what a program decides on. docs/guarantees.md and \
         SPEC.md section 4 say what each means."
            .to_owned(),
    );
    schema
}

fn security_schemes() -> [(&'static str, SecurityScheme); 3] {
    let https = SessionCookie::for_config(&PortalConfig::new("https://portal.example"));
    let http = SessionCookie::for_config(&PortalConfig::new("http://portal.example"));
    let cookie = |name: &'static str, plain: &str, what: &str| {
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            name.to_owned(),
            format!("{what} (`{plain}` when the portal's public URL is plain http)."),
        )))
    };
    [
        (
            STAFF_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Staff are authenticated by the host (`StaffAuthenticator`); the \
                         example server's static tokens go in `Authorization: Bearer <token>`.",
                    ))
                    .build(),
            ),
        ),
        (
            SESSION_SCHEME,
            cookie(
                https.name(),
                http.name(),
                "The client's session cookie, set by a completed sign-in",
            ),
        ),
        (
            CHALLENGE_SCHEME,
            cookie(
                https.challenge_name(),
                http.challenge_name(),
                "The sign-in challenge cookie, set when a second factor comes next",
            ),
        ),
    ]
}

/// The operations of a path, with their methods.
fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (Method, &mut Operation)> {
    [
        (Method::GET, item.get.as_mut()),
        (Method::PUT, item.put.as_mut()),
        (Method::POST, item.post.as_mut()),
        (Method::DELETE, item.delete.as_mut()),
        (Method::PATCH, item.patch.as_mut()),
        (Method::HEAD, item.head.as_mut()),
        (Method::OPTIONS, item.options.as_mut()),
        (Method::TRACE, item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|operation| (method, operation)))
}

fn complete(method: &Method, path: &str, operation: &mut Operation) {
    let tag = if path.starts_with(CLIENT_PREFIX) {
        "client"
    } else {
        "staff"
    };
    operation.tags = Some(vec![tag.to_owned()]);
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    for name in path_parameters(path) {
        parameters.push(path_parameter(path, name));
    }
    if let Some((caller, _)) = operation.operation_id.as_deref().and_then(contract) {
        let schemes = caller.schemes();
        if !schemes.is_empty() {
            operation.security = Some(
                schemes
                    .iter()
                    .map(|scheme| SecurityRequirement::new(*scheme, Vec::<String>::new()))
                    .collect(),
            );
        }
    }
    let Some(answers) = error_answers(method, path, operation) else {
        return;
    };
    for (status, codes) in answers {
        let list: Vec<String> = codes.iter().map(|code| format!("`{code}`")).collect();
        let response = Response::builder()
            .description(format!(
                "{}: {}.",
                status.canonical_reason().unwrap_or("Refused"),
                list.join(", ")
            ))
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            )
            .extensions(Some(
                ExtensionsBuilder::new()
                    .add("x-error-codes", codes.into_iter().collect::<Vec<_>>())
                    .build(),
            ))
            .build();
        operation
            .responses
            .responses
            .insert(status.as_str().to_owned(), response.into());
    }
}

/// The `{name}` segments of a path template.
fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

fn path_parameter(path: &str, name: &str) -> Parameter {
    let description = if path.starts_with("/staff/accounts/") {
        "The account's id (a UUID); one that names no account of the staff member's tenant \
         answers 404 `not_found`."
    } else {
        "The listing id, as listed; one that names none of the caller's answers 404 `not_found`."
    };
    Parameter::builder()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(Object::with_type(Type::String)))
        .build()
}
