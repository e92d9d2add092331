//! The Route53 family (global): `zone` blocks, and `dns` blocks lowering to record
//! sets and health checks.

pub mod decode;
pub mod terraform;

use super::{
    by_mark, into_attrs, text, type_name_of, Family, Import, KindInfo, MarkPlace, NameKey, Phase,
    Provider, Reference, Runbook, Terraform,
};
use crate::address::Address;
use crate::model::SiteRole;
use crate::resource::{Kind, Resource};
use crate::spec::lower::{tags, Lowering};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A hosted zone's normalized attributes, typed: the lowering builds them from the
/// spec and the reader (`src/live/route53.rs`) from Route53's answers, so the compiler
/// checks both sides produce one form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneAttrs {
    /// With the trailing dot.
    pub name: String,
    pub comment: Option<String>,
    pub tags: Value,
}

/// One record set's normalized attributes (see [`ZoneAttrs`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordAttrs {
    /// The zone's name, trailing dot.
    pub zone: String,
    /// FQDN, trailing dot.
    pub name: String,
    #[serde(rename = "type")]
    pub record_type: String,
    /// `null` for an alias (Route53 takes its target's).
    pub ttl: Option<i64>,
    pub records: Vec<String>,
    pub alias: Option<AliasAttrs>,
    pub set_identifier: Option<String>,
    /// "PRIMARY" | "SECONDARY" under failover routing.
    pub failover: Option<String>,
    /// The health check's address in the spec, its id as read.
    pub health_check: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AliasAttrs {
    /// The target's DNS name, trailing dot.
    pub name: String,
    /// `null` for a record of the same zone.
    pub zone_id: Option<String>,
    pub evaluate_target_health: bool,
}

/// A health check's normalized attributes (see [`ZoneAttrs`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthCheckAttrs {
    #[serde(rename = "type")]
    pub check_type: Option<String>,
    pub fqdn: Option<String>,
    pub port: Option<i64>,
    pub resource_path: Option<String>,
    pub request_interval: Option<i64>,
    pub failure_threshold: Option<i64>,
    pub tags: Value,
}

/// The family in the registry (`kinds::FAMILIES`): its spec blocks, lowering and
/// checks across blocks.
pub(crate) const FAMILY: Family = Family {
    blocks: &[decode::ZONE_BLOCK, decode::DNS_BLOCK],
    lower: Some(lower),
    check: None,
};

pub const ZONE: KindInfo = KindInfo {
    type_name: "aws_route53_zone",
    stateful: true,
    regional: false,
    in_cluster: false,
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
    deletion_means: None,
    terraform: Terraform {
        type_name: None,
        provider: Provider::Aws,
        values: terraform::same_values,
    },
    runbook: Runbook {
        what: type_name_of,
        phase: |_| Phase::Traffic,
        verify: zone_verify,
    },
    import: Import {
        address_shape: &["zone", "*"],
        state: Ok(terraform::zone_state),
    },
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
    deletion_means: None,
    terraform: Terraform {
        type_name: None,
        provider: Provider::Aws,
        values: terraform::record_values,
    },
    runbook: Runbook {
        what: type_name_of,
        phase: |_| Phase::Traffic,
        verify: record_verify,
    },
    import: Import {
        address_shape: &["dns", "*", "target", "*"],
        state: Err("DNS records and health checks are not written from live objects yet: write the `dns` block, then plan"),
    },
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
    deletion_means: None,
    terraform: Terraform {
        type_name: None,
        provider: Provider::Aws,
        values: terraform::same_values,
    },
    runbook: Runbook {
        what: type_name_of,
        phase: |_| Phase::Traffic,
        verify: health_check_verify,
    },
    import: Import {
        address_shape: &["dns", "*", "target", "*", "health_check"],
        state: Err("DNS records and health checks are not written from live objects yet: write the `dns` block, then plan"),
    },
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
            Value::Object(into_attrs(ZoneAttrs {
                name: format!("{}.", z.name),
                comment: z.comment.clone(),
                tags: tags(&z.tags),
            })),
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
                    Value::Object(into_attrs(HealthCheckAttrs {
                        check_type: Some(hc.check_type.clone()),
                        fqdn: Some(hc.fqdn.clone()),
                        port: Some(hc.port),
                        resource_path: hc.resource_path.clone(),
                        request_interval: Some(hc.request_interval),
                        failure_threshold: Some(hc.failure_threshold),
                        tags: tags(&hc.tags),
                    })),
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
                (false, _) => None,
                (true, true) => Some("PRIMARY".to_string()),
                (true, false) => Some("SECONDARY".to_string()),
            };
            out.push(lw.resource(
                taddr,
                Kind::DnsRecord,
                None,
                Value::Object(into_attrs(RecordAttrs {
                    zone: format!("{}.", d.zone),
                    name: format!("{}.", d.name),
                    record_type: d.record_type.clone(),
                    // An alias has no TTL of its own (Route53 takes its target's).
                    ttl: tg.alias.is_none().then_some(d.ttl),
                    records: tg.records.clone(),
                    alias: tg.alias.as_ref().map(|a| AliasAttrs {
                        name: format!("{}.", a.name),
                        zone_id: a.zone_id.clone(),
                        evaluate_target_health: a.evaluate_target_health,
                    }),
                    set_identifier: failover.then(|| tg.name.clone()),
                    failover: role,
                    health_check: hc_addr.map(|a| a.0),
                })),
                depends_on,
                false,
                &d.source,
            ));
        }
    }
}

/// The runbook's check of a zone (`KindInfo::runbook`).
fn zone_verify(r: &Resource, _: &dyn Fn(&str) -> String) -> String {
    format!(
        "aws route53 list-hosted-zones-by-name --dns-name {} --max-items 1",
        text(&r.attrs, "name")
    )
}

/// The runbook's check of a health check.
fn health_check_verify(r: &Resource, _: &dyn Fn(&str) -> String) -> String {
    format!(
        "aws route53 list-health-checks --query \"HealthChecks[?HealthCheckConfig.FullyQualifiedDomainName=='{}']\"",
        text(&r.attrs, "fqdn")
    )
}

/// The runbook's check of a record set: its failover role and records.
fn record_verify(r: &Resource, _: &dyn Fn(&str) -> String) -> String {
    let zone = text(&r.attrs, "zone");
    let name = text(&r.attrs, "name");
    let set = r
        .attrs
        .get("set_identifier")
        .and_then(Value::as_str)
        .map(|s| format!(" && SetIdentifier=='{s}'"))
        .unwrap_or_default();
    format!(
        "aws route53 list-resource-record-sets --hosted-zone-id \"$(aws route53 list-hosted-zones-by-name --dns-name {zone} --max-items 1 --query 'HostedZones[0].Id' --output text)\" --query \"ResourceRecordSets[?Name=='{name}'{set}].[Failover,ResourceRecords]\""
    )
}
