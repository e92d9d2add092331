//! `kubernetes` and `backup` blocks: what runs in the clusters.

use crate::model::{Backup, BackupPlacement, Kubernetes, Schedule, Topology};
use crate::spec::body::{self, BlockBody, Schema};
use crate::spec::decode::{check_arn, label_of, object, source_ref, Cx, SpanTable};
use crate::spec::diagnostic::{did_you_mean, Diagnostics, SpecDiagnostic};
use crate::spec::duration::{check_cron, parse_duration, whole_days, DURATION_HELP};
use hcl::Value;
use std::collections::BTreeMap;
use std::time::Duration;

pub const KUBERNETES_SCHEMA: Schema = Schema::new(
    &[
        "cluster",
        "manifests",
        "namespaces",
        "enabled",
        "depends_on",
    ],
    &["lifecycle"],
);

/// The `kubernetes` block in the table of blocks (registered in `kinds::FAMILIES`).
pub const KUBERNETES_BLOCK: crate::spec::blocks::Block =
    crate::spec::blocks::Block::family::<Kubernetes>(
        "kubernetes",
        &["name", "cluster", "address"],
        8,
        &KUBERNETES_SCHEMA,
    )
    .varying_by_environment();

impl crate::spec::decode::FamilyBlock for Kubernetes {
    fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Self> {
        decode_kubernetes(label, b, cx)
    }

    fn object(&self, _: &BTreeMap<String, crate::model::Site>) -> Value {
        kubernetes_object(self)
    }

    fn models(t: &mut crate::model::Topology) -> &mut BTreeMap<String, Self> {
        &mut t.kubernetes
    }
}
pub const BACKUP_SCHEMA: Schema = Schema::new(
    &[
        "engine",
        "component",
        "namespace",
        "host",
        "image",
        "prefix",
        "replication_role_arn",
        "command",
        "restore_command",
        "verify_command",
        "restore_estimate",
        "depends_on",
    ],
    &["full", "incremental", "retention", "placement"],
);

/// The `backup` block in the table of blocks (registered in `kinds::FAMILIES`).
pub const BACKUP_BLOCK: crate::spec::blocks::Block = crate::spec::blocks::Block::family::<Backup>(
    "backup",
    &["name", "engine", "component", "address"],
    9,
    &BACKUP_SCHEMA,
)
.varying_by_environment();

impl crate::spec::decode::FamilyBlock for Backup {
    fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Self> {
        decode_backup(label, b, cx)
    }

    fn object(&self, _: &BTreeMap<String, crate::model::Site>) -> Value {
        backup_object(self)
    }

    fn models(t: &mut crate::model::Topology) -> &mut BTreeMap<String, Self> {
        &mut t.backups
    }
}
const SCHEDULE: Schema = Schema::new(&["schedule"], &[]);
const RETENTION: Schema = Schema::new(&["local", "cross_region"], &[]);
const PLACEMENT: Schema = Schema::new(&["cluster", "bucket"], &[]);

pub const ENGINES: &[&str] = &["neo4j", "postgres", "redis", "qdrant", "custom"];

pub fn decode_kubernetes(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Kubernetes> {
    if !b.has("cluster") {
        b.missing(
            cx.diags,
            "cluster",
            "the cluster to apply to: cluster = cluster.primary",
        );
    }
    let cluster = b.block_ref(cx.diags, cx.scope, "cluster", "cluster");
    let manifests = b.string_list(cx.diags, "manifests").unwrap_or_default();
    cx.spans
        .record(&format!("kubernetes.{label}"), "manifests", b);
    let namespaces = b.string_list(cx.diags, "namespaces").unwrap_or_default();
    for ns in &namespaces {
        if !is_dns_label(ns) {
            b.invalid(
                cx.diags,
                "drplan::invalid_value",
                "namespaces",
                format!("`{ns}` is not a valid namespace name"),
                "lowercase letters, digits and `-`, at most 63 characters",
            );
        }
    }
    let enabled = b.bool(cx.diags, "enabled").unwrap_or(true);
    let ignore_changes = crate::spec::decode::lifecycle::ignore_changes(
        b,
        cx,
        |p| {
            let identity = [
                "apiVersion",
                "kind",
                "metadata",
                "metadata.name",
                "metadata.namespace",
            ];
            if p.is_empty() || p.split('.').any(str::is_empty) {
                Err("write a dotted path into the manifests, e.g. spec.replicas".into())
            } else if identity.contains(&p) || p.starts_with("metadata.name.") {
                Err("it identifies the object".into())
            } else if p == "metadata.labels"
                || p.starts_with("metadata.labels.app.kubernetes.io/managed-by")
            {
                Err("drplan's marks live there".into())
            } else {
                Ok(())
            }
        },
        "e.g. lifecycle { ignore_changes = [\"spec.replicas\"] } for Deployments an HPA scales",
    );
    Some(Kubernetes {
        label: label.to_string(),
        cluster: cluster?,
        manifests,
        namespaces,
        enabled,
        ignore_changes,
        source: source_ref(b),
    })
}

pub fn decode_backup(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Backup> {
    let address = format!("backup.{label}");
    let engine = b.required_string(
        cx.diags,
        "engine",
        "one of: neo4j, postgres, redis, qdrant, custom",
    );
    if let Some(e) = &engine {
        if !ENGINES.contains(&e.as_str()) {
            b.invalid(
                cx.diags,
                "drplan::invalid_value",
                "engine",
                format!("backup engine `{e}` is not known"),
                did_you_mean(e, ENGINES.iter().copied())
                    .unwrap_or_else(|| format!("use one of: {}", ENGINES.join(", "))),
            );
        }
    }
    let component = b
        .string(cx.diags, "component")
        .unwrap_or_else(|| label.to_string());
    let namespace = b.required_string(
        cx.diags,
        "namespace",
        "the Kubernetes namespace the data store runs in",
    );
    let host = b.string(cx.diags, "host");
    let image = b.string(cx.diags, "image");
    let prefix = b
        .string(cx.diags, "prefix")
        .unwrap_or_else(|| format!("{label}/"));
    let replication_role_arn = b.string(cx.diags, "replication_role_arn");
    check_arn(
        b,
        cx,
        "replication_role_arn",
        replication_role_arn.as_deref(),
    );
    let command = b.string_list(cx.diags, "command").unwrap_or_default();
    let restore_command = b
        .string_list(cx.diags, "restore_command")
        .unwrap_or_default();
    let verify_command = b
        .string_list(cx.diags, "verify_command")
        .unwrap_or_default();
    let restore_estimate =
        b.string(cx.diags, "restore_estimate")
            .and_then(|s| match parse_duration(&s) {
                Ok(d) => Some(d),
                Err(e) => {
                    b.invalid(
                        cx.diags,
                        "drplan::duration",
                        "restore_estimate",
                        e,
                        DURATION_HELP,
                    );
                    None
                }
            });
    if engine.as_deref() == Some("custom") && command.is_empty() {
        b.missing(
            cx.diags,
            "command",
            "engine = \"custom\" runs your own backup command: command = [\"sh\", \"-c\", \"...\"]",
        );
    }

    let schedule = |ident: &str, b: &BlockBody, cx: &mut Cx| -> Option<Schedule> {
        let block = b.nested(ident).next()?;
        let mut s = body::read(b.file, block, &SCHEDULE, cx.scope, cx.ctx, cx.diags);
        let cron = s.required_string(
            cx.diags,
            "schedule",
            "a five-field cron expression in UTC, e.g. \"0 2 * * *\"",
        )?;
        if let Err(e) = check_cron(&cron) {
            s.invalid(cx.diags, "drplan::schedule", "schedule", format!("schedule `{cron}` is not a valid cron expression: {e}"), "five fields, UTC: minute hour day-of-month month day-of-week, e.g. \"0 * * * *\" = hourly");
            return None;
        }
        let (line, column) = s.file.line_col(s.span("schedule").start);
        Some(Schedule {
            cron,
            source: crate::resource::SourceRef {
                file: s.file.path.clone(),
                line,
                column,
            },
        })
    };
    let full_schedule = schedule("full", b, cx);
    let incremental_schedule = schedule("incremental", b, cx);
    if b.nested("full").next().is_none() {
        cx.diags.push(
            SpecDiagnostic::new(
                "drplan::missing_block",
                format!("backup \"{label}\" has no full schedule"),
            )
            .at(b.file, b.header.clone(), "no `full` block")
            .help("add full { schedule = \"0 2 * * *\" }"),
        );
    }

    let (mut local_retention, mut cross_region_retention) = (None, None);
    for rb in b.nested("retention").collect::<Vec<_>>() {
        let mut r = body::read(b.file, rb, &RETENTION, cx.scope, cx.ctx, cx.diags);
        local_retention = retention(&mut r, cx, "local");
        cross_region_retention = retention(&mut r, cx, "cross_region");
        cx.spans.record(&address, "retention", &r);
    }

    let mut placements = BTreeMap::new();
    for pb in b.nested("placement").collect::<Vec<_>>() {
        let mut p = body::read(b.file, pb, &PLACEMENT, cx.scope, cx.ctx, cx.diags);
        let Some(site) = label_of(pb) else {
            cx.diags.push(
                SpecDiagnostic::new("drplan::missing_label", "placement needs a site label")
                    .at(b.file, p.header.clone(), "no label")
                    .help("write placement \"primary\" { cluster = ..., bucket = ... }"),
            );
            continue;
        };
        if !cx.scope.is_declared("site", &site) {
            cx.diags.push(
                SpecDiagnostic::new(
                    "drplan::unresolved_reference",
                    format!("there is no site \"{site}\""),
                )
                .at(b.file, p.header.clone(), "placement label names a site")
                .help(
                    did_you_mean(&site, cx.scope.labels("site"))
                        .unwrap_or_else(|| "label each placement with a site's label".into()),
                ),
            );
            continue;
        }
        if placements.contains_key(&site) {
            cx.diags.push(
                SpecDiagnostic::new(
                    "drplan::duplicate_label",
                    format!("placement \"{site}\" is declared twice"),
                )
                .at(b.file, p.header.clone(), "again here")
                .help("one placement per site"),
            );
            continue;
        }
        for attr in ["cluster", "bucket"] {
            if !p.has(attr) {
                p.missing(
                    cx.diags,
                    attr,
                    "a placement names the cluster backups run in and the bucket they land in",
                );
            }
        }
        let cluster = p.block_ref(cx.diags, cx.scope, "cluster", "cluster");
        let bucket = p.block_ref(cx.diags, cx.scope, "bucket", "bucket");
        let paddr = format!("{address}.placement.{site}");
        cx.spans.record(&paddr, "cluster", &p);
        cx.spans.record(&paddr, "bucket", &p);
        if let (Some(cluster), Some(bucket)) = (cluster, bucket) {
            placements.insert(
                site.clone(),
                BackupPlacement {
                    site,
                    cluster,
                    bucket,
                },
            );
        }
    }
    if placements.is_empty() && b.nested("placement").next().is_none() {
        cx.diags.push(
            SpecDiagnostic::new(
                "drplan::missing_block",
                format!("backup \"{label}\" has no placement"),
            )
            .at(b.file, b.header.clone(), "no `placement` block")
            .help(
                "add placement \"primary\" { cluster = cluster.primary, bucket = bucket.backups }",
            ),
        );
    }
    Some(Backup {
        label: label.to_string(),
        engine: engine?,
        component,
        namespace: namespace?,
        host,
        image,
        command,
        restore_command,
        verify_command,
        restore_estimate,
        full_schedule,
        incremental_schedule,
        prefix,
        local_retention,
        cross_region_retention,
        placements,
        replication_role_arn,
        source: source_ref(b),
    })
}

fn retention(b: &mut BlockBody, cx: &mut Cx, attr: &str) -> Option<Duration> {
    let s = b.string(cx.diags, attr)?;
    match parse_duration(&s) {
        Ok(d) if whole_days(d).is_some() => Some(d),
        Ok(_) => {
            b.invalid(
                cx.diags,
                "drplan::retention",
                attr,
                format!("retention `{s}` is not a whole number of days"),
                "S3 lifecycle rules count in days: e.g. \"30d\"",
            );
            None
        }
        Err(e) => {
            b.invalid(cx.diags, "drplan::duration", attr, e, DURATION_HELP);
            None
        }
    }
}

/// What `kubernetes.<label>` evaluates to (for `depends_on` and objectives
/// components).
pub fn kubernetes_object(k: &Kubernetes) -> Value {
    object(&[
        ("name", Value::from(k.label.clone())),
        ("cluster", Value::from(format!("cluster.{}", k.cluster))),
        ("address", Value::from(format!("kubernetes.{}", k.label))),
    ])
}

pub fn backup_object(bk: &Backup) -> Value {
    object(&[
        ("name", Value::from(bk.label.clone())),
        ("engine", Value::from(bk.engine.clone())),
        ("component", Value::from(bk.component.clone())),
        ("address", Value::from(format!("backup.{}", bk.label))),
    ])
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Across blocks: a backup placement's cluster and bucket are in the placement's site.
pub fn check(t: &Topology, spans: &SpanTable, diags: &mut Diagnostics) {
    for b in t.backups.values() {
        for p in b.placements.values() {
            let paddr = format!("backup.{}.placement.{}", b.label, p.site);
            if let Some(c) = t.clusters.get(&p.cluster) {
                if c.site != p.site {
                    let d = SpecDiagnostic::new(
                        "drplan::wrong_site",
                        format!(
                            "placement \"{}\" uses cluster \"{}\" of site \"{}\"",
                            p.site, c.label, c.site
                        ),
                    )
                    .help("a placement's cluster and bucket are in the placement's site");
                    diags.push(spans.at(&paddr, "cluster", d, "cluster of another site"));
                }
            }
            if let Some(bk) = t.buckets.get(&p.bucket) {
                if bk.site != p.site {
                    let d = SpecDiagnostic::new(
                        "drplan::wrong_site",
                        format!(
                            "placement \"{}\" uses bucket \"{}\" of site \"{}\"",
                            p.site, bk.label, bk.site
                        ),
                    )
                    .help("a placement's cluster and bucket are in the placement's site");
                    diags.push(spans.at(&paddr, "bucket", d, "bucket of another site"));
                }
            }
        }
    }
}
