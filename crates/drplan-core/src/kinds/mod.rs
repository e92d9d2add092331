//! One declaration per resource kind: what the generic code — diff, apply steps,
//! renderers, outage handling, import, the runbook — needs to know about a kind, in
//! one place, so that nothing matches on every kind elsewhere. Each family is a
//! folder: `network` (VPC, subnet), `peering` (VPC peering connection), `eks`
//! (cluster, node group), `kms` (key, replica key), `s3` (bucket), `ecr`
//! (repository), `elasticache` (Redis replication group with its subnet group),
//! `route53` (zone, record, health check), `kubernetes` (object); `Kind::info` is the
//! registry. The normalized attributes of each kind are documented on `Kind`.
//!
//! A family's folder holds, in `mod.rs`, its `KindInfo`s, typed attributes, lowering
//! (`lower`: its blocks of the typed topology to resources; `spec::lower` calls every
//! family's) and runbook checks; in `decode.rs`, its spec blocks (schema, decoding,
//! the block's own checks with spans, and its checks across blocks, `check`); in
//! `terraform.rs` (AWS families), its kinds in the provider's attribute shapes for
//! Terraform's plan JSON and for `import --generate-config-out`.
//!
//! `FAMILIES` is the spec side's registry: each family's `FAMILY` (in its `mod.rs`)
//! names its top-level blocks (each a `spec::blocks::Block::family` in its
//! `decode.rs`: name, schema, rank, the attributes a reference reads, and the typed
//! model it decodes into through `spec::decode::FamilyBlock`), its lowering and its
//! checks across blocks. The loader, the block table, the lowering and the checks
//! iterate it and name no family.
//!
//! Adding a kind: a `Kind` variant (its serialized Terraform type name), a `KindInfo`
//! and its lowering in its family's folder, its line in `Kind::info` and `Kind::ALL`,
//! its spec block (`<family>/decode.rs`: the `Block::family` and the model's
//! `FamilyBlock`, listed in the family's `FAMILY`; a new family, its line in
//! `FAMILIES` and its slot in `model::Topology`), and on the cloud side its reader
//! (`src/live/`, `live::FAMILIES`) and applier (`src/apply/family.rs`).
//! ARCHITECTURE.md walks through it.

pub mod ecr;
pub mod eks;
pub mod elasticache;
pub mod kms;
pub mod kubernetes;
pub mod network;
pub mod peering;
pub mod route53;
pub mod s3;

use crate::address::Address;
use crate::live::LiveObject;
use crate::model::Topology;
use crate::resource::{Kind, Resource};
use crate::spec::blocks::Block;
use crate::spec::decode::SpanTable;
use crate::spec::environment::EnvSettings;
use crate::spec::lower::Lowering;
use crate::spec::Diagnostics;
use serde_json::{Map, Value};

/// A family as the spec side knows it, besides its kinds' `KindInfo`s.
pub(crate) struct Family {
    /// Its top-level spec blocks (`Block::family`, in its `decode.rs`), in the order
    /// the language lists them.
    pub blocks: &'static [Block],
    /// Its blocks of the typed topology -> resources (`spec::lower`).
    pub lower: Option<fn(&Lowering, &mut Vec<Resource>)>,
    /// Its checks across blocks, once every block is decoded (`spec::checks`).
    pub check: Option<fn(&Topology, &SpanTable, &EnvSettings, &mut Diagnostics)>,
}

/// Every family, in the order the language lists their blocks (`spec::blocks`) and
/// lowering runs.
pub(crate) const FAMILIES: &[Family] = &[
    network::FAMILY,
    peering::FAMILY,
    eks::FAMILY,
    kms::FAMILY,
    s3::FAMILY,
    ecr::FAMILY,
    elasticache::FAMILY,
    route53::FAMILY,
    kubernetes::FAMILY,
];

/// Where a kind keeps drplan's ownership marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkPlace {
    /// AWS tags `drplan:stack` / `drplan:address`.
    Tags,
    /// An entry in the name's ownership TXT record (`_drplan.<name>`).
    OwnerTxt,
    /// A label and annotation on the Kubernetes object.
    Annotation,
}

/// An attribute that refers to another managed object: the referring change is
/// ordered after it (created after, deleted before).
#[derive(Clone, Copy, Debug)]
pub enum Reference {
    /// The attribute holds an address, or a list of addresses.
    Address(&'static str),
    /// The attribute holds the name of an object of `kind`, as its `NameKey` forms it.
    Name(&'static str, Kind),
}

/// How other objects name an object of this kind (the key `Reference::Name` looks up).
#[derive(Clone, Copy, Debug)]
pub struct NameKey {
    /// The attribute holding the name.
    pub attr: &'static str,
    /// Names are unique per region only: the key is `region/name`.
    pub regional: bool,
    /// A trailing dot is not part of the key (DNS names).
    pub trim_dot: bool,
}

impl NameKey {
    /// The key of `name` for an object in `region`.
    pub fn key(&self, region: Option<&str>, name: &str) -> String {
        let name = if self.trim_dot {
            name.trim_end_matches('.')
        } else {
            name
        };
        match self.regional {
            true => format!("{}/{name}", region.unwrap_or("")),
            false => name.to_string(),
        }
    }
}

/// Everything generic code knows about one kind.
pub struct KindInfo {
    /// Terraform's resource type name (`Kind`'s serialized name).
    pub type_name: &'static str,
    /// Holds data or takes long to rebuild: protected from deletion and replacement.
    pub stateful: bool,
    /// Lives in a site's region (else global, or in a cluster).
    pub regional: bool,
    /// Lives in a Kubernetes cluster (its `cluster` attribute).
    pub in_cluster: bool,
    /// Attributes whose change cannot be made in place: the object is replaced.
    pub force_new: &'static [&'static str],
    /// Attributes that exist only once the object does (`(known after apply)`).
    pub unknown_after_apply: &'static [&'static str],
    /// The AWS service whose regional API holds these objects (for a lost region).
    pub regional_service: Option<&'static str>,
    /// The service a change's steps count against in apply's concurrency bounds.
    pub apply_service: &'static str,
    /// The key under which an object is found among live objects of its kind.
    pub identity: fn(region: &str, address: &Address, attrs: &Map<String, Value>) -> String,
    /// Found by its address mark (no cloud name to match on).
    pub identified_by_mark: bool,
    pub mark: MarkPlace,
    /// Attributes referring to other objects (ordering edges of apply).
    pub references: &'static [Reference],
    /// How others refer to it by name, for the kinds they do.
    pub name_key: Option<NameKey>,
    /// A `removed { destroy = false }` block can drop its marks and keep it.
    pub forgettable: bool,
    /// Default estimates (seconds) for the RTO: a creation, an in-place change
    /// (`objectives::estimates`; docs/objectives.md lists them).
    pub estimate_create: u64,
    pub estimate_update: u64,
    /// What a failover depends on, compared between mirrors (`spec::parity`): `None`,
    /// not compared (what differs per site by design, or exists only in the active
    /// one); `Some(attrs)`, each mirror must have this object and these attributes
    /// equal.
    pub parity: Option<&'static [&'static str]>,
    /// What deleting one means beyond its removal, where that is more than the name
    /// says (the plan says it wherever it would delete one).
    pub deletion_means: Option<&'static str>,
    /// Its view in Terraform's plan JSON (`render::terraform`).
    pub terraform: Terraform,
    /// Its steps in the failover runbook (`runbook`).
    pub runbook: Runbook,
    /// `drplan import --generate-config-out` (`adopt::live`): the spec address shape
    /// an import names it by, and its live object as Terraform state.
    pub import: Import,
}

/// A kind in Terraform's plan JSON.
pub struct Terraform {
    /// The provider's resource type, where it is not the kind's own type name.
    pub type_name: Option<&'static str>,
    pub provider: Provider,
    /// The normalized attributes in the provider's attribute names and shapes.
    pub values: fn(&Map<String, Value>) -> Value,
}

/// The Terraform provider a kind belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    Aws,
    Kubernetes,
}

/// The runbook's phases, in the order a failover reads them (`runbook::PHASES`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Capacity,
    Storage,
    DataRestore,
    Workloads,
    BackupsResume,
    Traffic,
}

/// A kind in the failover runbook.
pub struct Runbook {
    /// What a step names the object as (`create <what>`).
    pub what: fn(r: &Resource) -> String,
    /// The phase a creation or change of an object with these attributes is read in
    /// (a restore is always `DataRestore`).
    pub phase: fn(attrs: &Map<String, Value>) -> Phase,
    /// A read-only command that verifies the object by hand; `context` is the kube
    /// context of a cluster (by its address).
    pub verify: fn(r: &Resource, context: ContextOf<'_>) -> String,
}

/// The kube context of a cluster, by the cluster's address.
pub type ContextOf<'a> = &'a dyn Fn(&str) -> String;

/// A kind in `drplan import --generate-config-out`.
pub struct Import {
    /// The shape of the spec addresses that make it (`*` any one part, a last `..`
    /// any rest); empty when no block address makes one alone.
    pub address_shape: &'static [&'static str],
    /// Its live object as the provider's Terraform state, or why it is not written.
    pub state: Result<fn(&LiveObject) -> TfState, &'static str>,
}

/// A live object as Terraform state: its attributes (beyond `id`, `region` and
/// `tags`, which every kind has), the provider's resources of their own that hold
/// some of its settings (type, attributes), and what it could not write.
#[derive(Default)]
pub struct TfState {
    pub attributes: Map<String, Value>,
    pub companions: Vec<(&'static str, Value)>,
    pub unwritten: Option<&'static str>,
}

impl Import {
    /// Whether `address` has this kind's shape.
    pub fn makes(&self, address: &Address) -> bool {
        let parts: Vec<&str> = address.as_str().split('.').collect();
        let shape = self.address_shape;
        match shape.split_last() {
            None => false,
            Some((&"..", head)) => {
                parts.len() >= head.len() && matches_shape(head, &parts[..head.len()])
            }
            Some(_) => parts.len() == shape.len() && matches_shape(shape, &parts),
        }
    }
}

fn matches_shape(shape: &[&str], parts: &[&str]) -> bool {
    shape.iter().zip(parts).all(|(s, p)| *s == "*" || s == p)
}

impl Kind {
    /// Every kind, in the order plans list them.
    pub const ALL: [Kind; 14] = [
        Kind::Vpc,
        Kind::Subnet,
        Kind::VpcPeering,
        Kind::EksCluster,
        Kind::NodeGroup,
        Kind::KmsKey,
        Kind::KmsReplicaKey,
        Kind::Bucket,
        Kind::EcrRepository,
        Kind::CacheReplicationGroup,
        Kind::DnsZone,
        Kind::DnsRecord,
        Kind::HealthCheck,
        Kind::K8sObject,
    ];

    /// The registry: this kind's declaration.
    pub fn info(self) -> &'static KindInfo {
        match self {
            Kind::Vpc => &network::VPC,
            Kind::Subnet => &network::SUBNET,
            Kind::VpcPeering => &peering::PEERING,
            Kind::EksCluster => &eks::CLUSTER,
            Kind::NodeGroup => &eks::NODE_GROUP,
            Kind::KmsKey => &kms::KEY,
            Kind::KmsReplicaKey => &kms::REPLICA,
            Kind::Bucket => &s3::BUCKET,
            Kind::EcrRepository => &ecr::REPOSITORY,
            Kind::CacheReplicationGroup => &elasticache::REPLICATION_GROUP,
            Kind::DnsZone => &route53::ZONE,
            Kind::DnsRecord => &route53::RECORD,
            Kind::HealthCheck => &route53::HEALTH_CHECK,
            Kind::K8sObject => &kubernetes::OBJECT,
        }
    }

    pub fn type_name(self) -> &'static str {
        self.info().type_name
    }

    /// Objects that hold data or take long to rebuild; protected from deletion and
    /// replacement by default.
    pub fn is_stateful(self) -> bool {
        self.info().stateful
    }

    /// Regional kinds live in a site's region; the others are global (Route53) or live
    /// in a cluster.
    pub fn is_regional(self) -> bool {
        self.info().regional
    }

    /// Attributes whose change cannot be made in place: the object is replaced.
    pub fn force_new_attrs(self) -> &'static [&'static str] {
        self.info().force_new
    }
}

/// The addresses an object of `kind` (in `region`, with `attrs`) refers to through its
/// kind's `references`; `named(kind, key)` finds the object of `kind` with that
/// `NameKey` key. Apply's converge steps and the resource graph (`drplan graph`, the
/// RTO's critical path) both order by these, so they show the same edges.
pub fn referenced(
    kind: Kind,
    region: Option<&str>,
    attrs: &Map<String, Value>,
    named: impl Fn(Kind, &str) -> Option<Address>,
) -> Vec<Address> {
    let mut out = Vec::new();
    for reference in kind.info().references {
        match *reference {
            Reference::Address(key) => match attrs.get(key) {
                Some(Value::String(a)) => out.push(Address::new(a.as_str())),
                Some(Value::Array(items)) => {
                    out.extend(items.iter().filter_map(Value::as_str).map(Address::new))
                }
                _ => {}
            },
            Reference::Name(key, target) => {
                let name = attrs.get(key).and_then(Value::as_str);
                let found = name
                    .zip(target.info().name_key)
                    .and_then(|(name, k)| named(target, &k.key(region, name)));
                out.extend(found);
            }
        }
    }
    out
}

/// The `NameKey` key of an object of `kind`, when others name objects of its kind.
pub fn name_key_of(kind: Kind, region: Option<&str>, attrs: &Map<String, Value>) -> Option<String> {
    let key = kind.info().name_key?;
    let name = attrs.get(key.attr).and_then(Value::as_str)?;
    Some(key.key(region, name))
}

/// The attributes of `kind` that hold addresses (`Reference::Address`): the live
/// readers write cloud ids there, `LiveState::resolve_ids` turns them into addresses.
pub fn address_attrs(kind: Kind) -> impl Iterator<Item = &'static str> {
    kind.info().references.iter().filter_map(|r| match r {
        Reference::Address(key) => Some(*key),
        Reference::Name(..) => None,
    })
}

/// What deleting an object of `kind` means beyond its removal, where that is more
/// than the name says (the plan says it wherever it would delete one).
pub fn deletion_means(kind: Kind) -> Option<&'static str> {
    kind.info().deletion_means
}

/// A key that is there, `null` included, is `Some` (serde reads a `null` as the outer
/// `None` otherwise).
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// The attribute map of `Resource`/`LiveObject` of a kind's typed attribute struct.
pub fn into_attrs<T: serde::Serialize>(attrs: T) -> Map<String, Value> {
    match serde_json::to_value(attrs) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// A string attribute, or "".
pub(crate) fn text<'a>(attrs: &'a Map<String, Value>, key: &str) -> &'a str {
    attrs.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `region/address`: the identity of the kinds found by their mark.
pub(crate) fn by_mark(region: &str, address: &Address, _: &Map<String, Value>) -> String {
    format!("{region}/{address}")
}

/// An attribute, or `null`.
pub(crate) fn get<'a>(a: &'a Map<String, Value>, k: &str) -> &'a Value {
    a.get(k).unwrap_or(&Value::Null)
}

/// The region of `r`, or "".
pub(crate) fn region_of(r: &Resource) -> &str {
    r.region.as_deref().unwrap_or_default()
}

/// How the runbook names most kinds: by their type name.
pub(crate) fn type_name_of(r: &Resource) -> String {
    r.kind.type_name().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_shape_names_one_kind() {
        for a in Kind::ALL {
            for b in Kind::ALL {
                let (sa, sb) = (a.info().import.address_shape, b.info().import.address_shape);
                assert!(a == b || sa.is_empty() || sa != sb, "{a:?} and {b:?}");
            }
        }
        let makes = |k: Kind, to: &str| k.info().import.makes(&Address::new(to));
        assert!(makes(Kind::Vpc, "network.a"));
        assert!(!makes(Kind::Vpc, "network.a.subnet.b"));
        assert!(makes(Kind::Subnet, "network.a.subnet.b"));
        assert!(makes(
            Kind::K8sObject,
            "kubernetes.app.apps_v1.Deployment.web"
        ));
        assert!(makes(Kind::EcrRepository, "registry.a"));
        assert!(makes(Kind::KmsReplicaKey, "kms_key.a.replica.dr"));
        assert!(!makes(Kind::KmsKey, "kms_key.a.replica.dr"));
        assert!(!makes(Kind::VpcPeering, "peering.a"));
    }

    #[test]
    fn only_kubernetes_objects_live_in_a_cluster_and_leave_the_aws_provider() {
        for k in Kind::ALL {
            let info = k.info();
            assert_eq!(info.in_cluster, k == Kind::K8sObject, "{k:?}");
            assert_eq!(
                info.terraform.provider == Provider::Kubernetes,
                info.in_cluster,
                "{k:?}"
            );
        }
    }
}
