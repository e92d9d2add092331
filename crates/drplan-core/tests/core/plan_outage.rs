//! The diff with a site that did not answer (docs/outage.md): deferred under DR
//! activation, refused otherwise; never created, never orphaned.

use crate::plan_fixture::{ctx, live, sample};
use drplan_core::address::Address;
use drplan_core::live::{ReachFailure, Unreachable};
use drplan_core::plan::diff::diff;
use drplan_core::resource::Kind;

fn lost_primary() -> Unreachable {
    Unreachable {
        site: Some("primary".into()),
        region: Some("us-west-2".into()),
        service: "ec2".into(),
        cluster: None,
        cause: ReachFailure::ConnectionRefused,
        detail: "Connection refused (os error 111)".into(),
    }
}

#[test]
fn a_lost_site_is_deferred_when_another_site_is_activated() {
    let desired = vec![sample(Kind::Vpc), sample(Kind::DnsZone)];
    let mut state = live(vec![]);
    state.unreachable.push(lost_primary());
    let mut context = ctx();
    context.activated_site = Some("dr".into());
    let plan = diff(&desired, &state, &context);
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    let deferred: Vec<&str> = plan.deferred.iter().map(|d| d.address.as_str()).collect();
    assert_eq!(deferred, ["network.primary"]);
    assert!(
        plan.deferred[0]
            .reason
            .contains("ec2 in us-west-2: connection refused"),
        "{}",
        plan.deferred[0].reason
    );
    // The VPC is not planned as a create: whether it exists is unknown.
    assert!(plan
        .changes
        .iter()
        .all(|c| c.address != Address::new("network.primary")));
    assert!(
        plan.changes.iter().any(|c| c.kind == Kind::DnsZone),
        "what answered is planned"
    );
    assert_eq!(plan.unreachable_sites(), ["primary"]);
}

#[test]
fn a_lost_site_refuses_a_plan_that_activates_no_other_site() {
    let desired = vec![sample(Kind::Vpc)];
    let mut state = live(vec![]);
    state.unreachable.push(lost_primary());
    let plan = diff(&desired, &state, &ctx());
    assert_eq!(plan.errors.len(), 1, "{:?}", plan.errors);
    assert!(
        plan.errors[0]
            .message
            .starts_with("site primary did not answer"),
        "{}",
        plan.errors[0].message
    );
    assert!(plan.changes.is_empty());
}

#[test]
fn the_activated_site_itself_must_answer() {
    let desired = vec![sample(Kind::Vpc)];
    let mut state = live(vec![]);
    state.unreachable.push(lost_primary());
    let mut context = ctx();
    context.activated_site = Some("primary".into());
    let plan = diff(&desired, &state, &context);
    assert_eq!(plan.errors.len(), 1, "{:?}", plan.errors);
    assert!(
        plan.errors[0]
            .message
            .contains("the site this environment activates"),
        "{}",
        plan.errors[0].message
    );
}
