//! A webhook receiver for the tests: a plain HTTP/1.1 server on port 0
//! that records every request, answers as scripted, and checks each
//! signature by hand (HMAC-SHA256 with the `hmac`, `sha2` and `base64`
//! crates, written here from the Standard Webhooks text, not the
//! production signer).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The secret every test endpoint signs with, in `whsec_` form.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// This status, empty body.
    Status(u16),
    /// 200 with a 50 MB body, written as fast as the client reads it.
    HugeBody,
    /// Read the request, then never answer and never close.
    Silent,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`.
    pub timestamp: i64,
    /// The body.
    pub body: String,
    /// Whether the signature verified by the hand check.
    pub signature_ok: bool,
    /// What the receiver answered.
    pub answer: Answer,
}

type Script = Box<dyn FnMut(usize) -> Answer + Send>;

/// The receiver; dropped with the test's runtime.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    /// Starts on a free port, answering by `script(n)` (n: the request's
    /// number, from 0).
    pub async fn start(script: impl FnMut(usize) -> Answer + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener, script)
    }

    /// Starts on `addr` (a port reserved earlier).
    pub async fn start_on(
        addr: SocketAddr,
        script: impl FnMut(usize) -> Answer + Send + 'static,
    ) -> Self {
        let listener = TcpListener::bind(addr).await.unwrap();
        Self::serve(listener, script)
    }

    fn serve(listener: TcpListener, script: impl FnMut(usize) -> Answer + Send + 'static) -> Self {
        let receiver = Self {
            addr: listener.local_addr().unwrap(),
            received: Arc::default(),
            script: Arc::new(Mutex::new(Box::new(script))),
        };
        let handle = receiver.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(handle.clone().connection(stream));
            }
        });
        receiver
    }

    /// The URL to configure.
    pub fn url(&self) -> String {
        format!("http://{}/hooks", self.addr)
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// How many times each `webhook-id` was answered 2xx.
    pub fn accepted_per_id(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for r in self.received() {
            if matches!(r.answer, Answer::Status(200..=299) | Answer::HugeBody) {
                *counts.entry(r.id).or_insert(0) += 1;
            }
        }
        counts
    }

    async fn connection(self, mut stream: TcpStream) {
        let mut buffer = Vec::new();
        loop {
            let Some((head, body)) = read_request(&mut stream, &mut buffer).await else {
                return;
            };
            let answer = {
                let mut received = self.received.lock().unwrap();
                let n = received.len();
                let answer = (self.script.lock().unwrap())(n);
                received.push(record(&head, body, answer));
                answer
            };
            let written = match answer {
                Answer::Status(status) => {
                    let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n");
                    stream.write_all(reply.as_bytes()).await
                }
                Answer::HugeBody => {
                    let head = "HTTP/1.1 200 OK\r\ncontent-length: 52428800\r\n\r\n";
                    let _ = stream.write_all(head.as_bytes()).await;
                    let chunk = vec![b'x'; 1 << 20];
                    for _ in 0..50 {
                        if stream.write_all(&chunk).await.is_err() {
                            return;
                        }
                    }
                    Ok(())
                }
                Answer::Silent => {
                    // Hold the connection open, never answering.
                    std::future::pending::<()>().await;
                    Ok(())
                }
            };
            if written.is_err() {
                return;
            }
        }
    }
}

/// Reads one request (head, then `content-length` bytes of body).
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<(String, String)> {
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buffer[..end].to_vec()).ok()?;
    let length: usize = header(&head, "content-length")?.parse().ok()?;
    buffer.drain(..end + 4);
    while buffer.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8(buffer.drain(..length).collect()).ok()?;
    Some((head, body))
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

fn record(head: &str, body: String, answer: Answer) -> Received {
    let id = header(head, "webhook-id").unwrap_or_default().to_owned();
    let timestamp = header(head, "webhook-timestamp")
        .and_then(|t| t.parse().ok())
        .unwrap_or_default();
    let signature = header(head, "webhook-signature").unwrap_or_default();
    let signature_ok = verify(SECRET, &id, timestamp, &body, signature)
        && header(head, "content-type") == Some("application/json")
        && head.starts_with("POST /hooks HTTP/1.1");
    Received {
        id,
        timestamp,
        body,
        signature_ok,
        answer,
    }
}

/// The Standard Webhooks check, by hand: the secret is the base64 after
/// `whsec_`; the signed content is `id.timestamp.body`; the header holds
/// space-separated `v1,<base64>` signatures, one of which must match.
pub fn verify(secret: &str, id: &str, timestamp: i64, body: &str, header: &str) -> bool {
    let key = STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    header.split(' ').any(|candidate| candidate == expected)
}
