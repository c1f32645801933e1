//! The OpenAPI document (SPEC.md section 10) against the real routers:
//! every JSON route is documented and every documented operation is a
//! route; the document is valid OpenAPI 3.1 (openapi-spec-validator) and
//! `docs/openapi.json` is the generated document.
//!
//! An axum `Router` cannot list its routes, so the walk reads the path
//! templates from the router's `Debug` (axum prints them as
//! `RouteId(n): "/path"`) and asks the router itself which methods each
//! path answers: a method it does not route answers 405. No request carries
//! credentials or a body, so none changes anything.
//!
//! Every other HTTP test checks the document too: [`documented_answers`]
//! sits in front of each spawned app (`common.rs`) and fails on an answer
//! of a documented operation whose status, or whose error code at that
//! status, the document does not list.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::Request as ExtractedRequest;
use axum::http::{header, Method, Request, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use portal_access_axum::export::ExportFormat;
use portal_access_axum::{
    client_api_router, openapi, openapi_json, staff_router, BearerTokens, PortalHttp,
};
use portal_access_core::config::PortalConfig;
use portal_access_core::service::PortalService;
use portal_access_core::testing::MemoryStore;
use portal_access_core::TenantId;
use serde_json::Value;
use tower::ServiceExt;

/// The methods the JSON APIs may route (HEAD comes with GET).
const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// The staff API and the client API, as a host mounts them.
fn json_routers() -> Vec<Router> {
    let service = PortalService::builder(Arc::new(MemoryStore::new()))
        .config(PortalConfig::new("https://portal.example.com"))
        .build()
        .unwrap();
    let http = PortalHttp::builder(service, Arc::new(BearerTokens::new()))
        .tenant(TenantId::new("firm").unwrap())
        .build()
        .unwrap();
    vec![staff_router(http.clone()), client_api_router(http)]
}

/// The path templates a router registered, from its `Debug` (its
/// `path_router`, not the `fallback_router` which answers every path).
fn registered_paths(router: &Router) -> BTreeSet<String> {
    let text = format!("{router:?}");
    let routes = text
        .split_once("path_router:")
        .and_then(|(_, rest)| rest.split_once("fallback_router:"))
        .map_or("", |(routes, _)| routes);
    let paths: BTreeSet<String> = routes
        .split("RouteId(")
        .filter_map(|piece| piece.split_once("): \"")?.1.split('"').next())
        .filter(|path| !path.contains("__private__axum"))
        .map(str::to_owned)
        .collect();
    assert!(
        !paths.is_empty(),
        "no route found in the router's Debug; has axum changed its format? {text}"
    );
    paths
}

/// The status a router answers `method path` with, each `{parameter}`
/// filled in, without credentials or body.
async fn answer(router: &Router, method: &Method, template: &str) -> StatusCode {
    let path: Vec<&str> = template
        .split('/')
        .map(|segment| match segment.starts_with('{') {
            true => "00000000-0000-4000-8000-000000000000",
            false => segment,
        })
        .collect();
    let request = Request::builder()
        .method(method)
        .uri(path.join("/"))
        .body(Body::empty())
        .unwrap();
    router.clone().oneshot(request).await.unwrap().status()
}

/// The (method, path) operations of the document.
fn documented() -> BTreeSet<(String, String)> {
    let document = serde_json::to_value(openapi()).unwrap();
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.insert((method.to_uppercase(), path.clone()));
        }
    }
    operations
}

#[tokio::test]
async fn every_json_route_of_the_routers_is_in_the_document() {
    let documented = documented();
    let mut missing = Vec::new();
    for router in json_routers() {
        for path in registered_paths(&router) {
            for method in &METHODS {
                let routed = answer(&router, method, &path).await != StatusCode::METHOD_NOT_ALLOWED;
                if routed && !documented.contains(&(method.to_string(), path.clone())) {
                    missing.push(format!("{method} {path}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes missing from the document (give the handler a #[utoipa::path] and list it in \
         `paths(...)` of crates/axum/src/openapi.rs): {missing:?}"
    );
}

#[tokio::test]
async fn every_operation_of_the_document_is_a_route_of_the_routers() {
    let routers: Vec<(Router, BTreeSet<String>)> = json_routers()
        .into_iter()
        .map(|router| {
            let paths = registered_paths(&router);
            (router, paths)
        })
        .collect();
    let mut unrouted = Vec::new();
    for (method, path) in documented() {
        let method: Method = method.parse().unwrap();
        let routed = match routers.iter().find(|(_, paths)| paths.contains(&path)) {
            Some((router, _)) => {
                answer(router, &method, &path).await != StatusCode::METHOD_NOT_ALLOWED
            }
            None => false,
        };
        if !routed {
            unrouted.push(format!("{method} {path}"));
        }
    }
    assert!(
        unrouted.is_empty(),
        "documented operations no router answers: {unrouted:?}"
    );
}

#[test]
fn every_operation_lists_its_error_answers_and_every_code_is_answered_somewhere() {
    let document = serde_json::to_value(openapi()).unwrap();
    let mut answered = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.contains_key("500"),
                "{method} {path} has no error answers: add its operation id to `contract` in crates/axum/src/openapi.rs"
            );
            for (status, response) in responses.iter().filter(|(s, _)| !s.starts_with('2')) {
                let codes = response["x-error-codes"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{method} {path} {status}: no x-error-codes"));
                assert!(!codes.is_empty(), "{method} {path} {status}");
                answered.extend(codes.iter().map(|code| code.as_str().unwrap().to_owned()));
            }
        }
    }
    let every: BTreeSet<String> = document["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_owned())
        .collect();
    assert!(every.contains("token_invalid") && every.contains("csrf_failed"));
    assert_eq!(
        every, answered,
        "every stable code is answered by some operation, and no other"
    );
}

#[test]
fn the_audit_export_is_documented_with_its_content_types() {
    let document = serde_json::to_value(openapi()).unwrap();
    let content = document["paths"]["/staff/audit"]["get"]["responses"]["200"]["content"]
        .as_object()
        .unwrap();
    let documented: BTreeSet<&str> = content.keys().map(String::as_str).collect();
    let answered: BTreeSet<&str> = [ExportFormat::Jsonl, ExportFormat::Csv]
        .map(ExportFormat::content_type)
        .into_iter()
        .chain(["application/json"])
        .collect();
    assert_eq!(documented, answered);
}

#[test]
fn the_document_is_valid_openapi_3_1() {
    let document = openapi_json().unwrap();
    let parsed: Value = serde_json::from_str(&document).unwrap();
    assert_eq!(parsed["openapi"], "3.1.0");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let present = Command::new(&python)
        .args(["-c", "import openapi_spec_validator"])
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        present,
        "openapi-spec-validator is missing: install it with \
         `{python} -m pip install openapi-spec-validator` (./scripts/test does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, document).unwrap();
    let output = Command::new(&python)
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "openapi-spec-validator refused the document:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn docs_openapi_json_is_the_generated_document() {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let generated = openapi_json().unwrap() + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&file, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is not the generated document: regenerate it with \
         `UPDATE_OPENAPI=1 cargo nextest run -p portal-access-axum --all-features openapi` \
         and commit it"
    );
}

/// The generated document, as JSON, built once per test process.
fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| serde_json::to_value(openapi()).unwrap())
}

/// The documented operation a request reaches, routed as axum routes it
/// (a literal segment before a `{parameter}`); `None` when its path is no
/// documented one, or its method is not documented there.
fn operation_of(method: &Method, path: &str) -> Option<(&'static str, &'static Value)> {
    let segments: Vec<&str> = path.split('/').collect();
    let (template, item) = document()["paths"]
        .as_object()?
        .iter()
        .filter_map(|(template, item)| {
            let parts: Vec<&str> = template.split('/').collect();
            let fits = parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(part, segment)| part.starts_with('{') || part == segment);
            fits.then(|| {
                (
                    template,
                    item,
                    parts.iter().filter(|p| p.starts_with('{')).count(),
                )
            })
        })
        .min_by_key(|(_, _, parameters)| *parameters)
        .map(|(template, item, _)| (template, item))?;
    let operation = item.get(method.as_str().to_lowercase())?;
    Some((template.as_str(), operation))
}

/// Middleware of the spawned test apps: an answer of a documented
/// operation must have a documented status and, for an error, its code
/// must be listed at that status (`x-error-codes`). A panic here fails the
/// test that made the request, with what the document lacks.
pub async fn documented_answers(request: ExtractedRequest, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let Some((template, operation)) = operation_of(&method, &path) else {
        return response;
    };
    let status = response.status();
    let documented = &operation["responses"][status.as_str()];
    assert!(
        documented.is_object(),
        "{method} {template} answered {status}, which the OpenAPI document does not list"
    );
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if status.is_success() || !json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let answer: Value = serde_json::from_slice(&bytes).unwrap();
    let code = &answer["error"]["code"];
    let listed = documented["x-error-codes"]
        .as_array()
        .is_some_and(|codes| codes.contains(code));
    assert!(
        listed,
        "{method} {template} answered {status} {code}, which the OpenAPI document does not \
         list: add it to `contract` in crates/axum/src/openapi.rs"
    );
    Response::from_parts(parts, Body::from(bytes))
}
