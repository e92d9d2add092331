//! Sending a request to its upstream, and the answers recorded for replay.

use crate::classify::Classified;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use tokio::net::TcpStream;

/// An upstream answer, read whole.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Headers of one connection, not of the message: never passed on. The body was
/// read whole, so its length is set again for the next hop.
const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    HeaderName::from_static("proxy-connection"),
    HeaderName::from_static("keep-alive"),
    header::TRANSFER_ENCODING,
    header::TE,
    header::EXPECT,
];

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
}

impl Answer {
    /// The answer to the client; an answer to HEAD keeps its own Content-Length.
    pub(crate) fn into_response(mut self, to_head: bool) -> Response<Full<Bytes>> {
        strip_hop_by_hop(&mut self.headers);
        if !to_head {
            self.headers.remove(header::CONTENT_LENGTH);
        }
        let mut response = Response::new(Full::new(self.body));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}

/// Forwards one request on a connection of its own (closed after the answer), in
/// origin form. A presigned request gets an `Authorization` header naming its scope:
/// moto routes by that header only.
pub(crate) async fn forward(
    upstream: SocketAddr,
    parts: &http::request::Parts,
    class: &Classified,
    body: Bytes,
) -> Result<Answer, Box<dyn std::error::Error + Send + Sync>> {
    let stream = TcpStream::connect(upstream).await?;
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut request = Request::new(Full::new(body.clone()));
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = target.parse()?;
    *request.version_mut() = Version::HTTP_11;
    let headers = request.headers_mut();
    *headers = parts.headers.clone();
    let chunked = headers.contains_key(header::TRANSFER_ENCODING);
    strip_hop_by_hop(headers);
    if chunked {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    if let Some(credential) = &class.presigned {
        let value = format!(
            "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=presigned"
        );
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(&value)?);
    }
    let (answer, body) = sender.send_request(request).await?.into_parts();
    Ok(Answer {
        status: answer.status,
        headers: answer.headers,
        body: body.collect().await?.to_bytes(),
    })
}

/// Answers recorded in [`crate::Mode::Record`], by upstream, scope, request line and
/// body.
#[derive(Default)]
pub(crate) struct Recordings(Mutex<HashMap<Vec<u8>, Answer>>);

impl Recordings {
    pub(crate) fn key(
        upstream: SocketAddr,
        parts: &http::request::Parts,
        class: &Classified,
        body: &[u8],
    ) -> Vec<u8> {
        let mut key = format!(
            "{upstream} {}/{} {} {}\n",
            class.region, class.service, parts.method, parts.uri
        )
        .into_bytes();
        key.extend_from_slice(body);
        key
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<Answer> {
        self.0.lock().ok()?.get(key).cloned()
    }

    pub(crate) fn insert(&self, key: Vec<u8>, answer: Answer) {
        if let Ok(mut answers) = self.0.lock() {
            answers.insert(key, answer);
        }
    }
}
