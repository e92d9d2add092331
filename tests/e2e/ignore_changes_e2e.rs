//! `lifecycle { ignore_changes }` (issue 16): replicas an HPA scales and a node group's
//! desired size under the cluster autoscaler were drift forever, and every apply took
//! them back. Ignored, they are no difference, and an apply of other changes leaves
//! the live values alone.

use crate::support::cli::{drplan, explain, stdout};
use crate::support::files::copy_dir;
use std::path::PathBuf;

fn edit(path: &std::path::Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_scaled_by_an_hpa_and_an_autoscaled_node_group_are_neither_drift_nor_reverted() {
    use k8s_openapi::api::apps::v1::Deployment;
    use kube::api::{Api, Patch, PatchParams};

    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for sub in ["environments", "specs", "k8s"] {
        copy_dir(&repo.join(sub), &root.join(sub));
    }
    let clusters_hcl = root.join("specs/clusters.hcl");
    edit(
        &clusters_hcl,
        "    max_size       = 4\n    node_role_arn  = \"arn:aws:iam::${local.account}:role/shop-eks-node\"\n  }\n}",
        "    max_size       = 4\n    node_role_arn  = \"arn:aws:iam::${local.account}:role/shop-eks-node\"\n    lifecycle {\n      ignore_changes = [\"desired_size\"]\n    }\n  }\n}",
    );
    edit(
        &clusters_hcl,
        "kubernetes \"primary\" {\n  cluster   = cluster.primary\n",
        "kubernetes \"primary\" {\n  cluster   = cluster.primary\n  lifecycle {\n    ignore_changes = [\"spec.replicas\"]\n  }\n",
    );
    let (moto, clusters) = crate::secrets_e2e::world().await;
    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    // The autoscalers at work, out of band.
    moto.eks("us-west-2")
        .update_nodegroup_config()
        .cluster_name("shop-prod")
        .nodegroup_name("general")
        .scaling_config(
            aws_sdk_eks::types::NodegroupScalingConfig::builder()
                .min_size(2)
                .desired_size(3)
                .max_size(4)
                .build(),
        )
        .send()
        .await
        .expect("scale the node group");
    let client = crate::objectives_e2e::kube_client(&clusters.servers[0], "shop-primary").await;
    let deployments: Api<Deployment> = Api::namespaced(client, "shop");
    deployments
        .patch(
            "shop-api",
            &PatchParams {
                field_manager: Some("horizontal-pod-autoscaler".into()),
                ..Default::default()
            },
            &Patch::Merge(serde_json::json!({"spec": {"replicas": 5}})),
        )
        .await
        .expect("scale the Deployment");

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "not drift:\n{}", explain(&out));

    // Another change to both: the new image is applied, the scaled values stay.
    edit(
        &root.join("environments/prod.hcl"),
        "api_image_tag = \"1.0.0\"",
        "api_image_tag = \"1.0.1\"",
    );
    edit(&clusters_hcl, "    max_size       = 4\n    node_role_arn  = \"arn:aws:iam::${local.account}:role/shop-eks-node\"\n    lifecycle", "    max_size       = 5\n    node_role_arn  = \"arn:aws:iam::${local.account}:role/shop-eks-node\"\n    lifecycle");
    let out = drplan(&moto, root, &["plan", "-e", "prod"]);
    let text = stdout(&out);
    assert!(
        text.contains("kubernetes.primary.Deployment.shop.shop-api"),
        "{text}"
    );
    assert!(
        !text.contains("replicas"),
        "replicas are not part of the change: {text}"
    );
    assert!(!text.contains("desired_size"), "{text}");
    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    let deployment = deployments
        .get("shop-api")
        .await
        .expect("get the Deployment");
    let spec = deployment.spec;
    assert_eq!(spec.replicas, Some(5), "the HPA's replicas stay");
    let image = spec
        .template
        .spec
        .and_then(|s| s.containers.first().and_then(|c| c.image.clone()));
    assert!(
        image.unwrap_or_default().ends_with(":1.0.1"),
        "the new image is applied"
    );
    let ng = moto
        .eks("us-west-2")
        .describe_nodegroup()
        .cluster_name("shop-prod")
        .nodegroup_name("general")
        .send()
        .await
        .expect("describe");
    let scaling = ng
        .nodegroup()
        .and_then(|n| n.scaling_config())
        .expect("scaling");
    assert_eq!(
        (scaling.desired_size(), scaling.max_size()),
        (Some(3), Some(5))
    );

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
}

#[test]
fn ignore_changes_naming_an_identity_field_is_an_error_with_its_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for sub in ["environments", "specs", "k8s"] {
        copy_dir(&repo.join(sub), &root.join(sub));
    }
    edit(
        &root.join("specs/clusters.hcl"),
        "kubernetes \"primary\" {\n  cluster   = cluster.primary\n",
        "kubernetes \"primary\" {\n  cluster   = cluster.primary\n  lifecycle {\n    ignore_changes = [\"metadata.name\"]\n  }\n",
    );
    let out = assert_cmd::Command::cargo_bin("drplan")
        .expect("drplan")
        .env("NO_COLOR", "1")
        .arg("-C")
        .arg(root)
        .args(["validate", "-e", "prod"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ignore_changes cannot name `metadata.name`: it identifies the object")
            && err.contains("specs/clusters.hcl:"),
        "{err}"
    );
}
