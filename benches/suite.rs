//! The benchmark suite (BENCHMARKS.md): run with `scripts/bench.sh`. Not part of
//! `cargo test`; it measures rather than asserts, apart from sanity checks that keep
//! the figures honest (plans of a fully live cloud say "No changes", apply succeeds
//! and converges).
//!
//! `cargo bench --bench suite -- [load] [plan] [apply]` (all three by default).
//! Sizes: BENCH_LOAD_N (default 1000,10000,50000), BENCH_PLAN_N (500,2000,5000),
//! BENCH_PLAN_LATENCY_MS (0,50), BENCH_PLAN_EVIDENCE (`compare`: each plan again with
//! `--skip-evidence`), BENCH_APPLY_N (200,500), BENCH_APPLY_LATENCY_MS (50).

#[path = "../tests/e2e/support/mod.rs"]
mod support;

/// The suite's modules live in benches/suite/.
mod suite {
    pub mod apply;
    pub mod load;
    pub mod plan;
    pub mod rig;
    pub mod synthetic;
    pub mod topology;
}

use std::time::Instant;
use suite::{apply, load, plan};

fn list(var: &str, default: &[u64]) -> Vec<u64> {
    std::env::var(var)
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

fn fail(msg: String) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1);
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!(
        "{cores} cores ({cpu}), load average {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--load-child") {
        let Some(dir) = args.get(i + 1) else {
            fail("--load-child needs a project directory".into())
        };
        if let Err(e) = load::child(std::path::Path::new(dir)) {
            fail(e);
        }
        return;
    }
    let wanted: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| ["load", "plan", "apply"].contains(a))
        .collect();
    let runs = |name: &str| wanted.is_empty() || wanted.contains(&name);
    let started = Instant::now();
    println!("# drplan benchmarks\n\nmachine: {}", machine());

    if runs("load") {
        let sizes: Vec<usize> = list("BENCH_LOAD_N", &[1000, 10_000, 50_000])
            .into_iter()
            .map(|n| n as usize)
            .collect();
        match load::run(&sizes) {
            Ok(rows) => load::print(&rows),
            Err(e) => fail(e),
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(e.to_string()));
    if runs("plan") {
        let sizes: Vec<usize> = list("BENCH_PLAN_N", &[500, 2000, 5000])
            .into_iter()
            .map(|n| n as usize)
            .collect();
        let latencies = list("BENCH_PLAN_LATENCY_MS", &[0, 50]);
        match runtime.block_on(plan::run(&sizes, &latencies)) {
            Ok(rows) => plan::print(&rows),
            Err(e) => fail(e),
        }
    }
    if runs("apply") {
        let latency = list("BENCH_APPLY_LATENCY_MS", &[50])
            .first()
            .copied()
            .unwrap_or(50);
        for n in list("BENCH_APPLY_N", &[200, 500]) {
            match runtime.block_on(apply::run(n as usize, latency)) {
                Ok(report) => apply::print(&report),
                Err(e) => fail(e),
            }
        }
    }
    println!(
        "\nsuite finished in {:.0} s; machine at the end: {}",
        started.elapsed().as_secs_f64(),
        machine()
    );
}
