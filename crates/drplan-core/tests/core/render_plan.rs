//! Snapshots of every rendering of one rich plan (every action, nested and multi-line
//! diffs, a changed secret, plan errors), and the guarantee that text and JSON agree.

use crate::plan_fixture::{rich_plan, SECRET_DESIRED, SECRET_LIVE};
use drplan_core::plan::drift::DriftReport;
use drplan_core::render::{json, markdown, text};
use serde_json::Value;

const PLAIN: text::TextOptions = text::TextOptions { color: false };

#[test]
fn text_plan() {
    insta::assert_snapshot!(text::plan(&rich_plan(), &PLAIN));
}

#[test]
fn json_plan() {
    insta::assert_snapshot!(json::plan(&rich_plan()));
}

#[test]
fn text_drift() {
    insta::assert_snapshot!(text::drift(&DriftReport::from_plan(&rich_plan()), &PLAIN));
}

#[test]
fn json_drift() {
    insta::assert_snapshot!(json::drift(&DriftReport::from_plan(&rich_plan())));
}

#[test]
fn markdown_drift() {
    insta::assert_snapshot!(markdown::drift(&DriftReport::from_plan(&rich_plan())));
}

/// The text and JSON renderers read the same plan: every change JSON reports appears
/// in the text with the matching symbol, nothing else does, and the totals agree.
#[test]
fn text_and_json_agree() {
    let plan = rich_plan();
    let rendered = text::plan(&plan, &PLAIN);
    let doc: Value = serde_json::from_str(&json::plan(&plan)).expect("plan JSON parses");

    let headers: Vec<&str> = rendered
        .lines()
        .filter(|l| {
            l.ends_with("will be created")
                || l.ends_with("in place")
                || l.ends_with("must be replaced")
                || l.ends_with("will be destroyed")
        })
        .collect();
    let changes = doc["resource_changes"]
        .as_array()
        .expect("resource_changes");
    let mut expected = Vec::new();
    for rc in changes {
        let actions: Vec<&str> = rc["change"]["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let (symbol, verb) = match actions.as_slice() {
            ["no-op"] => continue,
            ["create"] => ("  +", "will be created"),
            ["update"] => ("  ~", "will be updated in place"),
            ["delete", "create"] => ("-/+", "must be replaced"),
            ["delete"] => ("  -", "will be destroyed"),
            other => panic!("unexpected actions {other:?}"),
        };
        let address = rc["address"].as_str().expect("address");
        let kind = rc["type"].as_str().expect("type");
        expected.push(format!("{symbol} {address} ({kind}) {verb}"));
    }
    assert_eq!(headers, expected, "same changes, same order");
    assert!(expected.len() >= 12, "the rich plan covers every action");

    let s = &doc["summary"];
    let summary = format!(
        "Plan: {} to add, {} to change, {} to destroy.",
        s["add"], s["change"], s["destroy"]
    );
    assert!(
        rendered.contains(&summary),
        "summary line {summary:?} in text"
    );

    for error in doc["errors"].as_array().expect("errors") {
        let line = format!(
            "Error: {}: {}",
            error["address"].as_str().expect("address"),
            error["message"].as_str().expect("message")
        );
        assert!(rendered.contains(&line), "error {line:?} in text");
        let help = format!("  help: {}", error["help"].as_str().expect("help"));
        assert!(rendered.contains(&help));
    }
}

#[test]
fn no_rendering_contains_the_secret() {
    let plan = rich_plan();
    let report = DriftReport::from_plan(&plan);
    let saved = serde_json::to_string(&plan).expect("plan serializes");
    for output in [
        text::plan(&plan, &PLAIN),
        text::plan(&plan, &text::TextOptions { color: true }),
        json::plan(&plan),
        text::drift(&report, &PLAIN),
        json::drift(&report),
        markdown::drift(&report),
        saved,
    ] {
        assert!(!output.contains(SECRET_LIVE) && !output.contains(SECRET_DESIRED));
    }
}

#[test]
fn colour_only_when_asked() {
    let plan = rich_plan();
    assert!(!text::plan(&plan, &PLAIN).contains('\x1b'));
    let coloured = text::plan(&plan, &text::TextOptions { color: true });
    assert!(coloured.contains("\x1b[32m+\x1b[0m"), "green +");
    assert!(coloured.contains("\x1b[1;31mError:\x1b[0m"), "red errors");
}

#[test]
fn no_changes() {
    use drplan_core::plan::diff::diff;
    use drplan_core::resource::Kind;
    let desired: Vec<_> = Kind::ALL
        .iter()
        .map(|&k| crate::plan_fixture::sample(k))
        .collect();
    let live = crate::plan_fixture::live(desired.iter().map(crate::plan_fixture::owned).collect());
    let plan = diff(&desired, &live, &crate::plan_fixture::ctx());
    assert_eq!(
        text::plan(&plan, &PLAIN),
        "No changes. Your infrastructure matches the spec.\n"
    );
    assert_eq!(
        text::drift(&DriftReport::from_plan(&plan), &PLAIN),
        "No drift: the cloud matches the spec (stack lanka-platform, environment prod).\n"
    );
    insta::assert_snapshot!(markdown::drift(&DriftReport::from_plan(&plan)), @r"
    ## drplan drift: stack `lanka-platform`, environment `prod`

    **In sync.** The cloud matches the spec.
    ");
}

/// Lists of objects (lifecycle rules, containers) diff element by element, keys inside.
#[test]
fn text_nested_lists() {
    use drplan_core::plan::diff::diff;
    use drplan_core::resource::Kind;
    use serde_json::json;
    let bucket = crate::plan_fixture::sample(Kind::Bucket);
    let live = crate::plan_fixture::live(vec![crate::plan_fixture::owned(&bucket)]);
    let bucket = crate::plan_fixture::with_attr(
        bucket,
        "lifecycle_rules",
        json!([
            {"id": "drplan-backup-neo4j", "prefix": "neo4j/", "expiration_days": 60,
             "noncurrent_expiration_days": 7, "transitions": [{"days": 30, "storage_class": "GLACIER"}]},
            {"id": "drplan-backup-redis", "prefix": "redis/", "expiration_days": 7,
             "noncurrent_expiration_days": null, "transitions": []}
        ]),
    );
    let bucket = crate::plan_fixture::with_attr(
        bucket,
        "replication",
        json!({"role_arn": "arn:aws:iam::123456789012:role/replication",
               "rules": [{"id": "to-dr", "prefix": "", "destination_bucket": "lanka-platform-backups-dr",
                          "storage_class": "GLACIER_IR"}]}),
    );
    let plan = diff(&[bucket], &live, &crate::plan_fixture::ctx());
    insta::assert_snapshot!(text::plan(&plan, &PLAIN));
}

#[test]
fn errors_without_changes() {
    use drplan_core::plan::diff::diff;
    use drplan_core::resource::Kind;
    let bucket = crate::plan_fixture::sample(Kind::Bucket);
    let mut theirs = crate::plan_fixture::owned(&bucket);
    theirs.stack = None;
    let plan = diff(
        &[bucket],
        &crate::plan_fixture::live(vec![theirs]),
        &crate::plan_fixture::ctx(),
    );
    insta::assert_snapshot!(text::plan(&plan, &PLAIN), @r"
    Error: bucket.backups: aws_s3_bucket `live-bucket.backups` exists but is not managed by this stack: drplan never changes objects it did not create (it carries no drplan mark)
      help: give this object another name, or remove it from the spec if it is managed elsewhere

    drplan cannot apply this plan: fix the error above and plan again.
    ");
}

/// Issue 15: the text renderer aligned lists on their exact JSON text while drift
/// compares by meaning, so a rule whose `30.0` the reader wrote as `30` showed as
/// removed and added again in the plan while drift saw it unchanged. Both now align
/// with `compare::unmatched_elements`: only the rule that changed is shown.
#[test]
fn a_list_element_equal_by_meaning_is_unchanged_in_the_plan_text_as_in_drift() {
    use drplan_core::plan::diff::diff;
    use drplan_core::resource::Kind;
    use serde_json::json;
    let rule = |id: &str, days: Value| {
        json!({"id": id, "prefix": format!("{id}/"), "expiration_days": days,
               "noncurrent_expiration_days": null, "transitions": []})
    };
    let bucket = crate::plan_fixture::sample(Kind::Bucket);
    let mut live_bucket = crate::plan_fixture::owned(&bucket);
    live_bucket.attrs.insert(
        "lifecycle_rules".into(),
        json!([rule("a", json!(30.0)), rule("b", json!(1))]),
    );
    let live = crate::plan_fixture::live(vec![live_bucket]);
    let bucket = crate::plan_fixture::with_attr(
        bucket,
        "lifecycle_rules",
        json!([rule("a", json!(30)), rule("b", json!(2))]),
    );
    let plan = diff(&[bucket], &live, &crate::plan_fixture::ctx());
    let shown = text::plan(&plan, &PLAIN);
    assert!(shown.contains("~ expiration_days = 1 -> 2"), "{shown}");
    assert!(!shown.contains("- {"), "{shown}");
    assert!(shown.contains("1 unchanged element hidden"), "{shown}");
    let drift = DriftReport::from_plan(&plan);
    let paths: Vec<&str> = drift.drifted[0]
        .differences
        .iter()
        .map(|d| d.path.as_str())
        .collect();
    assert_eq!(paths, ["lifecycle_rules[1].expiration_days"]);
}
