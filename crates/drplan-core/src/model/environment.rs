//! Environment settings from `environments/<env>.hcl`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// Written into every ownership mark. Environments describing the same
    /// infrastructure (`prod`, `prod-dr`) share it.
    pub stack: String,
    /// AWS account guard: plan and apply refuse to run against any other account.
    pub account_id: Option<String>,
    /// The site serving traffic. Defaults to the site whose role is `primary`.
    /// Naming a `dr` site here is DR activation.
    pub active_site: String,
    /// Where `apply` takes its lock.
    pub lock: Option<LockSettings>,
    /// How to reach each cluster's Kubernetes API, keyed by the `cluster` block label.
    pub cluster_access: BTreeMap<String, ClusterAccess>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockSettings {
    pub bucket: String,
    pub region: String,
    /// Object key; defaults to `drplan/locks/<stack>.json`.
    pub key: Option<String>,
    /// How long the lock stays held without being renewed (`lease = "2m"`): the
    /// holder renews it while it runs, so a killed apply's lock lapses after this.
    #[serde(default = "default_lease")]
    pub lease: Duration,
}

/// `lock { lease }` when the environment does not set it.
pub const DEFAULT_LOCK_LEASE: Duration = Duration::from_secs(120);

fn default_lease() -> Duration {
    DEFAULT_LOCK_LEASE
}

/// How drplan talks to one cluster's API server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ClusterAccess {
    /// Default for EKS: endpoint + CA from DescribeCluster, STS-presigned token.
    Eks,
    /// A context in a kubeconfig file (`$KUBECONFIG` / `~/.kube/config` when `path`
    /// is None).
    Kubeconfig {
        path: Option<String>,
        context: String,
    },
}
