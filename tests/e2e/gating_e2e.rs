//! Readiness gating (issue 13): what depends on a workload starts only once the
//! workload has rolled out — the runbook's `kubectl wait --for=condition=Ready pod -l
//! app=neo4j` before deploying the API, as a `depends_on` drplan honours.

use crate::support::cli::{drplan, explain};
use crate::support::clusters::Clusters;
use crate::support::files::copy_dir;
use crate::support::moto::MotoServer;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const DB: &str = "apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: gated-db
  namespace: default
spec:
  replicas: 2
  serviceName: gated-db
  selector:
    matchLabels: {app: gated-db}
  template:
    metadata:
      labels: {app: gated-db}
    spec:
      containers:
        - name: db
          image: postgres:16
";

const API: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: gated-api
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels: {app: gated-api}
  template:
    metadata:
      labels: {app: gated-api}
    spec:
      containers:
        - name: api
          image: nginx:1.27
";

const BLOCKS: &str = r#"
kubernetes "gated_db" {
  cluster   = cluster.primary
  manifests = ["k8s/gated-db.yaml"]
}

kubernetes "gated_api" {
  cluster    = cluster.primary
  manifests  = ["k8s/gated-api.yaml"]
  depends_on = [kubernetes.gated_db]
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_that_depends_on_a_statefulset_starts_only_once_the_statefulset_is_ready() {
    use k8s_openapi::api::apps::v1::StatefulSet;
    use kube::api::{Api, Patch, PatchParams};

    let dir = tempfile::tempdir().expect("tempdir");
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for sub in ["environments", "specs", "k8s"] {
        copy_dir(&repo.join(sub), &dir.path().join(sub));
    }
    std::fs::write(dir.path().join("k8s/gated-db.yaml"), DB).expect("write db manifest");
    std::fs::write(dir.path().join("k8s/gated-api.yaml"), API).expect("write api manifest");
    std::fs::write(dir.path().join("specs/gated.hcl"), BLOCKS).expect("write gated.hcl");

    let moto = Arc::new(MotoServer::start());
    moto.s3("us-east-1")
        .create_bucket()
        .bucket("shop-drplan-locks")
        .send()
        .await
        .expect("create the lock bucket");
    // No stand-in controllers: a workload is ready when this test says so.
    let clusters = Clusters::start_with(&["shop-primary", "shop-dr"], false).await;
    moto.add_cli_env(clusters.env());
    let primary = &clusters.servers[0];

    let root = dir.path().to_path_buf();
    let apply = {
        let (moto, root) = (moto.clone(), root.clone());
        tokio::task::spawn_blocking(move || {
            drplan(&moto, &root, &["apply", "-e", "prod", "--auto-approve"])
        })
    };

    let exists = |plural: &str, name: &str| {
        primary
            .object("apps/v1", plural, Some("default"), name)
            .is_some()
    };
    let started = Instant::now();
    while !exists("statefulsets", "gated-db") {
        assert!(
            started.elapsed() < Duration::from_secs(180) && !apply.is_finished(),
            "the StatefulSet was never written"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Written, not ready: the Deployment that depends on it waits.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        !exists("deployments", "gated-api"),
        "the Deployment started before the StatefulSet it depends on was ready"
    );
    assert!(!apply.is_finished(), "apply finished without waiting");

    // The controller reports one of two replicas ready: still waiting.
    let client = crate::objectives_e2e::kube_client(primary, "shop-primary").await;
    let sets: Api<StatefulSet> = Api::namespaced(client, "default");
    let status = |ready: i64| {
        Patch::Merge(serde_json::json!({"status": {
            "observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "readyReplicas": ready,
        }}))
    };
    sets.patch_status("gated-db", &PatchParams::default(), &status(1))
        .await
        .expect("write the StatefulSet's status");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        !exists("deployments", "gated-api"),
        "the Deployment started with one of two database replicas ready"
    );

    sets.patch_status("gated-db", &PatchParams::default(), &status(2))
        .await
        .expect("write the StatefulSet's status");
    let out = apply.await.expect("the apply thread");
    assert_eq!(out.status.code(), Some(0), "apply\n{}", explain(&out));
    assert!(exists("deployments", "gated-api"), "{}", explain(&out));
    drop(clusters);
}
