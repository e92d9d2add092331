//! What a proxy group saw: requests by outcome, by service and operation, and the
//! time from the first request of a service or operation to its last answer.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    /// Requests sent to the upstream.
    pub forwarded: AtomicU64,
    /// Requests answered from a recording ([`crate::Mode::Replay`]).
    pub replayed: AtomicU64,
    pub throttled: AtomicU64,
    pub unavailable: AtomicU64,
    pub internal_errors: AtomicU64,
    pub dropped: AtomicU64,
    /// Requests to a lost region, refused or left unanswered.
    pub lost: AtomicU64,
    /// Requests forwarded whose answer [`crate::Proxy::intercept`] dropped.
    pub answers_dropped: AtomicU64,
    /// Requests [`crate::Proxy::intercept`] refused.
    pub refused: AtomicU64,
    /// (service, operation) -> requests.
    operations: Mutex<BTreeMap<(String, String), u64>>,
    /// service or operation -> (first request received, last answer given).
    spans: Mutex<BTreeMap<String, (Instant, Instant)>>,
}

pub(crate) fn add(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::SeqCst);
}

impl Counters {
    /// Requests answered with a random fault.
    pub fn faults(&self) -> u64 {
        self.throttled.load(Ordering::SeqCst)
            + self.unavailable.load(Ordering::SeqCst)
            + self.internal_errors.load(Ordering::SeqCst)
            + self.dropped.load(Ordering::SeqCst)
    }

    pub(crate) fn request(&self, service: &str, operation: &str) {
        add(&self.requests);
        if let Ok(mut c) = self.operations.lock() {
            *c.entry((service.to_string(), operation.to_string()))
                .or_default() += 1;
        }
    }

    /// An answer to a request received at `started` is given now.
    pub(crate) fn answered(&self, service: &str, operation: &str, started: Instant) {
        if let Ok(mut spans) = self.spans.lock() {
            let now = Instant::now();
            for name in [service, operation] {
                let span = spans.entry(name.to_string()).or_insert((started, now));
                span.0 = span.0.min(started);
                span.1 = span.1.max(now);
            }
        }
    }

    /// Seconds from the first request of a service or operation to its last answer.
    pub fn span_seconds(&self, name: &str) -> f64 {
        self.spans
            .lock()
            .ok()
            .and_then(|s| s.get(name).map(|(a, b)| (*b - *a).as_secs_f64()))
            .unwrap_or(0.0)
    }

    /// Starts counting again from zero.
    pub fn reset(&self) {
        for counter in [
            &self.requests,
            &self.forwarded,
            &self.replayed,
            &self.throttled,
            &self.unavailable,
            &self.internal_errors,
            &self.dropped,
            &self.lost,
            &self.answers_dropped,
            &self.refused,
        ] {
            counter.store(0, Ordering::SeqCst);
        }
        if let Ok(mut c) = self.operations.lock() {
            c.clear();
        }
        if let Ok(mut s) = self.spans.lock() {
            s.clear();
        }
    }

    pub fn by_operation(&self) -> BTreeMap<(String, String), u64> {
        self.operations
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    pub fn by_service(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for ((service, _), n) in self.by_operation() {
            *out.entry(service).or_default() += n;
        }
        out
    }

    /// Requests counted by operation (all of them).
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
