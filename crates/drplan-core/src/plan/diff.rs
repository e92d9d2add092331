//! `diff(desired, live) -> Plan`, a pure function.
//!
//! Matching: a desired resource matches the live object of the same kind with the same
//! identity key (`resource::identity`). A desired resource with no identity match may
//! still match an object of this stack marked with its address: that is the same
//! object with an identifying attribute changed (a renamed bucket), so it is replaced,
//! not created beside the old one. The reverse, a renamed block whose object is still
//! found by name, keeps the object and records `moved_from` so apply moves the mark.
//!
//! **Architecture invariant:** only objects marked with `ctx.stack` are ever updated,
//! replaced or deleted. Anything else that collides with the spec is a [`PlanError`],
//! with one exception that is this stack's by its own record: an unmarked object that a
//! write-ahead record of this stack names (`LiveState::inflight`) is adopted.

use super::compare::changed_attrs;
use super::redact::{changed_paths, redact_shared, sensitive_paths};
use super::{Action, Deferred, Plan, PlanError, ResourceChange, FORMAT_VERSION};
use crate::address::Address;
use crate::live::{InflightCreate, LiveObject, LiveState, Unreachable};
use crate::model::Moved;
use crate::resource::{Kind, Resource};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// What the diff needs besides the two sides.
#[derive(Clone, Debug, Default)]
pub struct DiffContext {
    /// Only objects marked with this stack can be changed or deleted.
    pub stack: String,
    pub environment: String,
    /// Digest of the spec files (`Project::digest`), recorded in the plan.
    pub spec_digest: String,
    /// Protected objects the user allowed to be deleted or replaced.
    pub allow_destroy: Vec<Address>,
    /// The DR site this environment activates (its `active_site`, when that site's
    /// role is `dr`). Only then may a site that did not answer be left behind: its
    /// changes are deferred instead of refusing the plan.
    pub activated_site: Option<String>,
    /// The spec's `import` blocks (`spec::import`): an unmarked object with that id is
    /// taken over at that address.
    pub imports: Vec<crate::model::Import>,
    /// `--replace ADDRESS`: objects to destroy and create again even when they match
    /// the spec (a wedged node group, a failed restore Job).
    pub replace: Vec<Address>,
    /// The spec's `removed` blocks (`spec::removed`): an orphan under `from` is
    /// forgotten (marks dropped, object kept) or deleted even though protected.
    pub removed: Vec<crate::model::Removed>,
    /// The spec's sites by region, so an orphan in a site's region is placed in that
    /// site even when no block of the spec is left there (then the resources say
    /// nothing about it).
    pub site_regions: BTreeMap<String, String>,
}

/// The reason a change is a replacement when `--replace` asked for it (in
/// `replace_because`, where the attributes that force one are named otherwise).
pub const REPLACE_REQUESTED: &str = "(requested with --replace)";

/// Attributes that exist only once the object does. Shown as `(known after apply)`.
pub fn unknown_after_apply(kind: Kind) -> &'static [&'static str] {
    kind.info().unknown_after_apply
}

pub fn diff(desired: &[Resource], live: &LiveState, ctx: &DiffContext) -> Plan {
    diff_with_moves(desired, live, ctx, &[])
}

/// [`diff`], following the spec's `moved` blocks: a resource at (or under) a `to`
/// address that matches nothing else matches the object of this stack marked with the
/// corresponding `from` address, and references to moved objects in live attributes
/// are read as their new addresses (a subnet still in the renamed VPC is unchanged).
pub fn diff_with_moves(
    desired: &[Resource],
    live: &LiveState,
    ctx: &DiffContext,
    moves: &[Moved],
) -> Plan {
    let followed: Vec<LiveObject>;
    let objects: &[LiveObject] = if moves.is_empty() {
        &live.objects
    } else {
        followed = live
            .objects
            .iter()
            .map(|o| follow_references(o, moves))
            .collect();
        &followed
    };
    let mut planner = Planner {
        ctx,
        live: objects,
        inflight: &live.inflight,
        claimed: vec![false; live.objects.len()],
        sensitivity: HashMap::new(),
        changes: Vec::new(),
        errors: Vec::new(),
    };
    let identities: Vec<String> = live.objects.iter().map(LiveObject::identity).collect();
    let mut by_identity: HashMap<(Kind, &str), Vec<usize>> = HashMap::new();
    for (i, o) in live.objects.iter().enumerate() {
        by_identity
            .entry((o.kind, identities[i].as_str()))
            .or_default()
            .push(i);
    }

    // Identity matches first, so the address fallback below only sees objects that no
    // desired resource claims by name.
    let mut unmatched = Vec::new();
    let mut deferred = Vec::new();
    let mut seen: HashMap<(Kind, String), &Address> = HashMap::new();
    for resource in desired {
        let identity = resource.identity();
        if let Some(first) = seen.get(&(resource.kind, identity.clone())) {
            planner.errors.push(PlanError {
                address: resource.address.clone(),
                message: format!(
                    "names the same {} as {first} (`{identity}`): one cloud object cannot be two parts of the spec",
                    resource.kind
                ),
                help: Some("give one of them another name".into()),
            });
            continue;
        }
        seen.insert((resource.kind, identity.clone()), &resource.address);
        if let Some(lost) = not_read(
            &live.unreachable,
            resource.kind,
            resource.region.as_deref(),
            Some(&resource.attrs),
        ) {
            deferred.push(Deferred {
                address: resource.address.clone(),
                kind: resource.kind,
                site: resource.site.clone(),
                region: resource.region.clone(),
                reason: lost.reason(),
            });
            continue;
        }
        let candidates = by_identity.get(&(resource.kind, identity.as_str()));
        let pick = candidates.and_then(|c| {
            let free: Vec<usize> = c.iter().copied().filter(|&i| !planner.claimed[i]).collect();
            let owned: Vec<usize> = free
                .iter()
                .copied()
                .filter(|&i| live.objects[i].is_owned_by(&ctx.stack))
                .collect();
            // Of two objects claiming one address, the one others use is the one to keep.
            owned
                .iter()
                .copied()
                .find(|&i| live.referenced_ids.contains(&live.objects[i].id))
                .or_else(|| owned.first().copied())
                .or_else(|| free.first().copied())
        });
        match pick {
            Some(i) => {
                planner.claimed[i] = true;
                planner.matched(resource, i);
            }
            None => unmatched.push(resource),
        }
    }
    let mut owned_by_address: HashMap<(Kind, &Address), Vec<usize>> = HashMap::new();
    for (i, o) in live.objects.iter().enumerate() {
        if let (Some(address), true) = (&o.address, o.is_owned_by(&ctx.stack)) {
            owned_by_address
                .entry((o.kind, address))
                .or_default()
                .push(i);
        }
    }
    for resource in unmatched {
        let free = |address: &Address| {
            owned_by_address
                .get(&(resource.kind, address))
                .and_then(|c| c.iter().copied().find(|&i| !planner.claimed[i]))
        };
        let by_address = free(&resource.address)
            .or_else(|| {
                renamed(&resource.address, moves, Direction::Back).and_then(|old| free(&old))
            })
            .or_else(|| {
                // A kind found by its mark alone (network, subnet, health check) has no
                // identity an unmarked object could match: an import names it by id.
                if ctx.imports.is_empty() {
                    return None;
                }
                // One id may name copies in several regions (a multi-region KMS
                // key's replicas): the one in the resource's region first.
                let candidates = || {
                    live.objects.iter().enumerate().filter(|&(i, o)| {
                        !planner.claimed[i]
                            && o.kind == resource.kind
                            && imported(o, resource, &ctx.imports).is_some()
                    })
                };
                candidates()
                    .find(|(_, o)| o.region == resource.region)
                    .or_else(|| candidates().next())
                    .map(|(i, _)| i)
            });
        match by_address {
            Some(i) => {
                planner.claimed[i] = true;
                planner.matched(resource, i);
            }
            None => planner.create(resource),
        }
    }

    let mut sites = sites_by_region(desired);
    for (region, site) in &ctx.site_regions {
        sites.entry(region.as_str()).or_insert(site.as_str());
    }
    let extras = extra_claimants(live, &planner.claimed, &ctx.stack);
    for (i, object) in live.objects.iter().enumerate() {
        let lost = not_read(
            &live.unreachable,
            object.kind,
            object.region.as_deref(),
            Some(&object.attrs),
        )
        .is_some();
        if !planner.claimed[i] && object.is_owned_by(&ctx.stack) && !lost {
            match extras.contains(&i) {
                true => planner.extra_claimant(object, &sites),
                false => planner.orphan(object, &sites),
            }
        }
    }

    planner
        .errors
        .extend(reachability_errors(&live.unreachable, &deferred, ctx));
    for reason in &live.read_errors {
        planner.errors.push(PlanError {
            address: Address::new(""),
            message: format!("could not read live state: {reason}"),
            help: Some("what exists there is unknown, so no plan can be trusted; fix access and plan again".into()),
        });
    }

    let live_fingerprints: BTreeMap<String, String> = live
        .objects
        .iter()
        .enumerate()
        .filter(|(i, o)| planner.claimed[*i] || o.is_owned_by(&ctx.stack))
        .map(|(i, o)| {
            let print = match planner.sensitivity.get(&i) {
                Some((sensitive, changed)) => o.fingerprint_with(sensitive, changed),
                None => o.fingerprint(),
            };
            (identities[i].clone(), print)
        })
        .collect();

    let Planner {
        mut changes,
        mut errors,
        ..
    } = planner;
    errors.extend(shared_addresses(&changes));
    changes.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    // What differs, attribute by attribute: once, here, for the renderers.
    changes
        .iter_mut()
        .for_each(ResourceChange::refresh_attr_diff);
    errors.sort_by(|a, b| a.address.cmp(&b.address));
    deferred.sort_by(|a, b| (&a.site, &a.address).cmp(&(&b.site, &b.address)));
    let mut unreachable = live.unreachable.clone();
    unreachable.sort();
    unreachable.dedup();
    Plan {
        format_version: FORMAT_VERSION.to_string(),
        stack: ctx.stack.clone(),
        environment: ctx.environment.clone(),
        spec_digest: ctx.spec_digest.clone(),
        changes,
        live_fingerprints,
        errors,
        objectives: None,
        unreachable,
        deferred,
        targets: Vec::new(),
        left_out: Vec::new(),
        replace: ctx.replace.clone(),
    }
}

/// The place among `unreachable` that holds an object of `kind` in `region` (for a
/// Kubernetes object, in the cluster its attributes name; for an object spanning two
/// regions, a VPC peering connection, in the second region too), if any.
fn not_read<'a>(
    unreachable: &'a [Unreachable],
    kind: Kind,
    region: Option<&str>,
    attrs: Option<&Map<String, Value>>,
) -> Option<&'a Unreachable> {
    let attr = |key: &str| attrs.and_then(|a| a.get(key)).and_then(Value::as_str);
    let cluster = attr("cluster");
    let peer_region = attr(crate::kinds::peering::PEER_REGION);
    unreachable.iter().find(|u| {
        u.covers(kind, region, cluster)
            || (peer_region.is_some() && u.covers(kind, peer_region, cluster))
    })
}

/// A site that did not answer makes the plan unsafe, except where the environment
/// activates another site (a failover away from the lost one): then what lives there
/// is deferred and the rest is planned. The activated site itself must answer.
fn reachability_errors(
    unreachable: &[Unreachable],
    deferred: &[Deferred],
    ctx: &DiffContext,
) -> Vec<PlanError> {
    let mut by_site: BTreeMap<String, Vec<&Unreachable>> = BTreeMap::new();
    for u in unreachable {
        let site = u
            .site
            .clone()
            .or_else(|| u.region.clone())
            .unwrap_or_else(|| u.place());
        by_site.entry(site).or_default().push(u);
    }
    let activated = ctx.activated_site.as_deref();
    let mut errors = Vec::new();
    for (site, places) in by_site {
        let reasons: Vec<String> = places.iter().map(|u| u.reason()).collect();
        // The activated site's own objects among what could not be read (two sites
        // can share a region).
        let holds_activated = activated == Some(site.as_str())
            || deferred.iter().any(|d| {
                d.site.is_some() && d.site.as_deref() == activated && reasons.contains(&d.reason)
            });
        let (message, help) = match activated {
            Some(active) if holds_activated => (
                format!("site {site}, the site this environment activates ({active}), did not answer: {}", reasons.join("; ")),
                "a failover needs the site it fails over to; restore access to it and plan again".to_string(),
            ),
            Some(_) => continue,
            None => (
                format!("site {site} did not answer: {}", reasons.join("; ")),
                format!(
                    "nothing in site {site} could be read, so no plan can be trusted; restore access and plan again, \
                     or, if the site is lost, plan with an environment that activates another site (`active_site`), \
                     which defers the changes in {site}"
                ),
            ),
        };
        errors.push(PlanError {
            address: Address::new(""),
            message,
            help: Some(help),
        });
    }
    errors
}

#[derive(Clone, Copy)]
enum Direction {
    /// Old address to new (`from` -> `to`).
    Forward,
    /// New address to old (`to` -> `from`).
    Back,
}

/// The address `address` has on the other side of a move, if a move covers it: the
/// moved address itself or anything under it (`network.a.subnet.x` under `network.a`).
fn renamed(address: &Address, moves: &[Moved], direction: Direction) -> Option<Address> {
    moves.iter().find_map(|m| {
        let (from, to) = match direction {
            Direction::Forward => (&m.from, &m.to),
            Direction::Back => (&m.to, &m.from),
        };
        let rest = address.as_str().strip_prefix(from.as_str())?;
        (rest.is_empty() || rest.starts_with('.')).then(|| Address::new(format!("{to}{rest}")))
    })
}

/// The live object with its references to moved objects (its kind's
/// `Reference::Address` attributes, as `LiveState::resolve_ids` wrote them) under
/// their new addresses.
fn follow_references(object: &LiveObject, moves: &[Moved]) -> LiveObject {
    let mut object = object.clone();
    let follow = |v: &mut Value| {
        if let Value::String(s) = v {
            if let Some(new) = renamed(&Address::new(s.as_str()), moves, Direction::Forward) {
                *s = new.0;
            }
        }
    };
    for key in crate::kinds::address_attrs(object.kind) {
        match object.attrs.get_mut(key) {
            Some(Value::Array(items)) => {
                items.iter_mut().for_each(follow);
                items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
            Some(v) => follow(v),
            None => {}
        }
    }
    object
}

/// Sites first in name order, then global objects, then objects in a region no site
/// covers (orphans of a removed site), each by address.
fn sort_key(c: &ResourceChange) -> (bool, &str, &str, &str) {
    (
        c.site.is_none(),
        c.site.as_deref().unwrap_or(""),
        if c.site.is_none() {
            c.region.as_deref().unwrap_or("")
        } else {
            ""
        },
        c.address.as_str(),
    )
}

/// Orphans carry no site of their own; the region tells which site they were in.
fn sites_by_region(desired: &[Resource]) -> HashMap<&str, &str> {
    let mut sites = HashMap::new();
    for r in desired {
        if let (Some(region), Some(site)) = (r.region.as_deref(), r.site.as_deref()) {
            sites.entry(region).or_insert(site);
        }
    }
    sites
}

struct Planner<'a> {
    ctx: &'a DiffContext,
    live: &'a [LiveObject],
    inflight: &'a [InflightCreate],
    /// Live objects already matched to a desired resource.
    claimed: Vec<bool>,
    /// What a matched object's fingerprint leaves out: the sensitive paths of its
    /// resource, and which of them differ (`LiveObject::fingerprint_with`).
    sensitivity: HashMap<usize, (Vec<String>, Vec<String>)>,
    changes: Vec<ResourceChange>,
    errors: Vec<PlanError>,
}

impl Planner<'_> {
    fn allowed_to_destroy(&self, address: &Address) -> bool {
        self.ctx.allow_destroy.contains(address)
    }

    fn create(&mut self, resource: &Resource) {
        let sensitive = sensitive_paths(resource.kind, &resource.attrs, &resource.sensitive);
        let mut after = resource.attrs.clone();
        redact_shared(&mut after, &sensitive);
        self.changes.push(ResourceChange {
            address: resource.address.clone(),
            kind: resource.kind,
            site: resource.site.clone(),
            region: resource.region.clone(),
            action: Action::Create,
            before: None,
            after: Some(after),
            replace_because: Vec::new(),
            unknown_after: unknown_after_apply(resource.kind)
                .iter()
                .map(|s| s.to_string())
                .collect(),
            sensitive,
            sensitive_changed: Vec::new(),
            live_id: None,
            depends_on: resource.depends_on.clone(),
            protect: resource.protect,
            moved_from: None,
            wait_for: Vec::new(),
            adopt: false,
            import_id: None,
            attr_diff: Default::default(),
        });
    }

    fn matched(&mut self, resource: &Resource, index: usize) {
        let object = &self.live[index];
        self.sensitivity
            .insert(index, (resource.sensitive.clone(), Vec::new()));
        let import_id = imported(object, resource, &self.ctx.imports);
        let adopt = !object.is_owned_by(&self.ctx.stack)
            && (import_id.is_some() || adoptable(object, resource, self.inflight));
        if !object.is_owned_by(&self.ctx.stack) && !adopt {
            let owner = match &object.stack {
                Some(other) => format!("it is marked as managed by stack `{other}`"),
                None => "it carries no drplan mark".to_string(),
            };
            self.errors.push(PlanError {
                address: resource.address.clone(),
                message: format!(
                    "{} `{}` exists but is not managed by this stack: drplan never changes objects it did not create ({owner})",
                    resource.kind, object.id
                ),
                help: Some(match &object.stack {
                    Some(_) => "give this object another name, or manage it from the stack that owns it".into(),
                    None => "give this object another name, or remove it from the spec if it is managed elsewhere".into(),
                }),
            });
            return;
        }

        // `lifecycle { ignore_changes }`: what another controller owns is not compared,
        // and the apply leaves it (`plan::ignore`).
        let (live_attrs, desired_attrs) = super::ignore::adjust(resource, &object.attrs);
        // A converged object read into the desired map (`LiveState::share_converged`)
        // differs in nothing.
        let mut changed = match live_attrs.shares(&desired_attrs) {
            true => Vec::new(),
            false => changed_attrs(&live_attrs, &desired_attrs),
        };
        if object.region != resource.region {
            // Only reachable through the address fallback: the spec moved the object.
            changed.push("region".to_string());
        }
        let mut replace_because: Vec<String> = changed
            .iter()
            .filter(|a| {
                a.as_str() == "region" || resource.kind.force_new_attrs().contains(&a.as_str())
            })
            .cloned()
            .collect();
        let requested = self.ctx.replace.contains(&resource.address);
        if requested {
            replace_because.push(REPLACE_REQUESTED.to_string());
        }
        // Matched by name under another address: the block was renamed. Its mark must
        // follow, or the address fallback above could not find it the day its name
        // changes, and it would be deleted as an orphan beside a new copy.
        let moved_from = object.address.clone().filter(|a| *a != resource.address);
        let action = if changed.is_empty() && moved_from.is_none() && !adopt && !requested {
            Action::NoOp
        } else if replace_because.is_empty() {
            Action::Update
        } else {
            Action::Replace
        };
        if action == Action::Replace
            && resource.protect
            && !self.allowed_to_destroy(&resource.address)
        {
            self.errors.push(PlanError {
                address: resource.address.clone(),
                message: format!(
                    "protected, and must be replaced because {} cannot change in place: replacing it destroys the live {} `{}`",
                    replace_because.join(", "),
                    resource.kind,
                    object.id
                ),
                help: Some(destroy_help(&resource.address)),
            });
        }

        let mut declared = resource.sensitive.clone();
        declared.extend(sensitive_paths(object.kind, &object.attrs, &[]));
        let sensitive = sensitive_paths(resource.kind, &desired_attrs, &declared);
        let sensitive_changed = changed_paths(&live_attrs, &desired_attrs, &sensitive);
        self.sensitivity
            .insert(index, (sensitive.clone(), sensitive_changed.clone()));
        let mut before = live_attrs;
        let mut after = desired_attrs;
        redact_shared(&mut before, &sensitive);
        redact_shared(&mut after, &sensitive);
        self.changes.push(ResourceChange {
            address: resource.address.clone(),
            kind: resource.kind,
            site: resource.site.clone(),
            region: resource.region.clone(),
            action,
            before: Some(before),
            after: Some(after),
            replace_because,
            unknown_after: if action == Action::Replace {
                unknown_after_apply(resource.kind)
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            } else {
                Vec::new()
            },
            sensitive,
            sensitive_changed,
            live_id: Some(object.id.clone()),
            depends_on: resource.depends_on.clone(),
            protect: resource.protect,
            moved_from,
            wait_for: Vec::new(),
            adopt,
            import_id,
            attr_diff: Default::default(),
        });
    }

    /// A second object of this stack marked with an address whose first object is
    /// matched, that nothing uses: the leftover of a create whose answer was lost and
    /// that was sent again. It is deleted under an address of its own (`address#id`),
    /// since apply runs one step per address.
    fn extra_claimant(&mut self, object: &LiveObject, sites: &HashMap<&str, &str>) {
        let mut extra = object.clone();
        extra.address = object
            .address
            .as_ref()
            .map(|a| Address::new(format!("{a}#{}", object.id)));
        self.orphan(&extra, sites);
    }

    fn orphan(&mut self, object: &LiveObject, sites: &HashMap<&str, &str>) {
        let Some(address) = object.address.clone() else {
            self.errors.push(PlanError {
                address: Address::new(""),
                message: format!(
                    "{} `{}` is marked with this stack but has no drplan:address mark, so drplan cannot tell which part of the spec it belongs to",
                    object.kind, object.id
                ),
                help: Some("add the missing mark by hand, or delete the object if it is not needed".into()),
            });
            return;
        };
        let removed = crate::spec::removed::covering(&self.ctx.removed, &address);
        let action = match removed {
            Some(r) if !r.destroy => Action::Forget,
            _ => Action::Delete,
        };
        if action == Action::Forget && !object.kind.info().forgettable {
            self.errors.push(PlanError {
                address: address.clone(),
                message: format!(
                    "a removed block says to keep this {}, but drplan cannot drop its marks from one yet",
                    object.kind
                ),
                help: Some("keep it in the spec, or use lifecycle { destroy = true }".into()),
            });
        }
        // A removed block is the reviewed consent to delete (or the decision to keep).
        let protect = object.kind.is_stateful() && removed.is_none();
        if protect && !self.allowed_to_destroy(&address) {
            self.errors.push(PlanError {
                address: address.clone(),
                message: format!(
                    "no longer in the spec, but the live {} `{}` holds data or takes long to rebuild: drplan will not delete it unless told to{}",
                    object.kind,
                    object.id,
                    crate::kinds::deletion_means(object.kind)
                        .map(|m| format!(". {m}"))
                        .unwrap_or_default()
                ),
                help: Some(destroy_help(&address)),
            });
        }
        let sensitive = sensitive_paths(object.kind, &object.attrs, &[]);
        let mut before = object.attrs.clone();
        redact_shared(&mut before, &sensitive);
        let site = if object.kind.is_regional() || object.kind.info().in_cluster {
            object
                .region
                .as_deref()
                .and_then(|r| sites.get(r))
                .map(|s| s.to_string())
        } else {
            None
        };
        self.changes.push(ResourceChange {
            address,
            kind: object.kind,
            site,
            region: object.region.clone(),
            action,
            before: Some(before),
            after: None,
            replace_because: Vec::new(),
            unknown_after: Vec::new(),
            sensitive,
            sensitive_changed: Vec::new(),
            live_id: Some(object.id.clone()),
            depends_on: Vec::new(),
            protect,
            moved_from: None,
            wait_for: Vec::new(),
            adopt: false,
            import_id: None,
            attr_diff: Default::default(),
        });
    }
}

/// The id of the `import` block naming `resource`, when `object` is the unmarked
/// object it names (`Import::names`).
fn imported(
    object: &LiveObject,
    resource: &Resource,
    imports: &[crate::model::Import],
) -> Option<String> {
    imports
        .iter()
        .find(|i| i.to == resource.address && i.names(object))
        .map(|i| i.id.clone())
}

/// An object that carries no mark at all and that a write-ahead record of this stack
/// names: an apply created it for `resource` and stopped before marking it.
fn adoptable(object: &LiveObject, resource: &Resource, inflight: &[InflightCreate]) -> bool {
    object.stack.is_none()
        && object.address.is_none()
        && inflight.iter().any(|r| {
            r.kind == resource.kind
                && r.address == resource.address
                && r.identity == object.identity()
        })
}

/// Unclaimed objects of this stack that repeat the address mark of a claimed object
/// of their kind, where the kind is identified by that mark (VPCs, subnets, health
/// checks) and no other object refers to them: safe to delete. Any other second
/// claimant is left to `shared_addresses`, for a person to sort out.
fn extra_claimants(live: &LiveState, claimed: &[bool], stack: &str) -> Vec<usize> {
    let by_mark = |kind: Kind| kind.info().identified_by_mark;
    let kept: std::collections::HashSet<(Kind, &Address)> = live
        .objects
        .iter()
        .enumerate()
        .filter(|(i, o)| claimed[*i] && o.is_owned_by(stack) && by_mark(o.kind))
        .filter_map(|(_, o)| o.address.as_ref().map(|a| (o.kind, a)))
        .collect();
    live.objects
        .iter()
        .enumerate()
        .filter(|(i, o)| !claimed[*i] && o.is_owned_by(stack) && by_mark(o.kind))
        .filter(|(_, o)| {
            o.address
                .as_ref()
                .is_some_and(|a| kept.contains(&(o.kind, a)))
        })
        .filter(|(_, o)| !live.referenced_ids.contains(&o.id))
        .map(|(i, _)| i)
        .collect()
}

/// Apply runs one step per address, so two changes at one address cannot both be
/// carried out. The spec's addresses are unique; a second change comes from a live
/// object that carries the mark of an address already taken (a copy made by hand, or
/// an object moved between clusters or regions), which only a person can sort out.
fn shared_addresses(changes: &[ResourceChange]) -> Vec<PlanError> {
    let mut by_address: BTreeMap<&Address, Vec<&ResourceChange>> = BTreeMap::new();
    for c in changes {
        by_address.entry(&c.address).or_default().push(c);
    }
    by_address
        .into_iter()
        .filter(|(_, cs)| cs.len() > 1)
        .map(|(address, cs)| {
            let objects: Vec<String> = cs
                .iter()
                .map(|c| {
                    let what = c.live_id.as_deref().map_or_else(|| "the spec's".to_string(), |id| format!("`{id}`"));
                    let place = c.region.as_deref().map(|r| format!(" in {r}")).unwrap_or_default();
                    let action = match c.action {
                        Action::NoOp => "unchanged",
                        Action::Create => "to create",
                        Action::Update => "to update",
                        Action::Replace => "to replace",
                        Action::Delete => "to delete",
                        Action::Forget => "to forget",
                    };
                    format!("{what}{place} ({action})")
                })
                .collect();
            PlanError {
                address: address.clone(),
                message: format!(
                    "{} {} objects claim this address: {}",
                    cs.len(),
                    cs[0].kind,
                    objects.join(", ")
                ),
                help: Some(format!(
                    "each object drplan manages has one address; delete the extra object, or remove its `drplan:address = {address}` mark, then plan again"
                )),
            }
        })
        .collect()
}

fn destroy_help(address: &Address) -> String {
    format!("pass --allow-destroy {address} to allow it")
}
