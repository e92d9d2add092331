//! Fidelity against an independent client: Debian's/Google's `kubectl`. Skipped
//! with a notice when kubectl is not installed, unless DRPLAN_REQUIRE_KUBECTL=1.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kube_testserver::{Options, TestServer};
use serde_json::Value;

fn kubectl_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join("kubectl"))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("DRPLAN_REQUIRE_KUBECTL").as_deref() != Ok("1"),
            "kubectl is not on PATH but DRPLAN_REQUIRE_KUBECTL=1 (install: apt-get install kubernetes-client)"
        );
        eprintln!("SKIP: kubectl is not on PATH; kubectl fidelity tests not run");
    }
    found
}

struct Kubectl {
    binary: PathBuf,
    kubeconfig: PathBuf,
    cache: PathBuf,
}

impl Kubectl {
    async fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(&self.binary);
        command
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(&self.cache)
            .args(args);
        command.env_remove("KUBECONFIG");
        // kubectl blocks; the server runs on the other runtime worker.
        tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("join")
            .expect("kubectl runs")
    }

    async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "kubectl {args:?} failed: {stderr}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn setup(server: &TestServer, dir: &Path, binary: PathBuf) -> Kubectl {
    let kubeconfig = dir.join("kubeconfig");
    server
        .write_kubeconfig(&kubeconfig, "testserver")
        .expect("kubeconfig");
    Kubectl {
        binary,
        kubeconfig,
        cache: dir.join("cache"),
    }
}

const MANIFEST: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: x
  labels:
    app.kubernetes.io/managed-by: drplan
data:
  key: value
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_apply_conflict_delete() {
    let Some(binary) = kubectl_binary() else {
        return;
    };
    // No token required: client-go never sends a bearer token over plain http.
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let kubectl = setup(&server, dir.path(), binary);

    let namespaces = kubectl.ok(&["get", "ns"]).await;
    assert!(
        namespaces
            .lines()
            .next()
            .is_some_and(|h| h.contains("NAME") && h.contains("STATUS")),
        "{namespaces}"
    );
    for ns in ["default", "kube-system", "kube-public"] {
        assert!(
            namespaces
                .lines()
                .any(|l| l.starts_with(ns) && l.contains("Active")),
            "{namespaces}"
        );
    }

    // Imperative generators send protobuf bodies.
    kubectl.ok(&["create", "namespace", "app"]).await;
    kubectl
        .ok(&[
            "-n",
            "app",
            "create",
            "configmap",
            "c",
            "--from-literal=a=b",
        ])
        .await;
    let value = kubectl
        .ok(&[
            "-n",
            "app",
            "get",
            "configmap",
            "c",
            "-o",
            "jsonpath={.data.a}",
        ])
        .await;
    assert_eq!(value, "b");

    let manifest = dir.path().join("manifest.yaml");
    std::fs::write(&manifest, MANIFEST).expect("manifest");
    let manifest = manifest.to_string_lossy().into_owned();
    let applied = kubectl
        .ok(&["apply", "--server-side", "-f", &manifest])
        .await;
    assert!(
        applied.contains("configmap/x serverside-applied"),
        "{applied}"
    );
    assert!(
        applied.contains("deployment.apps/web serverside-applied"),
        "{applied}"
    );

    let json = kubectl.ok(&["get", "configmap", "x", "-o", "json"]).await;
    let cm: Value = serde_json::from_str(&json).expect("kubectl prints JSON");
    assert_eq!(cm["data"]["key"], "value");
    assert_eq!(
        cm["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "drplan"
    );
    let stored = server
        .object("v1", "configmaps", Some("default"), "x")
        .expect("stored");
    assert_eq!(stored["metadata"]["managedFields"][0]["manager"], "kubectl");

    let listed = kubectl
        .ok(&["get", "deployments", "-l", "app notin (db)", "-o", "name"])
        .await;
    assert_eq!(listed.trim(), "deployment.apps/web");

    // `set image` sends a strategic merge patch: the container is merged by name,
    // and its image now belongs to kubectl-set, so re-applying conflicts on it.
    kubectl
        .ok(&["set", "image", "deployment/web", "web=nginx:1.28"])
        .await;
    let containers = kubectl
        .ok(&[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[*].image}",
        ])
        .await;
    assert_eq!(containers, "nginx:1.28");
    let reapply = kubectl
        .run(&["apply", "--server-side", "-f", &manifest])
        .await;
    let stderr = String::from_utf8_lossy(&reapply.stderr);
    assert!(
        stderr.contains(r#"conflict with "kubectl-set" using apps/v1: .spec.template.spec.containers[name="web"].image"#),
        "{stderr}"
    );

    let scaled = kubectl
        .ok(&["scale", "deployment/web", "--replicas=0"])
        .await;
    assert_eq!(scaled.trim(), "deployment.apps/web scaled");
    let replicas = kubectl
        .ok(&[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.spec.replicas}",
        ])
        .await;
    assert_eq!(replicas, "0");

    // Another manager changing kubectl's field conflicts until forced.
    let changed = dir.path().join("changed.yaml");
    std::fs::write(
        &changed,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  key: other\n",
    )
    .expect("write");
    let changed = changed.to_string_lossy().into_owned();
    let conflict = kubectl
        .run(&[
            "apply",
            "--server-side",
            "--field-manager",
            "operator",
            "-f",
            &changed,
        ])
        .await;
    assert!(!conflict.status.success());
    let stderr = String::from_utf8_lossy(&conflict.stderr);
    assert!(
        stderr.contains("conflict with \"kubectl\"") && stderr.contains(".data.key"),
        "{stderr}"
    );
    kubectl
        .ok(&[
            "apply",
            "--server-side",
            "--field-manager",
            "operator",
            "--force-conflicts",
            "-f",
            &changed,
        ])
        .await;
    let value = kubectl
        .ok(&["get", "configmap", "x", "-o", "jsonpath={.data.key}"])
        .await;
    assert_eq!(value, "other");

    let deleted = kubectl.ok(&["delete", "-f", &manifest]).await;
    assert!(deleted.contains("configmap \"x\" deleted"), "{deleted}");
    let missing = kubectl.run(&["get", "configmap", "x"]).await;
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("Error from server (NotFound): configmaps \"x\" not found"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_is_unauthorized_when_a_token_is_required() {
    let Some(binary) = kubectl_binary() else {
        return;
    };
    let server = TestServer::start_with(Options {
        require_token: Some("right".into()),
        ..Options::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let kubectl = setup(&server, dir.path(), binary);
    // client-go withholds the kubeconfig's token over http, so the server sees none.
    let out = kubectl.run(&["get", "ns"]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Unauthorized") || stderr.contains("must be logged in"),
        "{stderr}"
    );
}
