use std::time::{Duration, Instant};

use portal_access_core::testing::mailer::sample_message;
use portal_access_core::{Mailer, MailerError};
use portal_access_smtp::{Sender, SmtpMailer, SmtpMailerBuilder, SmtpTimeout};

use crate::support::{
    free_port, self_signed_certificate, start_sink, Harness, Inbox, SinkOptions, SmtpSink, FROM,
    FROM_ADDRESS,
};

fn from() -> Sender {
    FROM.parse().expect("sender")
}

fn builder(url: &str) -> SmtpMailerBuilder {
    SmtpMailer::builder(url, from())
        .expect("valid URL")
        .timeout(Duration::from_secs(10))
}

/// A sink started with `options`, and a mailer for `url` (where `{port}`
/// stands for the sink's port) as `configure` sets it up.
async fn sink_and_mailer(
    options: SinkOptions,
    url: &str,
    configure: impl FnOnce(SmtpMailerBuilder) -> SmtpMailerBuilder,
) -> (SmtpSink, SmtpMailer) {
    let sink = start_sink(options).await;
    let url = url.replace("{port}", &sink.port().to_string());
    let mailer = configure(builder(&url)).build().expect("mailer");
    (sink, mailer)
}

/// A sink offering TLS (STARTTLS, or `implicit` TLS) with a fresh
/// self-signed certificate, AUTH required when `auth` is given: the
/// certificate's directory (keep it), the options and the certificate PEM.
fn tls_options(implicit: bool, auth: Option<&str>) -> (tempfile::TempDir, SinkOptions, String) {
    let (certs, cert, key, cert_pem) = self_signed_certificate();
    let options = SinkOptions {
        tls: Some((cert, key)),
        implicit_tls: implicit,
        auth: auth.map(str::to_owned),
        ..SinkOptions::default()
    };
    (certs, options, cert_pem)
}

/// Sends a sample message to `client@example.com` with `subject`.
async fn send(mailer: &SmtpMailer, subject: &str) -> Result<(), MailerError> {
    mailer
        .send(&sample_message("client@example.com", subject))
        .await
}

/// The subjects of what the sink received, in arrival order.
fn subjects(sink: &SmtpSink) -> Vec<String> {
    sink.received()
        .expect("received")
        .into_iter()
        .map(|m| m.subject)
        .collect()
}

type SmtpHarness = Harness<SmtpMailer>;

/// The SMTP mailer in plain text to a fresh sink.
async fn smtp_harness() -> SmtpHarness {
    let (sink, mailer) =
        sink_and_mailer(SinkOptions::default(), "smtp://127.0.0.1:{port}", |b| b).await;
    Harness {
        mailer,
        inbox: Inbox::Sink(sink),
    }
}

mod conformance {
    use super::smtp_harness;
    portal_access_core::mailer_conformance_tests!(smtp_harness());
}

#[tokio::test]
async fn plain_smtp_delivery_uses_the_configured_sender_and_message_id() {
    let harness = smtp_harness().await;
    let message = sample_message("client@example.com", "Hello");

    harness.mailer.send(&message).await.expect("delivered");

    let received = harness.sink().received_with_sender().expect("received");
    assert_eq!(received.len(), 1);
    let (envelope_sender, got) = &received[0];
    assert_eq!(envelope_sender, FROM_ADDRESS);
    assert_eq!(
        got.message_id.as_deref(),
        Some(format!("{}@firm.example", message.id).as_str())
    );
    let raw = harness.sink().raw_messages().expect("raw").remove(0);
    let raw = String::from_utf8(raw).expect("ascii message");
    assert!(
        raw.contains("From: \"Client portal\" <portal@firm.example>\r\n")
            || raw.contains("From: Client portal <portal@firm.example>\r\n"),
        "{raw}"
    );
    assert!(
        raw.contains("Content-Type: multipart/alternative;"),
        "{raw}"
    );
}

/// Sends `count` messages at once through `mailer`; asserts all were
/// delivered, each once; returns the client ports they arrived from.
async fn send_concurrently(mailer: &SmtpMailer, sink: &SmtpSink, count: usize) -> Vec<u16> {
    let messages: Vec<_> = (0..count)
        .map(|n| sample_message(&format!("client{n}@example.com"), &format!("Message {n}")))
        .collect();

    let results = futures::future::join_all(messages.iter().map(|m| mailer.send(m))).await;

    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let mut received = subjects(sink);
    received.sort();
    let mut expected: Vec<String> = messages.iter().map(|m| m.subject.clone()).collect();
    expected.sort();
    assert_eq!(received, expected);
    sink.client_ports().expect("client ports")
}

#[tokio::test]
async fn many_concurrent_messages_are_all_delivered_over_the_pool() {
    let harness = smtp_harness().await;

    send_concurrently(&harness.mailer, harness.sink(), 40).await;
}

#[tokio::test]
async fn messages_sent_one_after_another_reuse_one_connection() {
    let harness = smtp_harness().await;

    for n in 0..5 {
        let message = sample_message(&format!("client{n}@example.com"), "Hello");
        harness.mailer.send(&message).await.expect("delivered");
    }

    let ports = harness.sink().client_ports().expect("client ports");
    assert_eq!(ports.len(), 5);
    assert!(ports.iter().all(|p| *p == ports[0]), "{ports:?}");
}

#[tokio::test]
async fn no_more_connections_are_open_at_once_than_max_connections() {
    let (sink, mailer) = sink_and_mailer(SinkOptions::default(), "smtp://127.0.0.1:{port}", |b| {
        b.max_connections(3)
    })
    .await;

    let mut ports = send_concurrently(&mailer, &sink, 30).await;

    assert_eq!(ports.len(), 30);
    ports.sort_unstable();
    ports.dedup();
    assert!(ports.len() <= 3, "{} connections: {ports:?}", ports.len());
}

#[tokio::test]
async fn starttls_delivers_when_the_servers_certificate_is_trusted() {
    let (_certs, options, cert_pem) = tls_options(false, None);
    let received = delivered(
        options,
        "smtp://127.0.0.1:{port}?tls=starttls",
        |b| b.add_root_certificate_pem(cert_pem),
        "Over TLS",
    )
    .await;

    assert_eq!(received, ["Over TLS"]);
}

/// Sends `subject` to `url` (`{port}`: the sink's) with the mailer as
/// `configure` leaves it and the sink as `options` says; it must be
/// delivered. What the sink received, as subjects.
async fn delivered(
    options: SinkOptions,
    url: &str,
    configure: impl FnOnce(SmtpMailerBuilder) -> SmtpMailerBuilder,
    subject: &str,
) -> Vec<String> {
    let (sink, mailer) = sink_and_mailer(options, url, configure).await;

    send(&mailer, subject).await.expect("delivered");

    subjects(&sink)
}

/// Sending to `url` (`{port}`: the sink's) with the sink as `options`
/// says fails transiently, and nothing arrives.
async fn assert_transient_failure_and_nothing_sent(options: SinkOptions, url: &str) -> MailerError {
    let (sink, mailer) = sink_and_mailer(options, url, |b| b).await;

    let error = send(&mailer, "Hello").await.expect_err("not delivered");

    assert!(error.is_transient(), "{error}");
    assert!(subjects(&sink).is_empty());
    error
}

#[tokio::test]
async fn starttls_to_an_untrusted_certificate_fails_transiently_and_sends_nothing() {
    let (_certs, options, _) = tls_options(false, None);

    assert_transient_failure_and_nothing_sent(options, "smtp://127.0.0.1:{port}?tls=starttls")
        .await;
}

#[tokio::test]
async fn accepting_invalid_certificates_is_an_explicit_option_that_works() {
    let (_certs, options, _) = tls_options(false, None);
    let received = delivered(
        options,
        "smtp://127.0.0.1:{port}?tls=starttls",
        |b| b.dangerous_accept_invalid_certs(true),
        "Hello",
    )
    .await;

    assert_eq!(received.len(), 1);
}

#[tokio::test]
async fn required_starttls_never_falls_back_to_clear_text() {
    assert_transient_failure_and_nothing_sent(
        SinkOptions::default(),
        "smtp://127.0.0.1:{port}?tls=starttls",
    )
    .await;
}

#[tokio::test]
async fn opportunistic_tls_delivers_to_a_server_without_starttls() {
    let received = delivered(
        SinkOptions::default(),
        "smtp://127.0.0.1:{port}?tls=opportunistic",
        |b| b,
        "Hello",
    )
    .await;

    assert_eq!(received.len(), 1);
}

#[tokio::test]
async fn smtps_delivers_over_implicit_tls() {
    let (_certs, options, cert_pem) = tls_options(true, None);
    let received = delivered(
        options,
        "smtps://localhost:{port}",
        |b| b.add_root_certificate_pem(cert_pem),
        "Implicit TLS",
    )
    .await;

    assert_eq!(received, ["Implicit TLS"]);
}

#[tokio::test]
async fn auth_over_starttls_with_percent_encoded_credentials_delivers() {
    let (_certs, options, cert_pem) = tls_options(false, Some("portal@firm:p@ss:w/rd%é"));
    let url = "smtp://portal%40firm:p%40ss%3Aw%2Frd%25%C3%A9@127.0.0.1:{port}?tls=starttls";
    let received = delivered(
        options,
        url,
        |b| b.add_root_certificate_pem(cert_pem),
        "Authenticated",
    )
    .await;

    assert_eq!(received, ["Authenticated"]);
}

/// A sink requiring AUTH as `user:secret`, in plain text.
fn plain_auth_options() -> SinkOptions {
    SinkOptions {
        auth: Some("user:secret".to_owned()),
        ..SinkOptions::default()
    }
}

#[tokio::test]
async fn auth_over_plain_smtp_to_loopback_delivers() {
    let received = delivered(
        plain_auth_options(),
        "smtp://user:secret@127.0.0.1:{port}",
        |b| b,
        "Authenticated",
    )
    .await;

    assert_eq!(received.len(), 1);
}

#[tokio::test]
async fn a_wrong_password_is_transient_so_mail_flows_once_fixed() {
    let error = assert_transient_failure_and_nothing_sent(
        plain_auth_options(),
        "smtp://user:wrong@127.0.0.1:{port}",
    )
    .await;

    let cause = std::error::Error::source(&error).map(|s| s.to_string());
    assert!(cause.is_some_and(|c| c.contains("535")), "{error:?}");
}

#[tokio::test]
async fn a_server_that_is_not_running_is_a_transient_error() {
    let port = free_port();
    let mailer = builder(&format!("smtp://127.0.0.1:{port}"))
        .build()
        .expect("mailer");

    let error = send(&mailer, "Hello").await.expect_err("refused");

    assert!(error.is_transient(), "{error}");
    let source = std::error::Error::source(&error).expect("source kept");
    let connect = source
        .downcast_ref::<portal_access_smtp::ConnectError>()
        .expect("a connection error");
    assert_eq!(
        connect.to_string(),
        format!("could not connect to the SMTP server 127.0.0.1:{port}")
    );
    let io = std::error::Error::source(connect)
        .and_then(|e| e.downcast_ref::<std::io::Error>())
        .expect("the io error kept");
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn a_550_recipient_refusal_is_a_permanent_error() {
    let options = SinkOptions {
        reject_rcpt: true,
        ..SinkOptions::default()
    };
    let (_sink, mailer) = sink_and_mailer(options, "smtp://127.0.0.1:{port}", |b| b).await;

    let error = mailer
        .send(&sample_message("nobody@example.com", "Hello"))
        .await
        .expect_err("550");

    assert!(error.is_permanent(), "{error}");
    let source = std::error::Error::source(&error).expect("source kept");
    let smtp_error = source
        .downcast_ref::<portal_access_smtp::lettre::transport::smtp::Error>()
        .expect("the lettre error");
    assert_eq!(
        smtp_error.status().map(|c| c.to_string()).as_deref(),
        Some("550")
    );
}

#[tokio::test]
async fn a_stalled_server_times_out_transiently_within_the_configured_bound() {
    let options = SinkOptions {
        stall: true,
        ..SinkOptions::default()
    };
    let (_sink, mailer) = sink_and_mailer(options, "smtp://127.0.0.1:{port}", |b| {
        b.timeout(Duration::from_millis(800))
    })
    .await;
    let started = Instant::now();

    let error = send(&mailer, "Hello").await.expect_err("stalls");

    let elapsed = started.elapsed();
    assert!(error.is_transient(), "{error}");
    assert!(
        std::error::Error::source(&error).is_some_and(|s| s.is::<SmtpTimeout>()),
        "{error}"
    );
    assert!(
        elapsed >= Duration::from_millis(800) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn check_connection_answers_for_a_live_server_and_fails_for_a_dead_one() {
    let live = smtp_harness().await;
    let dead = builder(&format!("smtp://127.0.0.1:{}", free_port()))
        .build()
        .expect("mailer");

    live.mailer
        .check_connection()
        .await
        .expect("live server answers");
    let error = dead.check_connection().await.expect_err("dead server");

    assert!(error.is_transient(), "{error}");
}

#[test]
fn credentials_in_clear_text_to_a_remote_host_are_refused() {
    let error =
        SmtpMailer::builder("smtp://user:pw@mail.firm.example:25", from()).expect_err("refused");
    assert!(error.to_string().contains("clear text"), "{error}");
    assert!(SmtpMailer::builder(
        "smtp://user:pw@mail.firm.example:25?tls=opportunistic",
        from()
    )
    .is_err());
    assert!(SmtpMailer::builder("smtp://user:pw@mail.firm.example?tls=starttls", from()).is_ok());
    assert!(SmtpMailer::builder("smtps://user:pw@mail.firm.example", from()).is_ok());
}

#[test]
fn building_outside_a_tokio_runtime_is_an_error_not_a_panic() {
    let error = SmtpMailer::builder("smtp://127.0.0.1:2525", from())
        .expect("valid")
        .build();
    assert!(matches!(
        error,
        Err(portal_access_smtp::SmtpConfigError::NoRuntime)
    ));
}

#[tokio::test]
async fn debug_output_never_shows_the_password() {
    let mailer = SmtpMailer::builder("smtps://user:hunter2@mail.firm.example", from())
        .expect("valid")
        .build()
        .expect("mailer");
    let shown = format!("{mailer:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
}

#[test]
fn url_forms_and_their_defaults_parse_as_documented() {
    use portal_access_smtp::{SmtpEndpoint, TlsMode};
    let cases = [
        ("smtp://mail.example", 25, TlsMode::None),
        ("smtp://mail.example:2525", 2525, TlsMode::None),
        ("smtp://mail.example?tls=none", 25, TlsMode::None),
        (
            "smtp://mail.example?tls=opportunistic",
            25,
            TlsMode::Opportunistic,
        ),
        ("smtp://mail.example?tls=starttls", 587, TlsMode::StartTls),
        ("smtp://mail.example?tls=required", 587, TlsMode::StartTls),
        ("smtps://mail.example", 465, TlsMode::Implicit),
        ("smtps://[::1]:4650", 4650, TlsMode::Implicit),
    ];
    for (url, port, tls) in cases {
        let endpoint = SmtpEndpoint::parse(url).expect(url);
        assert_eq!((endpoint.port(), endpoint.tls()), (port, tls), "{url}");
    }
    assert_eq!(
        SmtpEndpoint::parse("smtps://[::1]:4650")
            .expect("v6")
            .host(),
        "::1"
    );
    for bad in [
        "http://mail.example",
        "smtp://",
        "smtp://mail.example/path",
        "smtp://mail.example?tls=maybe",
        "smtps://mail.example?tls=starttls",
        "smtp://mail.example?timeout=3",
        "smtp://u:%FF@localhost",
    ] {
        assert!(SmtpEndpoint::parse(bad).is_err(), "{bad} is refused");
    }
}
