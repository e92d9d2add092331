//! aws_kms_key -> `kms_key`, aws_kms_replica_key -> a site in its key's `replicas`
//! (matched by `primary_key_arn`), aws_kms_alias -> the key's `alias` (matched by
//! `target_key_arn` or `target_key_id`; in drplan the alias is an attribute of the key
//! and of each replica, one name in every region). Import ids: the key id (a replica
//! shares its key's).

use super::state::Instance;
use super::{with_tags, Out};
use crate::address::Address;
use crate::adopt::config::{Block, Value};
use crate::kinds::kms::replica_address;
use crate::resource::Kind;

/// The KMS resources of a state.
pub(super) struct Parts {
    pub keys: Vec<Instance>,
    pub replicas: Vec<Instance>,
    pub aliases: Vec<Instance>,
}

impl Parts {
    pub fn all(&self) -> impl Iterator<Item = &Instance> {
        self.keys.iter().chain(&self.replicas).chain(&self.aliases)
    }
}

/// The key id of a key or replica: `key_id`, else the id (a key id or, as
/// `adopt::live` writes it, the ARN).
fn key_id(i: &Instance) -> Option<&str> {
    i.str("key_id").or_else(|| i.str("id"))
}

/// Whether `alias` points at the key `arn` / `id`.
fn targets(alias: &Instance, arn: Option<&str>, id: Option<&str>) -> bool {
    let target_arn = alias.str("target_key_arn");
    let target_id = alias.str("target_key_id");
    (arn.is_some() && (target_arn == arn || target_id == arn)) || (id.is_some() && target_id == id)
}

pub(super) fn convert(parts: &Parts, out: &mut Out) {
    let mut used_aliases = vec![false; parts.aliases.len()];
    let mut placed_replicas = vec![false; parts.replicas.len()];
    for key in &parts.keys {
        let arn = key.str("arn");
        let Some(id) = key_id(key) else {
            out.uncover(&key.source, "the state has no key id");
            continue;
        };
        let Some(site) = out.site_of(key) else {
            continue;
        };
        if key.str("key_usage").is_some_and(|u| u != "ENCRYPT_DECRYPT")
            || key
                .str("customer_master_key_spec")
                .is_some_and(|s| s != "SYMMETRIC_DEFAULT")
        {
            out.uncover(
                &key.source,
                "not a symmetric encryption key: drplan's keys are SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT",
            );
            continue;
        }
        let multi_region = key.bool("multi_region").unwrap_or(false);
        let label = out.label("kms_key", &key.name);
        let address = Address::block("kms_key", &label);
        out.adopt(address.clone(), Kind::KmsKey, id, &key.source);
        let mut block = Block::new("kms_key")
            .label(&label)
            .attr("site", Value::raw(format!("site.{site}")))
            .attr("multi_region", multi_region);

        // The replicas of this key, each in its site.
        let mut replica_sites: Vec<String> = Vec::new();
        for (n, r) in parts.replicas.iter().enumerate() {
            if arn.is_none() || r.str("primary_key_arn") != arn {
                continue;
            }
            placed_replicas[n] = true;
            let Some(replica_site) = out.site_of(r) else {
                continue;
            };
            if replica_site == site || replica_sites.contains(&replica_site) {
                out.uncover(
                    &r.source,
                    format!("site \"{replica_site}\" holds a copy of this key already: a key has one copy per site"),
                );
                continue;
            }
            if r.str("description") != key.str("description") {
                out.uncover(
                    &r.source,
                    "its description differs from its key's: drplan gives a replica its key's, the plan after import shows the change",
                );
            }
            let replica_id = key_id(r).unwrap_or(id);
            out.adopt(
                replica_address(&address, &replica_site),
                Kind::KmsReplicaKey,
                replica_id,
                &r.source,
            );
            replica_sites.push(replica_site);
        }
        if !replica_sites.is_empty() {
            block.push_attr(
                "replicas",
                Value::List(
                    replica_sites
                        .iter()
                        .map(|s| Value::raw(format!("site.{s}")))
                        .collect(),
                ),
            );
        }

        // Its alias: one name, the same in every region that holds a copy.
        let mut alias: Option<String> = None;
        for (n, a) in parts.aliases.iter().enumerate() {
            let replica_arns: Vec<&str> = parts
                .replicas
                .iter()
                .filter(|r| arn.is_some() && r.str("primary_key_arn") == arn)
                .filter_map(|r| r.str("arn"))
                .collect();
            let on_key = targets(a, arn, Some(id));
            let on_replica = replica_arns.iter().any(|r| targets(a, Some(r), None));
            if !on_key && !on_replica {
                continue;
            }
            used_aliases[n] = true;
            let Some(name) = a.str("name") else {
                out.uncover(&a.source, "the state has no alias name");
                continue;
            };
            match &alias {
                None => alias = Some(name.to_string()),
                Some(same) if same == name => {}
                Some(other) => out.uncover(
                    &a.source,
                    format!(
                        "the key has the alias {other} already: drplan gives a key one alias name"
                    ),
                ),
            }
        }
        block = block.attr_opt("alias", alias);
        block = block.attr_opt("description", key.str("description"));
        if let Some(days) = key.int("deletion_window_in_days") {
            block.push_attr("deletion_window_days", days);
        }
        // The provider's default is off, drplan's on: always written.
        block.push_attr(
            "enable_key_rotation",
            key.bool("enable_key_rotation").unwrap_or(false),
        );
        if key.bool("is_enabled") == Some(false) {
            out.uncover(
                &key.source,
                "it is disabled: drplan keeps its keys enabled, the plan after import enables it",
            );
        }
        out.block(with_tags(block, key.tags()));
    }
    for (n, r) in parts.replicas.iter().enumerate() {
        if placed_replicas[n] {
            continue;
        }
        let reason = match r.str("primary_key_arn") {
            // `adopt::live` of a replica whose key this stack manages already.
            Some(key) if key.starts_with("kms_key.") => format!(
                "its key is `{key}`, in the spec already: add its site to that block's `replicas`"
            ),
            Some(key) => format!(
                "its primary key {key} is not in the state: a replica is written inside its key's block"
            ),
            None => "the state has no primary_key_arn".to_string(),
        };
        out.uncover(&r.source, reason);
    }
    for (n, a) in parts.aliases.iter().enumerate() {
        if !used_aliases[n] {
            out.uncover(
                &a.source,
                "its key is not converted: an alias is written as its key's `alias`",
            );
        }
    }
}
