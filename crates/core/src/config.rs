//! Configuration of the service, with the defaults of SPEC.md.

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use time::Duration;

use crate::{MfaPolicy, PasswordPolicy, SecretKey, TenantId};

/// Argon2id parameters and the bounded hashing pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingConfig {
    /// Memory in KiB (default 19456).
    pub memory_kib: u32,
    /// Iterations (default 2).
    pub iterations: u32,
    /// Parallelism (default 1).
    pub parallelism: u32,
    /// How many hashes may run at once (default: available cores). Memory
    /// used by hashing is bounded by `pool_size * memory_kib`.
    pub pool_size: usize,
}

impl Default for HashingConfig {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            pool_size: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
        }
    }
}

/// A fixed-window rate: at most `limit` events per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Events allowed per window.
    pub limit: u32,
    /// Window length.
    pub window: Duration,
}

impl Rate {
    /// `limit` per `window`.
    pub const fn new(limit: u32, window: Duration) -> Self {
        Self { limit, window }
    }
}

/// The default [`PortalConfig::forgot_min_duration`]: well above what the
/// forgot-password path takes on SQLite or PostgreSQL, short for a person.
pub const DEFAULT_FORGOT_MIN_DURATION: StdDuration = StdDuration::from_millis(100);

/// Everything the service can be told. `PortalConfig::new(public_base_url)`
/// gives the SPEC defaults; every field may be overridden.
#[derive(Debug, Clone)]
pub struct PortalConfig {
    /// The public base URL links are built from (never the request's Host),
    /// e.g. `https://portal.example.com`. No trailing slash.
    pub public_base_url: String,
    /// Where the portal pages are mounted under the base URL (default `/portal`).
    pub portal_path: String,
    /// Product name used in mail ("Client portal").
    pub product_name: String,
    /// Reset links live this long (default 1 hour).
    pub reset_ttl: Duration,
    /// Invitation links live this long (default 7 days).
    pub invitation_ttl: Duration,
    /// "This wasn't me" links live this long (default 7 days).
    pub not_me_ttl: Duration,
    /// A session ends after this long without use (default 12 hours).
    pub session_idle_ttl: Duration,
    /// A session ends this long after sign-in whatever the use (default 30 days).
    pub session_absolute_ttl: Duration,
    /// The password policy.
    pub password_policy: PasswordPolicy,
    /// Argon2id and the hashing pool.
    pub hashing: HashingConfig,
    /// Staff-initiated resets per staff member before human verification is
    /// required (default 10 per hour).
    pub staff_reset_rate: Rate,
    /// How long a passed CAPTCHA clears the flag (default 1 hour).
    pub human_verification_ttl: Duration,
    /// Forgot-password requests per address (default 5 per hour).
    pub forgot_per_address: Rate,
    /// Forgot-password requests per IP (default 30 per hour).
    pub forgot_per_ip: Rate,
    /// Whether forgot-password requires a CAPTCHA response (default false).
    pub forgot_requires_captcha: bool,
    /// Send "no portal account for this address" to unknown addresses (default false).
    pub notify_unknown_address: bool,
    /// Failed sign-ins per (account, IP) before throttling (default 5 per 15 minutes).
    pub sign_in_per_account_ip: Rate,
    /// Failed sign-ins per account from all IPs: a slower global ceiling
    /// (default 100 per hour), so one attacker cannot lock a client out.
    pub sign_in_per_account: Rate,
    /// Failed sign-ins per IP across accounts (default 100 per 15 minutes).
    pub sign_in_per_ip: Rate,
    /// Fresh-invitation requests per account from an expired link (default 3 per hour).
    pub fresh_invitation_rate: Rate,
    /// Where staff notices go ("a client said this wasn't me"); none: only the event.
    pub staff_notice_address: Option<String>,
    /// How often a version conflict is retried before giving up (default 3).
    pub conflict_retries: u32,
    /// Time a forgot-password answer takes at least, so known and unknown
    /// addresses cost the same (default 100 ms). The request path does the
    /// same reads for every address, but only a known address commits a
    /// transaction (link, outbox row, audit event): this floor hides that
    /// difference as long as the path takes less. Zero turns it off.
    pub forgot_min_duration: StdDuration,
    /// The second-factor policy of every tenant without an override
    /// (default: off).
    pub mfa: MfaPolicy,
    /// Per-tenant second-factor policies (see [`mfa_policy`](Self::mfa_policy)).
    pub mfa_tenants: HashMap<TenantId, MfaPolicy>,
    /// The server key that seals TOTP secrets and keys the hash of one-time
    /// codes. Required as soon as any policy is not `off`.
    pub secret_key: Option<SecretKey>,
    /// A sign-in challenge (password right, second factor pending) lives
    /// this long (default 5 minutes).
    pub challenge_ttl: Duration,
    /// Wrong codes a challenge survives (default 5; the next is refused
    /// even when right).
    pub challenge_tries: u32,
    /// An emailed sign-in code lives this long (default 10 minutes).
    pub email_code_ttl: Duration,
    /// Emailed sign-in codes per account (default 5 per 15 minutes).
    pub email_code_rate: Rate,
    /// The firm's time zone: pages and mail show times in it (default UTC).
    pub time_zone: jiff::tz::TimeZone,
    /// Per-tenant time zones, overriding [`time_zone`](Self::time_zone).
    pub time_zone_tenants: HashMap<TenantId, jiff::tz::TimeZone>,
    /// The webhook endpoints that receive host events (default: none).
    /// Each commit queues one delivery per event and endpoint of its tenant
    /// in its own transaction; a [`Dispatcher`](crate::Dispatcher) built
    /// with [`for_webhooks`](crate::Dispatcher::for_webhooks) and the same
    /// endpoints delivers them.
    pub webhooks: crate::webhook::WebhookEndpoints,
}

impl PortalConfig {
    /// The SPEC defaults, with links built from `public_base_url`.
    pub fn new(public_base_url: impl Into<String>) -> Self {
        let mut url: String = public_base_url.into();
        while url.ends_with('/') {
            url.pop();
        }
        Self {
            public_base_url: url,
            portal_path: "/portal".into(),
            product_name: "Client portal".into(),
            reset_ttl: Duration::hours(1),
            invitation_ttl: Duration::days(7),
            not_me_ttl: Duration::days(7),
            session_idle_ttl: Duration::hours(12),
            session_absolute_ttl: Duration::days(30),
            password_policy: PasswordPolicy::default(),
            hashing: HashingConfig::default(),
            staff_reset_rate: Rate::new(10, Duration::hours(1)),
            human_verification_ttl: Duration::hours(1),
            forgot_per_address: Rate::new(5, Duration::hours(1)),
            forgot_per_ip: Rate::new(30, Duration::hours(1)),
            forgot_requires_captcha: false,
            notify_unknown_address: false,
            sign_in_per_account_ip: Rate::new(5, Duration::minutes(15)),
            sign_in_per_account: Rate::new(100, Duration::hours(1)),
            sign_in_per_ip: Rate::new(100, Duration::minutes(15)),
            fresh_invitation_rate: Rate::new(3, Duration::hours(1)),
            staff_notice_address: None,
            conflict_retries: 3,
            forgot_min_duration: DEFAULT_FORGOT_MIN_DURATION,
            mfa: MfaPolicy::default(),
            mfa_tenants: HashMap::new(),
            secret_key: None,
            challenge_ttl: Duration::minutes(5),
            challenge_tries: 5,
            email_code_ttl: Duration::minutes(10),
            email_code_rate: Rate::new(5, Duration::minutes(15)),
            time_zone: jiff::tz::TimeZone::UTC,
            time_zone_tenants: HashMap::new(),
            webhooks: crate::webhook::WebhookEndpoints::default(),
        }
    }

    /// The second-factor policy of `tenant`: its override, else [`mfa`](Self::mfa).
    pub fn mfa_policy(&self, tenant: &TenantId) -> &MfaPolicy {
        self.mfa_tenants.get(tenant).unwrap_or(&self.mfa)
    }

    /// The time zone of `tenant`: its override, else [`time_zone`](Self::time_zone).
    pub fn time_zone_of(&self, tenant: &TenantId) -> &jiff::tz::TimeZone {
        self.time_zone_tenants
            .get(tenant)
            .unwrap_or(&self.time_zone)
    }

    /// Whether any tenant's policy is other than `off` (then a
    /// [`secret_key`](Self::secret_key) is needed).
    pub fn mfa_in_use(&self) -> bool {
        std::iter::once(&self.mfa)
            .chain(self.mfa_tenants.values())
            .any(|policy| policy.mode != crate::MfaMode::Off)
    }

    /// Whether links are https (then cookies are `__Host-` and `Secure`).
    pub fn is_https(&self) -> bool {
        self.public_base_url.starts_with("https://")
    }

    /// The absolute URL of a portal page, e.g. `link("/reset-password", Some(token))`.
    pub fn portal_url(&self, page: &str, token: Option<&str>) -> String {
        match token {
            Some(token) => format!(
                "{}{}{}?token={}",
                self.public_base_url, self.portal_path, page, token
            ),
            None => format!("{}{}{}", self.public_base_url, self.portal_path, page),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_specs() {
        let config = PortalConfig::new("https://portal.example.com/");

        assert_eq!(config.public_base_url, "https://portal.example.com");
        assert_eq!(config.reset_ttl, Duration::hours(1));
        assert_eq!(config.invitation_ttl, Duration::days(7));
        assert_eq!(config.session_idle_ttl, Duration::hours(12));
        assert_eq!(config.session_absolute_ttl, Duration::days(30));
        assert_eq!(
            (
                config.hashing.memory_kib,
                config.hashing.iterations,
                config.hashing.parallelism
            ),
            (19_456, 2, 1)
        );
        assert!(config.hashing.pool_size >= 1);
        assert_eq!(config.staff_reset_rate, Rate::new(10, Duration::hours(1)));
        assert_eq!(config.password_policy, PasswordPolicy::default());
        assert!(!config.notify_unknown_address);
        assert!(config.forgot_min_duration > StdDuration::ZERO);
    }

    #[test]
    fn links_are_built_from_the_configured_base_url_only() {
        let config = PortalConfig::new("https://portal.example.com");

        assert_eq!(
            config.portal_url("/reset-password", Some("abc")),
            "https://portal.example.com/portal/reset-password?token=abc"
        );
        assert_eq!(
            config.portal_url("/forgot-password", None),
            "https://portal.example.com/portal/forgot-password"
        );
    }
}
