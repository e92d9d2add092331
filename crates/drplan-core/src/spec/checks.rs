//! Checks across blocks, run once everything is decoded (and each family's own,
//! `kinds::<family>::decode::check`, registered in `kinds::FAMILIES`): overlapping
//! networks,
//! clusters and their networks, replication between buckets, backup placements,
//! manifests on disk, and environment settings that name spec blocks.

use super::decode::SpanTable;
use super::diagnostic::{did_you_mean, Diagnostics, SpecDiagnostic};
use super::environment::EnvSettings;
use super::files::{self, DigestInputs, ParsedFile, Sources};
use crate::model::{SiteRole, Topology};
use ipnet::Ipv4Net;
use std::collections::BTreeMap;
use std::path::Path;

fn at(
    spans: &SpanTable,
    address: &str,
    attr: &str,
    d: SpecDiagnostic,
    label: &str,
) -> SpecDiagnostic {
    match spans.get(address, attr) {
        Some((f, span)) => d.at(f, span.clone(), label),
        None => d,
    }
}

pub fn run(
    files_read: &Sources,
    t: &Topology,
    spans: &SpanTable,
    env: &EnvSettings,
    sources: &[ParsedFile],
    diags: &mut Diagnostics,
    digest: &mut DigestInputs,
) {
    networks(t, spans, diags);
    clusters(t, spans, diags);
    vault_sites(t, spans, diags);
    buckets(t, spans, diags);
    backups(t, spans, diags);
    for check in crate::kinds::FAMILIES.iter().filter_map(|f| f.check) {
        check(t, spans, env, diags);
    }
    manifests(files_read, t, spans, diags, digest);
    site_accounts(t, env, sources, diags);
    {
        for (label, (_, span)) in &env.cluster_access {
            let file = env.cluster_access_file.get(label).copied().unwrap_or(0);
            let Some(f) = sources.get(file) else {
                continue;
            };
            if !t.clusters.contains_key(label) && !f.source.text.is_empty() {
                diags.push(
                    SpecDiagnostic::new(
                        "drplan::unresolved_reference",
                        format!("cluster_access \"{label}\" names no cluster of the spec"),
                    )
                    .at(&f.source, span.clone(), "unknown cluster")
                    .help(
                        did_you_mean(label, t.clusters.keys().map(String::as_str))
                            .unwrap_or_else(|| "use a cluster block's label".into()),
                    ),
                );
            }
        }
    }
}

/// A `site_account` names a site; two sites sharing a region share an account (a
/// region's requests are made with one set of credentials).
fn site_accounts(t: &Topology, env: &EnvSettings, sources: &[ParsedFile], diags: &mut Diagnostics) {
    for (site, (account, span, file)) in &env.site_accounts {
        let Some(f) = sources.get(*file) else {
            continue;
        };
        let Some(s) = t.sites.get(site) else {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::unresolved_reference",
                    format!("site_account \"{site}\" names no site of the spec"),
                )
                .at(&f.source, span.clone(), "unknown site")
                .help(
                    did_you_mean(site, t.sites.keys().map(String::as_str))
                        .unwrap_or_else(|| "use a site block's label".into()),
                ),
            );
            continue;
        };
        let account_of = |other: &str| {
            env.site_accounts
                .get(other)
                .map(|(a, _, _)| a.account_id.clone())
        };
        if let Some(other) = t.sites.values().find(|o| {
            o.name != *site
                && o.region == s.region
                && account_of(&o.name).as_deref() != Some(account.account_id.as_str())
        }) {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::invalid_value",
                    format!(
                        "sites \"{site}\" and \"{}\" share region {} but not their account",
                        other.name, s.region
                    ),
                )
                .at(&f.source, span.clone(), "this site's account")
                .help("drplan makes a region's requests with one account's credentials: give both sites the same site_account, or put them in different regions"),
            );
        }
    }
}

fn networks(t: &Topology, spans: &SpanTable, diags: &mut Diagnostics) {
    let mut by_site: BTreeMap<&str, Vec<(&str, Ipv4Net)>> = BTreeMap::new();
    for n in t.networks.values() {
        let Ok(cidr) = n.cidr.parse::<Ipv4Net>() else {
            continue;
        };
        let list = by_site.entry(n.site.as_str()).or_default();
        if let Some((other, ocidr)) = list
            .iter()
            .find(|(_, o)| o.contains(&cidr.network()) || cidr.contains(&o.network()))
        {
            let d = SpecDiagnostic::new(
                "drplan::cidr_overlap",
                format!(
                    "network \"{}\" ({cidr}) overlaps network \"{other}\" ({ocidr}) in site \"{}\"",
                    n.name, n.site
                ),
            )
            .help("networks of one site must not overlap (they may be peered)");
            diags.push(at(
                spans,
                &format!("network.{}", n.name),
                "cidr",
                d,
                "overlapping range",
            ));
        }
        list.push((n.name.as_str(), cidr));
    }
}

fn clusters(t: &Topology, spans: &SpanTable, diags: &mut Diagnostics) {
    for c in t.clusters.values() {
        let addr = format!("cluster.{}", c.label);
        let Some(net) = t.networks.get(&c.network) else {
            continue;
        };
        if net.site != c.site {
            let d = SpecDiagnostic::new(
                "drplan::wrong_site",
                format!(
                    "cluster \"{}\" is in site \"{}\" but network \"{}\" is in site \"{}\"",
                    c.label, c.site, net.name, net.site
                ),
            )
            .help("use a network of the cluster's own site");
            diags.push(at(spans, &addr, "network", d, "network of another site"));
        }
        for s in &c.subnets {
            if !net.subnets.contains_key(s) {
                let d = SpecDiagnostic::new(
                    "drplan::unresolved_reference",
                    format!("network \"{}\" has no subnet \"{s}\"", net.name),
                )
                .help(
                    did_you_mean(s, net.subnets.keys().map(String::as_str)).unwrap_or_else(|| {
                        format!(
                            "subnets: {}",
                            net.subnets.keys().cloned().collect::<Vec<_>>().join(", ")
                        )
                    }),
                );
                diags.push(at(spans, &addr, "subnets", d, "unknown subnet"));
            }
        }
        for g in c.node_groups.values() {
            for s in &g.subnets {
                if !net.subnets.contains_key(s) {
                    let d = SpecDiagnostic::new(
                        "drplan::unresolved_reference",
                        format!("network \"{}\" has no subnet \"{s}\"", net.name),
                    )
                    .help(
                        did_you_mean(s, net.subnets.keys().map(String::as_str))
                            .unwrap_or_else(|| "name a subnet of the cluster's network".into()),
                    );
                    diags.push(at(
                        spans,
                        &format!("{addr}.node_group.{}", g.name),
                        "subnets",
                        d,
                        "unknown subnet",
                    ));
                }
            }
        }
    }
}

/// A vault site only keeps copies: nothing serves from it, so nothing there can be
/// brought up in a failover (clusters, DNS targets) — and it is never activated.
fn vault_sites(t: &Topology, spans: &SpanTable, diags: &mut Diagnostics) {
    let is_vault = |site: &str| t.sites.get(site).is_some_and(|s| s.role == SiteRole::Vault);
    let help = "a vault site (role = \"vault\") holds backup copies only: buckets and keys; serve from a primary or dr site";
    for c in t.clusters.values().filter(|c| is_vault(&c.site)) {
        let d = SpecDiagnostic::new(
            "drplan::vault_site",
            format!("cluster \"{}\" is in site \"{}\", a vault", c.label, c.site),
        )
        .help(help);
        diags.push(at(
            spans,
            &format!("cluster.{}", c.label),
            "site",
            d,
            "vault site",
        ));
    }
    for dns in t.dns.values() {
        for target in dns.targets.iter().filter(|x| is_vault(&x.site)) {
            let d = SpecDiagnostic::new(
                "drplan::vault_site",
                format!(
                    "dns \"{}\" target \"{}\" serves from site \"{}\", a vault",
                    dns.label, target.name, target.site
                ),
            )
            .help(help);
            let address = format!("dns.{}.target.{}", dns.label, target.name);
            diags.push(at(spans, &address, "site", d, "vault site"));
        }
    }
}

fn buckets(t: &Topology, spans: &SpanTable, diags: &mut Diagnostics) {
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    for b in t.buckets.values() {
        let addr = format!("bucket.{}", b.label);
        if let Some(other) = names.insert(b.name.as_str(), b.label.as_str()) {
            let d = SpecDiagnostic::new(
                "drplan::duplicate_name",
                format!(
                    "buckets \"{other}\" and \"{}\" are both named `{}`",
                    b.label, b.name
                ),
            )
            .help("S3 bucket names are global: give each bucket its own name");
            diags.push(at(spans, &addr, "name", d, "name used twice"));
        }
        access_logs(t, spans, b, diags);
        let Some(rep) = &b.replication else { continue };
        for rule in &rep.rules {
            let Some(dest) = t.buckets.get(&rule.destination) else {
                continue;
            };
            if dest.site == b.site {
                let d = SpecDiagnostic::new(
                    "drplan::replication",
                    format!(
                        "bucket \"{}\" replicates to \"{}\" in the same site \"{}\"",
                        b.label, dest.label, b.site
                    ),
                )
                .help("cross-region replication needs a destination bucket in another site");
                diags.push(at(
                    spans,
                    &addr,
                    "replication.destination",
                    d,
                    "same-site destination",
                ));
            }
            if dest.label == b.label {
                continue;
            }
            for (who, bucket) in [("source", b), ("destination", dest)] {
                if !bucket.versioning {
                    let d = SpecDiagnostic::new(
                        "drplan::replication",
                        format!("replication needs versioning, but the {who} bucket \"{}\" has versioning = false", bucket.label),
                    )
                    .help("set versioning = true on both buckets of a replication");
                    diags.push(at(
                        spans,
                        &format!("bucket.{}", bucket.label),
                        "versioning",
                        d,
                        "versioning is off",
                    ));
                }
            }
        }
    }
}

/// What S3 requires of a server access log target: the source's region, not the
/// source itself (its own log writes would be logged without end), no Object Lock
/// default retention, and SSE-S3 rather than SSE-KMS default encryption.
fn access_logs(t: &Topology, spans: &SpanTable, b: &crate::model::Bucket, diags: &mut Diagnostics) {
    let Some(logging) = &b.logging else { return };
    let Some(target) = t.buckets.get(&logging.target) else {
        return;
    };
    let addr = format!("bucket.{}", b.label);
    let mut refuse = |message: String, help: &str, label: &str| {
        let d = SpecDiagnostic::new("drplan::access_logs", message).help(help.to_string());
        diags.push(at(spans, &addr, "logging.target", d, label));
    };
    if target.label == b.label {
        refuse(
            format!("bucket \"{}\" logs into itself", b.label),
            "S3 would log its own log deliveries without end: use a bucket kept for logs",
            "itself",
        );
    } else if target.site != b.site {
        refuse(
            format!(
                "bucket \"{}\" in site \"{}\" logs into bucket \"{}\" in site \"{}\"",
                b.label, b.site, target.label, target.site
            ),
            "S3 delivers access logs only to a bucket in the source's region: use a log bucket of the same site",
            "another site's bucket",
        );
    }
    if target.object_lock.is_some() {
        refuse(
            format!("bucket \"{}\" receives access logs but has an Object Lock default retention", target.label),
            "S3 does not deliver access logs to a bucket with a default retention: log into a bucket without object_lock",
            "locked target",
        );
    }
    if target
        .encryption
        .as_ref()
        .is_some_and(|e| e.algorithm == "aws:kms")
    {
        refuse(
            format!("bucket \"{}\" receives access logs but is encrypted with aws:kms", target.label),
            "S3 delivers access logs only to buckets encrypted with SSE-S3: algorithm = \"AES256\" on the log bucket",
            "KMS-encrypted target",
        );
    }
}

fn backups(t: &Topology, spans: &SpanTable, diags: &mut Diagnostics) {
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
                    diags.push(at(spans, &paddr, "cluster", d, "cluster of another site"));
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
                    diags.push(at(spans, &paddr, "bucket", d, "bucket of another site"));
                }
            }
        }
    }
}

fn manifests(
    files_read: &Sources,
    t: &Topology,
    spans: &SpanTable,
    diags: &mut Diagnostics,
    digest: &mut DigestInputs,
) {
    let root = files_read.root();
    for k in t.kubernetes.values() {
        let addr = format!("kubernetes.{}", k.label);
        for m in &k.manifests {
            let escapes = Path::new(m).is_absolute()
                || Path::new(m)
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir));
            if escapes {
                let d = SpecDiagnostic::new(
                    "drplan::manifest",
                    format!("manifest `{m}` is outside the project"),
                )
                .help("manifest paths are relative to the project root, e.g. k8s/app.yaml");
                diags.push(at(spans, &addr, "manifests", d, "outside the project"));
                continue;
            }
            if root.join(m).is_dir() {
                let d = SpecDiagnostic::new(
                    "drplan::manifest",
                    format!("manifest `{m}` is a folder, not a manifest file"),
                )
                .help(folder_help(root, m));
                diags.push(at(spans, &addr, "manifests", d, "a folder"));
                continue;
            }
            if !root.join(m).is_file() {
                let d = SpecDiagnostic::new(
                    "drplan::manifest",
                    format!("manifest `{m}` does not exist"),
                )
                .help("paths are relative to the project root (the folder holding specs/)");
                diags.push(at(spans, &addr, "manifests", d, "missing file"));
                continue;
            }
            let mut sink = Diagnostics::default();
            if files::read_text(files_read, m, &mut sink, digest).is_none() {
                for d in sink.0 {
                    diags.push(at(spans, &addr, "manifests", d, "unreadable manifest"));
                }
            }
        }
    }
}

/// What to write instead of a folder in `manifests`: its YAML files, listed.
fn folder_help(root: &Path, dir: &str) -> String {
    let mut files: Vec<String> = std::fs::read_dir(root.join(dir))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
                .map(|n| format!("\"{}/{n}\"", dir.trim_end_matches('/')))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    if files.is_empty() {
        "list manifest files (YAML), e.g. manifests = [\"k8s/app.yaml\"]; this folder holds none"
            .to_string()
    } else {
        format!(
            "list the manifest files themselves: manifests = [{}]",
            files.join(", ")
        )
    }
}
