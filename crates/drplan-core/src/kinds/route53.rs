//! The Route53 family (global): `zone` blocks, and `dns` blocks lowering to record
//! sets and health checks.

use super::{by_mark, text, KindInfo, MarkPlace, NameKey, Reference};
use crate::address::Address;
use crate::model::SiteRole;
use crate::resource::{Kind, Resource};
use crate::spec::lower::{tags, Lowering};
use serde_json::{json, Value};

pub const ZONE: KindInfo = KindInfo {
    type_name: "aws_route53_zone",
    stateful: true,
    regional: false,
    force_new: &["name"],
    unknown_after_apply: &["id", "name_servers"],
    regional_service: None,
    apply_service: "route53",
    identity: |_, _, attrs| text(attrs, "name").to_string(),
    identified_by_mark: false,
    mark: MarkPlace::Tags,
    references: &[],
    name_key: Some(NameKey {
        attr: "name",
        regional: false,
        trim_dot: true,
    }),
    forgettable: true,
    estimate_create: 60,
    estimate_update: 10,
    // Global, named per zone: nothing to mirror between sites.
    parity: None,
};

pub const RECORD: KindInfo = KindInfo {
    type_name: "aws_route53_record",
    stateful: false,
    force_new: &["zone", "name", "type", "set_identifier"],
    unknown_after_apply: &[],
    identity: |_, _, attrs| {
        format!(
            "{}/{}/{}/{}",
            text(attrs, "zone"),
            text(attrs, "name"),
            text(attrs, "type"),
            text(attrs, "set_identifier")
        )
    },
    mark: MarkPlace::OwnerTxt,
    references: &[
        Reference::Address("health_check"),
        Reference::Name("zone", Kind::DnsZone),
    ],
    name_key: None,
    forgettable: false,
    // Record changes take about a minute to reach every Route53 name server; a
    // failover flip is a record change: the same propagation as a new record.
    estimate_create: 60,
    estimate_update: 60,
    ..ZONE
};

pub const HEALTH_CHECK: KindInfo = KindInfo {
    type_name: "aws_route53_health_check",
    stateful: false,
    force_new: &["type"],
    unknown_after_apply: &["id"],
    identity: by_mark,
    identified_by_mark: true,
    name_key: None,
    estimate_create: 30,
    estimate_update: 30,
    ..ZONE
};

/// Lowers the family's blocks to resources in the normalized form (`spec::lower`).
pub(crate) fn lower(lw: &Lowering, out: &mut Vec<Resource>) {
    let t = lw.t;
    for z in t.zones.values() {
        out.push(lw.resource(
            Address::block("zone", &z.label),
            Kind::DnsZone,
            None,
            json!({"name": format!("{}.", z.name), "comment": z.comment, "tags": tags(&z.tags)}),
            vec![],
            z.protect,
            &z.source,
        ));
    }

    for d in t.dns.values() {
        let addr = Address::block("dns", &d.label);
        let failover = d.targets.len() > 1;
        let primary_target = d
            .targets
            .iter()
            .find(|tg| tg.site == lw.env.active_site)
            .or_else(|| {
                d.targets.iter().find(|tg| {
                    t.sites
                        .get(&tg.site)
                        .is_some_and(|s| s.role == SiteRole::Primary)
                })
            })
            .or_else(|| d.targets.first())
            .map(|tg| tg.name.clone());
        for tg in &d.targets {
            let taddr = addr.child("target", &tg.name);
            let mut depends_on = Vec::new();
            let hc_addr = tg.health_check.as_ref().map(|hc| {
                let hc_addr = Address::new(format!("{taddr}.health_check"));
                out.push(lw.resource(
                    hc_addr.clone(),
                    Kind::HealthCheck,
                    None,
                    json!({
                        "type": hc.check_type,
                        "fqdn": hc.fqdn,
                        "port": hc.port,
                        "resource_path": hc.resource_path,
                        "request_interval": hc.request_interval,
                        "failure_threshold": hc.failure_threshold,
                        "tags": tags(&hc.tags),
                    }),
                    vec![],
                    false,
                    &d.source,
                ));
                depends_on.push(hc_addr.clone());
                hc_addr
            });
            if let Some(z) = &d.managed_zone {
                depends_on.push(Address::block("zone", z));
            }
            let role = match (
                failover,
                primary_target.as_deref() == Some(tg.name.as_str()),
            ) {
                (false, _) => Value::Null,
                (true, true) => json!("PRIMARY"),
                (true, false) => json!("SECONDARY"),
            };
            out.push(lw.resource(
                taddr,
                Kind::DnsRecord,
                None,
                json!({
                    "zone": format!("{}.", d.zone),
                    "name": format!("{}.", d.name),
                    "type": d.record_type,
                    // An alias has no TTL of its own (Route53 takes its target's).
                    "ttl": if tg.alias.is_some() { Value::Null } else { json!(d.ttl) },
                    "records": tg.records,
                    "alias": tg.alias.as_ref().map(|a| json!({
                        "name": format!("{}.", a.name),
                        "zone_id": a.zone_id,
                        "evaluate_target_health": a.evaluate_target_health,
                    })),
                    "set_identifier": if failover { json!(tg.name) } else { Value::Null },
                    "failover": role,
                    "health_check": hc_addr.map(|a| a.0),
                }),
                depends_on,
                false,
                &d.source,
            ));
        }
    }
}
