//! Client-side limits: how many requests may be in flight per service, and the
//! request rate for Route53 (5 requests per second per account, shared by every
//! caller; exceeding it throttles the whole account, not just drplan).

use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

use super::Service;

/// In-flight bounds per service. EC2 and EKS throttle per account and region with
/// token buckets of a few dozen; S3 has per-prefix limits far above what a plan needs
/// (5,500 reads/s per bucket prefix, and every bucket is its own). S3 is where a
/// plan's volume is (5 reads per bucket, no bulk read of bucket configuration): at
/// 50 ms per request, 128 in flight read 5,000 resources' 1,650 buckets in ~3.3 s;
/// 64 took twice that, which became the plan's bound once Route53 no longer was
/// (BENCHMARKS.md).
const MAX_IN_FLIGHT: [usize; Service::COUNT] = [
    16,  // ec2
    8,   // eks
    128, // s3
    4,   // route53 (the rate limiter below is the real bound)
    2,   // sts
    4,   // iam (GetRole per distinct role: a handful per plan)
    4,   // kms (DescribeKey per bucket key)
    // ecr: ECR's read APIs allow tens of requests per second per account and region
    // (DescribeRepositories, ListTagsForResource, GetLifecyclePolicy: 20-ish TPS);
    // a plan sends one ListTagsForResource per repository of the topology's regions.
    8, 8, // elasticache (ListTagsForResource per replication group; a handful per region)
];

pub const ROUTE53_REQUESTS_PER_SECOND: u32 = 5;

/// How many requests to `service` may be in flight at once (benchmarks compute the
/// concurrency bound of a read from it).
pub fn max_in_flight(service: Service) -> usize {
    MAX_IN_FLIGHT[service as usize]
}

#[derive(Debug)]
pub struct ServiceLimits {
    in_flight: Vec<Semaphore>,
    route53_rate: RateLimiter,
}

/// Held for the duration of one request.
pub struct ServicePermit<'a> {
    _permit: SemaphorePermit<'a>,
}

impl ServiceLimits {
    pub fn new(route53_per_second: u32) -> Self {
        ServiceLimits {
            in_flight: MAX_IN_FLIGHT.iter().map(|&n| Semaphore::new(n)).collect(),
            route53_rate: RateLimiter::per_second(route53_per_second),
        }
    }

    pub async fn acquire(&self, service: Service) -> ServicePermit<'_> {
        // The semaphores are never closed, so acquire cannot fail; fall back to an
        // unbounded request rather than a panic should that ever change.
        let permit = loop {
            if let Ok(p) = self.in_flight[service as usize].acquire().await {
                break p;
            }
            tokio::task::yield_now().await;
        };
        if service == Service::Route53 {
            self.route53_rate.wait().await;
        }
        ServicePermit { _permit: permit }
    }
}

/// Evenly spaced requests (GCRA without burst): the n-th caller is scheduled
/// `n * interval` after the previous one, so no one-second window ever holds more
/// than the allowed number of requests.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next_slot: Mutex<Option<Instant>>,
}

impl RateLimiter {
    pub fn per_second(n: u32) -> Self {
        RateLimiter {
            interval: Duration::from_secs(1) / n.max(1),
            next_slot: Mutex::new(None),
        }
    }

    pub async fn wait(&self) {
        let slot = {
            let now = Instant::now();
            let mut next = match self.next_slot.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real time (tokio's paused clock needs its test-util feature, which would rebuild
    // every SDK crate): at 50 per second, 11 requests take 10 intervals of 20 ms.
    #[tokio::test]
    async fn requests_are_spaced_evenly_at_the_allowed_rate() {
        let limiter = RateLimiter::per_second(50);
        let start = Instant::now();
        for _ in 0..11 {
            limiter.wait().await;
        }
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    }

    #[tokio::test]
    async fn route53_is_held_to_five_requests_per_second() {
        let limits = ServiceLimits::new(ROUTE53_REQUESTS_PER_SECOND);
        let start = Instant::now();
        for _ in 0..6 {
            let _permit = limits.acquire(Service::Route53).await;
        }
        // The sixth request waits for the next second.
        assert!(
            start.elapsed() >= Duration::from_millis(1000),
            "{:?}",
            start.elapsed()
        );
        let start = Instant::now();
        for _ in 0..6 {
            let _permit = limits.acquire(Service::Ec2).await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(100),
            "EC2 has no rate limit"
        );
    }
}
