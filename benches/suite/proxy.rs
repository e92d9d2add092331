//! A latency-injecting HTTP proxy for the benchmarks, grown out of the e2e fault
//! proxy (tests/e2e/support/faultproxy.rs): one listener per upstream (moto, each
//! Kubernetes test server), all sharing one [`Stats`]. Every request waits the
//! configured latency before it is forwarded, as if the server were that far away;
//! selected operations wait longer (how long AWS takes to create a VPC, a cluster, a
//! node group...), which is how the apply benchmark gets realistic operation times
//! out of an emulator that completes everything at once.
//!
//! Requests are counted per service (the SigV4 credential scope names it; requests
//! with a bearer token are Kubernetes) and per operation.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Default)]
pub struct Stats {
    /// (service, operation) -> requests.
    counts: Mutex<BTreeMap<(String, String), u64>>,
    /// service or operation -> (first request received, last answer sent).
    spans: Mutex<BTreeMap<String, (Instant, Instant)>>,
    /// Answers recorded in [`Mode::Record`], by upstream, request line and body.
    answers: Mutex<HashMap<String, (String, Vec<u8>)>>,
}

impl Stats {
    fn add(&self, service: &str, operation: &str) {
        if let Ok(mut c) = self.counts.lock() {
            *c.entry((service.to_string(), operation.to_string()))
                .or_default() += 1;
        }
    }

    fn span(&self, service: &str, started: Instant) {
        if let Ok(mut spans) = self.spans.lock() {
            let now = Instant::now();
            let span = spans.entry(service.to_string()).or_insert((started, now));
            span.0 = span.0.min(started);
            span.1 = span.1.max(now);
        }
    }

    /// Seconds from the first request of a service or operation to its last answer.
    pub fn span_seconds(&self, service: &str) -> f64 {
        self.spans
            .lock()
            .ok()
            .and_then(|s| s.get(service).map(|(a, b)| (*b - *a).as_secs_f64()))
            .unwrap_or(0.0)
    }

    pub fn reset(&self) {
        if let Ok(mut c) = self.counts.lock() {
            c.clear();
        }
        if let Ok(mut s) = self.spans.lock() {
            s.clear();
        }
    }

    pub fn by_operation(&self) -> BTreeMap<(String, String), u64> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn by_service(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for ((service, _), n) in self.by_operation() {
            *out.entry(service).or_default() += n;
        }
        out
    }

    pub fn total(&self) -> u64 {
        self.by_operation().values().sum()
    }

    pub fn operation(&self, service: &str, operation: &str) -> u64 {
        self.by_operation()
            .get(&(service.to_string(), operation.to_string()))
            .copied()
            .unwrap_or(0)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Delays {
    /// Added to every request.
    pub latency: Duration,
    /// Added on top for these operations (`CreateCluster`, `k8s:apply`, ...).
    pub operations: HashMap<String, Duration>,
    pub mode: Mode,
}

/// Replay takes the emulator's throughput out of a read benchmark: a run in `Record`
/// keeps every answer, a later run of the same reads in `Replay` gets them from the
/// proxy after the configured latency, as from a server of unlimited capacity. A
/// request never recorded is forwarded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Forward,
    Record,
    Replay,
}

pub struct Proxy {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

/// Where requests go: one upstream, or one per AWS service (the rig runs S3 on its
/// own emulator: on AWS, services are separate fleets, and one moto process serving
/// them all was the bound of the plan benchmark).
#[derive(Clone, Debug)]
pub struct Upstreams {
    pub default: SocketAddr,
    pub by_service: HashMap<String, SocketAddr>,
}

impl Upstreams {
    pub fn one(addr: SocketAddr) -> Self {
        Upstreams {
            default: addr,
            by_service: HashMap::new(),
        }
    }

    fn of(&self, service: &str) -> SocketAddr {
        self.by_service
            .get(service)
            .copied()
            .unwrap_or(self.default)
    }
}

impl Proxy {
    pub async fn start(
        upstreams: Upstreams,
        delays: Arc<Mutex<Delays>>,
        stats: Arc<Stats>,
    ) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let upstreams = Arc::new(upstreams);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (delays, stats, upstreams) = (delays.clone(), stats.clone(), upstreams.clone());
                tokio::spawn(async move {
                    let _ = serve(client, &upstreams, &delays, &stats).await;
                });
            }
        });
        Ok(Proxy { addr, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Keep-alive on the client side (the SDK and kube reuse connections, as against
/// AWS); one upstream connection per request.
async fn serve(
    mut client: TcpStream,
    upstreams: &Upstreams,
    delays: &Mutex<Delays>,
    stats: &Stats,
) -> std::io::Result<()> {
    let _ = client.set_nodelay(true);
    loop {
        let Some((head, body)) = read_message(&mut client, true, false).await? else {
            return Ok(());
        };
        let is_head = head.starts_with("HEAD ");
        let started = Instant::now();
        let (service, operation) = classify(&head, &body);
        stats.add(&service, &operation);
        let upstream = upstreams.of(&service);
        let (delay, mode) = delays
            .lock()
            .map(|d| {
                (
                    d.latency + d.operations.get(&operation).copied().unwrap_or_default(),
                    d.mode,
                )
            })
            .unwrap_or_default();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        // With one endpoint for every region, only the signature's credential scope
        // (`AK/date/us-west-2/eks/aws4_request`) tells regions apart.
        let scope = header(&head, "authorization")
            .and_then(|a| a.split("Credential=").nth(1))
            .map(|c| c.split('/').skip(2).take(2).collect::<Vec<_>>().join("/"))
            .unwrap_or_default();
        let key = format!(
            "{upstream} {scope} {}\n{}",
            head.split("\r\n").next().unwrap_or(""),
            String::from_utf8_lossy(&body)
        );
        let recorded = match mode {
            Mode::Replay => stats.answers.lock().ok().and_then(|a| a.get(&key).cloned()),
            _ => None,
        };
        if let Some((rhead, rbody)) = recorded {
            client
                .write_all(&with_length(&rhead, (!is_head).then_some(rbody.len())))
                .await?;
            client.write_all(&rbody).await?;
            stats.span(&service, started);
            stats.span(&operation, started);
            continue;
        }
        let mut up = TcpStream::connect(upstream).await?;
        let _ = up.set_nodelay(true);
        up.write_all(&with_connection(&head, "close")).await?;
        up.write_all(&body).await?;
        let Some((rhead, rbody)) = read_message(&mut up, false, is_head).await? else {
            return Ok(());
        };
        client
            .write_all(&with_length(&rhead, (!is_head).then_some(rbody.len())))
            .await?;
        client.write_all(&rbody).await?;
        stats.span(&service, started);
        stats.span(&operation, started);
        if mode == Mode::Record {
            if let Ok(mut answers) = stats.answers.lock() {
                answers.insert(key, (rhead, rbody));
            }
        }
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// (service, operation). The operation names follow the AWS API where the request
/// says it (EC2's `Action=`, the JSON protocols' `X-Amz-Target`), else method and
/// path shape.
pub fn classify(head: &str, body: &[u8]) -> (String, String) {
    let request_line = head.split("\r\n").next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let service = header(head, "authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(3))
        .map(str::to_string);
    let Some(service) = service else {
        let op = match method {
            "PATCH" | "POST" | "PUT" => "k8s:apply",
            "DELETE" => "k8s:delete",
            _ if path.starts_with("/api")
                && (path.matches('/').count() <= 3 || path == "/apis") =>
            {
                "k8s:discovery"
            }
            _ => "k8s:read",
        };
        return ("k8s".into(), op.into());
    };
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let op = match service.as_str() {
        "ec2" | "sts" => {
            let text = String::from_utf8_lossy(body);
            text.split('&')
                .find_map(|kv| kv.strip_prefix("Action="))
                .map(str::to_string)
                .unwrap_or_else(|| "?".into())
        }
        "eks" => match (method, segments.as_slice()) {
            ("POST", ["clusters"]) => "CreateCluster".into(),
            ("GET", ["clusters"]) => "ListClusters".into(),
            ("GET", ["clusters", _]) => "DescribeCluster".into(),
            ("POST", ["clusters", _, "node-groups"]) => "CreateNodegroup".into(),
            ("GET", ["clusters", _, "node-groups"]) => "ListNodegroups".into(),
            ("GET", ["clusters", _, "node-groups", _]) => "DescribeNodegroup".into(),
            ("POST", ["clusters", _, "node-groups", _, "update-config"]) => {
                "UpdateNodegroupConfig".into()
            }
            _ => format!("{method} eks"),
        },
        "route53" => match (method, segments.as_slice()) {
            ("GET", [_, "hostedzone"]) => "ListHostedZones".into(),
            ("POST", [_, "hostedzone"]) => "CreateHostedZone".into(),
            ("GET", [_, "hostedzone", _, "rrset"]) => "ListResourceRecordSets".into(),
            ("POST", [_, "hostedzone", _, "rrset"]) => "ChangeResourceRecordSets".into(),
            ("GET", [_, "healthcheck"]) => "ListHealthChecks".into(),
            ("POST", [_, "healthcheck"]) => "CreateHealthCheck".into(),
            ("POST", [_, "tags", _]) => "ListTagsForResources".into(),
            ("GET", [_, "change", _]) => "GetChange".into(),
            _ => format!("{method} route53"),
        },
        "s3" => {
            let sub = query
                .split('&')
                .next()
                .unwrap_or("")
                .split('=')
                .next()
                .unwrap_or("");
            match (method, segments.len(), sub) {
                ("GET", 0, _) => "ListBuckets".into(),
                ("PUT", 1, "") => "CreateBucket".into(),
                ("GET", 1, "location") => "GetBucketLocation".into(),
                (m, 1, s) if !s.is_empty() => format!("{m} ?{s}"),
                (m, _, _) => format!("{m} object"),
            }
        }
        _ => method.to_string(),
    };
    (service, op)
}

fn with_connection(head: &str, value: &str) -> Vec<u8> {
    let mut out = String::new();
    for l in head.split("\r\n").filter(|l| !l.is_empty()) {
        let lower = l.to_ascii_lowercase();
        if lower.starts_with("connection:")
            || lower.starts_with("proxy-connection:")
            || lower.starts_with("keep-alive:")
        {
            continue;
        }
        out.push_str(l);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Connection: {value}\r\n\r\n"));
    out.into_bytes()
}

/// The upstream answer was read whole (chunked bodies de-chunked), so the client gets
/// it with an exact length and the connection stays open for its next request. An
/// answer to HEAD keeps its own length (`len` None).
fn with_length(head: &str, len: Option<usize>) -> Vec<u8> {
    let mut out = String::new();
    for l in head.split("\r\n").filter(|l| !l.is_empty()) {
        let lower = l.to_ascii_lowercase();
        if lower.starts_with("connection:")
            || (len.is_some() && lower.starts_with("content-length:"))
            || lower.starts_with("transfer-encoding:")
            || lower.starts_with("keep-alive:")
        {
            continue;
        }
        out.push_str(l);
        out.push_str("\r\n");
    }
    let status_has_no_body = head.starts_with("HTTP/1.1 204") || head.starts_with("HTTP/1.1 304");
    if let (Some(len), false) = (len, status_has_no_body) {
        out.push_str(&format!("Content-Length: {len}\r\n"));
    }
    out.push_str("Connection: keep-alive\r\n\r\n");
    out.into_bytes()
}

/// One HTTP/1.1 message: head (without the blank line) and body, chunked bodies
/// decoded. `None` if the peer closed before sending anything.
async fn read_message<S: AsyncRead + Unpin>(
    s: &mut S,
    is_request: bool,
    answers_head: bool,
) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
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
    let no_body = answers_head
        || !is_request
            && (head.starts_with("HTTP/1.1 204")
                || head.starts_with("HTTP/1.1 304")
                || head.starts_with("HTTP/1.0 204"));
    if no_body {
        return Ok(Some((head, body)));
    }
    if let Some(len) = header(&head, "content-length").and_then(|v| v.parse::<usize>().ok()) {
        while body.len() < len {
            let n = s.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(len);
    } else if header(&head, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        while !(body.starts_with(b"0\r\n\r\n") || find(&body, b"\r\n0\r\n\r\n").is_some()) {
            let n = s.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body = dechunk(&body);
    } else if !is_request {
        s.read_to_end(&mut body).await?;
    }
    Ok(Some((head, body)))
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = find(raw, b"\r\n") {
        let size_text = String::from_utf8_lossy(&raw[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        let end = (start + size).min(raw.len());
        out.extend_from_slice(&raw[start..end]);
        raw = &raw[(end + 2).min(raw.len())..];
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
