//! A minimal HTTP/1.1 keep-alive connection for the load loops.
//!
//! The load generator shares the machine's two cores with the server and its
//! database, so the hot loops use one pre-built request and one socket each
//! (like `wrk`), and time exactly request written -> response read. Each
//! connection may bind its own loopback source address (127.0.x.y), so
//! per-IP rate limits see many clients, as in production.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};

/// One response: status, the headers we care about, the body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub set_cookies: Vec<String>,
    pub body: Vec<u8>,
}

/// One keep-alive connection to the server.
pub struct Connection {
    stream: BufReader<TcpStream>,
    host: String,
    line: String,
}

impl Connection {
    /// Connects to `server`, from `source` when given (a loopback address).
    pub async fn open(server: SocketAddr, source: Option<IpAddr>) -> io::Result<Self> {
        let socket = match server {
            SocketAddr::V4(_) => TcpSocket::new_v4()?,
            SocketAddr::V6(_) => TcpSocket::new_v6()?,
        };
        if let Some(ip) = source {
            socket.bind(SocketAddr::new(ip, 0))?;
        }
        let stream = socket.connect(server).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream: BufReader::with_capacity(16 * 1024, stream),
            host: server.to_string(),
            line: String::with_capacity(256),
        })
    }

    /// Builds the bytes of a request (kept and re-sent by the hot loops).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        json: Option<&str>,
    ) -> Vec<u8> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        if let Some(cookie) = cookie {
            head.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        match json {
            Some(body) => {
                head.push_str(&format!(
                    "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                ));
            }
            None => head.push_str("\r\n"),
        }
        head.into_bytes()
    }

    /// Sends a request and reads the whole response; returns it and the time
    /// from the first byte written to the last byte read.
    pub async fn send(&mut self, request: &[u8]) -> io::Result<(Response, Duration)> {
        let started = Instant::now();
        self.stream.get_mut().write_all(request).await?;
        let response = self.read_response().await?;
        Ok((response, started.elapsed()))
    }

    async fn read_line(&mut self) -> io::Result<&str> {
        self.line.clear();
        let n = self.stream.read_line(&mut self.line).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the connection",
            ));
        }
        Ok(self.line.trim_end())
    }

    async fn read_response(&mut self) -> io::Result<Response> {
        let status_line = self.read_line().await?;
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| invalid(format!("bad status line {status_line:?}")))?;
        let mut length = 0usize;
        let mut chunked = false;
        let mut set_cookies = Vec::new();
        loop {
            let line = self.read_line().await?;
            if line.is_empty() {
                break;
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(invalid(format!("bad header line {line:?}")));
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value
                    .parse()
                    .map_err(|_| invalid(format!("bad length {value:?}")))?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("set-cookie") {
                set_cookies.push(value.to_owned());
            }
        }
        let body = if chunked {
            self.read_chunked().await?
        } else {
            let mut body = vec![0; length];
            self.stream.read_exact(&mut body).await?;
            body
        };
        Ok(Response {
            status,
            set_cookies,
            body,
        })
    }

    async fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let size_line = self.read_line().await?.to_owned();
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| invalid(format!("bad chunk size {size_line:?}")))?;
            if size == 0 {
                // Trailers, then the empty line.
                while !self.read_line().await?.is_empty() {}
                return Ok(body);
            }
            let start = body.len();
            body.resize(start + size, 0);
            self.stream.read_exact(&mut body[start..]).await?;
            self.read_line().await?; // CRLF after the chunk
        }
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// The value of the cookie `name` among `Set-Cookie` headers (`name=value`).
pub fn cookie_pair(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies.iter().find_map(|header| {
        let pair = header.split(';').next()?.trim();
        let (key, value) = pair.split_once('=')?;
        (key == name && !value.is_empty()).then(|| pair.to_owned())
    })
}

/// A JSON string literal (for the few request bodies the loops build).
pub fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}
