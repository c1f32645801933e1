//! The server key of second factors: `--secret-key`, or the key kept in
//! `<data-dir>/secret.key`, generated there (mode 0600) at first start.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use portal_access::{OsRandom, SecretKey, SecureRandom};
use secrecy::{ExposeSecret, SecretString};

use crate::error::StartError;

/// The name of the key file in the data directory.
pub const KEY_FILE: &str = "secret.key";

/// Where the server key came from (the banner says it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `--secret-key` / `PORTAL_SECRET_KEY`.
    Flag,
    /// Read from this file (made at an earlier start).
    File(PathBuf),
    /// Generated into this file at this start.
    Generated(PathBuf),
}

impl KeySource {
    /// The banner's line.
    pub fn describe(&self) -> String {
        match self {
            Self::Flag => "from --secret-key".to_owned(),
            Self::File(path) => format!("read from {}", path.display()),
            Self::Generated(path) => format!(
                "generated into {} (keep it: authenticators stop working without it)",
                path.display()
            ),
        }
    }
}

/// The server key: the flag's, else the data directory's (made if missing).
pub fn server_key(
    flag: Option<&SecretString>,
    data_dir: &Path,
) -> Result<(SecretKey, KeySource), StartError> {
    if let Some(text) = flag {
        let key = SecretKey::parse_base64(text.expose_secret())
            .map_err(|_| StartError::SecretKey("--secret-key must be 32 bytes of base64".into()))?;
        return Ok((key, KeySource::Flag));
    }
    let path = data_dir.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let key = SecretKey::parse_base64(&text).map_err(|_| {
                StartError::SecretKey(format!(
                    "{} (from --data-dir) is not 32 bytes of base64; restore it or pass --secret-key",
                    path.display()
                ))
            })?;
            Ok((key, KeySource::File(path)))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let key = generate(&path)?;
            Ok((key, KeySource::Generated(path)))
        }
        Err(source) => Err(StartError::KeyFile { path, source }),
    }
}

/// A new key from the operating system's CSPRNG, written to `path`
/// (created, never overwritten; owner read/write only).
fn generate(path: &Path) -> Result<SecretKey, StartError> {
    let failed = |source| StartError::KeyFile {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    let mut bytes = [0u8; 32];
    OsRandom.fill(&mut bytes);
    let key = SecretKey::from_bytes(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(failed)?;
    writeln!(file, "{}", key.to_base64()).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_generated_once_with_owner_only_access_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let (first, source) = server_key(None, &data).unwrap();
        assert_eq!(source, KeySource::Generated(data.join(KEY_FILE)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(data.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, source) = server_key(None, &data).unwrap();
        assert_eq!(source, KeySource::File(data.join(KEY_FILE)));
        assert_eq!(again.to_base64(), first.to_base64());
    }

    #[test]
    fn the_flag_wins_and_a_malformed_key_refuses_to_start_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let given = SecretKey::from_bytes([9; 32]).to_base64();
        let (key, source) =
            server_key(Some(&SecretString::from(given.clone())), dir.path()).unwrap();
        assert_eq!((key.to_base64(), source), (given, KeySource::Flag));
        assert!(!dir.path().join(KEY_FILE).exists(), "nothing written");

        let error = server_key(Some(&SecretString::from("c2hvcnQ=")), dir.path()).unwrap_err();
        assert!(error.to_string().contains("--secret-key"), "{error}");
        assert!(
            !error.to_string().contains("c2hvcnQ"),
            "the key is never echoed"
        );

        std::fs::write(dir.path().join(KEY_FILE), "garbage").unwrap();
        let error = server_key(None, dir.path()).unwrap_err();
        assert!(error.to_string().contains("secret.key"), "{error}");
    }
}
