//! aws_ecr_repository -> `registry`, aws_ecr_lifecycle_policy -> its
//! `lifecycle_policy` (matched by `repository`), aws_ecr_replication_configuration (one
//! per registry: account and region) -> the `replicate_to` of the repositories its
//! rules name, where a rule has drplan's form (filters that are each a PREFIX_MATCH on
//! exactly the name of a repository of the state in that region: `kinds::ecr`). Import
//! id: the repository name.

use super::state::Instance;
use super::{with_tags, Out};
use crate::address::Address;
use crate::adopt::config::{Block, Value};
use crate::resource::Kind;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

/// The ECR resources of a state.
pub(super) struct Parts {
    pub repositories: Vec<Instance>,
    pub lifecycle_policies: Vec<Instance>,
    pub replication: Vec<Instance>,
}

impl Parts {
    pub fn all(&self) -> impl Iterator<Item = &Instance> {
        self.repositories
            .iter()
            .chain(&self.lifecycle_policies)
            .chain(&self.replication)
    }
}

pub(super) fn convert(parts: &Parts, out: &mut Out) {
    // (region, repository name) -> the sites its registry's rules copy it to.
    let mut replicate_to: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let names_in = |region: &str| -> BTreeSet<String> {
        parts
            .repositories
            .iter()
            .filter(|r| r.region().as_deref() == Some(region))
            .filter_map(|r| r.str("name").map(str::to_string))
            .collect()
    };
    // AWS provider 5 writes no region on a replication configuration: the region of
    // the state's repositories, when they are all in one.
    let repository_regions: BTreeSet<String> = parts
        .repositories
        .iter()
        .filter_map(Instance::region)
        .collect();
    let only_region = match repository_regions.len() {
        1 => repository_regions.into_iter().next(),
        _ => None,
    };
    for c in &parts.replication {
        let Some(region) = c.region().or_else(|| only_region.clone()) else {
            out.uncover(&c.source, "the state does not say its region");
            continue;
        };
        let names = names_in(&region);
        let rules = c
            .first("replication_configuration")
            .and_then(|rc| rc.get("rule"))
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        for (n, rule) in rules.iter().enumerate() {
            let filters: Vec<(&str, &str)> = list(rule, "repository_filter")
                .iter()
                .map(|f| {
                    (
                        f.get("filter_type").and_then(Json::as_str).unwrap_or(""),
                        f.get("filter").and_then(Json::as_str).unwrap_or(""),
                    )
                })
                .collect();
            let drplans = !filters.is_empty()
                && filters
                    .iter()
                    .all(|(t, f)| *t == "PREFIX_MATCH" && names.contains(*f));
            if !drplans {
                out.uncover(
                    format!("{} rule {n}", c.source),
                    "not in drplan's form (every filter a PREFIX_MATCH on exactly the name of a repository of the state): left as it is, drplan writes such rules back untouched",
                );
                continue;
            }
            let mut sites = BTreeSet::new();
            for d in list(rule, "destination") {
                let dest_region = d.get("region").and_then(Json::as_str).unwrap_or("");
                let same_account = match (
                    d.get("registry_id").and_then(Json::as_str),
                    c.str("registry_id"),
                ) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
                match out.sites.get(dest_region) {
                    Some(site) if same_account => {
                        sites.insert(site.clone());
                    }
                    _ => out.uncover(
                        format!("{} rule {n}", c.source),
                        format!("its destination {dest_region} is no site of this account: add a `site` block for it"),
                    ),
                }
            }
            for (_, name) in &filters {
                replicate_to
                    .entry((region.clone(), name.to_string()))
                    .or_default()
                    .extend(sites.iter().cloned());
            }
        }
    }

    let mut placed: BTreeSet<(String, String)> = BTreeSet::new();
    for r in &parts.repositories {
        let Some(name) = r.str("name").or_else(|| r.str("id")) else {
            out.uncover(&r.source, "the state has no repository name");
            continue;
        };
        let Some(site) = out.site_of(r) else { continue };
        let region = r.region().unwrap_or_default();
        placed.insert((region.clone(), name.to_string()));
        let label = out.label("registry", &r.name);
        out.adopt(
            Address::block("registry", &label),
            Kind::EcrRepository,
            name,
            &r.source,
        );
        let mut block = Block::new("registry")
            .label(&label)
            .attr("site", Value::raw(format!("site.{site}")))
            .attr("name", name);
        if let Some(sites) = replicate_to.get(&(region.clone(), name.to_string())) {
            block.push_attr(
                "replicate_to",
                Value::List(
                    sites
                        .iter()
                        .map(|s| Value::raw(format!("site.{s}")))
                        .collect(),
                ),
            );
        }
        let policy = parts
            .lifecycle_policies
            .iter()
            .find(|p| p.str("repository") == Some(name) && in_region(p, &region))
            .and_then(|p| p.str("policy"));
        if let Some(policy) = policy {
            block.push_attr("lifecycle_policy", policy);
        }
        if let Some(m) = r.str("image_tag_mutability").filter(|m| *m != "MUTABLE") {
            block.push_attr("image_tag_mutability", m);
        }
        let scan = r
            .first("image_scanning_configuration")
            .and_then(|c| c.get("scan_on_push"))
            .and_then(Json::as_bool)
            .unwrap_or(false);
        if scan {
            block.push_attr("scan_on_push", true);
        }
        if r.first("encryption_configuration")
            .and_then(|e| e.get("encryption_type"))
            .and_then(Json::as_str)
            .is_some_and(|t| t != "AES256")
        {
            out.uncover(
                &r.source,
                "its KMS encryption is not expressed by a `registry` block: drplan neither reads nor changes it",
            );
        }
        out.block(with_tags(block, r.tags()));
    }
    for p in &parts.lifecycle_policies {
        let repository = p.str("repository").unwrap_or_default();
        if !placed
            .iter()
            .any(|(region, name)| name == repository && in_region(p, region))
        {
            out.uncover(
                &p.source,
                format!(
                    "its repository {} is not converted",
                    p.str("repository").unwrap_or("(none)")
                ),
            );
        }
    }
}

/// Whether `i` is in `region`, or says no region (AWS provider 5's split resources).
fn in_region(i: &Instance, region: &str) -> bool {
    i.region().is_none_or(|r| r == region)
}

/// A nested block list of a JSON object.
fn list<'a>(v: &'a Json, key: &str) -> &'a [Json] {
    v.get(key)
        .and_then(Json::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}
