//! What every applier gets: the stack whose marks it writes, the clients, the ids
//! known so far, and how long to wait for slow objects.

use super::clients::Clients;
use super::outputs::Outputs;
use super::record_batch::RecordBatches;
use crate::aws::{RateLimiter, ROUTE53_REQUESTS_PER_SECOND};
use anyhow::{anyhow, Result};
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// One async lock per (zone, record name) for the ownership TXT read-merge-write.
type OwnerRecordLocks = HashMap<(String, String), Arc<tokio::sync::Mutex<()>>>;

/// How long to wait for an object to become ready (or gone) before failing its node.
#[derive(Clone, Debug)]
pub struct Timeouts {
    pub cluster: Duration,
    pub node_group: Duration,
    /// First delay between readiness polls; doubles up to `max_poll_interval`.
    pub first_poll_interval: Duration,
    pub max_poll_interval: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            cluster: Duration::from_secs(30 * 60),
            node_group: Duration::from_secs(20 * 60),
            first_poll_interval: Duration::from_secs(2),
            max_poll_interval: Duration::from_secs(30),
        }
    }
}

pub struct ApplyContext<'a> {
    pub stack: &'a str,
    pub clients: &'a dyn Clients,
    pub outputs: Outputs,
    pub timeouts: Timeouts,
    /// Ownership TXT records are shared by every record set of one name (failover
    /// primary + secondary), so their read-merge-write must not interleave: one lock
    /// per zone and name (one lock for all names made a DR flip of many names serial).
    dns_owner_records: std::sync::Mutex<OwnerRecordLocks>,
    /// Hosted zone ids by zone name, looked up once.
    pub zone_ids: tokio::sync::Mutex<HashMap<String, String>>,
    /// Kubernetes object changes go here.
    pub k8s: Option<&'a super::kubernetes::Clusters<'a>>,
    /// Record upserts wait here for their zone's next ChangeResourceRecordSets.
    pub records: RecordBatches,
    /// Every Route53 request of the apply takes a turn here: the account's 5 requests
    /// per second are shared by everyone, and exceeding them throttles all callers.
    pub route53_rate: RateLimiter,
    /// Changes another change waits for (`wait_for`): they count as applied once ready.
    pub awaited: std::collections::BTreeSet<drplan_core::address::Address>,
    /// Where write-ahead records of creates in flight go (the lock bucket), if anywhere.
    pub inflight: Option<drplan_core::model::environment::LockSettings>,
}

impl<'a> ApplyContext<'a> {
    /// Holds the ownership records of one DNS name while its guard lives.
    pub async fn lock_dns_owner_records(
        &self,
        zone: &str,
        name: &str,
    ) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self
                .dns_owner_records
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            locks
                .entry((zone.to_string(), name.trim_end_matches('.').to_string()))
                .or_default()
                .clone()
        };
        lock.lock_owned().await
    }

    pub fn new(
        stack: &'a str,
        clients: &'a dyn Clients,
        outputs: Outputs,
        timeouts: Timeouts,
    ) -> Self {
        ApplyContext {
            stack,
            clients,
            outputs,
            timeouts,
            dns_owner_records: std::sync::Mutex::new(HashMap::new()),
            zone_ids: tokio::sync::Mutex::new(HashMap::new()),
            k8s: None,
            records: RecordBatches::default(),
            route53_rate: RateLimiter::per_second(ROUTE53_REQUESTS_PER_SECOND),
            awaited: Default::default(),
            inflight: None,
        }
    }

    /// Waits until one more Route53 request fits in the rate.
    pub async fn route53_turn(&self) {
        self.route53_rate.wait().await;
    }
}

/// Turns an SDK error into one line a user can act on: operation, AWS error code and
/// message (the SDK's own Display is only "service error").
pub fn aws_error<E>(operation: &'static str) -> impl FnOnce(E) -> anyhow::Error
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    move |e| match (e.code(), e.message()) {
        (Some(code), Some(msg)) => anyhow!("{operation}: {code}: {msg}"),
        (Some(code), None) => anyhow!("{operation}: {code}"),
        _ => anyhow!("{operation}: {}", DisplayErrorContext(&e)),
    }
}

/// The AWS error code of an SDK error, to tell "not found" from real failures.
pub fn error_code<E: ProvideErrorMetadata>(e: &E) -> Option<&str> {
    e.code()
}

/// Polls `check` with exponential backoff until it reports `Some`, or fails after
/// `timeout` naming what it was waiting for.
pub async fn wait_for<T, F, Fut>(
    timeouts: &Timeouts,
    timeout: Duration,
    what: &str,
    mut check: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let start = tokio::time::Instant::now();
    let mut delay = timeouts.first_poll_interval;
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if start.elapsed() + delay > timeout {
            return Err(anyhow!(
                "timed out after {}s waiting for {what}",
                timeout.as_secs()
            ));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(timeouts.max_poll_interval);
    }
}

pub fn change_region(change: &drplan_core::plan::ResourceChange) -> Result<&str> {
    change
        .region
        .as_deref()
        .ok_or_else(|| anyhow!("{}: regional resource without a region", change.address))
}
