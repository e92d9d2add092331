//! How long each operation of a DR bring-up takes: documented defaults, overridden by
//! the spec's `objectives { estimates { ... } }` (and, later, by drill measurements).

use crate::model::Topology;
use crate::resource::Kind;
use std::collections::BTreeMap;
use std::time::Duration;

/// Estimate key for a backup policy's restore Job (not a resource type of its own:
/// the Job is a `kubernetes_object`, but restoring data takes far longer than applying
/// an object).
pub const RESTORE_JOB: &str = "restore_job";

/// Defaults, from what EKS, S3 and Route53 typically take when creating from scratch.
/// Keep docs/objectives.md in step.
const DEFAULTS: &[(&str, u64)] = &[
    ("aws_vpc", 30),
    ("aws_subnet", 30),
    ("aws_eks_cluster", 15 * 60),
    ("aws_eks_node_group", 5 * 60),
    ("aws_s3_bucket", 10),
    ("aws_route53_zone", 60),
    // Record changes take about a minute to reach every Route53 name server.
    ("aws_route53_record", 60),
    ("aws_route53_health_check", 30),
    ("kubernetes_object", 30),
    (RESTORE_JOB, 20 * 60),
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Estimates {
    by_key: BTreeMap<String, Duration>,
}

impl Default for Estimates {
    fn default() -> Self {
        Estimates::defaults()
    }
}

impl Estimates {
    pub fn defaults() -> Self {
        Estimates {
            by_key: DEFAULTS.iter().map(|(k, s)| ((*k).to_string(), Duration::from_secs(*s))).collect(),
        }
    }

    /// The defaults with the spec's overrides applied.
    pub fn for_topology(t: &Topology) -> Self {
        let mut e = Estimates::defaults();
        if let Some(o) = &t.objectives {
            e.override_with(&o.estimates);
        }
        e
    }

    pub fn override_with(&mut self, overrides: &BTreeMap<String, Duration>) {
        for (k, d) in overrides {
            self.by_key.insert(k.clone(), *d);
        }
    }

    /// The estimate for a key; unknown keys take no time (they cannot be on a path:
    /// every kind has a default).
    pub fn get(&self, key: &str) -> Duration {
        self.by_key.get(key).copied().unwrap_or_default()
    }

    pub fn for_kind(&self, kind: Kind) -> Duration {
        self.get(kind.type_name())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, Duration)> {
        self.by_key.iter().map(|(k, d)| (k.as_str(), *d))
    }
}
