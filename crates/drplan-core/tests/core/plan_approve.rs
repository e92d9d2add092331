//! A saved plan approves the fresh plan only when it says exactly the same: every
//! edit to a change is a difference naming the address and the attribute.

use crate::plan_fixture::rich_plan;
use drplan_core::address::Address;
use drplan_core::plan::approve::{differences, Difference, What};
use drplan_core::plan::file::{load, save};
use drplan_core::plan::{Action, Plan};
use serde_json::json;

fn saved_and_loaded(plan: &Plan) -> Plan {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("prod.plan");
    save(plan, &path).expect("save");
    load(&path).expect("load")
}

fn change_mut<'a>(plan: &'a mut Plan, address: &str) -> &'a mut drplan_core::plan::ResourceChange {
    plan.changes
        .iter_mut()
        .find(|c| c.address.as_str() == address)
        .unwrap_or_else(|| panic!("no change at {address}"))
}

fn lines(found: &[Difference]) -> Vec<String> {
    found.iter().map(ToString::to_string).collect()
}

#[test]
fn an_untouched_saved_plan_approves_the_same_plan_made_again() {
    let fresh = rich_plan();
    assert!(
        fresh.has_changes() && !fresh.errors.is_empty(),
        "the fixture must have changes and errors"
    );
    assert_eq!(differences(&saved_and_loaded(&fresh), &fresh), Vec::new());
}

#[test]
fn an_edited_attribute_is_named_with_both_values() {
    let fresh = rich_plan();
    let mut saved = fresh.clone();
    let ng = change_mut(&mut saved, "cluster.primary.node_group.general");
    ng.after
        .as_mut()
        .expect("after")
        .insert("desired_size".into(), json!(42));
    let found = differences(&saved_and_loaded(&saved), &fresh);
    assert_eq!(
        lines(&found),
        ["cluster.primary.node_group.general: after.desired_size is 42 in the file, 5 now"]
    );
}

#[test]
fn an_edited_image_deep_in_a_manifest_is_named_by_its_path() {
    let fresh = rich_plan();
    let mut saved = fresh.clone();
    let config = change_mut(&mut saved, "kubernetes.app.config_map.settings");
    let after = config.after.as_mut().expect("after");
    after["manifest"]["data"]["LOG_LEVEL"] = json!("trace");
    after["manifest"]["metadata"]["annotations"] = json!({"drplan.io/owner": "someone"});
    let found = differences(&saved, &fresh);
    assert_eq!(
        lines(&found),
        [
            "kubernetes.app.config_map.settings: after.manifest.data.LOG_LEVEL is \"trace\" in the file, \"debug\" now",
            "kubernetes.app.config_map.settings: after.manifest.metadata.annotations is {\"drplan.io/owner\":\"someone\"} in the file, absent now",
        ]
    );
}

#[test]
fn an_added_delete_is_refused() {
    let fresh = rich_plan();
    let mut saved = fresh.clone();
    let mut delete = saved
        .changes
        .iter()
        .find(|c| c.address.as_str() == "zone.main")
        .expect("zone")
        .clone();
    delete.address = Address::new("zone.other");
    delete.action = Action::Delete;
    delete.after = None;
    delete.protect = false;
    saved.changes.push(delete);
    let found = differences(&saved, &fresh);
    assert_eq!(
        found,
        [Difference {
            address: "zone.other".into(),
            what: What::OnlyInFile {
                action: Action::Delete
            }
        }]
    );
    assert_eq!(
        found[0].to_string(),
        "zone.other: the file has a delete that the spec and live state do not produce now"
    );
}

#[test]
fn a_no_op_turned_into_a_delete_of_a_protected_zone_names_action_and_protect() {
    let fresh = rich_plan();
    let mut saved = fresh.clone();
    let zone = change_mut(&mut saved, "zone.main");
    zone.action = Action::Delete;
    zone.after = None;
    zone.protect = false;
    let found = lines(&differences(&saved, &fresh));
    assert!(
        found
            .iter()
            .any(|l| l == "zone.main: action is \"delete\" in the file, \"no-op\" now"),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|l| l == "zone.main: protect is false in the file, true now"),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|l| l.starts_with("zone.main: after is null in the file, {")),
        "{found:?}"
    );
}

#[test]
fn protection_turned_off_on_a_planned_delete_is_refused() {
    let fresh = rich_plan();
    let legacy = fresh
        .changes
        .iter()
        .find(|c| c.address.as_str() == "cluster.legacy")
        .expect("orphan");
    assert!(legacy.protect && legacy.action == Action::Delete);
    let mut saved = fresh.clone();
    change_mut(&mut saved, "cluster.legacy").protect = false;
    assert_eq!(
        lines(&differences(&saved, &fresh)),
        ["cluster.legacy: protect is false in the file, true now"]
    );
}

#[test]
fn a_change_removed_from_the_file_is_named() {
    let fresh = rich_plan();
    let mut saved = fresh.clone();
    saved
        .changes
        .retain(|c| c.address.as_str() != "bucket.backups");
    assert_eq!(
        lines(&differences(&saved, &fresh)),
        ["bucket.backups: the spec and live state now produce a create that the file does not have"]
    );
}

#[test]
fn plan_level_fields_are_compared_but_display_only_ones_are_not() {
    let fresh = rich_plan();
    let mut saved = fresh.clone();
    saved.stack = "other-stack".into();
    assert_eq!(
        lines(&differences(&saved, &fresh)),
        ["the plan: stack is \"other-stack\" in the file, \"lanka-platform\" now"]
    );

    // Checked elsewhere (digest, fingerprints, errors) or never read by apply.
    let mut saved = fresh.clone();
    saved.format_version = "1.9".into();
    saved.spec_digest = "sha256:other".into();
    saved.live_fingerprints.clear();
    saved.errors.clear();
    assert_eq!(differences(&saved, &fresh), Vec::new());
}

#[test]
fn long_values_are_cut() {
    let fresh = rich_plan();
    let mut saved = fresh.clone();
    let ng = change_mut(&mut saved, "cluster.primary.node_group.general");
    ng.after
        .as_mut()
        .expect("after")
        .insert("name".into(), json!("x".repeat(500)));
    let found = lines(&differences(&saved, &fresh));
    assert_eq!(found.len(), 1);
    assert!(found[0].len() < 250 && found[0].contains("…"), "{found:?}");
}
