//! SiteVerifyCaptcha against a local siteverify server (axum, port 0) that
//! records the form it receives and answers as each test scripts it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Form, Router};
use portal_access_captcha::{Provider, SiteVerifyBuilder, SiteVerifyCaptcha, SiteVerifyError};
use portal_access_core::{CaptchaVerdict, CaptchaVerifier};
use secrecy::SecretString;

const SECRET: &str = "0x4AAAAAAA-test-secret";

/// The forms the fake provider received, in order.
type ReceivedForms = Arc<Mutex<Vec<Vec<(String, String)>>>>;

/// What the fake provider answers.
#[derive(Clone)]
enum Reply {
    Json(&'static str),
    Status(StatusCode, &'static str),
    Stall,
}

#[derive(Clone)]
struct ScriptedAnswer {
    reply: Reply,
    forms: ReceivedForms,
}

async fn siteverify(
    State(state): State<ScriptedAnswer>,
    Form(form): Form<Vec<(String, String)>>,
) -> impl IntoResponse {
    state.forms.lock().expect("forms lock").push(form);
    match state.reply {
        Reply::Json(body) => (StatusCode::OK, [("content-type", "application/json")], body),
        Reply::Status(status, body) => (status, [("content-type", "application/json")], body),
        Reply::Stall => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                "{\"success\":true}",
            )
        }
    }
}

struct FakeProvider {
    addr: SocketAddr,
    forms: ReceivedForms,
}

impl FakeProvider {
    async fn start(reply: Reply) -> Self {
        let forms = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/siteverify", post(siteverify))
            .with_state(ScriptedAnswer {
                reply,
                forms: forms.clone(),
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        Self { addr, forms }
    }

    fn url(&self) -> String {
        format!("http://{}/siteverify", self.addr)
    }

    fn forms(&self) -> Vec<Vec<(String, String)>> {
        self.forms.lock().expect("forms lock").clone()
    }

    /// A verifier for `provider` posting here, as `configure` sets it up.
    fn verifier_with(
        &self,
        provider: Provider,
        configure: impl FnOnce(SiteVerifyBuilder) -> SiteVerifyBuilder,
    ) -> SiteVerifyCaptcha {
        configure(builder(provider).verify_url(self.url()))
            .build()
            .expect("verifier")
    }

    fn verifier(&self, provider: Provider) -> SiteVerifyCaptcha {
        self.verifier_with(provider, |b| b.timeout(Duration::from_secs(5)))
    }
}

/// A verifier builder for `provider` with the test secret.
fn builder(provider: Provider) -> SiteVerifyBuilder {
    SiteVerifyCaptcha::builder(provider, SecretString::from(SECRET))
}

/// The verdict of a `provider` verifier on the response `x` from [`ip`]
/// when the provider answers `json`.
async fn verdict_on(json: &'static str, provider: Provider) -> CaptchaVerdict {
    let server = FakeProvider::start(Reply::Json(json)).await;
    server
        .verifier(provider)
        .verify(&response("x"), ip())
        .await
        .expect("answered")
}

fn response(text: &str) -> SecretString {
    SecretString::from(text)
}

fn ip() -> Option<IpAddr> {
    Some("203.0.113.7".parse().expect("ip"))
}

fn v3(min_score: f64, action: Option<&str>) -> Provider {
    Provider::RecaptchaV3 {
        min_score,
        expected_action: action.map(str::to_owned),
    }
}

fn failed(codes: &[&str]) -> CaptchaVerdict {
    CaptchaVerdict::Failed {
        error_codes: codes.iter().map(|c| (*c).to_owned()).collect(),
    }
}

#[tokio::test]
async fn a_successful_answer_passes_and_the_form_carries_secret_response_and_remoteip() {
    let server = FakeProvider::start(Reply::Json(
        r#"{"success":true,"challenge_ts":"2026-03-01T09:30:00Z","hostname":"portal.firm.example"}"#,
    ))
    .await;

    let verdict = server
        .verifier(Provider::Turnstile)
        .verify(&response("tok-123"), ip())
        .await;

    assert_eq!(verdict.expect("answered"), CaptchaVerdict::Passed);
    let mut form = server.forms().remove(0);
    form.sort();
    assert_eq!(
        form,
        [
            ("remoteip".to_owned(), "203.0.113.7".to_owned()),
            ("response".to_owned(), "tok-123".to_owned()),
            ("secret".to_owned(), SECRET.to_owned()),
        ]
    );
}

#[tokio::test]
async fn without_an_ip_no_remoteip_is_sent_and_a_configured_sitekey_is() {
    let server = FakeProvider::start(Reply::Json(r#"{"success":true}"#)).await;
    let verifier = server.verifier_with(Provider::HCaptcha, |b| {
        b.site_key("10000000-ffff-ffff-ffff-000000000001")
    });

    let verdict = verifier
        .verify(&response("P1_abc"), None)
        .await
        .expect("answered");

    assert_eq!(verdict, CaptchaVerdict::Passed);
    let form = server.forms().remove(0);
    assert!(!form.iter().any(|(k, _)| k == "remoteip"), "{form:?}");
    assert!(form.contains(&(
        "sitekey".to_owned(),
        "10000000-ffff-ffff-ffff-000000000001".to_owned()
    )));
}

#[tokio::test]
async fn a_refusal_fails_with_the_providers_error_codes() {
    let verdict = verdict_on(
        r#"{"success":false,"error-codes":["invalid-input-response","timeout-or-duplicate"]}"#,
        Provider::HCaptcha,
    )
    .await;

    assert_eq!(
        verdict,
        failed(&["invalid-input-response", "timeout-or-duplicate"])
    );
}

#[tokio::test]
async fn a_refusal_without_error_codes_still_fails() {
    let verdict = verdict_on(r#"{"success":false}"#, Provider::RecaptchaV2).await;

    assert_eq!(verdict, failed(&[]));
}

#[tokio::test]
async fn recaptcha_v3_passes_at_or_above_the_threshold_with_the_expected_action() {
    let verdict = verdict_on(
        r#"{"success":true,"score":0.7,"action":"forgot_password","hostname":"portal.firm.example"}"#,
        v3(0.7, Some("forgot_password")),
    )
    .await;

    assert_eq!(verdict, CaptchaVerdict::Passed);
}

#[tokio::test]
async fn recaptcha_v3_below_the_threshold_fails_with_score_too_low() {
    let verdict = verdict_on(
        r#"{"success":true,"score":0.3,"action":"forgot_password"}"#,
        v3(0.5, None),
    )
    .await;

    assert_eq!(verdict, failed(&["score-too-low"]));
}

#[tokio::test]
async fn recaptcha_v3_with_another_action_fails_with_action_mismatch() {
    let verdict = verdict_on(
        r#"{"success":true,"score":0.9,"action":"sign_in"}"#,
        v3(0.5, Some("forgot_password")),
    )
    .await;

    assert_eq!(verdict, failed(&["action-mismatch"]));
}

#[tokio::test]
async fn recaptcha_v3_answer_without_a_score_fails() {
    let verdict = verdict_on(r#"{"success":true}"#, v3(0.5, None)).await;

    assert_eq!(verdict, failed(&["score-missing"]));
}

#[tokio::test]
async fn a_solve_on_another_hostname_fails_when_a_hostname_is_expected() {
    let server =
        FakeProvider::start(Reply::Json(r#"{"success":true,"hostname":"evil.example"}"#)).await;
    let verifier = server.verifier_with(Provider::Turnstile, |b| {
        b.expected_hostname("portal.firm.example")
    });

    let verdict = verifier.verify(&response("x"), ip()).await;

    assert_eq!(verdict.expect("answered"), failed(&["hostname-mismatch"]));
}

#[tokio::test]
async fn an_empty_response_fails_without_asking_the_provider() {
    let server = FakeProvider::start(Reply::Json(r#"{"success":true}"#)).await;

    let verdict = server
        .verifier(Provider::Turnstile)
        .verify(&response("  "), ip())
        .await;

    assert_eq!(
        verdict.expect("answered"),
        failed(&["missing-input-response"])
    );
    assert!(server.forms().is_empty());
}

async fn assert_infrastructure_error(reply: Reply, check: impl Fn(&SiteVerifyError) -> bool) {
    let server = FakeProvider::start(reply).await;

    let error = server
        .verifier(Provider::Turnstile)
        .verify(&response("x"), ip())
        .await
        .expect_err("no verdict, and never a pass");

    let source = std::error::Error::source(&error)
        .and_then(|s| s.downcast_ref::<SiteVerifyError>())
        .expect("the cause is kept");
    assert!(check(source), "{source:?}");
}

#[tokio::test]
async fn malformed_json_is_an_infrastructure_error() {
    assert_infrastructure_error(Reply::Json("<html>oops</html>"), |e| {
        matches!(e, SiteVerifyError::Malformed(_))
    })
    .await;
}

#[tokio::test]
async fn json_without_success_is_an_infrastructure_error() {
    assert_infrastructure_error(Reply::Json(r#"{"score":0.9}"#), |e| {
        matches!(e, SiteVerifyError::Malformed(_))
    })
    .await;
}

#[tokio::test]
async fn http_500_is_an_infrastructure_error() {
    assert_infrastructure_error(
        Reply::Status(StatusCode::INTERNAL_SERVER_ERROR, r#"{"success":true}"#),
        |e| matches!(e, SiteVerifyError::Status(s) if s.as_u16() == 500),
    )
    .await;
}

#[tokio::test]
async fn a_provider_that_does_not_answer_in_time_is_an_infrastructure_error() {
    let server = FakeProvider::start(Reply::Stall).await;
    let verifier = server.verifier_with(Provider::Turnstile, |b| {
        b.timeout(Duration::from_millis(300))
    });
    let started = Instant::now();

    let error = verifier
        .verify(&response("x"), ip())
        .await
        .expect_err("timed out");

    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let source =
        std::error::Error::source(&error).and_then(|s| s.downcast_ref::<SiteVerifyError>());
    assert!(
        matches!(source, Some(SiteVerifyError::Request(e)) if e.is_timeout()),
        "{source:?}"
    );
}

#[tokio::test]
async fn a_provider_that_is_not_running_is_an_infrastructure_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let verifier = builder(Provider::HCaptcha)
        .verify_url(format!("http://127.0.0.1:{port}/siteverify"))
        .build()
        .expect("verifier");

    assert!(verifier.verify(&response("x"), ip()).await.is_err());
}

#[test]
fn each_provider_has_its_public_verify_url() {
    assert_eq!(
        Provider::HCaptcha.default_verify_url(),
        "https://api.hcaptcha.com/siteverify"
    );
    assert_eq!(
        Provider::RecaptchaV2.default_verify_url(),
        "https://www.google.com/recaptcha/api/siteverify"
    );
    assert_eq!(
        v3(0.5, None).default_verify_url(),
        "https://www.google.com/recaptcha/api/siteverify"
    );
    assert_eq!(
        Provider::Turnstile.default_verify_url(),
        "https://challenges.cloudflare.com/turnstile/v0/siteverify"
    );
    let built = builder(Provider::Turnstile).build().expect("builds");
    assert_eq!(
        built.verify_url(),
        "https://challenges.cloudflare.com/turnstile/v0/siteverify"
    );
}

#[test]
fn plain_http_to_a_remote_host_and_out_of_range_thresholds_are_refused() {
    let build = |provider: Provider, url: &str| builder(provider).verify_url(url).build();
    assert!(build(Provider::HCaptcha, "http://verify.example/siteverify").is_err());
    assert!(build(Provider::HCaptcha, "ftp://127.0.0.1/siteverify").is_err());
    assert!(build(Provider::HCaptcha, "http://localhost:8080/siteverify").is_ok());
    assert!(build(v3(1.5, None), "https://verify.example/").is_err());
    assert!(build(v3(f64::NAN, None), "https://verify.example/").is_err());
}

#[test]
fn debug_output_never_shows_the_secret() {
    let unbuilt = builder(Provider::Turnstile);
    assert!(!format!("{unbuilt:?}").contains(SECRET));
    let verifier = unbuilt.build().expect("builds");
    let shown = format!("{verifier:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
}
