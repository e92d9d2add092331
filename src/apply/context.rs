//! What every applier gets: the stack whose marks it writes, the clients, the ids
//! known so far, and how long to wait for slow objects.

use super::clients::Clients;
use super::dns_owner::{Route53Access, Route53Session};
use super::outputs::Outputs;
use super::record_batch::RecordBatches;
use crate::aws::ROUTE53_REQUESTS_PER_SECOND;
use anyhow::{anyhow, Result};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::future::Future;
use std::time::Duration;

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
    /// Route53 as the apply shares it: the account's request rate, the locks on
    /// ownership TXT records, zone ids looked up once.
    pub route53: Route53Session,
    /// Kubernetes object changes go here.
    pub k8s: Option<&'a super::kubernetes::Clusters<'a>>,
    /// Record upserts wait here for their zone's next ChangeResourceRecordSets.
    pub records: RecordBatches,
    /// Changes another change waits for (`wait_for`): they count as applied once ready.
    pub awaited: std::collections::BTreeSet<drplan_core::address::Address>,
    /// Where write-ahead records of creates in flight go (the lock bucket), if anywhere.
    pub inflight: Option<drplan_core::model::environment::LockSettings>,
}

impl<'a> ApplyContext<'a> {
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
            route53: Route53Session::new(ROUTE53_REQUESTS_PER_SECOND),
            k8s: None,
            records: RecordBatches::default(),
            awaited: Default::default(),
            inflight: None,
        }
    }

    /// The Route53 client with the apply's shared session.
    pub fn route53(&self) -> Route53Access<'_> {
        Route53Access {
            client: self.clients.route53(),
            session: &self.route53,
        }
    }
}

pub use crate::aws::error::aws_error;

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
