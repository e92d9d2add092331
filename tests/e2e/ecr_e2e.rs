//! Issue 17, ECR repositories with cross-region replication and a lifecycle policy: a
//! `registry` block applied to moto and read back through the SDK (the repository, its
//! tags and marks, its lifecycle policy, the registry's replication configuration);
//! the next plan exits 0; a lifecycle policy deleted by hand, the replication rule
//! removed by hand and a tag changed by hand are drift that apply reverts; a
//! repository that leaves the spec is held (it holds images) until `--allow-destroy`,
//! and its rule goes with it; one that `removed { destroy = false }` forgets loses its
//! marks and keeps replicating; a DR workload pulling from the primary's registry is a
//! readiness failure of validate (exit 3) naming the workload, the image and the fix.
//!
//! moto implements the calls used (CreateRepository with tags, DescribeRepositories,
//! List/Tag/UntagResource, Put/Get/DeleteLifecyclePolicy, DescribeRegistry,
//! PutReplicationConfiguration, DeleteRepository), with gaps drplan does not paper
//! over: PutReplicationConfiguration refuses more than one rule ("This feature is
//! disabled"), so another team's rule beside drplan's cannot be arranged here — the
//! read-modify-write that keeps it is covered by the core's `ecr` tests; and moto does
//! not replicate pushed images nor create the destination repository, so the DR
//! replica here is the one the spec declares.

use crate::support::cli::{drplan, explain, stderr, stdout};
use crate::support::files::{write_project, TWO_SITES_TWO_NETWORKS};
use crate::support::moto::MotoServer;
use aws_sdk_ecr::types::{
    ReplicationConfiguration, ReplicationDestination, ReplicationRule, RepositoryFilter,
    RepositoryFilterType,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const REGISTRIES: &str = r#"
registry "api" {
  site                = site.primary
  name                = "shop/api"
  replicate_to        = [site.dr]
  expire_images_after = "30d"
  scan_on_push        = true
  tags                = { team = "platform" }
}

registry "api_dr" {
  site                = site.dr
  name                = "shop/api"
  expire_images_after = "30d"
}
"#;

const ENV: &str = "stack      = \"registries\"\naccount_id = \"123456789012\"\n";

fn ecr(moto: &MotoServer, region: &str) -> aws_sdk_ecr::Client {
    aws_sdk_ecr::Client::new(&moto.regional_config(region))
}

fn assert_exit(out: &std::process::Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}\n{}", explain(out));
}

async fn tags(moto: &MotoServer, region: &str, name: &str) -> BTreeMap<String, String> {
    let arn = format!("arn:aws:ecr:{region}:123456789012:repository/{name}");
    ecr(moto, region)
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("ListTagsForResource")
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

async fn policy(moto: &MotoServer, region: &str, name: &str) -> Option<Value> {
    match ecr(moto, region)
        .get_lifecycle_policy()
        .repository_name(name)
        .send()
        .await
    {
        Ok(out) => out
            .lifecycle_policy_text()
            .map(|t| serde_json::from_str(t).expect("policy JSON")),
        Err(_) => None,
    }
}

/// The registry's rules as (destination regions, filters).
async fn rules(moto: &MotoServer, region: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let out = ecr(moto, region)
        .describe_registry()
        .send()
        .await
        .expect("DescribeRegistry");
    out.replication_configuration()
        .map(|c| c.rules())
        .unwrap_or_default()
        .iter()
        .map(|r| {
            (
                r.destinations()
                    .iter()
                    .map(|d| d.region().to_string())
                    .collect(),
                r.repository_filters()
                    .iter()
                    .map(|f| format!("{}:{}", f.filter_type().as_str(), f.filter()))
                    .collect(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replicated_repository_is_applied_read_back_and_its_drift_reverted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write_project(root, &[TWO_SITES_TWO_NETWORKS, REGISTRIES].concat(), ENV);
    let moto = MotoServer::start();

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 2, "plan");
    let text = stdout(&out);
    assert!(
        text.contains("+ registry.api (aws_ecr_repository)")
            && text.contains("+ registry.api_dr (aws_ecr_repository)")
            && text.contains("replicate_to"),
        "{text}"
    );
    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply");

    // Read back through the SDK, not through drplan.
    let found = ecr(&moto, "us-west-2")
        .describe_repositories()
        .repository_names("shop/api")
        .send()
        .await
        .expect("DescribeRepositories");
    let repo = &found.repositories()[0];
    assert!(repo
        .image_scanning_configuration()
        .is_some_and(|c| c.scan_on_push()));
    let primary_tags = tags(&moto, "us-west-2", "shop/api").await;
    assert_eq!(
        primary_tags.get("team").map(String::as_str),
        Some("platform")
    );
    assert_eq!(
        primary_tags.get("drplan:stack").map(String::as_str),
        Some("registries")
    );
    assert_eq!(
        primary_tags.get("drplan:address").map(String::as_str),
        Some("registry.api")
    );
    let expected_policy = json!({"rules": [{
        "rulePriority": 1,
        "description": "expire images 30 days after push (drplan)",
        "selection": {"tagStatus": "any", "countType": "sinceImagePushed",
                      "countUnit": "days", "countNumber": 30},
        "action": {"type": "expire"},
    }]});
    assert_eq!(
        policy(&moto, "us-west-2", "shop/api").await,
        Some(expected_policy.clone())
    );
    assert_eq!(
        policy(&moto, "us-east-1", "shop/api").await,
        Some(expected_policy)
    );
    assert_eq!(
        tags(&moto, "us-east-1", "shop/api")
            .await
            .get("drplan:address")
            .map(String::as_str),
        Some("registry.api_dr")
    );
    // One rule in the primary's registry: to us-east-1, for this repository.
    assert_eq!(
        rules(&moto, "us-west-2").await,
        [(
            vec!["us-east-1".to_string()],
            vec!["PREFIX_MATCH:shop/api".to_string()]
        )]
    );
    // Nothing replicates out of the DR registry.
    assert!(rules(&moto, "us-east-1").await.is_empty());

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan after apply");

    // Drift by hand: the policy deleted, the rule removed, a tag changed.
    let west = ecr(&moto, "us-west-2");
    west.delete_lifecycle_policy()
        .repository_name("shop/api")
        .send()
        .await
        .expect("DeleteLifecyclePolicy");
    west.put_replication_configuration()
        .replication_configuration(
            ReplicationConfiguration::builder()
                .set_rules(Some(vec![]))
                .build()
                .expect("configuration"),
        )
        .send()
        .await
        .expect("PutReplicationConfiguration");
    west.tag_resource()
        .resource_arn("arn:aws:ecr:us-west-2:123456789012:repository/shop/api")
        .tags(
            aws_sdk_ecr::types::Tag::builder()
                .key("team")
                .value("someone-else")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("TagResource");
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 2, "plan after drift");
    let text = stdout(&out);
    assert!(
        text.contains("~ registry.api")
            && text.contains("lifecycle_policy")
            && text.contains("replicate_to")
            && text.contains("someone-else"),
        "{text}"
    );
    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply reverts the drift");
    assert!(policy(&moto, "us-west-2", "shop/api").await.is_some());
    assert_eq!(
        rules(&moto, "us-west-2").await,
        [(
            vec!["us-east-1".to_string()],
            vec!["PREFIX_MATCH:shop/api".to_string()]
        )]
    );
    assert_eq!(
        tags(&moto, "us-west-2", "shop/api")
            .await
            .get("team")
            .map(String::as_str),
        Some("platform")
    );
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan after the drift was reverted");

    // Out of the spec: the repository holds images, so it is held until allowed.
    write_project(
        root,
        &[
            TWO_SITES_TWO_NETWORKS,
            &REGISTRIES[..REGISTRIES.find("registry \"api_dr\"").expect("dr block")],
        ]
        .concat(),
        ENV,
    );
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 1, "plan with an orphaned repository");
    let err = [stdout(&out), stderr(&out)].concat();
    assert!(
        err.contains("registry.api_dr") && err.contains("--allow-destroy registry.api_dr"),
        "{err}"
    );
    let out = drplan(
        &moto,
        root,
        &[
            "apply",
            "-e",
            "prod",
            "--auto-approve",
            "--allow-destroy",
            "registry.api_dr",
        ],
    );
    assert_exit(&out, 0, "apply deletes the allowed orphan");
    let left = ecr(&moto, "us-east-1")
        .describe_repositories()
        .send()
        .await
        .expect("DescribeRepositories");
    assert!(left.repositories().is_empty(), "{left:?}");
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan after the orphan went");

    // Forgotten: `removed { destroy = false }` drops the marks and keeps the
    // repository and its replication (a rule no longer drplan's).
    write_project(
        root,
        &[
            TWO_SITES_TWO_NETWORKS,
            "removed {\n  from = registry.api\n  lifecycle {\n    destroy = false\n  }\n}\n",
        ]
        .concat(),
        ENV,
    );
    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply forgets the replicated repository");
    let kept = tags(&moto, "us-west-2", "shop/api").await;
    assert!(!kept.contains_key("drplan:stack"), "{kept:?}");
    assert_eq!(kept.get("team").map(String::as_str), Some("platform"));
    assert_eq!(
        rules(&moto, "us-west-2").await,
        [(
            vec!["us-east-1".to_string()],
            vec!["PREFIX_MATCH:shop/api".to_string()]
        )]
    );
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan after the repository was forgotten");
}

/// Deleting a replicated repository takes its filter out of drplan's rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_repository_takes_its_rule_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write_project(root, &[TWO_SITES_TWO_NETWORKS, REGISTRIES].concat(), ENV);
    let moto = MotoServer::start();
    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply");
    assert_eq!(rules(&moto, "us-west-2").await.len(), 1);
    write_project(root, TWO_SITES_TWO_NETWORKS, ENV);
    let out = drplan(
        &moto,
        root,
        &[
            "apply",
            "-e",
            "prod",
            "--auto-approve",
            "--allow-destroy",
            "registry.api",
            "--allow-destroy",
            "registry.api_dr",
        ],
    );
    assert_exit(&out, 0, "apply deletes the replicated repository");
    assert!(rules(&moto, "us-west-2").await.is_empty());
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan after both went");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_that_is_not_drplans_is_left_alone_and_not_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let moto = MotoServer::start();
    // Another team replicates its own prefix out of us-west-2.
    let theirs = ReplicationRule::builder()
        .destinations(
            ReplicationDestination::builder()
                .region("eu-west-1")
                .registry_id("123456789012")
                .build()
                .expect("destination"),
        )
        .repository_filters(
            RepositoryFilter::builder()
                .filter("other-team/")
                .filter_type(RepositoryFilterType::PrefixMatch)
                .build()
                .expect("filter"),
        )
        .build()
        .expect("rule");
    ecr(&moto, "us-west-2")
        .put_replication_configuration()
        .replication_configuration(
            ReplicationConfiguration::builder()
                .rules(theirs)
                .build()
                .expect("configuration"),
        )
        .send()
        .await
        .expect("PutReplicationConfiguration");
    // A repository without replication: drplan has no rule to write, and the other
    // team's rule neither counts as drplan's nor changes.
    let spec = REGISTRIES.replace("  replicate_to        = [site.dr]\n", "");
    write_project(root, &[TWO_SITES_TWO_NETWORKS, &spec].concat(), ENV);
    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply");
    assert_eq!(
        rules(&moto, "us-west-2").await,
        [(
            vec!["eu-west-1".to_string()],
            vec!["PREFIX_MATCH:other-team/".to_string()]
        )]
    );
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan after apply");
}

#[test]
fn validate_flags_a_dr_workload_pulling_from_the_primary_registry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let spec = format!(
        "{TWO_SITES_TWO_NETWORKS}{}{}",
        REGISTRIES.replace("  replicate_to        = [site.dr]\n", ""),
        r#"
cluster "dr" {
  site     = site.dr
  name     = "shop-dr"
  version  = "1.29"
  network  = network.dr
  role_arn = "arn:aws:iam::123456789012:role/eks"
}

kubernetes "dr_apps" {
  cluster   = cluster.dr
  manifests = ["k8s/api.yaml"]
}
"#
    );
    write_project(root, &spec, ENV);
    std::fs::create_dir_all(root.join("k8s")).expect("k8s dir");
    std::fs::write(
        root.join("k8s/api.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: 123456789012.dkr.ecr.us-west-2.amazonaws.com/shop/api:1.0\n",
    )
    .expect("manifest");
    let out = assert_cmd::Command::cargo_bin("drplan")
        .expect("binary")
        .arg("-C")
        .arg(root)
        .args(["validate", "-e", "prod"])
        .env("NO_COLOR", "1")
        .output()
        .expect("drplan validate");
    assert_exit(&out, 3, "validate with an unreplicated image");
    let text = [stdout(&out), stderr(&out)].concat();
    for expected in [
        "image 123456789012.dkr.ecr.us-west-2.amazonaws.com/shop/api:1.0 of kubernetes.dr_apps",
        "no registry block replicates shop/api to us-east-1",
        "add replicate_to = [site.dr] to registry.api",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api",
    ] {
        assert!(text.contains(expected), "missing `{expected}`:\n{text}");
    }
}

/// Issue 20 for ECR: a repository made by hand is refused until an `import` block
/// names it; then the plan says "will be imported" with the lifecycle policy and the
/// replication it lacks, apply marks it (same repository: its creation time is
/// kept) and puts those, and the next plan exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repository_made_by_hand_is_imported_without_recreating_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write_project(root, &[TWO_SITES_TWO_NETWORKS, REGISTRIES].concat(), ENV);
    let moto = MotoServer::start();
    let made = ecr(&moto, "us-west-2")
        .create_repository()
        .repository_name("shop/api")
        .image_scanning_configuration(
            aws_sdk_ecr::types::ImageScanningConfiguration::builder()
                .scan_on_push(true)
                .build(),
        )
        .send()
        .await
        .expect("CreateRepository")
        .repository
        .expect("repository");

    let out = drplan(&moto, root, &["plan", "-e", "prod"]);
    assert_exit(&out, 1, "plan without the import");
    assert!(
        explain(&out).contains("exists but is not managed by this stack"),
        "{}",
        explain(&out)
    );

    std::fs::write(
        root.join("specs/imports.hcl"),
        "import {\n  to = registry.api\n  id = \"shop/api\"\n}\n",
    )
    .expect("imports.hcl");
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 2, "plan with the import");
    let text = stdout(&out);
    assert!(
        text.contains("# registry.api will be imported (id shop/api)"),
        "{text}"
    );
    assert!(
        !text.contains("+ registry.api (") && !text.contains("must be replaced"),
        "an import recreates nothing:\n{text}"
    );

    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply");
    let t = tags(&moto, "us-west-2", "shop/api").await;
    assert_eq!(
        t.get("drplan:stack").map(String::as_str),
        Some("registries")
    );
    assert_eq!(
        t.get("drplan:address").map(String::as_str),
        Some("registry.api")
    );
    assert_eq!(t.get("team").map(String::as_str), Some("platform"));
    assert!(policy(&moto, "us-west-2", "shop/api").await.is_some());
    let now = ecr(&moto, "us-west-2")
        .describe_repositories()
        .repository_names("shop/api")
        .send()
        .await
        .expect("DescribeRepositories");
    let now = now.repositories().first().expect("the repository");
    assert_eq!(now.created_at(), made.created_at(), "not recreated");
    assert_eq!(
        rules(&moto, "us-west-2").await,
        vec![(
            vec!["us-east-1".to_string()],
            vec!["PREFIX_MATCH:shop/api".to_string()]
        )]
    );

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan after the import");
}
