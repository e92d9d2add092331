//! One HTTP proxy for drplan's tests and benchmarks, on hyper 1: it sits on
//! 127.0.0.1:0 in front of moto or a Kubernetes test server and can
//! - delay every request ([`Config::latency`]) and chosen operations longer
//!   ([`Config::operations`]: how long AWS takes to create a VPC, a cluster...);
//! - answer a seeded share of requests as a struggling AWS would ([`Fault`]: throttling
//!   in each service's own wire format, 500, 503, a dropped connection), so a test sees
//!   the same faults on every run;
//! - intercept chosen requests ([`Proxy::intercept`]: forward and lose the answer, or
//!   refuse without forwarding), hang on them ([`Proxy::blackhole`]), or take a whole
//!   region down ([`Proxy::lose_region`]: refuse or blackhole every request signed for
//!   it);
//! - edit chosen answers ([`Proxy::rewrite_responses`]);
//! - record answers and replay them ([`Mode`]), as from a server of unlimited capacity;
//! - route each request to the upstream of the service it is signed for
//!   ([`Upstreams`]);
//! - count requests by outcome, service and operation, with time spans ([`Counters`]).
//!
//! Every request is read whole and classified once ([`classify`]: service and region
//! from the SigV4 credential scope, operation from the AWS API or the Kubernetes verb).
//! Presigned requests (credentials in the query, no `Authorization` header, as an EKS
//! token's STS call) reach the upstream with an `Authorization` header naming their
//! scope: moto picks the service from that header only (it checks no signatures).
//!
//! Listeners of one [`Shared`] group (the benchmark's moto and Kubernetes proxies)
//! share configuration, rules, counters and recordings. Requests in absolute form
//! (used as a forward proxy) are accepted as well. Client connections are kept alive;
//! each forwarded request opens its own upstream connection.

mod classify;
mod config;
mod counters;
mod faults;
mod forward;
mod rules;
mod serve;
#[cfg(test)]
mod tests;

pub use classify::{classify, Classified};
pub use config::{Config, Mode, Upstreams};
pub use counters::Counters;
pub use faults::Fault;
pub use rules::{Exchange, Intercept, Outage};

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use tokio::net::TcpListener;

/// What the listeners of one group share: configuration, rules, counters, recordings.
pub struct Shared {
    config: RwLock<Config>,
    faults: Mutex<faults::Picker>,
    rules: rules::Rules,
    recordings: forward::Recordings,
    pub counters: Arc<Counters>,
}

impl Shared {
    pub fn new(config: Config) -> Arc<Shared> {
        Arc::new(Shared {
            faults: Mutex::new(faults::Picker::new(config.seed)),
            config: RwLock::new(config),
            rules: rules::Rules::default(),
            recordings: forward::Recordings::default(),
            counters: Arc::default(),
        })
    }

    /// Replaces the configuration (the fault sequence starts again from its seed).
    pub fn configure(&self, config: Config) {
        if let Ok(mut picker) = self.faults.lock() {
            *picker = faults::Picker::new(config.seed);
        }
        if let Ok(mut current) = self.config.write() {
            *current = config;
        }
    }

    fn config(&self) -> Config {
        self.config.read().map(|c| c.clone()).unwrap_or_default()
    }
}

/// One listener. Dropping it stops accepting connections.
pub struct Proxy {
    pub addr: SocketAddr,
    pub counters: Arc<Counters>,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// A proxy of its own group in front of `upstream`.
    pub async fn start(upstream: SocketAddr, config: Config) -> std::io::Result<Proxy> {
        Proxy::join(Upstreams::one(upstream), &Shared::new(config)).await
    }

    /// A listener in front of `upstreams` in the group `shared`.
    pub async fn join(upstreams: Upstreams, shared: &Arc<Shared>) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let upstreams = Arc::new(upstreams);
        let task = {
            let shared = shared.clone();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    tokio::spawn(serve::connection(client, shared.clone(), upstreams.clone()));
                }
            })
        };
        Ok(Proxy {
            addr,
            counters: shared.counters.clone(),
            shared: shared.clone(),
            task,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The region goes down: from now on every request whose SigV4 credential scope
    /// (the `Authorization` header, or a presigned URL's `X-Amz-Credential`) names
    /// `region` is refused or blackholed. Other regions, and global services signed
    /// for another region, go on answering. Counted in `lost`.
    pub fn lose_region(&self, region: &str, outage: Outage) {
        self.shared.rules.lose_region(region, outage);
    }

    /// The region answers again.
    pub fn restore_region(&self, region: &str) {
        self.shared.rules.restore_region(region);
    }

    /// From now on, `choose` sees every request (status 0) and its body before any
    /// fault and may lose its answer after forwarding it, or refuse it
    /// ([`Intercept`]); the first interceptor that answers decides. Counted in
    /// `answers_dropped` / `refused`.
    pub fn intercept(
        &self,
        choose: impl Fn(&Exchange, &[u8]) -> Option<Intercept> + Send + Sync + 'static,
    ) {
        self.shared.rules.intercept(Arc::new(choose));
    }

    /// The next request `matches` selects reaches the upstream, but its answer is lost.
    pub fn lose_answer_once(&self, matches: impl Fn(&Exchange) -> bool + Send + Sync + 'static) {
        let used = std::sync::atomic::AtomicBool::new(false);
        self.intercept(move |x, _| {
            (matches(x) && !used.swap(true, std::sync::atomic::Ordering::SeqCst))
                .then_some(Intercept::DropAnswer)
        });
    }

    /// From now on, requests `matches` selects (status 0: no answer yet) are accepted
    /// and never answered, nor forwarded: an endpoint that hangs.
    pub fn blackhole(&self, matches: impl Fn(&Exchange) -> bool + Send + Sync + 'static) {
        self.shared.rules.blackhole(Arc::new(matches));
    }

    /// Runs `rewrite` on the body of every forwarded or replayed answer from now on
    /// (faults and refusals are not rewritten); `rewrite` decides from the
    /// [`Exchange`] which answers it edits. Content-Length follows.
    pub fn rewrite_responses(
        &self,
        rewrite: impl Fn(&Exchange, &mut Vec<u8>) + Send + Sync + 'static,
    ) {
        self.shared.rules.rewrite(Arc::new(rewrite));
    }

    /// Forgets every rewrite: answers pass through as the upstream gives them.
    pub fn clear_rewrites(&self) {
        self.shared.rules.clear_rewrites();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
