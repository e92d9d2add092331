//! Bench 1: parse + validate + lower + diff, no network. Each size runs in a child
//! process (this executable, re-run with `--load-child`) so its peak RSS is its own:
//! the kernel's high-water mark (`getrusage` `ru_maxrss`), not a sample.

use super::synthetic::{rusage, synthesize_live};
use super::topology::{Topology, ENV, STACK};
use drplan_core::plan::diff::{diff, DiffContext};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

pub struct Row {
    pub n: usize,
    pub resources: usize,
    pub hcl_mb: f64,
    pub load_cpu: f64,
    pub diff_cpu: f64,
    pub wall: f64,
    pub peak_rss_mb: f64,
    pub updates: usize,
}

/// Runs in the child: prints one `LOAD key=value ...` line.
pub fn child(dir: &Path) -> Result<(), String> {
    let started = Instant::now();
    let (cpu0, _) = rusage();
    let project = drplan_core::spec::load_project(dir, ENV).map_err(|d| d.render(false, 100))?;
    let (cpu1, _) = rusage();
    // Synthesizing the live side stands in for the readers; it is not timed, but its
    // memory counts (a real plan holds the live objects too).
    let live = synthesize_live(&project.resources);
    let (cpu2, _) = rusage();
    let ctx = DiffContext {
        stack: STACK.into(),
        environment: ENV.into(),
        spec_digest: project.digest.clone(),
        allow_destroy: Vec::new(),
        activated_site: None,
        imports: Vec::new(),
        replace: Vec::new(),
        removed: Vec::new(),
        site_regions: Default::default(),
    };
    let plan = diff(&project.resources, &live, &ctx);
    let (cpu3, rss) = rusage();
    let updates = plan.summary().change;
    println!(
        "LOAD resources={} load_cpu={:.4} diff_cpu={:.4} wall={:.4} peak_rss_mb={:.1} updates={updates}",
        project.resources.len(),
        cpu1 - cpu0,
        cpu3 - cpu2,
        started.elapsed().as_secs_f64(),
        rss
    );
    Ok(())
}

pub fn run(sizes: &[usize]) -> Result<Vec<Row>, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for &n in sizes {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        // Two sites, as most DR stacks; the plan bench uses four.
        Topology::new(n, 2)
            .write(dir.path())
            .map_err(|e| e.to_string())?;
        let hcl_bytes: u64 = ["specs/sites.hcl", "specs/topology.hcl"]
            .iter()
            .filter_map(|f| std::fs::metadata(dir.path().join(f)).ok())
            .map(|m| m.len())
            .sum();
        let out = Command::new(&exe)
            .arg("--load-child")
            .arg(dir.path())
            .output()
            .map_err(|e| e.to_string())?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let Some(line) = stdout.lines().find(|l| l.starts_with("LOAD ")) else {
            return Err(format!(
                "load child for N={n} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        };
        let field = |key: &str| -> f64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or(f64::NAN)
        };
        rows.push(Row {
            n,
            resources: field("resources") as usize,
            hcl_mb: hcl_bytes as f64 / 1e6,
            load_cpu: field("load_cpu"),
            diff_cpu: field("diff_cpu"),
            wall: field("wall"),
            peak_rss_mb: field("peak_rss_mb"),
            updates: field("updates") as usize,
        });
    }
    Ok(rows)
}

pub fn print(rows: &[Row]) {
    println!("\n## 1. parse + validate + lower + diff (no network; live state synthesized, 1% drifted)\n");
    println!("| N | resources | HCL | load CPU | diff CPU | total CPU | wall (child) | peak RSS | updates |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in rows {
        println!(
            "| {} | {} | {:.1} MB | {:.3} s | {:.3} s | {:.3} s | {:.3} s | {:.1} MB | {} |",
            r.n,
            r.resources,
            r.hcl_mb,
            r.load_cpu,
            r.diff_cpu,
            r.load_cpu + r.diff_cpu,
            r.wall,
            r.peak_rss_mb,
            r.updates
        );
    }
}
