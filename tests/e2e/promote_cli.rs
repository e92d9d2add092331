//! `drplan promote` end to end: exit codes, what goes to stdout (the diff only) and
//! what is written.

use assert_cmd::Command;
use std::path::Path;

fn scratch() -> tempfile::TempDir {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/drplan-core/tests/promote_fixture");
    let dir = tempfile::tempdir().expect("tempdir");
    for sub in ["specs", "environments"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        for entry in std::fs::read_dir(fixture.join(sub)).expect("fixture dir") {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), dir.path().join(sub).join(entry.file_name())).expect("copy");
        }
    }
    dir
}

fn promote(root: &Path, extra: &[&str]) -> std::process::Output {
    Command::cargo_bin("drplan")
        .expect("drplan binary")
        .env("NO_COLOR", "1")
        .arg("-C")
        .arg(root)
        .args(["promote", "--from", "staging", "--to", "prod"])
        .args(extra)
        .output()
        .expect("run drplan")
}

#[test]
fn shows_the_diff_then_writes_it() {
    let dir = scratch();
    let prod = dir.path().join("environments/prod.hcl");
    let before = std::fs::read_to_string(&prod).expect("read");

    let shown = promote(dir.path(), &[]);
    assert_eq!(shown.status.code(), Some(2), "changes shown, not written");
    let diff = String::from_utf8_lossy(&shown.stdout);
    assert!(diff.starts_with("--- a/environments/prod.hcl\n+++ b/environments/prod.hcl\n"), "{diff}");
    assert!(diff.contains("+  api_image_tag = \"v2.4.0-rc1\"\n"), "{diff}");
    assert_eq!(std::fs::read_to_string(&prod).expect("read"), before, "nothing written without --write");

    let written = promote(dir.path(), &["--write"]);
    assert_eq!(written.status.code(), Some(0), "{}", String::from_utf8_lossy(&written.stderr));
    let after = std::fs::read_to_string(&prod).expect("read");
    assert!(after.contains("# Pinned until the 1.30 soak in staging is over."));
    assert!(after.contains("cluster_version = \"1.30\" # keep in step with the DR runbook"));
    assert!(String::from_utf8_lossy(&written.stderr).contains("Run `drplan plan -e prod`"));

    let again = promote(dir.path(), &[]);
    assert_eq!(again.status.code(), Some(0));
    assert!(again.stdout.is_empty());
    assert!(String::from_utf8_lossy(&again.stderr).contains("Nothing to promote"));
}

#[test]
fn refuses_a_source_that_breaches_its_objectives_unless_forced() {
    let dir = scratch();
    std::fs::write(
        dir.path().join("specs/objectives.hcl"),
        "objectives {\n  component \"orders\" {\n    rpo = \"1h\"\n  }\n}\n",
    )
    .expect("write objectives");

    let refused = promote(dir.path(), &["--write"]);
    assert_eq!(refused.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("no backup policy, RPO 1h"), "{stderr}");
    assert!(stderr.contains("Refusing to promote from staging"), "{stderr}");
    assert!(!std::fs::read_to_string(dir.path().join("environments/prod.hcl")).expect("read").contains("v2.4.0-rc1"));

    let forced = promote(dir.path(), &["--write", "--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", String::from_utf8_lossy(&forced.stderr));
    assert!(std::fs::read_to_string(dir.path().join("environments/prod.hcl")).expect("read").contains("v2.4.0-rc1"));
}
