//! Incident tools (issue 16): `--target ADDRESS` plans and applies one piece and what
//! it needs (the DNS flip alone), saying loudly that the plan is partial;
//! `--replace ADDRESS` destroys and creates again an object that matches the spec (a
//! wedged node group), and is never taken from a saved plan file alone.

use crate::objectives_e2e::applied_root_project;
use crate::support::cli::{drplan, explain, stdout};

/// The addresses a plan JSON document changes (no-ops left out).
fn changing(doc: &serde_json::Value) -> Vec<&str> {
    doc["resource_changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["change"]["actions"] != serde_json::json!(["no-op"]))
        .filter_map(|c| c["address"].as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_flips_dns_alone_and_says_the_plan_is_partial() {
    let (dir, moto, _clusters) = applied_root_project().await;
    let root = dir.path();

    let out = drplan(
        &moto,
        root,
        &["plan", "-e", "prod-dr", "--target", "dns.api", "--json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("plan JSON");
    assert_eq!(doc["targets"], serde_json::json!(["dns.api"]));
    let changed = changing(&doc);
    assert!(!changed.is_empty(), "{doc:#}");
    assert!(
        changed.iter().all(|a| a.starts_with("dns.api")),
        "only the DNS records (and what they need): {changed:?}"
    );
    let left_out: Vec<&str> = doc["left_out"]
        .as_array()
        .expect("left_out")
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    assert!(
        left_out.contains(&"cluster.dr.node_group.general"),
        "{left_out:?}"
    );

    let out = drplan(
        &moto,
        root,
        &["plan", "-e", "prod-dr", "--target", "dns.api"],
    );
    let text = stdout(&out);
    assert!(
        text.starts_with("Warning: this is a partial plan (--target dns.api)"),
        "{text}"
    );

    let out = drplan(
        &moto,
        root,
        &[
            "apply",
            "-e",
            "prod-dr",
            "--target",
            "dns.api",
            "--auto-approve",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    // The DNS points at the DR site now; everything else is still to do.
    let out = drplan(&moto, root, &["plan", "-e", "prod-dr", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("plan JSON");
    let still = changing(&doc);
    assert!(!still.iter().any(|a| a.starts_with("dns.api")), "{still:?}");
    assert!(
        still.contains(&"cluster.dr.node_group.general"),
        "{still:?}"
    );

    // A mistyped target is an error, not an empty plan.
    let out = drplan(
        &moto,
        root,
        &["plan", "-e", "prod-dr", "--target", "dns.apl"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        explain(&out)
            .contains("--target dns.apl: nothing in the spec or the cloud has this address"),
        "{}",
        explain(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replace_recreates_a_node_group_that_matches_the_spec() {
    let (dir, moto, _clusters) = applied_root_project().await;
    let root = dir.path();
    let arn = |moto: &crate::support::moto::MotoServer| {
        let eks = moto.eks("us-west-2");
        async move {
            eks.describe_nodegroup()
                .cluster_name("shop-prod")
                .nodegroup_name("general")
                .send()
                .await
                .expect("describe the node group")
                .nodegroup()
                .and_then(|n| n.nodegroup_arn().map(str::to_string))
                .unwrap_or_default()
        }
    };
    let before = arn(&moto).await;
    let group = "cluster.primary.node_group.general";

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--replace", group]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("{group} (aws_eks_node_group) must be replaced")),
        "{text}"
    );
    assert!(
        text.contains("# replaced because --replace asked for it"),
        "{text}"
    );

    // Saved with --replace: applying the file needs the same --replace again.
    let file = root.join("replace.plan");
    let file_arg = file.display().to_string();
    let out = drplan(
        &moto,
        root,
        &["plan", "-e", "prod", "--replace", group, "--out", &file_arg],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let out = drplan(&moto, root, &["apply", &file_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        explain(&out).contains("pass the same --replace flags to apply it"),
        "{}",
        explain(&out)
    );
    assert_eq!(arn(&moto).await, before, "nothing was replaced");
    let out = drplan(&moto, root, &["apply", &file_arg, "--replace", group]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert_ne!(arn(&moto).await, before, "the node group was created again");

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    // Something that does not exist cannot be replaced.
    let out = drplan(
        &moto,
        root,
        &[
            "plan",
            "-e",
            "prod",
            "--replace",
            "cluster.primary.node_group.gpu",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        explain(&out).contains("--replace cluster.primary.node_group.gpu: nothing in the spec or the cloud has this address"),
        "{}",
        explain(&out)
    );
}
