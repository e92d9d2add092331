//! What `diff` decides, kind by kind: desired resources and live objects built by hand,
//! checked against a one-line-per-decision summary.

use crate::plan_fixture::{
    ctx, forcing_change, in_place_change, live, owned, sample, with_attr, STACK,
};
use drplan_core::address::Address;
use drplan_core::live::{LiveObject, LiveState};
use drplan_core::plan::diff::{diff, unknown_after_apply, DiffContext};
use drplan_core::plan::{Action, Plan};
use drplan_core::resource::{Kind, Resource};
use serde_json::json;

/// One line per change (`action address [forced attrs]`, no-ops included), then one per
/// error (`error address: message`).
fn summary(plan: &Plan) -> String {
    let mut lines = Vec::new();
    for c in &plan.changes {
        let action = match c.action {
            Action::NoOp => "no-op",
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::Forget => "forget",
        };
        let mut line = format!("{action} {}", c.address);
        if !c.replace_because.is_empty() {
            line.push_str(&format!(" [{}]", c.replace_because.join(", ")));
        }
        lines.push(line);
    }
    for e in &plan.errors {
        lines.push(format!("error {}: {}", e.address, e.message));
    }
    lines.join("\n")
}

fn check(desired: &[Resource], live: &LiveState, ctx: &DiffContext, expect: &str) -> Plan {
    let plan = diff(desired, live, ctx);
    assert_eq!(summary(&plan), expect.trim(), "\nplan: {plan:#?}");
    plan
}

#[test]
fn every_kind_is_created_when_missing() {
    for kind in Kind::ALL {
        let r = sample(kind);
        let plan = check(
            std::slice::from_ref(&r),
            &live(vec![]),
            &ctx(),
            &format!("create {}", r.address),
        );
        let change = &plan.changes[0];
        assert_eq!(change.after.as_ref(), Some(&r.attrs));
        assert_eq!(change.before, None);
        let unknown: Vec<&str> = change.unknown_after.iter().map(String::as_str).collect();
        assert_eq!(unknown, unknown_after_apply(kind), "{kind}");
        assert!(plan.live_fingerprints.is_empty());
    }
}

#[test]
fn every_kind_is_unchanged_when_live_matches() {
    for kind in Kind::ALL {
        let r = sample(kind);
        let o = owned(&r);
        let plan = check(
            std::slice::from_ref(&r),
            &live(vec![o.clone()]),
            &ctx(),
            &format!("no-op {}", r.address),
        );
        assert!(!plan.has_changes());
        assert_eq!(plan.changes[0].live_id.as_deref(), Some(o.id.as_str()));
        assert_eq!(
            plan.live_fingerprints.get(&o.identity()),
            Some(&o.fingerprint())
        );
    }
}

#[test]
fn every_kind_updates_in_place() {
    for kind in Kind::ALL {
        let r = sample(kind);
        let (attr, value) = in_place_change(kind);
        assert!(!kind.force_new_attrs().contains(&attr));
        let changed = with_attr(r.clone(), attr, value.clone());
        let plan = check(
            &[changed],
            &live(vec![owned(&r)]),
            &ctx(),
            &format!("update {}", r.address),
        );
        let change = &plan.changes[0];
        assert_eq!(
            change.before.as_ref().and_then(|b| b.get(attr)),
            r.attrs.get(attr)
        );
        assert_eq!(
            change.after.as_ref().and_then(|a| a.get(attr)),
            Some(&value)
        );
        assert!(change.unknown_after.is_empty());
    }
}

/// Changing an identifying attribute (bucket or zone name, record type, namespace)
/// changes the identity too: the object is found again by its ownership mark.
#[test]
fn every_kind_is_replaced_when_a_force_new_attribute_changes() {
    for kind in Kind::ALL {
        let mut r = sample(kind);
        r.protect = false;
        let (attr, value) = forcing_change(kind);
        assert!(kind.force_new_attrs().contains(&attr));
        let changed = with_attr(r.clone(), attr, value);
        let plan = check(
            &[changed],
            &live(vec![owned(&r)]),
            &ctx(),
            &format!("replace {} [{attr}]", r.address),
        );
        assert_eq!(plan.summary().add, 1);
        assert_eq!(plan.summary().destroy, 1);
        assert_eq!(plan.changes[0].live_id, Some(format!("live-{}", r.address)));
    }
}

#[test]
fn only_forcing_attributes_are_named_as_the_reason() {
    let r = sample(Kind::NodeGroup);
    let changed = with_attr(r.clone(), "desired_size", json!(9));
    let changed = with_attr(changed, "capacity_type", json!("SPOT"));
    let changed = with_attr(changed, "disk_size", json!(100));
    check(
        &[changed],
        &live(vec![owned(&r)]),
        &ctx(),
        "replace cluster.primary.node_group.general [disk_size, capacity_type]",
    );
}

#[test]
fn protected_replacement_needs_allow_destroy() {
    let r = sample(Kind::EksCluster);
    assert!(r.protect);
    let changed = with_attr(r.clone(), "role_arn", json!("arn:aws:iam::1:role/other"));
    let state = live(vec![owned(&r)]);
    let plan = check(
        std::slice::from_ref(&changed),
        &state,
        &ctx(),
        "replace cluster.primary [role_arn]\n\
         error cluster.primary: protected, and must be replaced because role_arn cannot change in place: replacing it destroys the live aws_eks_cluster `live-cluster.primary`",
    );
    assert_eq!(
        plan.errors[0].help.as_deref(),
        Some("pass --allow-destroy cluster.primary to allow it")
    );

    let mut allowed = ctx();
    allowed.allow_destroy = vec![Address::new("cluster.primary")];
    check(
        &[changed],
        &state,
        &allowed,
        "replace cluster.primary [role_arn]",
    );
}

#[test]
fn orphans_of_this_stack_are_deleted() {
    let ng = sample(Kind::NodeGroup);
    let record = sample(Kind::DnsRecord);
    let k8s = sample(Kind::K8sObject);
    let vpc = sample(Kind::Vpc);
    let plan = check(
        std::slice::from_ref(&vpc),
        &live(vec![owned(&vpc), owned(&ng), owned(&record), owned(&k8s)]),
        &ctx(),
        "delete cluster.primary.node_group.general\n\
         delete kubernetes.app.config_map.settings\n\
         no-op network.primary\n\
         delete dns.api.target.primary",
    );
    // Orphans take their site from the region the spec's sites cover.
    assert_eq!(plan.changes[0].site.as_deref(), Some("primary"));
    assert_eq!(plan.changes[3].site, None);
    assert!(plan
        .changes
        .iter()
        .all(|c| c.after.is_none() || c.action != Action::Delete));
    assert_eq!(plan.live_fingerprints.len(), 4);
}

#[test]
fn stateful_orphans_need_allow_destroy() {
    for kind in Kind::ALL.into_iter().filter(|k| k.is_stateful()) {
        let r = sample(kind);
        let state = live(vec![owned(&r)]);
        let plan = diff(&[], &state, &ctx());
        assert_eq!(plan.changes.len(), 1);
        assert_eq!(plan.changes[0].action, Action::Delete);
        assert_eq!(plan.errors.len(), 1, "{kind}");
        assert_eq!(plan.errors[0].address, r.address);
        assert_eq!(
            plan.errors[0].help,
            Some(format!("pass --allow-destroy {} to allow it", r.address))
        );
        let mut allowed = ctx();
        allowed.allow_destroy = vec![r.address.clone()];
        assert!(diff(&[], &state, &allowed).errors.is_empty());
    }
}

#[test]
fn objects_of_other_stacks_and_unmarked_objects_are_never_touched() {
    let bucket = sample(Kind::Bucket);
    let mut theirs = owned(&bucket);
    theirs.stack = Some("other-stack".into());
    check(
        std::slice::from_ref(&bucket),
        &live(vec![theirs.clone()]),
        &ctx(),
        "error bucket.backups: aws_s3_bucket `live-bucket.backups` exists but is not managed by this stack: drplan never changes objects it did not create (it is marked as managed by stack `other-stack`)",
    );

    let mut unmarked = owned(&bucket);
    unmarked.stack = None;
    unmarked.address = None;
    let plan = check(
        std::slice::from_ref(&bucket),
        &live(vec![unmarked.clone()]),
        &ctx(),
        "error bucket.backups: aws_s3_bucket `live-bucket.backups` exists but is not managed by this stack: drplan never changes objects it did not create (it carries no drplan mark)",
    );
    // The conflicting object was read, so a saved plan notices if it changes.
    assert_eq!(plan.live_fingerprints.len(), 1);

    // Without a desired resource, neither is an orphan of ours.
    let plan = check(&[], &live(vec![theirs, unmarked]), &ctx(), "");
    assert!(plan.live_fingerprints.is_empty());
}

#[test]
fn an_owned_object_wins_over_an_unmarked_namesake() {
    let r = sample(Kind::Bucket);
    let mut stranger = owned(&r);
    stranger.stack = None;
    stranger.id = "stranger".into();
    let plan = check(
        std::slice::from_ref(&r),
        &live(vec![stranger, owned(&r)]),
        &ctx(),
        "no-op bucket.backups",
    );
    assert_eq!(
        plan.changes[0].live_id.as_deref(),
        Some("live-bucket.backups")
    );
}

#[test]
fn values_compare_semantically() {
    let r = sample(Kind::NodeGroup);
    let mut o = owned(&r);
    // Floats for integers, maps in another order, unset keys as nulls, and attributes
    // the spec does not manage.
    o.attrs.insert("desired_size".into(), json!(3.0));
    o.attrs
        .insert("labels".into(), json!({"zone": null, "tier": "general"}));
    o.attrs.insert("status".into(), json!("ACTIVE"));
    check(
        std::slice::from_ref(&r),
        &live(vec![o.clone()]),
        &ctx(),
        "no-op cluster.primary.node_group.general",
    );

    // A null on the desired side equals an absent live attribute.
    let with_null = with_attr(r.clone(), "release_version", json!(null));
    check(
        &[with_null],
        &live(vec![o.clone()]),
        &ctx(),
        "no-op cluster.primary.node_group.general",
    );

    // Lists keep their order: the normalized form sorts those where order is moot.
    let reordered = with_attr(
        r.clone(),
        "instance_types",
        json!(["m5.large", "m5.xlarge"]),
    );
    let mut o2 = owned(&r);
    o2.attrs
        .insert("instance_types".into(), json!(["m5.xlarge", "m5.large"]));
    check(
        &[reordered],
        &live(vec![o2]),
        &ctx(),
        "replace cluster.primary.node_group.general [instance_types]",
    );
}

#[test]
fn sensitive_values_are_redacted_but_their_change_is_seen() {
    let mut r = sample(Kind::HealthCheck);
    r.attrs.insert(
        "auth".into(),
        json!({"token": "old-token", "user": "probe"}),
    );
    r.sensitive = vec!["auth.token".into()];
    let o = owned(&r);
    let changed = with_attr(
        r.clone(),
        "auth",
        json!({"token": "new-token", "user": "probe"}),
    );
    let plan = check(
        &[changed],
        &live(vec![o.clone()]),
        &ctx(),
        "update dns.api.target.primary.health_check",
    );
    let c = &plan.changes[0];
    assert_eq!(c.sensitive_changed, vec!["auth.token".to_string()]);
    assert_eq!(
        c.before.as_ref().and_then(|b| b.get("auth")),
        Some(&json!({"token": "(sensitive)", "user": "probe"}))
    );
    assert_eq!(
        c.after.as_ref().and_then(|a| a.get("auth")),
        Some(&json!({"token": "(sensitive)", "user": "probe"}))
    );

    // Unchanged secrets stay a no-op, still redacted.
    let plan = check(
        &[r],
        &live(vec![o]),
        &ctx(),
        "no-op dns.api.target.primary.health_check",
    );
    assert!(plan.changes[0].sensitive_changed.is_empty());
    assert!(!serde_json::to_string(&plan)
        .unwrap_or_default()
        .contains("old-token"));
}

#[test]
fn orphaned_secrets_are_redacted_without_a_spec() {
    let secret = LiveObject {
        kind: Kind::K8sObject,
        id: "v1/Secret/lanka/db".into(),
        region: Some("us-west-2".into()),
        address: Some(Address::new("kubernetes.app.secret.db")),
        stack: Some(STACK.into()),
        attrs: crate::plan_fixture::attrs(
            json!({"kind": "Secret", "manifest": {"data": {"PASSWORD": "aHVudGVyMg=="}}}),
        ),
    };
    let plan = check(
        &[],
        &live(vec![secret]),
        &ctx(),
        "delete kubernetes.app.secret.db",
    );
    assert!(!serde_json::to_string(&plan)
        .unwrap_or_default()
        .contains("aHVudGVyMg=="));
}

#[test]
fn a_moved_object_is_replaced() {
    let r = sample(Kind::Vpc);
    let mut moved = r.clone();
    moved.region = Some("eu-west-1".into());
    check(
        &[moved],
        &live(vec![owned(&r)]),
        &ctx(),
        "replace network.primary [region]",
    );
}

#[test]
fn changes_are_sorted_by_site_then_address() {
    let mut dr = sample(Kind::Bucket);
    dr.address = Address::new("bucket.dr");
    dr.site = Some("dr".into());
    dr.attrs.insert("name".into(), json!("dr-bucket"));
    let desired = vec![
        sample(Kind::DnsZone),
        sample(Kind::Vpc),
        sample(Kind::Bucket),
        dr,
    ];
    check(
        &desired,
        &live(vec![]),
        &ctx(),
        "create bucket.dr\ncreate bucket.backups\ncreate network.primary\ncreate zone.main",
    );
}

#[test]
fn unreadable_live_state_is_an_error() {
    let state = LiveState {
        read_errors: vec![
            drplan_core::live::ReadError::new("eks", "AccessDenied").in_region("us-east-1")
        ],
        ..LiveState::default()
    };
    check(
        &[],
        &state,
        &ctx(),
        "error : could not read live state: eks in us-east-1: AccessDenied",
    );
}

#[test]
fn an_owned_object_without_an_address_is_left_alone() {
    let mut o = owned(&sample(Kind::Vpc));
    o.address = None;
    check(
        &[],
        &live(vec![o]),
        &ctx(),
        "error : aws_vpc `live-network.primary` is marked with this stack but has no drplan:address mark, so drplan cannot tell which part of the spec it belongs to",
    );
}

#[test]
fn the_plan_records_its_context() {
    let plan = diff(&[], &LiveState::default(), &ctx());
    assert_eq!(plan.format_version, "1.0");
    assert_eq!(plan.stack, STACK);
    assert_eq!(plan.environment, "prod");
    assert_eq!(plan.spec_digest, "sha256:0f3c");
}

#[test]
fn the_rich_plan() {
    let plan = crate::plan_fixture::rich_plan();
    assert_eq!(
        summary(&plan),
        "create bucket.backups_dr
replace cluster.dr [role_arn]
delete cluster.legacy
create bucket.backups
delete bucket.old_logs
update cluster.primary
update cluster.primary.node_group.general
delete cluster.primary.node_group.spot
update kubernetes.app.config_map.settings
update kubernetes.app.secret.neo4j_auth
no-op network.primary
replace network.primary.subnet.a [cidr_block]
update dns.api.target.primary
create dns.api.target.primary.health_check
no-op zone.main
error bucket.archive: aws_s3_bucket `lanka-archive` exists but is not managed by this stack: drplan never changes objects it did not create (it carries no drplan mark)
error cluster.dr: protected, and must be replaced because role_arn cannot change in place: replacing it destroys the live aws_eks_cluster `lanka-dr`
error cluster.legacy: no longer in the spec, but the live aws_eks_cluster `lanka-legacy` holds data or takes long to rebuild: drplan will not delete it unless told to
error dns.www.target.main: aws_route53_record `live-dns.www.target.main` exists but is not managed by this stack: drplan never changes objects it did not create (it is marked as managed by stack `marketing-site`)"
    );
    // Everything read that matters to this stack, and nothing else (the default VPC).
    assert_eq!(plan.live_fingerprints.len(), 14);
    assert!(!plan.live_fingerprints.contains_key("us-west-2/"));
}

#[test]
fn two_resources_naming_one_object_is_an_error() {
    let a = sample(Kind::Bucket);
    let mut b = sample(Kind::Bucket);
    b.address = Address::new("bucket.copy");
    check(
        &[a, b],
        &live(vec![]),
        &ctx(),
        "create bucket.backups\n\
         error bucket.copy: names the same aws_s3_bucket as bucket.backups (`lanka-platform-backups`): one cloud object cannot be two parts of the spec",
    );
}

/// The design target is 10,000 resources parsed, validated and diffed in under a
/// second; the diff's share must be a small part of it even in a debug build.
#[test]
fn diffing_ten_thousand_resources_is_fast() {
    let mut desired = Vec::new();
    let mut objects = Vec::new();
    for i in 0..10_000 {
        let kind = Kind::ALL[i % Kind::ALL.len()];
        let mut r = sample(kind);
        r.address = Address::new(format!("{}.n{i}", r.address));
        r.attrs.insert("name".into(), json!(format!("n{i}")));
        let mut o = owned(&r);
        match i % 4 {
            0 => {
                desired.push(r);
                continue;
            }
            1 => {
                o.attrs.insert("tags".into(), json!({"changed": "yes"}));
            }
            _ => {}
        }
        if i % 10 == 0 {
            o.address = Some(Address::new(format!("old.n{i}")));
            o.attrs.insert("name".into(), json!(format!("old{i}")));
        }
        objects.push(o);
        desired.push(r);
    }
    let state = live(objects);
    let started = std::time::Instant::now();
    let plan = diff(&desired, &state, &ctx());
    let elapsed = started.elapsed();
    eprintln!(
        "diff of {} desired / {} live: {elapsed:?}",
        desired.len(),
        state.objects.len()
    );
    assert!(plan.has_changes());
    // Generous for a loaded debug build: this catches a quadratic match, not a slow CPU.
    assert!(
        elapsed < std::time::Duration::from_secs(15),
        "took {elapsed:?}"
    );
}

#[test]
fn two_live_objects_with_one_address_are_an_error_not_two_steps() {
    // A copy of the bucket made by hand kept the original's marks: one is matched by
    // name, the other would be an orphan at the same address.
    let bucket = sample(Kind::Bucket);
    let mut copy = owned(&bucket);
    copy.id = "copy-of-backups".into();
    copy.attrs.insert("name".into(), json!("copy-of-backups"));
    let mut allowed = ctx();
    allowed.allow_destroy = vec![bucket.address.clone()];
    let plan = diff(
        std::slice::from_ref(&bucket),
        &live(vec![owned(&bucket), copy]),
        &allowed,
    );
    let errors: Vec<&str> = plan.errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        errors,
        ["2 aws_s3_bucket objects claim this address: `live-bucket.backups` in us-west-2 (unchanged), `copy-of-backups` in us-west-2 (to delete)"],
        "{plan:#?}"
    );
    assert_eq!(plan.errors[0].address, bucket.address);
}

#[test]
fn a_protected_orphan_under_a_removed_block_is_forgotten_not_a_conflict() {
    let r = sample(Kind::Bucket);
    let state = live(vec![owned(&r)]);
    let mut keep = ctx();
    keep.removed = vec![drplan_core::model::Removed {
        from: r.address.clone(),
        destroy: false,
    }];
    let plan = diff(&[], &state, &keep);
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(plan.changes[0].action, Action::Forget);
    assert_eq!(plan.summary().forget, 1);
    assert_eq!(plan.summary().destroy, 0);

    let mut destroy = ctx();
    destroy.removed = vec![drplan_core::model::Removed {
        from: r.address.clone(),
        destroy: true,
    }];
    let plan = diff(&[], &state, &destroy);
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    assert_eq!(plan.changes[0].action, Action::Delete);
}

#[test]
fn a_removed_block_cannot_keep_a_kubernetes_object_yet_and_says_so() {
    let r = sample(Kind::K8sObject);
    let state = live(vec![owned(&r)]);
    let mut keep = ctx();
    keep.removed = vec![drplan_core::model::Removed {
        from: drplan_core::address::Address::new("kubernetes.app"),
        destroy: false,
    }];
    let plan = diff(&[], &state, &keep);
    assert_eq!(plan.errors.len(), 1);
    assert!(
        plan.errors[0].message.contains("cannot drop its marks"),
        "{}",
        plan.errors[0]
    );
}

/// `import` blocks (issue 20): an unmarked object of every kind (its `info()`) — the ones found by
/// their mark alone (networks, subnets, health checks) by the id the block names —
/// plans as an update that adopts it; without the block it is refused.
#[test]
fn every_kind_made_by_another_tool_is_imported_by_its_id() {
    for kind in Kind::ALL {
        let r = sample(kind);
        let mut o = owned(&r);
        o.stack = None;
        o.address = None;
        let plan = diff(std::slice::from_ref(&r), &live(vec![o.clone()]), &ctx());
        // Without the block: refused, or (found by the mark it lacks) not seen at all.
        let without = match kind.info().identified_by_mark {
            true => format!("create {}", r.address),
            false => "exists but is not managed by this stack".to_string(),
        };
        assert!(
            summary(&plan).contains(&without),
            "{kind}: {}",
            summary(&plan)
        );
        let mut with_import = ctx();
        with_import.imports = vec![drplan_core::model::Import {
            to: r.address.clone(),
            id: o.id.clone(),
        }];
        let plan = check(
            std::slice::from_ref(&r),
            &live(vec![o.clone()]),
            &with_import,
            &format!("update {}", r.address),
        );
        assert!(plan.changes[0].adopt, "{kind}");
        assert_eq!(plan.changes[0].import_id.as_deref(), Some(o.id.as_str()));
        assert_eq!(plan.changes[0].live_id.as_deref(), Some(o.id.as_str()));
    }
}

/// The id forms docs/spec-reference.md gives: DNS names without their trailing dots,
/// a record without set identifier without its empty last part, a Kubernetes object
/// as `<namespace>/<name>`, a node group as `<cluster>/<name>`.
#[test]
fn import_ids_are_matched_in_their_documented_forms() {
    for (kind, id, live_id) in [
        (
            Kind::DnsRecord,
            "example.com/api.example.com/CNAME",
            "example.com./api.example.com./CNAME/",
        ),
        (Kind::K8sObject, "shop/api", "apps/v1/Deployment/shop/api"),
        (Kind::NodeGroup, "shop-prod/general", "shop-prod/general"),
    ] {
        let r = sample(kind);
        let mut o = owned(&r);
        o.stack = None;
        o.address = None;
        o.id = live_id.to_string();
        let mut with_import = ctx();
        with_import.imports = vec![drplan_core::model::Import {
            to: r.address.clone(),
            id: id.to_string(),
        }];
        let plan = diff(std::slice::from_ref(&r), &live(vec![o]), &with_import);
        assert_eq!(
            plan.changes.first().and_then(|c| c.import_id.as_deref()),
            Some(id),
            "{kind}: {}",
            summary(&plan)
        );
    }
}

/// A subnet's `vpc` (and a cluster's `subnets`) name an imported network by its raw
/// id until apply marks it: the import address stands in, so no replacement is
/// planned for a reference that is in fact unchanged.
#[test]
fn references_to_an_imported_network_are_no_change() {
    let vpc = sample(Kind::Vpc);
    let subnet = sample(Kind::Subnet);
    let mut vpc_live = owned(&vpc);
    vpc_live.stack = None;
    vpc_live.address = None;
    vpc_live.id = "vpc-0abc".into();
    let mut subnet_live = owned(&subnet);
    subnet_live.stack = None;
    subnet_live.address = None;
    subnet_live.id = "subnet-0abc".into();
    subnet_live.attrs.insert("vpc".into(), json!("vpc-0abc"));
    let mut state = live(vec![vpc_live, subnet_live]);
    let imports = vec![
        drplan_core::model::Import {
            to: vpc.address.clone(),
            id: "vpc-0abc".into(),
        },
        drplan_core::model::Import {
            to: subnet.address.clone(),
            id: "subnet-0abc".into(),
        },
    ];
    state.resolve_ids();
    state.resolve_imported_ids(&imports);
    let mut with_import = ctx();
    with_import.imports = imports;
    check(
        &[vpc.clone(), subnet.clone()],
        &state,
        &with_import,
        &format!("update {}\nupdate {}", vpc.address, subnet.address),
    );
}
