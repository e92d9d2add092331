//! Runs that stop half-way must converge in one rerun (issue 21, "Runs that never
//! converge"): a kill between each create and its marks, a tagging call refused once,
//! a bucket left unversioned, create answers lost on the way back, and a stack that
//! already holds two objects claiming one address.

use crate::apply_e2e::{desired_counts, empty_world, live_counts, load, repo_root};
use crate::apply_moto::{
    assert_full_plan_converged, desired_resources, full_plan, options, sdk_config, start_moto,
    STACK,
};
use crate::support::cli::{drplan, explain, stderr, stdout};
use crate::support::faultproxy::{FaultConfig, FaultProxy, Intercept};
use crate::support::moto::MotoServer;
use crate::support::planning::{pending, plan_against};
use assert_cmd::Command;
use drplan::apply::apply;
use drplan::apply::clients::{Clients, ClientsFromConfig};
use drplan_core::marks;
use drplan_core::plan::Action;
use drplan_core::resource::Kind;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}\n{}", explain(out));
}

/// `drplan apply -e prod --auto-approve` that aborts at `failpoint`, as a kill would.
fn apply_killed_at(moto: &MotoServer, root: &Path, failpoint: &str) -> Output {
    Command::cargo_bin("drplan")
        .expect("drplan binary")
        .envs(moto.env_for_cli())
        .env("NO_COLOR", "1")
        .env("DRPLAN_FAILPOINT", failpoint)
        .arg("-C")
        .arg(root)
        .args(["apply", "-e", "prod", "--auto-approve"])
        .output()
        .expect("run drplan")
}

/// Kills the first apply of the root project right after it created the first object
/// of `kind` (before marking it, where that is a second call); then one apply and
/// one plan must find nothing left to do, with every object made exactly once.
async fn a_kill_after_creating(kind: Kind) {
    let root = repo_root();
    let project = load(&root, "prod");
    let target = project
        .resources
        .iter()
        .find(|r| r.kind == kind)
        .expect("the project has one");
    let (moto, _clusters) = empty_world(&root).await;

    let failpoint = format!("{}:created", target.address);
    let out = apply_killed_at(&moto, &root, &failpoint);
    assert_eq!(
        out.status.code(),
        None,
        "the apply must die at {failpoint}\n{}",
        explain(&out)
    );
    assert!(stderr(&out).contains("failpoint"), "{}", explain(&out));

    // No `unlock`: the killed apply ran on this machine, so the rerun sees its
    // process is gone and takes the lock over at once (its lease has not lapsed).
    let out = drplan(&moto, &root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, &format!("the rerun after a kill at {failpoint}"));
    assert!(
        stderr(&out).contains("is no longer running (killed or crashed)"),
        "the rerun says whose lock it took over\n{}",
        explain(&out)
    );
    let out = drplan(&moto, &root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(
        &out,
        0,
        &format!("plan after the rerun (kill at {failpoint})"),
    );
    assert_eq!(
        live_counts(&moto, &project).await,
        desired_counts(&project),
        "objects by kind (kill at {failpoint})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_between_creating_a_zone_and_marking_it_converges_in_one_rerun() {
    a_kill_after_creating(Kind::DnsZone).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_between_creating_a_bucket_and_marking_it_converges_in_one_rerun() {
    a_kill_after_creating(Kind::Bucket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_between_creating_a_health_check_and_marking_it_converges_in_one_rerun() {
    a_kill_after_creating(Kind::HealthCheck).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_right_after_creating_a_vpc_converges_in_one_rerun() {
    a_kill_after_creating(Kind::Vpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_right_after_creating_a_subnet_converges_in_one_rerun() {
    a_kill_after_creating(Kind::Subnet).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_right_after_creating_a_cluster_converges_in_one_rerun() {
    a_kill_after_creating(Kind::EksCluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_right_after_creating_a_node_group_converges_in_one_rerun() {
    a_kill_after_creating(Kind::NodeGroup).await;
}

const S3_ACCESS_DENIED: &str =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>not allowed to tag</Message><RequestId>REFUSED</RequestId></Error>";
const ROUTE53_ACCESS_DENIED: &str = "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed to tag</Message></Error><RequestId>REFUSED</RequestId></ErrorResponse>";

/// A first apply without the permission to tag buckets and zones (the tagging calls
/// refused once): the objects exist unmarked. With the permission back, the next
/// plan shows them as adoptions and one apply converges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tagging_call_refused_once_does_not_wedge_the_stack() {
    let root = repo_root();
    let project = load(&root, "prod");
    let (moto, _clusters) = empty_world(&root).await;
    let upstream = moto
        .endpoint()
        .trim_start_matches("http://")
        .parse()
        .expect("moto address");
    let proxy = FaultProxy::start(upstream, FaultConfig::default())
        .await
        .expect("proxy");
    proxy.intercept(|x, _| {
        let bucket_tagging =
            x.service == "s3" && x.method == "PUT" && x.target.contains("?tagging");
        let zone_tagging = x.service == "route53" && x.path().contains("/tags/hostedzone/");
        match (bucket_tagging, zone_tagging) {
            (true, _) => Some(Intercept::Refuse {
                status: 403,
                content_type: "application/xml",
                body: S3_ACCESS_DENIED.into(),
            }),
            (_, true) => Some(Intercept::Refuse {
                status: 403,
                content_type: "text/xml",
                body: ROUTE53_ACCESS_DENIED.into(),
            }),
            _ => None,
        }
    });
    let through_proxy = |args: &[&str]| {
        Command::cargo_bin("drplan")
            .expect("drplan binary")
            .envs(moto.env_for_cli())
            .env("AWS_ENDPOINT_URL", proxy.url())
            .env("NO_COLOR", "1")
            .arg("-C")
            .arg(&root)
            .args(args)
            .output()
            .expect("run drplan")
    };
    let out = through_proxy(&["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 1, "apply without the tagging permission");
    assert!(stderr(&out).contains("AccessDenied"), "{}", explain(&out));
    assert!(
        proxy.counters.refused.load(Ordering::SeqCst) > 0,
        "a tagging call was refused"
    );

    // Both buckets were created (a bucket's create no longer waits for its replication
    // destination: its replication is a step of its own) and left unversioned, which
    // the live evidence rightly calls a cross-region-copy breach until apply repairs it.
    let out = drplan(
        &moto,
        &root,
        &["plan", "-e", "prod", "--allow-objective-breach"],
    );
    assert_exit(&out, 0, "plan once tagging is allowed again");
    let plan_text = stdout(&out);
    assert!(
        !plan_text.contains("not managed by this stack")
            && !stderr(&out).contains("not managed by this stack"),
        "{}",
        explain(&out)
    );
    assert!(
        plan_text.contains("was created by an interrupted apply of this stack"),
        "{}",
        explain(&out)
    );

    let out = drplan(&moto, &root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply once tagging is allowed again");
    let out = drplan(&moto, &root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan after the apply");
    assert_eq!(live_counts(&moto, &project).await, desired_counts(&project));
}

/// An interrupted create left the bucket marked but unversioned: the update must turn
/// versioning on before it sets replication, which S3 refuses on an unversioned bucket.
#[tokio::test]
async fn a_marked_bucket_left_unversioned_gets_versioning_before_replication() {
    let moto = MotoServer::start();
    let clients = ClientsFromConfig::new(sdk_config(&moto.endpoint()).await);
    let buckets: Vec<_> = desired_resources()
        .into_iter()
        .filter(|r| r.kind == Kind::Bucket)
        .collect();
    let plan = full_plan();
    let dr_only = drplan_core::plan::Plan {
        changes: plan
            .changes
            .iter()
            .filter(|c| c.address.as_str() == "bucket.backups_dr")
            .cloned()
            .collect(),
        ..plan.clone()
    };
    let report = apply(&dr_only, &clients, &options())
        .await
        .expect("plan accepted");
    assert!(report.succeeded(), "{}", report.render_text());
    // What a run killed right after tagging leaves: the bucket and its marks, nothing else.
    let s3 = clients.s3(crate::apply_moto::PRIMARY);
    s3.create_bucket()
        .bucket("lanka-backups")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    crate::apply_moto::PRIMARY,
                ))
                .build(),
        )
        .send()
        .await
        .expect("CreateBucket");
    let tags = [
        (marks::STACK_KEY, STACK),
        (marks::ADDRESS_KEY, "bucket.backups"),
    ]
    .into_iter()
    .map(|(k, v)| {
        aws_sdk_s3::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .expect("tag")
    })
    .collect();
    s3.put_bucket_tagging()
        .bucket("lanka-backups")
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .set_tag_set(Some(tags))
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect("PutBucketTagging");

    let plan = plan_against(&moto, STACK, &buckets).await;
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    assert_eq!(pending(&plan), ["Update bucket.backups"]);
    let report = apply(&plan, &clients, &options())
        .await
        .expect("plan accepted");
    assert!(report.succeeded(), "{}", report.render_text());
    let again = plan_against(&moto, STACK, &buckets).await;
    assert!(pending(&again).is_empty(), "{:?}", pending(&again));
}

/// Answers lost after the create was made: the retry must find the object, not make
/// a second one. The first answer of every create is dropped.
#[tokio::test]
async fn lost_create_answers_create_nothing_twice() {
    let (_moto, moto_addr) = start_moto();
    let proxy = FaultProxy::start(moto_addr, FaultConfig::default())
        .await
        .expect("proxy");
    let seen: Arc<std::sync::Mutex<std::collections::BTreeSet<&'static str>>> = Arc::default();
    let creates = Arc::new(AtomicU32::new(0));
    {
        let (seen, creates) = (seen.clone(), creates.clone());
        proxy.intercept(move |x, body| {
            let body = String::from_utf8_lossy(body);
            let op = match (x.service.as_str(), x.method.as_str(), x.path()) {
                ("ec2", _, _) if body.contains("Action=CreateVpc&") => "CreateVpc",
                ("ec2", _, _) if body.contains("Action=CreateSubnet&") => "CreateSubnet",
                ("route53", "POST", "/2013-04-01/hostedzone") => "CreateHostedZone",
                ("route53", "POST", "/2013-04-01/healthcheck") => "CreateHealthCheck",
                ("eks", "POST", "/clusters") => "CreateCluster",
                ("eks", "POST", p) if p.ends_with("/node-groups") => "CreateNodegroup",
                ("s3", "PUT", p)
                    if !x.target.contains('?') && p.trim_matches('/').split('/').count() == 1 =>
                {
                    "CreateBucket"
                }
                _ => return None,
            };
            creates.fetch_add(1, Ordering::SeqCst);
            let first = seen.lock().map(|mut s| s.insert(op)).unwrap_or(false);
            first.then_some(Intercept::DropAnswer)
        });
    }
    let clients = ClientsFromConfig::new(sdk_config(&proxy.url()).await);
    let report = apply(&full_plan(), &clients, &options())
        .await
        .expect("plan accepted");
    assert!(report.succeeded(), "{}", report.render_text());
    let dropped = proxy.counters.answers_dropped.load(Ordering::SeqCst);
    let ops = seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(ops.len(), 7, "every create lost its first answer: {ops:?}");
    assert_eq!(dropped, 7);
    eprintln!(
        "{dropped} create answers dropped, {} create requests sent",
        creates.load(Ordering::SeqCst)
    );
    let direct = ClientsFromConfig::new(sdk_config(&format!("http://{moto_addr}")).await);
    assert_full_plan_converged(&direct).await;
}

/// A stack that already holds a second VPC marked with the same address (left by a
/// create whose answer was lost, before creates looked before retrying): the plan
/// deletes the one nothing uses, and one apply converges.
#[tokio::test]
async fn a_second_vpc_claiming_an_address_is_deleted_by_apply() {
    let moto = MotoServer::start();
    let clients = ClientsFromConfig::new(sdk_config(&moto.endpoint()).await);
    let desired: Vec<_> = desired_resources()
        .into_iter()
        .filter(|r| matches!(r.kind, Kind::Vpc | Kind::Subnet))
        .collect();
    let first = plan_against(&moto, STACK, &desired).await;
    let report = apply(&first, &clients, &options())
        .await
        .expect("plan accepted");
    assert!(report.succeeded(), "{}", report.render_text());

    let ec2 = clients.ec2(crate::apply_moto::PRIMARY);
    let marks_of = |address: &str| {
        aws_sdk_ec2::types::TagSpecification::builder()
            .resource_type(aws_sdk_ec2::types::ResourceType::Vpc)
            .tags(
                aws_sdk_ec2::types::Tag::builder()
                    .key(marks::STACK_KEY)
                    .value(STACK)
                    .build(),
            )
            .tags(
                aws_sdk_ec2::types::Tag::builder()
                    .key(marks::ADDRESS_KEY)
                    .value(address)
                    .build(),
            )
            .tags(
                aws_sdk_ec2::types::Tag::builder()
                    .key("team")
                    .value("platform")
                    .build(),
            )
            .build()
    };
    let extra = ec2
        .create_vpc()
        .cidr_block("10.20.0.0/16")
        .tag_specifications(marks_of("network.main"))
        .send()
        .await
        .expect("CreateVpc");
    let extra_id = extra
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_string();

    let plan = plan_against(&moto, STACK, &desired).await;
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    assert_eq!(pending(&plan), [format!("Delete network.main#{extra_id}")]);
    let delete = plan
        .changes
        .iter()
        .find(|c| c.action == Action::Delete)
        .expect("delete");
    assert_eq!(delete.live_id.as_deref(), Some(extra_id.as_str()));
    let report = apply(&plan, &clients, &options())
        .await
        .expect("plan accepted");
    assert!(report.succeeded(), "{}", report.render_text());
    let again = plan_against(&moto, STACK, &desired).await;
    assert!(
        again.errors.is_empty() && pending(&again).is_empty(),
        "{:?} {:?}",
        again.errors,
        pending(&again)
    );
    let vpcs = ec2
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name(format!("tag:{}", marks::STACK_KEY))
                .values(STACK)
                .build(),
        )
        .send()
        .await
        .expect("DescribeVpcs");
    assert_eq!(vpcs.vpcs().len(), 1);
    assert_ne!(
        vpcs.vpcs()[0].vpc_id(),
        Some(extra_id.as_str()),
        "the VPC the subnets are in is kept"
    );
}
