//! drplan's core: everything that can be decided without talking to a cloud.
//!
//! **Architecture invariant:** nothing in this crate does network IO. The spec loader
//! reads files; everything else is a pure function of its inputs. Live state comes in
//! as [`live::LiveState`] values built by the readers in the `drplan` crate.

pub mod address;
pub mod adopt;
pub mod drill;
pub mod graph;
pub mod kinds;
pub mod kubernetes;
pub mod live;
pub mod marks;
pub mod model;
pub mod objectives;
pub mod plan;
pub mod promote;
pub mod render;
pub mod resource;
pub mod runbook;
pub mod spec;

/// Marks between the load's stages, for `examples/load_mem.rs` to report the heap at
/// each (BENCHMARKS.md, section 9). Nothing is called unless that harness sets a hook.
#[doc(hidden)]
pub mod probe {
    pub static HOOK: std::sync::OnceLock<fn(&str)> = std::sync::OnceLock::new();

    pub fn stage(name: &str) {
        if let Some(f) = HOOK.get() {
            f(name)
        }
    }
}
