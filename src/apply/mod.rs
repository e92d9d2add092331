//! Apply: execute a [`Plan`] against AWS.
//!
//! The plan's changes become steps of a dependency graph (`steps`), walked
//! concurrently by the generic executor (`walk`); each step calls the applier of its
//! resource family (`network`, `eks`, `s3`, `route53`). What happened is collected in
//! an [`report::ApplyReport`].
//!
//! **Architecture invariant:** apply executes the plan it is given; it never re-plans.
//! The only cloud reads it does are the ones needed to act safely: finding a
//! half-created object carrying this address's mark (adoption), resolving ids of
//! referenced objects, and waiting for readiness.

pub mod adopt;
pub mod attrs;
pub mod clients;
pub mod context;
pub mod dns_owner;
pub mod ecr;
pub mod eks;
pub mod elasticache;
pub mod family;
pub mod idempotency;
pub mod kms;
pub mod kubernetes;
pub mod network;
pub mod outputs;
pub mod peering;
pub mod progress;
pub mod record_batch;
pub mod remark;
pub mod report;
pub mod route53;
pub mod s3;
pub mod steps;
pub mod walk;

use anyhow::{anyhow, bail, Result};
use clients::Clients;
use context::{ApplyContext, Timeouts};
use drplan_core::address::Address;
use drplan_core::plan::{Action, Plan, ResourceChange};
use drplan_core::resource::Kind;
use idempotency::{failpoint, FailpointPhase};
use outputs::Outputs;
use report::{ApplyReport, ReportEntry, Status};
use std::collections::HashMap;
use std::time::Instant;
use steps::{Phase, Step};
use walk::{Limits, Outcome};

#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// At most this many changes in flight (`--parallelism`).
    pub parallelism: usize,
    /// Protected objects the user allowed to delete or replace (`--allow-destroy`).
    pub allow_destroy: Vec<Address>,
    pub timeouts: Timeouts,
    /// Print each change as it starts and ends on stderr.
    pub progress: bool,
    /// Route53 requests per second for the whole apply (AWS allows 5 per account;
    /// tests against an emulator may raise it).
    pub route53_requests_per_second: u32,
    /// Stops the walk part-way (signals, a lost lock): see [`crate::stop`].
    pub stop: crate::stop::Stop,
    /// The lock bucket, where creates in flight are recorded so that an interrupted
    /// one can be adopted by the next run (`adopt`). None: no records.
    pub inflight: Option<drplan_core::model::environment::LockSettings>,
}

/// Where Kubernetes object changes go; without it they fail their step.
pub type K8sTarget<'a> = Option<&'a kubernetes::Clusters<'a>>;

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 10,
            allow_destroy: Vec::new(),
            timeouts: Timeouts::default(),
            progress: true,
            route53_requests_per_second: crate::aws::ROUTE53_REQUESTS_PER_SECOND,
            stop: crate::stop::Stop::new(),
            inflight: None,
        }
    }
}

/// Per-service bounds. An EKS step holds its slot for a whole cluster or node group
/// change (minutes), polling every 2-30 s, so the bound is on waiters, not on
/// requests: at 4, the fifth node group of a DR activation waited out a whole update
/// before it began (bench 3 at N = 500: walk 2.08x the critical path). Route53's real
/// bound is its request rate (`dns_owner::Route53Session`). Record upserts
/// mostly wait for their zone's next batch (`record_batch`), so they get a bound of
/// their own, outside `--parallelism`: the more of them wait together, the fewer
/// requests a DNS flip takes.
/// Steps are keyed by the service name their kind's `KindInfo::apply_service` names
/// (`aws::Service::name`: one set of names for request and step bounds).
pub fn limits(parallelism: usize) -> Limits {
    use crate::aws::Service;
    Limits::new(parallelism)
        .with_service(Service::Route53.name(), 2)
        .with_service_outside_global(steps::RECORD_UPSERTS, RECORD_UPSERTS_IN_FLIGHT)
        .with_service(Service::Eks.name(), EKS_STEPS_IN_FLIGHT)
        .with_service(Service::Ec2.name(), 8)
        .with_service(Service::S3.name(), 8)
}

/// EKS changes waited on at once; --parallelism still bounds them overall.
const EKS_STEPS_IN_FLIGHT: usize = 16;

/// Record upserts waiting for a batch at once: one ChangeResourceRecordSets holds at
/// most 1,000 records, so more would not make fewer requests.
const RECORD_UPSERTS_IN_FLIGHT: usize = 1_000;

/// Refuses a plan that is unsafe to start; these are checked before any cloud call.
pub fn check_applicable(plan: &Plan, options: &ApplyOptions) -> Result<()> {
    let Some(held) = drplan_core::plan::held::held(plan) else {
        let first = plan
            .errors
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        bail!(
            "the plan has {} error(s) and cannot be applied; first: {first}",
            plan.errors.len()
        );
    };
    let refused: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.protect && matches!(c.action, Action::Delete | Action::Replace))
        .filter(|c| !held.contains_key(&c.address))
        .filter(|c| !options.allow_destroy.contains(&c.address))
        .map(|c| c.address.to_string())
        .collect();
    if !refused.is_empty() {
        bail!(
            "refusing to destroy protected object(s): {}; pass --allow-destroy ADDRESS for each one you mean to lose",
            refused.join(", ")
        );
    }
    Ok(())
}

/// Executes every change of `plan`. An `Err` means nothing was attempted (the plan was
/// refused); otherwise the report says what was done, including failures.
pub async fn apply(
    plan: &Plan,
    clients: &dyn Clients,
    options: &ApplyOptions,
) -> Result<ApplyReport> {
    apply_with_clusters(plan, clients, None, options).await
}

/// [`apply`], with Kubernetes objects applied through `k8s`.
pub async fn apply_with_clusters(
    plan: &Plan,
    clients: &dyn Clients,
    k8s: K8sTarget<'_>,
    options: &ApplyOptions,
) -> Result<ApplyReport> {
    check_applicable(plan, options)?;
    // Conflicts that hold their change (`plan::held`): it fails its steps unstarted, so
    // what depends on it is skipped and the rest runs.
    let held = drplan_core::plan::held::held(plan).unwrap_or_default();
    let by_address: HashMap<&Address, &ResourceChange> =
        plan.changes.iter().map(|c| (&c.address, c)).collect();
    let nodes = steps::build(plan);
    let mut ctx = ApplyContext::new(
        &plan.stack,
        clients,
        Outputs::seeded_from(plan),
        options.timeouts.clone(),
    );
    ctx.k8s = k8s;
    ctx.route53.set_rate(options.route53_requests_per_second);
    ctx.awaited = awaited(plan);
    ctx.inflight = options.inflight.clone();
    let started = Instant::now();
    // When each step finished, from the start: (address, action) -> offset.
    let finished = std::sync::Mutex::new(HashMap::<(Address, Action), std::time::Duration>::new());
    let display = progress::Progress::for_stderr(options.progress);
    options.stop.commit();
    let results = walk::walk_until(
        nodes,
        &limits(options.parallelism),
        &options.stop,
        |step: Step| {
            let change = by_address.get(&step.address).copied();
            let held = held.get(&step.address);
            let ctx = &ctx;
            let display = &display;
            let finished = &finished;
            async move {
                let change = change.ok_or_else(|| format!("{}: not in the plan", step.address))?;
                if let Some(why) = held {
                    return Err(format!("held, not applied: {why}"));
                }
                let result = run_step(ctx, change, step.phase, display)
                    .await
                    .map_err(|e| format!("{e:#}"));
                if let Ok(mut f) = finished.lock() {
                    f.insert(
                        (step.address.clone(), step.phase.action(change.action)),
                        started.elapsed(),
                    );
                }
                result
            }
        },
    )
    .await
    .map_err(|e| anyhow!("the plan's dependency graph cannot be walked: {e}"))?;

    let finished = finished.into_inner().unwrap_or_else(|p| p.into_inner());
    // A link step is reported as part of its change (below).
    let (links, results): (Vec<_>, Vec<_>) = results
        .into_iter()
        .partition(|(step, _)| step.phase == Phase::Link);
    let links: HashMap<Address, walk::NodeResult<Step, String>> = links
        .into_iter()
        .map(|(step, result)| (step.address, result))
        .collect();
    let entries = results
        .into_iter()
        .filter_map(|(step, result)| {
            let change = by_address.get(&step.address)?;
            let status = match result.outcome {
                Outcome::Done => Status::Done,
                Outcome::Failed(e) => Status::Failed(e),
                Outcome::NotStarted => Status::NotStarted,
                Outcome::Skipped { because } => Status::Skipped {
                    because: because.to_string(),
                },
                Outcome::Interrupted => Status::Interrupted,
            };
            let action = step.phase.action(change.action);
            let link = (step.phase == Phase::Converge)
                .then(|| links.get(&step.address))
                .flatten();
            let (status, elapsed) = match link {
                Some(l) => (
                    with_link(status, &l.outcome),
                    match (result.elapsed, l.elapsed) {
                        (Some(a), Some(b)) => Some(a + b),
                        (a, b) => a.or(b),
                    },
                ),
                None => (status, result.elapsed),
            };
            Some(ReportEntry {
                address: step.address.clone(),
                kind: change.kind,
                action,
                status,
                elapsed,
                finished_after: finished.get(&(step.address.clone(), action)).copied(),
            })
        })
        .collect();
    let stopped = options
        .stop
        .is_stopping()
        .then(|| options.stop.cause())
        .flatten();
    Ok(ApplyReport {
        entries,
        wall_time: started.elapsed(),
        stopped,
    })
}

/// A change's status with its link step's outcome: done only when both are; a
/// converge done whose link did not complete says what is missing.
fn with_link(status: Status, link: &Outcome<Step, String>) -> Status {
    if status != Status::Done {
        return status;
    }
    let missing = "its replication configuration or access logging was not put";
    match link {
        Outcome::Done => Status::Done,
        Outcome::Failed(e) => Status::Failed(format!("{missing}: {e}")),
        Outcome::Skipped { because } => Status::Failed(format!("{missing}: {because} failed")),
        Outcome::NotStarted => Status::Failed(format!("{missing}: the apply stopped first")),
        Outcome::Interrupted => Status::Interrupted,
    }
}

async fn run_step(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    phase: Phase,
    display: &progress::Progress,
) -> Result<()> {
    let action = phase.action(change.action);
    if phase == Phase::Link {
        let running = display.start(format!("{}: linking", change.address));
        family::applier(change.kind).link(ctx, change).await?;
        let elapsed = running.elapsed().as_secs();
        running.finish(format!("{}: linked after {elapsed}s", change.address));
        return Ok(());
    }
    let running = display.start(format!("{}: {}", change.address, report::verb_ing(action)));
    failpoint(&change.address, FailpointPhase::Before);
    let id = match action {
        Action::Create => {
            let id = create(ctx, change).await?;
            ctx.outputs.set(&change.address, id.clone());
            Some(id)
        }
        Action::Update => {
            update(ctx, change).await?;
            None
        }
        Action::Delete => {
            delete(ctx, change).await?;
            ctx.outputs.forget(&change.address);
            None
        }
        Action::Forget => {
            forget(ctx, change).await?;
            ctx.outputs.forget(&change.address);
            None
        }
        Action::NoOp | Action::Replace => None,
    };
    failpoint(&change.address, FailpointPhase::After);
    let id = id.map(|i| format!(" [id={i}]")).unwrap_or_default();
    let elapsed = running.elapsed().as_secs();
    running.finish(format!(
        "{}: {} after {elapsed}s{id}",
        change.address,
        report::verb_done(action)
    ));
    Ok(())
}

async fn create(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
    family::applier(change.kind).create(ctx, change).await
}

async fn update(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
    // The marks first: if the attribute changes below fail, the next plan still finds
    // the object at its new address, or as this stack's.
    if change.adopt {
        adopt::mark(ctx, change).await?;
    }
    remark::remark(ctx, change).await?;
    let changed: Vec<String> = attrs::changed_keys(change).into_iter().collect();
    family::applier(change.kind)
        .update(ctx, change, &changed)
        .await
}

async fn delete(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
    family::applier(change.kind).delete(ctx, change).await
}

/// Drops drplan's marks and keeps the object (a `removed { destroy = false }` block).
async fn forget(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
    let id = change.live_id.clone().ok_or_else(|| {
        anyhow!(
            "{}: the plan does not say which live object to forget (no live id)",
            change.address
        )
    })?;
    family::applier(change.kind).forget(ctx, change, &id).await
}

/// The changes that count as applied only once ready: what another change is
/// ordered after (`wait_for`), and every workload (Deployment, StatefulSet,
/// DaemonSet) another change depends on — what depends on a database starts once the
/// database is rolled out, not once its manifest is written.
fn awaited(plan: &Plan) -> std::collections::BTreeSet<Address> {
    let workloads: std::collections::BTreeSet<&Address> = plan
        .changes
        .iter()
        .filter(|c| c.kind == Kind::K8sObject && c.after.is_some())
        .filter(|c| {
            let a = c.after.as_ref();
            let s = |k: &str| {
                a.and_then(|a| a.get(k))
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
            };
            crate::k8s::rollout::has_rollout(s("api_version"), s("kind"))
        })
        .map(|c| &c.address)
        .collect();
    plan.changes
        .iter()
        .flat_map(|c| {
            c.wait_for.iter().cloned().chain(
                c.depends_on
                    .iter()
                    .filter(|d| workloads.contains(d))
                    .cloned(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::sync::Barrier;
    use walk::Node;

    // Record upserts wait for each other (group commit): with --parallelism 1 they
    // must still all be in flight together, or each batch would hold one record.
    #[tokio::test]
    async fn record_upserts_run_together_outside_the_parallelism_bound() {
        let nodes: Vec<Node<String>> = (0..20)
            .map(|i| Node {
                key: format!("dns.r{i}"),
                service: steps::RECORD_UPSERTS.into(),
                deps: vec![],
            })
            .chain([Node {
                key: "cluster.app".into(),
                service: "eks".into(),
                deps: vec![],
            }])
            .collect();
        let together = Arc::new(Barrier::new(20));
        let limits = limits(1);
        let run = walk::walk(nodes, &limits, |key: String| {
            let together = together.clone();
            async move {
                if key.starts_with("dns.") {
                    together.wait().await;
                }
                Ok::<(), String>(())
            }
        });
        let results = tokio::time::timeout(std::time::Duration::from_secs(5), run)
            .await
            .expect("the 20 record steps ran at once")
            .expect("walkable");
        assert!(results.values().all(|r| r.outcome == walk::Outcome::Done));
    }
}
