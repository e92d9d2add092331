//! The typed topology: one struct per spec block, after evaluation. See
//! `docs/spec-reference.md` for the language that produces it.

use crate::resource::SourceRef;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

pub type Tags = BTreeMap<String, String>;

#[derive(Clone, Debug, Default)]
pub struct Topology {
    pub variables: BTreeMap<String, Variable>,
    pub sites: BTreeMap<String, Site>,
    pub networks: BTreeMap<String, Network>,
    pub peerings: BTreeMap<String, Peering>,
    pub clusters: BTreeMap<String, Cluster>,
    pub buckets: BTreeMap<String, Bucket>,
    pub kms_keys: BTreeMap<String, KmsKey>,
    pub registries: BTreeMap<String, Registry>,
    pub caches: BTreeMap<String, Cache>,
    pub zones: BTreeMap<String, Zone>,
    pub dns: BTreeMap<String, Dns>,
    pub kubernetes: BTreeMap<String, Kubernetes>,
    pub backups: BTreeMap<String, Backup>,
    pub objectives: Option<Objectives>,
    /// Extra ordering from `depends_on`: block address -> block addresses it waits for.
    pub depends_on: BTreeMap<String, Vec<String>>,
}

/// A declared input, with the value the environment (or default) gave it.
#[derive(Clone, Debug)]
pub struct Variable {
    pub name: String,
    pub value: serde_json::Value,
    pub sensitive: bool,
    /// `promote = true`: `drplan promote` carries this value between environments.
    pub promote: bool,
    pub description: Option<String>,
    pub source: SourceRef,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SiteRole {
    Primary,
    Dr,
    /// A backup-only site: it holds copies (buckets, keys), never serves and is never
    /// activated, so a failover never depends on it being reachable.
    Vault,
}

impl SiteRole {
    /// The spelling in the spec (`role = "..."`) and in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            SiteRole::Primary => "primary",
            SiteRole::Dr => "dr",
            SiteRole::Vault => "vault",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Site {
    pub name: String,
    pub region: String,
    pub role: SiteRole,
    /// This site is the environment's `active_site`.
    pub active: bool,
    pub source: SourceRef,
}

/// A `kms_key` block: a KMS key in `site`'s region, with a replica in each of
/// `replicas` (a multi-region key's copies: same key id and material, usable in
/// their own region) and the same alias in every region that holds it.
#[derive(Clone, Debug)]
pub struct KmsKey {
    pub label: String,
    /// Site label of the primary key.
    pub site: String,
    pub description: String,
    pub multi_region: bool,
    /// Site labels of the replicas, in the order written.
    pub replicas: Vec<String>,
    /// `alias/<name>`, made in each region that holds the key.
    pub alias: Option<String>,
    /// The waiting period KMS keeps a key scheduled for deletion (7-30 days).
    pub deletion_window_days: i64,
    pub enable_key_rotation: bool,
    pub tags: Tags,
    pub source: SourceRef,
}

/// A `registry` block: an ECR repository in `site`'s region, replicated by ECR to
/// the regions of the `replicate_to` sites.
#[derive(Clone, Debug)]
pub struct Registry {
    pub label: String,
    /// The repository name (`lanka-platform/api`).
    pub name: String,
    pub site: String,
    /// Site labels, in the order written.
    pub replicate_to: Vec<String>,
    /// `MUTABLE` or `IMMUTABLE`.
    pub image_tag_mutability: String,
    pub scan_on_push: bool,
    /// The lifecycle policy, normalized (`kinds::ecr::normalize_lifecycle_policy`).
    pub lifecycle_policy: Option<serde_json::Value>,
    pub protect: bool,
    pub tags: Tags,
    pub source: SourceRef,
}

/// A `peering` block: a VPC peering connection between two networks, requested from
/// `requester`'s region and accepted in `accepter`'s, with a route in each network's
/// main route table to the other's CIDR.
#[derive(Clone, Debug)]
pub struct Peering {
    pub name: String,
    /// Network labels.
    pub requester: String,
    pub accepter: String,
    pub tags: Tags,
    pub source: SourceRef,
}

/// A `cache` block: an ElastiCache Redis replication group (cluster mode disabled) in
/// one site's network, with its subnet group and automatic snapshots.
#[derive(Clone, Debug)]
pub struct Cache {
    pub label: String,
    /// The replication group id (ElastiCache keeps ids lower-case).
    pub name: String,
    pub site: String,
    /// Network block label, and the subnet labels within it the subnet group holds.
    pub network: String,
    pub subnets: Vec<String>,
    pub description: String,
    pub engine_version: String,
    pub node_type: String,
    /// Cache clusters (nodes) in the group: one primary and `nodes - 1` replicas.
    pub nodes: i64,
    /// The objectives component whose RPO the snapshots serve (defaults to the label).
    pub component: String,
    pub snapshot: Option<CacheSnapshot>,
    pub tags: Tags,
    pub source: SourceRef,
}

/// A cache's `snapshot` block: ElastiCache's automatic backups, taken once a day in
/// `window` and kept `retention_days`.
#[derive(Clone, Debug)]
pub struct CacheSnapshot {
    pub retention_days: i64,
    /// `hh:mm-hh:mm`, UTC; `None`: ElastiCache picks one (not compared).
    pub window: Option<String>,
    /// `cross_region = false`: the snapshots stay in the cache's site, and the
    /// component's RPO asks for no copy elsewhere (a cache rebuilt after a failover).
    pub one_site: bool,
    pub source: SourceRef,
}

#[derive(Clone, Debug)]
pub struct Network {
    pub name: String,
    pub site: String,
    pub cidr: String,
    pub subnets: BTreeMap<String, Subnet>,
    pub tags: Tags,
    pub source: SourceRef,
}

#[derive(Clone, Debug)]
pub struct Subnet {
    pub name: String,
    pub availability_zone: String,
    pub cidr: String,
    pub public: bool,
    pub tags: Tags,
    pub source: SourceRef,
}

#[derive(Clone, Debug)]
pub struct Cluster {
    pub label: String,
    /// EKS cluster name.
    pub name: String,
    pub site: String,
    pub version: String,
    pub role_arn: String,
    /// Network block label.
    pub network: String,
    /// Subnet labels within the network (all of them when the spec names none).
    pub subnets: Vec<String>,
    pub node_groups: BTreeMap<String, NodeGroup>,
    pub protect: bool,
    pub tags: Tags,
    /// Endpoint access, control-plane logs and secrets encryption: each `None` where
    /// the spec does not say (then neither compared nor set).
    pub security: ClusterSecurity,
    pub source: SourceRef,
}

/// A cluster's security settings policy tools check (checkov's CKV_AWS_38/39/58/37).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterSecurity {
    pub endpoint_public_access: Option<bool>,
    pub endpoint_private_access: Option<bool>,
    /// Control-plane log types sent to CloudWatch, sorted: api, audit,
    /// authenticator, controllerManager, scheduler.
    pub control_plane_logs: Option<Vec<String>>,
    /// KMS key ARN encrypting Kubernetes Secrets (envelope encryption). Set at
    /// creation: EKS cannot change or remove it afterwards.
    pub secrets_encryption_key: Option<String>,
}

#[derive(Clone, Debug)]
pub struct NodeGroup {
    pub name: String,
    pub node_role_arn: String,
    pub instance_types: Vec<String>,
    pub min_size: i64,
    pub max_size: i64,
    pub desired_size: i64,
    pub disk_size: i64,
    pub capacity_type: String,
    pub labels: BTreeMap<String, String>,
    pub subnets: Vec<String>,
    pub tags: Tags,
    /// `lifecycle { ignore_changes }`: attributes another controller owns.
    pub ignore_changes: Vec<String>,
    pub source: SourceRef,
}

#[derive(Clone, Debug)]
pub struct Bucket {
    pub label: String,
    pub name: String,
    pub site: String,
    pub versioning: bool,
    pub encryption: Option<Encryption>,
    pub lifecycle_rules: Vec<LifecycleRule>,
    pub replication: Option<Replication>,
    /// `block_public_access`: all four S3 public access block settings on (true) or
    /// none (false); `None` when the spec does not say (not managed).
    pub block_public_access: Option<bool>,
    /// `object_lock { mode  retention }`: the default retention of new objects.
    pub object_lock: Option<ObjectLock>,
    /// `logging { target  prefix }`: S3 server access logs delivered to a bucket of
    /// the same site; `None` when the spec does not say (not managed).
    pub logging: Option<BucketLogging>,
    pub protect: bool,
    pub tags: Tags,
    pub source: SourceRef,
}

/// Where a bucket's server access logs go.
#[derive(Clone, Debug, PartialEq)]
pub struct BucketLogging {
    /// The target bucket's label.
    pub target: String,
    pub prefix: String,
}

/// S3 Object Lock's default retention (immutable backup copies).
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectLock {
    /// "GOVERNANCE" or "COMPLIANCE".
    pub mode: String,
    pub days: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Encryption {
    /// "AES256" or "aws:kms".
    pub algorithm: String,
    /// A key ARN, alias or id as written; or the address of a `kms_key` block
    /// (`kms_key.backups`): that key in the bucket's region (`kinds::kms`).
    pub kms_key_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LifecycleRule {
    pub id: String,
    pub prefix: String,
    pub expiration_days: Option<i64>,
    pub noncurrent_expiration_days: Option<i64>,
    pub transitions: Vec<Transition>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    pub days: i64,
    pub storage_class: String,
}

/// S3 replication configuration: one IAM role, one or more rules. Rules come from the
/// bucket's `replication` block and from `backup` policies placed in several sites.
#[derive(Clone, Debug, PartialEq)]
pub struct Replication {
    pub role_arn: String,
    pub rules: Vec<ReplicationRule>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReplicationRule {
    pub id: String,
    pub prefix: String,
    /// Label of the destination `bucket` block.
    pub destination: String,
    pub storage_class: Option<String>,
    /// The KMS key (in the destination's region) S3 encrypts the replicas of
    /// SSE-KMS objects with; with it, such objects are replicated at all.
    pub replica_kms_key_id: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Zone {
    pub label: String,
    /// Zone name without trailing dot.
    pub name: String,
    pub comment: Option<String>,
    pub protect: bool,
    pub tags: Tags,
    pub source: SourceRef,
}

#[derive(Clone, Debug)]
pub struct Dns {
    pub label: String,
    /// Zone name without trailing dot (from a `zone` block or an existing zone).
    pub zone: String,
    /// `zone` block label when drplan manages the zone.
    pub managed_zone: Option<String>,
    /// Fully qualified record name without trailing dot.
    pub name: String,
    pub record_type: String,
    pub ttl: i64,
    pub targets: Vec<DnsTarget>,
    pub source: SourceRef,
}

#[derive(Clone, Debug)]
pub struct DnsTarget {
    pub name: String,
    pub site: String,
    /// The record's values; empty for an alias.
    pub records: Vec<String>,
    /// An alias record (A/AAAA) pointing at a load balancer, a distribution or another
    /// record, instead of `records`.
    pub alias: Option<DnsAlias>,
    pub health_check: Option<HealthCheck>,
}

/// Route53's alias target.
#[derive(Clone, Debug, PartialEq)]
pub struct DnsAlias {
    /// The target's DNS name, lower case, without trailing dot.
    pub name: String,
    /// The target's hosted zone (a load balancer's canonical zone id); `None` for a
    /// record in the same zone as the alias.
    pub zone_id: Option<String>,
    pub evaluate_target_health: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HealthCheck {
    /// "HTTP" | "HTTPS" | "TCP".
    pub check_type: String,
    pub fqdn: String,
    pub port: i64,
    pub resource_path: Option<String>,
    pub request_interval: i64,
    pub failure_threshold: i64,
    pub tags: Tags,
}

#[derive(Clone, Debug)]
pub struct Kubernetes {
    pub label: String,
    /// Cluster block label.
    pub cluster: String,
    /// Manifest files relative to the project root, in order.
    pub manifests: Vec<String>,
    /// Namespaces drplan generates.
    pub namespaces: Vec<String>,
    /// Only applied while this is true (e.g. `site.dr.active`).
    pub enabled: bool,
    /// `lifecycle { ignore_changes }`: manifest paths another controller owns
    /// (`spec.replicas`), in every object of the block.
    pub ignore_changes: Vec<String>,
    pub source: SourceRef,
}

#[derive(Clone, Debug)]
pub struct Backup {
    pub label: String,
    /// "neo4j" | "postgres" | "redis" | "qdrant" | "custom".
    pub engine: String,
    /// The objectives component this policy protects (defaults to the label).
    pub component: String,
    pub namespace: String,
    /// Engine connection target (service host), passed to the backup tool.
    pub host: Option<String>,
    pub image: Option<String>,
    /// For `engine = "custom"`: the backup command.
    pub command: Vec<String>,
    pub restore_command: Vec<String>,
    /// What a drill runs to check a restore (exit 0: the data is there); built in for
    /// the known engines.
    pub verify_command: Vec<String>,
    /// How long this policy's restore Job takes, for the RTO estimate (overrides the
    /// `restore_job` estimate).
    pub restore_estimate: Option<Duration>,
    pub full_schedule: Option<Schedule>,
    pub incremental_schedule: Option<Schedule>,
    pub prefix: String,
    pub local_retention: Option<Duration>,
    pub cross_region_retention: Option<Duration>,
    /// Where the policy runs and writes, per site label.
    pub placements: BTreeMap<String, BackupPlacement>,
    /// With it, the primary placement's bucket replicates the prefix to the others.
    pub replication_role_arn: Option<String>,
    pub source: SourceRef,
}

#[derive(Clone, Debug)]
pub struct Schedule {
    /// Five-field cron expression, UTC.
    pub cron: String,
    pub source: SourceRef,
}

#[derive(Clone, Debug)]
pub struct BackupPlacement {
    pub site: String,
    /// Cluster block label.
    pub cluster: String,
    /// Bucket block label.
    pub bucket: String,
}

#[derive(Clone, Debug, Default)]
pub struct Objectives {
    pub rto: Option<Duration>,
    pub rpo: Option<Duration>,
    pub components: BTreeMap<String, Component>,
    /// Per-operation duration estimates, overriding the defaults (keys are resource
    /// type names, e.g. `aws_eks_cluster`).
    pub estimates: BTreeMap<String, Duration>,
    pub source: Option<SourceRef>,
}

#[derive(Clone, Debug)]
pub struct Component {
    pub name: String,
    pub rto: Option<Duration>,
    pub rpo: Option<Duration>,
    /// Addresses of the blocks this component is made of (for RTO estimation).
    pub resources: Vec<String>,
    pub source: SourceRef,
}
