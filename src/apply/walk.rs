//! A generic concurrent walk over a dependency graph: each node's operation starts the
//! moment every node it depends on has succeeded, under a global bound and a bound per
//! service. A failure skips only what depends on it: independent branches run on.
//! A [`Stop`] stops new starts, and later abandons what is in flight.
//!
//! **Architecture invariant:** this module knows nothing about AWS, plans or
//! resources. Keys, services and operations are supplied by the caller; deletes are
//! walked in reverse dependency order simply because the caller builds reversed edges.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::stop::Stop;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::Semaphore;

/// One unit of work and the keys it waits for.
#[derive(Clone, Debug)]
pub struct Node<K> {
    pub key: K,
    /// Nodes sharing a service share that service's concurrency bound.
    pub service: String,
    pub deps: Vec<K>,
}

#[derive(Clone, Debug)]
pub struct Limits {
    /// At most this many operations in flight overall (`--parallelism`).
    pub parallelism: usize,
    /// At most this many in flight per service; services not listed share only the
    /// global bound.
    pub per_service: HashMap<String, usize>,
    /// Services whose nodes take no global slot (they mostly wait on each other).
    pub outside_global: std::collections::HashSet<String>,
}

impl Limits {
    pub fn new(parallelism: usize) -> Self {
        Limits {
            parallelism: parallelism.max(1),
            per_service: HashMap::new(),
            outside_global: Default::default(),
        }
    }

    pub fn with_service_outside_global(mut self, service: &str, bound: usize) -> Self {
        self.outside_global.insert(service.to_string());
        self.with_service(service, bound)
    }

    pub fn with_service(mut self, service: &str, bound: usize) -> Self {
        self.per_service.insert(service.to_string(), bound.max(1));
        self
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<K, E> {
    Done,
    Failed(E),
    /// Ready or waiting, but the walk was stopped before it began.
    NotStarted,
    /// Never ready because `because` failed: the failed node at the root of the
    /// chain of dependencies that kept it from running.
    Skipped {
        because: K,
    },
    /// In flight when the walk was abandoned: it may or may not have taken effect.
    Interrupted,
}

#[derive(Clone, Debug)]
pub struct NodeResult<K, E> {
    pub outcome: Outcome<K, E>,
    /// Wall time of the operation, for nodes that ran.
    pub elapsed: Option<Duration>,
}

/// The graph cannot be walked at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphError {
    UnknownDependency { node: String, dependency: String },
    Cycle { nodes: Vec<String> },
    DuplicateKey(String),
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GraphError::UnknownDependency { node, dependency } => {
                write!(
                    f,
                    "{node} depends on {dependency}, which is not in the graph"
                )
            }
            GraphError::Cycle { nodes } => {
                write!(f, "dependency cycle among: {}", nodes.join(", "))
            }
            GraphError::DuplicateKey(k) => write!(f, "{k} appears twice in the graph"),
        }
    }
}

impl std::error::Error for GraphError {}

/// Runs `op` for every node, dependencies first. A failed node's dependents are
/// skipped; everything that does not depend on it still runs. Every node gets a result.
pub async fn walk<K, E, F, Fut>(
    nodes: Vec<Node<K>>,
    limits: &Limits,
    op: F,
) -> Result<BTreeMap<K, NodeResult<K, E>>, GraphError>
where
    K: Clone + Ord + Hash + fmt::Display,
    F: Fn(K) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    walk_until(nodes, limits, &Stop::new(), op).await
}

/// [`walk`], obeying `stop`: once it is stopping no new operation starts (those in
/// flight run on); once it is abandoned the walk returns at once, and what was in
/// flight is [`Outcome::Interrupted`].
pub async fn walk_until<K, E, F, Fut>(
    nodes: Vec<Node<K>>,
    limits: &Limits,
    stop: &Stop,
    op: F,
) -> Result<BTreeMap<K, NodeResult<K, E>>, GraphError>
where
    K: Clone + Ord + Hash + fmt::Display,
    F: Fn(K) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let index: HashMap<K, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.key.clone(), i))
        .collect();
    if index.len() != nodes.len() {
        let mut seen = HashMap::new();
        for n in &nodes {
            if seen.insert(n.key.clone(), ()).is_some() {
                return Err(GraphError::DuplicateKey(n.key.to_string()));
            }
        }
    }
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    let mut waiting: Vec<usize> = vec![0; nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        for d in &n.deps {
            let Some(&j) = index.get(d) else {
                return Err(GraphError::UnknownDependency {
                    node: n.key.to_string(),
                    dependency: d.to_string(),
                });
            };
            dependents[j].push(i);
            waiting[i] += 1;
        }
    }
    check_acyclic(&nodes, &dependents, &waiting)?;

    let global = Arc::new(Semaphore::new(limits.parallelism.max(1)));
    let services: HashMap<&str, Arc<Semaphore>> = limits
        .per_service
        .iter()
        .map(|(s, n)| (s.as_str(), Arc::new(Semaphore::new((*n).max(1)))))
        .collect();
    let started: Arc<Vec<AtomicBool>> =
        Arc::new((0..nodes.len()).map(|_| AtomicBool::new(false)).collect());

    let mut results: Vec<Option<NodeResult<K, E>>> = (0..nodes.len()).map(|_| None).collect();
    let mut in_flight = FuturesUnordered::new();
    let launch = |i: usize| {
        let node = &nodes[i];
        let global = (!limits.outside_global.contains(&node.service)).then(|| global.clone());
        let service = services.get(node.service.as_str()).cloned();
        let stop = stop.clone();
        let started = started.clone();
        let fut = op(node.key.clone());
        async move {
            // Service first: a node waiting for its service must not hold a global
            // slot that an unrelated service could use.
            let _service_permit = match &service {
                Some(s) => s.acquire().await.ok(),
                None => None,
            };
            let _global_permit = match &global {
                Some(g) => g.acquire().await.ok(),
                None => None,
            };
            if stop.is_stopping() {
                return (i, None);
            }
            started[i].store(true, Ordering::SeqCst);
            let start = Instant::now();
            let result = fut.await;
            (i, Some((result, start.elapsed())))
        }
    };
    for (i, _) in waiting.iter().enumerate().filter(|(_, w)| **w == 0) {
        in_flight.push(launch(i));
    }
    loop {
        let next = tokio::select! {
            biased;
            next = in_flight.next() => next,
            _ = stop.abandoned() => break,
        };
        let Some((i, ran)) = next else { break };
        match ran {
            None => {
                results[i] = Some(NodeResult {
                    outcome: Outcome::NotStarted,
                    elapsed: None,
                })
            }
            Some((Ok(()), elapsed)) => {
                results[i] = Some(NodeResult {
                    outcome: Outcome::Done,
                    elapsed: Some(elapsed),
                });
                if !stop.is_stopping() {
                    for &d in &dependents[i] {
                        waiting[d] -= 1;
                        if waiting[d] == 0 {
                            in_flight.push(launch(d));
                        }
                    }
                }
            }
            // Its dependents are never launched; the pass below skips them.
            Some((Err(e), elapsed)) => {
                results[i] = Some(NodeResult {
                    outcome: Outcome::Failed(e),
                    elapsed: Some(elapsed),
                });
            }
        }
    }
    drop(in_flight);

    // Abandoned: what had begun may have taken effect.
    for (i, r) in results.iter_mut().enumerate() {
        if r.is_none() && started[i].load(Ordering::SeqCst) {
            *r = Some(NodeResult {
                outcome: Outcome::Interrupted,
                elapsed: None,
            });
        }
    }
    // Whatever never ran is skipped when a dependency failed (or was skipped for a
    // failure: the root failure is named), otherwise it was stopped before it began.
    // Nodes are visited in dependency order so a skip propagates down a chain.
    let order = topological_order(&dependents, &nodes);
    for i in order {
        if results[i].is_some() {
            continue;
        }
        let failed_root = nodes[i].deps.iter().find_map(|d| {
            match results[index[d]].as_ref().map(|r| &r.outcome) {
                Some(Outcome::Failed(_)) => Some(d.clone()),
                Some(Outcome::Skipped { because }) => Some(because.clone()),
                _ => None,
            }
        });
        let outcome = match failed_root {
            Some(root) => Outcome::Skipped { because: root },
            None => Outcome::NotStarted,
        };
        results[i] = Some(NodeResult {
            outcome,
            elapsed: None,
        });
    }

    Ok(nodes
        .into_iter()
        .zip(results)
        .map(|(n, r)| {
            (
                n.key,
                r.unwrap_or(NodeResult {
                    outcome: Outcome::NotStarted,
                    elapsed: None,
                }),
            )
        })
        .collect())
}

fn check_acyclic<K: fmt::Display>(
    nodes: &[Node<K>],
    dependents: &[Vec<usize>],
    waiting: &[usize],
) -> Result<(), GraphError> {
    let mut waiting = waiting.to_vec();
    let mut ready: Vec<usize> = (0..nodes.len()).filter(|&i| waiting[i] == 0).collect();
    let mut visited = 0;
    while let Some(i) = ready.pop() {
        visited += 1;
        for &d in &dependents[i] {
            waiting[d] -= 1;
            if waiting[d] == 0 {
                ready.push(d);
            }
        }
    }
    if visited == nodes.len() {
        return Ok(());
    }
    let mut stuck: Vec<String> = (0..nodes.len())
        .filter(|&i| waiting[i] > 0)
        .map(|i| nodes[i].key.to_string())
        .collect();
    stuck.sort();
    Err(GraphError::Cycle { nodes: stuck })
}

fn topological_order<K>(dependents: &[Vec<usize>], nodes: &[Node<K>]) -> Vec<usize> {
    let mut waiting = vec![0usize; nodes.len()];
    for ds in dependents {
        for &d in ds {
            waiting[d] += 1;
        }
    }
    let mut ready: Vec<usize> = (0..nodes.len()).filter(|&i| waiting[i] == 0).collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(i) = ready.pop() {
        order.push(i);
        for &d in &dependents[i] {
            waiting[d] -= 1;
            if waiting[d] == 0 {
                ready.push(d);
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Mutex;

    fn node(key: &str, service: &str, deps: &[&str]) -> Node<String> {
        Node {
            key: key.to_string(),
            service: service.to_string(),
            deps: deps.iter().map(|d| d.to_string()).collect(),
        }
    }

    fn outcomes(
        r: &BTreeMap<String, NodeResult<String, String>>,
    ) -> Vec<(String, Outcome<String, String>)> {
        r.iter()
            .map(|(k, v)| (k.clone(), v.outcome.clone()))
            .collect()
    }

    #[tokio::test]
    async fn dependencies_finish_before_dependents_start() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let nodes = vec![
            node("subnet", "ec2", &["vpc"]),
            node("cluster", "eks", &["subnet"]),
            node("vpc", "ec2", &[]),
        ];
        let r = walk(nodes, &Limits::new(10), |k: String| {
            let log = log.clone();
            async move {
                log.lock()
                    .map_err(|e| e.to_string())?
                    .push(format!("start {k}"));
                tokio::time::sleep(Duration::from_millis(5)).await;
                log.lock()
                    .map_err(|e| e.to_string())?
                    .push(format!("end {k}"));
                Ok::<(), String>(())
            }
        })
        .await
        .expect("walkable");
        assert!(r.values().all(|v| v.outcome == Outcome::Done));
        let log = log.lock().expect("log").clone();
        assert_eq!(
            log,
            [
                "start vpc",
                "end vpc",
                "start subnet",
                "end subnet",
                "start cluster",
                "end cluster"
            ]
        );
    }

    #[tokio::test]
    async fn wall_time_is_the_critical_path_not_the_sum() {
        // Two chains: a(100) -> b(100) -> c(100) = 300ms, and d..h of 50ms each in parallel.
        let mut nodes = vec![
            node("a", "s", &[]),
            node("b", "s", &["a"]),
            node("c", "s", &["b"]),
        ];
        for k in ["d", "e", "f", "g", "h"] {
            nodes.push(node(k, "s", &[]));
        }
        let start = Instant::now();
        let r = walk(nodes, &Limits::new(10), |k: String| async move {
            let ms = if "abc".contains(k.as_str()) { 100 } else { 50 };
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok::<(), String>(())
        })
        .await
        .expect("walkable");
        let wall = start.elapsed();
        assert!(r.values().all(|v| v.outcome == Outcome::Done));
        // The sum is 550ms; allow scheduling noise on a busy machine but not serialisation.
        assert!(
            wall >= Duration::from_millis(300) && wall < Duration::from_millis(450),
            "wall {wall:?}"
        );
    }

    #[tokio::test]
    async fn global_and_per_service_bounds_are_honoured() {
        let nodes: Vec<_> = (0..12)
            .map(|i| {
                node(
                    &format!("n{i:02}"),
                    if i % 2 == 0 { "route53" } else { "ec2" },
                    &[],
                )
            })
            .collect();
        let global_now = Arc::new(AtomicUsize::new(0));
        let global_max = Arc::new(AtomicUsize::new(0));
        let r53_now = Arc::new(AtomicUsize::new(0));
        let r53_max = Arc::new(AtomicUsize::new(0));
        let limits = Limits::new(4).with_service("route53", 1);
        let start = Instant::now();
        walk(nodes, &limits, |k: String| {
            let (gn, gm, rn, rm) = (
                global_now.clone(),
                global_max.clone(),
                r53_now.clone(),
                r53_max.clone(),
            );
            async move {
                let is_r53 = k[1..].parse::<usize>().map(|i| i % 2 == 0).unwrap_or(false);
                gm.fetch_max(gn.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                if is_r53 {
                    rm.fetch_max(rn.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                if is_r53 {
                    rn.fetch_sub(1, Ordering::SeqCst);
                }
                gn.fetch_sub(1, Ordering::SeqCst);
                Ok::<(), String>(())
            }
        })
        .await
        .expect("walkable");
        assert_eq!(r53_max.load(Ordering::SeqCst), 1);
        assert!(global_max.load(Ordering::SeqCst) <= 4);
        assert!(
            global_max.load(Ordering::SeqCst) >= 2,
            "ec2 nodes run alongside route53"
        );
        // Six route53 nodes one at a time bound the walk: 60ms, not 12*10/4 = 30ms.
        assert!(start.elapsed() >= Duration::from_millis(60));
    }

    #[tokio::test]
    async fn a_failure_skips_only_its_dependents_and_independent_branches_finish() {
        // `bad` fails at 10ms. Only what depends on it is skipped: `slow`'s dependent
        // becomes ready after the failure and still runs, as do both queued `q` nodes
        // (the DNS flip of a DR activation is such an independent branch).
        let nodes = vec![
            node("bad", "s", &[]),
            node("slow", "s", &[]),
            node("after_bad", "s", &["bad"]),
            node("after_both", "s", &["bad", "slow"]),
            node("after_slow", "s", &["slow"]),
            node("queued", "q", &[]),
            node("runs_first", "q", &[]),
        ];
        let limits = Limits::new(10).with_service("q", 1);
        let r = walk(nodes, &limits, |k: String| async move {
            match k.as_str() {
                "bad" => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    Err(format!("{k}: AccessDenied"))
                }
                "slow" | "runs_first" | "queued" => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok(())
                }
                _ => Ok(()),
            }
        })
        .await
        .expect("walkable");
        let o = outcomes(&r);
        let get = |k: &str| o.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(
            get("bad"),
            Some(Outcome::Failed("bad: AccessDenied".into()))
        );
        assert_eq!(get("slow"), Some(Outcome::Done));
        assert_eq!(
            get("after_bad"),
            Some(Outcome::Skipped {
                because: "bad".into()
            })
        );
        assert_eq!(
            get("after_both"),
            Some(Outcome::Skipped {
                because: "bad".into()
            })
        );
        assert_eq!(get("after_slow"), Some(Outcome::Done));
        assert_eq!(get("queued"), Some(Outcome::Done));
        assert_eq!(get("runs_first"), Some(Outcome::Done));
        assert!(r["bad"].elapsed.is_some() && r["after_bad"].elapsed.is_none());
    }

    #[tokio::test]
    async fn skips_name_the_failure_at_the_root_of_a_chain() {
        let nodes = vec![
            node("a", "s", &[]),
            node("b", "s", &["a"]),
            node("c", "s", &["b"]),
            node("other", "s", &[]),
        ];
        let r = walk(nodes, &Limits::new(2), |k: String| async move {
            if k == "a" {
                Err("boom".to_string())
            } else {
                Ok(())
            }
        })
        .await
        .expect("walkable");
        assert_eq!(
            r["b"].outcome,
            Outcome::Skipped {
                because: "a".into()
            }
        );
        assert_eq!(
            r["c"].outcome,
            Outcome::Skipped {
                because: "a".into()
            }
        );
        assert_eq!(r["other"].outcome, Outcome::Done);
    }

    #[tokio::test]
    async fn a_stop_starts_nothing_new_and_lets_in_flight_work_finish() {
        // `slow` is in flight when the stop comes at 10ms: it finishes; its dependent
        // and the queued node never start.
        let stop = Stop::new();
        let nodes = vec![
            node("slow", "q", &[]),
            node("queued", "q", &[]),
            node("after_slow", "s", &["slow"]),
        ];
        let limits = Limits::new(10).with_service("q", 1);
        let stopper = {
            let stop = stop.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                stop.request("SIGTERM", Duration::from_secs(60));
            }
        };
        let run = walk_until(nodes, &limits, &stop, |k: String| async move {
            tokio::time::sleep(Duration::from_millis(if k == "slow" || k == "queued" {
                50
            } else {
                1
            }))
            .await;
            Ok::<(), String>(())
        });
        let (r, ()) = tokio::join!(run, stopper);
        let r = r.expect("walkable");
        let ran: Vec<_> = ["slow", "queued"]
            .iter()
            .map(|k| r[*k].outcome.clone())
            .collect();
        assert!(
            ran.contains(&Outcome::Done) && ran.contains(&Outcome::NotStarted),
            "{ran:?}"
        );
        assert_eq!(r["after_slow"].outcome, Outcome::NotStarted);
    }

    #[tokio::test]
    async fn an_abandoned_walk_returns_at_once_and_marks_in_flight_work_interrupted() {
        let stop = Stop::new();
        let nodes = vec![
            node("hangs", "s", &[]),
            node("after", "s", &["hangs"]),
            node("quick", "s", &[]),
        ];
        let stopper = {
            let stop = stop.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                stop.request("SIGINT", Duration::from_millis(30));
            }
        };
        let started = Instant::now();
        let limits = Limits::new(4);
        let run = walk_until(nodes, &limits, &stop, |k: String| async move {
            if k == "hangs" {
                std::future::pending::<()>().await;
            }
            Ok::<(), String>(())
        });
        let (r, ()) = tokio::join!(run, stopper);
        let r = r.expect("walkable");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(r["hangs"].outcome, Outcome::Interrupted);
        assert_eq!(r["after"].outcome, Outcome::NotStarted);
        assert_eq!(r["quick"].outcome, Outcome::Done);
    }

    #[tokio::test]
    async fn reversed_edges_walk_deletes_dependents_first() {
        // Deleting vpc <- subnet <- cluster: the caller reverses the edges.
        let log = Arc::new(Mutex::new(Vec::new()));
        let nodes = vec![
            node("vpc", "ec2", &["subnet"]),
            node("subnet", "ec2", &["cluster"]),
            node("cluster", "eks", &[]),
        ];
        walk(nodes, &Limits::new(4), |k: String| {
            let log = log.clone();
            async move {
                log.lock().map_err(|e| e.to_string())?.push(k);
                Ok::<(), String>(())
            }
        })
        .await
        .expect("walkable");
        assert_eq!(*log.lock().expect("log"), ["cluster", "subnet", "vpc"]);
    }

    #[tokio::test]
    async fn cycles_and_unknown_dependencies_are_refused_before_anything_runs() {
        let ran = Arc::new(AtomicUsize::new(0));
        let op = |_k: String| {
            let ran = ran.clone();
            async move {
                ran.fetch_add(1, Ordering::SeqCst);
                Ok::<(), String>(())
            }
        };
        let cyclic = vec![
            node("a", "s", &["b"]),
            node("b", "s", &["a"]),
            node("c", "s", &[]),
        ];
        let err = walk(cyclic, &Limits::new(2), op).await.err();
        assert_eq!(
            err,
            Some(GraphError::Cycle {
                nodes: vec!["a".into(), "b".into()]
            })
        );
        let dangling = vec![node("a", "s", &["ghost"])];
        let err = walk(dangling, &Limits::new(2), op).await.err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some("a depends on ghost, which is not in the graph".into())
        );
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }
}
