//! What each backup engine runs: the tool that takes a backup into `/backup`, and
//! the tool that restores one from there. Commands are POSIX `sh` scripts that read
//! their targets from environment variables (`HOST`, `DESTINATION`, `SOURCE`), so no
//! spec value is ever spliced into shell text.
//!
//! Connection credentials come from an optional Secret `<label>-backup` in the
//! policy's namespace, passed to the tool containers as environment variables
//! (`NEO4J_USERNAME`/`NEO4J_PASSWORD`, `PGUSER`/`PGPASSWORD`/`PGDATABASE`,
//! `REDISCLI_AUTH`, `QDRANT_API_KEY`, anything for custom commands).

use crate::model::Backup;

/// The AWS CLI image that moves backups between `/backup` and S3.
pub const AWS_CLI_IMAGE: &str = "amazon/aws-cli:2.17.50";
pub const BACKUP_DIR: &str = "/backup";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupType {
    Full,
    Incremental,
}

impl BackupType {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupType::Full => "full",
            BackupType::Incremental => "incremental",
        }
    }
}

pub fn default_image(engine: &str) -> &'static str {
    match engine {
        "neo4j" => "neo4j:5.26-enterprise",
        "postgres" => "postgres:16",
        "redis" => "redis:7.4",
        "qdrant" => "curlimages/curl:8.10.1",
        _ => "alpine:3.20",
    }
}

/// The data store's service host: the spec's `host`, else `<label>.<namespace>.svc`
/// with the label as a DNS name (`app_config` -> `app-config`, as the generated
/// objects are named).
pub fn host(b: &Backup) -> String {
    b.host.clone().unwrap_or_else(|| {
        format!(
            "{}.{}.svc",
            super::backup_jobs::object_name(&b.label),
            b.namespace
        )
    })
}

/// How one backup run works for an engine.
pub struct BackupSteps {
    /// Before the tool runs, fetch the latest full backup into `/backup` (a base
    /// for tools whose incremental backups extend a previous one).
    pub fetch_base: bool,
    pub command: Vec<String>,
}

pub fn backup_steps(b: &Backup, kind: BackupType) -> BackupSteps {
    let sh = |script: &str| vec!["/bin/sh".to_string(), "-c".to_string(), script.to_string()];
    match (b.engine.as_str(), kind) {
        ("neo4j", BackupType::Full) => BackupSteps {
            fetch_base: false,
            command: sh("set -eu\nneo4j-admin database backup --from=\"$HOST:6362\" --to-path=/backup --type=FULL \"${NEO4J_DATABASE:-neo4j}\""),
        },
        // A differential backup extends the chain of the latest full one, so the chain
        // is fetched first and only the new artifact is uploaded.
        ("neo4j", BackupType::Incremental) => BackupSteps {
            fetch_base: true,
            command: sh("set -eu\nneo4j-admin database backup --from=\"$HOST:6362\" --to-path=/backup --type=DIFF \"${NEO4J_DATABASE:-neo4j}\""),
        },
        // The full backup is a logical dump because that is what a restore can load
        // over the network; the incremental one is a physical base backup with WAL,
        // for point-in-time recovery tooling.
        ("postgres", BackupType::Full) => BackupSteps {
            fetch_base: false,
            command: sh("set -eu\npg_dump --host=\"$HOST\" --format=custom --file=\"/backup/${PGDATABASE:-postgres}.pgdump\""),
        },
        ("postgres", BackupType::Incremental) => BackupSteps {
            fetch_base: false,
            command: sh("set -eu\npg_basebackup --host=\"$HOST\" --pgdata=/backup/base --format=tar --gzip --wal-method=fetch"),
        },
        ("redis", _) => BackupSteps {
            fetch_base: false,
            command: sh("set -eu\nredis-cli -h \"$HOST\" --rdb /backup/dump.rdb"),
        },
        ("qdrant", _) => BackupSteps { fetch_base: false, command: sh(QDRANT_BACKUP) },
        _ => BackupSteps { fetch_base: false, command: b.command.clone() },
    }
}

/// One snapshot per collection, downloaded as `<collection>.snapshot`: collection
/// snapshots are what Qdrant can restore through its API.
const QDRANT_BACKUP: &str = r#"set -eu
auth=""; [ -n "${QDRANT_API_KEY:-}" ] && auth="api-key: $QDRANT_API_KEY"
base="http://$HOST:6333"
for c in $(curl -sf -H "$auth" "$base/collections" | grep -o '"name":"[^"]*"' | cut -d'"' -f4); do
  snap=$(curl -sf -H "$auth" -X POST "$base/collections/$c/snapshots?wait=true" | grep -o '"name":"[^"]*"' | head -n 1 | cut -d'"' -f4)
  curl -sf -H "$auth" -o "/backup/$c.snapshot" "$base/collections/$c/snapshots/$snap"
done"#;

const QDRANT_RESTORE: &str = r#"set -eu
auth=""; [ -n "${QDRANT_API_KEY:-}" ] && auth="api-key: $QDRANT_API_KEY"
for f in /backup/*.snapshot; do
  c=$(basename "$f" .snapshot)
  curl -sf -H "$auth" -X POST "http://$HOST:6333/collections/$c/snapshots/upload?priority=snapshot" -F "snapshot=@$f"
done"#;

/// Neo4j restores a remote database by seeding it from the backup's URI; the fetch
/// step writes that URI to `/backup/seed-uri`. The server needs the S3 seed provider
/// (`dbms.databases.seed_from_uri_providers=S3SeedProvider`).
const NEO4J_RESTORE: &str = r#"set -eu
db="${NEO4J_DATABASE:-neo4j}"
cypher-shell -a "neo4j://$HOST:7687" -d system "CREATE OR REPLACE DATABASE \`$db\` OPTIONS {seedURI: '$(cat /backup/seed-uri)'} WAIT"
"#;

/// The restore command, or why there is none.
pub fn restore_command(b: &Backup) -> Result<Vec<String>, String> {
    if !b.restore_command.is_empty() {
        return Ok(b.restore_command.clone());
    }
    let sh = |script: &str| {
        Ok(vec![
            "/bin/sh".to_string(),
            "-c".to_string(),
            script.to_string(),
        ])
    };
    match b.engine.as_str() {
        "neo4j" => sh(NEO4J_RESTORE),
        "postgres" => sh("set -eu\npg_restore --host=\"$HOST\" --clean --if-exists --no-owner --dbname=\"${PGDATABASE:-postgres}\" /backup/*.pgdump"),
        "qdrant" => sh(QDRANT_RESTORE),
        "redis" => Err("Redis cannot load an RDB file over the network, so drplan has no built-in restore for it".into()),
        _ => Err("a custom engine restores with its own command".into()),
    }
}

/// Uploads `/backup` to `$DESTINATION<UTC timestamp>/`. With `only_new`, files
/// fetched as a base (older than the `.drplan-fetched` marker) stay behind.
///
/// After a complete upload it writes the recovery point (`$RECOVERY_POINT`, a small
/// JSON object: time, engine, kind, size, checksum, source site, run): what plan and
/// drift read to judge the RPO on what really exists (`objectives::recovery_points`).
/// Written last, so a failed upload never records a recovery point.
pub fn upload_script(only_new: bool) -> String {
    let select = if only_new {
        "find /backup -type f ! -name .drplan-fetched -newer /backup/.drplan-fetched"
    } else {
        "find /backup -type f"
    };
    format!(
        "set -eu\nstamp=$(date -u +%Y%m%dT%H%M%SZ)\n{select} | sort > /tmp/drplan-files\n\
         while read -r f; do\n  aws s3 cp --only-show-errors \"$f\" \"$DESTINATION$stamp/${{f#/backup/}}\"\ndone < /tmp/drplan-files\n\
         size=$(cat /tmp/drplan-files | while read -r f; do cat \"$f\"; done | wc -c | tr -d ' ')\n\
         sum=$(cat /tmp/drplan-files | while read -r f; do cat \"$f\"; done | sha256sum | cut -d' ' -f1)\n\
         printf '{{\"format\":1,\"time\":\"%s\",\"engine\":\"%s\",\"kind\":\"%s\",\"size_bytes\":%s,\"sha256\":\"%s\",\"source_site\":\"%s\",\"run\":\"%s\"}}\\n' \\\n  \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\" \"$ENGINE\" \"$BACKUP_TYPE\" \"$size\" \"$sum\" \"$SOURCE_SITE\" \"$DESTINATION$stamp/\" > /tmp/drplan-recovery-point.json\n\
         aws s3 cp --only-show-errors --content-type application/json /tmp/drplan-recovery-point.json \"$RECOVERY_POINT\"\n\
         echo \"uploaded to $DESTINATION$stamp/\""
    )
}

/// Downloads the newest backup under `$SOURCE` (run directories are UTC timestamps,
/// so the last in sort order is the latest) into `/backup`.
pub fn fetch_latest_script(engine: &str) -> String {
    let seed = if engine == "neo4j" {
        "\nartifact=$(ls /backup | grep '\\.backup$' | sort | tail -n 1)\necho \"$SOURCE$latest$artifact\" > /backup/seed-uri"
    } else {
        ""
    };
    format!(
        "set -eu\nlatest=$(aws s3 ls \"$SOURCE\" | sed -n 's/^ *PRE \\(.*\\)$/\\1/p' | sort | tail -n 1)\n[ -n \"$latest\" ] || {{ echo \"no backup found under $SOURCE\" >&2; exit 1; }}\naws s3 cp --recursive --only-show-errors \"$SOURCE$latest\" /backup/\ntouch /backup/.drplan-fetched{seed}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objectives::recovery_points::RecoveryPoint;

    /// `backup "app_config"` without `host` gave `HOST=app_config.<ns>.svc`, which is
    /// not a DNS name: no backup or restore could reach the store.
    #[test]
    fn a_default_host_from_a_label_with_an_underscore_is_a_dns_name() {
        let b = crate::spec::load_project(
            std::path::Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../examples/lanka-platform"
            )),
            "prod",
        )
        .expect("the lanka example loads")
        .topology
        .backups
        .get("app_config")
        .cloned()
        .expect("backup app_config");
        assert!(b.host.is_none(), "the example leaves host to the default");
        assert_eq!(host(&b), format!("app-config.{}.svc", b.namespace));
    }
    use std::process::Command;

    /// The generated upload script, run by `/bin/sh` with an `aws` on PATH that
    /// copies to a local directory: it uploads every file and then writes a recovery
    /// point drplan can read, with the size and checksum of what it uploaded.
    #[test]
    fn the_upload_script_records_a_recovery_point_drplan_reads() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let backup = root.join("backup");
        std::fs::create_dir_all(&backup).unwrap();
        std::fs::write(backup.join("neo4j.backup"), b"0123456789").unwrap();
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        // `aws s3 cp [flags] FROM s3://TO`: the destination becomes a path under store/.
        let fake_aws = format!(
            "#!/bin/sh\nfor a in \"$@\"; do last_but=$prev; prev=$a; done\nto=\"{}/store/${{prev#s3://}}\"\nmkdir -p \"$(dirname \"$to\")\"\ncp \"$last_but\" \"$to\"\n",
            root.display()
        );
        let aws = bin.join("aws");
        std::fs::write(&aws, fake_aws).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&aws, std::fs::Permissions::from_mode(0o755)).unwrap();
        let script = upload_script(false).replace(BACKUP_DIR, &backup.display().to_string());
        let out = Command::new("/bin/sh")
            .arg("-c")
            .arg(&script)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("DESTINATION", "s3://bk/neo4j/full/")
            .env("RECOVERY_POINT", "s3://bk/neo4j/recovery-points/full.json")
            .env("ENGINE", "neo4j")
            .env("BACKUP_TYPE", "full")
            .env("SOURCE_SITE", "primary")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let point = std::fs::read(root.join("store/bk/neo4j/recovery-points/full.json")).unwrap();
        let point: RecoveryPoint = serde_json::from_slice(&point).unwrap();
        assert_eq!(point.engine, "neo4j");
        assert_eq!(point.kind, "full");
        assert_eq!(point.size_bytes, Some(10));
        assert_eq!(
            point.sha256.as_deref(),
            Some("84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882")
        );
        assert_eq!(point.source_site.as_deref(), Some("primary"));
        let run = point.run.unwrap();
        assert!(run.starts_with("s3://bk/neo4j/full/"), "{run}");
        let uploaded = root
            .join("store")
            .join(run.trim_start_matches("s3://"))
            .join("neo4j.backup");
        assert!(uploaded.exists(), "{}", uploaded.display());
        assert!((chrono::Utc::now() - point.time).num_seconds() < 60);
    }
}
