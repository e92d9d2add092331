//! What a proxy group does to the requests it forwards, and where it forwards them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Config {
    /// Seeds the fault generator: the same seed, the same faults in the same order.
    pub seed: u64,
    /// Share of requests (0.0..=1.0) answered with a fault instead of being forwarded.
    pub fault_rate: f64,
    /// Relative weights of the fault kinds, in the order of [`crate::Fault::ALL`].
    pub weights: [u32; 4],
    /// Added to every request answered by the upstream or from a recording, as if
    /// the server were that far away.
    pub latency: Duration,
    /// Added on top for these operations (`CreateCluster`, `k8s:apply`, ...: the
    /// names [`crate::classify`] gives).
    pub operations: HashMap<String, Duration>,
    pub mode: Mode,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 7,
            fault_rate: 0.0,
            weights: [4, 2, 2, 1],
            latency: Duration::ZERO,
            operations: HashMap::new(),
            mode: Mode::Forward,
        }
    }
}

impl Config {
    /// The delay before `operation` is answered.
    pub fn delay(&self, operation: &str) -> Duration {
        self.latency + self.operations.get(operation).copied().unwrap_or_default()
    }
}

/// Replay takes the emulator's throughput out of a read benchmark: a run in `Record`
/// keeps every answer, a later run of the same reads in `Replay` gets them from the
/// proxy after the configured delay, as from a server of unlimited capacity. A
/// request never recorded is forwarded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Forward,
    Record,
    Replay,
}

/// Where requests go: one upstream, or one per AWS service (the benchmark runs S3 on
/// its own emulator: on AWS, services are separate fleets).
#[derive(Clone, Debug)]
pub struct Upstreams {
    pub default: SocketAddr,
    pub by_service: HashMap<String, SocketAddr>,
}

impl Upstreams {
    pub fn one(addr: SocketAddr) -> Self {
        Upstreams {
            default: addr,
            by_service: HashMap::new(),
        }
    }

    pub fn of(&self, service: &str) -> SocketAddr {
        self.by_service
            .get(service)
            .copied()
            .unwrap_or(self.default)
    }
}
