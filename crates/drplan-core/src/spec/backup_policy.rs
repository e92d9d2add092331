//! `backup` policies compile into their buckets' lifecycle and replication rules
//! (docs/spec-reference.md, `backup`). Kubernetes CronJobs and restore Jobs are built
//! elsewhere from the same `Backup` values.

use crate::model::{LifecycleRule, Replication, ReplicationRule, SiteRole, Topology};

pub fn rule_id(label: &str) -> String {
    format!("drplan-backup-{label}")
}

pub fn compile(t: &mut Topology) {
    let backups: Vec<_> = t.backups.values().cloned().collect();
    for b in backups {
        let id = rule_id(&b.label);
        let role_of = |site: &str| t.sites.get(site).map(|s| s.role);
        let mut primary_bucket = None;
        let mut others = Vec::new();
        for p in b.placements.values() {
            let role = role_of(&p.site);
            let days = match role {
                Some(SiteRole::Primary) => b.local_retention,
                _ => b.cross_region_retention,
            }
            .map(|d| (d.as_secs() / 86_400) as i64);
            if role == Some(SiteRole::Primary) {
                primary_bucket = Some(p.bucket.clone());
            } else {
                others.push(p.bucket.clone());
            }
            let Some(bucket) = t.buckets.get_mut(&p.bucket) else {
                continue;
            };
            if let Some(days) = days {
                if !bucket.lifecycle_rules.iter().any(|r| r.id == id) {
                    bucket.lifecycle_rules.push(LifecycleRule {
                        id: id.clone(),
                        prefix: b.prefix.clone(),
                        expiration_days: Some(days),
                        noncurrent_expiration_days: None,
                        transitions: Vec::new(),
                    });
                }
            }
        }
        let (Some(role_arn), Some(source)) = (b.replication_role_arn.clone(), primary_bucket)
        else {
            continue;
        };
        let several = others.len() > 1;
        let Some(bucket) = t.buckets.get_mut(&source) else {
            continue;
        };
        for dest in others {
            if dest == source {
                continue;
            }
            let replication = bucket.replication.get_or_insert_with(|| Replication {
                role_arn: role_arn.clone(),
                rules: Vec::new(),
            });
            let already = replication
                .rules
                .iter()
                .any(|r| r.destination == dest && b.prefix.starts_with(&r.prefix));
            if already {
                continue;
            }
            let rule_id = if several {
                format!("{id}-{dest}")
            } else {
                id.clone()
            };
            replication.rules.push(ReplicationRule {
                id: rule_id,
                prefix: b.prefix.clone(),
                destination: dest,
                storage_class: None,
                replica_kms_key_id: None,
            });
        }
    }
}
