//! What a test asks of chosen requests: intercept, hang, lose a region, rewrite.

use crate::classify::Classified;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// A request (status 0) or a request with its answer, as rules see it.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub method: String,
    /// Origin form: path and query (`/clusters/shop-dr`).
    pub target: String,
    /// From the SigV4 credential scope: `eks`, `s3`, `sts`...; `k8s` for a bearer
    /// token; empty when unsigned.
    pub service: String,
    pub region: String,
    /// As [`crate::classify`] names it.
    pub operation: String,
    /// The answer's status code; 0 before the answer.
    pub status: u16,
}

impl Exchange {
    pub(crate) fn request(method: &http::Method, uri: &http::Uri, class: &Classified) -> Self {
        Exchange {
            method: method.to_string(),
            target: uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
            service: class.service.clone(),
            region: class.region.clone(),
            operation: class.operation.clone(),
            status: 0,
        }
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// What [`crate::Proxy::intercept`] does with a chosen request.
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

/// How a lost region treats the requests signed for it ([`crate::Proxy::lose_region`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outage {
    /// Reset the connection once the request is read (TCP RST, no answer).
    Refuse,
    /// Keep the connection open and never answer, as a blackholed endpoint does.
    Blackhole,
}

pub(crate) type Interceptor = Arc<dyn Fn(&Exchange, &[u8]) -> Option<Intercept> + Send + Sync>;
pub(crate) type Matcher = Arc<dyn Fn(&Exchange) -> bool + Send + Sync>;
/// Edits an answer's body in place.
pub(crate) type Rewrite = Arc<dyn Fn(&Exchange, &mut Vec<u8>) + Send + Sync>;

#[derive(Default)]
pub(crate) struct Rules {
    outages: RwLock<HashMap<String, Outage>>,
    interceptors: RwLock<Vec<Interceptor>>,
    blackholes: RwLock<Vec<Matcher>>,
    rewrites: RwLock<Vec<Rewrite>>,
}

/// A copy of a rule list, so that no lock is held while rules run.
fn snapshot<T: Clone>(list: &RwLock<Vec<T>>) -> Vec<T> {
    list.read().map(|l| l.clone()).unwrap_or_default()
}

fn push<T>(list: &RwLock<Vec<T>>, item: T) {
    if let Ok(mut l) = list.write() {
        l.push(item);
    }
}

impl Rules {
    pub(crate) fn lose_region(&self, region: &str, outage: Outage) {
        if let Ok(mut outages) = self.outages.write() {
            outages.insert(region.to_string(), outage);
        }
    }

    pub(crate) fn restore_region(&self, region: &str) {
        if let Ok(mut outages) = self.outages.write() {
            outages.remove(region);
        }
    }

    pub(crate) fn outage(&self, region: &str) -> Option<Outage> {
        self.outages.read().ok()?.get(region).copied()
    }

    pub(crate) fn intercept(&self, choose: Interceptor) {
        push(&self.interceptors, choose);
    }

    /// What the interceptors want done with this request (the first that answers).
    pub(crate) fn intercepted(&self, request: &Exchange, body: &[u8]) -> Option<Intercept> {
        snapshot(&self.interceptors)
            .iter()
            .find_map(|choose| choose(request, body))
    }

    pub(crate) fn blackhole(&self, matches: Matcher) {
        push(&self.blackholes, matches);
    }

    pub(crate) fn blackholed(&self, request: &Exchange) -> bool {
        snapshot(&self.blackholes)
            .iter()
            .any(|matches| matches(request))
    }

    pub(crate) fn rewrite(&self, rewrite: Rewrite) {
        push(&self.rewrites, rewrite);
    }

    pub(crate) fn clear_rewrites(&self) {
        if let Ok(mut rewrites) = self.rewrites.write() {
            rewrites.clear();
        }
    }

    /// An answer's body after every rewrite.
    pub(crate) fn rewritten(&self, exchange: &Exchange, body: Bytes) -> Bytes {
        let rewrites = snapshot(&self.rewrites);
        if rewrites.is_empty() {
            return body;
        }
        let mut edited = body.to_vec();
        for rewrite in rewrites {
            rewrite(exchange, &mut edited);
        }
        Bytes::from(edited)
    }
}
