//! The proxy against a small upstream that echoes what it received.

use crate::{Config, Intercept, Mode, Outage, Proxy};
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const S3: &str = "AWS4-HMAC-SHA256 Credential=AK/20260101/us-west-2/s3/aws4_request, SignedHeaders=host, Signature=x";

/// Answers `<method> <target> auth=<authorization> body=<body>`.
async fn echo() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let service = service_fn(|request: Request<Incoming>| async move {
                    let (parts, body) = request.into_parts();
                    let body = body.collect().await?.to_bytes();
                    let auth = parts
                        .headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    let text = format!(
                        "{} {} auth={auth} body={}",
                        parts.method,
                        parts.uri,
                        String::from_utf8_lossy(&body)
                    );
                    Ok::<_, hyper::Error>(Response::new(Full::new(Bytes::from(text))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, task)
}

/// Sends raw HTTP/1.1 and reads until the proxy closes the connection.
async fn raw(proxy: &Proxy, request: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(proxy.addr).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

fn get(path: &str, auth: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n")
}

#[tokio::test]
async fn forwards_on_a_kept_alive_connection_and_rewrites_answers() {
    let (upstream, _echo) = echo().await;
    let proxy = Proxy::start(upstream, Config::default())
        .await
        .expect("proxy");
    proxy.rewrite_responses(|x, body| {
        if x.service == "s3" && x.path() == "/b" && x.status == 200 {
            body.extend_from_slice(b" rewritten");
        }
    });
    let stream = TcpStream::connect(proxy.addr).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    for (path, expected) in [
        (
            "/a?versioning",
            format!("GET /a?versioning auth={S3} body="),
        ),
        ("/b", format!("GET /b auth={S3} body= rewritten")),
    ] {
        let request = Request::get(path)
            .header("authorization", S3)
            .body(Full::new(Bytes::new()))
            .expect("request");
        let answer = sender.send_request(request).await.expect("answer");
        let body = answer.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(String::from_utf8_lossy(&body), expected);
    }
    assert_eq!(proxy.counters.forwarded.load(Ordering::SeqCst), 2);
    assert_eq!(proxy.counters.operation("s3", "GET ?versioning"), 1);
    assert_eq!(proxy.counters.by_service().get("s3"), Some(&2));
}

#[tokio::test]
async fn presigned_and_absolute_form_requests_reach_the_upstream_signed() {
    let (upstream, _echo) = echo().await;
    let proxy = Proxy::start(upstream, Config::default())
        .await
        .expect("proxy");
    let target = "/?Action=GetCallerIdentity&X-Amz-Credential=AK%2F20260101%2Fus-east-1%2Fsts%2Faws4_request";
    let answer = raw(
        &proxy,
        &format!("GET http://sts.example{target} HTTP/1.1\r\nHost: sts.example\r\nConnection: close\r\n\r\n"),
    )
    .await
    .expect("answer");
    assert!(
        answer.ends_with(&format!("GET {target} auth=AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=presigned body=")),
        "{answer}"
    );
    assert_eq!(proxy.counters.operation("sts", "GetCallerIdentity"), 1);
}

#[tokio::test]
async fn recorded_answers_are_replayed_without_the_upstream() {
    let (upstream, echo) = echo().await;
    let config = Config {
        mode: Mode::Record,
        ..Config::default()
    };
    let proxy = Proxy::start(upstream, config.clone()).await.expect("proxy");
    let recorded = raw(&proxy, &get("/r", S3)).await.expect("recorded");
    echo.abort();
    proxy.shared().configure(Config {
        mode: Mode::Replay,
        ..config
    });
    let replayed = raw(&proxy, &get("/r", S3)).await.expect("replayed");
    let body = |a: &str| a.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    assert_eq!(body(&replayed), body(&recorded));
    assert_eq!(proxy.counters.replayed.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn faults_answer_in_the_services_format_or_drop_the_connection() {
    let (upstream, _echo) = echo().await;
    let throttle = Config {
        fault_rate: 1.0,
        weights: [1, 0, 0, 0],
        ..Config::default()
    };
    let proxy = Proxy::start(upstream, throttle).await.expect("proxy");
    let answer = raw(&proxy, &get("/", S3)).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("<Code>SlowDown</Code>"), "{answer}");
    assert_eq!(proxy.counters.throttled.load(Ordering::SeqCst), 1);

    proxy.shared().configure(Config {
        fault_rate: 1.0,
        weights: [0, 0, 0, 1],
        ..Config::default()
    });
    let answer = raw(&proxy, &get("/", S3)).await.expect("closed");
    assert_eq!(answer, "");
    assert_eq!(proxy.counters.faults(), 2);
}

#[tokio::test]
async fn interceptors_refuse_or_lose_the_answer() {
    let (upstream, _echo) = echo().await;
    let proxy = Proxy::start(upstream, Config::default())
        .await
        .expect("proxy");
    proxy.intercept(|x, _| {
        (x.path() == "/no").then(|| Intercept::Refuse {
            status: 403,
            content_type: "application/xml",
            body: "<Error><Code>AccessDenied</Code></Error>".into(),
        })
    });
    proxy.lose_answer_once(|x| x.path() == "/lost");
    let refused = raw(&proxy, &get("/no", S3)).await.expect("refused");
    assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");
    assert!(refused.contains("AccessDenied"), "{refused}");
    assert_eq!(raw(&proxy, &get("/lost", S3)).await.expect("lost"), "");
    let again = raw(&proxy, &get("/lost", S3)).await.expect("again");
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");
    let c = &proxy.counters;
    assert_eq!(c.refused.load(Ordering::SeqCst), 1);
    assert_eq!(c.answers_dropped.load(Ordering::SeqCst), 1);
    assert_eq!(c.forwarded.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_lost_region_resets_or_hangs_until_restored() {
    let (upstream, _echo) = echo().await;
    let proxy = Proxy::start(upstream, Config::default())
        .await
        .expect("proxy");
    proxy.lose_region("us-west-2", Outage::Refuse);
    let reset = raw(&proxy, &get("/", S3)).await;
    assert_eq!(
        reset.map_err(|e| e.kind()),
        Err(std::io::ErrorKind::ConnectionReset)
    );
    proxy.lose_region("us-west-2", Outage::Blackhole);
    let hung = tokio::time::timeout(Duration::from_millis(300), raw(&proxy, &get("/", S3))).await;
    assert!(hung.is_err(), "answered: {hung:?}");
    proxy.blackhole(|x| x.path() == "/hang");
    proxy.restore_region("us-west-2");
    let answer = raw(&proxy, &get("/", S3)).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let hung =
        tokio::time::timeout(Duration::from_millis(300), raw(&proxy, &get("/hang", S3))).await;
    assert!(hung.is_err(), "answered: {hung:?}");
    assert_eq!(proxy.counters.lost.load(Ordering::SeqCst), 2);
}
