//! One client connection: every request on it read whole, classified once, then
//! hung, refused, faulted or answered (by the upstream or from a recording).

use crate::classify::classify;
use crate::config::{Mode, Upstreams};
use crate::counters::add;
use crate::faults::{self, Fault};
use crate::forward::{forward, Recordings};
use crate::rules::{Exchange, Intercept, Outage};
use crate::Shared;
use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// Ends the connection without an answer (hyper closes it when a request fails).
#[derive(Debug)]
struct Unanswered;

impl std::fmt::Display for Unanswered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed without an answer")
    }
}

impl std::error::Error for Unanswered {}

type Answered = Result<Response<Full<Bytes>>, Unanswered>;

pub(crate) async fn connection(client: TcpStream, shared: Arc<Shared>, upstreams: Arc<Upstreams>) {
    let _ = client.set_nodelay(true);
    // A second handle on the socket, to make its close a reset (a refused region).
    let Ok((client, socket)) = with_handle(client) else {
        return;
    };
    let socket = Arc::new(socket);
    let service = service_fn(move |request| {
        let (shared, upstreams, socket) = (shared.clone(), upstreams.clone(), socket.clone());
        async move { handle(request, &shared, &upstreams, &socket).await }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(client), service)
        .await;
}

fn with_handle(client: TcpStream) -> std::io::Result<(TcpStream, std::net::TcpStream)> {
    let client = client.into_std()?;
    let handle = client.try_clone()?;
    Ok((TcpStream::from_std(client)?, handle))
}

async fn handle(
    request: Request<Incoming>,
    shared: &Shared,
    upstreams: &Upstreams,
    socket: &std::net::TcpStream,
) -> Answered {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(|_| Unanswered)?.to_bytes();
    let class = classify(&parts.method, &parts.uri, &parts.headers, &body);
    let counters = &shared.counters;
    counters.request(&class.service, &class.operation);
    let mut exchange = Exchange::request(&parts.method, &parts.uri, &class);
    if shared.rules.blackholed(&exchange) {
        return hang().await;
    }
    if let Some(outage) = shared.rules.outage(&class.region) {
        add(&counters.lost);
        return match outage {
            Outage::Refuse => {
                // SO_LINGER 0: the close sends RST, not FIN.
                let _ = socket2::SockRef::from(socket).set_linger(Some(Duration::ZERO));
                Err(Unanswered)
            }
            Outage::Blackhole => hang().await,
        };
    }
    let intercept = shared.rules.intercepted(&exchange, &body);
    if let Some(Intercept::Refuse {
        status,
        content_type,
        body,
    }) = intercept
    {
        add(&counters.refused);
        return Ok(faults::canned(status, content_type, "REFUSED", body));
    }
    let drop_answer = intercept == Some(Intercept::DropAnswer);
    let config = shared.config();
    let fault = shared.faults.lock().ok().and_then(|mut p| p.pick(&config));
    match fault.filter(|_| !drop_answer) {
        Some(Fault::Drop) => {
            add(&counters.dropped);
            return Err(Unanswered);
        }
        Some(fault) => {
            add(match fault {
                Fault::Throttle => &counters.throttled,
                Fault::ServiceUnavailable => &counters.unavailable,
                _ => &counters.internal_errors,
            });
            return Ok(faults::answer(fault, &class.service));
        }
        None => {}
    }
    let delay = config.delay(&class.operation);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let upstream = upstreams.of(&class.service);
    let key =
        (config.mode != Mode::Forward).then(|| Recordings::key(upstream, &parts, &class, &body));
    let recorded = match (&key, config.mode) {
        (Some(key), Mode::Replay) => shared.recordings.get(key),
        _ => None,
    };
    let answer = match recorded {
        Some(answer) => {
            add(&counters.replayed);
            answer
        }
        None => {
            add(&counters.forwarded);
            let answer = forward(upstream, &parts, &class, body)
                .await
                .map_err(|_| Unanswered)?;
            if let (Some(key), Mode::Record) = (key, config.mode) {
                shared.recordings.insert(key, answer.clone());
            }
            answer
        }
    };
    if drop_answer {
        add(&counters.answers_dropped);
        return Err(Unanswered);
    }
    exchange.status = answer.status.as_u16();
    let mut answer = answer;
    answer.body = shared.rules.rewritten(&exchange, answer.body);
    counters.answered(&class.service, &class.operation, started);
    Ok(answer.into_response(parts.method == Method::HEAD))
}

/// Never answers; the connection stays open until the client gives up.
async fn hang() -> Answered {
    std::future::pending().await
}
