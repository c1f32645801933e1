//! The webhook flags: a bad URL, a secret not in `whsec_` form or unpaired
//! flags refuse to start with a message naming the flag (never the
//! secret); good ones reach the service's configuration.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use portal_server::app::build_app;
use support::config;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[tokio::test]
async fn bad_webhook_flags_refuse_to_start_naming_the_flag_never_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let secret = format!("--webhook-secret={SECRET}");
    for (flags, named) in [
        (
            vec!["--webhook-url=ftp://crm.example.com/hooks", secret.as_str()],
            "--webhook-url",
        ),
        (
            vec!["--webhook-url=crm.example.com", secret.as_str()],
            "--webhook-url",
        ),
        (
            vec![
                "--webhook-url=https://crm.example.com/hooks",
                "--webhook-secret=plain-hunter2",
            ],
            "--webhook-secret",
        ),
        (
            vec!["--webhook-url=https://crm.example.com/hooks"],
            "--webhook-secret",
        ),
    ] {
        let error = match build_app(&config(dir.path(), &flags)).await {
            Err(error) => error.to_string(),
            Ok(_) => panic!("{flags:?} started"),
        };
        assert!(error.contains(named), "{flags:?}: {error}");
        assert!(!error.contains("hunter2"), "{error}");
    }
}

#[tokio::test]
async fn paired_webhook_flags_reach_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let secret = format!("--webhook-secret={SECRET}");
    let flags = [
        "--webhook-url=https://crm.example.com/hooks",
        secret.as_str(),
    ];
    let app = build_app(&config(dir.path(), &flags)).await.unwrap();
    let urls: Vec<_> = app
        .service
        .config()
        .webhooks
        .all_tenants
        .iter()
        .map(|e| e.url().to_owned())
        .collect();
    assert_eq!(urls, ["https://crm.example.com/hooks"]);
}
