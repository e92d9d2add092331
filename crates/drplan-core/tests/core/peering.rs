//! The `peering` block (issue 17): its checks, its lowering, and the diff of a
//! connection whose routes were deleted, that a lost region hides, or that left the
//! spec. What moto cannot show (the accepter's region lost while the requester's
//! answers) is covered here.

use crate::plan_fixture::ctx;
use crate::spec_support::*;
use drplan_core::address::Address;
use drplan_core::live::{LiveObject, LiveState, ReachFailure, Unreachable};
use drplan_core::plan::diff::diff;
use drplan_core::plan::Action;
use drplan_core::resource::{Kind, Resource};
use serde_json::{json, Value};

const NETWORKS: &str = r#"
network "primary" {
  site = site.primary
  cidr = "10.10.0.0/16"
}

network "dr" {
  site = site.dr
  cidr = "10.20.0.0/16"
}
"#;

const PEERING: &str = r#"
peering "primary_dr" {
  requester = network.primary
  accepter  = network.dr
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

#[test]
fn a_peering_of_two_sites_lowers_to_one_connection_with_routes_both_ways() {
    let p = project(&format!("{NETWORKS}{PEERING}"));
    let r: &Resource = p
        .resources
        .iter()
        .find(|r| r.kind == Kind::VpcPeering)
        .expect("a peering resource");
    assert_eq!(r.address, Address::new("peering.primary_dr"));
    assert_eq!(r.site.as_deref(), Some("primary"));
    assert_eq!(r.region.as_deref(), Some("us-west-2"));
    assert_eq!(
        Value::Object(r.attrs.clone().into_map()),
        json!({
            "vpc": "network.primary",
            "peer_vpc": "network.dr",
            "peer_region": "us-east-1",
            "accept_status": "active",
            "requester_routes": ["10.20.0.0/16"],
            "accepter_routes": ["10.10.0.0/16"],
            "tags": {},
        })
    );
    // Created after both networks, deleted before them.
    let refs = drplan_core::kinds::referenced(r.kind, r.region.as_deref(), &r.attrs, |_, _| None);
    assert_eq!(
        refs,
        [Address::new("network.primary"), Address::new("network.dr")]
    );
    assert!(!Kind::VpcPeering.is_stateful());
}

#[test]
fn overlapping_networks_are_refused_naming_both_ranges_at_the_accepter() {
    let spec = format!(
        "{}{PEERING}",
        NETWORKS.replace("10.20.0.0/16", "10.10.128.0/17")
    );
    has(&spec, "drplan::cidr_overlap");
    let text = format!("{BASE}{spec}");
    let dir = write(&[("specs/main.hcl", &text), ("environments/test.hcl", ENV)]);
    let out = rendered(dir.path(), "test");
    assert!(
        out.contains("10.10.0.0/16") && out.contains("10.10.128.0/17"),
        "{out}"
    );
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with("accepter"))
        .expect("accepter line")
        + 1;
    assert!(out.contains(&format!("specs/main.hcl:{line}:")), "{out}");
}

#[test]
fn the_block_checks_its_networks_and_its_label() {
    // A repeated label.
    has(
        &format!("{NETWORKS}{PEERING}{PEERING}"),
        "drplan::duplicate_label",
    );
    // A network peered with itself.
    has(
        &format!(
            "{NETWORKS}{}",
            PEERING.replace("network.dr", "network.primary")
        ),
        "drplan::invalid_value",
    );
    // A network that is not there, or not a network.
    has(
        &format!("{NETWORKS}{}", PEERING.replace("network.dr", "network.drr")),
        "drplan::unresolved_reference",
    );
    has(
        &format!("{NETWORKS}{}", PEERING.replace("network.dr", "site.dr")),
        "drplan::wrong_kind",
    );
    // Both sides required.
    has(
        &format!("{NETWORKS}peering \"x\" {{\n  requester = network.primary\n}}\n"),
        "drplan::missing_attribute",
    );
    // Two connections between the same two networks.
    has(
        &format!(
            "{NETWORKS}{PEERING}{}",
            PEERING
                .replace("primary_dr", "again")
                .replace("requester = network.primary", "requester = network.X")
                .replace("accepter  = network.dr", "accepter  = network.primary")
                .replace("network.X", "network.dr")
        ),
        "drplan::duplicate_peering",
    );
    // Same-site peering is allowed.
    let same_site = format!(
        "{}{PEERING}",
        NETWORKS.replace("site = site.dr", "site = site.primary")
    );
    assert_eq!(codes(&same_site), Vec::<&str>::new());
}

fn live_peering(desired: &Resource, attrs: Value) -> LiveObject {
    let mut all = desired.attrs.clone();
    if let Value::Object(changes) = attrs {
        all.extend(changes);
    }
    LiveObject {
        kind: Kind::VpcPeering,
        id: "pcx-0123".into(),
        region: desired.region.clone(),
        address: Some(desired.address.clone()),
        stack: Some(ctx().stack),
        attrs: all,
    }
}

fn desired() -> Vec<Resource> {
    project(&format!("{NETWORKS}{PEERING}"))
        .resources
        .into_iter()
        .filter(|r| r.kind == Kind::VpcPeering)
        .collect()
}

#[test]
fn a_deleted_route_or_a_pending_connection_is_an_update_in_place() {
    let desired = desired();
    for drift in [
        json!({"accepter_routes": []}),
        json!({"accept_status": "pending-acceptance"}),
    ] {
        let state = LiveState {
            objects: vec![live_peering(&desired[0], drift.clone())],
            ..LiveState::default()
        };
        let plan = diff(&desired, &state, &ctx());
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
        assert_eq!(plan.changes.len(), 1);
        assert_eq!(plan.changes[0].action, Action::Update, "{drift}");
    }
    let state = LiveState {
        objects: vec![live_peering(&desired[0], json!({}))],
        ..LiveState::default()
    };
    let plan = diff(&desired, &state, &ctx());
    assert_eq!(plan.changes[0].action, Action::NoOp);
    // Another accepter is another connection.
    let state = LiveState {
        objects: vec![live_peering(
            &desired[0],
            json!({"peer_vpc": "vpc-elsewhere"}),
        )],
        ..LiveState::default()
    };
    let plan = diff(&desired, &state, &ctx());
    assert_eq!(plan.changes[0].action, Action::Replace);
}

#[test]
fn a_connection_is_unread_while_its_accepter_region_is_lost() {
    let desired = desired();
    let lost_dr = Unreachable {
        site: Some("dr".into()),
        region: Some("us-east-1".into()),
        service: "ec2".into(),
        cluster: None,
        cause: ReachFailure::ConnectionRefused,
        detail: "Connection refused (os error 111)".into(),
    };
    // The requester's region answered, the accepter's routes could not be read.
    let state = LiveState {
        objects: vec![live_peering(&desired[0], json!({"accepter_routes": null}))],
        unreachable: vec![lost_dr],
        ..LiveState::default()
    };
    let mut context = ctx();
    context.activated_site = Some("primary".into());
    let plan = diff(&desired, &state, &context);
    assert!(
        plan.changes.iter().all(|c| c.kind != Kind::VpcPeering),
        "{:?}",
        plan.changes
    );
    let deferred: Vec<&str> = plan.deferred.iter().map(|d| d.address.as_str()).collect();
    assert_eq!(deferred, ["peering.primary_dr"]);

    // Nor is it an orphan when the spec has dropped it.
    let plan = diff(&[], &state, &context);
    assert!(
        plan.changes.iter().all(|c| c.kind != Kind::VpcPeering),
        "{:?}",
        plan.changes
    );
}

#[test]
fn a_connection_the_spec_no_longer_has_is_deleted() {
    let desired = desired();
    let state = LiveState {
        objects: vec![live_peering(&desired[0], json!({}))],
        ..LiveState::default()
    };
    let plan = diff(&[], &state, &ctx());
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(plan.changes[0].action, Action::Delete);
    assert_eq!(plan.changes[0].address, Address::new("peering.primary_dr"));
}
