//! Topology -> flat resources in the normalized form documented on
//! [`crate::resource::Kind`]. The live readers produce the same shapes.

use crate::address::Address;
use crate::model::{Environment, Tags, Topology};
use crate::resource::{Kind, Resource, SourceRef};
use serde_json::{json, Value};

/// Every family lowers its blocks (`kinds::<family>::lower`, registered in
/// `kinds::FAMILIES`); the result is sorted by address.
pub fn lower(t: &Topology, env: &Environment) -> Vec<Resource> {
    let lw = Lowering { t, env };
    let mut out = Vec::new();
    for lower in crate::kinds::FAMILIES.iter().filter_map(|f| f.lower) {
        lower(&lw, &mut out);
    }
    out.sort_by(|a, b| a.address.cmp(&b.address));
    out
}

/// What a family's lowering reads: the topology and the environment.
pub struct Lowering<'a> {
    pub t: &'a Topology,
    pub env: &'a Environment,
}

impl Lowering<'_> {
    /// One resource of the spec (its site's region, no sensitivity or ignored fields
    /// yet: those are added after lowering).
    #[allow(clippy::too_many_arguments)]
    pub fn resource(
        &self,
        address: Address,
        kind: Kind,
        site: Option<&str>,
        attrs: Value,
        depends_on: Vec<Address>,
        protect: bool,
        source: &SourceRef,
    ) -> Resource {
        Resource {
            ignore_changes: Vec::new(),
            address,
            kind,
            site: site.map(str::to_string),
            region: site.and_then(|s| self.t.sites.get(s).map(|s| s.region.clone())),
            attrs: match attrs {
                Value::Object(m) => m.into(),
                _ => Default::default(),
            },
            sensitive: Vec::new(),
            depends_on,
            protect,
            source: Some(source.clone()),
        }
    }
}

/// `depends_on` names blocks; every resource of the block waits for every resource of
/// the blocks it names. Run over every resource of the project, Kubernetes objects
/// included (they are lowered after the cloud resources, and either side may name the
/// other).
pub fn wire_depends_on(t: &Topology, out: &mut [Resource]) {
    for r in out.iter_mut() {
        let Some(deps) = t.depends_on.get(r.address.root_block().as_str()) else {
            continue;
        };
        r.depends_on
            .extend(deps.iter().map(|d| Address::new(d.clone())));
    }
    let existing: std::collections::BTreeSet<Address> =
        out.iter().map(|r| r.address.clone()).collect();
    let by_block: std::collections::BTreeMap<Address, Vec<Address>> =
        out.iter().fold(Default::default(), |mut m, r| {
            m.entry(r.address.root_block())
                .or_insert_with(Vec::new)
                .push(r.address.clone());
            m
        });
    for r in out.iter_mut() {
        let mut deps: Vec<Address> = Vec::new();
        for d in std::mem::take(&mut r.depends_on) {
            if existing.contains(&d) {
                deps.push(d);
            } else if let Some(all) = by_block.get(&d) {
                deps.extend(all.iter().cloned());
            }
        }
        deps.retain(|d| d != &r.address);
        deps.sort();
        deps.dedup();
        r.depends_on = deps;
    }
}

pub(crate) fn tags(t: &Tags) -> Value {
    json!(t)
}

pub(crate) fn sorted_addrs(net: &Address, subnets: &[String]) -> Vec<Address> {
    let mut v: Vec<Address> = subnets.iter().map(|s| net.child("subnet", s)).collect();
    v.sort();
    v.dedup();
    v
}
