//! Bench 1 (`benches/suite/load.rs`) without building the AWS SDK: writes the bench
//! topology, then loads, synthesizes live state and diffs as `load::child` does, and
//! prints CPU, peak RSS (`ru_maxrss`) and the heap bytes live after each stage (a counting
//! allocator) to find where memory goes.
//!
//! `cargo run --release -p drplan-core --example load_mem -- 10000 [DIR]`

#[path = "../../../benches/suite/topology.rs"]
#[allow(dead_code)]
mod topology;

use drplan_core::live::{LiveObject, LiveState};
use drplan_core::plan::diff::{diff, DiffContext};
use drplan_core::resource::Resource;
use serde_json::Value;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use topology::{Topology, ENV, STACK};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
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

/// CPU seconds (user + system) and peak RSS in MB, as bench 1 measures them.
fn rusage() -> (f64, f64) {
    // SAFETY: getrusage only writes into the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return (f64::NAN, f64::NAN);
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (
        secs(usage.ru_utime) + secs(usage.ru_stime),
        usage.ru_maxrss as f64 / 1024.0,
    )
}

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

/// As `benches/suite/load.rs`.
fn synthesize_live(resources: &[Resource]) -> LiveState {
    let objects = resources
        .iter()
        .enumerate()
        .map(|(i, r)| {
            // A reader builds its own maps: a deep copy, never the desired one shared.
            let mut attrs: serde_json::Map<String, Value> = (*r.attrs).clone();
            if i % 100 == 7 {
                if let Some(Value::Object(tags)) = attrs.get_mut("tags") {
                    tags.insert("drifted".into(), Value::String("yes".into()));
                }
            }
            LiveObject {
                kind: r.kind,
                id: format!("live-{i}"),
                region: r.region.clone(),
                address: Some(r.address.clone()),
                stack: Some(STACK.to_string()),
                attrs: attrs.into(),
            }
        })
        .collect();
    LiveState {
        objects,
        ..LiveState::default()
    }
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
}
