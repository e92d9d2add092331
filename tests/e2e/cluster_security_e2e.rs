//! Issue 17, security basics a cluster needs: a private API endpoint, control-plane
//! logs and envelope encryption of Secrets, applied to moto and read back through the
//! SDK; the next plan exits 0; endpoint access opened by hand is drift, and apply
//! closes it again with an in-place update (the cluster is not replaced).

use crate::support::cli::{drplan, explain, stdout};
use crate::support::clusters::Clusters;
use crate::support::moto::MotoServer;

const KEY: &str = "arn:aws:kms:us-west-2:123456789012:key/0b6e4f6a-1c1f-4b8e-9a53-2f2d7c1e9a10";

fn spec() -> String {
    format!(
        r#"
site "primary" {{
  region = "us-west-2"
}}

network "primary" {{
  site = site.primary
  cidr = "10.40.0.0/16"

  subnet "a" {{
    cidr              = "10.40.1.0/24"
    availability_zone = "us-west-2a"
  }}
  subnet "b" {{
    cidr              = "10.40.2.0/24"
    availability_zone = "us-west-2b"
  }}
}}

cluster "primary" {{
  site     = site.primary
  name     = "vault-primary"
  version  = "1.29"
  network  = network.primary
  role_arn = "arn:aws:iam::123456789012:role/eks-cluster"

  endpoint_public_access  = false
  endpoint_private_access = true
  control_plane_logs      = ["audit", "api", "authenticator"]
  secrets_encryption_key  = "{KEY}"
}}
"#
    )
}

async fn described(moto: &MotoServer) -> aws_sdk_eks::types::Cluster {
    moto.eks("us-west-2")
        .describe_cluster()
        .name("vault-primary")
        .send()
        .await
        .expect("DescribeCluster")
        .cluster
        .expect("cluster")
}

fn enabled_logs(c: &aws_sdk_eks::types::Cluster) -> Vec<String> {
    let mut on: Vec<String> = c
        .logging()
        .map(|l| l.cluster_logging())
        .unwrap_or_default()
        .iter()
        .filter(|s| s.enabled() == Some(true))
        .flat_map(|s| s.types())
        .map(|t| t.as_str().to_string())
        .collect();
    on.sort();
    on
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_logged_encrypted_cluster_is_applied_and_opened_access_is_reverted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("specs")).expect("specs");
    std::fs::create_dir_all(root.join("environments")).expect("environments");
    std::fs::write(root.join("specs/main.hcl"), spec()).expect("spec");
    // moto's EKS endpoints are not API servers: the cluster is reached through a
    // kubeconfig context, as in the demo.
    std::fs::write(
        root.join("environments/prod.hcl"),
        "stack      = \"vault\"\naccount_id = \"123456789012\"\n\n\
         cluster_access \"primary\" {\n  context = \"vault-primary\"\n}\n",
    )
    .expect("env");
    let moto = MotoServer::start();
    let clusters = Clusters::start(&["vault-primary"]).await;
    moto.add_cli_env(clusters.env());

    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    let cluster = described(&moto).await;
    let vpc = cluster.resources_vpc_config().expect("vpc config");
    assert!(!vpc.endpoint_public_access(), "public endpoint off");
    assert!(vpc.endpoint_private_access(), "private endpoint on");
    assert_eq!(vpc.subnet_ids().len(), 2, "{vpc:?}");
    assert_eq!(enabled_logs(&cluster), ["api", "audit", "authenticator"]);
    let keys: Vec<&str> = cluster
        .encryption_config()
        .iter()
        .filter_map(|c| c.provider().and_then(|p| p.key_arn()))
        .collect();
    assert_eq!(keys, [KEY]);

    let again = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", explain(&again));

    // Someone opens the endpoint to the internet and turns the audit log off.
    let eks = moto.eks("us-west-2");
    eks.update_cluster_config()
        .name("vault-primary")
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .endpoint_public_access(true)
                .build(),
        )
        .send()
        .await
        .expect("UpdateClusterConfig");
    eks.update_cluster_config()
        .name("vault-primary")
        .logging(
            aws_sdk_eks::types::Logging::builder()
                .cluster_logging(
                    aws_sdk_eks::types::LogSetup::builder()
                        .types(aws_sdk_eks::types::LogType::Audit)
                        .enabled(false)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("UpdateClusterConfig");
    let drift = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(drift.status.code(), Some(2), "{}", explain(&drift));
    let text = stdout(&drift);
    assert!(
        text.contains("~ cluster.primary (aws_eks_cluster) will be updated in place"),
        "{text}"
    );
    assert!(
        text.contains("endpoint_public_access = true -> false"),
        "{text}"
    );
    assert!(text.contains("control_plane_logs"), "{text}");
    assert!(!text.contains("must be replaced"), "{text}");

    let fix = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_eq!(fix.status.code(), Some(0), "{}", explain(&fix));
    let cluster = described(&moto).await;
    let vpc = cluster.resources_vpc_config().expect("vpc config");
    assert!(!vpc.endpoint_public_access(), "closed again");
    assert_eq!(vpc.subnet_ids().len(), 2, "subnets kept: {vpc:?}");
    assert_eq!(enabled_logs(&cluster), ["api", "audit", "authenticator"]);
    let settled = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(settled.status.code(), Some(0), "{}", explain(&settled));
}

#[test]
fn a_cluster_reachable_from_nowhere_or_an_unknown_log_type_is_refused_with_its_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("specs")).expect("specs");
    std::fs::create_dir_all(root.join("environments")).expect("environments");
    let bad = spec()
        .replace(
            "endpoint_private_access = true",
            "endpoint_private_access = false",
        )
        .replace("\"authenticator\"", "\"kubelet\"")
        .replace(KEY, "alias/eks");
    std::fs::write(root.join("specs/main.hcl"), bad).expect("spec");
    std::fs::write(root.join("environments/prod.hcl"), "stack = \"vault\"\n").expect("env");
    let moto = MotoServer::start();
    let out = drplan(&moto, root, &["validate", "-e", "prod"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "a cluster whose endpoint is neither public nor private cannot be reached",
        "`kubelet` is not an EKS control-plane log type",
        "`alias/eks` is not a KMS key ARN",
        "specs/main.hcl:",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
}
