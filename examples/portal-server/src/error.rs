//! Why portal-server could not start, and how its errors are logged.

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database URL is neither `sqlite:` nor `postgres:`.
    #[error("--database-url must start with sqlite:// or postgres://, not {0:?}")]
    DatabaseScheme(String),
    /// The SQLite file's directory could not be created.
    #[error("could not create the directory of the SQLite database {path}")]
    DatabaseDir {
        /// Which.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The store could not connect or migrate.
    #[error("could not open the database {url}")]
    Store {
        /// Which (password redacted).
        url: String,
        /// Why.
        #[source]
        source: portal_access::StoreError,
    },
    /// The mailer is misconfigured.
    #[error("invalid mail configuration")]
    Mail(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The GeoIP database could not be opened.
    #[error("could not open the GeoIP database")]
    GeoIp(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A file of `--locales-dir` cannot be used.
    #[error("invalid --locales-dir")]
    Locales(#[source] portal_access::i18n::LocaleError),
    /// The CAPTCHA configuration is invalid.
    #[error("invalid CAPTCHA configuration")]
    Captcha(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An identifier is invalid.
    #[error("invalid {what}")]
    Id {
        /// Which flag.
        what: &'static str,
        /// Why.
        #[source]
        source: portal_access::InvalidId,
    },
    /// The service configuration is invalid.
    #[error("invalid portal configuration")]
    Service(#[source] portal_access::service::ConfigError),
    /// The server key is malformed (the message names its flag or file).
    #[error("{0}")]
    SecretKey(String),
    /// The server key file could not be read or written.
    #[error("could not read or create the server key file {path}")]
    KeyFile {
        /// Which.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A webhook flag is invalid (the message names the flag).
    #[error("{0}")]
    Webhook(String),
    /// The HTTP configuration is invalid.
    #[error("invalid HTTP configuration")]
    Http(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The cause chain of an error, one line: `what failed: why: why that`.
/// (Each error's `Display` says only what failed; the causes are its
/// `source`s.)
pub fn portal_access_error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(error), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}
