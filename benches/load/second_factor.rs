//! (g) Sign-in with an authenticator: password, then the TOTP code, at
//! concurrency 4, as a fraction of the raw argon2id verify rate (the
//! password is the one hash of the pair; the code is an AEAD open and an
//! HMAC).
//!
//! A TOTP step, once accepted, is never accepted again for its account, so
//! each account passes at most the current and the next step (the one step
//! of skew): the driver enrols enough accounts and takes, for each pair,
//! the next account with a step left.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::processes::Server;
use crate::scenarios::source_ip;
use crate::staff::Account;
use crate::wire::{cookie_pair, json_string, Connection, Response};
use crate::{fail, Result};

/// The test's authenticator app (shared with the browser journey).
#[path = "../../tests/support/totp.rs"]
#[allow(dead_code, reason = "the journey's waiting helper is not used here")]
mod authenticator;

/// An account with a confirmed authenticator.
pub struct Enrolled {
    account: Account,
    secret: String,
    /// The last step accepted for it.
    last_step: AtomicU64,
}

/// What (g) measured.
#[derive(Debug, Clone)]
pub struct TotpSignIns {
    /// Completed sign-ins (password + code), per second.
    pub rate: f64,
    /// How many completed.
    pub completed: usize,
    /// Refused or failed pairs.
    pub errors: usize,
}

fn check(response: &Response, what: &str) -> Result<()> {
    if response.status == 200 {
        return Ok(());
    }
    fail(format!(
        "{what} answered {}: {}",
        response.status,
        String::from_utf8_lossy(&response.body)
    ))
}

fn challenge_cookie(response: &Response) -> Option<String> {
    cookie_pair(&response.set_cookies, "portal_mfa")
        .or_else(|| cookie_pair(&response.set_cookies, "__Host-portal_mfa"))
}

fn sign_in_body(account: &Account) -> String {
    format!(
        r#"{{"login":{},"password":{}}}"#,
        json_string(&account.email),
        json_string(&account.password)
    )
}

fn code_body(method: &str, code: &str) -> String {
    format!(r#"{{"method":"{method}","code":"{code}"}}"#)
}

/// Signs each account in and confirms an authenticator for it.
pub async fn enrol(server: &Server, accounts: Vec<Account>) -> Result<Vec<Arc<Enrolled>>> {
    let mut enrolled = Vec::new();
    for account in accounts {
        let mut conn = Connection::open(server.addr, None).await?;
        let request = conn.request(
            "POST",
            "/api/portal/sign-in",
            None,
            Some(&sign_in_body(&account)),
        );
        let (response, _) = conn.send(&request).await?;
        check(&response, "sign-in")?;
        let session = cookie_pair(&response.set_cookies, "portal_session")
            .ok_or("sign-in set no session cookie")?;
        let request = conn.request("POST", "/api/portal/mfa/totp", Some(&session), Some("{}"));
        let (response, _) = conn.send(&request).await?;
        check(&response, "start TOTP")?;
        let body: serde_json::Value = serde_json::from_slice(&response.body)?;
        let secret = body["secret"].as_str().ok_or("no secret")?.to_owned();
        let step = authenticator::step_now();
        let code = authenticator::code(&secret, step);
        let body = format!(r#"{{"code":"{code}"}}"#);
        let request = conn.request(
            "POST",
            "/api/portal/mfa/totp/confirm",
            Some(&session),
            Some(&body),
        );
        let (response, _) = conn.send(&request).await?;
        check(&response, "confirm TOTP")?;
        enrolled.push(Arc::new(Enrolled {
            account,
            secret,
            last_step: AtomicU64::new(step),
        }));
    }
    Ok(enrolled)
}

/// The next account with a step left, and that step (claimed).
fn claim(enrolled: &[Arc<Enrolled>], next: &AtomicUsize) -> Option<(Arc<Enrolled>, u64)> {
    for _ in 0..enrolled.len() {
        let candidate = &enrolled[next.fetch_add(1, Ordering::Relaxed) % enrolled.len()];
        let now = authenticator::step_now();
        for step in [now, now + 1] {
            let last = candidate.last_step.load(Ordering::Relaxed);
            if step > last
                && candidate
                    .last_step
                    .compare_exchange(last, step, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            {
                return Some((Arc::clone(candidate), step));
            }
        }
    }
    None
}

/// Password + TOTP sign-ins, `workers` at once, for `duration`.
pub async fn sign_in_with_totp(
    server: &Server,
    enrolled: Vec<Arc<Enrolled>>,
    workers: usize,
    duration: Duration,
) -> Result<TotpSignIns> {
    let enrolled = Arc::new(enrolled);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let (enrolled, next, addr) = (Arc::clone(&enrolled), Arc::clone(&next), server.addr);
            tokio::spawn(async move {
                let (mut completed, mut errors) = (0usize, 0usize);
                let mut conn = Connection::open(addr, Some(source_ip(w))).await?;
                while Instant::now() < deadline {
                    let Some((who, step)) = claim(&enrolled, &next) else {
                        return fail("every account used its steps: enrol more (--totp-accounts)");
                    };
                    let body = sign_in_body(&who.account);
                    let request = conn.request("POST", "/api/portal/sign-in", None, Some(&body));
                    let (response, _) = conn.send(&request).await?;
                    let Some(challenge) = challenge_cookie(&response) else {
                        errors += 1;
                        continue;
                    };
                    let code = code_body("totp", &authenticator::code(&who.secret, step));
                    let path = "/api/portal/sign-in/second-factor";
                    let request = conn.request("POST", path, Some(&challenge), Some(&code));
                    let (response, _) = conn.send(&request).await?;
                    if response.status == 200 {
                        completed += 1;
                    } else {
                        errors += 1;
                    }
                }
                Ok((completed, errors))
            })
        })
        .collect();
    let (mut completed, mut errors) = (0, 0);
    for task in tasks {
        let (c, e) = task.await??;
        completed += c;
        errors += e;
    }
    Ok(TotpSignIns {
        rate: completed as f64 / started.elapsed().as_secs_f64(),
        completed,
        errors,
    })
}
