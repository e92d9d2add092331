//! Turns a plan's changes into the steps of the apply graph.
//!
//! A create/update waits for the creates/updates of what it references; a delete waits
//! for the deletes of what references it (reverse order); a replace is a delete step
//! followed by a create step. References come from `depends_on` and from the
//! reference attributes themselves (`vpc`, `subnets`, `health_check`, a node group's
//! `cluster_name`, a record's `zone`), so orphans, which have no spec and hence no
//! `depends_on`, are still ordered. A bucket's replication configuration is its own
//! step (`Phase::Link`), after the bucket and its destinations: buckets may
//! replicate to each other. A
//! change's `wait_for` orders it after other changes whatever its action (a failback's
//! deletes in DR wait for the DNS flip).

use super::walk::Node;
use drplan_core::address::Address;
use drplan_core::kinds;
use drplan_core::plan::{links, Action, Plan, ResourceChange};
use drplan_core::resource::Kind;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Delete, or the first half of a replace.
    Destroy,
    /// Create, update, or the second half of a replace.
    Converge,
    /// The settings of a converged object that point at other objects which may point
    /// back — a bucket's replication configuration: after the object's converge and
    /// the converges of what it points at, so two buckets replicating to each other
    /// (S3's active/active) are no cycle. Reported as part of the change.
    Link,
}

impl Phase {
    /// What this step does to the cloud object.
    pub fn action(self, planned: Action) -> Action {
        match (self, planned) {
            (Phase::Destroy, _) => Action::Delete,
            (Phase::Converge | Phase::Link, Action::Replace) => Action::Create,
            (Phase::Converge | Phase::Link, a) => a,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Step {
    pub address: Address,
    pub phase: Phase,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.phase {
            Phase::Converge => write!(f, "{}", self.address),
            Phase::Destroy => write!(f, "{} (destroy)", self.address),
            Phase::Link => write!(f, "{} (link)", self.address),
        }
    }
}

/// The walk's service of record creates and updates, which wait on their zone's batch
/// rather than sending their own requests.
pub const RECORD_UPSERTS: &str = "route53-records";

fn service(kind: Kind, phase: Phase) -> &'static str {
    if kind == Kind::DnsRecord && phase == Phase::Converge {
        return RECORD_UPSERTS;
    }
    kind.info().apply_service
}

/// Names by which other changes refer to this one (the kinds with a `NameKey`).
fn name_key(change: &ResourceChange, attrs: &Map<String, Value>) -> Option<(Kind, String)> {
    kinds::name_key_of(change.kind, change.region.as_deref(), attrs).map(|k| (change.kind, k))
}

/// Addresses `attrs` refers to: `depends_on`, and the kind's references
/// (`kinds::referenced`), by address or by name.
fn references(
    change: &ResourceChange,
    attrs: Option<&Map<String, Value>>,
    by_name: &HashMap<(Kind, String), Address>,
) -> BTreeSet<Address> {
    let mut refs: BTreeSet<Address> = change.depends_on.iter().cloned().collect();
    if let Some(attrs) = attrs {
        refs.extend(kinds::referenced(
            change.kind,
            change.region.as_deref(),
            attrs,
            |kind, key| by_name.get(&(kind, key.to_string())).cloned(),
        ));
    }
    refs.remove(&change.address);
    refs
}

/// Whether a converging change has a `Phase::Link` step: a bucket whose replication
/// configuration is put (created or replaced with one, or updated in it).
pub fn has_link(change: &ResourceChange) -> bool {
    if change.kind != Kind::Bucket {
        return false;
    }
    match change.action {
        Action::Create | Action::Replace => change.after.as_ref().is_some_and(|a| {
            links::LINK_ATTRS
                .iter()
                .any(|k| a.get(*k).is_some_and(|v| !v.is_null()))
        }),
        Action::Update => {
            let changed = super::attrs::changed_keys(change);
            links::LINK_ATTRS.iter().any(|k| changed.contains(*k))
        }
        Action::Delete | Action::Forget | Action::NoOp => false,
    }
}

pub fn build(plan: &Plan) -> Vec<Node<Step>> {
    let active: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    let converging = |c: &&ResourceChange| {
        matches!(
            c.action,
            Action::Create | Action::Update | Action::Replace | Action::Forget
        )
    };
    let destroying = |c: &&ResourceChange| matches!(c.action, Action::Delete | Action::Replace);
    let converging_changes: Vec<&ResourceChange> =
        active.iter().copied().filter(converging).collect();
    let destroying_changes: Vec<&ResourceChange> =
        active.iter().copied().filter(destroying).collect();

    let mut new_names = HashMap::new();
    let mut old_names = HashMap::new();
    for c in &active {
        if let Some(k) = c.after.as_ref().and_then(|a| name_key(c, a)) {
            new_names.insert(k, c.address.clone());
        }
        if let Some(k) = c.before.as_ref().and_then(|a| name_key(c, a)) {
            old_names.insert(k, c.address.clone());
        }
    }
    let converges: BTreeSet<&Address> = converging_changes.iter().map(|c| &c.address).collect();
    let destroys: BTreeSet<&Address> = destroying_changes.iter().map(|c| &c.address).collect();

    let mut nodes = Vec::new();
    for c in &converging_changes {
        let mut deps: Vec<Step> = references(c, c.after.as_deref(), &new_names)
            .into_iter()
            .filter(|a| converges.contains(a))
            .map(|address| Step {
                address,
                phase: Phase::Converge,
            })
            .collect();
        if c.action == Action::Replace {
            deps.push(Step {
                address: c.address.clone(),
                phase: Phase::Destroy,
            });
        }
        nodes.push(Node {
            key: Step {
                address: c.address.clone(),
                phase: Phase::Converge,
            },
            service: service(c.kind, Phase::Converge).into(),
            deps,
        });
    }
    for c in converging_changes.iter().filter(|c| has_link(c)) {
        let own = Step {
            address: c.address.clone(),
            phase: Phase::Converge,
        };
        let deps = std::iter::once(own)
            .chain(
                links::targets(plan, c)
                    .into_iter()
                    .filter(|a| converges.contains(a))
                    .map(|address| Step {
                        address: address.clone(),
                        phase: Phase::Converge,
                    }),
            )
            .collect();
        nodes.push(Node {
            key: Step {
                address: c.address.clone(),
                phase: Phase::Link,
            },
            service: service(c.kind, Phase::Link).into(),
            deps,
        });
    }
    // Reverse edges: whoever referenced X in its old form must be gone before X goes.
    let mut destroy_deps: HashMap<Address, Vec<Step>> = HashMap::new();
    for c in &destroying_changes {
        for target in references(c, c.before.as_deref(), &old_names) {
            if destroys.contains(&target) {
                destroy_deps.entry(target).or_default().push(Step {
                    address: c.address.clone(),
                    phase: Phase::Destroy,
                });
            }
        }
    }
    for c in &destroying_changes {
        let deps = destroy_deps.remove(&c.address).unwrap_or_default();
        nodes.push(Node {
            key: Step {
                address: c.address.clone(),
                phase: Phase::Destroy,
            },
            service: service(c.kind, Phase::Destroy).into(),
            deps,
        });
    }
    let links: BTreeSet<&Address> = converging_changes
        .iter()
        .filter(|c| has_link(c))
        .map(|c| &c.address)
        .collect();
    add_waits(&mut nodes, &active, &converges, &links, &destroys);
    nodes
}

/// A change's `wait_for`: its first step (the destroy of a delete or replace, else its
/// converge) waits for the last step of each change listed (its converge, or the
/// destroy of a delete).
fn add_waits(
    nodes: &mut [Node<Step>],
    active: &[&ResourceChange],
    converges: &BTreeSet<&Address>,
    links: &BTreeSet<&Address>,
    destroys: &BTreeSet<&Address>,
) {
    let last_step = |address: &Address| {
        let phase = if links.contains(address) {
            Phase::Link
        } else if converges.contains(address) {
            Phase::Converge
        } else if destroys.contains(address) {
            Phase::Destroy
        } else {
            return None;
        };
        Some(Step {
            address: address.clone(),
            phase,
        })
    };
    for c in active.iter().filter(|c| !c.wait_for.is_empty()) {
        let first = if destroys.contains(&c.address) {
            Phase::Destroy
        } else {
            Phase::Converge
        };
        let waits: Vec<Step> = c
            .wait_for
            .iter()
            .filter(|a| **a != c.address)
            .filter_map(&last_step)
            .collect();
        if let Some(node) = nodes
            .iter_mut()
            .find(|n| n.key.address == c.address && n.key.phase == first)
        {
            for w in waits {
                if !node.deps.contains(&w) {
                    node.deps.push(w);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(address: &str, kind: Kind, action: Action, attrs: Value) -> ResourceChange {
        let attrs = attrs.as_object().cloned().map(Into::into);
        ResourceChange {
            address: Address::new(address),
            kind,
            site: Some("primary".into()),
            region: Some("eu-west-1".into()),
            action,
            before: if action == Action::Create {
                None
            } else {
                attrs.clone()
            },
            after: if action == Action::Delete {
                None
            } else {
                attrs
            },
            replace_because: vec![],
            unknown_after: vec![],
            sensitive: vec![],
            sensitive_changed: vec![],
            live_id: None,
            depends_on: vec![],
            protect: false,
            moved_from: None,
            wait_for: Vec::new(),
            adopt: false,
            import_id: None,
            attr_diff: Default::default(),
        }
    }

    fn plan(changes: Vec<ResourceChange>) -> Plan {
        Plan {
            format_version: "1.0".into(),
            stack: "s".into(),
            environment: "e".into(),
            spec_digest: String::new(),
            changes,
            live_fingerprints: Default::default(),
            errors: vec![],
            objectives: None,
            unreachable: vec![],
            deferred: vec![],
            targets: vec![],
            left_out: vec![],
            replace: vec![],
        }
    }

    fn deps_of(nodes: &[Node<Step>], step: &str) -> Vec<String> {
        let mut d: Vec<String> = nodes
            .iter()
            .find(|n| n.key.to_string() == step)
            .map(|n| n.deps.iter().map(|d| d.to_string()).collect())
            .unwrap_or_default();
        d.sort();
        d
    }

    /// Issue 15: `drplan graph` and the RTO's critical path showed `depends_on` edges
    /// only, while apply also waited on the kinds' references (a node group on its
    /// subnets). Both now order by `kinds::referenced`: every edge a first apply of
    /// the root project and both examples walks between converges is in the graph.
    #[test]
    fn drplan_graph_shows_every_edge_apply_walks() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for (dir, env) in [
            (root.to_path_buf(), "prod"),
            (root.join("examples/lanka-platform"), "prod-dr"),
            (root.join("examples/link-app"), "prod-dr"),
        ] {
            let project = drplan_core::spec::load_project(&dir, env)
                .unwrap_or_else(|d| panic!("{}: {}", dir.display(), d.render(false, 100)));
            let ctx = drplan_core::plan::diff::DiffContext {
                stack: project.environment.stack.clone(),
                ..Default::default()
            };
            let plan = drplan_core::plan::diff::diff(
                &project.resources,
                &drplan_core::live::LiveState::default(),
                &ctx,
            );
            let graph = drplan_core::graph::ResourceGraph::new(&project.resources)
                .unwrap_or_else(|e| panic!("{}: {e:?}", dir.display()));
            let edges: BTreeSet<(String, String)> = graph
                .edges()
                .into_iter()
                .map(|(from, to)| (from.address.to_string(), to.address.to_string()))
                .collect();
            let mut walked = 0;
            for node in build(&plan)
                .iter()
                .filter(|n| n.key.phase == Phase::Converge)
            {
                for dep in node.deps.iter().filter(|d| d.phase == Phase::Converge) {
                    walked += 1;
                    let edge = (dep.address.to_string(), node.key.address.to_string());
                    assert!(
                        edges.contains(&edge),
                        "{}: apply waits {} -> {}, the graph does not show it",
                        dir.display(),
                        edge.0,
                        edge.1
                    );
                }
            }
            assert!(walked > 10, "{}: {walked} edges walked", dir.display());
        }
    }

    #[test]
    fn creates_follow_references_and_deletes_run_in_reverse() {
        let p = plan(vec![
            change(
                "network.main",
                Kind::Vpc,
                Action::Create,
                json!({"cidr_block": "10.0.0.0/16"}),
            ),
            change(
                "network.main.subnet.a",
                Kind::Subnet,
                Action::Create,
                json!({"vpc": "network.main"}),
            ),
            change(
                "cluster.app",
                Kind::EksCluster,
                Action::Create,
                json!({"name": "app", "subnets": ["network.main.subnet.a"]}),
            ),
            change(
                "cluster.app.node_group.general",
                Kind::NodeGroup,
                Action::Create,
                json!({"cluster_name": "app", "name": "general"}),
            ),
            change(
                "network.old",
                Kind::Vpc,
                Action::Delete,
                json!({"cidr_block": "10.1.0.0/16"}),
            ),
            change(
                "network.old.subnet.a",
                Kind::Subnet,
                Action::Delete,
                json!({"vpc": "network.old"}),
            ),
            change("unchanged", Kind::Vpc, Action::NoOp, json!({})),
        ]);
        let nodes = build(&p);
        assert_eq!(nodes.len(), 6, "no-ops are not steps");
        assert_eq!(deps_of(&nodes, "network.main.subnet.a"), ["network.main"]);
        assert_eq!(deps_of(&nodes, "cluster.app"), ["network.main.subnet.a"]);
        assert_eq!(
            deps_of(&nodes, "cluster.app.node_group.general"),
            ["cluster.app"]
        );
        assert_eq!(
            deps_of(&nodes, "network.old (destroy)"),
            ["network.old.subnet.a (destroy)"]
        );
        assert!(deps_of(&nodes, "network.old.subnet.a (destroy)").is_empty());
    }

    #[test]
    fn a_replace_destroys_first_and_replication_waits_for_its_destination() {
        let p = plan(vec![
            change(
                "network.main",
                Kind::Vpc,
                Action::Replace,
                json!({"cidr_block": "10.0.0.0/16"}),
            ),
            change(
                "bucket.backups",
                Kind::Bucket,
                Action::Create,
                json!({
                    "name": "b-primary",
                    "replication": {"role_arn": "r", "rules": [{"id": "dr", "destination_bucket": "b-dr"}]}
                }),
            ),
            change(
                "bucket.backups_dr",
                Kind::Bucket,
                Action::Create,
                json!({"name": "b-dr"}),
            ),
        ]);
        let nodes = build(&p);
        assert_eq!(deps_of(&nodes, "network.main"), ["network.main (destroy)"]);
        assert!(deps_of(&nodes, "bucket.backups").is_empty());
        assert_eq!(
            deps_of(&nodes, "bucket.backups (link)"),
            ["bucket.backups", "bucket.backups_dr"]
        );
    }

    #[test]
    fn two_buckets_replicating_to_each_other_are_no_cycle() {
        let bucket = |address: &str, name: &str, dest: &str| {
            change(
                address,
                Kind::Bucket,
                Action::Create,
                json!({
                    "name": name,
                    "replication": {"role_arn": "r", "rules": [{"id": "x", "destination_bucket": dest}]}
                }),
            )
        };
        let p = plan(vec![
            bucket("bucket.east", "b-east", "b-west"),
            bucket("bucket.west", "b-west", "b-east"),
        ]);
        let nodes = build(&p);
        assert!(deps_of(&nodes, "bucket.east").is_empty());
        assert!(deps_of(&nodes, "bucket.west").is_empty());
        assert_eq!(
            deps_of(&nodes, "bucket.east (link)"),
            ["bucket.east", "bucket.west"]
        );
        assert_eq!(
            deps_of(&nodes, "bucket.west (link)"),
            ["bucket.east", "bucket.west"]
        );
    }

    #[test]
    fn wait_for_orders_deletes_and_replaces_after_other_changes() {
        let waits = |mut c: ResourceChange, on: &[&str]| {
            c.wait_for = on.iter().map(|a| Address::new(*a)).collect();
            c
        };
        let p = plan(vec![
            waits(
                change(
                    "dns.api.target.primary",
                    Kind::DnsRecord,
                    Action::Update,
                    json!({"failover": "PRIMARY"}),
                ),
                &["kubernetes.app.Deployment.x.api"],
            ),
            change(
                "kubernetes.app.Deployment.x.api",
                Kind::K8sObject,
                Action::Create,
                json!({}),
            ),
            waits(
                change(
                    "kubernetes.dr.Deployment.x.api",
                    Kind::K8sObject,
                    Action::Delete,
                    json!({}),
                ),
                &["dns.api.target.primary"],
            ),
            waits(
                change(
                    "cluster.dr.node_group.general",
                    Kind::NodeGroup,
                    Action::Update,
                    json!({}),
                ),
                &["dns.api.target.primary"],
            ),
            waits(
                change(
                    "backup.db.placement.primary.job.failback",
                    Kind::K8sObject,
                    Action::Replace,
                    json!({}),
                ),
                &["kubernetes.dr.Deployment.x.api", "not.in.the.plan"],
            ),
        ]);
        let nodes = build(&p);
        assert_eq!(
            deps_of(&nodes, "dns.api.target.primary"),
            ["kubernetes.app.Deployment.x.api"]
        );
        assert_eq!(
            deps_of(&nodes, "kubernetes.dr.Deployment.x.api (destroy)"),
            ["dns.api.target.primary"]
        );
        assert_eq!(
            deps_of(&nodes, "cluster.dr.node_group.general"),
            ["dns.api.target.primary"]
        );
        // A replace waits with its first step; a change not in the plan is no step.
        assert_eq!(
            deps_of(&nodes, "backup.db.placement.primary.job.failback (destroy)"),
            ["kubernetes.dr.Deployment.x.api (destroy)"]
        );
        assert_eq!(
            deps_of(&nodes, "backup.db.placement.primary.job.failback"),
            ["backup.db.placement.primary.job.failback (destroy)"]
        );
    }
}
