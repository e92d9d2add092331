//! Issue 15, one diff: the text plan and the drift report print the same attribute
//! diff (`plan::attrdiff`), computed once with the plan. Each test here is a place
//! where the text renderer's own walk used to disagree with drift's comparison by
//! meaning, named after what a reader saw.

use crate::plan_fixture::{ctx, live, owned, sample, with_attr};
use drplan_core::plan::diff::diff;
use drplan_core::plan::drift::{differences, AttributeDrift, DriftReport};
use drplan_core::plan::{file, Plan};
use drplan_core::render::text;
use drplan_core::resource::Kind;
use serde_json::{json, Value};

const PLAIN: text::TextOptions = text::TextOptions { color: false };

/// One object whose live attribute `key` is `live_value` and whose spec wants `desired`.
fn plan_of(key: &str, live_value: Value, desired: Value, sensitive: &[&str]) -> Plan {
    let mut resource = with_attr(sample(Kind::K8sObject), key, desired);
    resource.sensitive = sensitive.iter().map(|s| s.to_string()).collect();
    let mut object = owned(&resource);
    object.attrs.insert(key.into(), live_value);
    diff(&[resource], &live(vec![object]), &ctx())
}

fn drift_lines(plan: &Plan) -> Vec<String> {
    differences(&plan.changes[0])
        .iter()
        .map(AttributeDrift::summary)
        .collect()
}

/// A secret changed in one container while another container changed too: drift
/// listed the secret, the text plan showed only the other container (it looked for
/// the secret only when every element of the list was unchanged).
#[test]
fn a_changed_secret_in_a_list_whose_other_elements_changed_shows_in_the_plan_text_as_in_drift() {
    let containers = |token: &str, image: &str| {
        json!({"spec": {"containers": [
            {"name": "app", "token": token},
            {"name": "sidecar", "image": image}
        ]}})
    };
    let plan = plan_of(
        "manifest",
        containers("old-token-value", "proxy:1"),
        containers("new-token-value", "proxy:2"),
        &["manifest.spec.containers.token"],
    );
    let shown = text::plan(&plan, &PLAIN);
    assert!(
        shown.contains(r#"~ image = "proxy:1" -> "proxy:2""#),
        "{shown}"
    );
    assert!(shown.contains("~ (sensitive value)"), "{shown}");
    assert!(!shown.contains("token-value"), "{shown}");
    assert_eq!(
        drift_lines(&plan),
        [
            r#"manifest.spec.containers[1].image: "proxy:1" → "proxy:2""#,
            "manifest.spec.containers.token: (sensitive value) changed",
        ]
    );
}

/// A list inside a list: drift named the one element that changed
/// (`matrix[1][1]`), the text plan printed both inner lists whole, as removed and
/// added again.
#[test]
fn a_changed_list_inside_a_list_shows_only_its_changed_element_in_the_plan_text_as_in_drift() {
    let plan = plan_of(
        "matrix",
        json!([["a", "b"], ["c", "d"]]),
        json!([["a", "b"], ["c", "e"]]),
        &[],
    );
    let shown = text::plan(&plan, &PLAIN);
    assert!(shown.contains(r#"- "d","#), "{shown}");
    assert!(shown.contains(r#"+ "e","#), "{shown}");
    assert!(!shown.contains(r#"- "c","#), "{shown}");
    assert!(shown.contains("1 unchanged element hidden"), "{shown}");
    assert_eq!(drift_lines(&plan), [r#"matrix[1][1]: "d" → "e""#]);
}

/// Every leaf the text plan shows is a drift row and the other way round: both are
/// the leaves of one tree.
#[test]
fn the_plan_text_and_drift_read_one_tree() {
    let plan = crate::plan_fixture::rich_plan();
    let report = DriftReport::from_plan(&plan);
    for change in plan.changes.iter().filter(|c| c.attr_diff.0.is_some()) {
        let tree = change
            .attr_changes()
            .expect("an update or replace has a tree");
        let item = report
            .drifted
            .iter()
            .find(|i| i.address == change.address)
            .expect("a drifted item per update or replace");
        let rows: Vec<&str> = item.differences.iter().map(|d| d.path.as_str()).collect();
        for node in tree.nodes() {
            if matches!(
                node.change,
                drplan_core::plan::attrdiff::Change::Added(_)
                    | drplan_core::plan::attrdiff::Change::Removed(_)
                    | drplan_core::plan::attrdiff::Change::Modified { .. }
            ) {
                assert!(
                    rows.contains(&node.path.as_str()),
                    "{}: {rows:?}",
                    node.path
                );
            }
        }
    }
}

/// The tree is not in a saved plan: it is computed again when the file is loaded,
/// so `show FILE` prints what `plan` printed.
#[test]
fn a_saved_plan_prints_as_the_plan_it_was() {
    let plan = crate::plan_fixture::rich_plan();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("plan.json");
    file::save(&plan, &path).expect("save");
    let loaded = file::load(&path).expect("load");
    assert!(loaded
        .changes
        .iter()
        .filter(|c| matches!(
            c.action,
            drplan_core::plan::Action::Update | drplan_core::plan::Action::Replace
        ))
        .all(|c| c.attr_diff.0.is_some()));
    assert_eq!(text::plan(&loaded, &PLAIN), text::plan(&plan, &PLAIN));
}
