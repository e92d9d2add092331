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
    /// Sites kept in another AWS account, keyed by site label: every request to the
    /// site's region is made with its credentials, and the guard checks its account.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub site_accounts: BTreeMap<String, SiteAccount>,
}

/// `site_account "<site>" { ... }`: the account a site lives in and how to reach it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteAccount {
    /// The guard: requests to the site's region are refused with any other account's
    /// credentials.
    pub account_id: String,
    pub credentials: SiteCredentials,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SiteCredentials {
    /// A role assumed with the environment's credentials (sts:AssumeRole).
    AssumeRole {
        role_arn: String,
        /// Defaults to `drplan-<stack>`.
        session_name: Option<String>,
        external_id: Option<String>,
    },
    /// A named profile of the shared config files (~/.aws/config).
    Profile(String),
    /// The environment's own credentials (the account is only checked).
    Default,
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

/// The process environment's prefix for a variable's value (`DRPLAN_VAR_<name>`).
pub const VAR_PREFIX: &str = "DRPLAN_VAR_";

/// What the command line and the process environment say about variables. Its
/// `Debug` shows names only: the values are often secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct VarInputs {
    /// `--var-file` paths, in order.
    pub files: Vec<VarFile>,
    /// `--var` arguments as typed (`name=value`), in order.
    pub flags: Vec<String>,
    /// `DRPLAN_VAR_<name>` values: (name, value).
    pub process: Vec<(String, String)>,
    /// Values read from secret stores for the environment's `secret` blocks: (variable,
    /// value). Absent for a command that does not read the cloud (validate, graph).
    pub secrets: Vec<(String, String)>,
}

/// A `--var-file`: `shown` as the user typed it (diagnostics, digest); `path`
/// resolved against the working directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarFile {
    pub shown: String,
    pub path: std::path::PathBuf,
}

impl VarInputs {
    /// The `DRPLAN_VAR_<name>` entries of `vars` (the process environment).
    pub fn from_process(vars: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = vars
            .into_iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(VAR_PREFIX)
                    .filter(|n| !n.is_empty())
                    .map(|n| (n.to_string(), v))
            })
            .collect();
        out.sort();
        out
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
            && self.flags.is_empty()
            && self.process.is_empty()
            && self.secrets.is_empty()
    }
}

impl std::fmt::Debug for VarInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = |s: &String| s.split_once('=').map_or(s.as_str(), |(n, _)| n).to_string();
        f.debug_struct("VarInputs")
            .field("files", &self.files)
            .field("flags", &self.flags.iter().map(name).collect::<Vec<_>>())
            .field(
                "process",
                &self.process.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field(
                "secrets",
                &self.secrets.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Where a secret variable's value lives (`secret "<variable>" { ... }` in an
/// environment file): read by the binary at plan and apply time, never stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRef {
    /// The variable it sets.
    pub variable: String,
    pub store: SecretStore,
    /// The parameter name (SSM) or secret id/ARN (Secrets Manager).
    pub id: String,
    pub region: String,
    /// For a Secrets Manager secret holding JSON: the key whose value to take.
    pub json_key: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretStore {
    SsmParameter,
    SecretsManager,
}

impl std::fmt::Display for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.store {
            SecretStore::SsmParameter => write!(f, "SSM parameter {} in {}", self.id, self.region)?,
            SecretStore::SecretsManager => {
                write!(f, "Secrets Manager secret {} in {}", self.id, self.region)?
            }
        }
        if let Some(key) = &self.json_key {
            write!(f, " (JSON key {key})")?;
        }
        Ok(())
    }
}
