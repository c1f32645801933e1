//! The accept loop: connections served with the router, each request
//! carrying the client's address (`ConnectInfo<SocketAddr>`), and a
//! graceful stop.
//!
//! What `axum::serve` does, but the HTTP version is chosen by peeking at
//! the connection's first bytes instead of reading them. `axum::serve`'s
//! builder reads up to 24 bytes to look for the HTTP/2 preface and hands
//! them back to hyper as a prefix; hyper's first read then returns only
//! those bytes, and its next one grows the connection's 8 KiB read buffer
//! to 16 KiB, kept for the connection's life: 8 KiB more per open
//! connection, 8 MiB under SPEC.md section 7 (e)'s 1,000 concurrent
//! sign-ins (docs/performance.md). Peeked bytes stay in the socket, so
//! hyper's first read gets the whole request. HTTP/1.1 and HTTP/2 with
//! prior knowledge are served as before; when the first bytes do not tell
//! (a client that sent only the start of the preface), the connection goes
//! to the same detecting builder `axum::serve` uses.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt as _;

/// The first bytes of an HTTP/2 connection with prior knowledge.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Serves `router` on `listener` until `stop` turns true; then accepts no
/// more connections, lets each open one finish the request it is answering,
/// and returns once all are closed.
pub(crate) async fn serve(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) {
    // Every connection task holds a receiver: `closed()` resolves when the
    // last one ends.
    let (open_tx, open_rx) = watch::channel(());
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                accept_failed(&error).await;
                continue;
            }
        };
        tokio::spawn(connection(
            stream,
            peer,
            router.clone(),
            stop.clone(),
            open_rx.clone(),
        ));
    }
    drop(listener);
    drop(open_rx);
    open_tx.closed().await;
}

/// One connection, until the client closes it or the server stops.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    mut stop: watch::Receiver<bool>,
    open: watch::Receiver<()>,
) {
    let service = router.map_request(move |request: Request<Incoming>| {
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    });
    let mut first = [0u8; H2_PREFACE.len()];
    let seen = tokio::select! {
        peeked = stream.peek(&mut first) => match peeked {
            Ok(n) => &first[..n],
            Err(_) => &[][..],
        },
        // Stopping before the client said anything: nothing in flight.
        _ = stop.wait_for(|stop| *stop) => return,
    };
    let builder = Builder::new(TokioExecutor::new());
    let builder = if seen == H2_PREFACE {
        builder.http2_only()
    } else if !seen.is_empty() && !H2_PREFACE.starts_with(seen) {
        builder.http1_only()
    } else {
        builder
    };
    let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            served = conn.as_mut() => {
                if let Err(error) = served {
                    tracing::trace!(%error, "connection ended with an error");
                }
                break;
            }
            _ = stop.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
    drop(open);
}

/// After a failed `accept`: a connection reset before it was accepted is
/// skipped; anything else (out of file descriptors) is logged, and the loop
/// waits a second before accepting again, as `axum::serve` does.
async fn accept_failed(error: &std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
