//! Renamed blocks: an object still found by its name under a new address keeps its
//! place in the cloud, and the plan moves drplan's mark to the new address (found last
//! session: the plan said no-op, the mark kept the old address, and the next change of
//! a name created a copy and deleted the original as an orphan).

use crate::plan_fixture::{ctx, forcing_change, in_place_change, live, owned, sample, with_attr};
use drplan_core::address::Address;
use drplan_core::live::LiveObject;
use drplan_core::plan::diff::diff;
use drplan_core::plan::drift::DriftReport;
use drplan_core::plan::{Action, Plan};
use drplan_core::render::{json, markdown, text};
use drplan_core::resource::{Kind, Resource};
use serde_json::Value;

const PLAIN: text::TextOptions = text::TextOptions { color: false };

/// Kinds found by their cloud name: a rename keeps the object.
const NAMED: [Kind; 6] = [
    Kind::EksCluster,
    Kind::NodeGroup,
    Kind::Bucket,
    Kind::DnsZone,
    Kind::DnsRecord,
    Kind::K8sObject,
];

fn renamed(mut r: Resource, to: &str) -> Resource {
    r.address = Address::new(to);
    r
}

/// The live object as the old block left it: marked with `from`.
fn marked_as(r: &Resource, from: &str) -> LiveObject {
    let mut o = owned(r);
    o.address = Some(Address::new(from));
    o
}

fn new_address(kind: Kind) -> String {
    format!("{}_renamed", sample(kind).address)
}

#[test]
fn every_named_kind_renamed_is_a_mark_only_update_not_a_no_op() {
    for kind in NAMED {
        let old = sample(kind);
        let to = new_address(kind);
        let plan = diff(
            &[renamed(old.clone(), &to)],
            &live(vec![owned(&old)]),
            &ctx(),
        );
        assert!(plan.errors.is_empty(), "{kind}: {:?}", plan.errors);
        assert_eq!(plan.changes.len(), 1, "{kind}: no create, no orphan delete");
        let c = &plan.changes[0];
        assert_eq!(
            (c.action, c.address.as_str()),
            (Action::Update, to.as_str()),
            "{kind}"
        );
        assert_eq!(c.moved_from.as_ref(), Some(&old.address), "{kind}");
        assert!(c.only_mark_changes(), "{kind}");
        assert_eq!(
            c.live_id.as_deref(),
            Some(format!("live-{}", old.address).as_str())
        );
        assert_eq!(plan.summary().change, 1);
    }
}

#[test]
fn a_rename_with_an_attribute_change_is_one_update_that_also_moves_the_mark() {
    for kind in NAMED {
        let old = sample(kind);
        let (attr, value) = in_place_change(kind);
        let desired = with_attr(renamed(old.clone(), &new_address(kind)), attr, value);
        let plan = diff(&[desired], &live(vec![owned(&old)]), &ctx());
        let c = &plan.changes[0];
        assert_eq!(c.action, Action::Update, "{kind}");
        assert_eq!(c.moved_from.as_ref(), Some(&old.address), "{kind}");
        assert!(!c.only_mark_changes(), "{kind}: {attr} changes too");
    }
}

#[test]
fn a_marked_object_at_its_own_address_is_not_moved() {
    for kind in Kind::ALL {
        let r = sample(kind);
        let plan = diff(std::slice::from_ref(&r), &live(vec![owned(&r)]), &ctx());
        assert_eq!(plan.changes[0].action, Action::NoOp, "{kind}");
        assert_eq!(plan.changes[0].moved_from, None, "{kind}");
    }
}

/// The defect's second half: once the mark has moved, changing the name is a replace
/// at the new address (refused for a protected bucket), never a create plus an orphan.
#[test]
fn after_the_move_a_name_change_replaces_at_the_new_address() {
    for kind in [Kind::Bucket, Kind::NodeGroup, Kind::K8sObject] {
        let old = sample(kind);
        let to = new_address(kind);
        let moved = renamed(old.clone(), &to);
        // What the live object looks like once apply has moved the mark.
        let remarked = owned(&moved);
        let (attr, value) = forcing_change(kind);
        let plan = diff(
            &[with_attr(moved, attr, value)],
            &live(vec![remarked]),
            &ctx(),
        );
        let actions: Vec<(Action, &str)> = plan
            .changes
            .iter()
            .map(|c| (c.action, c.address.as_str()))
            .collect();
        assert_eq!(actions, [(Action::Replace, to.as_str())], "{kind}");
        assert_eq!(plan.changes[0].moved_from, None);
        for e in &plan.errors {
            assert_eq!(
                e.address.as_str(),
                to,
                "{kind}: errors name only the new address: {}",
                e.message
            );
        }
    }
}

/// Without the move, the same name change is what the defect did: a create and an
/// orphan. This pins the reason the mark must move before a name changes.
#[test]
fn without_the_move_a_name_change_would_orphan_the_original() {
    let old = sample(Kind::Bucket);
    let (attr, value) = forcing_change(Kind::Bucket);
    let desired = with_attr(renamed(old.clone(), "bucket.neo4j_backups"), attr, value);
    let plan = diff(&[desired], &live(vec![owned(&old)]), &ctx());
    let actions: Vec<(Action, &str)> = plan
        .changes
        .iter()
        .map(|c| (c.action, c.address.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            (Action::Delete, "bucket.backups"),
            (Action::Create, "bucket.neo4j_backups")
        ]
    );
}

#[test]
fn a_moved_object_of_another_stack_is_still_refused_not_moved() {
    let old = sample(Kind::Bucket);
    let mut foreign = owned(&old);
    foreign.stack = Some("someone-else".into());
    let plan = diff(
        &[renamed(old, "bucket.neo4j_backups")],
        &live(vec![foreign]),
        &ctx(),
    );
    assert!(!plan.has_changes());
    assert_eq!(plan.errors.len(), 1);
    assert!(
        plan.errors[0].message.contains("not managed by this stack"),
        "{}",
        plan.errors[0].message
    );
}

/// Two renamed blocks swap names: each object follows its name, and each mark moves.
#[test]
fn swapped_labels_move_both_marks() {
    let a = sample(Kind::Bucket);
    let mut b = renamed(sample(Kind::Bucket), "bucket.archive");
    b.attrs
        .insert("name".into(), Value::from("lanka-platform-archive"));
    let live_state = live(vec![owned(&a), owned(&b)]);
    let swapped_a = renamed(a.clone(), "bucket.archive");
    let swapped_b = renamed(b.clone(), "bucket.backups");
    let plan = diff(&[swapped_a, swapped_b], &live_state, &ctx());
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    let moves: Vec<(&str, Option<&str>)> = plan
        .changes
        .iter()
        .map(|c| {
            (
                c.address.as_str(),
                c.moved_from.as_ref().map(Address::as_str),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            ("bucket.archive", Some("bucket.backups")),
            ("bucket.backups", Some("bucket.archive"))
        ]
    );
}

/// A bucket, a node group and a Kubernetes object renamed; the node group also scales.
fn moved_plan() -> Plan {
    let bucket = sample(Kind::Bucket);
    let group = sample(Kind::NodeGroup);
    let object = sample(Kind::K8sObject);
    let desired = vec![
        renamed(bucket.clone(), "bucket.neo4j_backups"),
        with_attr(
            renamed(group.clone(), "cluster.main.node_group.general"),
            "desired_size",
            Value::from(5),
        ),
        renamed(object.clone(), "kubernetes.platform.config_map.settings"),
    ];
    let live_state = live(vec![
        marked_as(&bucket, "bucket.backups"),
        marked_as(&group, "cluster.primary.node_group.general"),
        marked_as(&object, "kubernetes.app.config_map.settings"),
    ]);
    diff(&desired, &live_state, &ctx())
}

#[test]
fn text_plan_moved() {
    let rendered = text::plan(&moved_plan(), &PLAIN);
    assert!(
        rendered.contains("  # bucket.neo4j_backups has moved from bucket.backups\n"),
        "{rendered}"
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn json_plan_moved() {
    let rendered = json::plan(&moved_plan());
    let doc: Value = serde_json::from_str(&rendered).expect("plan JSON parses");
    let changes = doc["resource_changes"]
        .as_array()
        .expect("resource_changes");
    let bucket = changes
        .iter()
        .find(|c| c["address"] == "bucket.neo4j_backups")
        .expect("bucket change");
    assert_eq!(bucket["previous_address"], "bucket.backups");
    assert_eq!(bucket["change"]["actions"], serde_json::json!(["update"]));
    insta::assert_snapshot!(rendered);
}

#[test]
fn json_plan_omits_previous_address_when_nothing_moved() {
    let r = sample(Kind::Bucket);
    let plan = diff(std::slice::from_ref(&r), &live(vec![owned(&r)]), &ctx());
    let doc: Value = serde_json::from_str(&json::plan(&plan)).expect("plan JSON parses");
    assert!(
        doc["resource_changes"][0].get("previous_address").is_none(),
        "{doc}"
    );
}

#[test]
fn markdown_drift_moved() {
    let rendered = markdown::drift(&DriftReport::from_plan(&moved_plan()));
    assert!(
        rendered.contains("`drplan:address: \"bucket.backups\" → \"bucket.neo4j_backups\"`"),
        "{rendered}"
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn text_drift_moved() {
    insta::assert_snapshot!(text::drift(&DriftReport::from_plan(&moved_plan()), &PLAIN));
}

/// A saved plan keeps the move, and plan files written before the field existed load.
#[test]
fn moved_from_survives_a_saved_plan_and_old_files_still_load() {
    let plan = moved_plan();
    let saved = serde_json::to_string(&plan).expect("serialize");
    let loaded: Plan = serde_json::from_str(&saved).expect("deserialize");
    assert_eq!(loaded, plan);
    let mut old: Value = serde_json::from_str(&saved).expect("json");
    for c in old["changes"].as_array_mut().expect("changes") {
        c.as_object_mut().expect("change").remove("moved_from");
    }
    let loaded: Plan = serde_json::from_value(old).expect("a plan without moved_from loads");
    assert!(loaded.changes.iter().all(|c| c.moved_from.is_none()));
}

/// Real Kubernetes manifests carry the address annotation, so the live manifest's
/// annotation differs: still only the mark changes, and it is shown once, in the
/// manifest's diff.
#[test]
fn a_kubernetes_object_whose_manifest_carries_the_mark_is_a_mark_only_update() {
    let annotated = |address: &str| {
        let mut r = sample(Kind::K8sObject);
        r.address = Address::new(address);
        let manifest = r.attrs.get_mut("manifest").expect("manifest");
        manifest["metadata"]["annotations"] =
            serde_json::json!({ drplan_core::marks::K8S_ADDRESS_ANNOTATION: address });
        r
    };
    let old = annotated("kubernetes.app.config_map.settings");
    let new = annotated("kubernetes.platform.config_map.settings");
    let plan = diff(&[new], &live(vec![owned(&old)]), &ctx());
    let c = &plan.changes[0];
    assert_eq!(c.action, Action::Update);
    assert!(c.only_mark_changes());
    insta::assert_snapshot!(text::plan(&plan, &PLAIN));
}

// ----- `moved` blocks: objects found only by their mark (VPC, subnet, health check) -----

mod moved_blocks {
    use super::*;
    use crate::spec_support::{load, BASE, ENV};
    use drplan_core::model::Moved;
    use drplan_core::plan::diff::diff_with_moves;

    const NETWORK: &str = r#"
network "LABEL" {
  site = site.primary
  cidr = "10.0.0.0/16"
  subnet "private-a" {
    availability_zone = "us-west-2a"
    cidr              = "10.0.0.0/20"
  }
}
"#;

    fn network(label: &str) -> String {
        NETWORK.replace("LABEL", label)
    }

    /// The project loaded from `spec` after the two sites, or its diagnostics rendered.
    fn loaded(spec: &str) -> Result<drplan_core::model::Project, String> {
        let dir = crate::spec_support::write(&[
            ("specs/main.hcl", &format!("{BASE}{spec}")),
            ("environments/test.hcl", ENV),
        ]);
        drplan_core::spec::load_project(dir.path(), "test").map_err(|d| d.render(false, 100))
    }

    #[test]
    fn a_moved_block_is_read_into_the_project() {
        let spec = format!(
            "{}\nmoved {{\n  from = network.main\n  to   = network.core\n}}\n",
            network("core")
        );
        let project = loaded(&spec).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            project.moved,
            [Moved {
                from: Address::new("network.main"),
                to: Address::new("network.core")
            }]
        );
        // A quoted address may hold labels with `-`.
        let spec = format!(
            "{}\nmoved {{\n  from = \"network.core.subnet.private-b\"\n  to   = \"network.core.subnet.private-a\"\n}}\n",
            network("core")
        );
        let project = loaded(&spec).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            project.moved[0].to,
            Address::new("network.core.subnet.private-a")
        );
        let _ = load; // the shared helper is used by other groups
    }

    #[test]
    fn moved_block_errors_point_at_the_address() {
        let spec = format!(
            "{}\nmoved {{\n  from = network.core\n  to   = network.gone\n}}\nmoved {{\n  from = 42\n  to   = network.core\n}}\nmoved {{\n  to = network.core\n  colour = 1\n}}\n",
            network("core")
        );
        let rendered = loaded(&spec).err().unwrap_or_default();
        insta::assert_snapshot!(rendered);
    }

    /// Checked against the resources: `to` must exist, `from` must be gone, and an
    /// address moves once. All of them are reported together.
    #[test]
    fn moved_block_addresses_are_checked_against_the_spec() {
        let spec = format!(
            "{}\nmoved {{\n  from = network.core\n  to   = network.gone\n}}\nmoved {{\n  from = network.old\n  to   = network.core\n}}\nmoved {{\n  from = network.old\n  to   = network.core.subnet.private-a\n}}\n",
            network("core")
        );
        let rendered = loaded(&spec).err().unwrap_or_default();
        insta::assert_snapshot!(rendered);
    }

    /// A renamed network: the VPC and its subnet are matched under their old marks,
    /// their marks move, and the subnet's `vpc` reference (read as the old address)
    /// does not force a replacement.
    #[test]
    fn a_renamed_network_moves_instead_of_replacing() {
        let old = loaded(&network("main")).unwrap_or_else(|e| panic!("{e}"));
        let new = loaded(&network("core")).unwrap_or_else(|e| panic!("{e}"));
        let mut live_state = live(old.resources.iter().map(owned).collect());
        live_state.resolve_ids();
        let moves = [Moved {
            from: Address::new("network.main"),
            to: Address::new("network.core"),
        }];

        let without = diff(&new.resources, &live_state, &ctx());
        let actions: Vec<(Action, &str)> = without
            .changes
            .iter()
            .map(|c| (c.action, c.address.as_str()))
            .collect();
        assert!(
            actions.contains(&(Action::Delete, "network.main")),
            "without a moved block: {actions:?}"
        );

        let plan = diff_with_moves(&new.resources, &live_state, &ctx(), &moves);
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
        let moved: Vec<(Action, &str, Option<&str>)> = plan
            .changes
            .iter()
            .map(|c| {
                (
                    c.action,
                    c.address.as_str(),
                    c.moved_from.as_ref().map(Address::as_str),
                )
            })
            .collect();
        assert_eq!(
            moved,
            [
                (Action::Update, "network.core", Some("network.main")),
                (
                    Action::Update,
                    "network.core.subnet.private-a",
                    Some("network.main.subnet.private-a")
                ),
            ]
        );
        assert!(plan.changes.iter().all(|c| c.only_mark_changes()));
        // The saved plan's fingerprints are of the objects as read, so `apply FILE`
        // compares like with like.
        for o in &live_state.objects {
            assert_eq!(
                plan.live_fingerprints.get(&o.identity()),
                Some(&o.fingerprint())
            );
        }
    }
}
