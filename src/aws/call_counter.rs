//! Counts every HTTP request the SDK sends, per service.
//!
//! The count is taken in `read_before_transmit`, which runs once per attempt, so
//! retries count too: the number is what the account's API rate limits see.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::Service;

/// Shared totals; cheap to clone (one set of atomics behind an `Arc`).
#[derive(Clone, Debug, Default)]
pub struct ApiCallCounter {
    counts: Arc<[AtomicU64; Service::COUNT]>,
    /// Of those, the attempts after an operation's first (retries).
    retries: Arc<[AtomicU64; Service::COUNT]>,
}

impl ApiCallCounter {
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    pub fn get(&self, service: Service) -> u64 {
        self.counts[service as usize].load(Ordering::Relaxed)
    }

    /// The requests to `service` that were retries (a loaded server's slow answer,
    /// throttling): tests that budget requests per operation leave them out.
    pub fn retries(&self, service: Service) -> u64 {
        self.retries[service as usize].load(Ordering::Relaxed)
    }

    /// Services with at least one request, by name (`ec2`, `s3`, ...).
    pub fn by_service(&self) -> BTreeMap<&'static str, u64> {
        Service::ALL
            .iter()
            .map(|&s| (s.name(), self.get(s)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    pub(crate) fn interceptor(&self, service: Service) -> CountingInterceptor {
        CountingInterceptor {
            service,
            counter: self.clone(),
        }
    }
}

#[derive(Debug)]
pub(crate) struct CountingInterceptor {
    service: Service,
    counter: ApiCallCounter,
}

impl Intercept for CountingInterceptor {
    fn name(&self) -> &'static str {
        "DrplanApiCallCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.counter.counts[self.service as usize].fetch_add(1, Ordering::Relaxed);
        let attempt = cfg
            .load::<RequestAttempts>()
            .map(|a| a.attempts())
            .unwrap_or(1);
        if attempt > 1 {
            self.counter.retries[self.service as usize].fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}
