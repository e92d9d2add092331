//! Regression (issue 21, "A saved plan is executed as written"): `apply FILE` executes
//! the plan the spec and live state produce now; the file only approves it. A plan
//! file edited by hand — a Deployment scaled and its image swapped, a database
//! StatefulSet or a zone turned into a delete, a protection turned off — is refused
//! with exit 1 naming the address and the attribute, and nothing changes in the cloud
//! (read back through the SDK and the API server).

use crate::apply_e2e::empty_world;
use crate::support::cli::{drplan, explain, stderr};
use crate::support::clusters::Clusters;
use crate::support::files::copy_dir;
use crate::support::moto::MotoServer;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Output;

const API_IMAGE: &str = "ghcr.io/example/shop-api:1.0.0";

fn project_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().to_path_buf();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for sub in ["environments", "specs", "k8s"] {
        copy_dir(&repo.join(sub), &root.join(sub));
    }
    (dir, root)
}

fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}\n{}", explain(out));
}

fn read_plan(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("read the plan file")).expect("plan JSON")
}

/// The change of the primary cluster's Kubernetes object `kind`/`name`.
fn k8s_change<'a>(plan: &'a mut Value, kind: &str, name: &str) -> &'a mut Value {
    plan["changes"]
        .as_array_mut()
        .expect("changes")
        .iter_mut()
        .find(|c| {
            c["after"]["kind"] == kind
                && c["after"]["name"] == name
                && c["after"]["cluster"] == "cluster.primary"
        })
        .unwrap_or_else(|| panic!("no change for {kind} {name} in the primary cluster"))
}

fn change_at<'a>(plan: &'a mut Value, address: &str) -> &'a mut Value {
    plan["changes"]
        .as_array_mut()
        .expect("changes")
        .iter_mut()
        .find(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("no change at {address}"))
}

/// Writes `plan` beside the project and applies it; returns the run.
fn apply_edited(moto: &MotoServer, root: &Path, name: &str, plan: &Value) -> Output {
    let path = root.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(plan).expect("JSON"))
        .expect("write the edited plan");
    drplan(moto, root, &["apply", &path.display().to_string()])
}

fn assert_refused_naming(out: &Output, what: &str, names: &[&str]) {
    assert_exit(out, 1, what);
    let err = stderr(out);
    assert!(err.contains("the saved plan differs"), "{what}: {err}");
    for name in names {
        assert!(
            err.contains(name),
            "{what}: stderr does not name `{name}`:\n{err}"
        );
    }
}

async fn zone_names(moto: &MotoServer) -> Vec<String> {
    let zones = moto
        .route53()
        .list_hosted_zones()
        .send()
        .await
        .expect("ListHostedZones");
    zones
        .hosted_zones()
        .iter()
        .map(|z| z.name().to_string())
        .collect()
}

/// The Deployment and StatefulSet as the primary API server stores them.
fn workloads(clusters: &Clusters) -> (Value, Option<Value>) {
    let server = &clusters.servers[0];
    let deployment = server
        .object("apps/v1", "deployments", Some("shop"), "shop-api")
        .expect("the Deployment exists");
    (
        deployment,
        server.object("apps/v1", "statefulsets", Some("shop"), "orders-db"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_edited_saved_plan_is_refused_naming_the_difference_and_changes_nothing() {
    let (_dir, root) = project_copy();
    let (moto, clusters) = empty_world(&root).await;
    assert_exit(
        &drplan(&moto, &root, &["apply", "-e", "prod", "--auto-approve"]),
        0,
        "apply -e prod",
    );
    let saved = root.join("prod.plan");
    let out = drplan(
        &moto,
        &root,
        &["plan", "-e", "prod", "--out", &saved.display().to_string()],
    );
    assert_exit(&out, 0, "plan -e prod --out");
    let original = read_plan(&saved);

    // The Deployment scaled 2 -> 42 and its image swapped to another registry.
    let mut plan = original.clone();
    let deployment = k8s_change(&mut plan, "Deployment", "shop-api");
    let address = deployment["address"].as_str().expect("address").to_string();
    deployment["action"] = json!("update");
    let manifest = &mut deployment["after"]["manifest"];
    manifest["spec"]["replicas"] = json!(42);
    manifest["spec"]["template"]["spec"]["containers"][0]["image"] =
        json!("registry.evil.example/shop-api:1.0.0");
    let out = apply_edited(&moto, &root, "scaled.plan", &plan);
    assert_refused_naming(
        &out,
        "apply of a plan with the Deployment edited",
        &[
            &format!("{address}: after.manifest.spec.replicas is 42 in the file, 2 now"),
            &format!(
                "{address}: after.manifest.spec.template.spec.containers[0].image is \"registry.evil.example/shop-api:1.0.0\" in the file, \"{API_IMAGE}\" now"
            ),
            &format!("{address}: action is \"update\" in the file, \"no-op\" now"),
        ],
    );

    // The database StatefulSet turned into a delete.
    let mut plan = original.clone();
    let statefulset = k8s_change(&mut plan, "StatefulSet", "orders-db");
    let db_address = statefulset["address"]
        .as_str()
        .expect("address")
        .to_string();
    statefulset["action"] = json!("delete");
    statefulset["after"] = Value::Null;
    let out = apply_edited(&moto, &root, "drop-db.plan", &plan);
    assert_refused_naming(
        &out,
        "apply of a plan with a StatefulSet delete added",
        &[&format!(
            "{db_address}: action is \"delete\" in the file, \"no-op\" now"
        )],
    );

    // The protected zone turned into a delete, with its protection off.
    let mut plan = original.clone();
    let zone = change_at(&mut plan, "zone.public");
    zone["action"] = json!("delete");
    zone["after"] = Value::Null;
    zone["protect"] = json!(false);
    let out = apply_edited(&moto, &root, "drop-zone.plan", &plan);
    assert_refused_naming(
        &out,
        "apply of a plan with a zone delete added",
        &[
            "zone.public: action is \"delete\" in the file, \"no-op\" now",
            "zone.public: protect is false in the file, true now",
        ],
    );

    // A delete added beside the file's changes, at an address the spec does not have.
    let mut plan = original.clone();
    let mut extra = change_at(&mut plan, "zone.public").clone();
    extra["address"] = json!("zone.public_copy");
    extra["action"] = json!("delete");
    extra["after"] = Value::Null;
    extra["protect"] = json!(false);
    plan["changes"].as_array_mut().expect("changes").push(extra);
    let out = apply_edited(&moto, &root, "extra-delete.plan", &plan);
    assert_refused_naming(
        &out,
        "apply of a plan with an extra delete",
        &["zone.public_copy: the file has a delete that the spec and live state do not produce now"],
    );

    // Nothing was changed: read back.
    let (deployment, statefulset) = workloads(&clusters);
    assert_eq!(deployment["spec"]["replicas"], json!(2), "{deployment}");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        json!(API_IMAGE)
    );
    assert!(
        statefulset.is_some(),
        "the StatefulSet orders-db was deleted"
    );
    assert!(
        zone_names(&moto)
            .await
            .iter()
            .any(|z| z == "shop.example.com."),
        "the zone was deleted"
    );

    // The untouched file applies: the refusals were about the edits.
    let out = drplan(&moto, &root, &["apply", &saved.display().to_string()]);
    assert_exit(&out, 0, "apply of the untouched saved plan");
    assert_exit(
        &drplan(&moto, &root, &["plan", "-e", "prod", "--detailed-exitcode"]),
        0,
        "plan after",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protection_turned_off_in_a_saved_plan_is_refused_and_taken_from_the_spec() {
    let (_dir, root) = project_copy();
    let spare = root.join("specs/spare.hcl");
    std::fs::write(
        &spare,
        "zone \"spare\" {\n  name = \"spare.example.com\"\n}\n",
    )
    .expect("write spare.hcl");
    let (moto, _clusters) = empty_world(&root).await;
    assert_exit(
        &drplan(&moto, &root, &["apply", "-e", "prod", "--auto-approve"]),
        0,
        "apply -e prod",
    );
    assert!(zone_names(&moto)
        .await
        .iter()
        .any(|z| z == "spare.example.com."));

    // The zone leaves the spec; its delete is planned with --allow-destroy, protected.
    std::fs::remove_file(&spare).expect("remove spare.hcl");
    let saved = root.join("prune.plan");
    let saved_arg = saved.display().to_string();
    let out = drplan(
        &moto,
        &root,
        &[
            "plan",
            "-e",
            "prod",
            "--allow-destroy",
            "zone.spare",
            "--out",
            &saved_arg,
        ],
    );
    assert_exit(&out, 0, "plan -e prod --allow-destroy zone.spare --out");
    let mut plan = read_plan(&saved);
    let delete = change_at(&mut plan, "zone.spare");
    assert_eq!(
        (&delete["action"], &delete["protect"]),
        (&json!("delete"), &json!(true)),
        "{delete}"
    );

    // Protection flipped true -> false in the file, applied without --allow-destroy.
    delete["protect"] = json!(false);
    let out = apply_edited(&moto, &root, "unprotected.plan", &plan);
    assert_refused_naming(
        &out,
        "apply of a plan with the protection turned off",
        &["zone.spare: protect is false in the file, true now"],
    );
    assert!(
        zone_names(&moto)
            .await
            .iter()
            .any(|z| z == "spare.example.com."),
        "the protected zone was deleted"
    );

    // Protection comes from the spec: the untouched file still needs --allow-destroy.
    let out = drplan(&moto, &root, &["apply", &saved_arg]);
    assert_exit(
        &out,
        1,
        "apply of the protected delete without --allow-destroy",
    );
    assert!(
        stderr(&out).contains("--allow-destroy zone.spare"),
        "{}",
        explain(&out)
    );
    assert!(zone_names(&moto)
        .await
        .iter()
        .any(|z| z == "spare.example.com."));
    let out = drplan(
        &moto,
        &root,
        &["apply", &saved_arg, "--allow-destroy", "zone.spare"],
    );
    assert_exit(
        &out,
        0,
        "apply of the protected delete with --allow-destroy",
    );
    assert!(
        !zone_names(&moto)
            .await
            .iter()
            .any(|z| z == "spare.example.com."),
        "the zone is still there"
    );
    assert_exit(
        &drplan(&moto, &root, &["plan", "-e", "prod", "--detailed-exitcode"]),
        0,
        "plan after",
    );
}
