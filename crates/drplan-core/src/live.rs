//! Live state as the readers report it: plain data, no clients.
//!
//! The readers in the `drplan` crate fill a [`LiveState`] with every object of a
//! managed kind that they found in the regions of the topology (marked or not, where
//! a name could collide with the spec), then call [`LiveState::resolve_ids`] so that
//! references are in the same address form as the desired side.

use crate::address::Address;
use crate::resource::{identity, AttrMap, Kind, Resource};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One object that exists in the cloud or a cluster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveObject {
    pub kind: Kind,
    /// Cloud id (VPC id, subnet id, cluster name, bucket name, health-check id,
    /// `zone/name/type/set` for records, `apiVersion/kind/ns/name` for k8s objects).
    pub id: String,
    pub region: Option<String>,
    /// From the ownership mark (`drplan:address` tag / label / TXT record), if marked.
    pub address: Option<Address>,
    /// From the ownership mark (`drplan:stack`), if marked.
    pub stack: Option<String>,
    /// Same normalized form as [`crate::resource::Resource::attrs`].
    pub attrs: AttrMap,
}

impl LiveObject {
    /// The key of what a reader observed about this object (`LiveState::observed`).
    pub fn observation_key(&self) -> String {
        observation_key(self.kind, self.region.as_deref(), &self.id)
    }

    pub fn identity(&self) -> String {
        let placeholder = Address::new("");
        let address = self.address.as_ref().unwrap_or(&placeholder);
        identity(self.kind, self.region.as_deref(), address, &self.attrs)
    }

    /// Marked as managed by drplan for this stack.
    pub fn is_owned_by(&self, stack: &str) -> bool {
        self.stack.as_deref() == Some(stack)
    }

    /// [`LiveObject::fingerprint_with`] for an object no spec declares sensitive paths
    /// for (Secret data is still left out).
    pub fn fingerprint(&self) -> String {
        self.fingerprint_with(&[], &[])
    }

    /// A digest of what drplan read about this object, recorded in a saved plan;
    /// applying the plan refuses if it has changed since.
    ///
    /// A plain digest of a secret would let anyone holding the plan file test guesses
    /// offline, so values at `sensitive` paths (and Secret data, sensitive by nature)
    /// are digested as the plan shows them, `(sensitive)`, and stand in the digest
    /// only as the paths in `sensitive_changed`: whether each differs from the spec,
    /// which the plan itself already says. A secret changed out of band between plan
    /// and apply is therefore stale when that flips whether it matches the spec, and
    /// not when it goes from one value that differs to another; apply then writes the
    /// spec's value, as the plan said it would.
    pub fn fingerprint_with(&self, sensitive: &[String], sensitive_changed: &[String]) -> String {
        let paths = crate::plan::redact::sensitive_paths(self.kind, &self.attrs, sensitive);
        let mut attrs = self.attrs.clone();
        crate::plan::redact::redact_shared(&mut attrs, &paths);
        let mut changed: Vec<&String> = sensitive_changed.iter().collect();
        changed.sort();
        changed.dedup();
        // Serialized straight into the digest: the same bytes, no buffer per object.
        let mut hasher = Sha256::new();
        let _ = serde_json::to_writer(
            &mut hasher,
            &(
                self.kind,
                &self.id,
                &self.address,
                &self.stack,
                &attrs,
                changed,
            ),
        );
        hex::encode(hasher.finalize())
    }
}

/// The key of `LiveState::observed` for the object `kind`/`id` in `region`.
pub fn observation_key(kind: Kind, region: Option<&str>, id: &str) -> String {
    format!("{kind}:{}:{id}", region.unwrap_or_default())
}

/// What could not be read, as data: what (a kind, an object, a cluster), where, and
/// the cloud's or the cluster's answer. Shown as `what[ in region]: message`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReadError {
    pub what: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub message: String,
}

impl ReadError {
    pub fn new(what: impl Into<String>, message: impl Into<String>) -> Self {
        ReadError {
            what: what.into(),
            region: None,
            message: message.into(),
        }
    }

    pub fn in_region(mut self, region: &str) -> Self {
        self.region = Some(region.to_string());
        self
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.region {
            Some(r) => write!(f, "{} in {r}: {}", self.what, self.message),
            None => write!(f, "{}: {}", self.what, self.message),
        }
    }
}

/// Everything read for one plan.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LiveState {
    pub objects: Vec<LiveObject>,
    /// How many API requests the read took (for `--verbose` and benchmarks).
    #[serde(default)]
    pub api_calls: u64,
    /// Kinds (per region) that could not be read, with the reason; the plan for them
    /// is unknown and the plan command reports an error.
    #[serde(default)]
    pub read_errors: Vec<ReadError>,
    /// Creates an apply announced and never confirmed: the write-ahead records it
    /// left next to its lock (`src/inflight.rs`). An unmarked object they name is the
    /// remains of that apply, which the diff adopts instead of refusing.
    #[serde(default)]
    pub inflight: Vec<InflightCreate>,
    /// Cloud ids that other objects refer to (`vpc`, `subnets`, `health_check`), as
    /// found by [`LiveState::resolve_ids`]: of two objects claiming one address, the
    /// one others use is the one to keep.
    #[serde(default)]
    pub referenced_ids: BTreeSet<String>,
    /// Places that did not answer at all (a lost region or cluster): nothing was read
    /// there, so nothing there is known to exist or to be missing. The diff defers
    /// the changes there when the environment activates another site, and refuses
    /// otherwise (`plan::diff`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreachable: Vec<Unreachable>,
    /// What readers saw but drplan does not manage, by [`LiveObject::observation_key`]:
    /// an EKS cluster's `status`, a CronJob's `status`. Kept out of `attrs`, so it is
    /// never a difference, nor in a saved plan's fingerprints (a CronJob that ran
    /// between plan and apply does not make the plan stale). The objectives read it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub observed: BTreeMap<String, Value>,
}

impl LiveState {
    /// Each object whose attributes equal, key order included, those of the desired
    /// resource its mark names holds that resource's map instead of its own copy: a
    /// converged object, the common case, then costs no second copy of its attributes
    /// (BENCHMARKS.md, sections 10 and 12). Only an equal map is replaced, so nothing
    /// read changes. Call it once references are in the desired form
    /// ([`LiveState::resolve_ids`]); the readers already share what they read in that
    /// form ([`DesiredMaps::share`]). Returns how many objects share their map.
    pub fn share_converged(&mut self, desired: &DesiredMaps) -> usize {
        let mut shared = 0;
        for o in &mut self.objects {
            shared += usize::from(desired.share(o));
        }
        shared
    }

    /// Adds what another read found (the clusters' objects to the cloud's): every
    /// field, so nothing a reader reported is dropped on the way.
    pub fn merge(&mut self, other: LiveState) {
        self.objects.extend(other.objects);
        self.api_calls += other.api_calls;
        self.read_errors.extend(other.read_errors);
        self.inflight.extend(other.inflight);
        self.referenced_ids.extend(other.referenced_ids);
        self.unreachable.extend(other.unreachable);
        self.observed.extend(other.observed);
    }

    /// What was observed about `object`, if anything.
    pub fn observed_of(&self, object: &LiveObject) -> Option<&Value> {
        self.observed.get(&object.observation_key())
    }
}

/// The desired attribute maps by kind and marked address, for sharing with the objects
/// read equal to them. A reader shares each object as it builds it, so a converged
/// object's own copy is freed at once instead of living until the whole state is read
/// (BENCHMARKS.md, section 12); what holds cloud ids where the spec has addresses is
/// shared once they are resolved ([`LiveState::share_converged`]).
#[derive(Clone, Debug, Default)]
pub struct DesiredMaps(HashMap<Kind, HashMap<String, AttrMap>>);

impl DesiredMaps {
    pub fn new<'a>(desired: impl IntoIterator<Item = &'a Resource>) -> Self {
        let mut maps: HashMap<Kind, HashMap<String, AttrMap>> = HashMap::new();
        for r in desired {
            maps.entry(r.kind)
                .or_default()
                .insert(r.address.0.clone(), r.attrs.clone());
        }
        DesiredMaps(maps)
    }

    /// Makes `object` hold its resource's map if its own equals it, key order
    /// included. Whether it shares that map now (it may have already).
    pub fn share(&self, object: &mut LiveObject) -> bool {
        let Some(address) = &object.address else {
            return false;
        };
        let Some(d) = self
            .0
            .get(&object.kind)
            .and_then(|maps| maps.get(address.as_str()))
        else {
            return false;
        };
        if object.attrs.shares(d) {
            return true;
        }
        if same_maps(&object.attrs, d) {
            object.attrs = d.clone();
            return true;
        }
        false
    }

    /// `object`, sharing its resource's map where equal ([`DesiredMaps::share`]).
    pub fn shared(&self, mut object: LiveObject) -> LiveObject {
        self.share(&mut object);
        object
    }
}

/// One write-ahead record: an apply was about to create the object `address` of
/// `kind`, identified by `identity` (`resource::identity` of the desired attributes),
/// and had not yet written its marks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InflightCreate {
    pub address: Address,
    pub kind: Kind,
    pub identity: String,
}

/// Why a place did not answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReachFailure {
    /// Nothing listens (TCP RST to the connection attempt).
    ConnectionRefused,
    /// Connected, then closed or reset before an answer came.
    ConnectionReset,
    /// No answer within the probe's time bound (a blackholed endpoint).
    Timeout,
    /// The endpoint's name does not resolve.
    Dns,
}

impl ReachFailure {
    pub fn describe(self) -> &'static str {
        match self {
            ReachFailure::ConnectionRefused => "connection refused",
            ReachFailure::ConnectionReset => "connection reset before an answer",
            ReachFailure::Timeout => "timed out",
            ReachFailure::Dns => "name does not resolve (DNS)",
        }
    }
}

/// One place the readers could not reach: an AWS service in a region, or a
/// cluster's API server.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Unreachable {
    /// The spec site in that region (filled in by the caller that knows the topology).
    pub site: Option<String>,
    pub region: Option<String>,
    /// `ec2`, `eks`, `s3`, or `kubernetes`.
    pub service: String,
    /// `cluster.<label>` when the place is a cluster's API server.
    pub cluster: Option<Address>,
    pub cause: ReachFailure,
    /// The underlying error, one line, never a credential.
    pub detail: String,
}

impl Unreachable {
    /// The AWS service whose regional API holds objects of `kind`, for regional kinds.
    pub fn service_of(kind: Kind) -> Option<&'static str> {
        kind.info().regional_service
    }

    /// Whether an object of `kind` in `region` (for Kubernetes objects: in the
    /// cluster `cluster`) lives here, so that nothing about it could be read.
    pub fn covers(&self, kind: Kind, region: Option<&str>, cluster: Option<&str>) -> bool {
        match &self.cluster {
            Some(own) => kind.info().in_cluster && cluster == Some(own.as_str()),
            None => {
                Unreachable::service_of(kind) == Some(self.service.as_str())
                    && region.is_some()
                    && region == self.region.as_deref()
            }
        }
    }

    /// `ec2 in us-west-2` / `cluster.primary (us-west-2)`.
    pub fn place(&self) -> String {
        match (&self.cluster, &self.region) {
            (Some(c), Some(r)) => format!("{c} ({r})"),
            (Some(c), None) => c.to_string(),
            (None, Some(r)) => format!("{} in {r}", self.service),
            (None, None) => self.service.clone(),
        }
    }

    /// `place: cause (detail)`.
    pub fn reason(&self) -> String {
        let detail = if self.detail.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.detail)
        };
        format!("{}: {}{detail}", self.place(), self.cause.describe())
    }
}

impl LiveState {
    /// Rewrites raw cloud ids in reference attributes (each kind's
    /// `Reference::Address` attributes: `vpc`, `subnets`, `health_check`, ...; a
    /// bucket's KMS key ARNs, `kinds::kms::resolve_bucket_keys`) into the addresses of the marked objects they name, so they
    /// compare equal to the desired side. Ids of objects drplan does not know stay as
    /// they are (and show up as a difference).
    pub fn resolve_ids(&mut self) {
        let by_id: BTreeMap<String, Address> = self
            .objects
            .iter()
            .filter_map(|o| o.address.clone().map(|a| (o.id.clone(), a)))
            .collect();
        self.rewrite_references(&by_id);
    }

    /// [`LiveState::resolve_ids`] for the unmarked objects `import` blocks name by
    /// id (a subnet an imported cluster uses is `network.x.subnet.y` once imported):
    /// their import address stands in for the mark they do not carry yet.
    pub fn resolve_imported_ids(&mut self, imports: &[crate::model::Import]) {
        let by_id: BTreeMap<String, Address> = self
            .objects
            .iter()
            .filter(|o| o.address.is_none() && o.stack.is_none())
            .filter_map(|o| {
                // As the diff matches them (a KMS key id names the key's ARN), of the
                // kind the import's address makes (a replica shares its key's id).
                imports
                    .iter()
                    .find(|i| {
                        i.names(o) && crate::adopt::live::kind_of(&i.to).is_none_or(|k| k == o.kind)
                    })
                    .map(|i| (o.id.clone(), i.to.clone()))
            })
            .collect();
        if !by_id.is_empty() {
            self.rewrite_references(&by_id);
        }
    }

    fn rewrite_references(&mut self, by_id: &BTreeMap<String, Address>) {
        let mut referenced = BTreeSet::new();
        let mut map = |v: &mut Value| {
            if let Value::String(s) = v {
                if let Some(a) = by_id.get(s.as_str()) {
                    referenced.insert(s.clone());
                    *s = a.0.clone();
                }
            }
        };
        // Only what changes is written: a map shared with the desired side
        // (`DesiredMaps::share`) is copied only if it held a cloud id after all.
        let rewrites = |v: &Value| match v {
            Value::String(s) => by_id.contains_key(s.as_str()),
            Value::Array(items) => {
                items
                    .iter()
                    .any(|i| i.as_str().is_some_and(|s| by_id.contains_key(s)))
                    || !items.is_sorted_by(|a, b| a.as_str() <= b.as_str())
            }
            _ => false,
        };
        for o in &mut self.objects {
            for key in crate::kinds::address_attrs(o.kind) {
                if !o.attrs.get(key).is_some_and(rewrites) {
                    continue;
                }
                match o.attrs.get_mut(key) {
                    Some(Value::Array(items)) => {
                        items.iter_mut().for_each(&mut map);
                        items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                    }
                    Some(v) => map(v),
                    None => {}
                }
            }
        }
        self.referenced_ids.extend(referenced);
        crate::kinds::kms::resolve_bucket_keys(&mut self.objects);
    }
}

/// An object of a kind drplan manages that no drplan stack marks (`drift
/// --unmanaged`, driftctl's "unmanaged"): what an `import` block could take over.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Unmanaged {
    #[serde(rename = "type", serialize_with = "kind_type_name")]
    pub kind: Kind,
    /// The id an `import` block names it by (docs/spec-reference.md).
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Where else it is to be found: a Kubernetes object's cluster and kind
    /// (`cluster.primary apps/v1 Deployment`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within: Option<String>,
}

fn kind_type_name<S: serde::Serializer>(kind: &Kind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.info().type_name)
}

/// Equal, and in the same key order at every level (what the plan shows of a map
/// follows its order).
fn same_maps(a: &serde_json::Map<String, Value>, b: &serde_json::Map<String, Value>) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b.iter())
            .all(|((ka, va), (kb, vb))| ka == kb && same_values(va, vb))
}

fn same_values(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => same_maps(a, b),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_values(x, y))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::diff::{diff, DiffContext};
    use serde_json::json;

    fn bucket(label: &str, attrs: Value) -> Resource {
        Resource {
            address: Address::new(format!("bucket.{label}")),
            kind: Kind::Bucket,
            site: Some("primary".into()),
            region: Some("us-west-2".into()),
            attrs: attrs.as_object().expect("object").clone().into(),
            sensitive: Vec::new(),
            depends_on: Vec::new(),
            protect: false,
            source: None,
            ignore_changes: Vec::new(),
        }
    }

    fn read(r: &Resource, attrs: Value) -> LiveObject {
        LiveObject {
            kind: r.kind,
            id: r.attrs["name"].as_str().expect("name").to_string(),
            region: r.region.clone(),
            address: Some(r.address.clone()),
            stack: Some("shop".into()),
            attrs: attrs.as_object().expect("object").clone().into(),
        }
    }

    fn state() -> (Vec<Resource>, LiveState) {
        let attrs = json!({"name": "a", "versioning": true, "tags": {"k": "v", "l": "w"}});
        let desired = vec![
            bucket("same", attrs.clone()),
            bucket(
                "drifted",
                json!({"name": "b", "versioning": true, "tags": {"k": "v"}}),
            ),
            bucket(
                "reordered",
                json!({"name": "c", "versioning": true, "tags": {"k": "v", "l": "w"}}),
            ),
        ];
        let objects = vec![
            read(&desired[0], attrs),
            read(
                &desired[1],
                json!({"name": "b", "versioning": false, "tags": {"k": "v"}}),
            ),
            read(
                &desired[2],
                json!({"name": "c", "versioning": true, "tags": {"l": "w", "k": "v"}}),
            ),
        ];
        (
            desired,
            LiveState {
                objects,
                ..LiveState::default()
            },
        )
    }

    #[test]
    fn a_converged_object_shares_the_desired_map_and_a_drifted_one_keeps_its_own() {
        let (desired, mut live) = state();
        assert_eq!(live.share_converged(&DesiredMaps::new(&desired)), 1);
        assert!(live.objects[0].attrs.shares(&desired[0].attrs));
        assert!(!live.objects[1].attrs.shares(&desired[1].attrs));
        // Equal as maps but in another order: kept, so what the plan shows of it is
        // what was read.
        assert!(!live.objects[2].attrs.shares(&desired[2].attrs));
        assert_eq!(
            live.share_converged(&DesiredMaps::new(&desired)),
            1,
            "sharing again changes nothing"
        );
    }

    #[test]
    fn a_reader_shares_an_equal_map_as_it_builds_the_object() {
        let (desired, live) = state();
        let maps = DesiredMaps::new(&desired);
        let objects: Vec<LiveObject> = live.objects.into_iter().map(|o| maps.shared(o)).collect();
        assert!(objects[0].attrs.shares(&desired[0].attrs));
        assert!(!objects[1].attrs.shares(&desired[1].attrs));
        assert!(
            !objects[2].attrs.shares(&desired[2].attrs),
            "another key order"
        );
        let unmarked = LiveObject {
            address: None,
            ..objects[1].clone()
        };
        assert!(!maps.shared(unmarked).attrs.shares(&desired[0].attrs));
    }

    fn dns(kind: Kind, address: &str, id: &str, attrs: Value) -> (Resource, LiveObject) {
        let r = Resource {
            address: Address::new(address),
            kind,
            region: None,
            ..bucket("x", attrs.clone())
        };
        let o = LiveObject {
            kind,
            id: id.into(),
            region: None,
            address: Some(r.address.clone()),
            stack: Some("shop".into()),
            attrs: attrs.as_object().expect("object").clone().into(),
        };
        (r, o)
    }

    /// A record with no health check is read as the spec has it and shared at once;
    /// resolving the other record's health-check id must neither copy that shared map
    /// nor leave the resolved one unshared.
    #[test]
    fn resolving_ids_leaves_a_map_shared_by_its_reader_shared() {
        let (check, check_read) = dns(
            Kind::HealthCheck,
            "dns.a.health_check",
            "hc-1",
            json!({"fqdn": "a.example.com", "tags": {}}),
        );
        let (plain, plain_read) = dns(
            Kind::DnsRecord,
            "dns.b.record",
            "z/b/A",
            json!({"name": "b.example.com.", "health_check": null}),
        );
        let (checked, _) = dns(
            Kind::DnsRecord,
            "dns.a.record",
            "z/a/A",
            json!({"name": "a.example.com.", "health_check": "dns.a.health_check"}),
        );
        let (_, checked_read) = dns(
            Kind::DnsRecord,
            "dns.a.record",
            "z/a/A",
            json!({"name": "a.example.com.", "health_check": "hc-1"}),
        );
        let desired = vec![check, plain, checked];
        let maps = DesiredMaps::new(&desired);
        let mut live = LiveState {
            objects: [check_read, plain_read, checked_read]
                .into_iter()
                .map(|o| maps.shared(o))
                .collect(),
            ..LiveState::default()
        };
        assert!(live.objects[1].attrs.shares(&desired[1].attrs));
        assert!(
            !live.objects[2].attrs.shares(&desired[2].attrs),
            "a cloud id"
        );
        live.resolve_ids();
        assert!(
            live.objects[1].attrs.shares(&desired[1].attrs),
            "resolving copied a map it had nothing to change in"
        );
        assert_eq!(live.objects[2].attrs["health_check"], "dns.a.health_check");
        assert_eq!(live.referenced_ids, BTreeSet::from(["hc-1".to_string()]));
        assert_eq!(live.share_converged(&maps), 3);
        assert!(live.objects[2].attrs.shares(&desired[2].attrs));
    }

    /// Written straight into the digest, a fingerprint is still the digest of the
    /// canonical JSON a saved plan's was taken of.
    #[test]
    fn a_fingerprint_is_the_digest_of_the_canonical_json() {
        let (_, live) = state();
        let o = &live.objects[0];
        let no_changes: Vec<&String> = Vec::new();
        let canonical =
            serde_json::to_vec(&(o.kind, &o.id, &o.address, &o.stack, &o.attrs, no_changes))
                .expect("json");
        assert_eq!(o.fingerprint(), hex::encode(Sha256::digest(canonical)));
    }

    #[test]
    fn sharing_does_not_change_the_plan() {
        let (desired, live) = state();
        let mut shared = live.clone();
        shared.share_converged(&DesiredMaps::new(&desired));
        let ctx = DiffContext {
            stack: "shop".into(),
            environment: "prod".into(),
            ..DiffContext::default()
        };
        let before = serde_json::to_string(&diff(&desired, &live, &ctx)).expect("json");
        let after = serde_json::to_string(&diff(&desired, &shared, &ctx)).expect("json");
        assert_eq!(before, after);
    }
}
