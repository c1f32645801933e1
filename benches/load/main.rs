//! The HTTP load driver of SPEC.md section 7.
//!
//! Starts `portal-server` (release build) once per store, sets up accounts
//! through the staff API, and measures, side by side in one run:
//!
//! - (a) the raw argon2id verify rate of this build on this machine's cores;
//! - (b) sign-in throughput and p50/p99 at concurrency 4 and 256, as a ratio of (a),
//!   and the throughput at `--sign-in-curve` (1, 16, 64) for the chart;
//! - (c) `GET /api/portal/me` alone, and while sign-ins saturate the hashing pool;
//! - (d) forgot-password latency, known vs unknown address, paired;
//! - (e) resident memory of the server under 1,000 concurrent sign-ins;
//! - (f) the outbox dispatcher's rate to a local SMTP server (aiosmtpd);
//! - (g) with `--totp-only`, instead of (b)-(f): sign-in + TOTP code
//!   throughput at concurrency 4 as a ratio of (a) (the server runs with
//!   `--mfa optional` in every run);
//! - (h) with `--slow-smtp`, instead of (a)-(f): forgot-password and staff
//!   reset latency with a quick SMTP server, then with one that takes 30 s
//!   to answer each message.
//!
//! It prints a Markdown report on stdout (progress on stderr) and, with
//! `--plots-dir`, draws (b) by concurrency and the latency distribution of
//! (c) as SVG charts there (`plot.rs`). Run it through
//! `scripts/bench`, which builds the server, creates and drops the
//! PostgreSQL database, and writes the report into docs/performance.md:
//!
//! ```text
//! cargo bench -p portal-access --bench load -- \
//!     --server-bin target/release/portal-server \
//!     --backend SQLite=sqlite:///tmp/bench/portal.db \
//!     --backend PostgreSQL=postgres://postgres@127.0.0.1:5432/portal_bench \
//!     --sink-script crates/smtp/tests/support/smtp_sink.py
//! ```
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod argon;
mod plot;
mod plot_data;
mod processes;
mod report;
mod scenarios;
mod second_factor;
mod slow_smtp;
mod staff;
mod stats;
mod wire;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use processes::{Server, Sink, SinkOptions};
use scenarios::Budget;

/// Errors of the driver: a message for the person running the bench.
pub type Result<T, E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

/// Fails with a message.
pub fn fail<T>(message: impl Into<String>) -> Result<T> {
    Err(message.into().into())
}

/// The load driver's options.
#[derive(Debug, Parser)]
#[command(about = "HTTP load driver for portal-server (SPEC.md section 7)")]
pub struct Options {
    /// The `portal-server` binary (a release build).
    #[arg(long)]
    pub server_bin: PathBuf,
    /// A store to measure, as LABEL=DATABASE_URL (repeatable, in order).
    #[arg(long = "backend", value_parser = parse_backend, required = true)]
    backends: Vec<(String, String)>,
    /// The aiosmtpd sink script (default: crates/smtp/tests/support/smtp_sink.py
    /// as compiled into the driver).
    #[arg(long)]
    pub sink_script: Option<PathBuf>,
    /// The Python that has aiosmtpd.
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// The server's hashing pool size (its default: the number of cores).
    #[arg(long)]
    pool_size: Option<usize>,
    /// Active accounts to create per store (forgot-password uses each at most
    /// ceil(pairs / accounts) times, under the per-address limit of 5 an hour).
    #[arg(long, default_value_t = 520)]
    accounts: usize,
    /// Sign-ins measured at concurrency 4.
    #[arg(long, default_value_t = 600)]
    sign_ins_c4: usize,
    /// Sign-ins measured at concurrency 256.
    #[arg(long, default_value_t = 2000)]
    sign_ins_c256: usize,
    /// Further sign-in concurrencies measured for the chart (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    sign_in_curve: Vec<usize>,
    /// Sign-ins measured at each of `--sign-in-curve`.
    #[arg(long, default_value_t = 300)]
    sign_ins_curve: usize,
    /// Where to write the SVG charts (none without it); the report links
    /// them by file name, so give the directory of the document it goes in.
    #[arg(long)]
    plots_dir: Option<PathBuf>,
    /// Seconds of `me` load, alone and under sign-ins.
    #[arg(long, default_value_t = 5)]
    me_seconds: u64,
    /// Connections of the `me` load.
    #[arg(long, default_value_t = 32)]
    me_connections: usize,
    /// Forgot-password pairs (known, unknown).
    #[arg(long, default_value_t = 2000)]
    pairs: usize,
    /// Sign-ins in flight at once for the memory figure.
    #[arg(long, default_value_t = 1000)]
    memory_sign_ins: usize,
    /// Invitations queued for the outbox figure.
    #[arg(long, default_value_t = 2000)]
    messages: usize,
    /// Seconds of raw argon2 verifying.
    #[arg(long, default_value_t = 5)]
    argon_seconds: u64,
    /// Measure only (a) and (g), sign-in + TOTP at concurrency 4.
    #[arg(long)]
    totp_only: bool,
    /// Accounts with an authenticator for (g) (each passes at most two
    /// steps per 30 s, often one: enrolment used the current step; a quiet
    /// 2-core machine completes ~90 pairs a second).
    #[arg(long, default_value_t = 1000)]
    totp_accounts: usize,
    /// Seconds of (g).
    #[arg(long, default_value_t = 5)]
    totp_seconds: u64,
    /// Where to keep logs and the sink's mail (default: a temporary directory).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Measure only (h): request latency with a quick, then a slow SMTP server.
    #[arg(long)]
    slow_smtp: bool,
    /// (h): forgot-password requests and staff resets per phase.
    #[arg(long, default_value_t = 200)]
    pub slow_smtp_requests: usize,
    /// (h): seconds the slow SMTP server waits before answering each message.
    #[arg(long, default_value_t = 30)]
    pub slow_smtp_delay: u64,
    /// `cargo bench` passes this; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn parse_backend(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(label, url)| (label.to_owned(), url.to_owned()))
        .ok_or_else(|| format!("expected LABEL=DATABASE_URL, got {text:?}"))
}

fn main() {
    let options = Options::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(&options)) {
        Ok(markdown) => print!("{markdown}"),
        Err(error) => {
            eprintln!("load: {error}");
            std::process::exit(1);
        }
    }
}

fn progress(message: impl AsRef<str>) {
    eprintln!("load: {}", message.as_ref());
}

async fn run(options: &Options) -> Result<String> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let pool_size = options.pool_size.unwrap_or(cores);
    let temp = tempfile::tempdir()?;
    let work = options
        .work_dir
        .clone()
        .unwrap_or_else(|| temp.path().to_owned());
    std::fs::create_dir_all(&work)?;

    if options.slow_smtp {
        let mut results = Vec::new();
        for (label, url) in &options.backends {
            results.push(slow_smtp::measure(options, &work, label, url).await?);
        }
        return Ok(slow_smtp::markdown(&results));
    }

    progress(format!(
        "(a) raw argon2id verify rate, {cores} threads, {} s",
        options.argon_seconds
    ));
    let raw = argon::verify_rate(cores, Duration::from_secs(options.argon_seconds))?;
    progress(format!("    {raw:.1} verifies/s"));

    if options.totp_only {
        return totp_report(options, &work, raw, cores).await;
    }
    let mut results = Vec::new();
    for (label, url) in &options.backends {
        results.push(measure_backend(options, &work, label, url, pool_size).await?);
    }
    let report = report::Report {
        cores,
        pool_size,
        raw_verifies: raw,
        argon_threads: cores,
        backends: results,
    };
    let mut markdown = report::markdown(&report);
    if let Some(dir) = &options.plots_dir {
        for path in plot::write_charts(dir, &report)? {
            progress(format!("wrote {}", path.display()));
        }
        markdown.push_str(&report::chart_links());
    }
    Ok(markdown)
}

/// (g) on every backend: a Markdown table against (a).
async fn totp_report(
    options: &Options,
    work: &std::path::Path,
    raw: f64,
    cores: usize,
) -> Result<String> {
    let mut table = format!(
        "Sign-in + TOTP at concurrency 4 ({cores} cores; raw argon2id {raw:.1} verifies/s):\n\n\
         | store | completed | errors | sign-ins + TOTP/s | of raw argon2 |\n|---|---|---|---|---|\n"
    );
    for (label, url) in &options.backends {
        let sink_dir = work.join(format!("mail-totp-{}", label.to_lowercase()));
        let sink = Sink::start(SinkOptions {
            python: Some(options.python.clone()),
            script: options.sink_script.clone(),
            dir: Some(sink_dir),
            bench: true,
            ..SinkOptions::default()
        })
        .await?;
        let server = Server::start(&options.server_bin, url, &sink.url(), work).await?;
        progress(format!(
            "[{label}] (g) enrolling {} authenticators",
            options.totp_accounts
        ));
        let staff = staff::Staff::new(server.addr)?;
        let accounts = staff.active_accounts(options.totp_accounts).await?;
        let enrolled = second_factor::enrol(&server, accounts).await?;
        progress(format!("[{label}] (g) sign-in + TOTP, concurrency 4"));
        let measured = second_factor::sign_in_with_totp(
            &server,
            enrolled,
            4,
            Duration::from_secs(options.totp_seconds),
        )
        .await;
        if measured.is_err() {
            eprintln!("load: [{label}] portal-server log:\n{}", server.log_tail());
        }
        server.stop().await?;
        let measured = measured?;
        table.push_str(&format!(
            "| {label} | {} | {} | {:.1} | {:.0} % |\n",
            measured.completed,
            measured.errors,
            measured.rate,
            100.0 * measured.rate / raw
        ));
    }
    Ok(table)
}

async fn measure_backend(
    options: &Options,
    work: &std::path::Path,
    label: &str,
    url: &str,
    pool_size: usize,
) -> Result<report::Backend> {
    let sink_dir = work.join(format!("mail-{}", label.to_lowercase()));
    let sink = Sink::start(SinkOptions {
        python: Some(options.python.clone()),
        script: options.sink_script.clone(),
        dir: Some(sink_dir),
        bench: true,
        ..SinkOptions::default()
    })
    .await?;
    progress(format!("[{label}] starting portal-server"));
    let server = Server::start(&options.server_bin, url, &sink.url(), work).await?;
    let outcome = measure_running(options, label, &server, &sink, pool_size).await;
    if outcome.is_err() {
        eprintln!("load: [{label}] portal-server log:\n{}", server.log_tail());
    }
    server.stop().await?;
    outcome
}

async fn measure_running(
    options: &Options,
    label: &str,
    server: &Server,
    sink: &Sink,
    pool_size: usize,
) -> Result<report::Backend> {
    let staff = staff::Staff::new(server.addr)?;
    progress(format!(
        "[{label}] creating and activating {} accounts",
        options.accounts
    ));
    let accounts = staff.active_accounts(options.accounts).await?;

    let accounts = &accounts;
    let sign_in_at = |concurrency: usize, max_requests: usize| async move {
        progress(format!("[{label}] (b) sign-in, concurrency {concurrency}"));
        let budget = Budget {
            max_requests,
            max_time: Duration::from_secs(120),
        };
        scenarios::sign_in(server, accounts, concurrency, budget, None).await
    };
    let sign_in_4 = sign_in_at(4, options.sign_ins_c4).await?;
    let sign_in_256 = sign_in_at(256, options.sign_ins_c256).await?;
    let mut sign_in_curve = Vec::new();
    for &concurrency in &options.sign_in_curve {
        let load = sign_in_at(concurrency, options.sign_ins_curve).await?;
        sign_in_curve.push((concurrency, load));
    }

    progress(format!("[{label}] (c) me, alone"));
    let cookies = scenarios::sessions(server, &accounts[..16.min(accounts.len())]).await?;
    let me_seconds = Duration::from_secs(options.me_seconds);
    let me_alone = scenarios::me(server, &cookies, options.me_connections, me_seconds).await?;
    progress(format!(
        "[{label}] (c) me, while sign-ins saturate the hashing pool"
    ));
    let (me_loaded, sign_in_during) = scenarios::me_under_sign_in(
        server,
        accounts,
        &cookies,
        options.me_connections,
        64,
        me_seconds,
    )
    .await?;

    progress(format!(
        "[{label}] (d) forgot-password, {} pairs",
        options.pairs
    ));
    let forgot = scenarios::forgot_password(server, accounts, options.pairs).await?;

    progress(format!(
        "[{label}] (e) memory under {} concurrent sign-ins",
        options.memory_sign_ins
    ));
    let memory =
        scenarios::memory_under_sign_ins(server, accounts, options.memory_sign_ins).await?;

    progress(format!(
        "[{label}] (f) outbox to SMTP, {} invitations",
        options.messages
    ));
    let outbox = scenarios::outbox(&staff, sink, options.messages, "invitee").await?;

    Ok(report::Backend {
        label: label.to_owned(),
        pool_size,
        sign_in_4,
        sign_in_256,
        sign_in_curve,
        me_alone,
        me_loaded,
        sign_in_during,
        forgot,
        memory,
        outbox,
    })
}
