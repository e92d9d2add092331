//! Plans that repair what an interrupted or confused apply left behind: an object made
//! but never marked (adopted when this stack's write-ahead record names it, refused
//! otherwise), and a second object claiming an address (deleted when nothing uses it).

use crate::plan_fixture::{ctx, live, owned, sample, with_attr};
use drplan_core::address::Address;
use drplan_core::live::{InflightCreate, LiveObject, LiveState};
use drplan_core::plan::diff::diff;
use drplan_core::plan::Action;
use drplan_core::render::text;
use drplan_core::resource::{Kind, Resource};
use serde_json::json;

fn unmarked(r: &Resource) -> LiveObject {
    let mut o = owned(r);
    o.stack = None;
    o.address = None;
    o
}

fn record(r: &Resource) -> InflightCreate {
    InflightCreate {
        address: r.address.clone(),
        kind: r.kind,
        identity: r.identity(),
    }
}

fn with_records(objects: Vec<LiveObject>, records: Vec<InflightCreate>) -> LiveState {
    LiveState {
        inflight: records,
        ..live(objects)
    }
}

#[test]
fn an_unmarked_object_named_by_a_record_of_this_stack_is_adopted() {
    for kind in [
        Kind::Bucket,
        Kind::DnsZone,
        Kind::EksCluster,
        Kind::NodeGroup,
    ] {
        let r = sample(kind);
        let plan = diff(
            std::slice::from_ref(&r),
            &with_records(vec![unmarked(&r)], vec![record(&r)]),
            &ctx(),
        );
        assert!(plan.errors.is_empty(), "{kind}: {:?}", plan.errors);
        let change = &plan.changes[0];
        assert_eq!(
            (change.action, change.adopt),
            (Action::Update, true),
            "{kind}"
        );
        assert_eq!(
            change.live_id.as_deref(),
            Some(format!("live-{}", r.address).as_str())
        );
        assert!(
            change.only_mark_changes(),
            "{kind}: nothing but the marks differs"
        );
    }
}

#[test]
fn an_adopted_bucket_also_gets_the_settings_it_was_left_without() {
    let r = sample(Kind::Bucket);
    let mut left = unmarked(&r);
    left.attrs.insert("versioning".into(), json!(false));
    let plan = diff(
        std::slice::from_ref(&r),
        &with_records(vec![left], vec![record(&r)]),
        &ctx(),
    );
    let change = &plan.changes[0];
    assert_eq!((change.action, change.adopt), (Action::Update, true));
    assert!(!change.only_mark_changes());
    let text = text::plan(&plan, &text::TextOptions { color: false });
    assert!(
        text.contains("# bucket.backups was created by an interrupted apply of this stack and is not marked yet: drplan adopts it"),
        "{text}"
    );
    assert!(text.contains("versioning"), "{text}");
}

#[test]
fn an_unmarked_object_without_a_record_is_still_refused() {
    let r = sample(Kind::Bucket);
    // No record; a record for another address; a record naming another bucket.
    let other = with_attr(sample(Kind::Bucket), "name", json!("someone-elses"));
    let elsewhere = InflightCreate {
        address: Address::new("bucket.other"),
        ..record(&r)
    };
    for records in [vec![], vec![elsewhere], vec![record(&other)]] {
        let plan = diff(
            std::slice::from_ref(&r),
            &with_records(vec![unmarked(&r)], records.clone()),
            &ctx(),
        );
        assert_eq!(plan.errors.len(), 1, "{records:?}");
        assert!(
            plan.errors[0].message.contains("not managed by this stack"),
            "{}",
            plan.errors[0].message
        );
        assert!(plan.changes.is_empty());
    }
    // A record never makes another stack's object this stack's.
    let mut theirs = owned(&r);
    theirs.stack = Some("other-stack".into());
    let plan = diff(
        std::slice::from_ref(&r),
        &with_records(vec![theirs], vec![record(&r)]),
        &ctx(),
    );
    assert_eq!(plan.errors.len(), 1);
    assert!(plan.errors[0].message.contains("other-stack"));
}

#[test]
fn a_second_vpc_claiming_an_address_that_nothing_uses_is_deleted() {
    let vpc = sample(Kind::Vpc);
    let first = owned(&vpc);
    let mut second = owned(&vpc);
    second.id = "vpc-extra".into();
    // The subnet lives in the second VPC (the one the create's answer named).
    let subnet = sample(Kind::Subnet);
    let mut state = live(vec![first, second, owned(&subnet)]);
    state.referenced_ids.insert("vpc-extra".into());
    let plan = diff(&[vpc.clone(), subnet], &state, &ctx());
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    let kept = plan
        .changes
        .iter()
        .find(|c| c.address == vpc.address)
        .expect("the VPC's change");
    assert_eq!(
        (kept.action, kept.live_id.as_deref()),
        (Action::NoOp, Some("vpc-extra"))
    );
    let extra_address = format!("{}#live-{}", vpc.address, vpc.address);
    let extra = plan
        .changes
        .iter()
        .find(|c| c.address.as_str() == extra_address)
        .expect("the extra VPC's delete");
    assert_eq!(extra.action, Action::Delete);
    assert_eq!(
        extra.live_id.as_deref(),
        Some(format!("live-{}", vpc.address).as_str())
    );
}

#[test]
fn two_vpcs_claiming_an_address_that_both_are_used_are_left_to_a_person() {
    let vpc = sample(Kind::Vpc);
    let mut second = owned(&vpc);
    second.id = "vpc-extra".into();
    let mut state = live(vec![owned(&vpc), second]);
    state
        .referenced_ids
        .extend([format!("live-{}", vpc.address), "vpc-extra".into()]);
    let plan = diff(std::slice::from_ref(&vpc), &state, &ctx());
    assert_eq!(plan.errors.len(), 1, "{:?}", plan.changes);
    assert!(
        plan.errors[0]
            .message
            .contains("2 aws_vpc objects claim this address"),
        "{}",
        plan.errors[0].message
    );
}
