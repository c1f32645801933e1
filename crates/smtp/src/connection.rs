//! SMTP connections with `TCP_NODELAY`, and the pool that reuses them.
//!
//! lettre speaks the protocol (greeting, EHLO, STARTTLS, AUTH, the mail
//! transaction); this module owns the sockets. lettre's own transport opens
//! its sockets with Nagle's algorithm on and writes a message's body and its
//! closing `<CRLF>.<CRLF>` in two writes: the second waits for the server to
//! acknowledge the first, and a server that delays its ACKs (Linux: 40 ms)
//! stalls every message by that much. Measured against the local aiosmtpd
//! sink: 44.5 ms a message with Nagle on, 0.7 ms with `TCP_NODELAY`. So the
//! connections here are opened by us, with `TCP_NODELAY`, and handed to
//! lettre's [`AsyncSmtpConnection`].

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
#[allow(deprecated)] // lettre's only way to run TLS before the greeting on a socket of ours
use lettre::transport::smtp::client::AsyncNetworkStream;
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use portal_access_core::MailerError;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_util::compat::{Compat, FuturesAsyncReadCompatExt};

use crate::error::{classify, ConnectError, SmtpTimeout};

/// How a new connection is protected.
#[derive(Clone)]
pub(crate) enum Security {
    /// Plain text.
    None,
    /// STARTTLS when offered.
    Opportunistic(TlsParameters),
    /// STARTTLS, or no delivery.
    StartTls(TlsParameters),
    /// TLS from the first byte.
    Implicit(TlsParameters),
}

/// Where and how to connect.
#[derive(Clone)]
pub(crate) struct ConnectionSettings {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) security: Security,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) hello: ClientId,
}

impl ConnectionSettings {
    /// Opens a connection: TCP with `TCP_NODELAY`, TLS as configured, EHLO,
    /// AUTH when there are credentials.
    async fn open(&self) -> Result<AsyncSmtpConnection, MailerError> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .and_then(|tcp| tcp.set_nodelay(true).map(|()| tcp))
            .map_err(|source| {
                MailerError::transient(ConnectError {
                    host: self.host.clone(),
                    port: self.port,
                    source,
                })
            })?;
        let mut connection = match &self.security {
            Security::Implicit(tls) => {
                #[allow(deprecated)]
                let mut stream = AsyncNetworkStream::use_existing_tokio1(Box::new(Stream(tcp)));
                stream.upgrade_tls(tls.clone()).await.map_err(classify)?;
                let stream = Box::new(Stream(stream.compat()));
                AsyncSmtpConnection::connect_with_transport(stream, &self.hello)
                    .await
                    .map_err(classify)?
            }
            _ => AsyncSmtpConnection::connect_with_transport(Box::new(Stream(tcp)), &self.hello)
                .await
                .map_err(classify)?,
        };
        match &self.security {
            Security::StartTls(tls) => connection
                .starttls(tls.clone(), &self.hello)
                .await
                .map_err(classify)?,
            Security::Opportunistic(tls) if connection.can_starttls() => connection
                .starttls(tls.clone(), &self.hello)
                .await
                .map_err(classify)?,
            _ => {}
        }
        if let Some(credentials) = &self.credentials {
            connection
                .auth(DEFAULT_MECHANISMS, credentials)
                .await
                .map_err(classify)?;
        }
        Ok(connection)
    }
}

/// A connection idle for longer than this is checked with NOOP before reuse.
const CHECK_AFTER: Duration = Duration::from_secs(5);
/// A connection idle for longer than this is closed, not reused (servers
/// close idle clients after a few minutes; RFC 5321 asks at least 5).
const CLOSE_AFTER: Duration = Duration::from_secs(60);

/// Up to `max` connections, opened on demand, reused while they work.
pub(crate) struct ConnectionPool {
    settings: ConnectionSettings,
    permits: Semaphore,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl ConnectionPool {
    pub(crate) fn new(settings: ConnectionSettings, max: u32) -> Self {
        let max = usize::try_from(max.max(1)).unwrap_or(usize::MAX);
        Self {
            settings,
            permits: Semaphore::new(max),
            idle: Mutex::new(Vec::with_capacity(max)),
        }
    }

    /// Runs `work` on a pooled (or new) connection, within `timeout` from
    /// the moment a connection may be used (waiting for one of the `max` is
    /// not counted). The connection goes back to the pool only if `work`
    /// succeeded; after an error lettre has closed it, and after a timeout it
    /// is dropped mid-transaction, never reused.
    pub(crate) async fn with_connection<T>(
        &self,
        timeout: Duration,
        work: impl AsyncFnOnce(&mut AsyncSmtpConnection) -> Result<T, MailerError>,
    ) -> Result<T, MailerError> {
        // The semaphore is never closed; were it, no connection could be had.
        let Ok(_permit) = self.permits.acquire().await else {
            return Err(MailerError::transient("the SMTP connection pool is closed"));
        };
        let attempt = async {
            let mut connection = match self.reusable().await {
                Some(connection) => connection,
                None => self.settings.open().await?,
            };
            let result = work(&mut connection).await;
            if result.is_ok() && !connection.has_broken() {
                self.lock().push((connection, Instant::now()));
            }
            result
        };
        tokio::time::timeout(timeout, attempt)
            .await
            .unwrap_or_else(|_elapsed| Err(MailerError::transient(SmtpTimeout(timeout))))
    }

    /// An idle connection that still answers, if there is one.
    async fn reusable(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let (mut connection, since) = self.lock().pop()?;
            let idle = since.elapsed();
            if idle > CLOSE_AFTER {
                connection.abort().await;
            } else if idle <= CHECK_AFTER || connection.test_connected().await {
                return Some(connection);
            } else {
                connection.abort().await;
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(AsyncSmtpConnection, Instant)>> {
        // Only push/pop happen under the lock: a poisoned pool is still valid.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl fmt::Debug for ConnectionPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionPool")
            .field("idle", &self.lock().len())
            .finish_non_exhaustive()
    }
}

/// A stream of ours as lettre's stream type: our TCP socket, or lettre's
/// implicit TLS over it.
#[derive(Debug)]
struct Stream<S>(S);

impl AsyncTokioStream for Stream<TcpStream> {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }
}

#[allow(deprecated)]
impl AsyncTokioStream for Stream<Compat<AsyncNetworkStream>> {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().peer_addr()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Stream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Stream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
