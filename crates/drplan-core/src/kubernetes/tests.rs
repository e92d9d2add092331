use super::*;
use crate::model::{
    Backup, BackupPlacement, Bucket, Cluster, Kubernetes, NodeGroup, Schedule, Site, Variable,
};
use crate::resource::Kind;
use serde_json::json;
use std::time::Duration;

fn src(file: &str, line: usize) -> SourceRef {
    SourceRef {
        file: file.into(),
        line,
        column: 1,
    }
}

fn site(name: &str, region: &str, role: SiteRole) -> Site {
    Site {
        name: name.into(),
        region: region.into(),
        role,
        active: false,
        source: src("specs/main.hcl", 1),
    }
}

fn cluster(label: &str, site: &str) -> Cluster {
    let group = NodeGroup {
        ignore_changes: Vec::new(),
        name: "general".into(),
        node_role_arn: "arn:aws:iam::123456789012:role/node".into(),
        instance_types: vec!["m5.large".into()],
        min_size: 1,
        max_size: 3,
        desired_size: 2,
        disk_size: 20,
        capacity_type: "ON_DEMAND".into(),
        labels: Default::default(),
        subnets: vec![],
        tags: Default::default(),
        source: src("specs/clusters.hcl", 10),
    };
    Cluster {
        label: label.into(),
        name: format!("lanka-{label}"),
        site: site.into(),
        version: "1.29".into(),
        role_arn: "arn:aws:iam::123456789012:role/eks".into(),
        network: label.into(),
        subnets: vec![],
        node_groups: [("general".to_string(), group)].into(),
        protect: true,
        tags: Default::default(),
        security: Default::default(),
        source: src("specs/clusters.hcl", 1),
    }
}

fn bucket(label: &str, name: &str, site: &str) -> Bucket {
    Bucket {
        label: label.into(),
        name: name.into(),
        site: site.into(),
        versioning: true,
        encryption: None,
        lifecycle_rules: vec![],
        replication: None,
        block_public_access: None,
        logging: None,
        object_lock: None,
        protect: true,
        tags: Default::default(),
        source: src("specs/storage.hcl", 1),
    }
}

fn backup(label: &str, engine: &str) -> Backup {
    let placement = |site: &str, cluster: &str, bucket: &str| BackupPlacement {
        site: site.into(),
        cluster: cluster.into(),
        bucket: bucket.into(),
    };
    Backup {
        label: label.into(),
        engine: engine.into(),
        component: label.into(),
        namespace: "lanka-platform".into(),
        host: Some(format!("{label}.lanka-platform.svc")),
        image: None,
        command: vec![],
        restore_command: vec![],
        verify_command: vec![],
        restore_estimate: None,
        full_schedule: Some(Schedule {
            cron: "0 2 * * *".into(),
            source: src("specs/storage.hcl", 24),
        }),
        incremental_schedule: Some(Schedule {
            cron: "0 * * * *".into(),
            source: src("specs/storage.hcl", 25),
        }),
        prefix: format!("{label}/"),
        local_retention: Some(Duration::from_secs(30 * 86_400)),
        cross_region_retention: Some(Duration::from_secs(90 * 86_400)),
        placements: [
            (
                "primary".to_string(),
                placement("primary", "primary", "backups"),
            ),
            ("dr".to_string(), placement("dr", "dr", "backups_dr")),
        ]
        .into(),
        replication_role_arn: None,
        source: src("specs/storage.hcl", 20),
    }
}

/// The lanka platform, reduced: two sites, a cluster and a bucket in each, a neo4j
/// backup policy, and a `kubernetes` block with two manifest files.
fn topology() -> Topology {
    let mut t = Topology::default();
    t.sites.insert(
        "primary".into(),
        site("primary", "us-west-2", SiteRole::Primary),
    );
    t.sites
        .insert("dr".into(), site("dr", "us-east-1", SiteRole::Dr));
    t.clusters
        .insert("primary".into(), cluster("primary", "primary"));
    t.clusters.insert("dr".into(), cluster("dr", "dr"));
    t.buckets.insert(
        "backups".into(),
        bucket("backups", "lanka-backups", "primary"),
    );
    t.buckets.insert(
        "backups_dr".into(),
        bucket("backups_dr", "lanka-backups-dr", "dr"),
    );
    t.backups.insert("neo4j".into(), backup("neo4j", "neo4j"));
    t.variables.insert(
        "api_replicas".into(),
        Variable {
            name: "api_replicas".into(),
            value: json!(3),
            sensitive: false,
            promote: false,
            description: None,
            source: src("specs/main.hcl", 5),
        },
    );
    t.kubernetes.insert(
        "app".into(),
        Kubernetes {
            ignore_changes: Vec::new(),
            label: "app".into(),
            cluster: "primary".into(),
            manifests: vec!["k8s/namespace.yaml".into(), "k8s/app.yaml".into()],
            namespaces: vec!["lanka-platform".into(), "monitoring".into()],
            enabled: true,
            source: src("specs/k8s.hcl", 1),
        },
    );
    t
}

const NAMESPACE_YAML: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: lanka-platform\n  labels:\n    team: platform\n";
const APP_YAML: &str = "# the API\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: lanka-platform\nspec:\n  replicas: ${var.api_replicas}\n  template:\n    spec:\n      containers:\n        - name: api\n          image: \"lanka/api:${local.version}\"\n---\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: lanka-platform\nstringData:\n  password: ${var.db_password}\n";

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, text) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, text).expect("write");
    }
    dir
}

fn vars() -> Map<String, Value> {
    match json!({"var": {"db_password": "hunter2"}, "local": {"version": "1.4.2"}}) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn env(active: &str) -> Environment {
    Environment {
        stack: "lanka".into(),
        active_site: active.into(),
        ..Default::default()
    }
}

fn lower_ok(t: &Topology, active: &str) -> Vec<Resource> {
    let dir = project(&[
        ("k8s/namespace.yaml", NAMESPACE_YAML),
        ("k8s/app.yaml", APP_YAML),
    ]);
    match lower(
        t,
        &env(active),
        &crate::spec::files::Sources::new(dir.path()),
        &vars(),
    ) {
        Ok(r) => r,
        Err(e) => panic!("{e:?}"),
    }
}

fn find<'a>(rs: &'a [Resource], address: &str) -> &'a Resource {
    rs.iter()
        .find(|r| r.address.as_str() == address)
        .unwrap_or_else(|| {
            panic!(
                "no {address} among {:?}",
                rs.iter().map(|r| r.address.as_str()).collect::<Vec<_>>()
            )
        })
}

#[test]
fn primary_active_objects_and_their_addresses() {
    let rs = lower_ok(&topology(), "primary");
    let addresses: Vec<&str> = rs.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(
        addresses,
        vec![
            "kubernetes.app.Namespace.lanka-platform",
            "kubernetes.app.Deployment.lanka-platform.api",
            "kubernetes.app.Secret.lanka-platform.db",
            "kubernetes.app.Namespace.monitoring",
            "backup.neo4j.placement.primary.cronjob.full",
            "backup.neo4j.placement.primary.cronjob.incremental",
        ]
    );
    assert!(rs.iter().all(|r| r.kind == Kind::K8sObject));

    // The manifest's Namespace (with its labels) wins over the generated one.
    let ns = find(&rs, "kubernetes.app.Namespace.lanka-platform");
    assert_eq!(
        ns.attrs["manifest"]["metadata"]["labels"]["team"],
        "platform"
    );
    assert_eq!(
        ns.depends_on,
        vec![Address::new("cluster.primary.node_group.general")]
    );
    assert_eq!(ns.source, Some(src("k8s/namespace.yaml", 1)));

    let api = find(&rs, "kubernetes.app.Deployment.lanka-platform.api");
    assert_eq!(api.region.as_deref(), Some("us-west-2"));
    assert_eq!(api.site.as_deref(), Some("primary"));
    assert_eq!(api.attrs["cluster"], "cluster.primary");
    assert_eq!(api.attrs["api_version"], "apps/v1");
    assert_eq!(api.attrs["namespace"], "lanka-platform");
    assert_eq!(api.attrs["manifest"]["spec"]["replicas"], 3);
    assert_eq!(
        api.attrs["manifest"]["spec"]["template"]["spec"]["containers"][0]["image"],
        "lanka/api:1.4.2"
    );
    assert_eq!(api.source, Some(src("k8s/app.yaml", 3)));
    assert_eq!(
        api.depends_on,
        vec![
            Address::new("cluster.primary.node_group.general"),
            Address::new("kubernetes.app.Namespace.lanka-platform")
        ]
    );
    let labels = &api.attrs["manifest"]["metadata"]["labels"];
    assert_eq!(labels["app.kubernetes.io/managed-by"], "drplan");
    assert_eq!(labels["drplan.io/stack"], "lanka");
    assert_eq!(
        api.attrs["manifest"]["metadata"]["annotations"]["drplan.io/address"],
        "kubernetes.app.Deployment.lanka-platform.api"
    );

    let secret = find(&rs, "kubernetes.app.Secret.lanka-platform.db");
    assert_eq!(
        secret.sensitive,
        vec!["manifest.data", "manifest.stringData"]
    );
}

#[test]
fn backup_cronjobs_run_the_engine_tool_into_the_active_bucket() {
    let rs = lower_ok(&topology(), "primary");
    let full = find(&rs, "backup.neo4j.placement.primary.cronjob.full");
    assert_eq!(full.attrs["cluster"], "cluster.primary");
    assert_eq!(full.attrs["name"], "neo4j-backup-full");
    assert_eq!(full.attrs["namespace"], "lanka-platform");
    // The namespace is generated in that cluster, so the CronJob waits for it.
    assert!(full
        .depends_on
        .contains(&Address::new("kubernetes.app.Namespace.lanka-platform")));
    let m = &full.attrs["manifest"];
    assert_eq!(m["spec"]["schedule"], "0 2 * * *");
    assert_eq!(m["spec"]["concurrencyPolicy"], "Forbid");
    let pod = &m["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    let tool = pod["initContainers"][0]["command"][2]
        .as_str()
        .unwrap_or_default();
    assert!(
        tool.contains("neo4j-admin database backup") && tool.contains("--type=FULL"),
        "{tool}"
    );
    let upload = &pod["containers"][0];
    assert_eq!(upload["image"], AWS_CLI_IMAGE);
    assert_eq!(
        upload["env"][1],
        json!({"name": "DESTINATION", "value": "s3://lanka-backups/neo4j/full/"})
    );
    assert_eq!(
        upload["env"][0],
        json!({"name": "AWS_REGION", "value": "us-west-2"})
    );

    let incr = find(&rs, "backup.neo4j.placement.primary.cronjob.incremental");
    let pod = &incr.attrs["manifest"]["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["initContainers"][0]["name"], "fetch-base");
    assert!(pod["initContainers"][1]["command"][2]
        .as_str()
        .unwrap_or_default()
        .contains("--type=DIFF"));
    assert!(!rs
        .iter()
        .any(|r| r.address.as_str() == "backup.neo4j.placement.primary.job.restore"));
}

#[test]
fn dr_activation_moves_backups_and_adds_a_restore_job_reading_the_replica() {
    let mut t = topology();
    t.backups.insert("pg".into(), backup("pg", "postgres"));
    t.backups
        .insert("qdrant".into(), backup("qdrant", "qdrant"));
    let rs = lower_ok(&t, "dr");
    let restore = find(&rs, "backup.neo4j.placement.dr.job.restore");
    assert_eq!(restore.attrs["cluster"], "cluster.dr");
    assert_eq!(restore.region.as_deref(), Some("us-east-1"));
    assert_eq!(restore.attrs["kind"], "Job");
    assert_eq!(restore.attrs["name"], "neo4j-restore");
    let pod = &restore.attrs["manifest"]["spec"]["template"]["spec"];
    assert_eq!(
        pod["initContainers"][0]["env"][1],
        json!({"name": "SOURCE", "value": "s3://lanka-backups-dr/neo4j/full/"})
    );
    assert!(pod["containers"][0]["command"][2]
        .as_str()
        .unwrap_or_default()
        .contains("seedURI"));
    assert_eq!(
        find(&rs, "backup.neo4j.placement.dr.cronjob.full").attrs["cluster"],
        "cluster.dr"
    );

    let pg = &find(&rs, "backup.pg.placement.dr.job.restore").attrs["manifest"]["spec"]["template"]
        ["spec"]["containers"][0];
    assert!(pg["command"][2]
        .as_str()
        .unwrap_or_default()
        .contains("pg_restore"));
    assert_eq!(pg["image"], "postgres:16");
    let pg_full = &find(&rs, "backup.pg.placement.dr.cronjob.full").attrs["manifest"]["spec"]
        ["jobTemplate"]["spec"]["template"]["spec"];
    assert!(pg_full["initContainers"][0]["command"][2]
        .as_str()
        .unwrap_or_default()
        .contains("pg_dump"));
    let q = &find(&rs, "backup.qdrant.placement.dr.job.restore").attrs["manifest"]["spec"]
        ["template"]["spec"]["containers"][0];
    assert!(q["command"][2]
        .as_str()
        .unwrap_or_default()
        .contains("/snapshots/upload"));
}

#[test]
fn generated_cronjob_manifest() {
    let rs = lower_ok(&topology(), "primary");
    insta::assert_json_snapshot!(
        find(&rs, "backup.neo4j.placement.primary.cronjob.full").attrs["manifest"]
    );
}

#[test]
fn disabled_blocks_produce_nothing() {
    let mut t = topology();
    if let Some(k) = t.kubernetes.get_mut("app") {
        k.enabled = false;
    }
    let rs = lower_ok(&t, "primary");
    assert!(
        rs.iter().all(|r| r.address.as_str().starts_with("backup.")),
        "{rs:?}"
    );
}

#[test]
fn unknown_names_and_bad_documents_are_all_reported() {
    let app = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: ${var.nope}\n";
    let ns = "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n";
    let dir = project(&[("k8s/namespace.yaml", ns), ("k8s/app.yaml", app)]);
    let errors = lower(
        &topology(),
        &env("primary"),
        &crate::spec::files::Sources::new(dir.path()),
        &vars(),
    )
    .unwrap_err();
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        vec![
            "k8s/namespace.yaml:1: kubernetes.app: the object has no `metadata.name`",
            "k8s/app.yaml:6:6: kubernetes.app: ${var.nope} names nothing (help: known var names: api_replicas, db_password)",
        ]
    );
}

#[test]
fn missing_manifest_file_is_an_error() {
    let dir = project(&[]);
    let errors = lower(
        &topology(),
        &env("primary"),
        &crate::spec::files::Sources::new(dir.path()),
        &vars(),
    )
    .unwrap_err();
    assert_eq!(errors.len(), 2);
    assert!(
        errors[0]
            .to_string()
            .starts_with("kubernetes.app: cannot read manifest `k8s/namespace.yaml`"),
        "{}",
        errors[0]
    );
}

#[test]
fn redis_restore_without_a_command_is_reported_not_faked() {
    let mut t = topology();
    t.backups.insert("redis".into(), backup("redis", "redis"));
    let dir = project(&[
        ("k8s/namespace.yaml", NAMESPACE_YAML),
        ("k8s/app.yaml", APP_YAML),
    ]);
    assert!(lower(
        &t,
        &env("primary"),
        &crate::spec::files::Sources::new(dir.path()),
        &vars()
    )
    .is_ok());
    let errors = lower(
        &t,
        &env("dr"),
        &crate::spec::files::Sources::new(dir.path()),
        &vars(),
    )
    .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .message
            .contains("Redis cannot load an RDB file over the network"),
        "{}",
        errors[0]
    );
    assert_eq!(errors[0].block, "backup.redis");

    if let Some(b) = t.backups.get_mut("redis") {
        b.restore_command = vec![
            "sh".into(),
            "-c".into(),
            "cp /backup/dump.rdb /data/".into(),
        ];
    }
    let rs = match lower(
        &t,
        &env("dr"),
        &crate::spec::files::Sources::new(dir.path()),
        &vars(),
    ) {
        Ok(rs) => rs,
        Err(e) => panic!("{e:?}"),
    };
    assert_eq!(
        find(&rs, "backup.redis.placement.dr.job.restore").attrs["manifest"]["spec"]["template"]
            ["spec"]["containers"][0]["command"][2],
        "cp /backup/dump.rdb /data/"
    );
}

#[test]
fn the_same_object_twice_in_a_cluster_is_an_error() {
    let mut t = topology();
    let mut other = t.kubernetes["app"].clone();
    other.label = "copy".into();
    other.manifests = vec!["k8s/app.yaml".into()];
    other.namespaces = vec![];
    t.kubernetes.insert("copy".into(), other);
    let dir = project(&[
        ("k8s/namespace.yaml", NAMESPACE_YAML),
        ("k8s/app.yaml", APP_YAML),
    ]);
    let errors = lower(
        &t,
        &env("primary"),
        &crate::spec::files::Sources::new(dir.path()),
        &vars(),
    )
    .unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(
        errors[0].to_string(),
        "k8s/app.yaml:3: kubernetes.copy: Deployment `lanka-platform/api` in cluster `cluster.primary` is declared twice (also as `kubernetes.app.Deployment.lanka-platform.api`) (help: declare each object once per cluster)"
    );
}

#[test]
fn secret_values_never_reach_errors() {
    let app = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: hunter2\n  other: ${var.missing}\n";
    let dir = project(&[
        ("k8s/namespace.yaml", NAMESPACE_YAML),
        ("k8s/app.yaml", app),
    ]);
    let errors = lower(
        &topology(),
        &env("primary"),
        &crate::spec::files::Sources::new(dir.path()),
        &vars(),
    )
    .unwrap_err();
    for e in &errors {
        assert!(
            !e.to_string().contains("hunter2") && !format!("{e:?}").contains("hunter2"),
            "{e}"
        );
    }
}

#[test]
fn stack_names_must_fit_a_label() {
    let dir = project(&[]);
    let mut e = env("primary");
    e.stack = "lanka platform".into();
    let errors = lower(
        &topology(),
        &e,
        &crate::spec::files::Sources::new(dir.path()),
        &vars(),
    )
    .unwrap_err();
    assert!(errors[0]
        .to_string()
        .contains("cannot be a Kubernetes label value"));
}
