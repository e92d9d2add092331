//! Bench 2: `drplan plan` against moto and the Kubernetes test servers with every
//! object of the topology live (the steady state of a drift check), at 0 ms and 50 ms
//! added per request, next to the physical limit.
//!
//! The physical limit is computed from the requests the run actually made, with the
//! readers' structure (src/live, src/k8s/live.rs): what must wait for what. Per
//! family, the chain is
//! - EC2: DescribeVpcs / DescribeSubnets pages of one region;
//! - EKS: ListClusters pages -> DescribeCluster -> ListNodegroups -> DescribeNodegroup;
//! - S3: ListBuckets pages -> GetBucketLocation -> GetBucketTagging -> the 4 configs;
//! - Route53: ListHostedZones -> tags -> ListResourceRecordSets pages of a zone, or
//!   ListHealthChecks pages -> tags;
//!
//! all after STS GetCallerIdentity (the account guard), and the Kubernetes reads
//! (discovery -> list) after AWS, because a cluster that does not exist has no API.
//! Route53 also allows 5 requests/s per account: its calls take (n - 1) / 5 s
//! however short the chain is.

use super::proxy::{Delays, Stats};
use super::rig::Rig;
use super::topology::{Topology, ENV, REGIONS, STACK};
use crate::support::outofband;
use drplan_core::resource::{Kind, Resource};
use futures::stream::{self, StreamExt};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Row {
    pub n: usize,
    pub resources: usize,
    pub latency_ms: u64,
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
fn chain(stats: &Stats, regions: u64, clusters: u64, zones: u64) -> u64 {
    let op = |s: &str, o: &str| stats.operation(s, o);
    let per = |n: u64, d: u64| n.div_ceil(d.max(1));
    let ec2 = per(op("ec2", "DescribeVpcs"), regions).max(per(op("ec2", "DescribeSubnets"), regions));
    let eks = per(op("eks", "ListClusters"), regions)
        + u64::from(op("eks", "DescribeCluster") > 0)
        + per(op("eks", "ListNodegroups"), clusters)
        + u64::from(op("eks", "DescribeNodegroup") > 0);
    let s3 = op("s3", "ListBuckets")
        + u64::from(op("s3", "GetBucketLocation") > 0)
        + u64::from(op("s3", "GET ?tagging") > 0)
        + u64::from(op("s3", "GET ?versioning") > 0);
    let tags = u64::from(op("route53", "ListTagsForResources") > 0);
    let zones_branch = op("route53", "ListHostedZones") + tags + per(op("route53", "ListResourceRecordSets"), zones);
    let checks_branch = op("route53", "ListHealthChecks") + tags;
    let k8s = u64::from(op("k8s", "k8s:discovery") > 0) + u64::from(op("k8s", "k8s:read") > 0);
    op("sts", "GetCallerIdentity") + ec2.max(eks).max(s3).max(zones_branch.max(checks_branch)) + k8s
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
        .map(|group| async move {
            outofband::create_all(&rig.moto, STACK, &group).await.map(|_| ()).map_err(|e| format!("{e:?}"))
        })
        .buffer_unordered(8)
        .collect()
        .await;
    results.into_iter().collect()
}

/// The cell number in a root block label: `b12_3` -> 12, `c7` -> 7.
fn cell_of(r: &Resource) -> String {
    let label = r.address.as_str().split('.').nth(1).unwrap_or("");
    label.chars().skip(1).take_while(char::is_ascii_digit).collect()
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
    let out = Command::new(env!("CARGO_BIN_EXE_drplan"))
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
        let project = drplan_core::spec::load_project(dir.path(), ENV).map_err(|d| d.render(false, 100))?;
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
        let regions = REGIONS.len() as u64;
        let clusters = topology.clusters.len() as u64;
        let zones = project.resources.iter().filter(|r| r.kind == Kind::DnsZone).count() as u64;
        for &latency_ms in latencies {
            rig.set_delays(Delays { latency: Duration::from_millis(latency_ms), ..Delays::default() });
            rig.stats.reset();
            let cpu_before = rig.moto_cpu_seconds();
            let root = dir.path().to_path_buf();
            let (wall, out) = {
                let rig = &rig;
                tokio::task::block_in_place(|| drplan(rig, &root, &["plan", "-e", ENV, "--detailed-exitcode", "-v"]))
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
                let surprises: Vec<&str> = stdout.lines().filter(|l| l.starts_with("  ")).take(8).collect();
                eprintln!(
                    "!! N={n} at {latency_ms} ms: expected no changes, exit {:?}\n{}\n{}",
                    out.status.code(),
                    surprises.join("\n"),
                    stderr.lines().filter(|l| l.contains("rror")).take(8).collect::<Vec<_>>().join("\n")
                );
            }
            let read = stderr.lines().find(|l| l.starts_with("Read ")).unwrap_or("").to_string();
            let chain = chain(&rig.stats, regions, clusters, zones);
            let r53 = rig.stats.by_service().get("route53").copied().unwrap_or(0);
            let latency = latency_ms as f64 / 1000.0;
            let row = Row {
                n,
                resources: project.resources.len(),
                latency_ms,
                wall: wall.as_secs_f64(),
                read,
                exit: out.status.code(),
                summary,
                calls: rig.stats.total(),
                by_service: rig.stats.by_service(),
                moto_cpu,
                chain,
                chain_limit: chain as f64 * latency,
                // STS first, then Route53's calls spaced 200 ms apart, the last one
                // taking its own round trip.
                rate_limit: 2.0 * latency + r53.saturating_sub(1) as f64 / 5.0,
            };
            eprintln!(
                "N={n} at {latency_ms} ms: {:.2} s, {} calls {:?}, moto CPU {:.1} s, {}",
                row.wall, row.calls, row.by_service, row.moto_cpu, row.read
            );
            if std::env::var_os("BENCH_OPS").is_some() {
                eprintln!("{:#?}", rig.stats.by_operation());
            }
            rows.push(row);
        }
    }
    Ok(rows)
}

pub fn print(rows: &[Row]) {
    println!("\n## 2. `drplan plan` over 4 regions, everything live (No changes expected)\n");
    println!("| N | resources | added latency | wall | API calls (by service) | moto CPU | chain | chain x latency | Route53 5/s bound | physical limit | wall / limit | plan |");
    println!("| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    for r in rows {
        let services: Vec<String> = r.by_service.iter().map(|(s, n)| format!("{s} {n}")).collect();
        println!(
            "| {} | {} | {} ms | {:.2} s | {} ({}) | {:.1} s | {} | {:.2} s | {:.2} s | {:.2} s ({}) | {:.2} | {} |",
            r.n,
            r.resources,
            r.latency_ms,
            r.wall,
            r.calls,
            services.join(", "),
            r.moto_cpu,
            r.chain,
            r.chain_limit,
            r.rate_limit,
            r.limit(),
            r.binding(),
            r.wall / r.limit().max(1e-9),
            if r.exit == Some(0) { r.summary.clone() } else { format!("exit {:?}: {}", r.exit, r.summary) }
        );
    }
}
