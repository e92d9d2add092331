use crate::model::topology::DnsAlias;
use crate::model::{Dns, DnsTarget, HealthCheck, Zone};
use crate::spec::body::{self, BlockBody, Schema};
use crate::spec::decode::{check_tags, label_of, object, source_ref, Cx};
use crate::spec::diagnostic::{did_you_mean, SpecDiagnostic};
use hcl::Value;
use std::collections::BTreeMap;

pub const ZONE_SCHEMA: Schema =
    Schema::new(&["name", "comment", "protect", "tags", "depends_on"], &[]);

/// The `zone` block in the table of blocks (registered in `kinds::FAMILIES`).
pub const ZONE_BLOCK: crate::spec::blocks::Block =
    crate::spec::blocks::Block::family::<Zone>("zone", &["name", "address"], 4, &ZONE_SCHEMA);

impl crate::spec::decode::FamilyBlock for Zone {
    fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Self> {
        decode_zone(label, b, cx)
    }

    fn object(&self, _: &BTreeMap<String, crate::model::Site>) -> Value {
        zone_object(self)
    }

    fn models(t: &mut crate::model::Topology) -> &mut BTreeMap<String, Self> {
        &mut t.zones
    }
}
pub const DNS_SCHEMA: Schema =
    Schema::new(&["zone", "name", "type", "ttl", "depends_on"], &["target"]);

/// The `dns` block in the table of blocks (registered in `kinds::FAMILIES`).
pub const DNS_BLOCK: crate::spec::blocks::Block =
    crate::spec::blocks::Block::family::<Dns>("dns", &["name", "fqdn", "address"], 7, &DNS_SCHEMA);

impl crate::spec::decode::FamilyBlock for Dns {
    fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Self> {
        decode(label, b, cx)
    }

    fn object(&self, _: &BTreeMap<String, crate::model::Site>) -> Value {
        dns_object(self)
    }

    fn models(t: &mut crate::model::Topology) -> &mut BTreeMap<String, Self> {
        &mut t.dns
    }
}
const TARGET: Schema = Schema::new(&["site", "records"], &["health_check", "alias"]);
const ALIAS: Schema = Schema::new(&["name", "zone_id", "evaluate_target_health"], &[]);
/// Route53 alias records: A and AAAA (to a load balancer, a distribution, a record).
const ALIAS_TYPES: &[&str] = &["A", "AAAA"];
const HEALTH: Schema = Schema::new(
    &[
        "type",
        "fqdn",
        "port",
        "path",
        "request_interval",
        "failure_threshold",
        "tags",
    ],
    &[],
);

const RECORD_TYPES: &[&str] = &[
    "A", "AAAA", "CNAME", "TXT", "MX", "NS", "SRV", "CAA", "PTR", "SPF",
];

pub fn decode_zone(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Zone> {
    let name = b.required_string(
        cx.diags,
        "name",
        "the zone's domain, e.g. name = \"example.com\"",
    )?;
    let name = name.trim_end_matches('.').to_string();
    if !is_domain(&name) {
        b.invalid(
            cx.diags,
            "drplan::invalid_value",
            "name",
            format!("`{name}` is not a domain name"),
            "e.g. name = \"example.com\"",
        );
    }
    let comment = b.string(cx.diags, "comment");
    let protect = b.bool(cx.diags, "protect").unwrap_or(true);
    let tags = b.string_map(cx.diags, "tags").unwrap_or_default();
    check_tags(b, cx.diags, &tags);
    Some(Zone {
        label: label.to_string(),
        name,
        comment,
        protect,
        tags,
        source: source_ref(b),
    })
}

pub fn zone_object(z: &Zone) -> Value {
    object(&[
        ("name", Value::from(z.name.clone())),
        ("address", Value::from(format!("zone.{}", z.label))),
    ])
}

/// `zone` is a `zone` block (reference or label) or, as a string with a dot, the
/// name of a zone drplan does not manage.
pub fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Dns> {
    let (zone, managed_zone) = match b.value("zone").cloned() {
        None => {
            b.missing(
                cx.diags,
                "zone",
                "a zone block (zone = zone.public) or an existing zone's name",
            );
            (None, None)
        }
        Some(Value::String(s)) if !cx.scope.resolves("zone", &s) && s.contains('.') => {
            (Some(s.trim_end_matches('.').to_string()), None)
        }
        Some(_) => match b.block_ref(cx.diags, cx.scope, "zone", "zone") {
            Some(l) => {
                let name = cx
                    .scope
                    .published("zone", &l)
                    .and_then(|v| v.as_object())
                    .and_then(|o| o.get("name"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                (name, Some(l))
            }
            None => (None, None),
        },
    };
    let name = b.required_string(
        cx.diags,
        "name",
        "the record name, relative to the zone or a FQDN",
    );
    let fqdn = match (&name, &zone) {
        (Some(n), Some(z)) => {
            let n = n.trim_end_matches('.');
            if n == z || n.ends_with(&format!(".{z}")) {
                Some(n.to_string())
            } else if n == "@" || n.is_empty() {
                Some(z.clone())
            } else {
                Some(format!("{n}.{z}"))
            }
        }
        _ => None,
    };
    let record_type = b
        .string(cx.diags, "type")
        .unwrap_or_else(|| "CNAME".into())
        .to_uppercase();
    if !RECORD_TYPES.contains(&record_type.as_str()) {
        b.invalid(
            cx.diags,
            "drplan::invalid_value",
            "type",
            format!("record type `{record_type}` is not known"),
            did_you_mean(&record_type, RECORD_TYPES.iter().copied())
                .unwrap_or_else(|| format!("use one of: {}", RECORD_TYPES.join(", "))),
        );
    }
    let ttl_written = b.has("ttl");
    let ttl = b.int(cx.diags, "ttl").unwrap_or(60);
    if !(0..=2_147_483_647).contains(&ttl) {
        b.invalid(
            cx.diags,
            "drplan::invalid_value",
            "ttl",
            format!("ttl {ttl} is out of range"),
            "ttl is in seconds, 0 or more",
        );
    }

    let mut targets: Vec<DnsTarget> = Vec::new();
    let target_blocks: Vec<_> = b.nested("target").collect();
    if target_blocks.is_empty() {
        cx.diags.push(
            SpecDiagnostic::new(
                "drplan::missing_block",
                format!("dns \"{label}\" has no target"),
            )
            .at(b.file, b.header.clone(), "no target block")
            .help("add target \"primary\" { site = site.primary, records = [...] }"),
        );
    }
    if target_blocks.len() > 2 {
        cx.diags.push(
            SpecDiagnostic::new(
                "drplan::invalid_value",
                format!(
                    "dns \"{label}\" has {} targets; failover routing takes two",
                    target_blocks.len()
                ),
            )
            .at(b.file, b.header.clone(), "too many targets")
            .help("use one target per site: the active site's is PRIMARY, the other SECONDARY"),
        );
    }
    for block in target_blocks {
        let Some(t_label) = label_of(block) else {
            cx.diags.push(
                SpecDiagnostic::new("drplan::missing_label", "target needs a label")
                    .at(b.file, body::block_header(block), "no label")
                    .help("write target \"primary\" { ... }"),
            );
            continue;
        };
        let mut t = body::read(b.file, block, &TARGET, cx.scope, cx.ctx, cx.diags);
        if !t.has("site") {
            t.missing(
                cx.diags,
                "site",
                "the site this target serves from: site = site.primary",
            );
        }
        let site = t.block_ref(cx.diags, cx.scope, "site", "site");
        cx.spans
            .record(&format!("dns.{label}.target.{t_label}"), "site", &t);
        if let Some(s) = &site {
            if let Some(other) = targets.iter().find(|o| &o.site == s) {
                t.invalid(
                    cx.diags,
                    "drplan::invalid_value",
                    "site",
                    format!(
                        "targets \"{}\" and \"{t_label}\" are both in site \"{s}\"",
                        other.name
                    ),
                    "failover needs one target per site",
                );
            }
        }
        let alias_blocks: Vec<_> = t.nested("alias").collect();
        let alias = match alias_blocks.first() {
            Some(ab) => {
                let mut a = body::read(b.file, ab, &ALIAS, cx.scope, cx.ctx, cx.diags);
                if t.has("records") {
                    t.invalid(
                        cx.diags,
                        "drplan::invalid_value",
                        "records",
                        format!("target \"{t_label}\" has both records and an alias"),
                        "an alias record has no values: keep `records` or the `alias` block",
                    );
                }
                if !ALIAS_TYPES.contains(&record_type.as_str()) {
                    cx.diags.push(
                        SpecDiagnostic::new(
                            "drplan::invalid_value",
                            format!("an alias record is A or AAAA, not {record_type}"),
                        )
                        .at(b.file, a.header.clone(), "alias")
                        .help("set type = \"A\" (or \"AAAA\") on the dns block"),
                    );
                }
                decode_alias(&mut a, cx)
            }
            None => None,
        };
        if alias_blocks.is_empty() && !t.has("records") {
            t.missing(
                cx.diags,
                "records",
                "the values of the record, e.g. records = [\"lb.example.com\"], or an alias { ... } block",
            );
        }
        let records = if alias_blocks.is_empty() {
            t.string_list(cx.diags, "records")
        } else {
            Some(Vec::new())
        };
        let mut health_check = None;
        for hb in t.nested("health_check").collect::<Vec<_>>() {
            let mut h = body::read(b.file, hb, &HEALTH, cx.scope, cx.ctx, cx.diags);
            health_check = decode_health_check(&mut h, cx);
        }
        if let (Some(site), Some(records)) = (site, records) {
            targets.push(DnsTarget {
                name: t_label,
                site,
                records,
                alias,
                health_check,
            });
        }
    }
    // A failover pair may mix an alias with a record of values, which needs the ttl.
    if ttl_written && !targets.is_empty() && targets.iter().all(|t| t.alias.is_some()) {
        b.invalid(
            cx.diags,
            "drplan::invalid_value",
            "ttl",
            "an alias record takes its TTL from its target".into(),
            "remove ttl",
        );
    }
    Some(Dns {
        label: label.to_string(),
        zone: zone?,
        managed_zone,
        name: fqdn?,
        record_type,
        ttl,
        targets,
        source: source_ref(b),
    })
}

/// `alias { name = "..."  zone_id = "Z..."  evaluate_target_health = true }`; without
/// `zone_id`, the target is a record in the alias's own zone.
fn decode_alias(a: &mut BlockBody, cx: &mut Cx) -> Option<DnsAlias> {
    let name = a.required_string(
        cx.diags,
        "name",
        "the target's DNS name, e.g. a load balancer's dualstack name",
    )?;
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if !is_domain(&name) {
        a.invalid(
            cx.diags,
            "drplan::invalid_value",
            "name",
            format!("`{name}` is not a DNS name"),
            "e.g. name = \"my-lb-123.us-west-2.elb.amazonaws.com\"",
        );
    }
    let zone_id = a.string(cx.diags, "zone_id");
    if let Some(id) = &zone_id {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            a.invalid(
                cx.diags,
                "drplan::invalid_value",
                "zone_id",
                format!("`{id}` is not a hosted zone id"),
                "the target's hosted zone id, e.g. Z1H1FL5HABSF5 for an ALB in us-west-2",
            );
        }
    }
    let evaluate_target_health = a.bool(cx.diags, "evaluate_target_health").unwrap_or(true);
    Some(DnsAlias {
        name,
        zone_id,
        evaluate_target_health,
    })
}

fn decode_health_check(h: &mut BlockBody, cx: &mut Cx) -> Option<HealthCheck> {
    let check_type = h
        .string(cx.diags, "type")
        .unwrap_or_else(|| "HTTPS".into())
        .to_uppercase();
    let default_port = match check_type.as_str() {
        "HTTPS" => 443,
        "HTTP" => 80,
        "TCP" => 0,
        other => {
            h.invalid(
                cx.diags,
                "drplan::invalid_value",
                "type",
                format!("health check type `{other}` is not known"),
                "use HTTP, HTTPS or TCP",
            );
            return None;
        }
    };
    let fqdn = h.required_string(cx.diags, "fqdn", "the host the health check probes");
    let port = match h.int(cx.diags, "port") {
        Some(p) => p,
        None if default_port == 0 => {
            h.missing(cx.diags, "port", "TCP health checks need a port");
            return None;
        }
        None => default_port,
    };
    if !(1..=65535).contains(&port) {
        h.invalid(
            cx.diags,
            "drplan::invalid_value",
            "port",
            format!("port {port} is out of range"),
            "1-65535",
        );
    }
    let resource_path = h.string(cx.diags, "path");
    let request_interval = h.int(cx.diags, "request_interval").unwrap_or(30);
    if request_interval != 10 && request_interval != 30 {
        h.invalid(
            cx.diags,
            "drplan::invalid_value",
            "request_interval",
            format!("request_interval must be 10 or 30, not {request_interval}"),
            "Route53 checks every 10 or 30 seconds",
        );
    }
    let failure_threshold = h.int(cx.diags, "failure_threshold").unwrap_or(3);
    if !(1..=10).contains(&failure_threshold) {
        h.invalid(
            cx.diags,
            "drplan::invalid_value",
            "failure_threshold",
            format!("failure_threshold must be 1-10, not {failure_threshold}"),
            "Route53 accepts 1 to 10",
        );
    }
    let tags = h.string_map(cx.diags, "tags").unwrap_or_default();
    check_tags(h, cx.diags, &tags);
    Some(HealthCheck {
        check_type,
        fqdn: fqdn?,
        port,
        resource_path,
        request_interval,
        failure_threshold,
        tags,
    })
}

pub fn dns_object(d: &Dns) -> Value {
    object(&[
        ("name", Value::from(d.name.clone())),
        ("fqdn", Value::from(d.name.clone())),
        ("address", Value::from(format!("dns.{}", d.label))),
    ])
}

fn is_domain(n: &str) -> bool {
    n.contains('.')
        && n.split('.').all(|p| {
            !p.is_empty()
                && p.len() <= 63
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '*')
        })
}
