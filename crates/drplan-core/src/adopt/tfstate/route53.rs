//! aws_route53_zone -> `zone`; aws_route53_record -> `dns` (records of one name and
//! type with failover routing become one block with a target each); an
//! aws_route53_health_check a record uses -> that target's `health_check`.
//!
//! A record has no region, so its target's site is chosen by, in order: its set
//! identifier naming a site; the one site whose region its values or its health
//! check's host name contain (`lb.us-west-2.elb.amazonaws.com`); its failover role —
//! PRIMARY in the primary site (the site labelled `primary`, else the first label),
//! SECONDARY in the first other one, a simple record in the primary site.
//!
//! Import ids: the zone name; `<zone>/<record name>/<TYPE>[/<set identifier>]`
//! (no final dots); the health check id.

use super::state::Instance;
use super::{with_tags, Out};
use crate::address::Address;
use crate::adopt::config::{Block, Value};
use crate::adopt::label;
use crate::resource::Kind;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

/// The Route53 resources of a state.
pub(super) struct Parts {
    pub zones: Vec<Instance>,
    pub records: Vec<Instance>,
    pub health_checks: Vec<Instance>,
}

impl Parts {
    pub fn all(&self) -> impl Iterator<Item = &Instance> {
        self.zones
            .iter()
            .chain(&self.records)
            .chain(&self.health_checks)
    }
}

/// Routing policies drplan does not write (it writes simple and failover records).
const OTHER_ROUTING: &[(&str, &str)] = &[
    ("weighted_routing_policy", "weighted"),
    ("latency_routing_policy", "latency"),
    ("geolocation_routing_policy", "geolocation"),
    ("geoproximity_routing_policy", "geoproximity"),
    ("cidr_routing_policy", "CIDR"),
];

/// A zone that got a block.
struct ZoneOut {
    name: String,
    label: String,
}

/// One record drplan can express.
struct Record<'a> {
    inst: &'a Instance,
    zone: &'a ZoneOut,
    fqdn: String,
    record_type: String,
    /// None for an alias (it has no TTL of its own).
    ttl: Option<i64>,
    values: Vec<String>,
    alias: Option<Alias>,
    set_identifier: Option<String>,
    failover: Option<String>,
}

/// The provider's `alias` block: its target's name, hosted zone (None when it is the
/// record's own zone) and evaluate_target_health.
struct Alias {
    name: String,
    zone_id: Option<String>,
    evaluate_target_health: bool,
}

pub(super) fn convert(parts: &Parts, out: &mut Out) {
    let zones = zones(&parts.zones, out);
    let mut groups: BTreeMap<(String, String, String), Vec<Record>> = BTreeMap::new();
    for r in &parts.records {
        if let Some(rec) = record(r, &zones, out) {
            groups
                .entry((
                    rec.zone.label.clone(),
                    rec.fqdn.clone(),
                    rec.record_type.clone(),
                ))
                .or_default()
                .push(rec);
        }
    }
    let checks: BTreeMap<&str, &Instance> = parts
        .health_checks
        .iter()
        .filter_map(|h| Some((h.str("id")?, h)))
        .collect();
    let mut used = BTreeSet::new();
    for (_, group) in groups {
        dns_block(group, &checks, &mut used, out);
    }
    for h in &parts.health_checks {
        if !h.str("id").is_some_and(|id| used.contains(id)) {
            out.uncover(
                &h.source,
                "no converted record uses it: drplan writes a health check inside its record's target",
            );
        }
    }
}

/// The zone blocks; zone id -> zone.
fn zones(list: &[Instance], out: &mut Out) -> BTreeMap<String, ZoneOut> {
    let mut by_id = BTreeMap::new();
    for z in list {
        let (Some(name), Some(id)) = (z.str("name"), z.str("zone_id").or_else(|| z.str("id")))
        else {
            out.uncover(&z.source, "the state lacks its name or zone_id");
            continue;
        };
        if !z.list("vpc").is_empty() {
            out.uncover(&z.source, "private hosted zones are not supported");
            continue;
        }
        if z.str("delegation_set_id").is_some() {
            out.uncover(
                &z.source,
                "its reusable delegation set is not expressed in drplan",
            );
        }
        let name = name.trim_end_matches('.').to_lowercase();
        let label = out.label("zone", &z.name);
        out.adopt(
            Address::block("zone", &label),
            Kind::DnsZone,
            &name,
            &z.source,
        );
        out.block(with_tags(
            Block::new("zone")
                .label(&label)
                .attr("name", name.as_str())
                .attr_opt("comment", z.str("comment")),
            z.tags(),
        ));
        by_id.insert(id.to_string(), ZoneOut { name, label });
    }
    by_id
}

fn record<'a>(
    r: &'a Instance,
    zones: &'a BTreeMap<String, ZoneOut>,
    out: &mut Out,
) -> Option<Record<'a>> {
    let Some(zone) = r.str("zone_id").and_then(|id| zones.get(id)) else {
        out.uncover(
            &r.source,
            format!(
                "its hosted zone {} is not converted from the state",
                r.str("zone_id").unwrap_or("(none)")
            ),
        );
        return None;
    };
    let alias = r.first("alias").map(|a| {
        let text = |k: &str| a.get(k).and_then(Json::as_str).unwrap_or_default();
        let zone_id = text("zone_id");
        Alias {
            name: text("name").trim_end_matches('.').to_lowercase(),
            zone_id: (!zone_id.is_empty() && Some(zone_id) != r.str("zone_id"))
                .then(|| zone_id.to_string()),
            evaluate_target_health: a
                .get("evaluate_target_health")
                .and_then(Json::as_bool)
                .unwrap_or(false),
        }
    });
    for (attr, what) in OTHER_ROUTING {
        if !r.list(attr).is_empty() {
            out.uncover(
                &r.source,
                format!(
                    "{what} routing is not supported (drplan writes simple and failover records)"
                ),
            );
            return None;
        }
    }
    if r.bool("multivalue_answer_routing_policy") == Some(true) {
        out.uncover(&r.source, "multivalue answer routing is not supported");
        return None;
    }
    let ttl = r.int("ttl");
    let (Some(name), Some(record_type), true) = (
        r.str("fqdn").or_else(|| r.str("name")),
        r.str("type"),
        ttl.is_some() || alias.is_some(),
    ) else {
        out.uncover(&r.source, "the state lacks its name, type or ttl");
        return None;
    };
    let record_type = record_type.to_uppercase();
    let mut values = r.strings("records");
    if record_type == "TXT" || record_type == "SPF" {
        values = values.iter().map(|v| txt(v)).collect();
    }
    Some(Record {
        inst: r,
        zone,
        fqdn: fqdn(name, &zone.name),
        record_type,
        ttl,
        values,
        alias,
        set_identifier: r.str("set_identifier").map(str::to_string),
        failover: r
            .first("failover_routing_policy")
            .and_then(|f| f.get("type"))
            .and_then(Json::as_str)
            .map(str::to_uppercase),
    })
}

/// A record name as drplan writes it: lower case, `*` for `\052`, no final dot,
/// ending in the zone.
fn fqdn(name: &str, zone: &str) -> String {
    let n = name
        .replace("\\052", "*")
        .trim_end_matches('.')
        .to_lowercase();
    if n == zone || n.ends_with(&format!(".{zone}")) {
        n
    } else if n.is_empty() || n == "@" {
        zone.to_string()
    } else {
        format!("{n}.{zone}")
    }
}

/// A TXT value as Route53 holds it: quoted, in strings of at most 255 characters
/// (Terraform's state keeps it unquoted).
fn txt(v: &str) -> String {
    if v.starts_with('"') {
        return v.to_string();
    }
    let chars: Vec<char> = v.chars().collect();
    if chars.is_empty() {
        return "\"\"".to_string();
    }
    chars
        .chunks(255)
        .map(|c| format!("\"{}\"", c.iter().collect::<String>()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn dns_block(
    mut group: Vec<Record>,
    checks: &BTreeMap<&str, &Instance>,
    used: &mut BTreeSet<String>,
    out: &mut Out,
) {
    let failover = group.iter().filter(|r| r.failover.is_some()).count();
    let refuse = |group: &[Record], out: &mut Out, why: &str| {
        for r in group {
            out.uncover(&r.inst.source, why.to_string());
        }
    };
    match (group.len(), failover) {
        (1, 0) => {}
        (2, 2) => {
            let roles: BTreeSet<&str> =
                group.iter().filter_map(|r| r.failover.as_deref()).collect();
            if roles != BTreeSet::from(["PRIMARY", "SECONDARY"]) {
                return refuse(
                    &group,
                    out,
                    "a failover pair needs one PRIMARY and one SECONDARY record",
                );
            }
            // PRIMARY first.
            group.sort_by_key(|r| r.failover.as_deref() != Some("PRIMARY"));
        }
        (1, 1) => {
            return refuse(
                &group,
                out,
                "a failover record without its partner: drplan writes failover records in pairs",
            )
        }
        (_, 0) => {
            return refuse(
                &group,
                out,
                "several records of one name and type without failover routing",
            )
        }
        _ => {
            return refuse(
                &group,
                out,
                "drplan writes one simple record or a failover pair per name and type",
            )
        }
    }
    let Some(sites) = target_sites(&group, checks, out) else {
        return refuse(&group, out, "no two different sites for its targets");
    };
    let Some(first) = group.first() else { return };
    let names: Vec<&str> = group.iter().map(|r| r.inst.name.as_str()).collect();
    let dns_label = out.label("dns", &common_name(&names));
    let zone = first.zone;
    let relative = match first.fqdn.strip_suffix(&format!(".{}", zone.name)) {
        Some(rel) => rel.to_string(),
        None => "@".to_string(),
    };
    let ttls: BTreeSet<i64> = group.iter().filter_map(|r| r.ttl).collect();
    if let (true, Some(ttl)) = (ttls.len() > 1, ttls.first()) {
        out.uncover(
            &first.inst.source,
            format!("its records' TTLs differ: drplan writes one ttl ({ttl})"),
        );
    }
    let mut block = Block::new("dns")
        .label(&dns_label)
        .attr("zone", Value::raw(format!("zone.{}", zone.label)))
        .attr("name", relative)
        .attr("type", first.record_type.as_str());
    // An alias has no ttl of its own: written only for records with values.
    if let Some(ttl) = ttls.first().copied() {
        block.push_attr("ttl", ttl);
    }
    let address = Address::block("dns", &dns_label);
    let several = group.len() > 1;
    for (r, site) in group.iter().zip(sites) {
        let target = match (&r.set_identifier, several) {
            (Some(set), true) => {
                let t = label(set);
                if &t != set {
                    out.uncover(
                        &r.inst.source,
                        format!("its set identifier `{set}` becomes `{t}` (a target's label): the plan after import replaces the record"),
                    );
                }
                t
            }
            _ => site.clone(),
        };
        let taddr = address.child("target", &target);
        let mut id = format!("{}/{}/{}", zone.name, r.fqdn, r.record_type);
        if let (Some(set), true) = (&r.set_identifier, several) {
            id.push('/');
            id.push_str(set);
        }
        out.adopt(taddr.clone(), Kind::DnsRecord, id, &r.inst.source);
        let mut tb = Block::new("target")
            .label(&target)
            .attr("site", Value::raw(format!("site.{site}")));
        match &r.alias {
            Some(a) => {
                let mut ab = Block::new("alias").attr("name", a.name.as_str());
                if let Some(id) = &a.zone_id {
                    ab.push_attr("zone_id", id.as_str());
                }
                ab.push_attr("evaluate_target_health", a.evaluate_target_health);
                tb.push_block(ab);
            }
            None => tb.push_attr("records", Value::strings(r.values.clone())),
        }
        if let Some(hc_id) = r.inst.str("health_check_id") {
            match checks.get(hc_id) {
                Some(h) => {
                    // Listed once: why it is not converted, if it is not.
                    used.insert(hc_id.to_string());
                    if let Some(hb) = health_check(h, out) {
                        out.adopt(
                            Address::new(format!("{taddr}.health_check")),
                            Kind::HealthCheck,
                            hc_id,
                            &h.source,
                        );
                        tb.push_block(hb);
                    }
                }
                None => out.uncover(
                    &r.inst.source,
                    format!("its health check {hc_id} is not in the state: the plan after import takes it off the record"),
                ),
            }
        }
        block.push_block(tb);
    }
    out.block(block);
}

/// One site per record of the group (PRIMARY first), by the rule in the module
/// documentation; `None` when two targets would share a site.
fn target_sites(
    group: &[Record],
    checks: &BTreeMap<&str, &Instance>,
    out: &mut Out,
) -> Option<Vec<String>> {
    let labels = out.site_labels();
    let primary = labels
        .iter()
        .find(|l| l.as_str() == "primary")
        .or(labels.first())?
        .clone();
    let mut chosen = Vec::new();
    for r in group {
        let by_name = r
            .set_identifier
            .as_deref()
            .map(label)
            .filter(|s| labels.contains(s));
        let by_region = || {
            let mut texts: Vec<&str> = r.values.iter().map(String::as_str).collect();
            if let Some(h) = r.inst.str("health_check_id").and_then(|id| checks.get(id)) {
                texts.extend(h.str("fqdn"));
            }
            let found: BTreeSet<String> = out
                .regions()
                .into_iter()
                .filter(|(region, _)| texts.iter().any(|t| t.contains(region.as_str())))
                .map(|(_, site)| site)
                .collect();
            (found.len() == 1)
                .then(|| found.into_iter().next())
                .flatten()
        };
        let by_role = || match r.failover.as_deref() {
            Some("SECONDARY") => labels.iter().find(|l| **l != primary).cloned(),
            _ => Some(primary.clone()),
        };
        chosen.push(by_name.or_else(by_region).or_else(by_role)?);
    }
    if chosen.len() == 2 {
        if chosen[0] == chosen[1] {
            return None;
        }
        if chosen[0] != primary {
            out.uncover(
                &group[0].inst.source,
                format!("its PRIMARY target is in site {}: drplan makes the primary site's target PRIMARY, so the plan after import flips the failover", chosen[0]),
            );
        }
    }
    Some(chosen)
}

/// A name for the block of several records: their common start (`api` for
/// `api_primary` and `api_secondary`), else the first one's.
fn common_name(names: &[&str]) -> String {
    let Some(first) = names.first() else {
        return String::new();
    };
    let mut common: String = first.to_string();
    for n in &names[1..] {
        common = common
            .chars()
            .zip(n.chars())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a)
            .collect();
    }
    let common = common.trim_end_matches(['_', '-']);
    if common.is_empty() {
        first.to_string()
    } else {
        common.to_string()
    }
}

/// The `health_check` block, or `None` (listed) when drplan cannot express it.
fn health_check(h: &Instance, out: &mut Out) -> Option<Block> {
    let check_type = h.str("type").unwrap_or("");
    if !matches!(check_type, "HTTP" | "HTTPS" | "TCP") {
        out.uncover(
            &h.source,
            format!("health check type {check_type} is not supported (HTTP, HTTPS, TCP)"),
        );
        return None;
    }
    let Some(fqdn) = h.str("fqdn") else {
        out.uncover(
            &h.source,
            "it checks an IP address: drplan's health checks name a host (fqdn)",
        );
        return None;
    };
    let mut dropped = Vec::new();
    let set = |v: Option<&Json>| match v {
        None | Some(Json::Null) | Some(Json::Bool(false)) => false,
        Some(Json::String(s)) => !s.is_empty(),
        Some(Json::Array(a)) => !a.is_empty(),
        Some(Json::Object(o)) => !o.is_empty(),
        Some(_) => true,
    };
    for k in [
        "ip_address",
        "search_string",
        "invert_healthcheck",
        "measure_latency",
        "regions",
        "child_healthchecks",
        "cloudwatch_alarm_name",
        "routing_control_arn",
    ] {
        if set(h.get(k)) {
            dropped.push(k);
        }
    }
    if h.bool("disabled") == Some(true) {
        dropped.push("disabled");
    }
    if !dropped.is_empty() {
        out.uncover(
            &h.source,
            format!("not expressed in drplan: {}", dropped.join(", ")),
        );
    }
    let tags: Vec<(String, String)> = h.tags();
    let b = Block::new("health_check")
        .attr("type", check_type)
        .attr("fqdn", fqdn)
        .attr_opt("port", h.int("port"))
        .attr_opt("path", h.str("resource_path"))
        .attr_opt("request_interval", h.int("request_interval"))
        .attr_opt("failure_threshold", h.int("failure_threshold"));
    Some(with_tags(b, tags))
}
