//! What the audit chain costs (docs/performance.md, "Audit trail"):
//!
//! 1. the commit rate of 4 concurrent writers on PostgreSQL, each commit
//!    appending one audit event to one tenant's chain, beside the same
//!    commit as it was before the chain (one plain `INSERT INTO
//!    audit_events`, no sequence number, no hash, no head);
//! 2. the peak resident memory growth of `portal-server` while it streams
//!    an export of 200,000 events (`GET /staff/audit?format=jsonl`, then
//!    `format=csv`).
//!
//! ```text
//! cargo build --release -p portal-server
//! cargo bench -p portal-access --bench audit -- --server-bin target/release/portal-server
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use portal_access::sqlite::SqliteStore;
use portal_access::{
    AccountId, AccountStore, Actor, AuditEvent, AuditKind, Changes, EventId, StaffId, TenantId,
};
use portal_access_postgres::testing::TestDatabase;
use portal_access_postgres::PostgresStore;
use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(Debug, Parser)]
struct Options {
    /// The `portal-server` binary (a release build).
    #[arg(long)]
    server_bin: PathBuf,
    /// Events in the exported trail.
    #[arg(long, default_value_t = 200_000)]
    events: u32,
    /// Seconds of each commit-rate run.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// `cargo bench` passes this; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

const TOKEN: &str = "bench-audit-token-0123456789";

fn event(tenant: &TenantId) -> AuditEvent {
    AuditEvent {
        id: EventId::from_random(rand::random()),
        tenant: tenant.clone(),
        account_id: Some(AccountId::from_random([7; 16])),
        actor: Actor::Staff {
            tenant: tenant.clone(),
            staff_id: StaffId::new("bench").unwrap(),
        },
        kind: AuditKind::PasswordResetSent,
        at: time::OffsetDateTime::now_utc(),
        ip: Some([192, 0, 2, 7].into()),
        user_agent: Some(
            "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0".into(),
        ),
        detail: serde_json::json!({ "from": { "os": "Linux", "browser": "Firefox 121.0" } }),
    }
}

/// Commits per second of 4 writers for `seconds`, each commit made by `commit`.
async fn rate<F, Fut>(seconds: u64, commit: F) -> f64
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let commit = Arc::new(commit);
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(seconds);
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let (commit, done) = (commit.clone(), done.clone());
            tokio::spawn(async move {
                while Instant::now() < until {
                    commit().await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let started = Instant::now();
    for writer in writers {
        writer.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

async fn commit_rates(seconds: u64) -> (f64, f64) {
    let tenant = TenantId::new("firm").unwrap();
    let database = TestDatabase::create().await;
    let store: PostgresStore = database.store(8).await;

    let plain = {
        let pool = store.pool().clone();
        let tenant = tenant.clone();
        rate(seconds, move || {
            let (pool, event) = (pool.clone(), event(&tenant));
            async move {
                let mut tx = pool.begin().await.unwrap();
                sqlx::query(
                    "INSERT INTO audit_events (id, tenant, account_id, actor, kind, at, ip, \
                     user_agent, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(event.id.as_uuid())
                .bind(event.tenant.as_str())
                .bind(event.account_id.map(|a| a.as_uuid()))
                .bind(serde_json::to_value(&event.actor).unwrap())
                .bind(event.kind.as_str())
                .bind(event.at)
                .bind(event.ip.map(|ip| ip.to_string()))
                .bind(event.user_agent.clone())
                .bind(event.detail.clone())
                .execute(&mut *tx)
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
        })
        .await
    };
    let chained = {
        let store = store.clone();
        rate(seconds, move || {
            let (store, event) = (store.clone(), event(&tenant));
            async move {
                let changes = Changes {
                    audit: vec![event],
                    ..Changes::default()
                };
                store.commit(changes).await.unwrap();
            }
        })
        .await
    };
    store.close().await;
    drop(database);
    (plain, chained)
}

fn memory(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Streams one export to its end: bytes, lines, seconds, and the largest
/// `VmRSS` of the server (`pid`) sampled after each chunk received.
async fn export(base: &str, query: &str, pid: u32) -> (u64, u64, f64, u64) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut response = client
        .get(format!("{base}/staff/audit{query}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let (mut bytes, mut lines, mut peak) = (0u64, 0u64, 0u64);
    while let Some(chunk) = response.chunk().await.unwrap() {
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        peak = peak.max(memory(pid, "VmRSS:"));
    }
    (bytes, lines, started.elapsed().as_secs_f64(), peak)
}

async fn export_memory(options: &Options) -> String {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("portal.db").display());
    let tenant = TenantId::new("default").unwrap();
    let store = SqliteStore::connect(&url).await.unwrap();
    let mut n = 0u64;
    while n < u64::from(options.events) {
        let batch: Vec<_> = (0..1_000).map(|_| event(&tenant)).collect();
        n += batch.len() as u64;
        let changes = Changes {
            audit: batch,
            ..Changes::default()
        };
        store.commit(changes).await.unwrap();
    }
    store.close().await;

    let mut server = tokio::process::Command::new(&options.server_bin)
        .args(["--listen", "127.0.0.1:0", "--database-url", &url])
        .args(["--staff-token", &format!("bench:{TOKEN}")])
        .args(["--mail-dir", &dir.path().join("mail").display().to_string()])
        .env("PORTAL_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = server.id().unwrap();
    let mut out = BufReader::new(server.stdout.take().unwrap()).lines();
    let base = loop {
        let line = out
            .next_line()
            .await
            .unwrap()
            .expect("the server prints its address");
        if let Some(at) = line.split("listening on ").nth(1) {
            break at.trim().to_owned();
        }
    };
    export(&base, "?limit=1", pid).await;
    let before = memory(pid, "VmRSS:");
    let (jsonl_bytes, jsonl_lines, jsonl_secs, jsonl_peak) =
        export(&base, "?format=jsonl", pid).await;
    let (csv_bytes, csv_lines, csv_secs, csv_peak) = export(&base, "?format=csv", pid).await;
    let hwm = memory(pid, "VmHWM:");
    server.kill().await.unwrap();
    assert_eq!(jsonl_lines, n, "every event exported as JSON Lines");
    assert!(
        csv_lines > n,
        "every event exported as CSV (plus the header)"
    );
    let mib = |kib: u64| kib as f64 / 1024.0;
    format!(
        "| export of {n} events, `format=jsonl` | {:.1} MiB in {:.1} s ({:.0} events/s) | RSS {:.1} MiB before, at most {:.1} MiB while streaming: **+{:.1} MiB** |\n\
         | export of {n} events, `format=csv` | {:.1} MiB in {:.1} s ({:.0} events/s) | RSS {:.1} MiB before, at most {:.1} MiB while streaming: **+{:.1} MiB** |\n\
         \nRSS sampled after every chunk received; the server's `VmHWM` (peak over its whole life) after both: {:.1} MiB.\n",
        mib(jsonl_bytes / 1024),
        jsonl_secs,
        n as f64 / jsonl_secs,
        mib(before),
        mib(jsonl_peak),
        mib(jsonl_peak.saturating_sub(before)),
        mib(csv_bytes / 1024),
        csv_secs,
        n as f64 / csv_secs,
        mib(before),
        mib(csv_peak),
        mib(csv_peak.saturating_sub(before)),
        mib(hwm),
    )
}

fn main() {
    let options = Options::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        eprintln!("audit: commit rates on PostgreSQL, {} s each", options.seconds);
        let (plain, chained) = commit_rates(options.seconds).await;
        eprintln!("audit: exporting {} events from portal-server", options.events);
        let export = export_memory(&options).await;
        println!("| figure | measured | |");
        println!("|---|---:|---|");
        println!(
            "| commits/s of 4 concurrent writers on PostgreSQL, one audit event each | unchained (before): {plain:.0}/s | chained: **{chained:.0}/s** = {:.0}% |",
            100.0 * chained / plain
        );
        print!("{export}");
    });
}
