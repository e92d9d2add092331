//! The ElastiCache family: a `cache` block lowers to one Redis replication group
//! (cluster mode disabled). The cache subnet group it runs in is part of it, not a
//! kind of its own: drplan names it after the group, creates it first and deletes it
//! last, and its subnets are the group's `subnets` attribute (as a peering's routes
//! are attributes of the connection). A replication group holds data: stateful.

pub mod decode;
pub mod terraform;

use super::{
    into_attrs, region_of, text, type_name_of, Family, Import, KindInfo, MarkPlace, Phase,
    Provider, Reference, Runbook, Terraform,
};
use crate::address::Address;
use crate::resource::{Kind, Resource};
use crate::spec::lower::{sorted_addrs, tags, Lowering};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A replication group's normalized attributes, typed: the lowering builds them from
/// the spec, the reader (`src/live/elasticache.rs`) from ElastiCache's answers and
/// apply's create reads them (`Attrs::typed`), so the compiler checks all three agree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplicationGroupAttrs {
    /// The replication group id (and its subnet group's name).
    pub name: String,
    pub description: Option<String>,
    pub engine: Option<String>,
    /// `major.minor` ([`major_minor`]).
    pub engine_version: Option<String>,
    pub node_type: Option<String>,
    /// The primary and its replicas.
    pub num_cache_clusters: i64,
    pub automatic_failover: bool,
    /// Sorted subnet addresses in the spec, subnet ids as read.
    pub subnets: Vec<String>,
    /// Days automatic snapshots are kept; 0: none taken.
    pub snapshot_retention_limit: i64,
    /// `hh:mm-hh:mm` UTC; left out of the spec's side when it says none (not compared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_window: Option<String>,
    pub tags: Value,
}

/// The only engine drplan creates.
pub const ENGINE: &str = "redis";

/// Automatic snapshots are taken once a day, in the snapshot window: the longest gap
/// between two of them, whatever the retention (docs/objectives.md).
pub const SNAPSHOT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The family in the registry (`kinds::FAMILIES`): its spec blocks, lowering and
/// checks across blocks.
pub(crate) const FAMILY: Family = Family {
    blocks: &[decode::BLOCK],
    lower: Some(lower),
    check: Some(|t, spans, _, diags| decode::check(t, spans, diags)),
};

pub const REPLICATION_GROUP: KindInfo = KindInfo {
    type_name: "aws_elasticache_replication_group",
    stateful: true,
    regional: true,
    in_cluster: false,
    // An engine cannot be changed in place; a group cannot be renamed.
    force_new: &["name", "engine"],
    unknown_after_apply: &["arn"],
    regional_service: Some("elasticache"),
    apply_service: "elasticache",
    identity: |region, _, attrs| format!("{region}/{}", text(attrs, "name")),
    identified_by_mark: false,
    mark: MarkPlace::Tags,
    references: &[Reference::Address("subnets")],
    name_key: None,
    forgettable: true,
    // CreateCacheSubnetGroup, CreateReplicationGroup and the wait for `available`:
    // 10 to 15 minutes for a primary and a replica.
    estimate_create: 15 * 60,
    // A node type or engine version change applied immediately: nodes replaced one
    // at a time.
    estimate_update: 20 * 60,
    // What an application failing over to a mirror needs: the same engine and
    // capacity. Snapshot settings may differ per site by design.
    parity: Some(&["engine_version", "node_type", "num_cache_clusters"]),
    deletion_means: None,
    terraform: Terraform {
        type_name: None,
        provider: Provider::Aws,
        values: terraform::values,
    },
    runbook: Runbook {
        what: type_name_of,
        phase: |_| Phase::Storage,
        verify,
    },
    import: Import {
        address_shape: &["cache", "*"],
        state: Ok(terraform::state),
    },
};

/// The part of an engine version drplan compares: `major.minor`. ElastiCache reports
/// the patch level it runs (`7.1.0` for a group created with `7.1`) and, since Redis 6,
/// chooses it itself; `None` when `v` is not `major.minor[.patch]`.
pub fn major_minor(v: &str) -> Option<String> {
    let mut parts = v.split('.');
    let (major, minor) = (parts.next()?, parts.next()?);
    let patch = parts.next();
    let digits = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
    (digits(major) && digits(minor) && patch.is_none_or(digits) && parts.next().is_none())
        .then(|| format!("{major}.{minor}"))
}

/// Lowers the family's blocks to resources in the normalized form (`spec::lower`).
/// Checks have run: the network exists (a cache whose network is missing was
/// reported and is skipped here).
pub(crate) fn lower(lw: &Lowering, out: &mut Vec<Resource>) {
    let t = lw.t;
    for c in t.caches.values() {
        let Some(network) = t.networks.get(&c.network) else {
            continue;
        };
        let chosen: Vec<String> = if c.subnets.is_empty() {
            default_subnets(network)
        } else {
            c.subnets.clone()
        };
        let net = Address::block("network", &c.network);
        let subnets = sorted_addrs(&net, &chosen);
        let (retention, window) = match &c.snapshot {
            Some(s) => (s.retention_days, s.window.clone()),
            None => (0, None),
        };
        let attrs = ReplicationGroupAttrs {
            name: c.name.clone(),
            description: Some(c.description.clone()),
            engine: Some(ENGINE.to_string()),
            engine_version: Some(
                major_minor(&c.engine_version).unwrap_or_else(|| c.engine_version.clone()),
            ),
            node_type: Some(c.node_type.clone()),
            num_cache_clusters: c.nodes,
            automatic_failover: c.nodes > 1,
            subnets: subnets.iter().map(Address::to_string).collect(),
            snapshot_retention_limit: retention,
            // An unsaid window is ElastiCache's choice: neither compared nor set.
            snapshot_window: window,
            tags: tags(&c.tags),
        };
        out.push(lw.resource(
            Address::block("cache", &c.label),
            Kind::CacheReplicationGroup,
            Some(&c.site),
            Value::Object(into_attrs(attrs)),
            vec![],
            true,
            &c.source,
        ));
    }
}

/// A cache is reached from inside its network: its private subnets, or every subnet
/// of a network that has no private one.
pub(crate) fn default_subnets(network: &crate::model::Network) -> Vec<String> {
    let private: Vec<String> = network
        .subnets
        .values()
        .filter(|s| !s.public)
        .map(|s| s.name.clone())
        .collect();
    if private.is_empty() {
        network.subnets.keys().cloned().collect()
    } else {
        private
    }
}

/// The runbook's check of a replication group (`KindInfo::runbook`).
fn verify(r: &Resource, _: &dyn Fn(&str) -> String) -> String {
    format!(
        "aws elasticache describe-replication-groups --region {} --replication-group-id {} --query 'ReplicationGroups[].[Status,SnapshotRetentionLimit,SnapshotWindow]'",
        region_of(r),
        text(&r.attrs, "name")
    )
}
