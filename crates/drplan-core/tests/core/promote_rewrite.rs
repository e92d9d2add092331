//! `drplan promote`'s core: which values move, and a rewrite of the target file that
//! leaves everything else byte for byte.

use drplan_core::promote::{self, ValueChange};
use serde_json::json;
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/promote_fixture")
}

/// A copy of the fixture the test may rewrite.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for sub in ["specs", "environments"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        for entry in std::fs::read_dir(fixture().join(sub)).expect("fixture dir") {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), dir.path().join(sub).join(entry.file_name()))
                .expect("copy");
        }
    }
    dir
}

fn load(root: &Path, env: &str) -> drplan_core::model::Project {
    drplan_core::spec::load_project(root, env)
        .unwrap_or_else(|d| panic!("{env} does not load:\n{}", d.render(false, 100)))
}

#[test]
fn promotes_only_promotable_values_that_differ() {
    let root = fixture();
    let (changes, skipped) = promote::changes(&load(&root, "staging"), &load(&root, "prod"));
    assert_eq!(
        changes,
        vec![
            ValueChange {
                name: "api_image_tag".into(),
                before: json!("v2.3.1"),
                after: json!("v2.4.0-rc1")
            },
            ValueChange {
                name: "cluster_version".into(),
                before: json!("1.29"),
                after: json!("1.30")
            },
            ValueChange {
                name: "node_instance_types".into(),
                before: json!(["m5.large"]),
                after: json!(["m6i.large", "m6a.large"])
            },
        ]
    );
    assert_eq!(skipped, vec!["db_password"]);
}

#[test]
fn write_changes_only_the_promoted_values_and_keeps_comments() {
    let dir = scratch();
    let target = dir.path().join("environments/prod.hcl");
    let before = std::fs::read_to_string(&target).expect("read prod");
    let p = promote::prepare(
        &load(dir.path(), "staging"),
        &load(dir.path(), "prod"),
        &before,
    )
    .expect("prepare");
    insta::assert_snapshot!("promote_prod_diff", p.diff);
    insta::assert_snapshot!("promote_prod_rewritten", p.rewritten);

    // Every line that is not a promoted value is unchanged.
    let touched = ["cluster_version", "api_image_tag", "node_instance_types"];
    let kept = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !touched.iter().any(|t| l.trim_start().starts_with(t)))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(kept(&before), kept(&p.rewritten));
    assert!(
        p.rewritten
            .contains(r#"cluster_version = "1.30" # keep in step with the DR runbook"#),
        "{}",
        p.rewritten
    );

    // The result parses and validates, and prod now has staging's values.
    std::fs::write(&target, &p.rewritten).expect("write prod");
    let prod = load(dir.path(), "prod");
    let var = |n: &str| prod.topology.variables[n].value.clone();
    assert_eq!(var("cluster_version"), json!("1.30"));
    assert_eq!(var("api_image_tag"), json!("v2.4.0-rc1"));
    assert_eq!(
        var("node_instance_types"),
        json!(["m6i.large", "m6a.large"])
    );
    assert_eq!(var("api_replicas"), json!(6));
    assert_eq!(var("environment"), json!("prod"));

    // Promoting again is a no-op.
    let again =
        promote::prepare(&load(dir.path(), "staging"), &prod, &p.rewritten).expect("prepare again");
    assert!(again.changes.is_empty());
    assert_eq!(again.diff, "");
}

#[test]
fn a_file_without_a_variables_block_gets_one() {
    let text = "# DR activation\nstack = \"shop-prod\"\nactive_site = \"dr\"\n";
    let changes = [ValueChange {
        name: "api_image_tag".into(),
        before: json!(null),
        after: json!("v2.4.0"),
    }];
    let out = promote::rewrite("environments/prod-dr.hcl", text, &changes).expect("rewrite");
    assert_eq!(out, "# DR activation\nstack = \"shop-prod\"\nactive_site = \"dr\"\n\nvariables {\n  api_image_tag = \"v2.4.0\"\n}\n");
}

#[test]
fn an_unparsable_target_is_an_error_not_a_panic() {
    let changes = [ValueChange {
        name: "x".into(),
        before: json!(1),
        after: json!(2),
    }];
    let err = promote::rewrite("environments/prod.hcl", "variables {\n  x = \n", &changes)
        .expect_err("must fail");
    assert!(
        err.to_string()
            .starts_with("environments/prod.hcl does not parse"),
        "{err}"
    );
}

#[test]
fn promoting_the_link_app_example_from_staging_to_prod() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/link-app");
    let dir = tempfile::tempdir().expect("tempdir");
    crate::spec_support::copy_tree(&example, dir.path());
    let target = dir.path().join("environments/prod.hcl");
    let before = std::fs::read_to_string(&target).expect("read prod");
    let staging = load(dir.path(), "staging");
    let prod = load(dir.path(), "prod");
    let p = promote::prepare(&staging, &prod, &before).expect("prepare");
    assert!(
        !p.changes.is_empty(),
        "staging and prod differ in a promoted value"
    );

    // Only the promoted attributes' lines differ; comments and the rest are kept.
    let names: Vec<&str> = p.changes.iter().map(|c| c.name.as_str()).collect();
    let changed: Vec<&str> = p
        .diff
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    for line in &changed {
        let attr = line[1..]
            .trim_start()
            .split([' ', '='])
            .next()
            .unwrap_or("");
        assert!(
            names.contains(&attr),
            "unexpected changed line {line:?} in\n{}",
            p.diff
        );
    }
    let comments = |t: &str| {
        t.lines()
            .filter(|l| l.contains('#'))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(comments(&before).len(), comments(&p.rewritten).len());

    std::fs::write(&target, &p.rewritten).expect("write prod");
    let prod = load(dir.path(), "prod");
    for c in &p.changes {
        assert_eq!(
            prod.topology.variables[&c.name].value,
            staging.topology.variables[&c.name].value
        );
    }
}

#[test]
fn values_are_written_as_literals_that_read_back_the_same() {
    let text = "variables {\n  a = 1\n}\n";
    let values = [
        ("tag", json!("v1-${not_a_ref}-%{x}")),
        ("quote", json!("say \"hi\"\\now")),
        ("labels", json!({"team": "platform", "cost-center": "42"})),
        ("sizes", json!([1, 2.5, true, null])),
    ];
    let changes: Vec<ValueChange> = values
        .iter()
        .map(|(n, v)| ValueChange {
            name: (*n).into(),
            before: json!(null),
            after: v.clone(),
        })
        .collect();
    let out = promote::rewrite("environments/x.hcl", text, &changes).expect("rewrite");
    let read: serde_json::Value =
        hcl::eval::from_str(&out, &hcl::eval::Context::new()).expect("evaluates");
    for (n, v) in values {
        assert_eq!(read["variables"][n], v, "{n} in\n{out}");
    }
}

/// Issue 21: `promote --force` printed the target's `db_password = "..."` as a context
/// line of the diff.
#[test]
fn promote_diff_never_shows_a_sensitive_value_as_context() {
    let dir = scratch();
    let target = dir.path().join("environments/prod.hcl");
    let secret = "Pr0d-db-Secret";
    let text = std::fs::read_to_string(&target)
        .expect("read prod")
        .replace(
            "  api_image_tag = \"v2.3.1\"\n",
            &format!("  api_image_tag = \"v2.3.1\"\n  db_password = \"{secret}\"\n"),
        );
    std::fs::write(&target, &text).expect("write prod");
    let p = promote::prepare(
        &load(dir.path(), "staging"),
        &load(dir.path(), "prod"),
        &text,
    )
    .expect("prepare");
    assert!(!p.diff.contains(secret), "{}", p.diff);
    assert!(
        p.diff.contains(" db_password = (sensitive value)"),
        "the line is still there as context:\n{}",
        p.diff
    );
    // The file written keeps the real value.
    assert!(p.rewritten.contains(&format!("db_password = \"{secret}\"")));
}
