//! The measurements of SPEC.md section 7, one function each.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{stream, StreamExt, TryStreamExt};
use rand::seq::SliceRandom;
use rand::Rng;

use crate::processes::{status_kib, Server, Sink};
use crate::staff::{Account, Staff};
use crate::stats::{median, median_interval_95, Latencies};
use crate::wire::{cookie_pair, json_string, Connection, Response};
use crate::Result;

/// Throughput and latency of one load.
#[derive(Debug, Clone)]
pub struct Load {
    pub requests: usize,
    pub errors: usize,
    pub elapsed: Duration,
    pub latencies: Latencies,
}

impl Load {
    /// Successful requests per second.
    pub fn rate(&self) -> f64 {
        (self.requests - self.errors) as f64 / self.elapsed.as_secs_f64()
    }
}

/// When a load stops: after `max_requests`, or at `deadline`.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub max_requests: usize,
    pub max_time: Duration,
}

/// A distinct loopback source address per index: 127.10.x.y.
pub fn source_ip(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        127,
        10,
        (i / 250 % 256) as u8,
        (i % 250 + 1) as u8,
    ))
}

fn sign_in_body(account: &Account) -> String {
    format!(
        r#"{{"login":{},"password":{}}}"#,
        json_string(&account.email),
        json_string(&account.password)
    )
}

/// Runs `workers` loops that each send one of `requests` (round robin by a
/// shared counter) until the budget is spent; any status but `expect` is an
/// error. A connection that fails is reopened.
async fn closed_loop(
    addr: SocketAddr,
    requests: Arc<Vec<Vec<u8>>>,
    workers: usize,
    budget: Budget,
    expect: u16,
    stop: Option<Arc<AtomicBool>>,
) -> Result<Load> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + budget.max_time;
    // Open every connection first, so the load starts all at once.
    let connections: Vec<Connection> = stream::iter(0..workers)
        .map(|w| Connection::open(addr, Some(source_ip(w))))
        .buffered(64)
        .try_collect()
        .await?;
    let started = Instant::now();
    let tasks: Vec<_> = connections
        .into_iter()
        .enumerate()
        .map(|(w, mut conn)| {
            let next = Arc::clone(&next);
            let requests = Arc::clone(&requests);
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut samples = Vec::new();
                let mut errors = 0usize;
                let mut broken = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let stopped = stop.as_ref().is_some_and(|s| s.load(Ordering::Relaxed));
                    if i >= budget.max_requests || Instant::now() >= deadline || stopped {
                        break;
                    }
                    match conn.send(&requests[i % requests.len()]).await {
                        Ok((response, took)) => {
                            samples.push(took);
                            if response.status != expect {
                                errors += 1;
                            }
                        }
                        Err(_) => {
                            broken += 1;
                            match Connection::open(addr, Some(source_ip(w))).await {
                                Ok(fresh) => conn = fresh,
                                Err(_) => break,
                            }
                        }
                    }
                }
                (samples, errors, broken)
            })
        })
        .collect();
    let mut samples = Vec::new();
    let mut errors = 0;
    let mut broken = 0;
    for task in tasks {
        let (s, e, b) = task.await?;
        samples.extend(s);
        errors += e;
        broken += b;
    }
    let elapsed = started.elapsed();
    // A request whose connection broke has no latency but is an error.
    let requests = samples.len() + broken;
    let errors = errors + broken;
    Ok(Load {
        requests,
        errors,
        elapsed,
        latencies: Latencies::new(samples),
    })
}

/// (b) Sign-in with valid credentials at `concurrency`.
pub async fn sign_in(
    server: &Server,
    accounts: &[Account],
    concurrency: usize,
    budget: Budget,
    stop: Option<Arc<AtomicBool>>,
) -> Result<Load> {
    let probe = Connection::open(server.addr, None).await?;
    let requests: Vec<Vec<u8>> = accounts
        .iter()
        .map(|a| probe.request("POST", "/api/portal/sign-in", None, Some(&sign_in_body(a))))
        .collect();
    closed_loop(
        server.addr,
        Arc::new(requests),
        concurrency,
        budget,
        200,
        stop,
    )
    .await
}

/// Signs in once per account and returns the `Cookie` values.
pub async fn sessions(server: &Server, accounts: &[Account]) -> Result<Vec<String>> {
    let mut cookies = Vec::new();
    for account in accounts {
        let mut conn = Connection::open(server.addr, None).await?;
        let request = conn.request(
            "POST",
            "/api/portal/sign-in",
            None,
            Some(&sign_in_body(account)),
        );
        let (response, _) = conn.send(&request).await?;
        cookies.push(session_cookie(&response)?);
    }
    Ok(cookies)
}

fn session_cookie(response: &Response) -> Result<String> {
    if response.status != 200 {
        return Err(format!(
            "sign-in answered {}: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        )
        .into());
    }
    cookie_pair(&response.set_cookies, "portal_session")
        .or_else(|| cookie_pair(&response.set_cookies, "__Host-portal_session"))
        .ok_or_else(|| format!("sign-in set no session cookie: {:?}", response.set_cookies).into())
}

/// (c) `GET /api/portal/me` with a session cookie, `connections` at once,
/// after a warm-up that is not counted.
pub async fn me(
    server: &Server,
    cookies: &[String],
    connections: usize,
    duration: Duration,
) -> Result<Load> {
    let probe = Connection::open(server.addr, None).await?;
    let requests: Vec<Vec<u8>> = cookies
        .iter()
        .map(|c| probe.request("GET", "/api/portal/me", Some(c), None))
        .collect();
    let requests = Arc::new(requests);
    let warm = Budget {
        max_requests: usize::MAX,
        max_time: Duration::from_millis(500),
    };
    closed_loop(
        server.addr,
        Arc::clone(&requests),
        connections,
        warm,
        200,
        None,
    )
    .await?;
    let budget = Budget {
        max_requests: usize::MAX,
        max_time: duration,
    };
    closed_loop(server.addr, requests, connections, budget, 200, None).await
}

/// (c) `me` while sign-ins at `sign_in_concurrency` keep the hashing pool busy.
pub async fn me_under_sign_in(
    server: &Server,
    accounts: &[Account],
    cookies: &[String],
    connections: usize,
    sign_in_concurrency: usize,
    duration: Duration,
) -> Result<(Load, Load)> {
    let stop = Arc::new(AtomicBool::new(false));
    let background = sign_in(
        server,
        accounts,
        sign_in_concurrency,
        Budget {
            max_requests: usize::MAX,
            max_time: duration + Duration::from_secs(5),
        },
        Some(Arc::clone(&stop)),
    );
    let foreground = async {
        // Let the sign-ins fill the pool first.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let load = me(server, cookies, connections, duration).await;
        stop.store(true, Ordering::Relaxed);
        load
    };
    let (background, foreground) = tokio::join!(background, foreground);
    Ok((foreground?, background?))
}

/// (d) Forgot-password timing: known vs unknown address.
#[derive(Debug, Clone)]
pub struct ForgotTiming {
    pub pairs: usize,
    pub errors: usize,
    pub known_median_ms: f64,
    pub unknown_median_ms: f64,
    /// Median of (known - unknown) per pair, and its 95% interval.
    pub gap_ms: f64,
    pub gap_interval_ms: (f64, f64),
    /// Half the interquartile range of single requests: the run's noise.
    pub noise_ms: f64,
}

/// Sends `pairs` pairs, one after the other, each pair from its own
/// loopback address on one warmed-up connection, known and unknown in
/// random order. Known addresses rotate over `accounts` so none passes the
/// per-address limit (each is used at most `ceil(pairs / accounts)` times).
pub async fn forgot_password(
    server: &Server,
    accounts: &[Account],
    pairs: usize,
) -> Result<ForgotTiming> {
    // Pairs run FORGOT_WORKERS at a time (each request waits out the
    // server's response floor, so one after the other would take minutes);
    // within a pair the two requests go one after the other.
    let workers = FORGOT_WORKERS.min(pairs).max(1);
    let results = futures::future::join_all(
        (0..workers).map(|w| forgot_pairs(server, accounts, (w..pairs).step_by(workers))),
    )
    .await;
    let mut known = Vec::with_capacity(pairs);
    let mut unknown = Vec::with_capacity(pairs);
    let mut errors = 0;
    for result in results {
        let (k, u, e) = result?;
        known.extend(k);
        unknown.extend(u);
        errors += e;
    }
    let mut gaps: Vec<f64> = known.iter().zip(&unknown).map(|(k, u)| k - u).collect();
    gaps.sort_by(f64::total_cmp);
    let mut all: Vec<f64> = known.iter().chain(&unknown).copied().collect();
    all.sort_by(f64::total_cmp);
    known.sort_by(f64::total_cmp);
    unknown.sort_by(f64::total_cmp);
    let quartile = |p: f64| crate::stats::percentile(&all, p);
    Ok(ForgotTiming {
        pairs,
        errors,
        known_median_ms: median(&known),
        unknown_median_ms: median(&unknown),
        gap_ms: median(&gaps),
        gap_interval_ms: median_interval_95(&gaps),
        noise_ms: (quartile(75.0) - quartile(25.0)) / 2.0,
    })
}

/// Forgot-password pairs run at once by [`forgot_password`].
const FORGOT_WORKERS: usize = 16;

/// The pairs numbered `indices`, one after the other: known and unknown
/// times (in pair order) and the count of answers other than 202.
async fn forgot_pairs(
    server: &Server,
    accounts: &[Account],
    indices: impl Iterator<Item = usize>,
) -> Result<(Vec<f64>, Vec<f64>, usize)> {
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    let mut errors = 0;
    for i in indices {
        let mut conn = Connection::open(server.addr, Some(source_ip(i))).await?;
        let warm = conn.request("GET", "/api/portal/me", None, None);
        conn.send(&warm).await?;
        let known_body = format!(
            r#"{{"email":{}}}"#,
            json_string(&accounts[i % accounts.len()].email)
        );
        let (unknown_body, order) = {
            let mut rng = rand::thread_rng();
            let body = format!(
                r#"{{"email":{}}}"#,
                json_string(&format!(
                    "nobody{:05}@bench.example.com",
                    rng.gen_range(0..100_000)
                ))
            );
            let mut order = [true, false];
            order.shuffle(&mut rng);
            (body, order)
        };
        let known_request = conn.request(
            "POST",
            "/api/portal/forgot-password",
            None,
            Some(&known_body),
        );
        let unknown_request = conn.request(
            "POST",
            "/api/portal/forgot-password",
            None,
            Some(&unknown_body),
        );
        for is_known in order {
            let request = if is_known {
                &known_request
            } else {
                &unknown_request
            };
            let (response, took) = conn.send(request).await?;
            if response.status != 202 {
                errors += 1;
            }
            let ms = took.as_secs_f64() * 1000.0;
            if is_known {
                known.push(ms);
            } else {
                unknown.push(ms);
            }
        }
    }
    Ok((known, unknown, errors))
}

/// (e) Resident memory under `concurrent` sign-ins in flight at once.
#[derive(Debug, Clone)]
pub struct Memory {
    pub concurrent: usize,
    pub errors: usize,
    pub before_kib: u64,
    pub peak_rss_kib: u64,
    pub hwm_kib: u64,
}

pub async fn memory_under_sign_ins(
    server: &Server,
    accounts: &[Account],
    concurrent: usize,
) -> Result<Memory> {
    let (before_kib, _) = server.memory_kib()?;
    let probe = Connection::open(server.addr, None).await?;
    let mut connections: Vec<(Connection, Vec<u8>)> = Vec::with_capacity(concurrent);
    for i in 0..concurrent {
        let conn = Connection::open(server.addr, Some(source_ip(i))).await?;
        let body = sign_in_body(&accounts[i % accounts.len()]);
        connections.push((
            conn,
            probe.request("POST", "/api/portal/sign-in", None, Some(&body)),
        ));
    }
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = Arc::clone(&done);
        let pid = server.pid;
        tokio::spawn(async move {
            let mut peak = 0u64;
            while !done.load(Ordering::Relaxed) {
                if let Some(kib) = status_kib(pid, "VmRSS:") {
                    peak = peak.max(kib);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            peak
        })
    };
    let tasks: Vec<_> = connections
        .into_iter()
        .map(|(mut conn, request)| {
            tokio::spawn(async move {
                matches!(conn.send(&request).await, Ok((r, _)) if r.status == 200)
            })
        })
        .collect();
    let mut errors = 0;
    for task in tasks {
        if !task.await? {
            errors += 1;
        }
    }
    done.store(true, Ordering::Relaxed);
    let peak_rss_kib = sampler.await?;
    let (_, hwm_kib) = server.memory_kib()?;
    Ok(Memory {
        concurrent,
        errors,
        before_kib,
        peak_rss_kib,
        hwm_kib,
    })
}

/// (f) The outbox dispatcher's rate to the SMTP sink.
#[derive(Debug, Clone)]
pub struct Outbox {
    pub messages: usize,
    /// From the first invitation request to the last message received.
    pub elapsed: Duration,
    /// How long queueing took (the API side).
    pub queued_in: Duration,
    /// Messages received when queueing ended.
    pub received_when_queued: u64,
    pub delivered: bool,
}

impl Outbox {
    /// End to end: invitations queued through the staff API and delivered,
    /// over the whole time (the API and the dispatcher share the CPU).
    pub fn rate(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64()
    }

    /// The dispatcher alone: messages delivered after queueing ended, over
    /// the time that took (the end-to-end rate if all arrived while queueing).
    pub fn drain_rate(&self) -> f64 {
        let left = self.messages as f64 - self.received_when_queued as f64;
        let took = self.elapsed.saturating_sub(self.queued_in).as_secs_f64();
        if left < 1.0 || took <= 0.0 {
            self.rate()
        } else {
            left / took
        }
    }
}

pub async fn outbox(staff: &Staff, sink: &Sink, messages: usize, prefix: &str) -> Result<Outbox> {
    let created = staff.create_many(prefix, messages).await?;
    // Let mail from the earlier phases drain: the count must hold still for 1 s.
    let mut base = sink.count();
    let mut still_since = Instant::now();
    let settle_deadline = Instant::now() + Duration::from_secs(120);
    while still_since.elapsed() < Duration::from_secs(1) && Instant::now() < settle_deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = sink.count();
        if now != base {
            base = now;
            still_since = Instant::now();
        }
    }
    let target = base + messages as u64;
    let started = Instant::now();
    stream::iter(created.iter())
        .map(|(id, _)| staff.invite(id))
        .buffer_unordered(32)
        .try_collect::<Vec<()>>()
        .await?;
    let queued_in = started.elapsed();
    let received_when_queued = sink.count().saturating_sub(base);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut delivered = true;
    while !sink.has(target) {
        if Instant::now() > deadline {
            delivered = false;
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(Outbox {
        messages,
        elapsed: started.elapsed(),
        queued_in,
        received_when_queued,
        delivered,
    })
}
