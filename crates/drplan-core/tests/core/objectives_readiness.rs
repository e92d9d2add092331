//! DR-site readiness (issue 12): what a failover needs and drplan does not manage,
//! listed from the spec, judged from the answers the live reader gives.

use drplan_core::live::{LiveObject, LiveState};
use drplan_core::objectives::readiness::{self, Answer, Need};
use drplan_core::objectives::{self, CheckName, Verdict};
use drplan_core::resource::Kind;
use serde_json::json;
use std::path::Path;

fn load(root: &str, env: &str) -> drplan_core::model::Project {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(root);
    drplan_core::spec::load_project(&root, env)
        .unwrap_or_else(|d| panic!("{env} does not load:\n{}", d.render(false, 100)))
}

#[test]
fn readiness_lists_the_roles_keys_and_dr_instance_types_of_the_root_project() {
    let project = load(".", "prod");
    let loaded = objectives::Loaded::load(&project);
    let (normal, activated) = loaded.pair(&project);
    assert!(activated.is_some(), "prod has a DR activation to compare");
    let items = readiness::items(normal, activated);
    let needs: Vec<String> = items
        .iter()
        .map(|i| match &i.need {
            Need::KmsKey { key, region } => format!("kms {key} {region}"),
            Need::IamRole { arn } => format!("role {arn}"),
            Need::InstanceTypes {
                region,
                types,
                zones,
            } => format!("offer {region} {types:?} {zones:?}"),
        })
        .collect();
    insta::assert_debug_snapshot!(needs);
}

fn cluster(name: &str, region: &str) -> LiveObject {
    LiveObject {
        kind: Kind::EksCluster,
        id: name.into(),
        region: Some(region.into()),
        address: None,
        stack: None,
        attrs: json!({"name": name})
            .as_object()
            .cloned()
            .unwrap_or_default()
            .into(),
    }
}

fn node_group(cluster: &str, name: &str, region: &str, max: i64) -> LiveObject {
    LiveObject {
        kind: Kind::NodeGroup,
        id: format!("{cluster}/{name}"),
        region: Some(region.into()),
        address: None,
        stack: None,
        attrs: json!({"cluster_name": cluster, "name": name, "max_size": max})
            .as_object()
            .cloned()
            .unwrap_or_default()
            .into(),
    }
}

/// The report of `prod` with every read answered by `answer` and the DR cluster live
/// in `status`.
fn judged(answer: impl Fn(&Need) -> Answer, status: &str) -> objectives::ObjectivesReport {
    let project = load(".", "prod");
    let loaded = objectives::Loaded::load(&project);
    let (normal, activated) = loaded.pair(&project);
    let items = readiness::items(normal, activated);
    let answers: Vec<Answer> = items.iter().map(|i| answer(&i.need)).collect();
    let dr = cluster("shop-prod-dr", "us-east-1");
    let live = LiveState {
        observed: [(dr.observation_key(), json!({ "status": status }))]
            .into_iter()
            .collect(),
        objects: vec![dr, node_group("shop-prod-dr", "general", "us-east-1", 4)],
        ..LiveState::default()
    };
    let mut report = objectives::for_project_loaded(&project, &loaded, Default::default());
    readiness::apply(&mut report, normal, activated, &items, &answers, &live);
    report
}

fn everything_there(need: &Need) -> Answer {
    match need {
        Need::InstanceTypes { types, zones, .. } => Answer::Offered(
            types
                .iter()
                .flat_map(|t| zones.iter().map(move |z| (t.clone(), z.clone())))
                .collect(),
        ),
        _ => Answer::Present("exists".into()),
    }
}

fn readiness_check(r: &objectives::ObjectivesReport) -> &objectives::Check {
    r.checks
        .iter()
        .find(|c| c.name == CheckName::DrReadiness)
        .expect("a dr_readiness check")
}

#[test]
fn readiness_passes_when_every_prerequisite_is_there() {
    let r = judged(everything_there, "ACTIVE");
    let c = readiness_check(&r);
    assert_eq!(
        c.verdict,
        Verdict::Pass,
        "{}",
        objectives::text::render(&r, false)
    );
    assert_eq!(
        c.numbers,
        "failover to site dr: all 9 prerequisites in place"
    );
    assert!(r.readiness.iter().all(|f| f.verdict == Verdict::Pass));
    assert!(c.details.iter().any(
        |d| d.contains("node group shop-prod-dr/general in us-east-1")
            && d.contains("the activation runs 2 node(s) (max 4)")
    ));
}

#[test]
fn readiness_fails_naming_a_missing_role_the_fix_and_the_spec_location() {
    let r = judged(
        |need| match need {
            Need::IamRole { arn } if arn.ends_with("/shop-eks-node") => {
                Answer::Missing("GetRole: NoSuchEntity".into())
            }
            other => everything_there(other),
        },
        "ACTIVE",
    );
    let c = readiness_check(&r);
    assert_eq!(c.verdict, Verdict::Fail);
    assert_eq!(
        c.numbers,
        "failover to site dr: 1 of 9 prerequisites not ready"
    );
    let missing = r
        .readiness
        .iter()
        .find(|f| f.verdict == Verdict::Fail)
        .expect("a failing finding");
    assert_eq!(missing.what, "iam_role");
    assert!(missing
        .subject
        .starts_with("IAM role shop-eks-node (used by cluster.dr.node_group.general"));
    assert!(missing
        .fix
        .as_deref()
        .unwrap_or_default()
        .contains("aws iam create-role --role-name shop-eks-node"));
    let at = missing.source.as_ref().expect("a spec location");
    assert_eq!((at.file.as_str(), at.line), ("specs/clusters.hcl", 26));
}

#[test]
fn readiness_fails_on_a_disabled_key_an_unoffered_type_and_a_cluster_not_active() {
    let r = judged(
        |need| match need {
            Need::KmsKey { region, .. } if region == "us-east-1" => {
                Answer::Unusable("key 1234 is PendingDeletion".into())
            }
            Need::InstanceTypes { .. } => {
                Answer::Offered(vec![("m5.large".into(), "us-east-1b".into())])
            }
            other => everything_there(other),
        },
        "CREATING",
    );
    let failing: Vec<(String, Verdict)> = r
        .readiness
        .iter()
        .filter(|f| f.verdict != Verdict::Pass)
        .map(|f| (f.subject.clone(), f.verdict))
        .collect();
    assert_eq!(
        failing,
        vec![
            (
                "KMS key alias/shop-backups in us-east-1 (used by bucket.backups_dr)".to_string(),
                Verdict::Fail
            ),
            (
                "instance type m5.large in us-east-1 (used by cluster.dr.node_group.general)"
                    .to_string(),
                Verdict::Warn
            ),
            (
                "EKS cluster shop-prod-dr in us-east-1".to_string(),
                Verdict::Fail
            ),
        ]
    );
    let text = objectives::text::render(&r, false);
    assert!(
        text.contains("offered in us-east-1b but not in us-east-1a"),
        "{text}"
    );
    assert!(text.contains("status CREATING, not ACTIVE"), "{text}");
}

#[test]
fn a_lock_in_the_primary_region_is_a_readiness_warning_in_validate() {
    let mut project = load(".", "prod");
    if let Some(lock) = project.environment.lock.as_mut() {
        lock.region = "us-west-2".into();
    }
    let r = objectives::for_project(&project);
    let c = readiness_check(&r);
    assert_eq!(c.verdict, Verdict::Warn);
    let lock = r
        .readiness
        .iter()
        .find(|f| f.what == "lock")
        .expect("a lock finding");
    assert!(
        lock.detail
            .contains("the lock lives in the primary region (us-west-2)"),
        "{}",
        lock.detail
    );
    assert!(lock
        .fix
        .as_deref()
        .unwrap_or_default()
        .contains("environments/prod.hcl"));
}

/// A region that did not answer (here the DR region, us-east-1, IAM's too): what lies
/// there is "not read", a warning with basis `live_not_read`, never a breach — the plan
/// of a failover is not blocked by what could not be read.
#[test]
fn readiness_in_a_region_that_did_not_answer_warns_and_never_breaches() {
    use drplan_core::live::{ReachFailure, Unreachable};
    use drplan_core::objectives::Basis;
    let project = load(".", "prod");
    let loaded = objectives::Loaded::load(&project);
    let (normal, activated) = loaded.pair(&project);
    let items = readiness::items(normal, activated);
    let answers: Vec<Answer> = items
        .iter()
        .map(|i| match &i.need {
            Need::KmsKey { region, .. } if region == "us-west-2" => everything_there(&i.need),
            _ => Answer::NotRead("not tried: us-east-1 did not answer".into()),
        })
        .collect();
    let live = LiveState {
        unreachable: vec![Unreachable {
            site: Some("dr".into()),
            region: Some("us-east-1".into()),
            service: "eks".into(),
            cluster: None,
            cause: ReachFailure::Timeout,
            detail: "no answer".into(),
        }],
        ..LiveState::default()
    };
    let mut report = objectives::for_project_loaded(&project, &loaded, Default::default());
    readiness::apply(&mut report, normal, activated, &items, &answers, &live);
    let c = readiness_check(&report);
    assert_eq!(
        c.verdict,
        Verdict::Warn,
        "{}",
        objectives::text::render(&report, false)
    );
    assert!(report.readiness.iter().all(|f| f.verdict != Verdict::Fail));
    let cluster = report
        .readiness
        .iter()
        .find(|f| f.what == "cluster")
        .expect("the DR cluster's finding");
    assert_eq!(cluster.basis, Basis::LiveNotRead);
    assert!(
        cluster
            .detail
            .contains("not read: EKS in us-east-1 did not answer"),
        "{}",
        cluster.detail
    );
}
