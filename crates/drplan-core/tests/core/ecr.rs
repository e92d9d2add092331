//! The `registry` block (issue 17): its checks, its lowering, lifecycle policies
//! compared by meaning, drplan's share of a registry's replication configuration
//! (what moto cannot hold: it refuses a configuration of more than one rule, so
//! another team's rule beside drplan's is covered here), the diff of a drifted or
//! orphaned repository.

use crate::plan_fixture::ctx;
use crate::spec_support::*;
use drplan_core::address::Address;
use drplan_core::kinds::ecr::{
    detached, expiry_policy, normalize_lifecycle_policy, parse_image, replicated_regions,
    with_repository, EcrImage, ReplicationRule, PREFIX_MATCH,
};
use drplan_core::live::{LiveObject, LiveState};
use drplan_core::plan::diff::diff;
use drplan_core::plan::Action;
use drplan_core::resource::{Kind, Resource};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const REGISTRY: &str = r#"
registry "api" {
  site                = site.primary
  name                = "lanka-platform/api"
  replicate_to        = [site.dr]
  expire_images_after = "30d"
  tags                = { team = "platform" }
}
"#;

fn has(spec: &str, code: &str) {
    let codes = codes(spec);
    assert!(codes.contains(&code), "expected {code}, got {codes:?}");
}

fn project(spec: &str) -> drplan_core::model::Project {
    let text = format!("{BASE}{spec}");
    load(&[("specs/main.hcl", &text), ("environments/test.hcl", ENV)])
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)))
}

fn desired(spec: &str) -> Vec<Resource> {
    project(spec)
        .resources
        .into_iter()
        .filter(|r| r.kind == Kind::EcrRepository)
        .collect()
}

#[test]
fn a_registry_lowers_to_one_repository_with_its_policy_and_destination_regions() {
    let r = &desired(REGISTRY)[0];
    assert_eq!(r.address, Address::new("registry.api"));
    assert_eq!(r.region.as_deref(), Some("us-west-2"));
    assert_eq!(
        Value::Object(r.attrs.clone().into_map()),
        json!({
            "name": "lanka-platform/api",
            "image_tag_mutability": "MUTABLE",
            "scan_on_push": false,
            "lifecycle_policy": {"rules": [{
                "rulePriority": 1,
                "description": "expire images 30 days after push (drplan)",
                "selection": {"tagStatus": "any", "countType": "sinceImagePushed",
                              "countUnit": "days", "countNumber": 30},
                "action": {"type": "expire"},
            }]},
            "replicate_to": ["us-east-1"],
            "tags": {"team": "platform"},
        })
    );
    // Images are data: protected like a bucket; found by region and name.
    assert!(Kind::EcrRepository.is_stateful());
    assert!(r.protect);
    assert_eq!(
        (Kind::EcrRepository.info().identity)("us-west-2", &r.address, &r.attrs),
        "us-west-2/lanka-platform/api"
    );
}

#[test]
fn a_policy_written_as_json_or_hcl_compares_by_meaning() {
    // The same two rules, in another order, keys shuffled, tag lists unsorted, as JSON
    // text and as an HCL object.
    let json_text = r#"{"rules":[
      {"action":{"type":"expire"},"rulePriority":2,"selection":{"countNumber":30,"countUnit":"days","countType":"sinceImagePushed","tagStatus":"any"}},
      {"rulePriority":1,"description":"","selection":{"tagStatus":"tagged","tagPrefixList":["v","release"],"countType":"imageCountMoreThan","countNumber":50},"action":{"type":"expire"}}
    ]}"#;
    let hcl = r#"
registry "b" {
  site = site.primary
  name = "b-repo"
  lifecycle_policy = {
    rules = [
      { rulePriority = 1, selection = { tagStatus = "tagged", tagPrefixList = ["release", "v"], countType = "imageCountMoreThan", countNumber = 50 }, action = { type = "expire" } },
      { rulePriority = 2, selection = { tagStatus = "any", countType = "sinceImagePushed", countUnit = "days", countNumber = 30 }, action = { type = "expire" } },
    ]
  }
}
"#;
    let from_json = format!(
        "registry \"a\" {{\n  site = site.primary\n  name = \"a-repo\"\n  lifecycle_policy = {}\n}}\n",
        serde_json::to_string(json_text).expect("quoted")
    );
    let a = desired(&from_json);
    let b = desired(hcl);
    assert_eq!(
        a[0].attrs["lifecycle_policy"],
        b[0].attrs["lifecycle_policy"]
    );
    // What ECR answers (its own key order and spacing) reads back equal.
    let live_text = serde_json::to_string(&a[0].attrs["lifecycle_policy"]).expect("text");
    let live: Value = serde_json::from_str(&live_text).expect("json");
    assert_eq!(
        normalize_lifecycle_policy(&live).expect("valid"),
        b[0].attrs["lifecycle_policy"]
    );
    assert_eq!(
        normalize_lifecycle_policy(&expiry_policy(7)).expect("valid"),
        expiry_policy(7)
    );
}

#[test]
fn the_block_checks_name_sites_and_policy_at_the_attribute() {
    has(
        &REGISTRY.replace("lanka-platform/api", "Lanka/API"),
        "drplan::repository_name",
    );
    has(
        &REGISTRY.replace("lanka-platform/api", "a//b"),
        "drplan::repository_name",
    );
    // Replicating into its own region, or to a site that is not there, or twice.
    has(
        &REGISTRY.replace("[site.dr]", "[site.primary]"),
        "drplan::invalid_value",
    );
    has(
        &REGISTRY.replace("[site.dr]", "[\"mars\"]"),
        "drplan::unresolved_reference",
    );
    has(
        &REGISTRY.replace("[site.dr]", "[site.dr, site.dr]"),
        "drplan::duplicate_value",
    );
    has(
        &REGISTRY.replace("  tags", "  image_tag_mutability = \"SOMETIMES\"\n  tags"),
        "drplan::invalid_value",
    );
    // Two ways to say the policy at once.
    has(
        &REGISTRY.replace("  tags", "  lifecycle_policy = \"{}\"\n  tags"),
        "drplan::conflicting_attributes",
    );
    // A policy that is not JSON, or not a policy.
    let own = REGISTRY.replace("  expire_images_after = \"30d\"\n", "");
    has(
        &own.replace("  tags", "  lifecycle_policy = \"{rules\"\n  tags"),
        "drplan::invalid_json",
    );
    has(
        &own.replace("  tags", "  lifecycle_policy = { rules = [] }\n  tags"),
        "drplan::invalid_value",
    );
    has(&REGISTRY.replace("\"30d\"", "\"36h\""), "drplan::retention");
    has(
        &REGISTRY.replace("site.primary", "site.nowhere"),
        "drplan::unresolved_reference",
    );
    has(&format!("{REGISTRY}{REGISTRY}"), "drplan::duplicate_label");
    // Two blocks, one repository in one region.
    has(
        &format!("{REGISTRY}{}", REGISTRY.replace("\"api\"", "\"api2\"")),
        "drplan::duplicate_repository",
    );
    // The same name in another region is another repository (the DR replica).
    let replica = format!(
        "{REGISTRY}{}",
        REGISTRY
            .replace("\"api\"", "\"api_dr\"")
            .replace("site.primary", "site.dr")
            .replace("  replicate_to        = [site.dr]\n", "")
    );
    assert_eq!(codes(&replica), Vec::<&str>::new());

    // The error points at the attribute: file, line and column.
    let spec = REGISTRY.replace("[site.dr]", "[site.primary]");
    let text = format!("{BASE}{spec}");
    let dir = write(&[("specs/main.hcl", &text), ("environments/test.hcl", ENV)]);
    let out = rendered(dir.path(), "test");
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with("replicate_to"))
        .expect("replicate_to line")
        + 1;
    assert!(out.contains(&format!("specs/main.hcl:{line}:")), "{out}");
    assert!(out.contains("ECR replicates to other"), "{out}");
}

fn rule(destinations: &[&str], filters: &[(&str, &str)]) -> ReplicationRule {
    ReplicationRule {
        destinations: destinations
            .iter()
            .map(|r| (r.to_string(), "123456789012".to_string()))
            .collect(),
        filters: filters
            .iter()
            .map(|(f, t)| (f.to_string(), t.to_string()))
            .collect(),
    }
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn drplan_changes_only_its_own_rules_of_the_registry() {
    let east = [("us-east-1".to_string(), "123456789012".to_string())];
    // Another team's rules: everything to eu-west-1, and a prefix drplan does not own.
    let theirs = vec![
        rule(&["eu-west-1"], &[]),
        rule(&["us-east-1"], &[("other-team/", PREFIX_MATCH)]),
    ];
    let mine = names(&["lanka/api", "lanka/worker"]);
    let added = with_repository(&theirs, &mine, "lanka/api", &east);
    assert_eq!(
        &added[..2],
        &theirs[..],
        "others' rules keep place and content"
    );
    assert_eq!(
        added[2],
        rule(&["us-east-1"], &[("lanka/api", PREFIX_MATCH)])
    );
    // A second repository to the same destinations joins drplan's rule.
    let both = with_repository(&added, &mine, "lanka/worker", &east);
    assert_eq!(both.len(), 3);
    assert_eq!(
        both[2],
        rule(
            &["us-east-1"],
            &[("lanka/api", PREFIX_MATCH), ("lanka/worker", PREFIX_MATCH)]
        )
    );
    assert_eq!(
        replicated_regions(&both, &mine, "lanka/worker"),
        ["us-east-1"]
    );
    // The other team's rule replicates to us-east-1 too, but is not counted.
    assert_eq!(
        replicated_regions(&both, &mine, "other-team/x"),
        Vec::<String>::new()
    );
    // Applying again changes nothing.
    assert_eq!(with_repository(&both, &mine, "lanka/worker", &east), both);
    // Out of replication: its filter goes; the last filter takes the rule with it.
    let one = with_repository(&both, &mine, "lanka/api", &[]);
    assert_eq!(
        one[2],
        rule(&["us-east-1"], &[("lanka/worker", PREFIX_MATCH)])
    );
    let none = with_repository(&one, &mine, "lanka/worker", &[]);
    assert_eq!(none, theirs);
    // A rule mixing drplan's repository with a name it does not own is not drplan's.
    let mixed = vec![rule(
        &["us-east-1"],
        &[("lanka/api", PREFIX_MATCH), ("shared/", PREFIX_MATCH)],
    )];
    assert_eq!(
        replicated_regions(&mixed, &mine, "lanka/api"),
        Vec::<String>::new()
    );
    let out = with_repository(&mixed, &mine, "lanka/api", &east);
    assert_eq!(out[0], mixed[0]);
    assert_eq!(out[1], rule(&["us-east-1"], &[("lanka/api", PREFIX_MATCH)]));

    // Forgotten (`removed { destroy = false }`): it keeps replicating in a rule of its
    // own, and the shared rule stays drplan's for the repository still managed.
    let kept = detached(&both, &mine, "lanka/api");
    assert_eq!(&kept[..2], &theirs[..]);
    assert_eq!(
        kept[2],
        rule(&["us-east-1"], &[("lanka/worker", PREFIX_MATCH)])
    );
    assert_eq!(
        kept[3],
        rule(&["us-east-1"], &[("lanka/api", PREFIX_MATCH)])
    );
    let still_mine = names(&["lanka/worker"]);
    assert_eq!(
        replicated_regions(&kept, &still_mine, "lanka/worker"),
        ["us-east-1"]
    );
    assert_eq!(
        replicated_regions(&kept, &still_mine, "lanka/api"),
        Vec::<String>::new()
    );
    // Alone in its rule: nothing to change.
    assert_eq!(detached(&one, &mine, "lanka/worker"), one);
}

fn live(desired: &Resource, changes: Value) -> LiveObject {
    let mut attrs = desired.attrs.clone();
    if let Value::Object(changes) = changes {
        attrs.extend(changes);
    }
    LiveObject {
        kind: Kind::EcrRepository,
        id: "arn:aws:ecr:us-west-2:123456789012:repository/lanka-platform/api".into(),
        region: desired.region.clone(),
        address: Some(desired.address.clone()),
        stack: Some(ctx().stack),
        attrs,
    }
}

#[test]
fn drift_is_an_update_in_place_and_an_orphan_is_protected() {
    let desired = desired(REGISTRY);
    let state = |changes: Value| LiveState {
        objects: vec![live(&desired[0], changes)],
        ..LiveState::default()
    };
    assert_eq!(
        diff(&desired, &state(json!({})), &ctx()).changes[0].action,
        Action::NoOp
    );
    for drift in [
        json!({"lifecycle_policy": null}),
        json!({"replicate_to": []}),
        json!({"image_tag_mutability": "IMMUTABLE"}),
        json!({"tags": {}}),
    ] {
        let plan = diff(&desired, &state(drift.clone()), &ctx());
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
        assert_eq!(plan.changes[0].action, Action::Update, "{drift}");
    }
    // Another name is another repository: the marked one is replaced.
    let plan = diff(
        &desired,
        &state(json!({"name": "lanka-platform/old"})),
        &ctx(),
    );
    assert!(
        plan.changes
            .iter()
            .any(|c| matches!(c.action, Action::Create | Action::Replace)),
        "{:?}",
        plan.changes
    );
    // Left the spec: an orphan holding images, refused unless allowed.
    let plan = diff(&[], &state(json!({})), &ctx());
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(plan.changes[0].action, Action::Delete);
    assert!(
        !plan.errors.is_empty(),
        "a repository is protected: {:?}",
        plan.changes
    );
}

#[test]
fn ecr_image_references_name_their_registry_region() {
    assert_eq!(
        parse_image("123456789012.dkr.ecr.us-west-2.amazonaws.com/lanka-platform/api:2024.01.3"),
        Some(EcrImage {
            account: "123456789012".into(),
            region: "us-west-2".into(),
            repository: "lanka-platform/api".into(),
        })
    );
    assert_eq!(
        parse_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/api@sha256:abc")
            .map(|i| i.repository),
        Some("api".into())
    );
    assert_eq!(parse_image("redis:7.2-alpine"), None);
    assert_eq!(parse_image("ghcr.io/lanka/api:1"), None);
}
