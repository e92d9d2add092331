//! A fault-injecting HTTP proxy for tests: sits in front of moto on 127.0.0.1:0 and,
//! for a configurable share of requests, answers as a struggling AWS would —
//! throttling errors in each service's own wire format, 500s, 503s, or a dropped
//! connection — or adds latency. Faults are chosen by a seeded generator, so a test
//! sees the same sequence of faults on every run; counters let tests assert on what
//! happened.
//!
//! Random faults are injected before the request reaches moto, so a faulted request
//! never has an effect. The "answer lost after the write" case is what
//! [`FaultProxy::intercept`] is for: chosen requests are forwarded and their answer
//! dropped, or refused without being forwarded.
//!
//! Point the SDK at [`FaultProxy::url`] as its endpoint. Requests in absolute form
//! (`GET http://host/path`, i.e. used as a forward proxy) are accepted as well.
//!
//! A region outage: [`FaultProxy::lose_region`] refuses or blackholes every request
//! signed for one region, until [`FaultProxy::restore_region`].
//!
//! Two more things a test may need from the AWS it talks to, which moto alone cannot
//! give:
//! - [`FaultProxy::rewrite_responses`]: edit the body of chosen answers (say, point
//!   EKS DescribeCluster at a test API server: see `support::eks`).
//! - Presigned requests (credentials in the query, no `Authorization` header, as an
//!   EKS token's STS GetCallerIdentity URL) are routed to the right moto service:
//!   moto's server picks the service from the `Authorization` header only and would
//!   answer them as S3. moto checks no signatures, so the header is only a label.

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
        FaultConfig {
            seed: 7,
            fault_rate: 0.0,
            weights: [4, 2, 2, 1],
            latency: Duration::ZERO,
        }
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
    pub const ALL: [Fault; 4] = [
        Fault::Throttle,
        Fault::ServiceUnavailable,
        Fault::InternalError,
        Fault::Drop,
    ];
}

/// How a lost region treats the requests signed for it ([`FaultProxy::lose_region`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outage {
    /// Reset the connection once the request is read (TCP RST, no answer).
    Refuse,
    /// Keep the connection open and never answer, as a blackholed endpoint does.
    Blackhole,
}

type Outages = Arc<std::sync::RwLock<std::collections::HashMap<String, Outage>>>;

#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub forwarded: AtomicU64,
    pub throttled: AtomicU64,
    pub unavailable: AtomicU64,
    pub internal_errors: AtomicU64,
    pub dropped: AtomicU64,
    /// Requests to a lost region, refused or left unanswered.
    pub lost: AtomicU64,
    /// Requests forwarded whose answer [`FaultProxy::intercept`] dropped.
    pub answers_dropped: AtomicU64,
    /// Requests [`FaultProxy::intercept`] refused.
    pub refused: AtomicU64,
}

impl Counters {
    pub fn faults(&self) -> u64 {
        self.throttled.load(Ordering::SeqCst)
            + self.unavailable.load(Ordering::SeqCst)
            + self.internal_errors.load(Ordering::SeqCst)
            + self.dropped.load(Ordering::SeqCst)
    }
}

/// The request an answer belongs to, for [`FaultProxy::rewrite_responses`].
#[derive(Clone, Debug)]
pub struct Exchange {
    pub method: String,
    /// Origin form: path and query (`/clusters/shop-dr`).
    pub target: String,
    /// From the SigV4 credential scope: `eks`, `s3`, `sts`...; empty when unsigned.
    pub service: String,
    pub region: String,
    /// The answer's status code.
    pub status: u16,
}

impl Exchange {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// Edits an answer's body in place; Content-Length follows.
pub type Rewrite = Arc<dyn Fn(&Exchange, &mut Vec<u8>) + Send + Sync>;

/// What [`FaultProxy::intercept`] does with a chosen request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intercept {
    /// Forward it (it takes effect), then close the connection without answering.
    DropAnswer,
    /// Answer with this status and body (an AWS error document) without forwarding.
    Refuse {
        status: u16,
        content_type: &'static str,
        body: String,
    },
}

/// Chooses, from the request (status 0) and its body, what to intercept.
pub type Interceptor = Arc<dyn Fn(&Exchange, &[u8]) -> Option<Intercept> + Send + Sync>;

type Interceptors = Arc<std::sync::RwLock<Vec<Interceptor>>>;

type Rewrites = Arc<std::sync::RwLock<Vec<Rewrite>>>;

pub struct FaultProxy {
    pub addr: SocketAddr,
    pub counters: Arc<Counters>,
    rewrites: Rewrites,
    silences: Silences,
    outages: Outages,
    interceptors: Interceptors,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    pub async fn start(upstream: SocketAddr, config: FaultConfig) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let rng = Arc::new(Mutex::new(SplitMix64(config.seed)));
        let config = Arc::new(config);
        let rewrites = Rewrites::default();
        let silences = Silences::default();
        let outages = Outages::default();
        let interceptors = Interceptors::default();
        let task = {
            let (counters, rewrites, outages, interceptors, silences) = (
                counters.clone(),
                rewrites.clone(),
                outages.clone(),
                interceptors.clone(),
                silences.clone(),
            );
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let (counters, rng, config) = (counters.clone(), rng.clone(), config.clone());
                    let (rewrites, outages, interceptors, silences) = (
                        rewrites.clone(),
                        outages.clone(),
                        interceptors.clone(),
                        silences.clone(),
                    );
                    tokio::spawn(async move {
                        let _ = serve(
                            client,
                            upstream,
                            &config,
                            &rng,
                            &counters,
                            &rewrites,
                            &outages,
                            &interceptors,
                            &silences,
                        )
                        .await;
                    });
                }
            })
        };
        Ok(FaultProxy {
            addr,
            counters,
            rewrites,
            outages,
            interceptors,
            silences,
            task,
        })
    }

    /// The region goes down: from now on every request whose SigV4 credential scope
    /// (the `Authorization` header, or a presigned URL's `X-Amz-Credential`) names
    /// `region` is refused or blackholed. Other regions and global services signed
    /// for another region go on answering.
    pub fn lose_region(&self, region: &str, outage: Outage) {
        if let Ok(mut outages) = self.outages.write() {
            outages.insert(region.to_string(), outage);
        }
    }

    /// The region answers again.
    pub fn restore_region(&self, region: &str) {
        if let Ok(mut outages) = self.outages.write() {
            outages.remove(region);
        }
    }

    /// From now on, `choose` sees every request before any other fault and may drop
    /// its answer after forwarding it, or refuse it ([`Intercept`]). Counted in
    /// `answers_dropped` / `refused`.
    pub fn intercept(
        &self,
        choose: impl Fn(&Exchange, &[u8]) -> Option<Intercept> + Send + Sync + 'static,
    ) {
        if let Ok(mut interceptors) = self.interceptors.write() {
            interceptors.push(Arc::new(choose));
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Runs `rewrite` on the body of every forwarded answer from now on (faults are
    /// not rewritten; chunked answers, which moto does not send, are left alone).
    /// The function decides from the [`Exchange`] which answers it edits.
    pub fn rewrite_responses(
        &self,
        rewrite: impl Fn(&Exchange, &mut Vec<u8>) + Send + Sync + 'static,
    ) {
        if let Ok(mut rewrites) = self.rewrites.write() {
            rewrites.push(Arc::new(rewrite));
        }
    }

    /// Forgets every rewrite: answers pass through as moto gives them.
    pub fn clear_rewrites(&self) {
        if let Ok(mut rewrites) = self.rewrites.write() {
            rewrites.clear();
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Matcher = Arc<dyn Fn(&Exchange) -> bool + Send + Sync>;
type Silences = Arc<std::sync::RwLock<Vec<Matcher>>>;

impl FaultProxy {
    /// From now on, requests `matches` selects (status is 0: no answer yet) are
    /// accepted and never answered, nor forwarded: an endpoint that hangs.
    pub fn blackhole(&self, matches: impl Fn(&Exchange) -> bool + Send + Sync + 'static) {
        if let Ok(mut s) = self.silences.write() {
            s.push(Arc::new(matches));
        }
    }

    /// The next request `matches` selects reaches moto, but its answer is lost.
    pub fn lose_answer_once(&self, matches: impl Fn(&Exchange) -> bool + Send + Sync + 'static) {
        let used = std::sync::atomic::AtomicBool::new(false);
        self.intercept(move |x, _| {
            (matches(x) && !used.swap(true, Ordering::SeqCst)).then_some(Intercept::DropAnswer)
        });
    }
}

/// Whether a blackhole rule selects this request.
fn blackholed(head: &str, service: &str, region: &str, silences: &Silences) -> bool {
    let Ok(rules) = silences.read().map(|r| r.clone()) else {
        return false;
    };
    if rules.is_empty() {
        return false;
    }
    let exchange = request_exchange(head, service, region);
    rules.iter().any(|matches| matches(&exchange))
}

/// The request as the rules see it (no answer yet: status 0).
fn request_exchange(head: &str, service: &str, region: &str) -> Exchange {
    let mut request_line = head.split("\r\n").next().unwrap_or("").split(' ');
    let method = request_line.next().unwrap_or("").to_string();
    let target = request_line.next().unwrap_or("/");
    let target = match target.strip_prefix("http://") {
        Some(rest) => rest.find('/').map(|i| &rest[i..]).unwrap_or("/"),
        None => target,
    };
    Exchange {
        method,
        target: target.to_string(),
        service: service.to_string(),
        region: region.to_string(),
        status: 0,
    }
}

/// Holds a blackholed connection open until the client gives up.
async fn hold(mut client: TcpStream) -> std::io::Result<()> {
    let mut sink = [0u8; 1024];
    while client.read(&mut sink).await? > 0 {}
    Ok(())
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
#[allow(clippy::too_many_arguments)]
async fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    config: &FaultConfig,
    rng: &Mutex<SplitMix64>,
    counters: &Counters,
    rewrites: &Rewrites,
    outages: &Outages,
    interceptors: &Interceptors,
    silences: &Silences,
) -> std::io::Result<()> {
    let Some((head, body)) = read_message(&mut client, true).await? else {
        return Ok(());
    };
    counters.requests.fetch_add(1, Ordering::SeqCst);
    let (service, region) = scope_of(&head);
    if blackholed(&head, &service, &region, silences) {
        return hold(client).await;
    }
    let outage = outages.read().ok().and_then(|o| o.get(&region).copied());
    if let Some(outage) = outage {
        counters.lost.fetch_add(1, Ordering::SeqCst);
        match outage {
            Outage::Refuse => {
                // SO_LINGER 0: closing sends RST, not FIN (and so never blocks).
                #[allow(deprecated)]
                client.set_linger(Some(Duration::ZERO))?;
                drop(client);
            }
            Outage::Blackhole => return hold(client).await,
        }
        return Ok(());
    }
    let intercept = intercepted(&head, &service, &region, &body, interceptors);
    if let Some(Intercept::Refuse {
        status,
        content_type,
        body,
    }) = &intercept
    {
        counters.refused.fetch_add(1, Ordering::SeqCst);
        let answer = format!(
            "HTTP/1.1 {status} Refused\r\nContent-Type: {content_type}\r\nx-amzn-RequestId: REFUSED\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        client.write_all(answer.as_bytes()).await?;
        return client.shutdown().await;
    }
    let drop_answer = intercept == Some(Intercept::DropAnswer);
    match pick_fault(config, rng).filter(|_| !drop_answer) {
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
    let Some((rhead, mut rbody)) = read_message(&mut up, false).await? else {
        return Ok(());
    };
    if drop_answer {
        counters.answers_dropped.fetch_add(1, Ordering::SeqCst);
        return Ok(());
    }
    let rhead = apply_rewrites(&head, &service, &region, rhead, &mut rbody, rewrites);
    client.write_all(&close_head(&rhead)).await?;
    client.write_all(&rbody).await?;
    client.shutdown().await
}

/// What the interceptors want done with this request, if anything (the first that answers).
fn intercepted(
    head: &str,
    service: &str,
    region: &str,
    body: &[u8],
    interceptors: &Interceptors,
) -> Option<Intercept> {
    let interceptors: Vec<Interceptor> = interceptors.read().map(|i| i.clone()).unwrap_or_default();
    if interceptors.is_empty() {
        return None;
    }
    let exchange = request_exchange(head, service, region);
    interceptors
        .iter()
        .find_map(|choose| choose(&exchange, body))
}

/// Runs the rewrites over a (non-chunked) answer and fixes its Content-Length.
fn apply_rewrites(
    request_head: &str,
    service: &str,
    region: &str,
    head: String,
    body: &mut Vec<u8>,
    rewrites: &Rewrites,
) -> String {
    let rewrites: Vec<Rewrite> = rewrites.read().map(|r| r.clone()).unwrap_or_default();
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if rewrites.is_empty() || chunked {
        return head;
    }
    let mut request_line = request_head.split("\r\n").next().unwrap_or("").split(' ');
    let method = request_line.next().unwrap_or("").to_string();
    let target = request_line.next().unwrap_or("/");
    let target = match target.strip_prefix("http://") {
        Some(rest) => rest.find('/').map(|i| &rest[i..]).unwrap_or("/"),
        None => target,
    };
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let exchange = Exchange {
        method,
        target: target.to_string(),
        service: service.to_string(),
        region: region.to_string(),
        status,
    };
    let before = body.len();
    for rewrite in &rewrites {
        rewrite(&exchange, body);
    }
    if body.len() == before {
        return head;
    }
    head.split("\r\n")
        .map(|l| match l.split_once(':') {
            Some((k, _)) if k.trim().eq_ignore_ascii_case("content-length") => {
                format!("Content-Length: {}", body.len())
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// The SigV4 credential scope names service and region:
/// `Credential=AK/date/region/eks/aws4_request`, in the `Authorization` header or, for a
/// presigned URL, in the `X-Amz-Credential` query parameter.
fn scope_of(head: &str) -> (String, String) {
    let credential = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
        .and_then(|l| l.split("Credential=").nth(1))
        .map(|c| c.split([',', ' ']).next().unwrap_or("").to_string())
        .or_else(|| presigned_credential(head));
    let credential = credential.unwrap_or_default();
    let mut parts = credential.split('/');
    let region = parts.nth(2).unwrap_or("").to_string();
    let service = parts.next().unwrap_or("").to_string();
    (service, region)
}

/// The decoded `X-Amz-Credential` of a presigned request's query, if any.
fn presigned_credential(head: &str) -> Option<String> {
    let target = head.split(' ').nth(1)?;
    let query = target.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case("X-Amz-Credential"))
        .map(|(_, v)| v.replace("%2F", "/").replace("%2f", "/"))
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
    let (method, target, version) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("/"),
        parts.next().unwrap_or("HTTP/1.1"),
    );
    let target = match target.strip_prefix("http://") {
        Some(rest) => rest.find('/').map(|i| &rest[i..]).unwrap_or("/"),
        None => target,
    };
    let mut out = format!("{method} {target} {version}\r\n");
    let lines: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    let signed = lines
        .iter()
        .any(|l| l.to_ascii_lowercase().starts_with("authorization:"));
    if let (false, Some(credential)) = (signed, presigned_credential(head)) {
        out.push_str(&format!("Authorization: AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=presigned\r\n"));
    }
    for l in lines {
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
async fn read_message<S: AsyncRead + Unpin>(
    s: &mut S,
    is_request: bool,
) -> std::io::Result<Option<(String, Vec<u8>)>> {
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
    let no_body =
        !is_request && (head.starts_with("HTTP/1.1 204") || head.starts_with("HTTP/1.1 304"));
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
