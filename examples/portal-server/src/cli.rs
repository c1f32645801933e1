//! The command line (every flag also an environment variable).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use portal_access::domain::factor::AllowedFactors;
use portal_access::{MfaMode, MfaPolicy};
use secrecy::SecretString;

/// portal-server: the client portal of portal-access, ready to run.
///
/// With no flags it listens on 127.0.0.1:8080, keeps its data in SQLite at
/// ./portal-data/portal.db, writes mail as .eml files to ./portal-data/mail
/// (logging each link), and prints a staff bearer token for the staff API.
#[derive(Parser, Clone)]
#[command(name = "portal-server", version, about, long_about = None)]
pub struct ServerConfig {
    /// Address and port to listen on.
    #[arg(long, env = "PORTAL_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The database: `sqlite://path/to/file.db` (created if missing) or
    /// `postgres://user@host:5432/db`. Migrations run at start.
    #[arg(
        long,
        env = "PORTAL_DATABASE_URL",
        default_value = "sqlite://portal-data/portal.db"
    )]
    pub database_url: String,

    /// Deliver mail over SMTP instead of writing it to --mail-dir:
    /// `smtp://host:25`, `smtp://user:pass@host:587?tls=starttls`, `smtps://host:465`.
    #[arg(long, env = "PORTAL_SMTP_URL", value_parser = parse_secret)]
    pub smtp_url: Option<SecretString>,

    /// Where the development mailer writes each message as an .eml file
    /// (used when no --smtp-url is given).
    #[arg(long, env = "PORTAL_MAIL_DIR", default_value = "portal-data/mail")]
    pub mail_dir: PathBuf,

    /// The sender of every message.
    #[arg(
        long,
        env = "PORTAL_MAIL_FROM",
        default_value = "Client portal <portal@localhost>"
    )]
    pub mail_from: String,

    /// The public base URL that links in mail point to and that decides the
    /// cookie (https: `__Host-portal_session`, Secure). Default: http://<listen>.
    #[arg(long, env = "PORTAL_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// A staff bearer token for the staff API, as ID:TOKEN (repeatable; in
    /// the environment, comma-separated). Without one, a token is generated
    /// and printed at start.
    #[arg(
        long = "staff-token",
        env = "PORTAL_STAFF_TOKENS",
        value_name = "ID:TOKEN",
        value_delimiter = ',',
        value_parser = parse_staff_token
    )]
    pub staff_tokens: Vec<StaffToken>,

    /// The tenant this portal serves (clients) and the staff tokens act in.
    #[arg(long, env = "PORTAL_TENANT", default_value = "default")]
    pub tenant: String,

    /// A MaxMind GeoLite2/GeoIP2 City .mmdb file: password-changed notices
    /// then say where the change came from.
    #[arg(long, env = "PORTAL_GEOIP_DB")]
    pub geoip_db: Option<PathBuf>,

    /// CAPTCHA provider for staff human verification (and, with
    /// --forgot-requires-captcha, forgot-password).
    #[arg(
        long,
        env = "PORTAL_CAPTCHA_PROVIDER",
        value_enum,
        requires = "captcha_secret"
    )]
    pub captcha_provider: Option<CaptchaProvider>,

    /// The CAPTCHA provider's secret key.
    #[arg(long, env = "PORTAL_CAPTCHA_SECRET", value_parser = parse_secret)]
    pub captcha_secret: Option<SecretString>,

    /// Require a CAPTCHA response on forgot-password.
    #[arg(
        long,
        env = "PORTAL_FORGOT_REQUIRES_CAPTCHA",
        requires = "captcha_provider"
    )]
    pub forgot_requires_captcha: bool,

    /// Where to send "a client said this wasn't me" notices to staff.
    #[arg(long, env = "PORTAL_STAFF_NOTICE_ADDRESS")]
    pub staff_notice_address: Option<String>,

    /// Proxies whose X-Forwarded-For is believed for the client IP, e.g.
    /// `127.0.0.1,10.0.0.0/8`. Default: none (the socket's peer is the client).
    #[arg(long, env = "PORTAL_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,

    /// The CSRF key (32 bytes, base64). Instances behind one load balancer
    /// must share it. Default: random at each start.
    #[arg(long, env = "PORTAL_CSRF_KEY", value_parser = parse_secret)]
    pub csrf_key: Option<SecretString>,

    /// Second factor at sign-in: `off`, `optional` (clients may add one) or
    /// `required` (every client sets one up before any session).
    #[arg(long, env = "PORTAL_MFA", value_enum, default_value = "off")]
    pub mfa: MfaFlag,

    /// With `--mfa required`: required from this day on (UTC, YYYY-MM-DD);
    /// before it the policy acts as `optional`, so the firm can announce it.
    #[arg(long, env = "PORTAL_MFA_REQUIRED_FROM", value_name = "DATE", value_parser = parse_date)]
    pub mfa_required_from: Option<time::Date>,

    /// The second factors clients may set up: `totp` (an authenticator
    /// app), `email` (codes by email), or both.
    #[arg(
        long,
        env = "PORTAL_MFA_FACTORS",
        value_enum,
        value_delimiter = ',',
        default_value = "totp,email"
    )]
    pub mfa_factors: Vec<FactorFlag>,

    /// The server key (32 bytes, base64) that seals authenticator secrets
    /// and keys one-time code hashes. Default (with --mfa other than off):
    /// the key in <data-dir>/secret.key, generated there (mode 0600) at
    /// first start. Keep it: without it every authenticator stops working.
    #[arg(
        long,
        env = "PORTAL_SECRET_KEY",
        value_parser = parse_secret,
        hide_env_values = true
    )]
    pub secret_key: Option<SecretString>,

    /// Where portal-server keeps files it makes itself (the generated
    /// server key).
    #[arg(long, env = "PORTAL_DATA_DIR", default_value = "portal-data")]
    pub data_dir: PathBuf,

    /// Argon2id memory per hash, KiB.
    #[arg(long, env = "PORTAL_ARGON2_MEMORY_KIB", default_value_t = 19_456)]
    pub argon2_memory_kib: u32,

    /// Argon2id iterations.
    #[arg(long, env = "PORTAL_ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,

    /// How many password hashes may run at once (default: the number of cores).
    #[arg(long, env = "PORTAL_HASH_POOL_SIZE")]
    pub hash_pool_size: Option<usize>,

    /// Log format.
    #[arg(long, env = "PORTAL_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// On SIGINT/SIGTERM, how long in-flight requests and the mail
    /// dispatcher's current batch may take to finish, in seconds.
    #[arg(long, env = "PORTAL_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,
}

impl ServerConfig {
    /// The second-factor policy of the flags.
    pub fn mfa_policy(&self) -> MfaPolicy {
        MfaPolicy {
            mode: match self.mfa {
                MfaFlag::Off => MfaMode::Off,
                MfaFlag::Optional => MfaMode::Optional,
                MfaFlag::Required => MfaMode::Required,
            },
            required_from: self.mfa_required_from,
            factors: AllowedFactors {
                totp: self.mfa_factors.contains(&FactorFlag::Totp),
                email_code: self.mfa_factors.contains(&FactorFlag::Email),
            },
            ..MfaPolicy::default()
        }
    }

    /// The public base URL: `--public-url`, or `http://<listen>`.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "<redacted>"))
            .field("mail_dir", &self.mail_dir)
            .field("mail_from", &self.mail_from)
            .field("public_url", &self.public_url())
            .field("staff_tokens", &self.staff_tokens)
            .field("tenant", &self.tenant)
            .field("geoip_db", &self.geoip_db)
            .field("captcha_provider", &self.captcha_provider)
            .field("forgot_requires_captcha", &self.forgot_requires_captcha)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("argon2_memory_kib", &self.argon2_memory_kib)
            .field("argon2_iterations", &self.argon2_iterations)
            .field("hash_pool_size", &self.hash_pool_size)
            .field("mfa", &self.mfa)
            .field("mfa_required_from", &self.mfa_required_from)
            .field("mfa_factors", &self.mfa_factors)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

/// A database URL with its password hidden, for logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// A staff token from the command line: `ID:TOKEN`.
#[derive(Clone)]
pub struct StaffToken {
    /// The staff member's id.
    pub id: String,
    /// The bearer token.
    pub token: SecretString,
}

impl std::fmt::Debug for StaffToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StaffToken({}:<redacted>)", self.id)
    }
}

/// The shortest staff token accepted.
pub const MIN_STAFF_TOKEN_LEN: usize = 16;

fn parse_staff_token(text: &str) -> Result<StaffToken, String> {
    let (id, token) = text
        .split_once(':')
        .ok_or_else(|| "expected ID:TOKEN".to_owned())?;
    if id.is_empty() {
        return Err("the staff id before ':' is empty".into());
    }
    if token.len() < MIN_STAFF_TOKEN_LEN {
        return Err(format!(
            "the token after ':' must be at least {MIN_STAFF_TOKEN_LEN} characters"
        ));
    }
    Ok(StaffToken {
        id: id.to_owned(),
        token: SecretString::from(token.to_owned()),
    })
}

fn parse_date(text: &str) -> Result<time::Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, format)
        .map_err(|_| format!("expected a date as YYYY-MM-DD, not {text:?}"))
}

fn parse_secret(text: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(text.to_owned()))
}

/// A CAPTCHA provider's "siteverify" API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CaptchaProvider {
    /// hCaptcha.
    Hcaptcha,
    /// Google reCAPTCHA.
    Recaptcha,
    /// Cloudflare Turnstile.
    Turnstile,
}

/// `--mfa`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MfaFlag {
    /// No second factor.
    Off,
    /// Clients may set one up.
    Optional,
    /// Every client sets one up before any session.
    Required,
}

/// One of `--mfa-factors`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FactorFlag {
    /// An authenticator app (TOTP).
    Totp,
    /// Codes by email.
    Email,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        ServerConfig::command().debug_assert();
    }

    #[test]
    fn with_no_flags_the_defaults_of_the_spec_apply() {
        let config = ServerConfig::try_parse_from(["portal-server"]).unwrap();
        assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.database_url, "sqlite://portal-data/portal.db");
        assert_eq!(config.public_url(), "http://127.0.0.1:8080");
        assert!(config.staff_tokens.is_empty());
        assert_eq!(config.tenant, "default");
    }

    #[test]
    fn staff_tokens_repeat_and_short_ones_are_refused() {
        let config = ServerConfig::try_parse_from([
            "portal-server",
            "--staff-token",
            "alice:0123456789abcdef",
            "--staff-token",
            "bob:fedcba9876543210",
        ])
        .unwrap();
        assert_eq!(config.staff_tokens.len(), 2);
        assert_eq!(config.staff_tokens[1].id, "bob");
        assert!(
            ServerConfig::try_parse_from(["portal-server", "--staff-token", "alice:short"])
                .is_err()
        );
        assert!(format!("{:?}", config.staff_tokens[0]).contains("<redacted>"));
    }

    #[test]
    fn the_mfa_flags_make_the_policy() {
        let config = ServerConfig::try_parse_from([
            "portal-server",
            "--mfa",
            "required",
            "--mfa-required-from",
            "2027-01-15",
            "--mfa-factors",
            "totp",
        ])
        .unwrap();
        let policy = config.mfa_policy();
        assert_eq!(policy.mode, MfaMode::Required);
        assert_eq!(
            policy.required_from,
            Some(time::macros::date!(2027 - 01 - 15))
        );
        assert!(policy.factors.totp && !policy.factors.email_code);
        let default = ServerConfig::try_parse_from(["portal-server"]).unwrap();
        assert_eq!(default.mfa_policy().mode, MfaMode::Off);
        assert!(default.mfa_policy().factors.email_code);
    }

    #[test]
    fn database_passwords_are_redacted_for_logs() {
        assert_eq!(
            redact_url("postgres://app:hunter2@db:5432/portal"),
            "postgres://app:redacted@db:5432/portal"
        );
    }
}
