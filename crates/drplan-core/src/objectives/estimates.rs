//! How long each operation of a DR activation takes: documented defaults, overridden
//! by the spec's `objectives { estimates { ... } }`, by a backup policy's
//! `restore_estimate` (and, later, by drill measurements).

use crate::model::Topology;
use crate::resource::Kind;
use std::collections::BTreeMap;
use std::time::Duration;

/// Estimate key for a backup policy's restore Job (not a resource type of its own:
/// the Job is a `kubernetes_object`, but restoring data takes far longer than applying
/// an object).
pub const RESTORE_JOB: &str = "restore_job";

/// Every key `objectives { estimates { } }` accepts: a resource type name (its
/// creation), `<type>_update` (an in-place change), and `restore_job`.
pub const KEYS: &[&str] = &[
    "aws_vpc",
    "aws_subnet",
    "aws_vpc_peering_connection",
    "aws_eks_cluster",
    "aws_eks_node_group",
    "aws_kms_key",
    "aws_kms_replica_key",
    "aws_s3_bucket",
    "aws_ecr_repository",
    "aws_elasticache_replication_group",
    "aws_route53_zone",
    "aws_route53_record",
    "aws_route53_health_check",
    "kubernetes_object",
    "aws_vpc_update",
    "aws_subnet_update",
    "aws_vpc_peering_connection_update",
    "aws_eks_cluster_update",
    "aws_eks_node_group_update",
    "aws_kms_key_update",
    "aws_kms_replica_key_update",
    "aws_s3_bucket_update",
    "aws_ecr_repository_update",
    "aws_elasticache_replication_group_update",
    "aws_route53_zone_update",
    "aws_route53_record_update",
    "aws_route53_health_check_update",
    "kubernetes_object_update",
    RESTORE_JOB,
];

/// Restoring data: the restore Job's default.
const RESTORE_JOB_DEFAULT: u64 = 20 * 60;

/// Defaults, from what EKS, S3 and Route53 typically take: each kind's
/// `KindInfo::estimate_create` and `estimate_update`, in `KEYS` order. Keep
/// docs/objectives.md in step (a test compares the table with this list).
fn defaults() -> Vec<(String, u64)> {
    let creates = Kind::ALL
        .iter()
        .map(|k| (k.type_name().to_string(), k.info().estimate_create));
    let updates = Kind::ALL.iter().map(|k| {
        (
            format!("{}_update", k.type_name()),
            k.info().estimate_update,
        )
    });
    creates
        .chain(updates)
        .chain([(RESTORE_JOB.to_string(), RESTORE_JOB_DEFAULT)])
        .collect()
}

/// One operation of a DR activation, and so one estimate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    /// A creation, or the creation half of a replacement.
    Create(Kind),
    /// An in-place change (a node group scaled up, a record's failover flipped).
    Update(Kind),
    /// The restore Job of the backup policy with this label.
    Restore(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Estimates {
    by_key: BTreeMap<String, Duration>,
    /// Backup label -> its `restore_estimate`.
    restores: BTreeMap<String, Duration>,
    /// Backup label -> its restore as a recent drill measured it (beats both).
    measured: BTreeMap<String, Measured>,
    /// Node-group address -> its scale-up as a recent drill or DR activation measured
    /// it (beats `aws_eks_node_group_update`).
    measured_scale_ups: BTreeMap<String, Measured>,
}

/// What recent drills and DR activations measured (`drplan::drill::record`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MeasuredDurations {
    /// Backup label -> its restore.
    pub restores: BTreeMap<String, Measured>,
    /// Node-group address -> its scale-up to the activated size.
    pub scale_ups: BTreeMap<String, Measured>,
}

/// A restore duration a drill measured (`drplan drill`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Measured {
    pub duration: Duration,
    pub drill: String,
    /// The drill's date, `YYYY-MM-DD`.
    pub date: String,
}

impl Default for Estimates {
    fn default() -> Self {
        Estimates::defaults()
    }
}

impl Estimates {
    pub fn defaults() -> Self {
        Estimates {
            by_key: defaults()
                .into_iter()
                .map(|(k, s)| (k, Duration::from_secs(s)))
                .collect(),
            restores: BTreeMap::new(),
            measured: BTreeMap::new(),
            measured_scale_ups: BTreeMap::new(),
        }
    }

    /// The defaults with the spec's overrides applied.
    pub fn for_topology(t: &Topology) -> Self {
        let mut e = Estimates::defaults();
        if let Some(o) = &t.objectives {
            e.override_with(&o.estimates);
        }
        e.restores = t
            .backups
            .values()
            .filter_map(|b| b.restore_estimate.map(|d| (b.label.clone(), d)))
            .collect();
        e
    }

    /// Restores measured by drills replace the estimates of their policies, and
    /// measured node-group scale-ups the estimate of theirs.
    pub fn with_measured(mut self, measured: MeasuredDurations) -> Self {
        self.measured = measured.restores;
        self.measured_scale_ups = measured.scale_ups;
        self
    }

    /// The measured scale-up of the node group at `address`, as the critical path
    /// shows it, when a recent drill or activation measured one.
    pub fn measured_scale_up(&self, address: &str) -> Option<(String, Duration)> {
        self.measured_scale_ups.get(address).map(|m| {
            (
                format!("measured in drill {} on {}", m.drill, m.date),
                m.duration.max(Duration::from_secs(1)),
            )
        })
    }

    pub fn override_with(&mut self, overrides: &BTreeMap<String, Duration>) {
        for (k, d) in overrides {
            self.by_key.insert(k.clone(), *d);
        }
    }

    /// The estimate for a key; unknown keys take no time (every operation has a
    /// default, so they cannot come up).
    pub fn get(&self, key: &str) -> Duration {
        self.by_key.get(key).copied().unwrap_or_default()
    }

    pub fn for_kind(&self, kind: Kind) -> Duration {
        self.get(kind.type_name())
    }

    /// The key an operation is estimated by (shown in the critical path) and its
    /// duration.
    pub fn operation(&self, op: &Operation) -> (String, Duration) {
        match op {
            Operation::Create(kind) => (kind.type_name().to_string(), self.for_kind(*kind)),
            Operation::Update(kind) => {
                let key = format!("{}_update", kind.type_name());
                let d = self.get(&key);
                (key, d)
            }
            Operation::Restore(label) => match self.measured.get(label) {
                Some(m) => (
                    format!("measured in drill {} on {}", m.drill, m.date),
                    m.duration.max(Duration::from_secs(1)),
                ),
                None => self.estimated_restore(label),
            },
        }
    }

    fn estimated_restore(&self, label: &str) -> (String, Duration) {
        match self.restores.get(label) {
            Some(d) => (format!("backup.{label}.restore_estimate"), *d),
            None => (RESTORE_JOB.to_string(), self.get(RESTORE_JOB)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, Duration)> {
        self.by_key.iter().map(|(k, d)| (k.as_str(), *d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_default_and_every_kind_both_keys() {
        let defaults: Vec<(String, u64)> = defaults();
        let defaults: Vec<&str> = defaults.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(defaults, KEYS);
        for kind in Kind::ALL {
            assert!(KEYS.contains(&kind.type_name()));
            assert!(KEYS.contains(&format!("{}_update", kind.type_name()).as_str()));
        }
    }
}
