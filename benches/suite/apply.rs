//! Bench 3: `drplan apply` of a DR activation (prod -> prod-dr), with the operations
//! drplan waits on slowed down to a scaled copy of their real duration, next to the
//! critical path of the plan's dependency graph under the same durations.
//!
//! moto completes everything at once, so the proxy holds back the answer to the
//! calls after which AWS would keep drplan waiting: UpdateNodegroupConfig and
//! CreateNodegroup (node groups take ~5 min to become ACTIVE), CreateCluster (~15
//! min). The answer comes after the scaled duration and the next DescribeNodegroup
//! finds the group ACTIVE, so drplan's readiness polling never overshoots: its
//! backoff (2 s doubling to 30 s, src/apply/context.rs) is not part of this figure;
//! at real durations it adds at most 30 s to a 5-15 min wait. Everything else (record
//! upserts, Kubernetes server-side apply) answers within the request latency, as on
//! AWS: Route53 changes propagate after ChangeResourceRecordSets returns, and drplan
//! does not wait for INSYNC or for rollouts.

use super::plan::drplan;
use super::rig::Rig;
use super::topology::{Topology, ENV, ENV_DR};
use crate::support::outofband;
use drplan_core::resource::Kind;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use testproxy::Config;

/// One minute of real time is one second here.
pub const SCALE: u32 = 60;

/// Real durations of the operations drplan waits on (seconds), and the kind whose
/// change sends them.
const WAITED_ON: [(&str, &str, u64); 3] = [
    ("CreateCluster", "aws_eks_cluster", 15 * 60),
    ("CreateNodegroup", "aws_eks_node_group", 5 * 60),
    ("UpdateNodegroupConfig", "aws_eks_node_group", 5 * 60),
];

pub struct Report {
    pub n: usize,
    pub resources: usize,
    pub latency_ms: u64,
    pub changes: BTreeMap<String, usize>,
    pub critical_path: f64,
    pub path: Vec<String>,
    pub wall: f64,
    pub read: f64,
    pub walk: f64,
    pub calls: u64,
    pub by_service: BTreeMap<String, u64>,
    /// First record change to the last answered: how long the DNS flip took.
    pub route53_span: f64,
    pub record_change_calls: u64,
    /// Route53 requests of the walk: the apply process's, less those of its live
    /// re-read (measured as the re-plan's, which reads the same zones).
    pub walk_route53_calls: u64,
    /// What the walk's Route53 requests take at AWS's 5 requests/s, whatever the graph.
    pub route53_bound: f64,
    pub summary: String,
    pub converged: String,
}

struct Change {
    address: String,
    kind: String,
    action: String,
    depends_on: Vec<String>,
}

fn changes_of(plan_json: &Value) -> Vec<Change> {
    plan_json["resource_changes"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|c| {
            let action = c["change"]["actions"]
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("+");
            if action == "no-op" {
                return None;
            }
            Some(Change {
                address: c["address"].as_str()?.to_string(),
                kind: c["type"].as_str()?.to_string(),
                action,
                depends_on: c["depends_on"]
                    .as_array()
                    .map(|d| {
                        d.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// Scaled duration of one change: its waited-on operation (if any) plus one round trip.
fn duration(c: &Change, latency: Duration) -> Duration {
    let waited = WAITED_ON
        .iter()
        .find(|(op, kind, _)| {
            *kind == c.kind
                && match c.action.as_str() {
                    "create" => op.starts_with("Create"),
                    "update" => op.starts_with("Update"),
                    _ => false,
                }
        })
        .map(|(_, _, secs)| Duration::from_secs(*secs) / SCALE)
        .unwrap_or_default();
    waited + latency
}

/// Longest path through the changes, dependencies that are not changing being
/// already in place.
fn critical_path(changes: &[Change], latency: Duration) -> (Duration, Vec<String>) {
    let index: HashMap<&str, usize> = changes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.address.as_str(), i))
        .collect();
    let mut finish: Vec<Option<(Duration, Option<usize>)>> = vec![None; changes.len()];
    fn visit(
        i: usize,
        changes: &[Change],
        index: &HashMap<&str, usize>,
        finish: &mut Vec<Option<(Duration, Option<usize>)>>,
        latency: Duration,
        depth: usize,
    ) -> Duration {
        if let Some((f, _)) = finish[i] {
            return f;
        }
        let mut start = (Duration::ZERO, None);
        if depth < changes.len() {
            for d in &changes[i].depends_on {
                if let Some(&j) = index.get(d.as_str()) {
                    let f = visit(j, changes, index, finish, latency, depth + 1);
                    if f > start.0 {
                        start = (f, Some(j));
                    }
                }
            }
        }
        let f = start.0 + duration(&changes[i], latency);
        finish[i] = Some((f, start.1));
        f
    }
    let mut best = (Duration::ZERO, None);
    for i in 0..changes.len() {
        let f = visit(i, changes, &index, &mut finish, latency, 0);
        if f > best.0 {
            best = (f, Some(i));
        }
    }
    let mut path = Vec::new();
    let mut cur = best.1;
    while let Some(i) = cur {
        path.push(format!("{} ({})", changes[i].address, changes[i].action));
        cur = finish[i].and_then(|(_, via)| via);
    }
    path.reverse();
    (best.0, path)
}

fn read_seconds(stderr: &str) -> f64 {
    stderr
        .lines()
        .find(|l| l.starts_with("Read "))
        .and_then(|l| l.rsplit(" in ").next())
        .and_then(|t| t.trim_end_matches('.').trim_end_matches('s').parse().ok())
        .unwrap_or(0.0)
}

pub async fn run(n: usize, latency_ms: u64) -> Result<Report, String> {
    let topology = Topology::new(n, 2);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    topology.write(dir.path()).map_err(|e| e.to_string())?;
    let root = dir.path().to_path_buf();
    let project = drplan_core::spec::load_project(&root, ENV).map_err(|d| d.render(false, 100))?;
    let rig = Rig::start(&topology).await?;
    // Normal operation, built out of band: the primary serves, DR is warm (networks,
    // clusters with system nodes, buckets replicating, DNS pointing at the primary).
    let aws: Vec<_> = project
        .resources
        .iter()
        .filter(|r| r.kind != Kind::K8sObject)
        .cloned()
        .collect();
    rig.create_out_of_band(super::topology::STACK, &aws).await?;
    outofband::create_k8s(&rig.kubeconfig, &project.environment, &project.resources)
        .await
        .map_err(|e| format!("creating Kubernetes objects: {e}"))?;
    let (_, out) = tokio::task::block_in_place(|| {
        drplan(&rig, &root, &["plan", "-e", ENV, "--detailed-exitcode"])
    });
    if out.status.code() != Some(0) {
        eprintln!(
            "!! the out-of-band prod state does not plan clean: exit {:?}",
            out.status.code()
        );
    }

    let plan_file = root.join("dr.plan");
    let plan_arg = plan_file.display().to_string();
    let (_, out) = tokio::task::block_in_place(|| {
        drplan(
            &rig,
            &root,
            &[
                "plan",
                "-e",
                ENV_DR,
                "--detailed-exitcode",
                "--out",
                &plan_arg,
            ],
        )
    });
    if out.status.code() != Some(2) {
        return Err(format!(
            "planning DR activation: exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let (_, out) =
        tokio::task::block_in_place(|| drplan(&rig, &root, &["show", &plan_arg, "--json"]));
    let json: Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("plan JSON: {e}"))?;
    let changes = changes_of(&json);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for c in &changes {
        *counts
            .entry(format!("{} {}", c.kind, c.action))
            .or_default() += 1;
    }
    let latency = Duration::from_millis(latency_ms);
    let (critical, path) = critical_path(&changes, latency);

    rig.configure(Config {
        latency,
        operations: WAITED_ON
            .iter()
            .map(|(op, _, secs)| (op.to_string(), Duration::from_secs(*secs) / SCALE))
            .collect(),
        ..Config::default()
    });
    rig.counters.reset();
    let (wall, out) =
        tokio::task::block_in_place(|| drplan(&rig, &root, &["apply", &plan_arg, "-v"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.code() != Some(0) {
        eprintln!("!! apply failed: exit {:?}\n{stderr}", out.status.code());
    }
    let calls = rig.counters.total();
    let by_service = rig.counters.by_service();
    let route53_span = rig.counters.span_seconds("ChangeResourceRecordSets");
    let record_change_calls = rig
        .counters
        .operation("route53", "ChangeResourceRecordSets");
    let apply_route53 = by_service.get("route53").copied().unwrap_or(0);
    let read = read_seconds(&stderr);
    rig.configure(Config::default());
    rig.counters.reset();
    let (_, check) = tokio::task::block_in_place(|| {
        drplan(&rig, &root, &["plan", "-e", ENV_DR, "--detailed-exitcode"])
    });
    let walk_route53_calls = apply_route53.saturating_sub(
        rig.counters
            .by_service()
            .get("route53")
            .copied()
            .unwrap_or(0),
    );
    let route53_bound =
        walk_route53_calls as f64 / f64::from(drplan::aws::ROUTE53_REQUESTS_PER_SECOND);
    let converged = String::from_utf8_lossy(&check.stdout)
        .lines()
        .find(|l| l.starts_with("Plan:") || l.starts_with("No changes"))
        .unwrap_or("")
        .to_string();
    Ok(Report {
        n,
        resources: project.resources.len(),
        latency_ms,
        changes: counts,
        critical_path: critical.as_secs_f64(),
        path,
        wall: wall.as_secs_f64(),
        read,
        walk: wall.as_secs_f64() - read,
        calls,
        by_service,
        route53_span,
        record_change_calls,
        walk_route53_calls,
        route53_bound,
        summary: stdout.lines().last().unwrap_or("").to_string(),
        converged,
    })
}

pub fn print(r: &Report) {
    println!(
        "\n## 3. `drplan apply` of DR activation (-e {ENV} -> -e {ENV_DR}), N = {} ({} resources, 2 sites), {} ms per request, waits scaled 1/{SCALE}\n",
        r.n, r.resources, r.latency_ms
    );
    let changes: Vec<String> = r.changes.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!("changes: {}", changes.join(", "));
    println!("critical path: {}", r.path.join(" -> "));
    println!();
    println!(
        "| critical path | Route53 rate bound | apply wall (process) | live re-read | walk (wall - read) | walk / critical path | walk / max(both) | record changes span | ChangeResourceRecordSets | API calls | result | re-plan |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |");
    let services: Vec<String> = r
        .by_service
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    println!(
        "| {:.2} s | {:.2} s ({} / {}) | {:.2} s | {:.2} s | {:.2} s | {:.2} | {:.2} | {:.2} s | {} | {} ({}) | {} | {} |",
        r.critical_path,
        r.route53_bound,
        r.walk_route53_calls,
        drplan::aws::ROUTE53_REQUESTS_PER_SECOND,
        r.wall,
        r.read,
        r.walk,
        r.walk / r.critical_path.max(1e-9),
        r.walk / r.critical_path.max(r.route53_bound).max(1e-9),
        r.route53_span,
        r.record_change_calls,
        r.calls,
        services.join(", "),
        r.summary,
        r.converged
    );
}
