//! A fault-injecting HTTP proxy for tests: sits in front of moto on 127.0.0.1:0 and,
//! for a configurable share of requests, answers as a struggling AWS would —
//! throttling errors in each service's own wire format, 500s, 503s, or a dropped
//! connection — or adds latency. Faults are chosen by a seeded generator, so a test
//! sees the same sequence of faults on every run; counters let tests assert on what
//! happened.
//!
//! Faults are injected before the request reaches moto, so a faulted request never
//! has an effect (the "response lost after the write" case is not simulated).
//!
//! Point the SDK at [`FaultProxy::url`] as its endpoint. Requests in absolute form
//! (`GET http://host/path`, i.e. used as a forward proxy) are accepted as well.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Debug)]
pub struct FaultConfig {
    pub seed: u64,
    /// Share of requests (0.0..=1.0) answered with a fault instead of being forwarded.
    pub fault_rate: f64,
    /// Relative weights of the fault kinds, in the order of [`Fault::ALL`].
    pub weights: [u32; 4],
    /// Added to every forwarded request.
    pub latency: Duration,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig { seed: 7, fault_rate: 0.0, weights: [4, 2, 2, 1], latency: Duration::ZERO }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The service's throttling error (400 ThrottlingException / Throttling /
    /// RequestLimitExceeded, 503 SlowDown for S3).
    Throttle,
    ServiceUnavailable,
    InternalError,
    /// Close the connection without answering.
    Drop,
}

impl Fault {
    pub const ALL: [Fault; 4] = [Fault::Throttle, Fault::ServiceUnavailable, Fault::InternalError, Fault::Drop];
}

#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub forwarded: AtomicU64,
    pub throttled: AtomicU64,
    pub unavailable: AtomicU64,
    pub internal_errors: AtomicU64,
    pub dropped: AtomicU64,
}

impl Counters {
    pub fn faults(&self) -> u64 {
        self.throttled.load(Ordering::SeqCst)
            + self.unavailable.load(Ordering::SeqCst)
            + self.internal_errors.load(Ordering::SeqCst)
            + self.dropped.load(Ordering::SeqCst)
    }
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    pub counters: Arc<Counters>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    pub async fn start(upstream: SocketAddr, config: FaultConfig) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let rng = Arc::new(Mutex::new(SplitMix64(config.seed)));
        let config = Arc::new(config);
        let task = {
            let counters = counters.clone();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let (counters, rng, config) = (counters.clone(), rng.clone(), config.clone());
                    tokio::spawn(async move {
                        let _ = serve(client, upstream, &config, &rng, &counters).await;
                    });
                }
            })
        };
        Ok(FaultProxy { addr, counters, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// splitmix64: tiny, seedable, good enough to pick faults reproducibly.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn pick_fault(config: &FaultConfig, rng: &Mutex<SplitMix64>) -> Option<Fault> {
    let mut rng = rng.lock().ok()?;
    if rng.unit() >= config.fault_rate {
        return None;
    }
    let total: u32 = config.weights.iter().sum();
    if total == 0 {
        return None;
    }
    let mut roll = (rng.next() % u64::from(total)) as u32;
    for (fault, w) in Fault::ALL.iter().zip(config.weights) {
        if roll < w {
            return Some(*fault);
        }
        roll -= w;
    }
    None
}

/// One request per client connection: read it, fault or forward it, answer, close.
async fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    config: &FaultConfig,
    rng: &Mutex<SplitMix64>,
    counters: &Counters,
) -> std::io::Result<()> {
    let Some((head, body)) = read_message(&mut client, true).await? else { return Ok(()) };
    counters.requests.fetch_add(1, Ordering::SeqCst);
    let service = service_of(&head);
    match pick_fault(config, rng) {
        Some(Fault::Drop) => {
            counters.dropped.fetch_add(1, Ordering::SeqCst);
            return Ok(());
        }
        Some(fault) => {
            match fault {
                Fault::Throttle => counters.throttled.fetch_add(1, Ordering::SeqCst),
                Fault::ServiceUnavailable => counters.unavailable.fetch_add(1, Ordering::SeqCst),
                _ => counters.internal_errors.fetch_add(1, Ordering::SeqCst),
            };
            client.write_all(&fault_response(fault, &service)).await?;
            return client.shutdown().await;
        }
        None => {}
    }
    if !config.latency.is_zero() {
        tokio::time::sleep(config.latency).await;
    }
    counters.forwarded.fetch_add(1, Ordering::SeqCst);
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(&rewrite_head(&head, upstream)).await?;
    up.write_all(&body).await?;
    let Some((rhead, rbody)) = read_message(&mut up, false).await? else { return Ok(()) };
    client.write_all(&close_head(&rhead)).await?;
    client.write_all(&rbody).await?;
    client.shutdown().await
}

/// The SigV4 credential scope names the service: `Credential=AK/date/region/eks/aws4_request`.
fn service_of(head: &str) -> String {
    head.lines()
        .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
        .and_then(|l| l.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("")
        .to_string()
}

fn fault_response(fault: Fault, service: &str) -> Vec<u8> {
    let (status, content_type, extra, body) = match (fault, service) {
        (Fault::Throttle, "s3") => (
            "503 Slow Down",
            "application/xml",
            "",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>FAULT</RequestId></Error>".to_string(),
        ),
        (Fault::Throttle, "ec2") => (
            "503 Service Unavailable",
            "text/xml",
            "",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>FAULT</RequestID></Response>".to_string(),
        ),
        (Fault::Throttle, "route53") => (
            "400 Bad Request",
            "text/xml",
            "",
            "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>FAULT</RequestId></ErrorResponse>".to_string(),
        ),
        (Fault::Throttle, _) => (
            "429 Too Many Requests",
            "application/json",
            "x-amzn-ErrorType: ThrottlingException\r\n",
            "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}".to_string(),
        ),
        (Fault::ServiceUnavailable, _) => ("503 Service Unavailable", "text/plain", "", "Service Unavailable".to_string()),
        (_, _) => ("500 Internal Server Error", "text/plain", "", "Internal Server Error".to_string()),
    };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{extra}x-amzn-RequestId: FAULT\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Forward with `Connection: close` so the upstream answer ends at EOF at the latest,
/// and turn an absolute-form target into origin form.
fn rewrite_head(head: &str, upstream: SocketAddr) -> Vec<u8> {
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.splitn(3, ' ');
    let (method, target, version) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"), parts.next().unwrap_or("HTTP/1.1"));
    let target = match target.strip_prefix("http://") {
        Some(rest) => rest.find('/').map(|i| &rest[i..]).unwrap_or("/"),
        None => target,
    };
    let mut out = format!("{method} {target} {version}\r\n");
    for l in lines.filter(|l| !l.is_empty()) {
        let lower = l.to_ascii_lowercase();
        if lower.starts_with("connection:") || lower.starts_with("proxy-connection:") {
            continue;
        }
        // SigV4 signs the Host header; moto does not verify signatures, but keep the
        // client's Host so virtual-host style names still resolve.
        out.push_str(l);
        out.push_str("\r\n");
    }
    let _ = upstream;
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
}

fn close_head(head: &str) -> Vec<u8> {
    let mut out = String::new();
    for l in head.split("\r\n").filter(|l| !l.is_empty()) {
        if l.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        out.push_str(l);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
}

/// Reads one HTTP/1.1 message: head (as text, without the blank line) and body, the
/// body delimited by Content-Length, chunked encoding (kept as-is), or EOF for
/// responses. `None` if the peer closed before sending anything.
async fn read_message<S: AsyncRead + Unpin>(s: &mut S, is_request: bool) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut body = buf[head_end + 4..].to_vec();
    let header = |name: &str| {
        head.split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    };
    let no_body = !is_request && (head.starts_with("HTTP/1.1 204") || head.starts_with("HTTP/1.1 304"));
    if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        while body.len() < len {
            let n = s.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(len);
    } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        while !(body.starts_with(b"0\r\n\r\n") || find(&body, b"\r\n0\r\n\r\n").is_some()) {
            let n = s.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if !is_request && !no_body {
        s.read_to_end(&mut body).await?;
    }
    Ok(Some((head, body)))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
