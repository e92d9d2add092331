//! What bench 1 measures with, shared by the suite (`load.rs`) and the core-only
//! harness `crates/drplan-core/examples/load_mem.rs` (which includes this file): the
//! process's CPU and peak RSS, and the live state a converged cloud would report.

use super::topology::STACK;
use drplan_core::live::{LiveObject, LiveState};
use drplan_core::resource::Resource;
use serde_json::Value;

/// CPU seconds (user + system) this process has used, and its peak RSS in MB.
pub fn rusage() -> (f64, f64) {
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

/// The live state a fully converged cloud would report, with every 100th object
/// drifted (a changed tag) so the diff has updates to describe, as a drift check would.
/// Every object is read into its own maps; then, as `plan` does once the whole state
/// is read and its references resolved (`src/planning.rs`), the converged ones share
/// the desired maps (`LiveState::share_converged`).
pub fn synthesize_live(resources: &[Resource]) -> LiveState {
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
    let mut state = LiveState {
        objects,
        ..LiveState::default()
    };
    state.share_converged(resources);
    state
}
