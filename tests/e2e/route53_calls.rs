//! Issue 19: a plan's Route53 requests do not grow with the health checks of other
//! stacks in the account. drplan's own are recognised by the CallerReference they
//! were created with; only theirs get their tags read.

use crate::objectives_e2e::applied_root_project;
use crate::support::cli::{drplan, explain};
use crate::support::moto::MotoServer;
use crate::support::outofband::{self, CheckReferences};
use crate::support::planning;
use drplan_core::resource::Kind;
use std::path::Path;

/// `drplan -v plan -e prod`'s Route53 request count, and the plan's exit code.
fn route53_calls(moto: &MotoServer, root: &Path) -> (u64, Option<i32>) {
    let out = drplan(
        moto,
        root,
        &["-v", "plan", "-e", "prod", "--detailed-exitcode"],
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let calls = err
        .split(|c: char| c.is_whitespace() || c == '(' || c == ',')
        .find_map(|w| w.strip_prefix("route53="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no route53= count in -v output:\n{}", explain(&out)));
    (calls, out.status.code())
}

async fn foreign_health_checks(moto: &MotoServer, n: usize) {
    let r53 = moto.route53();
    for i in 0..n {
        let config = aws_sdk_route53::types::HealthCheckConfig::builder()
            .r#type(aws_sdk_route53::types::HealthCheckType::Https)
            .fully_qualified_domain_name(format!("svc-{i}.other.example.com"))
            .port(443)
            .resource_path("/health")
            .build()
            .expect("config");
        let created = r53
            .create_health_check()
            .caller_reference(if i % 2 == 0 {
                format!("terraform-{i}")
            } else {
                // Another drplan stack's.
                format!("drplan-0badf00d-{:032x}", i)
            })
            .health_check_config(config)
            .send()
            .await
            .expect("CreateHealthCheck");
        let id = created
            .health_check()
            .map(|h| h.id().to_string())
            .unwrap_or_default();
        r53.change_tags_for_resource()
            .resource_type(aws_sdk_route53::types::TagResourceType::Healthcheck)
            .resource_id(id)
            .add_tags(
                aws_sdk_route53::types::Tag::builder()
                    .key("drplan:stack")
                    .value("someone-else")
                    .build(),
            )
            .send()
            .await
            .expect("tag");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_stacks_health_checks_cost_the_plan_no_route53_requests() {
    let (dir, moto, _clusters) = applied_root_project().await;
    let root = dir.path();

    let (alone, code) = route53_calls(&moto, root);
    assert_eq!(code, Some(0), "in sync");
    // The floor for one zone and two untagged health checks: ListHostedZones, the
    // zone's tags, its one page of record sets, one ListHealthChecks page. The
    // stack's own checks are known by their CallerReference: no tag read (it was 5).
    assert_eq!(alone, 4, "Route53 requests of a plan of the root project");
    foreign_health_checks(&moto, 300).await;
    let (crowded, code) = route53_calls(&moto, root);
    assert_eq!(
        code,
        Some(0),
        "still in sync: no foreign check is taken for ours"
    );
    eprintln!("route53 requests per plan: alone {alone}, with 300 foreign checks {crowded}");
    // 300 checks fit one ListHealthChecks page (1,000): the same requests as alone.
    // Reading their tags would have cost 30 more (ten per ListTagsForResources).
    assert_eq!(
        crowded, alone,
        "Route53 requests alone {alone}, with 300 foreign checks {crowded}"
    );
}

/// Health checks made by drplan before its CallerReference named the stack and the
/// address are marked by their tags alone: the plan still finds them as this stack's
/// (their tags are read), and finds nothing to change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_checks_made_by_an_older_drplan_are_still_found_by_their_tags() {
    let moto = MotoServer::start();
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let project = drplan_core::spec::load_project(&root, "prod")
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    let aws: Vec<_> = project
        .resources
        .iter()
        .filter(|r| r.kind != Kind::K8sObject)
        .cloned()
        .collect();
    let stack = &project.environment.stack;
    assert!(
        aws.iter().any(|r| r.kind == Kind::HealthCheck),
        "the root project has health checks"
    );
    outofband::create_all_with(&moto, stack, &aws, CheckReferences::OlderDrplan)
        .await
        .unwrap_or_else(|e| panic!("creating the live objects: {e}"));
    let plan = planning::plan_against(&moto, stack, &aws).await;
    assert_eq!(planning::pending(&plan), Vec::<String>::new());
}
