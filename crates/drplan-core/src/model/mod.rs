//! The desired model: a loaded, evaluated and validated project.
//!
//! `spec` builds it from HCL; everything downstream (graph, plan, objectives, the
//! commands) reads it. It carries no HCL types: serialization lives at the edges.

pub mod environment;
pub mod topology;

pub use environment::{ClusterAccess, Environment, LockSettings};
pub use topology::*;

use crate::address::Address;
use crate::resource::Resource;
use std::path::PathBuf;

/// A project loaded for one environment.
#[derive(Clone, Debug)]
pub struct Project {
    /// The project root (`-C DIR`).
    pub root: PathBuf,
    /// The files this load read, each once (`spec::files::Sources`): a second
    /// evaluation of the same project reads them from here.
    pub sources: std::sync::Arc<crate::spec::files::Sources>,
    /// The environment name (`-e ENV`).
    pub env_name: String,
    pub environment: Environment,
    pub topology: Topology,
    /// Every managed object the topology describes, flattened for planning.
    pub resources: Vec<Resource>,
    /// SHA-256 over every spec, environment and manifest file read (sorted by path).
    /// A saved plan records it to detect a changed spec.
    pub digest: String,
    /// The spec's `moved` blocks: renamed addresses whose objects the diff should
    /// find under their old mark.
    pub moved: Vec<Moved>,
    /// The variable values given outside the environment file (`--var`,
    /// `--var-file`, `DRPLAN_VAR_`), so a second evaluation (the RTO's) sees them too.
    pub vars: environment::VarInputs,
    /// The environments this one `extends`, nearest first (`spec::extends`).
    pub extends: Vec<String>,
    /// The spec's `import` blocks: existing unmarked objects to take over.
    pub imports: Vec<Import>,
    /// Import blocks whose `to` no spec block makes: empty, except in a load for
    /// `drplan import --generate-config-out` (`spec::load_project_generating`), where
    /// they are the blocks to write instead of errors.
    pub unwritten_imports: Vec<Import>,
    /// The spec's `removed` blocks: objects no longer in the spec to keep (forget)
    /// or to destroy even though protected.
    pub removed: Vec<Removed>,
    /// What the load found worth saying that does not stop it: mirrors that differ
    /// (`spec::parity`). `validate` prints them.
    pub warnings: crate::spec::Diagnostics,
}

/// `removed { from = ..  lifecycle { destroy = .. } }` (`spec::removed`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Removed {
    pub from: Address,
    /// false: drop drplan's marks and keep the object; true: delete it, protected or not.
    pub destroy: bool,
}

/// `import { to = ..  id = .. }`: the existing object with cloud id `id` becomes the
/// resource at `to` (`spec::import`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Import {
    pub to: Address,
    pub id: String,
}

impl Import {
    /// Whether `object`, unmarked, is the one this block names: by cloud id
    /// (`vpc-0a1b`, `Z123`), by name for the kinds named by it (`example.com`), or by
    /// the tail of the object's path-like id (`shop/api` for
    /// `apps/v1/Deployment/shop/api`, `primary/general` for a node group). Trailing
    /// dots of DNS names and an empty last part (a record without a set identifier)
    /// are not significant.
    pub fn names(&self, object: &crate::live::LiveObject) -> bool {
        if object.stack.is_some() || object.address.is_some() {
            return false;
        }
        let wanted = import_form(&self.id);
        let live_id = import_form(&object.id);
        let name = object
            .attrs
            .get("name")
            .and_then(serde_json::Value::as_str)
            .map(|n| n.trim_end_matches('.'));
        wanted == live_id
            || Some(wanted.as_str()) == name
            || live_id.ends_with(&format!("/{wanted}"))
    }
}

/// An id as `import` compares it: `a.b./c/TYPE/` and `a.b/c/TYPE` are one id.
fn import_form(id: &str) -> String {
    id.trim_end_matches('/')
        .split('/')
        .map(|p| p.trim_end_matches('.'))
        .collect::<Vec<_>>()
        .join("/")
}

/// `moved { from = ..  to = .. }`: the address (and everything under it) that a block
/// had before a rename, and the one it has now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moved {
    pub from: Address,
    pub to: Address,
}
