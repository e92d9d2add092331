//! The restore Jobs of a failback: while the live clusters show a DR site still
//! activated (its restore Job is there) and the environment serves from the primary
//! again, each policy that was restored in DR is restored back into the primary
//! cluster, from the bucket the DR placement wrote its backups to. The fetch takes
//! the newest full backup there, which is the one DR took last (the copies replicated
//! from the primary before the outage are older).
//!
//! The Job's address is `backup.<policy>.placement.<site>.job.failback` (name
//! `<policy>-failback-restore`), apart from DR's `job.restore`, so that `plan::failback`
//! can tell the one-off record of a failback from a restore the spec asks for.

use super::{backup_jobs, object, target};
use crate::address::Address;
use crate::model::{Environment, SiteRole, Topology};
use crate::resource::{Kind, Resource};
use serde_json::Value;

/// The address segment of a failback restore Job under its placement.
pub const FAILBACK_JOB: &str = "failback";

/// `backup.<label>.placement.<site>.job.restore`: the restore Job DR activation of
/// `site` creates.
pub fn dr_restore_address(label: &str, site: &str) -> Address {
    Address::block("backup", label)
        .child("placement", site)
        .child("job", "restore")
}

/// `backup.<label>.placement.<site>.job.failback`.
pub fn failback_address(label: &str, site: &str) -> Address {
    Address::block("backup", label)
        .child("placement", site)
        .child("job", FAILBACK_JOB)
}

/// Whether `address` is a failback restore Job (`backup.*.placement.*.job.failback`).
pub fn is_failback_job(address: &Address) -> bool {
    let parts: Vec<&str> = address.as_str().split('.').collect();
    matches!(parts.as_slice(), ["backup", _, "placement", _, "job", last] if *last == FAILBACK_JOB)
}

/// One policy restored in DR that the active primary site takes back.
#[derive(Clone, Debug, PartialEq)]
pub struct FailbackRestore {
    pub policy: String,
    /// The DR site whose restore Job is still live.
    pub from_site: String,
    /// The restore Job to create in the active site.
    pub job: Resource,
}

/// The failback restore Jobs for the policies whose DR restore Job is at one of
/// `live_addresses` (owned live objects), when `env` activates a primary-role site.
/// Empty in any other case: normal operation, or DR activation itself.
pub fn failback_restores(
    topology: &Topology,
    env: &Environment,
    live_addresses: &[&Address],
) -> Vec<FailbackRestore> {
    let Some(active) = super::active_site(topology, env) else {
        return Vec::new();
    };
    if topology.sites.get(&active).map(|s| s.role) != Some(SiteRole::Primary) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for b in topology.backups.values() {
        let Some(home) = b.placements.get(&active) else {
            continue;
        };
        let from = b.placements.iter().find(|(site, _)| {
            *site != &active
                && topology
                    .sites
                    .get(*site)
                    .is_some_and(|s| s.role == SiteRole::Dr)
                && live_addresses
                    .iter()
                    .any(|a| **a == dr_restore_address(&b.label, site))
        });
        let Some((from_site, dr_placement)) = from else {
            continue;
        };
        let (Some(target), Some(bucket)) = (
            target(topology, &home.cluster),
            topology.buckets.get(&dr_placement.bucket),
        ) else {
            continue;
        };
        let region = topology
            .sites
            .get(&bucket.site)
            .map(|s| s.region.clone())
            .unwrap_or_default();
        // The DR restore Job exists, so the policy has a restore command.
        let Ok(mut manifest) = backup_jobs::restore_job(b, &bucket.name, &region) else {
            continue;
        };
        let name = format!("{}-failback-restore", backup_jobs::object_name(&b.label));
        manifest["metadata"]["name"] = Value::from(name);
        let address = failback_address(&b.label, &active);
        let job = object::resource(
            manifest,
            |_, _, _| address,
            &target,
            &env.stack,
            Some(b.source.clone()),
        );
        out.push(FailbackRestore {
            policy: b.label.clone(),
            from_site: from_site.clone(),
            job,
        });
    }
    out
}

/// `resources` (a project's desired resources) with the failback restore Jobs added,
/// and waited for as DR activation waits for its restore: by the policy's CronJobs in
/// the same site (a backup of the not yet restored store must not become the newest)
/// and by every block of that site that names the policy in its `depends_on`.
pub fn add_failback_restores(
    topology: &Topology,
    resources: &mut Vec<Resource>,
    restores: &[FailbackRestore],
) {
    for r in restores {
        let policy = Address::block("backup", &r.policy);
        let placement = r
            .job
            .address
            .as_str()
            .rsplit_once(".job.")
            .map(|(p, _)| p.to_string())
            .unwrap_or_default();
        for res in resources.iter_mut() {
            let cronjob = res
                .address
                .as_str()
                .starts_with(&format!("{placement}.cronjob."));
            let declared = res.site == r.job.site
                && res.address != r.job.address
                && topology
                    .depends_on
                    .get(res.address.root_block().as_str())
                    .is_some_and(|deps| deps.iter().any(|d| *d == policy.as_str()));
            if (cronjob || declared) && !res.depends_on.contains(&r.job.address) {
                res.depends_on.push(r.job.address.clone());
            }
        }
        // As every generated object: it waits for its Namespace when drplan makes it.
        let mut job = r.job.clone();
        let (cluster, namespace) = (
            job.attrs.get("cluster").cloned(),
            job.attrs.get("namespace").cloned(),
        );
        let ns = resources.iter().find(|res| {
            res.kind == Kind::K8sObject
                && res.attrs.get("kind").and_then(Value::as_str) == Some("Namespace")
                && res.attrs.get("cluster") == cluster.as_ref()
                && res.attrs.get("name") == namespace.as_ref()
        });
        if let Some(ns) = ns {
            job.depends_on.push(ns.address.clone());
        }
        resources.push(job);
    }
}
