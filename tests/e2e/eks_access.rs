//! Reaching a cluster the way a DR apply must: through EKS, with no kubeconfig.
//!
//! The project's DR cluster has no `cluster_access` entry. `drplan apply` creates
//! the cluster in moto (through the fault proxy), then applies its Kubernetes objects
//! using what DescribeCluster reports — endpoint and CA, which the proxy points at a
//! kube-testserver over HTTPS — and an STS-presigned bearer token, which that server
//! checks as EKS does (signature for this cluster name, age) and confirms by
//! replaying it to moto's STS. Refused tokens must end in a clear error naming the
//! cluster, never a panic, never the token.

use crate::support::cli::{drplan, explain};
use crate::support::eks::{
    api_server, api_server_expiring_every_token, api_server_with_secret, route_cluster_to,
};
use crate::support::faultproxy::{FaultConfig, FaultProxy};
use crate::support::moto::MotoServer;
use kube_testserver::TestServer;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;

const CLUSTER: &str = "shop-dr";
const DR_REGION: &str = "us-west-2";
const LOCK_BUCKET: &str = "shop-drplan-locks";

const SPEC: &str = r#"
site "primary" {
  region = "us-east-1"
}

site "dr" {
  region = "us-west-2"
}

network "dr" {
  site = site.dr
  cidr = "10.1.0.0/16"

  subnet "a" {
    availability_zone = "us-west-2a"
    cidr              = "10.1.0.0/24"
  }
  subnet "b" {
    availability_zone = "us-west-2b"
    cidr              = "10.1.1.0/24"
  }
}

cluster "dr" {
  site     = site.dr
  name     = "shop-dr"
  version  = "1.29"
  network  = network.dr
  role_arn = "arn:aws:iam::123456789012:role/eks-cluster"
  protect  = false
}

kubernetes "app" {
  cluster    = cluster.dr
  manifests  = ["k8s/app.yaml"]
  namespaces = ["shop"]
}
"#;

// No `cluster_access`: the DR cluster is reached through EKS.
const ENVIRONMENT: &str = r#"
stack = "shop"

lock {
  bucket = "shop-drplan-locks"
  region = "us-east-1"
}
"#;

const MANIFEST: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: shop-config
  namespace: shop
data:
  region: us-west-2
";

fn write_project(root: &Path) {
    for (path, text) in [
        ("specs/main.hcl", SPEC),
        ("environments/prod.hcl", ENVIRONMENT),
        ("k8s/app.yaml", MANIFEST),
    ] {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write project file");
    }
}

/// moto with the lock bucket, the proxy in front of it (the CLI's only AWS endpoint),
/// and the project.
async fn world() -> (MotoServer, FaultProxy, tempfile::TempDir) {
    let moto = MotoServer::start();
    let upstream: SocketAddr = moto
        .endpoint()
        .trim_start_matches("http://")
        .parse()
        .expect("moto on 127.0.0.1");
    moto.s3("us-east-1")
        .create_bucket()
        .bucket(LOCK_BUCKET)
        .send()
        .await
        .expect("create the lock bucket");
    let proxy = FaultProxy::start(upstream, FaultConfig::default())
        .await
        .expect("proxy");
    moto.add_cli_env(("AWS_ENDPOINT_URL".into(), proxy.url()));
    // Nothing may come from a kubeconfig: EKS is the only way in.
    moto.add_cli_env(("KUBECONFIG".into(), "/nonexistent/kubeconfig".into()));
    let dir = tempfile::tempdir().expect("project dir");
    write_project(dir.path());
    (moto, proxy, dir)
}

/// The CLI blocks this thread; `block_in_place` lets the proxy and API server (tasks
/// on this runtime) keep answering it.
fn run(moto: &MotoServer, root: &Path, args: &[&str]) -> Output {
    tokio::task::block_in_place(|| drplan(moto, root, args))
}

fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}\n{}", explain(out));
}

fn assert_owned_by_drplan(server: &TestServer, plural: &str, namespace: Option<&str>, name: &str) {
    let object = server
        .object("v1", plural, namespace, name)
        .unwrap_or_else(|| {
            panic!(
                "{plural} {name} is not in the EKS cluster's API server: {:#?}",
                server.objects()
            )
        });
    let labels = &object["metadata"]["labels"];
    assert_eq!(
        labels["app.kubernetes.io/managed-by"], "drplan",
        "{object:#}"
    );
    assert!(
        labels
            .as_object()
            .is_some_and(|l| l.values().any(|v| v == "shop")),
        "no stack label: {object:#}"
    );
}

/// A refused cluster: exit 1, the cluster and the server's reason named, no panic,
/// no token.
fn assert_refused(out: &Output, reason: &str) {
    assert_exit(out, 1, "a refused token is an error");
    // Read errors are part of the plan report (stdout); apply repeats them on stderr.
    let all = explain(out);
    let refusals = |text: &[u8]| {
        String::from_utf8_lossy(text)
            .lines()
            .filter(|l| l.contains("refused drplan's STS token"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let (on_stdout, on_stderr) = (refusals(&out.stdout), refusals(&out.stderr));
    assert!(
        on_stdout.len() <= 1 && on_stderr.len() <= 1,
        "one error for the cluster, not one per kind:\n{all}"
    );
    let lines: Vec<String> = on_stdout.into_iter().chain(on_stderr).collect();
    assert!(!lines.is_empty(), "no refusal reported:\n{all}");
    for line in &lines {
        assert!(
            line.contains("cluster.dr: EKS cluster `shop-dr`"),
            "the cluster is not named: {line}"
        );
        assert!(line.contains("401 Unauthorized"), "{line}");
        assert!(line.contains(reason), "expected {reason:?}: {line}");
    }
    assert!(!all.contains("panicked"), "{all}");
    assert!(
        !all.contains("CRD"),
        "an access problem is not a missing kind:\n{all}"
    );
    assert!(!all.contains("k8s-aws-v1"), "the token leaked:\n{all}");
    assert!(
        !all.contains("X-Amz-Signature"),
        "the presigned URL leaked:\n{all}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_reaches_a_new_eks_cluster_by_endpoint_ca_and_sts_token() {
    let (moto, proxy, dir) = world().await;
    let root = dir.path();
    let server = api_server(&moto, &proxy, CLUSTER).await;
    route_cluster_to(&proxy, DR_REGION, CLUSTER, &server);

    let out = run(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 2, "plan before the cluster exists");
    assert!(
        server.requests().is_empty(),
        "no cluster yet, nothing to ask its API server"
    );

    let out = run(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(
        &out,
        0,
        "apply creates the cluster, then its objects through EKS",
    );
    let created = moto
        .eks(DR_REGION)
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .expect("the cluster exists in moto");
    assert!(created.cluster().is_some());
    assert_owned_by_drplan(&server, "namespaces", None, "shop");
    assert_owned_by_drplan(&server, "configmaps", Some("shop"), "shop-config");
    let config = server
        .object("v1", "configmaps", Some("shop"), "shop-config")
        .expect("configmap");
    assert_eq!(config["data"]["region"], "us-west-2");
    // Every request was authenticated by STS: moto's identity for the CLI's key.
    let identities = server.eks_identities();
    assert!(
        !identities.is_empty() && identities.iter().all(|arn| arn.starts_with("arn:aws:")),
        "{identities:?}"
    );
    assert!(
        server.requests().iter().all(|r| r.status != 401),
        "{:?}",
        server.requests()
    );

    let out = run(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(
        &out,
        0,
        "re-plan after apply: nothing to change, read through EKS",
    );
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.method == "GET" && r.path.contains("configmaps")),
        "the re-plan read the cluster"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_the_cluster_refuses_is_a_clear_error_for_that_cluster() {
    let (moto, proxy, dir) = world().await;
    let root = dir.path();
    let good = api_server(&moto, &proxy, CLUSTER).await;
    route_cluster_to(&proxy, DR_REGION, CLUSTER, &good);
    let out = run(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply");

    // The endpoint now belongs to a cluster of another name: drplan's token, signed
    // for `shop-dr`, is not one for it.
    let other = api_server(&moto, &proxy, "shop-prod").await;
    proxy.clear_rewrites();
    route_cluster_to(&proxy, DR_REGION, CLUSTER, &other);
    let out = run(&moto, root, &["plan", "-e", "prod"]);
    assert_refused(&out, "signed for another cluster");

    // Credentials the cluster's STS does not accept (another secret for the key).
    let strict = api_server_with_secret(&moto, &proxy, CLUSTER, "not-the-cli-secret").await;
    proxy.clear_rewrites();
    route_cluster_to(&proxy, DR_REGION, CLUSTER, &strict);
    let out = run(&moto, root, &["plan", "-e", "prod"]);
    assert_refused(&out, "signature does not match");

    // An expired token.
    let expiring = api_server_expiring_every_token(&moto, &proxy, CLUSTER).await;
    proxy.clear_rewrites();
    route_cluster_to(&proxy, DR_REGION, CLUSTER, &expiring);
    let out = run(&moto, root, &["plan", "-e", "prod"]);
    assert_refused(&out, "the EKS token has expired");

    // Apply stops on the refused cluster with the same clear error.
    proxy.clear_rewrites();
    route_cluster_to(&proxy, DR_REGION, CLUSTER, &strict);
    std::fs::write(
        root.join("k8s/app.yaml"),
        MANIFEST.replace("us-west-2", "us-west-2-changed"),
    )
    .expect("edit manifest");
    let out = run(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_refused(&out, "signature does not match");
    assert!(
        strict.writes().is_empty(),
        "nothing was written by a refused client: {:?}",
        strict.writes()
    );
    let unchanged = good
        .object("v1", "configmaps", Some("shop"), "shop-config")
        .expect("configmap");
    assert_eq!(unchanged["data"]["region"], "us-west-2");
}
