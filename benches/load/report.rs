//! The Markdown report: each figure beside its SPEC.md section 7 target.

use std::fmt::Write as _;

use crate::argon::{ITERATIONS, MEMORY_KIB, PARALLELISM};
use crate::scenarios::{ForgotTiming, Load, Memory, Outbox};

/// Everything measured on one store.
pub struct Backend {
    pub label: String,
    pub pool_size: usize,
    pub sign_in_4: Load,
    pub sign_in_256: Load,
    /// Sign-in at the chart's further concurrencies (`--sign-in-curve`).
    pub sign_in_curve: Vec<(usize, Load)>,
    pub me_alone: Load,
    pub me_loaded: Load,
    pub sign_in_during: Load,
    pub forgot: ForgotTiming,
    pub memory: Memory,
    pub outbox: Outbox,
}

impl Backend {
    /// Successful sign-ins per second at every measured concurrency.
    pub fn sign_in_rates(&self) -> Vec<(usize, f64)> {
        [(4, &self.sign_in_4), (256, &self.sign_in_256)]
            .into_iter()
            .chain(self.sign_in_curve.iter().map(|(c, load)| (*c, load)))
            .map(|(concurrency, load)| (concurrency, load.rate()))
            .collect()
    }
}

/// The whole run.
pub struct Report {
    pub cores: usize,
    pub pool_size: usize,
    pub raw_verifies: f64,
    pub argon_threads: usize,
    pub backends: Vec<Backend>,
}

fn verdict(met: bool, miss: impl FnOnce() -> String) -> String {
    if met {
        "met".to_owned()
    } else {
        format!("**missed** ({})", miss())
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Renders the report.
pub fn markdown(report: &Report) -> String {
    let raw = report.raw_verifies;
    let sign_in_floor = 0.9 * raw;
    let memory_bound_mib = report.pool_size as f64 * 20.0 + 64.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Raw argon2id verify rate (a), m={MEMORY_KIB} KiB, t={ITERATIONS}, p={PARALLELISM}, \
         {} threads on {} cores, the `argon2` crate of this build: **{raw:.1} verifies/s**. \
         Hashing pool of the server: {} (its default: one per core).\n",
        report.argon_threads, report.cores, report.pool_size
    );
    let mut header = String::from("| Figure | Target |");
    let mut rule = String::from("|---|---|");
    for backend in &report.backends {
        let _ = write!(header, " {} | |", backend.label);
        rule.push_str("---:|---|");
    }
    let _ = writeln!(out, "{header}\n{rule}");

    type Row<'a> = (
        String,
        String,
        Box<dyn Fn(&Backend) -> (String, String) + 'a>,
    );
    type LoadOf = fn(&Backend) -> &Load;
    let sign_ins: [(usize, LoadOf); 2] = [(4, |b| &b.sign_in_4), (256, |b| &b.sign_in_256)];
    let mut rows: Vec<Row> = Vec::new();
    for (concurrency, load) in sign_ins {
        rows.push((
            format!("(b) sign-in throughput, concurrency {concurrency}"),
            format!("≥ 90% of (a) = {sign_in_floor:.1}/s"),
            Box::new(move |b| sign_in_cells(load(b), raw)),
        ));
        rows.push((
            format!("(b) sign-in p50 / p99, concurrency {concurrency}"),
            "p99 grows with the queue, not errors".into(),
            Box::new(move |b| latency_cells(load(b))),
        ));
    }
    rows.push((
        "(b) sign-in throughput by concurrency (chart below)".into(),
        "".into(),
        Box::new(move |b| (curve_cell(b, raw), String::new())),
    ));
    rows.extend::<Vec<Row>>(vec![
        (
            "(c) `GET /api/portal/me`, alone".into(),
            "≥ 10,000 req/s".into(),
            Box::new(|b| {
                let rate = b.me_alone.rate();
                (
                    format!(
                        "{rate:.0} req/s, p99 {:.2} ms, {} errors",
                        b.me_alone.latencies.percentile_ms(99.0),
                        b.me_alone.errors
                    ),
                    verdict(rate >= 10_000.0 && b.me_alone.errors == 0, || {
                        format!("{:.0}% short", (1.0 - rate / 10_000.0) * 100.0)
                    }),
                )
            }),
        ),
        (
            "(c) `me` p99 while sign-ins saturate the pool".into(),
            "< 20 ms".into(),
            Box::new(|b| {
                let p99 = b.me_loaded.latencies.percentile_ms(99.0);
                (
                    format!(
                        "p99 {p99:.2} ms, p50 {:.2} ms, {:.0} req/s, {} errors; sign-ins meanwhile {:.1}/s",
                        b.me_loaded.latencies.percentile_ms(50.0),
                        b.me_loaded.rate(),
                        b.me_loaded.errors,
                        b.sign_in_during.rate()
                    ),
                    verdict(p99 < 20.0 && b.me_loaded.errors == 0, || {
                        format!("{:.1} ms over", p99 - 20.0)
                    }),
                )
            }),
        ),
        (
            "(d) forgot-password median, known / unknown address".into(),
            "same time".into(),
            Box::new(|b| {
                (
                    format!(
                        "{:.3} / {:.3} ms ({} pairs, {} non-202)",
                        b.forgot.known_median_ms,
                        b.forgot.unknown_median_ms,
                        b.forgot.pairs,
                        b.forgot.errors
                    ),
                    String::new(),
                )
            }),
        ),
        (
            "(d) forgot-password paired gap, median [95% interval]".into(),
            "interval contains 0 (gap below the run's noise)".into(),
            Box::new(|b| {
                let (low, high) = b.forgot.gap_interval_ms;
                let within = low <= 0.0 && high >= 0.0;
                let below_noise = b.forgot.gap_ms.abs() < b.forgot.noise_ms;
                (
                    format!(
                        "{:+.3} ms [{low:+.3}, {high:+.3}]; noise (half IQR) {:.3} ms",
                        b.forgot.gap_ms, b.forgot.noise_ms
                    ),
                    verdict(within && b.forgot.errors == 0, || {
                        if below_noise {
                            "interval excludes 0, gap still below the noise".into()
                        } else {
                            format!("gap {:+.3} ms", b.forgot.gap_ms)
                        }
                    }),
                )
            }),
        ),
        (
            "(e) resident memory under concurrent sign-ins (peak VmRSS / VmHWM)".into(),
            format!("< pool × 20 MiB + 64 MiB = {memory_bound_mib:.0} MiB"),
            Box::new(move |b| memory_cells(&b.memory, memory_bound_mib)),
        ),
        (
            "(f) outbox dispatcher to a local SMTP server".into(),
            "≥ 500 messages/s".into(),
            Box::new(|b| {
                let o = &b.outbox;
                let rate = o.drain_rate();
                (
                    format!(
                        "{rate:.0} msg/s once queued ({} received while {} invitations were queued through the API in {:.2} s, the rest by {:.2} s; end to end {:.0} msg/s)",
                        o.received_when_queued,
                        o.messages,
                        o.queued_in.as_secs_f64(),
                        o.elapsed.as_secs_f64(),
                        o.rate()
                    ),
                    verdict(o.delivered && rate >= 500.0, || {
                        if o.delivered {
                            format!("{:.0}% short", (1.0 - rate / 500.0) * 100.0)
                        } else {
                            "not all delivered within 120 s".into()
                        }
                    }),
                )
            }),
        ),
    ]);
    for (figure, target, cells) in rows {
        let mut line = format!("| {figure} | {target} |");
        for backend in &report.backends {
            let (value, met) = cells(backend);
            let _ = write!(line, " {value} | {met} |");
        }
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out);
    for backend in &report.backends {
        let _ = writeln!(
            out,
            "- {}: memory before the burst {:.1} MiB; {} of {} sign-ins in the burst failed; \
             sign-ins counted: {} at concurrency 4, {} at 256 (pool size {}).",
            backend.label,
            mib(backend.memory.before_kib),
            backend.memory.errors,
            backend.memory.concurrent,
            backend.sign_in_4.requests,
            backend.sign_in_256.requests,
            backend.pool_size
        );
    }
    out
}

/// The Markdown image links of `plot::write_charts`' charts.
pub fn chart_links() -> String {
    format!(
        "\n![Sign-in throughput by concurrency, each store, against (a)]({})\n\n\
         ![Latency distribution of GET /api/portal/me, alone and under saturating sign-ins]({})\n",
        crate::plot::SIGN_IN_FILE,
        crate::plot::ME_LATENCY_FILE
    )
}

fn sign_in_cells(load: &Load, raw: f64) -> (String, String) {
    let rate = load.rate();
    let ratio = rate / raw;
    (
        format!(
            "{rate:.1}/s = {:.0}% of (a), {} errors",
            ratio * 100.0,
            load.errors
        ),
        verdict(ratio >= 0.9 && load.errors == 0, || {
            if ratio >= 0.9 {
                format!("{} errors", load.errors)
            } else {
                format!("{:.0} points short", (0.9 - ratio) * 100.0)
            }
        }),
    )
}

fn curve_cell(backend: &Backend, raw: f64) -> String {
    let mut rates = backend.sign_in_rates();
    rates.sort_by_key(|&(concurrency, _)| concurrency);
    rates
        .iter()
        .map(|(concurrency, rate)| {
            format!("{concurrency}: {rate:.1}/s ({:.0}%)", 100.0 * rate / raw)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn latency_cells(load: &Load) -> (String, String) {
    (
        format!(
            "{:.1} / {:.1} ms",
            load.latencies.percentile_ms(50.0),
            load.latencies.percentile_ms(99.0)
        ),
        if load.errors == 0 {
            "met (0 errors)".into()
        } else {
            format!("**missed** ({} errors)", load.errors)
        },
    )
}

fn memory_cells(memory: &Memory, bound_mib: f64) -> (String, String) {
    let peak = mib(memory.peak_rss_kib);
    let hwm = mib(memory.hwm_kib);
    (
        format!("{peak:.1} / {hwm:.1} MiB ({} in flight)", memory.concurrent),
        verdict(hwm < bound_mib && peak < bound_mib, || {
            format!("{:.1} MiB over", peak.max(hwm) - bound_mib)
        }),
    )
}
