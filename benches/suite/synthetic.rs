//! What bench 1 measures with, shared by the suite (`load.rs`) and the core-only
//! harness `crates/drplan-core/examples/load_mem.rs` (which includes this file): the
//! process's CPU and peak RSS, and the live state a converged cloud would report.

use super::topology::STACK;
use drplan_core::kinds::address_attrs;
use drplan_core::live::{DesiredMaps, LiveObject, LiveState};
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
/// Built as `plan` reads (`src/live`, `src/planning.rs`): every object is read into its
/// own maps, with cloud ids where the spec has addresses (`id:<address>` here), and
/// shared with the desired map as it is built where already equal
/// (`DesiredMaps::share`); then the ids are resolved (`LiveState::resolve_ids`) and
/// what now equals the spec shares too (`LiveState::share_converged`).
pub fn synthesize_live(resources: &[Resource]) -> LiveState {
    let desired = DesiredMaps::new(resources);
    let id_of = |address: &str| format!("id:{address}");
    let objects = resources
        .iter()
        .enumerate()
        .map(|(i, r)| {
            // A reader builds its own maps: a deep copy, never the desired one shared.
            let mut attrs: serde_json::Map<String, Value> = (*r.attrs).clone();
            for key in address_attrs(r.kind) {
                match attrs.get_mut(key) {
                    Some(Value::String(s)) => *s = id_of(s),
                    Some(Value::Array(items)) => {
                        for item in items {
                            if let Value::String(s) = item {
                                *s = id_of(s);
                            }
                        }
                    }
                    _ => {}
                }
            }
            if i % 100 == 7 {
                if let Some(Value::Object(tags)) = attrs.get_mut("tags") {
                    tags.insert("drifted".into(), Value::String("yes".into()));
                }
            }
            desired.shared(LiveObject {
                kind: r.kind,
                id: id_of(r.address.as_str()),
                region: r.region.clone(),
                address: Some(r.address.clone()),
                stack: Some(STACK.to_string()),
                attrs: attrs.into(),
            })
        })
        .collect();
    let mut state = LiveState {
        objects,
        ..LiveState::default()
    };
    state.resolve_ids();
    state.share_converged(&desired);
    state
}
