//! Checks across blocks, run once everything is decoded: each family's own
//! (`kinds::<family>::decode::check`, registered in `kinds::FAMILIES`: overlapping
//! networks, clusters and their networks, replication between buckets, backup
//! placements ...), and here what no one family holds: what a vault site may not
//! hold, manifests on disk, and environment settings that name spec blocks.

use super::decode::SpanTable;
use super::diagnostic::{did_you_mean, Diagnostics, SpecDiagnostic};
use super::environment::EnvSettings;
use super::files::{self, DigestInputs, ParsedFile, Sources};
use crate::model::{SiteRole, Topology};
use std::path::Path;

pub fn run(
    files_read: &Sources,
    t: &Topology,
    spans: &SpanTable,
    env: &EnvSettings,
    sources: &[ParsedFile],
    diags: &mut Diagnostics,
    digest: &mut DigestInputs,
) {
    vault_sites(t, spans, diags);
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
        diags.push(spans.at(&format!("cluster.{}", c.label), "site", d, "vault site"));
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
            diags.push(spans.at(&address, "site", d, "vault site"));
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
                diags.push(spans.at(&addr, "manifests", d, "outside the project"));
                continue;
            }
            if root.join(m).is_dir() {
                let d = SpecDiagnostic::new(
                    "drplan::manifest",
                    format!("manifest `{m}` is a folder, not a manifest file"),
                )
                .help(folder_help(root, m));
                diags.push(spans.at(&addr, "manifests", d, "a folder"));
                continue;
            }
            if !root.join(m).is_file() {
                let d = SpecDiagnostic::new(
                    "drplan::manifest",
                    format!("manifest `{m}` does not exist"),
                )
                .help("paths are relative to the project root (the folder holding specs/)");
                diags.push(spans.at(&addr, "manifests", d, "missing file"));
                continue;
            }
            let mut sink = Diagnostics::default();
            if files::read_text(files_read, m, &mut sink, digest).is_none() {
                for d in sink.0 {
                    diags.push(spans.at(&addr, "manifests", d, "unreadable manifest"));
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
