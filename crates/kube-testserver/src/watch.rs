//! Watch: a chunked stream of `{"type": ..., "object": ...}` lines, fed by the
//! store's event history, until `timeoutSeconds` or server shutdown.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::catalog::ResourceType;
use crate::metadata_only;
use crate::routing::AppState;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::ApiError;
use crate::store::{Event, EventType};
use crate::table;

pub struct WatchRequest {
    pub ty: ResourceType,
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    /// None or 0: start with ADDED events for everything that exists now.
    pub resource_version: Option<u64>,
    pub timeout: Option<Duration>,
    pub table: bool,
    pub metadata_only: bool,
}

impl WatchRequest {
    fn wants(&self, event: &Event) -> bool {
        event.key.group == self.ty.group
            && event.key.plural == self.ty.plural
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| *ns == event.key.namespace)
            && self.labels.matches(&event.object)
            && self.fields.matches(&event.object)
    }

    fn line(&self, kind: &str, object: &Value) -> Bytes {
        let object = if self.table {
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            table::render(&self.ty, object, &now)
        } else if self.metadata_only && kind != "ERROR" {
            metadata_only::partial(object)
        } else {
            object.clone()
        };
        let mut line = json!({"type": kind, "object": object}).to_string();
        line.push('\n');
        Bytes::from(line)
    }
}

struct Stream {
    state: Arc<AppState>,
    request: WatchRequest,
    seen: u64,
    pending: VecDeque<Bytes>,
    changes: watch::Receiver<u64>,
    closing: watch::Receiver<bool>,
    deadline: Option<Instant>,
    finished: bool,
}

pub fn respond(state: Arc<AppState>, request: WatchRequest) -> Response {
    let store = state.store();
    let changes = store.subscribe();
    let mut pending = VecDeque::new();
    let mut finished = false;
    let seen = store.revision();
    match request.resource_version.filter(|rv| *rv != 0) {
        None => {
            for (key, object) in store.all() {
                let event = Event {
                    revision: seen,
                    kind: EventType::Added,
                    key: key.clone(),
                    object: object.clone(),
                };
                if request.wants(&event) {
                    pending.push_back(request.line("ADDED", object));
                }
            }
        }
        Some(rv) => match store.events_after(rv) {
            Some(events) => {
                for event in events.iter().filter(|e| request.wants(e)) {
                    pending.push_back(request.line(event.kind.as_str(), &event.object));
                }
            }
            None => {
                let gone = ApiError::gone(format!("too old resource version: {rv} ({seen})"));
                pending.push_back(request.line("ERROR", &gone.to_json()));
                finished = true;
            }
        },
    }
    drop(store);
    let stream = Stream {
        closing: state.closing.subscribe(),
        state,
        deadline: request.timeout.map(|t| Instant::now() + t),
        request,
        seen,
        pending,
        changes,
        finished,
    };
    let body = Body::from_stream(futures::stream::unfold(stream, next_chunk));
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

async fn next_chunk(mut s: Stream) -> Option<(Result<Bytes, std::convert::Infallible>, Stream)> {
    loop {
        if let Some(line) = s.pending.pop_front() {
            return Some((Ok(line), s));
        }
        if s.finished || *s.closing.borrow() {
            return None;
        }
        let deadline = s.deadline;
        let expired = async move {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = s.changes.changed() => if changed.is_err() { return None },
            _ = s.closing.changed() => return None,
            _ = expired => return None,
        }
        let store = s.state.store();
        let events = store.events_after(s.seen).unwrap_or_default();
        s.seen = store.revision();
        drop(store);
        for event in events.iter().filter(|e| s.request.wants(e)) {
            let line = s.request.line(event.kind.as_str(), &event.object);
            s.pending.push_back(line);
        }
    }
}
