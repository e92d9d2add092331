//! The `cache` block: an ElastiCache Redis replication group in one site's network,
//! with its automatic snapshots (`snapshot { retention_days  window  cross_region }`).
//! The block's own checks are here; the checks across blocks (the site is no vault, the
//! network is in the cache's site and has the subnets named; two caches may not share
//! an id in one region) run once every block is decoded (`check`, called from `spec::checks`).

use crate::model::{Cache, CacheSnapshot, SiteRole, Topology};
use crate::spec::body::{self, BlockBody, Schema};
use crate::spec::decode::{check_tags, object, site_of, source_ref, Cx, SpanTable};
use crate::spec::diagnostic::{did_you_mean, Diagnostics, SpecDiagnostic};
use hcl::Value;
use std::collections::BTreeMap;

pub const SCHEMA: Schema = Schema::new(
    &[
        "site",
        "network",
        "subnets",
        "name",
        "description",
        "engine_version",
        "node_type",
        "nodes",
        "component",
        "tags",
        "depends_on",
    ],
    &["snapshot"],
);

/// The `cache` block in the table of blocks (registered in `kinds::FAMILIES`).
pub const BLOCK: crate::spec::blocks::Block = crate::spec::blocks::Block::family::<Cache>(
    "cache",
    &["name", "site", "region", "component", "address"],
    6,
    &SCHEMA,
);

impl crate::spec::decode::FamilyBlock for Cache {
    fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Self> {
        decode(label, b, cx)
    }

    fn object(&self, sites: &BTreeMap<String, crate::model::Site>) -> Value {
        cache_object(self, &crate::spec::decode::region_in(sites, &self.site))
    }

    fn models(t: &mut crate::model::Topology) -> &mut BTreeMap<String, Self> {
        &mut t.caches
    }
}

const SNAPSHOT: Schema = Schema::new(&["retention_days", "window", "cross_region"], &[]);

/// ElastiCache keeps automatic snapshots 1 to 35 days (0 turns them off: leave the
/// `snapshot` block out instead).
const RETENTION_DAYS: std::ops::RangeInclusive<i64> = 1..=35;
/// A primary and up to five replicas.
const NODES: std::ops::RangeInclusive<i64> = 1..=6;

pub fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Cache> {
    let address = format!("cache.{label}");
    let site = site_of(b, cx, "name the site this cache is in: site = site.primary");
    cx.spans.record(&address, "site", b);
    if !b.has("network") {
        b.missing(
            cx.diags,
            "network",
            "the network the cache runs in: network = network.primary",
        );
    }
    let network = b.block_ref(cx.diags, cx.scope, "network", "network");
    cx.spans.record(&address, "network", b);
    let subnets = b.string_list(cx.diags, "subnets").unwrap_or_default();
    cx.spans.record(&address, "subnets", b);

    let name = b.string_or(cx.diags, "name", || label.replace('_', "-"));
    if let Some((n, why)) = name
        .as_deref()
        .and_then(|n| replication_group_id_problem(n).map(|why| (n, why)))
    {
        b.invalid(
            cx.diags,
            "drplan::invalid_value",
            "name",
            format!("`{n}` is not a valid replication group id: {why}"),
            "1-40 characters: lowercase letters, digits and single hyphens, starting with a letter, not ending with a hyphen",
        );
    }
    cx.spans.record(&address, "name", b);
    let description = b.string_or(cx.diags, "description", || format!("drplan {address}"));
    let engine_version = b.required_string(
        cx.diags,
        "engine_version",
        "the Redis engine version, e.g. engine_version = \"7.1\"",
    );
    if let Some(v) = engine_version
        .as_deref()
        .filter(|v| crate::kinds::elasticache::major_minor(v).is_none())
    {
        b.invalid(
            cx.diags,
            "drplan::invalid_value",
            "engine_version",
            format!("`{v}` is not a Redis engine version"),
            "major.minor, e.g. engine_version = \"7.1\" (ElastiCache picks the patch level)",
        );
    }
    let node_type = b.required_string(
        cx.diags,
        "node_type",
        "the node type, e.g. node_type = \"cache.r6g.large\"",
    );
    if let Some(t) = node_type.as_deref().filter(|t| !t.starts_with("cache.")) {
        b.invalid(
            cx.diags,
            "drplan::invalid_value",
            "node_type",
            format!("`{t}` is not an ElastiCache node type"),
            "ElastiCache node types start with `cache.`, e.g. \"cache.r6g.large\"",
        );
    }
    let nodes = b.int(cx.diags, "nodes").unwrap_or(1);
    if !NODES.contains(&nodes) {
        b.invalid(
            cx.diags,
            "drplan::invalid_value",
            "nodes",
            format!("a replication group has 1 to 6 nodes, not {nodes}"),
            "nodes = 2 is a primary and one replica (automatic failover is on from 2 nodes)",
        );
    }
    let component = b.string_or(cx.diags, "component", || label.to_string());
    let tags = b.string_map(cx.diags, "tags").unwrap_or_default();
    check_tags(b, cx.diags, &tags);

    let mut snapshot = None;
    for block in b.nested("snapshot").collect::<Vec<_>>() {
        let mut s = body::read(b.file, block, &SNAPSHOT, cx.scope, cx.ctx, cx.diags);
        snapshot = decode_snapshot(&mut s, cx);
    }

    Some(Cache {
        label: label.to_string(),
        name: name?,
        site: site?,
        network: network?,
        subnets,
        description: description?,
        engine_version: engine_version?,
        node_type: node_type?,
        nodes,
        component: component?,
        snapshot,
        tags,
        source: source_ref(b),
    })
}

fn decode_snapshot(s: &mut BlockBody, cx: &mut Cx) -> Option<CacheSnapshot> {
    let retention_days = match s.int(cx.diags, "retention_days") {
        Some(d) => d,
        None => {
            s.missing(
                cx.diags,
                "retention_days",
                "how many days automatic snapshots are kept (1-35), e.g. retention_days = 7",
            );
            return None;
        }
    };
    if !RETENTION_DAYS.contains(&retention_days) {
        s.invalid(
            cx.diags,
            "drplan::invalid_value",
            "retention_days",
            format!("ElastiCache keeps automatic snapshots 1 to 35 days, not {retention_days}"),
            "write 1-35; to take no automatic snapshots, leave the snapshot block out",
        );
    }
    let window = s.string(cx.diags, "window");
    if let Some(why) = window.as_deref().and_then(window_problem) {
        s.invalid(
            cx.diags,
            "drplan::invalid_value",
            "window",
            format!(
                "snapshot window `{}`: {why}",
                window.as_deref().unwrap_or("")
            ),
            "hh:mm-hh:mm in UTC, at least 60 minutes, e.g. window = \"03:00-05:00\"",
        );
    }
    let one_site = match s.bool(cx.diags, "cross_region") {
        None => false,
        Some(false) => true,
        Some(true) => {
            s.invalid(
                cx.diags,
                "drplan::invalid_value",
                "cross_region",
                "drplan cannot copy a cache's automatic snapshots to another region".into(),
                "write cross_region = false to accept snapshots kept in the cache's site only, or protect the data with a backup policy whose copies leave the site",
            );
            false
        }
    };
    Some(CacheSnapshot {
        retention_days,
        window,
        one_site,
        source: source_ref(s),
    })
}

/// Why `id` is not a replication group id ElastiCache accepts as written, if it is not.
pub fn replication_group_id_problem(id: &str) -> Option<&'static str> {
    if id.is_empty() || id.len() > 40 {
        return Some("it must be 1 to 40 characters long");
    }
    if !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Some("it must start with a lowercase letter");
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Some("only lowercase letters, digits and hyphens are allowed");
    }
    if id.ends_with('-') || id.contains("--") {
        return Some("it may not end with a hyphen or hold two in a row");
    }
    None
}

/// Why `w` is not a snapshot window (`hh:mm-hh:mm`, UTC, at least 60 minutes), if not.
pub fn window_problem(w: &str) -> Option<&'static str> {
    let minutes = |t: &str| -> Option<u32> {
        let (h, m) = t.split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
        (h < 24 && m < 60).then_some(h * 60 + m)
    };
    let Some((start, end)) = w.split_once('-') else {
        return Some("it is not hh:mm-hh:mm");
    };
    let (Some(start), Some(end)) = (minutes(start), minutes(end)) else {
        return Some("it is not hh:mm-hh:mm (24-hour clock)");
    };
    let length = (end + 24 * 60 - start) % (24 * 60);
    if length < 60 {
        return Some("ElastiCache needs a window of at least 60 minutes");
    }
    None
}

pub fn cache_object(c: &Cache, region: &str) -> Value {
    object(&[
        ("name", Value::from(c.name.clone())),
        ("site", Value::from(c.site.clone())),
        ("region", Value::from(region.to_string())),
        ("component", Value::from(c.component.clone())),
        ("address", Value::from(format!("cache.{}", c.label))),
    ])
}

/// Across blocks: the cache's network is in its site and has the subnets it names,
/// and no two caches take one replication group id in one region.
pub fn check(t: &Topology, spans: &SpanTable, diags: &mut Diagnostics) {
    let mut ids: Vec<(String, &str)> = Vec::new();
    for c in t.caches.values() {
        let address = format!("cache.{}", c.label);
        let at = |d: SpecDiagnostic, attr: &str, label: &str| match spans.get(&address, attr) {
            Some((f, span)) => d.at(f, span.clone(), label),
            None => d,
        };
        if t.sites
            .get(&c.site)
            .is_some_and(|s| s.role == SiteRole::Vault)
        {
            diags.push(at(
                SpecDiagnostic::new(
                    "drplan::vault_site",
                    format!("cache \"{}\" is in site \"{}\", a vault", c.label, c.site),
                )
                .help("a vault site (role = \"vault\") holds backup copies only: put the cache in a primary or dr site"),
                "site",
                "vault site",
            ));
        }
        if let Some(net) = t.networks.get(&c.network) {
            if net.site != c.site {
                diags.push(at(
                    SpecDiagnostic::new(
                        "drplan::wrong_site",
                        format!(
                            "cache \"{}\" is in site \"{}\" but network \"{}\" is in site \"{}\"",
                            c.label, c.site, net.name, net.site
                        ),
                    )
                    .help("use a network of the cache's own site"),
                    "network",
                    "network of another site",
                ));
            }
            for s in c.subnets.iter().filter(|s| !net.subnets.contains_key(*s)) {
                diags.push(at(
                    SpecDiagnostic::new(
                        "drplan::unresolved_reference",
                        format!("network \"{}\" has no subnet \"{s}\"", net.name),
                    )
                    .help(
                        did_you_mean(s, net.subnets.keys().map(String::as_str))
                            .unwrap_or_else(|| "name a subnet of the cache's network".into()),
                    ),
                    "subnets",
                    "unknown subnet",
                ));
            }
            if c.subnets.is_empty() && net.subnets.is_empty() {
                diags.push(at(
                    SpecDiagnostic::new(
                        "drplan::invalid_value",
                        format!(
                            "cache \"{}\": network \"{}\" has no subnets for its subnet group",
                            c.label, net.name
                        ),
                    )
                    .help("declare subnets in the network"),
                    "network",
                    "no subnets",
                ));
            }
        }
        let region = t
            .sites
            .get(&c.site)
            .map(|s| s.region.clone())
            .unwrap_or_default();
        let key = format!("{region}/{}", c.name);
        if let Some((_, other)) = ids.iter().find(|(k, _)| *k == key) {
            diags.push(at(
                SpecDiagnostic::new(
                    "drplan::duplicate_name",
                    format!(
                        "cache \"{}\" takes replication group id `{}` in {region}, which cache \"{other}\" takes already",
                        c.label, c.name
                    ),
                )
                .help("give one of them another name"),
                "name",
                "taken twice",
            ));
        }
        ids.push((key, c.label.as_str()));
    }
}
