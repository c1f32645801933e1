//! The directory mailer: each message as an `.eml` file, for development.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use portal_access_core::{Mailer, MailerError, NewMessage};
use tokio::io::AsyncWriteExt;

use crate::compose::MessageComposer;

/// Writes each message as `{message id}.eml` (RFC 5322, the same bytes the
/// SMTP mailer would send) into a directory, and logs (`tracing::info!`)
/// every `http://` / `https://` link of its text part so a developer can
/// follow invitation and reset links without a mail server.
///
/// Each file is written to a temporary name in the same directory, flushed
/// to disk, then renamed: a reader never sees half a message. A message
/// sent twice (a retry) overwrites its own file.
///
/// The logged links carry live tokens: use this mailer for development
/// only.
#[derive(Debug)]
pub struct DirectoryMailer {
    dir: PathBuf,
    composer: MessageComposer,
    temp_counter: AtomicU64,
}

impl DirectoryMailer {
    /// Writes into `dir`, creating it if missing.
    pub fn new(
        dir: impl Into<PathBuf>,
        composer: impl Into<MessageComposer>,
    ) -> Result<Self, std::io::Error> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            composer: composer.into(),
            temp_counter: AtomicU64::new(0),
        })
    }

    /// The directory messages are written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the message with this id is (or will be) written.
    pub fn path_of(&self, message: &NewMessage) -> PathBuf {
        self.dir.join(format!("{}.eml", message.id))
    }

    async fn write_atomically(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let n = self.temp_counter.fetch_add(1, Ordering::Relaxed);
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("message");
        let temp = self
            .dir
            .join(format!(".{file_name}.{}.{n}.tmp", std::process::id()));
        let result = async {
            let mut file = tokio::fs::File::create(&temp).await?;
            file.write_all(bytes).await?;
            file.sync_all().await?;
            drop(file);
            tokio::fs::rename(&temp, path).await
        }
        .await;
        if result.is_err() {
            // Best effort: the write already failed; report that error.
            let _ = tokio::fs::remove_file(&temp).await;
        }
        result
    }
}

#[async_trait]
impl Mailer for DirectoryMailer {
    async fn send(&self, message: &NewMessage) -> Result<(), MailerError> {
        let email = self.composer.compose(message)?;
        let path = self.path_of(message);
        self.write_atomically(&path, &email.formatted())
            .await
            .map_err(MailerError::transient)?;
        tracing::info!(
            message_id = %message.id,
            kind = message.kind.as_str(),
            to = %message.to,
            path = %path.display(),
            "mail written"
        );
        for link in links(&message.text_body) {
            tracing::info!(message_id = %message.id, to = %message.to, %link, "mail link");
        }
        Ok(())
    }
}

/// The `http://` and `https://` URLs in `text`, in order, without repeats.
/// A URL ends at whitespace, a quote or an angle bracket; trailing
/// sentence punctuation is not part of it.
///
/// ```
/// let links = portal_access_smtp::links("Open <https://p.example/r?token=a-b_c>. Or https://p.example/x, then http://h/");
/// assert_eq!(links, ["https://p.example/r?token=a-b_c", "https://p.example/x", "http://h/"]);
/// ```
pub fn links(text: &str) -> Vec<&str> {
    let mut found: Vec<&str> = Vec::new();
    let mut rest = text;
    while let Some(start) = ["http://", "https://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        let candidate = &rest[start..];
        let end = candidate
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>'))
            .unwrap_or(candidate.len());
        let link = candidate[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        if link.len() > "https://".len() && !found.contains(&link) {
            found.push(link);
        }
        rest = &candidate[end.max(1)..];
    }
    found
}
