//! (h) Request latency while the mail server is slow (`--slow-smtp`):
//! forgot-password (a known address: it queues a reset link) and a staff
//! reset, each `requests` times, first with portal-server delivering to a
//! quick SMTP sink, then, on the same database, to one that waits `delay`
//! before it answers each message. Requests only write to the outbox, so
//! their latency should not move; the dispatcher's slots fill with slow
//! sends meanwhile (each bounded by the SMTP mailer's 30 s timeout, then
//! retried).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use futures::{stream, StreamExt};

use crate::processes::{Server, Sink, SinkOptions};
use crate::scenarios::source_ip;
use crate::staff::{Account, Staff};
use crate::stats::Latencies;
use crate::wire::{json_string, Connection};
use crate::{progress, Options, Result};

/// Requests in flight at once, per kind.
const CONCURRENCY: usize = 8;

/// Resets one staff member may send in an hour before human verification
/// is asked for (the service's default rate).
const RESETS_PER_STAFF: usize = 10;

/// One phase: the latencies of both kinds of request, and their errors.
pub struct Phase {
    pub forgot: Latencies,
    pub forgot_errors: usize,
    pub reset: Latencies,
    pub reset_errors: usize,
    /// Messages the SMTP sink had accepted when the phase ended.
    pub delivered: u64,
}

/// Both phases on one store.
pub struct SlowSmtp {
    pub label: String,
    pub requests: usize,
    pub delay: Duration,
    pub quick: Phase,
    pub slow: Phase,
}

/// The staff tokens of one phase: `ID:TOKEN` flags and the bearer tokens.
fn staff_tokens(phase: &str, requests: usize) -> (Vec<String>, Vec<String>) {
    let count = requests.div_ceil(RESETS_PER_STAFF);
    let tokens: Vec<String> = (0..count)
        .map(|i| format!("slow-smtp-{phase}-staff-token-{i:04}"))
        .collect();
    let flags = tokens
        .iter()
        .enumerate()
        .flat_map(|(i, token)| ["--staff-token".to_owned(), format!("{phase}-{i}:{token}")])
        .collect();
    (flags, tokens)
}

/// Measures both phases on the store at `url`.
pub async fn measure(options: &Options, work: &Path, label: &str, url: &str) -> Result<SlowSmtp> {
    let requests = options.slow_smtp_requests;
    let delay = Duration::from_secs(options.slow_smtp_delay);
    let sink = |name: &str, delay: Option<Duration>| SinkOptions {
        python: Some(options.python.clone()),
        script: options.sink_script.clone(),
        dir: Some(work.join(format!("mail-{name}-{}", label.to_lowercase()))),
        bench: true,
        delay,
        ..SinkOptions::default()
    };
    let quick_sink = Sink::start(sink("quick", None)).await?;
    let slow_sink = Sink::start(sink("slow", Some(delay))).await?;

    progress(format!(
        "[{label}] (h) quick SMTP: {requests} forgot-password + {requests} staff resets"
    ));
    let (flags, tokens) = staff_tokens("quick", requests);
    let server =
        Server::start_with(&options.server_bin, url, &quick_sink.url(), work, &flags).await?;
    let accounts = Staff::new(server.addr)?
        .active_accounts_named("slowsmtp", requests)
        .await?;
    let quick = phase(server.addr, &accounts, &tokens, 0, &quick_sink).await;
    server.stop().await?;

    progress(format!(
        "[{label}] (h) SMTP answering after {} s: the same requests",
        delay.as_secs()
    ));
    let (flags, tokens) = staff_tokens("slow", requests);
    let server =
        Server::start_with(&options.server_bin, url, &slow_sink.url(), work, &flags).await?;
    let slow = phase(server.addr, &accounts, &tokens, requests, &slow_sink).await;
    server.stop().await?;
    Ok(SlowSmtp {
        label: label.to_owned(),
        requests,
        delay,
        quick: quick?,
        slow: slow?,
    })
}

async fn phase(
    server: SocketAddr,
    accounts: &[Account],
    tokens: &[String],
    ip_offset: usize,
    sink: &Sink,
) -> Result<Phase> {
    let forgot = stream::iter(accounts.iter().enumerate())
        .map(|(i, account)| async move {
            let mut conn = Connection::open(server, Some(source_ip(ip_offset + i))).await?;
            let body = format!(r#"{{"email":{}}}"#, json_string(&account.email));
            let request = conn.request("POST", "/api/portal/forgot-password", None, Some(&body));
            let (response, took) = conn.send(&request).await?;
            Ok::<_, std::io::Error>((response.status == 202, took))
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    let reset = stream::iter(accounts.iter().enumerate())
        .map(|(i, account)| async move {
            let mut conn = Connection::open(server, None).await?;
            let token = &tokens[i / RESETS_PER_STAFF];
            let request = format!(
                "POST /staff/accounts/{}/password-reset HTTP/1.1\r\nHost: {server}\r\n\
                 Authorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n",
                account.id
            );
            let (response, took) = conn.send(request.as_bytes()).await?;
            Ok::<_, std::io::Error>((response.status == 202, took))
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    let (forgot, forgot_errors) = latencies(forgot)?;
    let (reset, reset_errors) = latencies(reset)?;
    Ok(Phase {
        forgot,
        forgot_errors,
        reset,
        reset_errors,
        delivered: sink.count(),
    })
}

/// The latencies of the answers and how many were not the expected status.
fn latencies(results: Vec<std::io::Result<(bool, Duration)>>) -> Result<(Latencies, usize)> {
    let mut took = Vec::with_capacity(results.len());
    let mut errors = 0;
    for result in results {
        let (ok, elapsed) = result?;
        errors += usize::from(!ok);
        took.push(elapsed);
    }
    Ok((Latencies::new(took), errors))
}

/// One kind of request's latencies and errors in a phase.
type PickLatencies = fn(&Phase) -> (&Latencies, usize);

/// The Markdown table of (h).
pub fn markdown(results: &[SlowSmtp]) -> String {
    let mut out = String::new();
    let Some(first) = results.first() else {
        return out;
    };
    let _ = writeln!(
        out,
        "(h) {} forgot-password requests (known addresses, so each queues a reset link) and \
         {} staff resets per phase, {CONCURRENCY} at a time each, first with the outbox \
         delivering to a quick SMTP sink, then (same database, server restarted) to one that \
         waits {} s before answering each message.\n",
        first.requests,
        first.requests,
        first.delay.as_secs()
    );
    let mut header = String::from("| Request | SMTP |");
    let mut rule = String::from("|---|---|");
    for result in results {
        let _ = write!(header, " {} p50 / p99 | errors |", result.label);
        rule.push_str("---:|---:|");
    }
    let _ = writeln!(out, "{header}\n{rule}");
    let rows: [(&str, PickLatencies); 2] = [
        ("`POST /api/portal/forgot-password`", |p| {
            (&p.forgot, p.forgot_errors)
        }),
        ("`POST /staff/accounts/{id}/password-reset`", |p| {
            (&p.reset, p.reset_errors)
        }),
    ];
    for (name, pick) in rows {
        for (smtp, phase_of) in [
            (
                "quick",
                (|r: &SlowSmtp| &r.quick) as fn(&SlowSmtp) -> &Phase,
            ),
            ("slow (30 s a message)", |r: &SlowSmtp| &r.slow),
        ] {
            let _ = write!(out, "| {name} | {smtp} |");
            for result in results {
                let (latencies, errors) = pick(phase_of(result));
                let _ = write!(
                    out,
                    " {:.1} / {:.1} ms | {errors} |",
                    latencies.percentile_ms(50.0),
                    latencies.percentile_ms(99.0)
                );
            }
            let _ = writeln!(out);
        }
    }
    for result in results {
        let _ = writeln!(
            out,
            "\n- {}: messages accepted by the SMTP sink by the end of each phase: {} (quick), {} \
             (slow: the dispatcher's 16 slots held by sends the server answers only after {} s, \
             each cut by the mailer's 30 s timeout and retried).",
            result.label,
            result.quick.delivered,
            result.slow.delivered,
            result.delay.as_secs()
        );
    }
    out
}
