//! `drplan plan` over a generated topology of ~1,200 resources in 4 regions, against
//! moto: an empty cloud, then about half of it created out of band (so the readers
//! page through real objects and the diff matches them), then all of it. Prints wall time, API
//! calls and resource counts; docs/benchmarks-plan.md records the figures.
//!
//! Run with `scripts/bench-plan.sh` (installs moto, builds, runs). Not part of
//! `cargo test`: it takes about two minutes and measures rather than asserts, apart from
//! the sanity checks that keep the numbers honest (exit codes, no updates, no errors).

#[path = "../tests/e2e/support/mod.rs"]
mod support;

use drplan_core::resource::{Kind, Resource};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::moto::MotoServer;
use support::outofband;

const STACK: &str = "bench";
const SITES: [(&str, &str, &str); 4] = [
    ("primary", "us-west-2", "primary"),
    ("dr", "us-east-1", "dr"),
    ("eu", "eu-west-1", "dr"),
    ("ap", "ap-southeast-2", "dr"),
];
const NETWORKS_PER_SITE: usize = 20;
const CLUSTERS_PER_SITE: usize = 10;
const BUCKETS_PER_SITE: usize = 76;
const DNS_NAMES: usize = 120;

/// Writes specs/bench.hcl and environments/bench.hcl; returns how many resources the
/// spec describes, by kind.
fn generate(dir: &Path) -> BTreeMap<&'static str, usize> {
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut spec = String::from("locals {\n  account = \"123456789012\"\n}\n\n");
    for (site, region, role) in SITES {
        let _ = writeln!(
            spec,
            "site \"{site}\" {{\n  region = \"{region}\"\n  role   = \"{role}\"\n}}\n"
        );
    }
    for (s, (site, region, _)) in SITES.iter().enumerate() {
        // Networks: 10.<site*64 + n>.0.0/16, four /20 subnets in a, b, c.
        for n in 0..NETWORKS_PER_SITE {
            let cidr = format!("10.{}.0.0/16", s * 64 + n);
            let _ = writeln!(
                spec,
                "network \"{site}_n{n}\" {{\n  site = site.{site}\n  cidr = \"{cidr}\""
            );
            for k in 0..4 {
                let az = ["a", "b", "c", "a"][k];
                let public = if k == 3 { "\n    public            = true" } else { "" };
                let _ = writeln!(
                    spec,
                    "  subnet \"s{k}\" {{\n    availability_zone = \"{region}{az}\"\n    cidr              = cidrsubnet(\"{cidr}\", 4, {k}){public}\n  }}"
                );
            }
            spec.push_str("}\n");
            *counts.entry("network + subnets").or_default() += 5;
        }
        for c in 0..CLUSTERS_PER_SITE {
            let _ = writeln!(
                spec,
                "cluster \"{site}_c{c}\" {{\n  site     = site.{site}\n  name     = \"bench-{site}-c{c}\"\n  version  = \"1.29\"\n  network  = network.{site}_n{c}\n  role_arn = \"arn:aws:iam::${{local.account}}:role/eks\"\n  tags     = {{ team = \"bench\" }}"
            );
            for g in ["general", "data"] {
                let _ = writeln!(
                    spec,
                    "  node_group \"{g}\" {{\n    instance_types = [\"m5.large\"]\n    min_size       = 1\n    desired_size   = 2\n    max_size       = 4\n    node_role_arn  = \"arn:aws:iam::${{local.account}}:role/node\"\n  }}"
                );
            }
            spec.push_str("}\n");
            *counts.entry("cluster + node groups").or_default() += 3;
        }
        // Buckets in pairs: b<2k> replicates to b<2k+1> of the next site.
        let next = SITES[(s + 1) % SITES.len()].0;
        for b in 0..BUCKETS_PER_SITE {
            let _ = writeln!(
                spec,
                "bucket \"{site}_b{b}\" {{\n  site = site.{site}\n  name = \"bench-{site}-b{b}\"\n  tags = {{ data = \"backups\" }}\n  encryption {{\n    algorithm  = \"aws:kms\"\n    kms_key_id = \"alias/bench\"\n  }}\n  lifecycle_rule \"tmp\" {{\n    prefix       = \"tmp/\"\n    expire_after = \"7d\"\n  }}"
            );
            if b % 2 == 0 {
                let _ = writeln!(
                    spec,
                    "  replication {{\n    role_arn    = \"arn:aws:iam::${{local.account}}:role/replication\"\n    destination = bucket.{next}_b{}\n  }}",
                    b + 1
                );
            }
            spec.push_str("}\n");
            *counts.entry("bucket").or_default() += 1;
        }
    }
    // Two zones of 60 names: each zone's 182 record sets fit one ListResourceRecordSets
    // page. moto ignores StartRecordIdentifier, so a page boundary between the two
    // failover sets of one name returns a set twice (see docs/benchmarks-plan.md).
    for zone in ["a", "b"] {
        let _ = writeln!(spec, "zone \"{zone}\" {{\n  name = \"{zone}.bench.example.com\"\n}}");
        *counts.entry("zone").or_default() += 1;
    }
    for d in 0..DNS_NAMES {
        let (primary, primary_region, _) = SITES[d % 4];
        let (dr, dr_region, _) = SITES[(d + 1) % 4];
        let zone = if d % 2 == 0 { "a" } else { "b" };
        let _ = writeln!(
            spec,
            "dns \"d{d}\" {{\n  zone = zone.{zone}\n  name = \"svc{d}\"\n  type = \"CNAME\"\n  ttl  = 60\n  target \"primary\" {{\n    site    = site.{primary}\n    records = [\"svc{d}.{primary_region}.elb.amazonaws.com\"]\n    health_check {{\n      type = \"HTTPS\"\n      fqdn = \"svc{d}.{primary_region}.elb.amazonaws.com\"\n      path = \"/health\"\n    }}\n  }}\n  target \"dr\" {{\n    site    = site.{dr}\n    records = [\"svc{d}.{dr_region}.elb.amazonaws.com\"]\n  }}\n}}"
        );
        *counts.entry("dns records + health checks").or_default() += 3;
    }
    std::fs::create_dir_all(dir.join("specs")).expect("mkdir specs");
    std::fs::create_dir_all(dir.join("environments")).expect("mkdir environments");
    std::fs::write(dir.join("specs/bench.hcl"), spec).expect("write spec");
    std::fs::write(
        dir.join("environments/bench.hcl"),
        format!("stack      = \"{STACK}\"\naccount_id = \"123456789012\"\n"),
    )
    .expect("write environment");
    counts
}

/// The half of the topology that "already exists": even-numbered networks with their
/// clusters, bucket pairs whose index is 0 or 1 mod 4 (a replicating bucket always
/// comes with its destination), the zones and the first half of the DNS names.
fn existing_share(resources: &[Resource]) -> Vec<Resource> {
    let number = |label: &str, marker: char| -> Option<usize> {
        let tail = label.rsplit(marker).next()?;
        tail.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .ok()
    };
    resources
        .iter()
        .filter(|r| {
            let address = r.address.as_str();
            let block = address.split('.').nth(1).unwrap_or("");
            match r.kind {
                Kind::Vpc | Kind::Subnet | Kind::EksCluster | Kind::NodeGroup => {
                    let marker = if address.starts_with("network.") { 'n' } else { 'c' };
                    number(block, marker).is_some_and(|n| n % 2 == 0)
                }
                Kind::Bucket => number(block, 'b').is_some_and(|n| n % 4 < 2),
                Kind::DnsZone => true,
                Kind::DnsRecord | Kind::HealthCheck => number(block, 'd').is_some_and(|n| n < DNS_NAMES / 2),
                Kind::K8sObject => false,
            }
        })
        .cloned()
        .collect()
}

struct Run {
    wall: Duration,
    exit: Option<i32>,
    summary: String,
    /// drplan's own `-v` line: objects read, API calls by service, read time.
    reads: String,
    /// The first few updates and destroys, which a correct reader should not produce.
    surprises: Vec<String>,
}

fn plan(moto: &MotoServer, root: &Path) -> Run {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_drplan"))
        .envs(moto.env_for_cli())
        .env("NO_COLOR", "1")
        .arg("-C")
        .arg(root)
        .args(["plan", "-e", "bench", "--detailed-exitcode", "-v"])
        .output()
        .expect("run drplan");
    let wall = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("Plan:") || l.starts_with("No changes"))
        .unwrap_or("")
        .to_string();
    let reads = stderr
        .lines()
        .find(|l| l.starts_with("Read "))
        .unwrap_or("")
        .to_string();
    if !matches!(out.status.code(), Some(0 | 2)) {
        eprintln!("unexpected exit {:?}\n{stdout}\n{stderr}", out.status.code());
    }
    let surprises = stdout
        .lines()
        .filter(|l| l.starts_with("  ~ ") || l.starts_with("  - ") || l.starts_with("  -/+ ") || l.starts_with("Error"))
        .take(5)
        .map(str::to_string)
        .collect();
    Run {
        wall,
        exit: out.status.code(),
        summary,
        reads,
        surprises,
    }
}

fn report(label: &str, run: &Run) {
    println!("{label}:");
    println!(
        "  wall time (process, incl. spec load): {:.2} s, exit {:?}",
        run.wall.as_secs_f64(),
        run.exit
    );
    println!("  {}", run.reads);
    println!("  {}", run.summary);
    for line in &run.surprises {
        println!("  !! {line}");
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let counts = generate(dir.path());
    let project = drplan_core::spec::load_project(dir.path(), "bench").unwrap_or_else(|d| {
        eprint!("{}", d.render(false, 100));
        std::process::exit(1);
    });
    let total = project.resources.len();
    assert_eq!(
        total,
        counts.values().sum::<usize>(),
        "generator and loader disagree: {counts:?}"
    );
    println!("topology: {total} resources in {} regions ({counts:?})", SITES.len());

    let moto = MotoServer::start();
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    for i in 1..=runs {
        report(&format!("empty cloud, run {i}/{runs}"), &plan(&moto, dir.path()));
    }

    let share = existing_share(&project.resources);
    let started = Instant::now();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime
        .block_on(outofband::create_all(&moto, STACK, &share))
        .unwrap_or_else(|e| panic!("creating the existing share: {e}"));
    println!(
        "created {} of the {total} resources out of band in {:.1} s",
        share.len(),
        started.elapsed().as_secs_f64()
    );
    for i in 1..=runs {
        let run = plan(&moto, dir.path());
        report(&format!("{} resources live, run {i}/{runs}", share.len()), &run);
        let expected = format!("Plan: {} to add, 0 to change, 0 to destroy.", total - share.len());
        if run.summary != expected {
            eprintln!("  !! expected `{expected}`: the readers and the spec disagree somewhere");
        }
    }

    // The rest: every resource live, the steady state of a drift check in CI.
    let rest: Vec<Resource> = project
        .resources
        .iter()
        .filter(|r| !share.contains(r))
        .cloned()
        .collect();
    let started = Instant::now();
    runtime
        .block_on(outofband::create_all(&moto, STACK, &rest))
        .unwrap_or_else(|e| panic!("creating the rest: {e}"));
    println!(
        "created the other {} out of band in {:.1} s",
        rest.len(),
        started.elapsed().as_secs_f64()
    );
    for i in 1..=runs {
        let run = plan(&moto, dir.path());
        report(&format!("all {total} resources live, run {i}/{runs}"), &run);
        if run.exit != Some(0) {
            eprintln!("  !! expected no changes (exit 0)");
        }
    }
}
