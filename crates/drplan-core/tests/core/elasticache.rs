//! The `cache` block (issue 17): an ElastiCache Redis replication group with its
//! automatic snapshots. Its checks (with their spans), its lowering, the diff of a
//! group whose snapshot settings drifted or that left the spec (protected: it holds
//! data), and its automatic snapshots feeding the RPO and cross-region checks. What
//! moto does not show (snapshot window changes, a replica count changed in place: its
//! ModifyReplicationGroup and Increase/DecreaseReplicaCount) is the plan side here.

use crate::plan_fixture::ctx;
use crate::spec_support::*;
use drplan_core::address::Address;
use drplan_core::live::{LiveObject, LiveState};
use drplan_core::objectives::{self, CheckName, Verdict};
use drplan_core::plan::diff::diff;
use drplan_core::plan::Action;
use drplan_core::resource::Kind;
use serde_json::{json, Value};

const NETWORK: &str = r#"
network "primary" {
  site = site.primary
  cidr = "10.10.0.0/16"
  subnet "private-a" {
    availability_zone = "us-west-2a"
    cidr              = "10.10.0.0/20"
  }
  subnet "private-b" {
    availability_zone = "us-west-2b"
    cidr              = "10.10.16.0/20"
  }
  subnet "public-a" {
    availability_zone = "us-west-2a"
    cidr              = "10.10.200.0/24"
    public            = true
  }
}
"#;

const CACHE: &str = r#"
cache "redis" {
  site           = site.primary
  network        = network.primary
  node_type      = "cache.r6g.large"
  nodes          = 2
  engine_version = "7.1"
  snapshot {
    retention_days = 7
    window         = "03:00-05:00"
    cross_region   = false
  }
}
"#;

fn project(spec: &str) -> drplan_core::model::Project {
    let text = format!("{BASE}{spec}");
    load(&[("specs/main.hcl", &text), ("environments/test.hcl", ENV)])
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)))
}

/// The diagnostics of `spec`, rendered as a user reads them.
fn diagnostics(spec: &str) -> String {
    let text = format!("{BASE}{spec}");
    let dir = write(&[("specs/main.hcl", &text), ("environments/test.hcl", ENV)]);
    rendered(dir.path(), "test")
}

#[test]
fn a_cache_lowers_to_one_replication_group_in_its_private_subnets() {
    let p = project(&format!("{NETWORK}{CACHE}"));
    let r = p
        .resources
        .iter()
        .find(|r| r.kind == Kind::CacheReplicationGroup)
        .expect("a replication group");
    assert_eq!(r.address, Address::new("cache.redis"));
    assert_eq!(r.region.as_deref(), Some("us-west-2"));
    assert_eq!(
        Value::Object(r.attrs.clone().into_map()),
        json!({
            "name": "redis",
            "description": "drplan cache.redis",
            "engine": "redis",
            "engine_version": "7.1",
            "node_type": "cache.r6g.large",
            "num_cache_clusters": 2,
            "automatic_failover": true,
            "subnets": [
                "network.primary.subnet.private-a",
                "network.primary.subnet.private-b"
            ],
            "snapshot_retention_limit": 7,
            "snapshot_window": "03:00-05:00",
            "tags": {},
        })
    );
    // Created after its subnets; holds data, so protected.
    let refs = drplan_core::kinds::referenced(r.kind, r.region.as_deref(), &r.attrs, |_, _| None);
    assert_eq!(refs.len(), 2);
    assert!(Kind::CacheReplicationGroup.is_stateful());
    assert_eq!(
        Kind::CacheReplicationGroup.type_name(),
        "aws_elasticache_replication_group"
    );
}

#[test]
fn without_a_snapshot_block_no_automatic_snapshots_and_no_window_compared() {
    let spec = format!(
        "{NETWORK}{}",
        CACHE.replace(
            "  snapshot {\n    retention_days = 7\n    window         = \"03:00-05:00\"\n    cross_region   = false\n  }\n",
            "  nodes_unused = 1\n"
        )
    );
    // An unknown attribute is an error with its place.
    assert!(
        codes(&spec).contains(&"drplan::unknown_attribute"),
        "{spec}"
    );
    let spec = spec.replace("  nodes_unused = 1\n", "");
    let p = project(&spec);
    let r = p
        .resources
        .iter()
        .find(|r| r.kind == Kind::CacheReplicationGroup)
        .expect("a replication group");
    assert_eq!(r.attrs.get("snapshot_retention_limit"), Some(&json!(0)));
    assert!(!r.attrs.contains_key("snapshot_window"));
}

#[test]
fn bad_values_are_refused_each_at_its_line_and_column() {
    let spec = format!(
        "{NETWORK}{}",
        CACHE
            .replace("cache.r6g.large", "r6g.large")
            .replace("nodes          = 2", "nodes          = 9")
            .replace("retention_days = 7", "retention_days = 40")
            .replace("03:00-05:00", "03:00-03:30")
            .replace("cross_region   = false", "cross_region   = true")
    );
    let out = diagnostics(&spec);
    for needle in [
        "`r6g.large` is not an ElastiCache node type",
        "a replication group has 1 to 6 nodes, not 9",
        "ElastiCache keeps automatic snapshots 1 to 35 days, not 40",
        "ElastiCache needs a window of at least 60 minutes",
        "drplan cannot copy a cache's automatic snapshots to another region",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    // Every one points into the file (file:line:col).
    assert!(out.contains("specs/main.hcl:"), "{out}");
    assert_eq!(out.matches("drplan::invalid_value").count(), 5, "{out}");
}

#[test]
fn a_repeated_snapshot_block_is_an_error_not_last_one_wins() {
    let spec = format!(
        "{NETWORK}{}",
        CACHE.replace(
            "  snapshot {",
            "  snapshot {\n    retention_days = 1\n  }\n  snapshot {"
        )
    );
    assert!(codes(&spec).contains(&"drplan::duplicate_block"));
}

#[test]
fn cross_block_mistakes_name_the_cache() {
    // Network of another site, an unknown subnet, an id taken twice, a bad id.
    let spec = format!(
        "{NETWORK}{}{}",
        CACHE.replace("site.primary", "site.dr").replace(
            "network        = network.primary",
            "network        = network.primary\n  subnets        = [\"private-z\"]"
        ),
        CACHE.replace("cache \"redis\"", "cache \"Other\"").replace(
            "engine_version = \"7.1\"",
            "engine_version = \"7.1\"\n  name = \"Bad--Id\""
        )
    );
    let out = diagnostics(&spec);
    for needle in [
        "cache \"redis\" is in site \"dr\" but network \"primary\" is in site \"primary\"",
        "network \"primary\" has no subnet \"private-z\"",
        "`Bad--Id` is not a valid replication group id",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    let twice = format!(
        "{NETWORK}{CACHE}{}",
        CACHE.replace("cache \"redis\"", "cache \"again\"").replace(
            "engine_version = \"7.1\"",
            "engine_version = \"7.1\"\n  name = \"redis\""
        )
    );
    assert!(codes(&twice).contains(&"drplan::duplicate_name"));
}

fn live_group(attrs: Value) -> LiveObject {
    LiveObject {
        kind: Kind::CacheReplicationGroup,
        id: "redis".into(),
        region: Some("us-west-2".into()),
        address: Some(Address::new("cache.redis")),
        stack: Some(crate::plan_fixture::STACK.into()),
        attrs: match attrs {
            Value::Object(m) => m.into(),
            _ => Default::default(),
        },
    }
}

fn desired_attrs(p: &drplan_core::model::Project) -> serde_json::Map<String, Value> {
    p.resources
        .iter()
        .find(|r| r.kind == Kind::CacheReplicationGroup)
        .map(|r| r.attrs.clone().into_map())
        .expect("a replication group")
}

#[test]
fn a_drifted_snapshot_window_and_replica_count_are_in_place_updates() {
    let p = project(&format!("{NETWORK}{CACHE}"));
    let mut attrs = desired_attrs(&p);
    attrs.insert("snapshot_window".into(), json!("05:00-06:00"));
    attrs.insert("num_cache_clusters".into(), json!(1));
    let live = LiveState {
        objects: vec![live_group(Value::Object(attrs))],
        ..LiveState::default()
    };
    let plan = diff(&p.resources, &live, &ctx());
    let c = plan
        .changes
        .iter()
        .find(|c| c.address == Address::new("cache.redis"))
        .expect("a change");
    assert_eq!(c.action, Action::Update, "{c:?}");
}

#[test]
fn an_orphaned_replication_group_is_protected_not_deleted() {
    let p = project(NETWORK);
    let q = project(&format!("{NETWORK}{CACHE}"));
    let live = LiveState {
        objects: vec![live_group(Value::Object(desired_attrs(&q)))],
        ..LiveState::default()
    };
    let plan = diff(&p.resources, &live, &ctx());
    let c = plan
        .changes
        .iter()
        .find(|c| c.address == Address::new("cache.redis"))
        .expect("the orphan is planned");
    assert_eq!(c.action, Action::Delete);
    let error = plan
        .errors
        .iter()
        .find(|e| e.address == Address::new("cache.redis"))
        .expect("a stateful orphan's deletion is refused");
    assert_eq!(
        error.help.as_deref(),
        Some("pass --allow-destroy cache.redis to allow it")
    );
}

const OBJECTIVES_24H: &str = r#"
objectives {
  rpo = "1h"
  component "redis" {
    rpo = "24h"
  }
}
"#;

fn checks(spec: &str) -> Vec<objectives::Check> {
    objectives::for_project(&project(spec)).checks
}

fn find(checks: &[objectives::Check], name: CheckName) -> Option<&objectives::Check> {
    checks
        .iter()
        .find(|c| c.name == name && c.store.as_deref() == Some("cache.redis"))
}

#[test]
fn daily_automatic_snapshots_meet_a_24h_rpo_without_a_cross_region_copy() {
    let all = checks(&format!("{NETWORK}{CACHE}{OBJECTIVES_24H}"));
    let rpo = find(&all, CheckName::Rpo).expect("an rpo check for the cache");
    assert_eq!(rpo.verdict, Verdict::Pass, "{rpo:?}");
    assert_eq!(rpo.numbers, "automatic snapshots every 24h <= RPO 24h");
    assert_eq!(rpo.component.as_deref(), Some("redis"));
    let copy = find(&all, CheckName::CrossRegionCopy).expect("a copy check");
    assert_eq!(copy.verdict, Verdict::Pass, "{copy:?}");
    assert!(
        copy.numbers.contains("kept in site primary only"),
        "{copy:?}"
    );
    // The component is protected: no "no backup policy" failure.
    assert!(
        all.iter()
            .all(|c| !c.numbers.starts_with("no backup policy")),
        "{all:?}"
    );
}

#[test]
fn a_tighter_rpo_than_a_day_is_breached_and_says_why() {
    let spec = format!(
        "{NETWORK}{CACHE}{}",
        OBJECTIVES_24H.replace("rpo = \"24h\"", "rpo = \"6h\"")
    );
    let all = checks(&spec);
    let rpo = find(&all, CheckName::Rpo).expect("an rpo check");
    assert_eq!(rpo.verdict, Verdict::Fail);
    assert_eq!(rpo.numbers, "automatic snapshots every 24h > RPO 6h");
    assert!(
        rpo.details.iter().any(|d| d.contains("once a day")),
        "{rpo:?}"
    );
    let report = objectives::for_project(&project(&spec));
    let text = objectives::text::render(&report, false);
    assert!(
        text.contains("automatic snapshots every 24h > RPO 6h"),
        "{text}"
    );
}

#[test]
fn without_cross_region_false_the_one_site_snapshots_fail_the_copy_check() {
    let spec = format!(
        "{NETWORK}{}{OBJECTIVES_24H}",
        CACHE.replace("    cross_region   = false\n", "")
    );
    let all = checks(&spec);
    let copy = find(&all, CheckName::CrossRegionCopy).expect("a copy check");
    assert_eq!(copy.verdict, Verdict::Fail);
    assert!(copy.numbers.contains("stay in its region"), "{copy:?}");
}

#[test]
fn a_cache_without_snapshots_fails_its_rpo_and_one_without_rpo_is_not_measured() {
    let no_snapshots = CACHE
        .split("  snapshot {")
        .next()
        .map(|head| format!("{head}}}\n"))
        .unwrap_or_default();
    let all = checks(&format!("{NETWORK}{no_snapshots}{OBJECTIVES_24H}"));
    let rpo = find(&all, CheckName::Rpo).expect("an rpo check");
    assert_eq!(rpo.verdict, Verdict::Fail);
    assert!(
        rpo.numbers.contains("takes no automatic snapshots"),
        "{rpo:?}"
    );

    // A component declared without an RPO (a cache rebuilt) is not measured.
    let rebuilt =
        "objectives {\n  rpo = \"1h\"\n  component \"redis\" {\n    rto = \"15m\"\n  }\n}\n";
    let all = checks(&format!("{NETWORK}{CACHE}{rebuilt}"));
    assert!(find(&all, CheckName::Rpo).is_none(), "{all:?}");
    assert!(find(&all, CheckName::CrossRegionCopy).is_none(), "{all:?}");
}

#[test]
fn a_component_listing_the_cache_owns_its_snapshots() {
    let spec = format!(
        "{NETWORK}{CACHE}{}",
        "objectives {\n  component \"sessions\" {\n    rpo       = \"24h\"\n    resources = [cache.redis]\n  }\n}\n"
    );
    let all = checks(&spec);
    let rpo = find(&all, CheckName::Rpo).expect("an rpo check");
    assert_eq!(rpo.component.as_deref(), Some("sessions"));
    assert_eq!(rpo.verdict, Verdict::Pass);
}

#[test]
fn a_cache_per_site_with_for_each_is_compared_between_mirrors() {
    let spec = r#"
network {
  for_each = site
  site     = each.value
  cidr     = each.key == "primary" ? "10.10.0.0/16" : "10.20.0.0/16"
  subnet "private-a" {
    availability_zone = "${each.value.region}a"
    cidr              = cidrsubnet(each.key == "primary" ? "10.10.0.0/16" : "10.20.0.0/16", 4, 0)
  }
}

cache {
  for_each       = site
  site           = each.value
  network        = network[each.key]
  name           = "sessions-${each.key}"
  node_type      = each.key == "primary" ? "cache.r6g.large" : "cache.r6g.xlarge"
  engine_version = "7.1"
}
"#;
    let p = project(spec);
    let ids: Vec<(String, String)> = p
        .resources
        .iter()
        .filter(|r| r.kind == Kind::CacheReplicationGroup)
        .map(|r| {
            (
                r.address.to_string(),
                r.attrs["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("cache.dr".to_string(), "sessions-dr".to_string()),
            ("cache.primary".to_string(), "sessions-primary".to_string())
        ]
    );
    // The node types differ between the mirrors: a parity warning names it.
    let warnings: Vec<String> = p.warnings.iter().map(|w| w.message.clone()).collect();
    assert!(
        warnings.iter().any(|w| w.contains("node_type")),
        "{warnings:?}"
    );
}

#[test]
fn a_cache_in_a_vault_site_is_refused_at_its_site() {
    let spec = format!(
        "site \"vault\" {{\n  region = \"us-east-2\"\n  role   = \"vault\"\n}}\n{}{}",
        NETWORK
            .replace("site.primary", "site.vault")
            .replace("us-west-2", "us-east-2"),
        CACHE.replace("site.primary", "site.vault")
    );
    let out = diagnostics(&spec);
    assert!(
        out.contains("cache \"redis\" is in site \"vault\", a vault"),
        "{out}"
    );
}
