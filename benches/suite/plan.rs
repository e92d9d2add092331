//! Bench 2: `drplan plan` against moto and the Kubernetes test servers with every
//! object of the topology live (the steady state of a drift check), at 0 ms and 50 ms
//! added per request, next to the physical limit.
//!
//! The physical limit is computed from the requests the run actually made, with the
//! readers' structure (src/live, src/k8s/live.rs): what must wait for what. Per
//! family, the chain is
//! - EC2: DescribeVpcs / DescribeSubnets pages of one region;
//! - EKS: ListClusters pages -> DescribeCluster -> ListNodegroups -> DescribeNodegroup;
//! - S3: ListBuckets pages -> (where the listing names no regions, moto: ListBuckets
//!   per region) -> GetBucketTagging beside the configs;
//! - Route53: ListHostedZones -> tags -> ListResourceRecordSets pages of a zone, or
//!   ListHealthChecks pages -> tags;
//!
//! all after STS GetCallerIdentity (the account guard), and the Kubernetes reads
//! (discovery -> list) after AWS, because a cluster that does not exist has no API.
//! Route53 also allows 5 requests/s per account: its calls take (n - 1) / 5 s
//! however short the chain is.

use super::rig::Rig;
use super::topology::{Topology, ENV, REGIONS, STACK};
use crate::support::outofband;
use drplan_core::resource::{Kind, Resource};
use futures::stream::{self, StreamExt};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use testproxy::{Config, Counters, Mode};

pub struct Row {
    pub n: usize,
    pub resources: usize,
    pub latency_ms: u64,
    /// Answers replayed by the proxy: a server of unlimited capacity.
    pub replayed: bool,
    /// `--skip-evidence`: no recovery-point, drill-record or DR-readiness reads.
    pub skip_evidence: bool,
    /// Health checks of other stacks and tools in the account besides the topology's.
    pub foreign_checks: usize,
    pub wall: f64,
    pub read: String,
    pub exit: Option<i32>,
    pub summary: String,
    pub calls: u64,
    pub by_service: BTreeMap<String, u64>,
    pub moto_cpu: f64,
    pub chain: u64,
    pub chain_limit: f64,
    pub rate_limit: f64,
    /// drplan's in-flight bounds at this latency, with an instant server.
    pub concurrency: f64,
    /// AWS calls at moto's measured capacity: the time the emulator alone needs.
    pub server_bound: f64,
}

impl Row {
    pub fn limit(&self) -> f64 {
        self.chain_limit.max(self.rate_limit)
    }

    pub fn binding(&self) -> &'static str {
        if self.rate_limit > self.chain_limit {
            "Route53 5 req/s"
        } else {
            "request chain"
        }
    }
}

/// Sequential requests the readers cannot avoid, from what this run sent.
fn chain(counters: &Counters, regions: u64, clusters: u64, zones: u64) -> u64 {
    let op = |s: &str, o: &str| counters.operation(s, o);
    let per = |n: u64, d: u64| n.div_ceil(d.max(1));
    let ec2 =
        per(op("ec2", "DescribeVpcs"), regions).max(per(op("ec2", "DescribeSubnets"), regions));
    let eks = per(op("eks", "ListClusters"), regions)
        + u64::from(op("eks", "DescribeCluster") > 0)
        + per(op("eks", "ListNodegroups"), clusters)
        + u64::from(op("eks", "DescribeNodegroup") > 0);
    // Tags and configuration of a bucket the spec names are read side by side.
    // One account-wide listing, then (moto) one per region side by side.
    let s3 = op("s3", "ListBuckets").min(1)
        + u64::from(op("s3", "ListBuckets") > 1)
        + u64::from(op("s3", "GetBucketLocation") > 0)
        + u64::from(op("s3", "GET ?tagging") > 0 || op("s3", "GET ?versioning") > 0);
    let tags = u64::from(op("route53", "ListTagsForResources") > 0);
    let zones_branch = op("route53", "ListHostedZones")
        + tags
        + per(op("route53", "ListResourceRecordSets"), zones);
    let checks_branch = op("route53", "ListHealthChecks") + tags;
    let k8s = u64::from(op("k8s", "k8s:discovery") > 0) + u64::from(op("k8s", "k8s:read") > 0);
    // A cluster's objects can only be read once EKS says the cluster exists; nothing
    // else has to wait for another family.
    op("sts", "GetCallerIdentity")
        + ec2
            .max(eks + k8s)
            .max(s3)
            .max(zones_branch.max(checks_branch))
}

/// The longest any service's requests take when each waits for an in-flight slot
/// (src/aws/limits.rs) and the server answers instantly: drplan's own bound.
fn concurrency_bound(counters: &Counters, latency: f64) -> f64 {
    use drplan::aws::{max_in_flight, Service};
    let by_service = counters.by_service();
    Service::ALL
        .iter()
        .map(|&s| {
            let calls = by_service.get(s.name()).copied().unwrap_or(0);
            calls.div_ceil(max_in_flight(s) as u64) as f64 * latency
        })
        .fold(0.0, f64::max)
}

/// Creates every resource of `resources` out of band (as a console user would, marked
/// as drplan marks them), in independent groups at once: each cell's networks,
/// cluster and buckets, and each zone's DNS.
async fn create_live(rig: &Rig, resources: &[Resource]) -> Result<(), String> {
    let mut groups: BTreeMap<String, Vec<Resource>> = BTreeMap::new();
    for r in resources.iter().filter(|r| r.kind != Kind::K8sObject) {
        let key = match r.kind {
            Kind::DnsZone | Kind::DnsRecord | Kind::HealthCheck => zone_of(r),
            _ => format!("cell {}", cell_of(r)),
        };
        groups.entry(key).or_default().push(r.clone());
    }
    let results: Vec<Result<(), String>> = stream::iter(groups.into_values())
        .map(|group| async move { rig.create_out_of_band(STACK, &group).await })
        .buffer_unordered(8)
        .collect()
        .await;
    results.into_iter().collect()
}

/// Health checks `from..to` of other stacks and tools, created straight in moto (not
/// through the proxy): half with Terraform's kind of CallerReference, half with
/// another drplan stack's; all tagged as another stack's.
async fn foreign_health_checks(rig: &Rig, from: usize, to: usize) -> Result<(), String> {
    use aws_sdk_route53::types::{HealthCheckConfig, HealthCheckType, Tag, TagResourceType};
    let r53 = rig.moto.route53();
    let results: Vec<Result<(), String>> = stream::iter(from..to)
        .map(|i| {
            let r53 = r53.clone();
            async move {
                let config = HealthCheckConfig::builder()
                    .r#type(HealthCheckType::Https)
                    .fully_qualified_domain_name(format!("svc-{i}.other.example.com"))
                    .port(443)
                    .resource_path("/health")
                    .build()
                    .map_err(|e| e.to_string())?;
                let reference = if i % 2 == 0 {
                    format!("terraform-{i:020}")
                } else {
                    format!("drplan-0badf00d-{i:032x}")
                };
                let created = r53
                    .create_health_check()
                    .caller_reference(reference)
                    .health_check_config(config)
                    .send()
                    .await
                    .map_err(|e| format!("CreateHealthCheck: {e}"))?;
                let id = created
                    .health_check()
                    .map(|h| h.id().to_string())
                    .unwrap_or_default();
                r53.change_tags_for_resource()
                    .resource_type(TagResourceType::Healthcheck)
                    .resource_id(id)
                    .add_tags(
                        Tag::builder()
                            .key("drplan:stack")
                            .value("someone-else")
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| format!("ChangeTagsForResource: {e}"))?;
                Ok(())
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    results.into_iter().collect()
}

/// moto's capacity on this machine right now: requests per second it answers with
/// 32 bucket reads in flight, sent straight to it (no proxy, no drplan).
async fn moto_capacity(rig: &Rig, buckets: &[String]) -> f64 {
    const REQUESTS: usize = 600;
    if buckets.is_empty() {
        return f64::NAN;
    }
    let s3 = rig.moto_s3.s3("us-east-1");
    let started = Instant::now();
    let answered = stream::iter(0..REQUESTS)
        .map(|i| {
            s3.get_bucket_versioning()
                .bucket(&buckets[i % buckets.len()])
                .send()
        })
        .buffer_unordered(32)
        .filter(|r| std::future::ready(r.is_ok()))
        .count()
        .await;
    answered as f64 / started.elapsed().as_secs_f64()
}

/// The cell number in a root block label: `b12_3` -> 12, `c7` -> 7.
fn cell_of(r: &Resource) -> String {
    let label = r.address.as_str().split('.').nth(1).unwrap_or("");
    label
        .chars()
        .skip(1)
        .take_while(char::is_ascii_digit)
        .collect()
}

/// `dns z<k>`: a zone, its records and their health checks (which carry no zone: the
/// generator puts cell c's names in zone c / 8).
fn zone_of(r: &Resource) -> String {
    let attr = |k: &str| r.attrs.get(k).and_then(|v| v.as_str());
    let zone = match r.kind {
        Kind::DnsZone => attr("name"),
        Kind::DnsRecord => attr("zone"),
        _ => None,
    };
    match zone {
        Some(z) => format!("dns {}", z.split('.').next().unwrap_or(z)),
        None => format!("dns z{}", cell_of(r).parse::<usize>().unwrap_or(0) / 8),
    }
}

pub fn drplan(rig: &Rig, root: &Path, args: &[&str]) -> (Duration, std::process::Output) {
    let started = Instant::now();
    // BENCH_DRPLAN=path: another build of drplan (a "before" binary) against the same
    // rig and topology.
    let exe = std::env::var_os("BENCH_DRPLAN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_drplan").into());
    let out = Command::new(exe)
        .envs(rig.cli_env())
        .arg("-C")
        .arg(root)
        .args(args)
        .output();
    let wall = started.elapsed();
    match out {
        Ok(out) => (wall, out),
        Err(e) => {
            eprintln!("cannot run drplan: {e}");
            std::process::exit(1);
        }
    }
}

pub async fn run(sizes: &[usize], latencies: &[u64]) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for &n in sizes {
        let topology = Topology::new(n, REGIONS.len());
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        topology.write(dir.path()).map_err(|e| e.to_string())?;
        let project =
            drplan_core::spec::load_project(dir.path(), ENV).map_err(|d| d.render(false, 100))?;
        let rig = Rig::start(&topology).await?;
        let started = Instant::now();
        create_live(&rig, &project.resources).await?;
        let k8s = outofband::create_k8s(&rig.kubeconfig, &project.environment, &project.resources)
            .await
            .map_err(|e| format!("creating Kubernetes objects: {e}"))?;
        eprintln!(
            "N={n}: {} resources ({k8s} Kubernetes objects) created out of band in {:.1} s",
            project.resources.len(),
            started.elapsed().as_secs_f64()
        );
        let buckets: Vec<String> = project
            .resources
            .iter()
            .filter(|r| r.kind == Kind::Bucket)
            .filter_map(|r| {
                r.attrs
                    .get("name")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
            .collect();
        let capacity = moto_capacity(&rig, &buckets).await;
        eprintln!("N={n}: moto's S3 answers {capacity:.0} requests/s (32 in flight)");
        let regions = REGIONS.len() as u64;
        let clusters = topology.clusters.len() as u64;
        let zones = project
            .resources
            .iter()
            .filter(|r| r.kind == Kind::DnsZone)
            .count() as u64;
        // Every run against moto records its answers; the last run replays them at the
        // highest latency, so the same reads meet a server that is never the bottleneck.
        let mut runs: Vec<(u64, Mode)> = latencies.iter().map(|&l| (l, Mode::Record)).collect();
        if let Some(&highest) = latencies.iter().max() {
            runs.push((highest, Mode::Replay));
        }
        // BENCH_PLAN_EVIDENCE=compare: each run again with `--skip-evidence`, right
        // after it, to measure what the objectives' evidence costs (issue 12).
        let compare = std::env::var("BENCH_PLAN_EVIDENCE").is_ok_and(|v| v == "compare");
        let mut runs: Vec<(u64, Mode, bool, usize)> = runs
            .into_iter()
            .flat_map(|(l, m)| {
                let mut both = vec![(l, m, false, 0)];
                if compare {
                    both.push((l, m, true, 0));
                }
                both
            })
            .collect();
        // BENCH_PLAN_FOREIGN_CHECKS=K: then K health checks of other stacks and tools
        // join the account, and the highest latency runs again, recorded and replayed
        // (issue 19: drplan's Route53 requests must not grow with them).
        let foreign: usize = std::env::var("BENCH_PLAN_FOREIGN_CHECKS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if let (Some(&highest), true) = (latencies.iter().max(), foreign > 0) {
            runs.push((highest, Mode::Record, false, foreign));
            runs.push((highest, Mode::Replay, false, foreign));
        }
        let mut added = 0;
        for (latency_ms, mode, skip_evidence, foreign_checks) in runs {
            if foreign_checks > added {
                let started = Instant::now();
                foreign_health_checks(&rig, added, foreign_checks).await?;
                eprintln!(
                    "N={n}: {} health checks of other stacks added in {:.1} s",
                    foreign_checks - added,
                    started.elapsed().as_secs_f64()
                );
                added = foreign_checks;
            }
            rig.configure(Config {
                latency: Duration::from_millis(latency_ms),
                mode,
                ..Config::default()
            });
            rig.counters.reset();
            let cpu_before = rig.moto_cpu_seconds();
            let root = dir.path().to_path_buf();
            let (wall, out) = {
                let rig = &rig;
                tokio::task::block_in_place(|| {
                    let mut args = vec!["plan", "-e", ENV, "--detailed-exitcode", "-v"];
                    if skip_evidence {
                        args.push("--skip-evidence");
                    }
                    drplan(rig, &root, &args)
                })
            };
            let moto_cpu = rig.moto_cpu_seconds() - cpu_before;
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let summary = stdout
                .lines()
                .find(|l| l.starts_with("Plan:") || l.starts_with("No changes"))
                .unwrap_or("")
                .to_string();
            if out.status.code() != Some(0) {
                let surprises: Vec<&str> = stdout
                    .lines()
                    .filter(|l| l.starts_with("  "))
                    .take(8)
                    .collect();
                eprintln!(
                    "!! N={n} at {latency_ms} ms: expected no changes, exit {:?}\n{}\n{}",
                    out.status.code(),
                    surprises.join("\n"),
                    stderr
                        .lines()
                        .filter(|l| l.contains("rror"))
                        .take(8)
                        .collect::<Vec<_>>()
                        .join("\n")
                );
            }
            let read = stderr
                .lines()
                .find(|l| l.starts_with("Read "))
                .unwrap_or("")
                .to_string();
            let chain = chain(&rig.counters, regions, clusters, zones);
            let r53 = rig
                .counters
                .by_service()
                .get("route53")
                .copied()
                .unwrap_or(0);
            let latency = latency_ms as f64 / 1000.0;
            let row = Row {
                n,
                resources: project.resources.len(),
                latency_ms,
                replayed: mode == Mode::Replay,
                skip_evidence,
                foreign_checks,
                wall: wall.as_secs_f64(),
                read,
                exit: out.status.code(),
                summary,
                calls: rig.counters.total(),
                by_service: rig.counters.by_service(),
                moto_cpu,
                chain,
                chain_limit: chain as f64 * latency,
                // STS first, then Route53's calls spaced 200 ms apart, the last one
                // taking its own round trip.
                rate_limit: 2.0 * latency + r53.saturating_sub(1) as f64 / 5.0,
                concurrency: concurrency_bound(&rig.counters, latency),
                // S3 has its own moto and nearly all the calls: its capacity is the bound.
                server_bound: rig.counters.by_service().get("s3").copied().unwrap_or(0) as f64
                    / capacity,
            };
            eprintln!(
                "N={n} at {latency_ms} ms ({mode:?}{}): {:.2} s, {} calls {:?}, moto CPU {:.1} s, {}",
                if skip_evidence { ", --skip-evidence" } else { "" },
                row.wall, row.calls, row.by_service, row.moto_cpu, row.read
            );
            if std::env::var_os("BENCH_OPS").is_some() {
                eprintln!("{:#?}", rig.counters.by_operation());
            }
            rows.push(row);
        }
    }
    Ok(rows)
}

pub fn print(rows: &[Row]) {
    println!("\n## 2. `drplan plan` over 4 regions, everything live (No changes expected)\n");
    println!("Bounds: *chain* = requests that must run one after another (x latency); *Route53* = its calls at 5/s;");
    println!("*physical limit* = the larger of the two. *drplan in-flight* = calls / in-flight bound x latency per");
    println!("service (instant server). *moto-bound* = S3 calls / the S3 moto's measured capacity (the emulator alone).");
    println!("*replayed*: the same reads answered by the proxy from the recorded moto answers after the latency,");
    println!("i.e. a server of unlimited capacity: drplan's own time.\n");
    println!("| N | resources | latency | wall | API calls | chain | chain x latency | Route53 5/s | physical limit | wall / limit | drplan in-flight | moto-bound | moto CPU | plan |");
    println!("| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    for r in rows {
        let services: Vec<String> = r
            .by_service
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        println!(
            "| {} | {} | {} ms{}{}{} | {:.2} s | {} ({}) | {} | {:.2} s | {:.2} s | {:.2} s ({}) | {:.2} | {:.2} s | {:.2} s | {:.1} s | {} |",
            r.n,
            r.resources,
            r.latency_ms,
            if r.replayed { ", replayed" } else { "" },
            if r.skip_evidence { ", --skip-evidence" } else { "" },
            if r.foreign_checks > 0 { format!(", +{} other stacks' health checks", r.foreign_checks) } else { String::new() },
            r.wall,
            r.calls,
            services.join(", "),
            r.chain,
            r.chain_limit,
            r.rate_limit,
            r.limit(),
            r.binding(),
            r.wall / r.limit().max(1e-9),
            r.concurrency,
            r.server_bound,
            r.moto_cpu,
            if r.exit == Some(0) { r.summary.clone() } else { format!("exit {:?}: {}", r.exit, r.summary) }
        );
    }
}
