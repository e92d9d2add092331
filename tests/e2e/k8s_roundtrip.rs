//! Kubernetes objects end to end against kube-testserver: a project loaded from HCL,
//! its objects lowered, applied by server-side apply, read back, and diffed.

use crate::support::files::copy_dir;
use drplan::k8s::apply::{self, ApplyError};
use drplan::k8s::client;
use drplan::k8s::kinds::Kinds;
use drplan::k8s::live::{read_cluster, ClusterRead, ClusterRef};
use drplan_core::address::Address;
use drplan_core::kubernetes;
use drplan_core::live::LiveState;
use drplan_core::plan::diff::{diff, DiffContext};
use drplan_core::plan::{Action, Plan};
use drplan_core::resource::Resource;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube_testserver::{Options, TestServer};
use serde_json::{json, Map, Value};
use std::path::Path;

const STACK: &str = "lanka-platform";
const SECRET_PLAIN: &str = "correct-horse-battery";

/// Extra objects beside the fixture's own Namespace manifest: a ConfigMap to edit
/// out of band and a Secret whose value must never show.
const APP_YAML: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: api-config
  namespace: lanka-platform
data:
  environment: "${var.environment}"
  log_level: info
---
apiVersion: v1
kind: Secret
metadata:
  name: api-credentials
  namespace: lanka-platform
type: Opaque
stringData:
  password: correct-horse-battery
"#;

/// The valid fixture project under DR activation (`prod-dr`): its `kubernetes` block
/// targets the DR cluster, and the neo4j backup policy runs there with a restore Job.
fn project() -> (tempfile::TempDir, Vec<Resource>) {
    let (dir, _, desired) = loaded_project();
    (dir, desired)
}

fn loaded_project() -> (
    tempfile::TempDir,
    drplan_core::model::Project,
    Vec<Resource>,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid"),
        dir.path(),
    );
    std::fs::write(dir.path().join("k8s/app.yaml"), APP_YAML).expect("write manifest");
    let storage = dir.path().join("specs/storage.hcl");
    let text = std::fs::read_to_string(&storage).expect("read storage.hcl");
    let text = text.replace(
        r#"manifests  = ["k8s/namespace.yaml"]"#,
        r#"manifests  = ["k8s/namespace.yaml", "k8s/app.yaml"]"#,
    );
    std::fs::write(&storage, text).expect("write storage.hcl");

    let loaded = match drplan_core::spec::load_project(dir.path(), "prod-dr") {
        Ok(p) => p,
        Err(d) => panic!("{}", d.render(false, 100)),
    };
    let desired = match kubernetes::lower(
        &loaded.topology,
        &loaded.environment,
        &drplan_core::spec::files::Sources::new(dir.path()),
        &Map::new(),
    ) {
        Ok(r) => r,
        Err(e) => panic!("{e:?}"),
    };
    (dir, loaded, desired)
}

struct Cluster {
    server: TestServer,
    kinds: Kinds,
    _kubeconfig: tempfile::TempDir,
}

/// A cluster whose Jobs complete and Deployments roll out at once (apply waits for Jobs).
async fn cluster() -> Cluster {
    cluster_with(Options {
        simulate_rollouts: true,
        ..Options::default()
    })
    .await
}

async fn cluster_with(options: Options) -> Cluster {
    let server = TestServer::start_with(options).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    server
        .write_kubeconfig(&path, "lanka-dr")
        .expect("kubeconfig");
    let client = client::from_kubeconfig(path.to_str(), "lanka-dr")
        .await
        .expect("client from kubeconfig");
    Cluster {
        server,
        kinds: Kinds::new(client),
        _kubeconfig: dir,
    }
}

fn dr() -> ClusterRef {
    ClusterRef {
        address: Address::new("cluster.dr"),
        region: Some("us-east-1".into()),
    }
}

/// Applies in dependency order: each object once everything it depends on (among
/// these) is applied, as the executor does.
async fn apply_all(kinds: &Kinds, desired: &[Resource]) {
    let mut done: Vec<&Address> = Vec::new();
    while done.len() < desired.len() {
        let ready: Vec<&Resource> = desired
            .iter()
            .filter(|r| !done.contains(&&r.address))
            .filter(|r| {
                r.depends_on
                    .iter()
                    .all(|d| done.contains(&d) || !desired.iter().any(|o| &o.address == d))
            })
            .collect();
        assert!(!ready.is_empty(), "dependency cycle");
        for r in ready {
            apply::apply(kinds, r)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            done.push(&r.address);
        }
    }
}

async fn read(kinds: &Kinds, desired: &[Resource]) -> ClusterRead {
    let read = read_cluster(kinds, &dr(), STACK, desired).await;
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    read
}

fn plan(desired: &[Resource], read: ClusterRead) -> Plan {
    let live = LiveState {
        objects: read.objects,
        api_calls: read.api_calls,
        read_errors: read.errors,
        ..LiveState::default()
    };
    let ctx = DiffContext {
        stack: STACK.into(),
        environment: "prod-dr".into(),
        spec_digest: String::new(),
        allow_destroy: vec![],
        activated_site: None,
        imports: vec![],
        replace: Vec::new(),
        removed: Vec::new(),
        site_regions: Default::default(),
    };
    diff(desired, &live, &ctx)
}

fn change<'a>(plan: &'a Plan, address: &str) -> &'a drplan_core::plan::ResourceChange {
    plan.changes
        .iter()
        .find(|c| c.address.as_str() == address)
        .unwrap_or_else(|| panic!("no change for {address}"))
}

fn addresses(desired: &[Resource]) -> Vec<&str> {
    desired.iter().map(|r| r.address.as_str()).collect()
}

#[tokio::test]
async fn applied_objects_read_back_as_a_no_op_plan() {
    let (_project, desired) = project();
    assert_eq!(
        addresses(&desired),
        vec![
            "kubernetes.base.Namespace.lanka-platform",
            "kubernetes.base.ConfigMap.lanka-platform.api-config",
            "kubernetes.base.Secret.lanka-platform.api-credentials",
            // The restore Job first: DR's backup CronJobs start only once it completed.
            "backup.neo4j.placement.dr.job.restore",
            "backup.neo4j.placement.dr.cronjob.full",
            "backup.neo4j.placement.dr.cronjob.incremental",
        ]
    );
    let c = cluster().await;

    // Before apply: everything is to be created, found by one list per kind.
    let before = read(&c.kinds, &desired).await;
    assert!(before.objects.is_empty());
    // 5 kinds (Namespace, ConfigMap, Secret, CronJob, Job): a discovery request and a
    // list each, then a get per desired object the lists did not return.
    assert_eq!(before.api_calls, 5 + 5 + 6);
    let p = plan(&desired, before);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert!(
        p.changes.iter().all(|ch| ch.action == Action::Create),
        "{:?}",
        p.changes
    );

    apply_all(&c.kinds, &desired).await;
    let stored = c
        .server
        .object("v1", "configmaps", Some("lanka-platform"), "api-config")
        .expect("stored");
    assert_eq!(stored["metadata"]["labels"]["drplan.io/stack"], STACK);
    assert_eq!(
        stored["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "drplan"
    );
    assert_eq!(
        stored["metadata"]["annotations"]["drplan.io/address"],
        "kubernetes.base.ConfigMap.lanka-platform.api-config"
    );
    assert_eq!(stored["data"]["environment"], "prod");

    c.server.clear_requests();
    let after = read(&c.kinds, &desired).await;
    assert_eq!(after.objects.len(), desired.len());
    // Discovery is remembered, and every object came back in the lists.
    assert_eq!(after.api_calls, 5);
    for r in &desired {
        let live = after
            .objects
            .iter()
            .find(|o| o.identity() == r.identity())
            .unwrap_or_else(|| panic!("{} not read back", r.address));
        assert_eq!(live.address.as_ref(), Some(&r.address));
        assert_eq!(live.attrs, r.attrs, "{}", r.address);
    }
    // Everything was found by the lists: no per-object gets.
    let gets = c
        .server
        .requests()
        .iter()
        .filter(|q| q.method == "GET" && q.path.contains("/namespaces/"))
        .count();
    assert_eq!(gets, 0, "{:?}", c.server.requests());
    let p = plan(&desired, after);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert!(
        !p.has_changes(),
        "{:?}",
        p.changes
            .iter()
            .filter(|ch| ch.action != Action::NoOp)
            .collect::<Vec<_>>()
    );

    // Applying again changes nothing and still converges.
    apply_all(&c.kinds, &desired).await;
    assert!(!plan(&desired, read(&c.kinds, &desired).await).has_changes());
}

#[tokio::test]
async fn an_out_of_band_edit_is_an_attribute_difference() {
    let (_project, desired) = project();
    let c = cluster().await;
    apply_all(&c.kinds, &desired).await;

    // Someone edits the ConfigMap with kubectl: a managed value changes, and an
    // unmanaged label appears.
    let cms: Api<ConfigMap> = Api::namespaced(c.kinds.client().clone(), "lanka-platform");
    let edit =
        json!({"metadata": {"labels": {"edited-by": "oncall"}}, "data": {"log_level": "debug"}});
    cms.patch("api-config", &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .expect("edit");

    let p = plan(&desired, read(&c.kinds, &desired).await);
    let ch = change(&p, "kubernetes.base.ConfigMap.lanka-platform.api-config");
    assert_eq!(ch.action, Action::Update);
    let before = ch.before.as_ref().expect("before");
    assert_eq!(before["manifest"]["data"]["log_level"], "debug");
    // Only what the spec manages is compared.
    assert!(before["manifest"]["metadata"]["labels"]
        .get("edited-by")
        .is_none());
    assert_eq!(
        p.changes
            .iter()
            .filter(|ch| ch.action != Action::NoOp)
            .count(),
        1
    );

    // Applying the plan's object puts the managed value back.
    let cm = desired
        .iter()
        .find(|r| r.address.as_str() == "kubernetes.base.ConfigMap.lanka-platform.api-config")
        .expect("cm");
    apply::apply(&c.kinds, cm).await.expect("re-apply");
    assert!(!plan(&desired, read(&c.kinds, &desired).await).has_changes());
}

#[tokio::test]
async fn an_extra_labelled_object_is_an_orphan_and_deleting_it_converges() {
    let (_project, desired) = project();
    let c = cluster().await;
    apply_all(&c.kinds, &desired).await;

    let cms: Api<ConfigMap> = Api::namespaced(c.kinds.client().clone(), "lanka-platform");
    let old: ConfigMap = serde_json::from_value(json!({
        "metadata": {
            "name": "old-config",
            "labels": {"app.kubernetes.io/managed-by": "drplan", "drplan.io/stack": STACK},
            "annotations": {"drplan.io/address": "kubernetes.base.ConfigMap.lanka-platform.old-config"},
        },
        "data": {"k": "v"},
    }))
    .expect("configmap");
    cms.create(&PostParams::default(), &old)
        .await
        .expect("create orphan");

    let read = read(&c.kinds, &desired).await;
    let orphan = read
        .objects
        .iter()
        .find(|o| o.id == "v1/ConfigMap/lanka-platform/old-config")
        .expect("orphan read");
    assert!(orphan.is_owned_by(STACK));
    assert_eq!(
        orphan.attrs["manifest"],
        json!({"metadata": {"name": "old-config", "namespace": "lanka-platform"}, "data": {"k": "v"}, "apiVersion": "v1", "kind": "ConfigMap"})
    );
    let p = plan(&desired, read);
    let ch = change(&p, "kubernetes.base.ConfigMap.lanka-platform.old-config");
    assert_eq!(ch.action, Action::Delete);
    assert_eq!(ch.site.as_deref(), Some("dr"));

    let attrs = ch.before.clone().expect("before");
    apply::delete(&c.kinds, ch.address.as_str(), &attrs)
        .await
        .expect("delete");
    assert!(c
        .server
        .object("v1", "configmaps", Some("lanka-platform"), "old-config")
        .is_none());
    apply::delete(&c.kinds, ch.address.as_str(), &attrs)
        .await
        .expect("deleting again is success");
    assert!(!plan(
        &desired,
        read_cluster(&c.kinds, &dr(), STACK, &desired).await
    )
    .has_changes());
}

#[tokio::test]
async fn an_unmarked_object_with_a_desired_name_is_found_and_left_alone() {
    let (_project, desired) = project();
    let c = cluster().await;
    let namespace = desired
        .iter()
        .find(|r| r.address.as_str() == "kubernetes.base.Namespace.lanka-platform")
        .expect("ns");
    apply::apply(&c.kinds, namespace).await.expect("namespace");
    let cms: Api<ConfigMap> = Api::namespaced(c.kinds.client().clone(), "lanka-platform");
    let theirs: ConfigMap = serde_json::from_value(
        json!({"metadata": {"name": "api-config"}, "data": {"owner": "someone else"}}),
    )
    .expect("cm");
    cms.create(&PostParams::default(), &theirs)
        .await
        .expect("create collision");

    let read = read(&c.kinds, &desired).await;
    let found = read
        .objects
        .iter()
        .find(|o| o.id == "v1/ConfigMap/lanka-platform/api-config")
        .expect("found by get");
    assert_eq!(
        (found.stack.as_deref(), found.address.as_ref()),
        (None, None)
    );
    let p = plan(&desired, read);
    assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
    assert!(
        p.errors[0].message.contains("not managed by this stack"),
        "{}",
        p.errors[0].message
    );
}

#[tokio::test]
async fn secret_values_never_show_in_plans_or_errors() {
    let (_project, desired) = project();
    let c = cluster().await;
    let secret = desired
        .iter()
        .find(|r| r.attrs["kind"] == "Secret")
        .expect("secret")
        .clone();

    // The namespace does not exist yet, so the server refuses.
    let err: ApplyError = apply::apply(&c.kinds, &secret)
        .await
        .expect_err("no namespace yet");
    let encoded = secret.attrs["manifest"]["data"]["password"]
        .as_str()
        .expect("encoded")
        .to_string();
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(
            !shown.contains(SECRET_PLAIN) && !shown.contains(&encoded),
            "{shown}"
        );
    }
    assert!(
        err.to_string()
            .contains("Secret lanka-platform/api-credentials"),
        "{err}"
    );

    apply_all(&c.kinds, &desired).await;
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(c.kinds.client().clone(), "lanka-platform");
    let rotate = json!({"data": {"password": "bmV3LXBhc3N3b3Jk"}});
    secrets
        .patch(
            "api-credentials",
            &PatchParams::default(),
            &Patch::Merge(&rotate),
        )
        .await
        .expect("rotate");
    let p = plan(&desired, read(&c.kinds, &desired).await);
    let ch = change(&p, "kubernetes.base.Secret.lanka-platform.api-credentials");
    assert_eq!(ch.action, Action::Update);
    assert_eq!(ch.sensitive_changed, vec!["manifest.data"]);
    let shown = serde_json::to_string(&p).expect("plan json");
    assert!(
        !shown.contains(SECRET_PLAIN)
            && !shown.contains(&encoded)
            && !shown.contains("bmV3LXBhc3N3b3Jk"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_kind_the_cluster_does_not_serve_is_a_read_error_not_a_panic() {
    let (_project, mut desired) = project();
    let mut monitor = desired[1].clone();
    monitor.address = Address::new("kubernetes.base.ServiceMonitor.lanka-platform.api");
    monitor.attrs.insert(
        "api_version".into(),
        Value::from("monitoring.coreos.com/v1"),
    );
    monitor
        .attrs
        .insert("kind".into(), Value::from("ServiceMonitor"));
    desired.push(monitor);
    let c = cluster().await;
    let read = read_cluster(&c.kinds, &dr(), STACK, &desired).await;
    assert_eq!(read.errors.len(), 1, "{:?}", read.errors);
    assert!(
        read.errors[0]
            .to_string()
            .starts_with("cluster.dr: cannot list ServiceMonitor (monitoring.coreos.com/v1)"),
        "{}",
        read.errors[0]
    );
}

#[tokio::test]
async fn a_missing_kubeconfig_context_is_a_clear_error() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    server
        .write_kubeconfig(&path, "lanka-dr")
        .expect("kubeconfig");
    let Err(err) = client::from_kubeconfig(path.to_str(), "lanka-primary").await else {
        panic!("a client for a context that does not exist");
    };
    assert_eq!(
        err.to_string(),
        format!(
            "kubeconfig context `lanka-primary`: not found in {} (contexts there: lanka-dr)",
            path.display()
        )
    );
}

#[tokio::test]
async fn clusters_are_reached_as_the_environment_says() {
    let (_project, mut loaded, desired) = loaded_project();
    let server = TestServer::start_with(Options {
        simulate_rollouts: true,
        ..Options::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    server
        .write_kubeconfig(&path, "lanka-dr")
        .expect("kubeconfig");
    loaded.environment.cluster_access.insert(
        "dr".into(),
        drplan_core::model::ClusterAccess::Kubeconfig {
            path: path.to_str().map(str::to_string),
            context: "lanka-dr".into(),
        },
    );
    let connected =
        match drplan::k8s::clusters::connect(&loaded.topology, &loaded.environment, "dr", None)
            .await
        {
            Ok(drplan::k8s::clusters::Connection::Ready(c)) => c,
            Ok(_) => panic!("the cluster is reachable"),
            Err(e) => panic!("{e}"),
        };
    assert_eq!(connected.cluster.region.as_deref(), Some("us-east-1"));
    apply_all(&connected.kinds, &desired).await;
    let live =
        drplan::k8s::clusters::read_all(std::slice::from_ref(&connected), STACK, &desired).await;
    assert_eq!(live.objects.len(), desired.len());
    assert!(live.api_calls >= 4, "{}", live.api_calls);

    // The primary cluster has no cluster_access entry: EKS, which needs AWS.
    let err = match drplan::k8s::clusters::connect(
        &loaded.topology,
        &loaded.environment,
        "primary",
        None,
    )
    .await
    {
        Err(e) => e.to_string(),
        Ok(_) => panic!("EKS access without an EKS client"),
    };
    assert!(err.contains("no AWS EKS client"), "{err}");
}

fn job(name: &str) -> Resource {
    let manifest = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "restore", "image": "busybox"}]}}},
    });
    let attrs = json!({
        "cluster": "dr", "api_version": "batch/v1", "kind": "Job", "namespace": "default", "name": name, "manifest": manifest,
    });
    Resource {
        ignore_changes: Vec::new(),
        address: Address::new(format!("kubernetes.restore.Job.{name}")),
        kind: drplan_core::resource::Kind::K8sObject,
        site: Some("dr".into()),
        region: Some("us-east-1".into()),
        attrs: attrs.as_object().cloned().unwrap_or_default().into(),
        sensitive: Vec::new(),
        depends_on: Vec::new(),
        protect: false,
        source: None,
    }
}

/// Plays the Job controller: sets one condition on the Job through its status.
async fn finish_job(client: kube::Client, name: &str, condition: Value) {
    let jobs: Api<k8s_openapi::api::batch::v1::Job> = Api::namespaced(client, "default");
    let status = json!({"status": {"conditions": [condition]}});
    jobs.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .expect("patch Job status");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_is_applied_once_it_has_completed_and_a_failed_job_is_an_error() {
    // No simulated controllers here: the Job runs until the test says it is done.
    let c = cluster_with(Options::default()).await;
    let returned = std::sync::atomic::AtomicBool::new(false);
    let restore = job("restore-graph");
    let apply = async {
        let result = apply::apply(&c.kinds, &restore).await;
        returned.store(true, std::sync::atomic::Ordering::SeqCst);
        result
    };
    let controller = async {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert!(
            !returned.load(std::sync::atomic::Ordering::SeqCst),
            "apply returned while the Job was still running"
        );
        finish_job(
            c.kinds.client().clone(),
            "restore-graph",
            json!({"type": "Complete", "status": "True"}),
        )
        .await;
    };
    let (result, ()) = tokio::join!(apply, controller);
    result.unwrap_or_else(|e| panic!("{e}"));

    let broken = job("restore-broken");
    let apply = apply::apply(&c.kinds, &broken);
    let controller = finish_job(
        c.kinds.client().clone(),
        "restore-broken",
        json!({"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}),
    );
    let (result, ()) = tokio::join!(apply, async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        controller.await
    });
    let err = result.expect_err("a failed Job is a failed change");
    assert_eq!(
        err.to_string(),
        "kubernetes.restore.Job.restore-broken: apply Job default/restore-broken failed: the Job failed (BackoffLimitExceeded): Job has reached the specified backoff limit"
    );
}
