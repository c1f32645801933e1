//! The second-factor flags: the policy reaches the service, the server key
//! is generated into the data directory once (owner-only) and reused, and a
//! malformed key refuses to start with a message naming the flag.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use clap::Parser;
use portal_access::MfaMode;
use portal_server::app::build_app;
use portal_server::cli::ServerConfig;
use portal_server::secret_key::{KeySource, KEY_FILE};
use support::config;

#[tokio::test]
async fn the_first_start_generates_the_server_key_and_later_starts_reuse_it() {
    let dir = tempfile::tempdir().unwrap();
    let flags = [
        "--mfa=required",
        "--mfa-required-from=2027-01-15",
        "--mfa-factors=totp",
    ];
    let app = build_app(&config(dir.path(), &flags)).await.unwrap();
    let file = dir.path().join("data").join(KEY_FILE);
    assert_eq!(app.key_source, Some(KeySource::Generated(file.clone())));
    let policy = app.service.config().mfa;
    assert_eq!(policy.mode, MfaMode::Required);
    assert_eq!(policy.required_from.unwrap().to_string(), "2027-01-15");
    assert!(policy.factors.totp && !policy.factors.email_code);
    let first = std::fs::read_to_string(&file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "owner only");
    }
    drop(app);

    let again = build_app(&config(dir.path(), &flags)).await.unwrap();
    assert_eq!(again.key_source, Some(KeySource::File(file.clone())));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        first,
        "reused, not replaced"
    );
}

#[tokio::test]
async fn without_mfa_no_key_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let app = build_app(&config(dir.path(), &[])).await.unwrap();
    assert_eq!(app.key_source, None);
    assert_eq!(app.service.config().mfa.mode, MfaMode::Off);
    assert!(!dir.path().join("data").exists());
}

#[tokio::test]
async fn a_malformed_secret_key_refuses_to_start_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let error = build_app(&config(
        dir.path(),
        &["--mfa=optional", "--secret-key=bm90IDMyIGJ5dGVz"],
    ))
    .await
    .unwrap_err();
    assert!(error.to_string().contains("--secret-key"), "{error}");
    assert!(
        !error.to_string().contains("bm90IDMy"),
        "the key is never echoed"
    );
    assert!(!dir.path().join("data").exists(), "nothing generated");
}

#[test]
fn malformed_mfa_flags_are_refused_naming_the_flag() {
    for (flag, value) in [
        ("--mfa", "sometimes"),
        ("--mfa-required-from", "15/01/2027"),
        ("--mfa-factors", "totp,sms"),
    ] {
        let error = ServerConfig::try_parse_from(["portal-server", flag, value])
            .err()
            .unwrap_or_else(|| panic!("{flag} {value} accepted"));
        assert!(error.to_string().contains(flag), "{flag}: {error}");
    }
}
