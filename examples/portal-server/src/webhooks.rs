//! `--webhook-url` / `--webhook-secret`: checked at start, paired in order.

use std::time::Duration;

use portal_access::dispatch::DispatcherConfig;
use portal_access::webhook::{WebhookEndpoint, WebhookEndpoints, WebhookSecret};
use portal_access::webhooks::HttpWebhookSender;
use secrecy::ExposeSecret;

use crate::cli::ServerConfig;
use crate::error::StartError;

/// How long one webhook delivery may take (connect, send, the answer's
/// status and headers).
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// The endpoints of the flags, for every tenant portal-server serves.
/// Refuses a URL that is not http(s), a secret not in `whsec_` form, and
/// unpaired flags, naming the flag.
pub fn endpoints(config: &ServerConfig) -> Result<WebhookEndpoints, StartError> {
    if config.webhook_urls.len() != config.webhook_secrets.len() {
        return Err(StartError::Webhook(format!(
            "--webhook-url and --webhook-secret must be given in pairs: got {} URL(s) and {} \
             secret(s)",
            config.webhook_urls.len(),
            config.webhook_secrets.len()
        )));
    }
    let mut all_tenants = Vec::new();
    for (url, secret) in config.webhook_urls.iter().zip(&config.webhook_secrets) {
        let secret = WebhookSecret::parse(secret.expose_secret()).map_err(|_| {
            StartError::Webhook(format!(
                "--webhook-secret for {url} must be whsec_ followed by base64 of 16 to 64 bytes"
            ))
        })?;
        let endpoint = WebhookEndpoint::new(url.clone(), secret).map_err(|_| {
            StartError::Webhook(format!(
                "--webhook-url must be http:// or https:// with a host, not {url:?}"
            ))
        })?;
        all_tenants.push(endpoint);
    }
    Ok(WebhookEndpoints {
        all_tenants,
        ..WebhookEndpoints::default()
    })
}

/// The HTTP sender.
pub fn sender() -> Result<HttpWebhookSender, StartError> {
    HttpWebhookSender::new(WEBHOOK_TIMEOUT).map_err(|e| StartError::Http(Box::new(e)))
}

/// The webhook dispatcher's settings: the mail defaults, each attempt cut a
/// little after the sender's own timeout.
pub fn dispatcher_config() -> DispatcherConfig {
    DispatcherConfig {
        send_timeout: WEBHOOK_TIMEOUT + Duration::from_secs(5),
        ..DispatcherConfig::default()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn parsed(args: &[&str]) -> ServerConfig {
        ServerConfig::parse_from(std::iter::once("portal-server").chain(args.iter().copied()))
    }

    fn refusal(args: &[&str]) -> String {
        match endpoints(&parsed(args)) {
            Err(error) => error.to_string(),
            Ok(endpoints) => panic!("accepted {endpoints:?}"),
        }
    }

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn paired_flags_make_one_endpoint_each_in_order() {
        let endpoints = endpoints(&parsed(&[
            "--webhook-url",
            "https://crm.example.com/a",
            "--webhook-secret",
            SECRET,
            "--webhook-url",
            "http://127.0.0.1:9000/b",
            "--webhook-secret",
            SECRET,
        ]))
        .unwrap();
        let urls: Vec<_> = endpoints.all_tenants.iter().map(|e| e.url()).collect();
        assert_eq!(
            urls,
            ["https://crm.example.com/a", "http://127.0.0.1:9000/b"]
        );
    }

    #[test]
    fn a_url_that_is_not_http_is_refused_naming_the_flag() {
        let message = refusal(&[
            "--webhook-url",
            "ftp://crm.example.com",
            "--webhook-secret",
            SECRET,
        ]);
        assert!(message.contains("--webhook-url"), "{message}");
    }

    #[test]
    fn a_secret_not_in_whsec_form_is_refused_naming_the_flag_not_the_secret() {
        let message = refusal(&[
            "--webhook-url",
            "https://crm.example.com",
            "--webhook-secret",
            "hunter2-plain-secret",
        ]);
        assert!(message.contains("--webhook-secret"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn unpaired_flags_are_refused() {
        let message = refusal(&["--webhook-url", "https://crm.example.com"]);
        assert!(message.contains("in pairs"), "{message}");
    }
}
