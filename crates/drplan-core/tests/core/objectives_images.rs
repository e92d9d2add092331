//! Readiness (issue 17): the container images of the workloads that run in the DR
//! site must be pulled from the DR region's registry, from a repository a `registry`
//! block replicates there; anything else is flagged with the workload, the image and
//! the fix. On the Lanka example, whose API image follows the active site's registry.

use drplan_core::objectives::{self, Verdict};

/// The Lanka example with `api_image` pulled from `registry` (an expression) and
/// `registry.hcl` replaced by `registries`.
fn lanka_with(image_region: &str, registries: &str) -> objectives::ObjectivesReport {
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lanka-platform");
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&root, dir.path());
    let vars = dir.path().join("specs/variables.hcl");
    let text = std::fs::read_to_string(&vars).expect("variables.hcl");
    let text = text.replace("${local.registry_region}", image_region);
    std::fs::write(&vars, text).expect("write");
    std::fs::write(dir.path().join("specs/registry.hcl"), registries).expect("write");
    let p = drplan_core::spec::load_project(dir.path(), "prod")
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    objectives::for_project(&p)
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn image_finding(report: &objectives::ObjectivesReport) -> &objectives::readiness::Finding {
    report
        .readiness
        .iter()
        .find(|f| f.what == "image")
        .unwrap_or_else(|| panic!("no image finding: {:?}", report.readiness))
}

#[test]
fn a_dr_workload_pulling_from_an_unreplicated_registry_is_flagged() {
    let replicated = r#"
registry "api" {
  site         = site.primary
  name         = "${local.name}/api"
  replicate_to = [site.dr]
}
"#;
    // The example as written: the DR API pulls from us-east-1, replicated there.
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lanka-platform");
    let p = drplan_core::spec::load_project(&root, "prod").expect("lanka loads");
    let report = objectives::for_project(&p);
    let f = image_finding(&report);
    assert_eq!(f.verdict, Verdict::Pass, "{f:?}");
    assert!(f
        .subject
        .contains("kubernetes.dr_apps.Deployment.lanka-platform.lanka-platform-api"));

    // Pulled from the primary's region although replicated: the pull dies with it.
    let report = lanka_with("us-west-2", replicated);
    let f = image_finding(&report);
    assert_eq!(f.verdict, Verdict::Fail);
    assert!(report.has_failures());
    assert!(
        f.fix.as_deref().is_some_and(|fix| fix
            .contains("123456789012.dkr.ecr.us-east-1.amazonaws.com/lanka-platform-prod/api")),
        "{f:?}"
    );

    // Not replicated at all: the fix names the block and what to add.
    let report = lanka_with(
        "us-west-2",
        &replicated.replace("  replicate_to = [site.dr]\n", ""),
    );
    let f = image_finding(&report);
    assert_eq!(f.verdict, Verdict::Fail);
    assert!(
        f.detail
            .contains("no registry block replicates lanka-platform-prod/api to us-east-1"),
        "{f:?}"
    );
    assert!(
        f.fix
            .as_deref()
            .is_some_and(|fix| fix.contains("add replicate_to = [site.dr] to registry.api")),
        "{f:?}"
    );
    // It points at the manifest that names the image.
    assert!(
        f.source
            .as_ref()
            .is_some_and(|s| s.file == "k8s/apps/api.yaml"),
        "{f:?}"
    );

    // From the DR region with no block saying how images get there: a warning.
    let report = lanka_with("us-east-1", "");
    assert_eq!(image_finding(&report).verdict, Verdict::Warn);
}
