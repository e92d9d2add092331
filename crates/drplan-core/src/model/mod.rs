//! The desired model: a loaded, evaluated and validated project.
//!
//! `spec` builds it from HCL; everything downstream (graph, plan, objectives, the
//! commands) reads it. It carries no HCL types: serialization lives at the edges.

pub mod environment;
pub mod topology;

pub use environment::{ClusterAccess, Environment, LockSettings};
pub use topology::*;

use crate::resource::Resource;
use std::path::PathBuf;

/// A project loaded for one environment.
#[derive(Clone, Debug)]
pub struct Project {
    /// The project root (`-C DIR`).
    pub root: PathBuf,
    /// The environment name (`-e ENV`).
    pub env_name: String,
    pub environment: Environment,
    pub topology: Topology,
    /// Every managed object the topology describes, flattened for planning.
    pub resources: Vec<Resource>,
    /// SHA-256 over every spec, environment and manifest file read (sorted by path).
    /// A saved plan records it to detect a changed spec.
    pub digest: String,
}
