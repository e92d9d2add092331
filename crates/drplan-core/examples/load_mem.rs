//! Bench 1 (`benches/suite/load.rs`) without building the AWS SDK: writes the bench
//! topology, then loads, synthesizes live state and diffs as `load::child` does, and
//! prints CPU, peak RSS (`ru_maxrss`) and the heap bytes live after each stage (a counting
//! allocator) to find where memory goes.
//!
//! `cargo run --release -p drplan-core --example load_mem -- 10000 [DIR]`
//!
//! The load reports its own stages (parsed, nodes built, blocks decoded, ...) through
//! `drplan_core::probe`.
//!
//! With `LOAD_MEM_FORGET=1` the project, live state and plan are leaked at exit, so a
//! heap profiler's "leaked" view (`heaptrack`) shows what the steady state holds.

// jemalloc with drplan's options, as the `drplan` binary and bench 1 run.
#[path = "../../../src/allocator.rs"]
mod allocator;
#[path = "../../../benches/suite/synthetic.rs"]
mod synthetic;
#[path = "../../../benches/suite/topology.rs"]
#[allow(dead_code)]
mod topology;

use drplan_core::plan::diff::{diff, DiffContext};
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};
use synthetic::{rusage, synthesize_live};
use tikv_jemallocator::Jemalloc;
use topology::{Topology, ENV, STACK};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// N, for the stages the load reports through `drplan_core::probe`.
static PER: AtomicUsize = AtomicUsize::new(1);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { Jemalloc.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { Jemalloc.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { Jemalloc.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            let now = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn stage(name: &str, per: usize) {
    let live = LIVE.load(Ordering::Relaxed);
    let peak = PEAK.load(Ordering::Relaxed);
    let (_, rss) = rusage();
    eprintln!(
        "{name:<24} live {:>8.1} MB ({:>6} B/resource)  heap peak {:>8.1} MB  peak RSS {:>7.1} MB",
        live as f64 / 1e6,
        live / per.max(1),
        peak as f64 / 1e6,
        rss
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let tmp;
    let dir = match args.next() {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            tmp = tempfile::tempdir().expect("tempdir");
            tmp.path().to_path_buf()
        }
    };
    if !dir.join("specs/topology.hcl").exists() {
        Topology::new(n, 2).write(&dir).expect("write topology");
    }
    LIVE.store(0, Ordering::Relaxed);
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);

    PER.store(n, Ordering::Relaxed);
    let _ = drplan_core::probe::HOOK.set(|name| stage(name, PER.load(Ordering::Relaxed)));
    let (cpu0, _) = rusage();
    let project = drplan_core::spec::load_project(&dir, ENV).unwrap_or_else(|d| {
        eprintln!("{}", d.render(false, 100));
        std::process::exit(1)
    });
    let (cpu1, _) = rusage();
    let count = project.resources.len();
    stage("after load_project", count);
    let live = synthesize_live(&project.resources);
    stage("after synthesize_live", count);
    let ctx = DiffContext {
        stack: STACK.into(),
        environment: ENV.into(),
        spec_digest: project.digest.clone(),
        ..DiffContext::default()
    };
    let (cpu2, _) = rusage();
    let plan = diff(&project.resources, &live, &ctx);
    let (cpu3, _) = rusage();
    stage("after diff", count);
    let (_, rss) = rusage();
    let updates = plan.summary().change;
    println!(
        "LOAD n={n} resources={count} load_cpu={:.3} diff_cpu={:.3} total_cpu={:.3} peak_rss_mb={rss:.1} updates={updates}",
        cpu1 - cpu0,
        cpu3 - cpu2,
        cpu1 - cpu0 + cpu3 - cpu2,
    );
    if std::env::var_os("LOAD_MEM_FORGET").is_some() {
        std::mem::forget((project, live, plan));
    }
}
