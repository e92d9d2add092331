//! Recovery objectives against the live cloud (issue 12), through the real binary.

use crate::secrets_e2e::world;
use crate::support::cli::{drplan, explain, stdout};
use crate::support::files::copy_dir;
use std::path::PathBuf;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Drift exited 2 on a breach when there was drift too, contrary to the docs and the
/// CI example: a breach outranks drift (3), and `--allow-objective-breach` downgrades.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_with_a_breached_rpo_exits_3_not_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for sub in ["environments", "specs", "k8s"] {
        copy_dir(&repo_root().join(sub), &root.join(sub));
    }
    let (moto, _clusters) = world().await;
    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    // Backups every 6 hours under a 1h RPO: the CronJob drifts and the RPO breaks.
    let storage = root.join("specs/storage.hcl");
    let text = std::fs::read_to_string(&storage).expect("read storage.hcl");
    std::fs::write(
        &storage,
        text.replace(
            "incremental { schedule = \"0 * * * *\" }",
            "incremental { schedule = \"0 */6 * * *\" }",
        ),
    )
    .expect("write storage.hcl");

    let out = drplan(&moto, root, &["drift", "-e", "prod"]);
    assert_eq!(out.status.code(), Some(3), "{}", explain(&out));
    let text = stdout(&out);
    assert!(text.contains("longest gap 6h > RPO 1h"), "{text}");
    assert!(
        text.contains("orders-db-backup-incremental") || text.contains("cronjob.incremental"),
        "the drift is reported too:\n{text}"
    );

    let out = drplan(
        &moto,
        root,
        &["drift", "-e", "prod", "--format", "markdown"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", explain(&out));
    let md = stdout(&out);
    assert!(md.contains("### Objectives"), "{md}");
    assert!(md.contains("| **FAIL** | rpo |"), "{md}");

    let out = drplan(
        &moto,
        root,
        &["drift", "-e", "prod", "--allow-objective-breach"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "plan follows the same precedence\n{}",
        explain(&out)
    );
}
