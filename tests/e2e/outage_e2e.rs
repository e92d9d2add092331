//! Failing over when the primary region is really gone (issue 11): moto behind the
//! fault proxy, which refuses (or blackholes) every request signed for us-west-2,
//! and the primary cluster's API server stopped. What apply did is read back through
//! the SDK straight from moto and from the test API servers, never through drplan.

use crate::support::cli::{drplan, explain, stderr, stdout};
use crate::support::clusters::Clusters;
use crate::support::examples::load;
use crate::support::faultproxy::{FaultConfig, FaultProxy, Outage};
use crate::support::moto::MotoServer;
use drplan_core::model::Project;
use drplan_core::resource::Kind;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

const PRIMARY_REGION: &str = "us-west-2";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}\n{}", explain(out));
}

/// The CLI blocks this thread; `block_in_place` lets the proxy and the API servers
/// (tasks on this runtime) keep answering it.
fn run(moto: &MotoServer, root: &Path, args: &[&str]) -> Output {
    tokio::task::block_in_place(|| drplan(moto, root, args))
}

struct World {
    moto: MotoServer,
    proxy: FaultProxy,
    clusters: Clusters,
}

impl World {
    /// An empty moto with the stack's lock bucket, the proxy in front of it (the
    /// CLI's only AWS endpoint), and the two clusters' API servers (primary first).
    async fn start(root: &Path) -> World {
        let project = load(root, "prod");
        let stack = project.environment.stack.clone();
        let moto = MotoServer::start();
        crate::support::examples::seed_secrets(&moto).await;
        moto.use_site_accounts(&project).await;
        let lock = project
            .environment
            .lock
            .clone()
            .expect("the environment names a lock bucket");
        assert_ne!(
            lock.region, PRIMARY_REGION,
            "the lock must live outside the region the test loses"
        );
        let mut create = moto.s3(&lock.region).create_bucket().bucket(&lock.bucket);
        if lock.region != "us-east-1" {
            create = create.create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                        lock.region.as_str(),
                    ))
                    .build(),
            );
        }
        create.send().await.expect("create the lock bucket");
        let upstream: SocketAddr = moto
            .endpoint()
            .trim_start_matches("http://")
            .parse()
            .expect("moto on 127.0.0.1");
        let proxy = FaultProxy::start(upstream, FaultConfig::default())
            .await
            .expect("proxy");
        moto.add_cli_env(("AWS_ENDPOINT_URL".into(), proxy.url()));
        let clusters =
            Clusters::start(&[&format!("{stack}-primary"), &format!("{stack}-dr")]).await;
        moto.add_cli_env(clusters.env());
        World {
            moto,
            proxy,
            clusters,
        }
    }

    async fn lose_primary(&mut self, outage: Outage) {
        self.proxy.lose_region(PRIMARY_REGION, outage);
        self.clusters.servers[0].stop().await;
    }

    async fn primary_returns(&mut self) {
        self.proxy.restore_region(PRIMARY_REGION);
        self.clusters.servers[0]
            .restart()
            .await
            .expect("the primary API server listens again");
    }
}

/// Desired size of every DR node group, read from moto directly.
async fn dr_node_groups_at_serving_size(moto: &MotoServer, dr: &Project) {
    let groups: Vec<_> = dr
        .resources
        .iter()
        .filter(|r| r.kind == Kind::NodeGroup && r.address.as_str().starts_with("cluster.dr."))
        .collect();
    assert!(!groups.is_empty(), "the spec has DR node groups");
    for group in groups {
        let attr = |k: &str| {
            group
                .attrs
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let want = group.attrs.get("desired_size").and_then(Value::as_i64);
        assert!(
            want.unwrap_or(0) > 0,
            "{} is not scaled up by DR activation",
            group.address
        );
        let live = moto
            .eks(group.region.as_deref().unwrap_or_default())
            .describe_nodegroup()
            .cluster_name(attr("cluster_name"))
            .nodegroup_name(attr("name"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("DescribeNodegroup {}: {e}", group.address));
        let size = live
            .nodegroup()
            .and_then(|n| n.scaling_config())
            .and_then(|s| s.desired_size());
        assert_eq!(
            size.map(i64::from),
            want,
            "desired size of {}",
            group.address
        );
    }
}

/// The failover role of every record of the spec, as Route53 (moto) has it.
async fn records_match(moto: &MotoServer, project: &Project) {
    let live = crate::apply_e2e::live_records(moto).await;
    let mut flipped = 0;
    for record in project
        .resources
        .iter()
        .filter(|r| r.kind == Kind::DnsRecord)
    {
        let s = |k: &str| {
            record
                .attrs
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let key = format!("{}/{}/{}", s("name"), s("type"), s("set_identifier"));
        let want = record
            .attrs
            .get("failover")
            .and_then(Value::as_str)
            .map(str::to_string);
        assert_eq!(
            live.get(&key),
            Some(&want),
            "failover role of {} ({key})",
            record.address
        );
        if record.address.as_str().ends_with(".target.dr") && want.as_deref() == Some("PRIMARY") {
            flipped += 1;
        }
    }
    if project.env_name == "prod-dr" {
        assert!(flipped > 0, "no DR target is PRIMARY in prod-dr");
    }
}

/// Restore Jobs (and every other object of the DR cluster) are in its API server.
fn dr_cluster_holds_restore_jobs(clusters: &Clusters, dr: &Project) {
    let server = &clusters.servers[1];
    let mut jobs = 0;
    for object in dr.resources.iter().filter(|r| r.kind == Kind::K8sObject) {
        let s = |k: &str| {
            object
                .attrs
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        if s("cluster") != "cluster.dr" {
            continue;
        }
        let found = server.objects().into_iter().any(|o| {
            o["kind"] == s("kind").as_str()
                && o["metadata"]["name"] == s("name").as_str()
                && o["metadata"]["namespace"].as_str().unwrap_or("") == s("namespace")
        });
        assert!(
            found,
            "{} is not in the DR cluster's API server",
            object.address
        );
        if s("kind") == "Job" {
            jobs += 1;
        }
    }
    assert!(jobs > 0, "DR activation created no restore Job");
}

/// A failover plan as `plan --json` prints it, with the primary (and more) lost.
struct LostPlan(Value);

impl LostPlan {
    fn of(out: &Output) -> LostPlan {
        LostPlan(
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", explain(out))),
        )
    }

    /// `field[].key` of the plan, as strings (`unreachable`/`site`, `deferred`/`address`).
    fn strings(&self, field: &str, key: &str) -> Vec<&str> {
        self.0[field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v[key].as_str())
            .collect()
    }

    /// Addresses of the changes other than no-ops planned in one of `sites`.
    fn planned_in(&self, sites: &[&str]) -> Vec<&str> {
        self.0["resource_changes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| sites.iter().any(|s| c["site"] == *s))
            .filter(|c| c["change"]["actions"] != serde_json::json!(["no-op"]))
            .filter_map(|c| c["address"].as_str())
            .collect()
    }
}

async fn fail_over_with_the_primary_lost_and_back(example: &str) {
    let root = repo_root().join(example);
    let mut world = World::start(&root).await;
    let dr = load(&root, "prod-dr");
    let prod = load(&root, "prod");

    let out = run(
        &world.moto,
        &root,
        &["apply", "-e", "prod", "--auto-approve"],
    );
    assert_exit(&out, 0, "apply -e prod");

    world.lose_primary(Outage::Refuse).await;

    // Normal operation cannot be planned without its primary: nothing guesses.
    let out = run(
        &world.moto,
        &root,
        &["plan", "-e", "prod", "--detailed-exitcode"],
    );
    assert_exit(&out, 1, "plan -e prod with the primary lost");
    let text = explain(&out);
    assert!(text.contains("site primary did not answer"), "{text}");
    assert!(text.contains("connection"), "the reason is named: {text}");
    assert!(!text.contains("CRD"), "{text}");

    // drift does not call what it could not read missing.
    let out = run(&world.moto, &root, &["drift", "-e", "prod"]);
    assert_exit(&out, 1, "drift -e prod with the primary lost");
    let text = stdout(&out);
    assert!(text.contains("Not read:"), "{text}");
    assert!(
        !text.contains("Missing ("),
        "unread objects reported missing:\n{text}"
    );

    // The failover plans: DR-side and global changes, the primary's deferred.
    let out = run(
        &world.moto,
        &root,
        &["plan", "-e", "prod-dr", "--detailed-exitcode"],
    );
    assert_exit(&out, 2, "plan -e prod-dr with the primary lost");
    let text = stdout(&out);
    assert!(
        text.starts_with("Unreachable: site primary did not answer"),
        "{text}"
    );
    assert!(text.contains("# site dr (us-east-1)"), "{text}");
    assert!(text.contains("will be updated in place"), "{text}");
    assert!(text.contains("deferred, not read"), "{text}");
    assert!(
        text.contains("? cluster.primary (aws_eks_cluster) not read"),
        "{text}"
    );
    assert!(
        text.contains("Objectives not checked against live evidence from primary"),
        "{text}"
    );
    assert!(
        !text.contains("- backup."),
        "nothing in the lost cluster is destroyed:\n{text}"
    );
    let out = run(&world.moto, &root, &["plan", "-e", "prod-dr", "--json"]);
    let plan = LostPlan::of(&out);
    let lost = plan.strings("unreachable", "site");
    assert!(
        !lost.is_empty() && lost.iter().all(|s| *s == "primary"),
        "{:#}",
        plan.0["unreachable"]
    );
    let deferred = plan.strings("deferred", "address");
    assert!(deferred.contains(&"cluster.primary"), "{deferred:?}");
    let planned = plan.planned_in(&["primary"]);
    assert!(
        planned.is_empty(),
        "changes in the lost site were planned: {planned:?}"
    );

    // A saved failover plan records the loss; once the primary is back it is stale.
    let dir = tempfile::tempdir().expect("temp dir");
    let saved = dir.path().join("failover.plan").display().to_string();
    let out = run(
        &world.moto,
        &root,
        &["plan", "-e", "prod-dr", "--out", &saved],
    );
    assert_exit(&out, 0, "plan -e prod-dr --out");
    world.primary_returns().await;
    let out = run(&world.moto, &root, &["apply", &saved]);
    assert_exit(
        &out,
        1,
        "apply of a plan made while the primary was lost, after it returned",
    );
    assert!(
        stderr(&out).contains("it was made while these did not answer"),
        "{}",
        explain(&out)
    );
    world.lose_primary(Outage::Refuse).await;

    let out = run(&world.moto, &root, &["apply", &saved]);
    assert_exit(
        &out,
        0,
        "apply of the saved failover plan with the primary lost",
    );
    dr_node_groups_at_serving_size(&world.moto, &dr).await;
    dr_cluster_holds_restore_jobs(&world.clusters, &dr);
    records_match(&world.moto, &dr).await;
    let out = run(
        &world.moto,
        &root,
        &["plan", "-e", "prod-dr", "--detailed-exitcode"],
    );
    assert_exit(
        &out,
        0,
        "plan -e prod-dr after the failover, primary still lost",
    );
    assert!(
        stdout(&out).contains("No changes in what answered."),
        "{}",
        explain(&out)
    );

    // The primary returns: fail back, then nothing is left to do.
    world.primary_returns().await;
    let out = run(
        &world.moto,
        &root,
        &["apply", "-e", "prod", "--auto-approve"],
    );
    assert_exit(&out, 0, "apply -e prod (fail back)");
    records_match(&world.moto, &prod).await;
    let out = run(
        &world.moto,
        &root,
        &["plan", "-e", "prod", "--detailed-exitcode"],
    );
    assert_exit(&out, 0, "plan -e prod after failing back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_root_project_fails_over_with_its_primary_region_refused_and_back() {
    fail_over_with_the_primary_lost_and_back("").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_app_fails_over_with_its_primary_region_refused_and_back() {
    fail_over_with_the_primary_lost_and_back("examples/link-app").await;
}

/// A blackholed region answers nothing, ever: the plan must not wait for the SDK's
/// timeouts and retries (minutes), only for one bounded probe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blackholed_primary_costs_the_failover_plan_seconds_not_minutes() {
    let root = repo_root();
    let mut world = World::start(&root).await;
    let out = run(
        &world.moto,
        &root,
        &["apply", "-e", "prod", "--auto-approve"],
    );
    assert_exit(&out, 0, "apply -e prod");

    let started = Instant::now();
    let out = run(
        &world.moto,
        &root,
        &["plan", "-e", "prod-dr", "--detailed-exitcode"],
    );
    let healthy = started.elapsed();
    assert_exit(&out, 2, "plan -e prod-dr, healthy");

    // The default probe bound, not the test harness's generous one.
    let bound = drplan::reach::PROBE_TIMEOUT.as_secs_f64().to_string();
    world
        .moto
        .add_cli_env(("DRPLAN_PROBE_TIMEOUT".into(), bound));
    world.lose_primary(Outage::Blackhole).await;
    let started = Instant::now();
    let out = run(
        &world.moto,
        &root,
        &["plan", "-e", "prod-dr", "--detailed-exitcode"],
    );
    let lost = started.elapsed();
    assert_exit(&out, 2, "plan -e prod-dr, primary blackholed");
    let text = stdout(&out);
    assert!(text.contains("timed out"), "{text}");
    let extra = lost.saturating_sub(healthy);
    eprintln!(
        "failover plan: healthy {:.2}s, primary blackholed {:.2}s, extra {:.2}s",
        healthy.as_secs_f64(),
        lost.as_secs_f64(),
        extra.as_secs_f64()
    );
    assert!(
        extra < Duration::from_secs(12),
        "the blackholed region cost {extra:?}"
    );
}

/// The symptom of issue 11: a cluster that refuses connections was blamed on a
/// missing CRD. Only a 404 from discovery means a kind is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_cluster_is_not_reported_as_a_missing_crd() {
    let mut server = kube_testserver::TestServer::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    server
        .write_kubeconfig(&kubeconfig, "gone")
        .expect("kubeconfig");
    let client = drplan::k8s::client::from_kubeconfig(kubeconfig.to_str(), "gone")
        .await
        .expect("client");
    let kinds = drplan::k8s::kinds::Kinds::new(client);
    server.stop().await;
    let err = match kinds.resolve("apps/v1", "Deployment").await {
        Ok(_) => panic!("a stopped server served a kind"),
        Err(e) => e.to_string(),
    };
    assert!(!err.contains("CRD"), "{err}");
    assert!(err.contains("connection refused"), "{err}");

    // A kind the server really does not serve is still called that.
    server.restart().await.expect("restart");
    let err = match kinds.resolve("example.com/v1", "Widget").await {
        Ok(_) => panic!("an unknown kind was served"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("is its CRD installed?"), "{err}");
}

const VAULT_REGION: &str = "us-east-2";

/// A region lost with the primary may be the vault's (a wide outage, or the vault's
/// own): the failover must still plan and apply. What sits in the vault is deferred
/// and not read, never planned for creation or deletion, and the plan says which
/// sites it could not read; once both return nothing is left to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_app_fails_over_with_its_primary_and_vault_regions_lost() {
    let root = repo_root().join("examples/link-app");
    let mut world = World::start(&root).await;
    let dr = load(&root, "prod-dr");
    let out = run(
        &world.moto,
        &root,
        &["apply", "-e", "prod", "--auto-approve"],
    );
    assert_exit(&out, 0, "apply -e prod");

    world.lose_primary(Outage::Refuse).await;
    world.proxy.lose_region(VAULT_REGION, Outage::Refuse);

    let out = run(&world.moto, &root, &["plan", "-e", "prod-dr", "--json"]);
    assert_exit(&out, 0, "plan -e prod-dr --json, primary and vault lost");
    let plan = LostPlan::of(&out);
    let mut lost = plan.strings("unreachable", "site");
    lost.sort_unstable();
    lost.dedup();
    assert_eq!(lost, ["primary", "vault"], "{:#}", plan.0["unreachable"]);
    let deferred = plan.strings("deferred", "address");
    assert!(
        deferred.contains(&"bucket.postgres_vault"),
        "the vault bucket is deferred: {deferred:?}"
    );
    let planned = plan.planned_in(&["primary", "vault"]);
    assert!(
        planned.is_empty(),
        "changes planned in a lost site: {planned:?}"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let saved = dir.path().join("failover.plan").display().to_string();
    let out = run(
        &world.moto,
        &root,
        &[
            "plan",
            "-e",
            "prod-dr",
            "--detailed-exitcode",
            "--out",
            &saved,
        ],
    );
    assert_exit(&out, 2, "plan -e prod-dr --out, primary and vault lost");
    let text = stdout(&out);
    assert!(
        text.starts_with("Unreachable: sites primary, vault did not answer"),
        "{text}"
    );
    assert!(
        !text.contains("postgres_vault will be"),
        "the vault bucket is planned:\n{text}"
    );

    let out = run(&world.moto, &root, &["apply", &saved]);
    assert_exit(
        &out,
        0,
        "apply of the failover plan with primary and vault lost",
    );
    dr_node_groups_at_serving_size(&world.moto, &dr).await;
    records_match(&world.moto, &dr).await;
    let out = run(
        &world.moto,
        &root,
        &["plan", "-e", "prod-dr", "--detailed-exitcode"],
    );
    assert_exit(
        &out,
        0,
        "plan -e prod-dr after the failover, both still lost",
    );

    // Both return: what was deferred in the primary is planned now, nothing in the
    // vault (it was never out of step); failing back leaves nothing to do.
    world.primary_returns().await;
    world.proxy.restore_region(VAULT_REGION);
    let out = run(&world.moto, &root, &["plan", "-e", "prod-dr"]);
    assert_exit(&out, 0, "plan -e prod-dr once primary and vault are back");
    let text = stdout(&out);
    assert!(!text.contains("Unreachable"), "{text}");
    assert!(!text.contains("# site vault"), "{text}");
    let out = run(
        &world.moto,
        &root,
        &["apply", "-e", "prod", "--auto-approve"],
    );
    assert_exit(&out, 0, "apply -e prod (fail back)");
    let out = run(
        &world.moto,
        &root,
        &["plan", "-e", "prod", "--detailed-exitcode"],
    );
    assert_exit(&out, 0, "plan -e prod after failing back");
}
