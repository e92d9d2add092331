//! The unit of planning: one cloud or cluster object, described by a flat map of
//! normalized attributes. Desired resources come from the spec (`spec::lower`), live
//! objects from the readers (`live`), and `plan::diff` compares the two maps key by key.
//!
//! Both sides MUST produce attributes in the same normalized form, documented per kind
//! on [`Kind`] (one doc comment per kind) and in `docs/spec-reference.md`. References to other managed objects are
//! written as their [`Address`] string on the desired side; readers write raw cloud ids
//! and `LiveState::resolve_ids` rewrites the ids it knows into addresses.

use crate::address::Address;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// Every kind of object drplan manages. The serialized names follow Terraform's
/// resource type names so policy tools that read `resource_changes[].type` feel at home.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// `network` block. attrs: `cidr_block`, `tags`.
    #[serde(rename = "aws_vpc")]
    Vpc,
    /// `subnet` inside `network`. attrs: `vpc` (address), `cidr_block`,
    /// `availability_zone`, `public` (bool: map public IP on launch), `tags`.
    #[serde(rename = "aws_subnet")]
    Subnet,
    /// `peering` block: a VPC peering connection in the requester's region. attrs:
    /// `vpc` (requester network address), `peer_vpc` (accepter network address),
    /// `peer_region` (the accepter's region: the object spans it too, so it is unread
    /// when that region does not answer), `accept_status` (`active` once accepted;
    /// the live status code otherwise), `requester_routes` / `accepter_routes`
    /// (sorted destination CIDRs routed through this connection in the requester's /
    /// accepter's main route table: the other network's CIDR), `tags`.
    #[serde(rename = "aws_vpc_peering_connection")]
    VpcPeering,
    /// `cluster` block. attrs: `name`, `version`, `role_arn`, `subnets` (sorted list of
    /// subnet addresses), `tags`.
    #[serde(rename = "aws_eks_cluster")]
    EksCluster,
    /// `node_group` inside `cluster`. attrs: `cluster_name`, `name`, `node_role_arn`,
    /// `instance_types` (list), `min_size`, `max_size`, `desired_size`, `disk_size`,
    /// `capacity_type` ("ON_DEMAND" | "SPOT"), `labels` (map), `subnets` (sorted
    /// addresses), `tags`.
    #[serde(rename = "aws_eks_node_group")]
    NodeGroup,
    /// `kms_key` block: the (primary) key, in the block's site. attrs: `description`,
    /// `multi_region` (bool), `enabled` (bool: true, and false for a key disabled or
    /// scheduled for deletion out of band), `enable_key_rotation` (bool), `alias`
    /// (`alias/<name>` pointing at this key in its region, or null),
    /// `deletion_window_days` (kept in the key's `drplan:deletion-window-days` tag, as
    /// KMS has no such setting until a deletion is scheduled), `tags`.
    #[serde(rename = "aws_kms_key")]
    KmsKey,
    /// A replica of a multi-region `kms_key`, one per site in its `replicas`; address
    /// `kms_key.<label>.replica.<site>`. attrs: `primary_key` (the primary's address),
    /// `description`, `enabled`, `alias`, `deletion_window_days`, `tags` (as for the
    /// primary; rotation is the primary's, KMS rotates the replicas with it).
    #[serde(rename = "aws_kms_replica_key")]
    KmsReplicaKey,
    /// `bucket` block (plus lifecycle rules compiled from `backup` policies). attrs:
    /// `name`, `versioning` (bool), `encryption` ({`algorithm`, `kms_key_id`: as
    /// written, or a declared key's address (`kms_key.backups`: that multi-region key
    /// in the bucket's region)} or null),
    /// `lifecycle_rules` (list sorted by id of {`id`, `prefix`, `expiration_days`,
    /// `noncurrent_expiration_days`, `transitions`: [{`days`, `storage_class`}]}),
    /// `replication` ({`role_arn`, `rules`: [{`id`, `prefix`, `destination_bucket`
    /// (bucket name), `storage_class`, `replica_kms_key_id` (as `kms_key_id`, in the
    /// destination's region)}]} or null), `tags`.
    #[serde(rename = "aws_s3_bucket")]
    Bucket,
    /// `registry` block: an ECR repository in its site's region. attrs: `name`,
    /// `image_tag_mutability` ("MUTABLE" | "IMMUTABLE"), `scan_on_push` (bool),
    /// `lifecycle_policy` (the policy document normalized by
    /// `kinds::ecr::normalize_lifecycle_policy`, or null for none), `replicate_to`
    /// (sorted regions drplan's rules in the registry's replication configuration
    /// copy it to; other teams' rules are not counted), `tags`.
    #[serde(rename = "aws_ecr_repository")]
    EcrRepository,
    /// `cache` block: an ElastiCache Redis replication group (cluster mode disabled)
    /// and the cache subnet group of the same name it runs in. attrs:
    /// `name` (the replication group id), `description`, `engine` ("redis"), `engine_version`,
    /// `node_type`, `num_cache_clusters` (nodes: the primary and its replicas),
    /// `automatic_failover` (bool: on with two nodes or more), `subnets` (sorted
    /// subnet addresses of the subnet group), `snapshot_retention_limit` (days of
    /// automatic snapshots kept; 0: none taken), `snapshot_window` (`hh:mm-hh:mm`
    /// UTC; only when the spec says one), `tags`.
    #[serde(rename = "aws_elasticache_replication_group")]
    CacheReplicationGroup,
    /// `zone` block. attrs: `name` (trailing dot), `comment`, `tags`.
    #[serde(rename = "aws_route53_zone")]
    DnsZone,
    /// One record set of a `dns` block (one per `target` when failover routing is
    /// used). attrs: `zone` (zone name, trailing dot), `name` (FQDN, trailing dot),
    /// `type`, `ttl`, `records` (list), `set_identifier` (or null), `failover`
    /// ("PRIMARY" | "SECONDARY" | null), `health_check` (address or null).
    #[serde(rename = "aws_route53_record")]
    DnsRecord,
    /// `health_check` inside a `dns` target. attrs: `type`, `fqdn`, `port`,
    /// `resource_path`, `request_interval`, `failure_threshold`, `tags`.
    #[serde(rename = "aws_route53_health_check")]
    HealthCheck,
    /// A Kubernetes object (from manifests, or generated from backups/namespaces).
    /// attrs: `cluster` (address), `api_version`, `kind`, `namespace` (or null),
    /// `name`, `manifest` (the object as applied, without status/managed fields).
    #[serde(rename = "kubernetes_object")]
    K8sObject,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.type_name())
    }
}

/// Where in the spec a resource came from, for plan-time errors (e.g. a protected
/// object planned for deletion) that point back at the source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    /// Path relative to the project root.
    pub file: String,
    pub line: usize,
    pub column: usize,
}

/// A flat map of normalized attributes, shared rather than copied: the plan's
/// `before` and `after` of an object are the live and desired maps themselves unless
/// something had to change in them (a redacted secret, an ignored path). At 10,000
/// objects the copies were most of a plan's memory (BENCHMARKS.md, section 1).
///
/// Reads go through `Deref` to the map. A write (`DerefMut`) copies the map first if
/// anyone else holds it, so no holder ever sees another's change.
#[derive(Clone, Default, PartialEq)]
pub struct AttrMap(Arc<Map<String, Value>>);

impl AttrMap {
    pub fn new(map: Map<String, Value>) -> Self {
        AttrMap(Arc::new(map))
    }

    /// Whether both are the same map (not merely equal ones).
    pub fn shares(&self, other: &AttrMap) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The map itself, copied only if it is shared.
    pub fn into_map(self) -> Map<String, Value> {
        Arc::try_unwrap(self.0).unwrap_or_else(|shared| (*shared).clone())
    }
}

impl Deref for AttrMap {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Map<String, Value> {
        &self.0
    }
}

impl DerefMut for AttrMap {
    fn deref_mut(&mut self) -> &mut Map<String, Value> {
        Arc::make_mut(&mut self.0)
    }
}

impl From<Map<String, Value>> for AttrMap {
    fn from(map: Map<String, Value>) -> Self {
        AttrMap::new(map)
    }
}

impl From<AttrMap> for Map<String, Value> {
    fn from(attrs: AttrMap) -> Self {
        attrs.into_map()
    }
}

impl FromIterator<(String, Value)> for AttrMap {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        AttrMap::new(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a AttrMap {
    type Item = (&'a String, &'a Value);
    type IntoIter = serde_json::map::Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl PartialEq<Map<String, Value>> for AttrMap {
    fn eq(&self, other: &Map<String, Value>) -> bool {
        *self.0 == *other
    }
}

/// As the map: `{:?}` output is the same as before attributes were shared.
impl fmt::Debug for AttrMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for AttrMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for AttrMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Map::deserialize(d).map(AttrMap::new)
    }
}

/// One desired object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub address: Address,
    pub kind: Kind,
    /// The site this object belongs to; `None` for global objects (Route53).
    pub site: Option<String>,
    /// AWS region for regional kinds; the cluster's region for Kubernetes objects.
    pub region: Option<String>,
    /// Normalized attributes, see [`Kind`].
    pub attrs: AttrMap,
    /// Attribute names whose values are secret: never printed, hashed in plan files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
    /// Addresses this object needs to exist first (edges of the apply graph).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Address>,
    /// Deleting or replacing needs `--allow-destroy ADDRESS`.
    pub protect: bool,
    pub source: Option<SourceRef>,
    /// Dotted attribute paths another controller owns (`lifecycle { ignore_changes }`:
    /// `desired_size`, `manifest.spec.replicas`): never a difference, and apply leaves
    /// the live value (`plan::ignore`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_changes: Vec<String>,
}

impl Resource {
    /// The key under which this object is found among live objects of its kind.
    /// Name-identified kinds use their cloud name; the others use the ownership mark.
    pub fn identity(&self) -> String {
        identity(
            self.kind,
            self.region.as_deref(),
            &self.address,
            &self.attrs,
        )
    }
}

/// Shared by desired resources and live objects so both sides compute the same key.
/// `address` is only used for kinds identified by their ownership mark.
pub fn identity(
    kind: Kind,
    region: Option<&str>,
    address: &Address,
    attrs: &Map<String, Value>,
) -> String {
    (kind.info().identity)(region.unwrap_or(""), address, attrs)
}
