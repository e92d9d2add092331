//! Topology -> flat resources in the normalized form documented on
//! [`crate::resource::Kind`]. The live readers produce the same shapes.

use crate::address::Address;
use crate::model::{Environment, SiteRole, Tags, Topology};
use crate::resource::{Kind, Resource, SourceRef};
use serde_json::{json, Map, Value};

pub fn lower(t: &Topology, env: &Environment) -> Vec<Resource> {
    let mut out = Vec::new();
    let region = |site: &str| t.sites.get(site).map(|s| s.region.clone());
    let mk = |address: Address,
              kind: Kind,
              site: Option<&str>,
              attrs: Value,
              depends_on: Vec<Address>,
              protect: bool,
              source: &SourceRef| Resource {
        ignore_changes: Vec::new(),
        address,
        kind,
        site: site.map(str::to_string),
        region: site.and_then(region),
        attrs: match attrs {
            Value::Object(m) => m,
            _ => Map::new(),
        },
        sensitive: Vec::new(),
        depends_on,
        protect,
        source: Some(source.clone()),
    };

    for n in t.networks.values() {
        let vpc = Address::block("network", &n.name);
        out.push(mk(
            vpc.clone(),
            Kind::Vpc,
            Some(&n.site),
            json!({"cidr_block": n.cidr, "tags": tags(&n.tags)}),
            vec![],
            false,
            &n.source,
        ));
        for s in n.subnets.values() {
            out.push(mk(
                vpc.child("subnet", &s.name),
                Kind::Subnet,
                Some(&n.site),
                json!({
                    "vpc": vpc.as_str(),
                    "cidr_block": s.cidr,
                    "availability_zone": s.availability_zone,
                    "public": s.public,
                    "tags": tags(&s.tags),
                }),
                vec![vpc.clone()],
                false,
                &s.source,
            ));
        }
    }

    for c in t.clusters.values() {
        let addr = Address::block("cluster", &c.label);
        let net = Address::block("network", &c.network);
        let all_subnets: Vec<String> = t
            .networks
            .get(&c.network)
            .map(|n| n.subnets.keys().cloned().collect())
            .unwrap_or_default();
        let chosen = if c.subnets.is_empty() {
            all_subnets
        } else {
            c.subnets.clone()
        };
        let subnet_addrs = sorted_addrs(&net, &chosen);
        out.push(mk(
            addr.clone(),
            Kind::EksCluster,
            Some(&c.site),
            json!({
                "name": c.name,
                "version": c.version,
                "role_arn": c.role_arn,
                "subnets": subnet_addrs.iter().map(Address::as_str).collect::<Vec<_>>(),
                "tags": tags(&c.tags),
            }),
            subnet_addrs.clone(),
            c.protect,
            &c.source,
        ));
        for g in c.node_groups.values() {
            let ng_subnets = if g.subnets.is_empty() {
                subnet_addrs.clone()
            } else {
                sorted_addrs(&net, &g.subnets)
            };
            let mut group = mk(
                addr.child("node_group", &g.name),
                Kind::NodeGroup,
                Some(&c.site),
                json!({
                    "cluster_name": c.name,
                    "name": g.name,
                    "node_role_arn": g.node_role_arn,
                    "instance_types": g.instance_types,
                    "min_size": g.min_size,
                    "max_size": g.max_size,
                    "desired_size": g.desired_size,
                    "disk_size": g.disk_size,
                    "capacity_type": g.capacity_type,
                    "labels": g.labels,
                    "subnets": ng_subnets.iter().map(Address::as_str).collect::<Vec<_>>(),
                    "tags": tags(&g.tags),
                }),
                vec![addr.clone()],
                false,
                &g.source,
            );
            group.ignore_changes = g.ignore_changes.clone();
            out.push(group);
        }
    }

    for b in t.buckets.values() {
        let mut rules = b.lifecycle_rules.clone();
        rules.sort_by(|x, y| x.id.cmp(&y.id));
        let lifecycle: Vec<Value> = rules
            .iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "prefix": r.prefix,
                    "expiration_days": r.expiration_days,
                    "noncurrent_expiration_days": r.noncurrent_expiration_days,
                    "transitions": r.transitions.iter().map(|t| json!({"days": t.days, "storage_class": t.storage_class})).collect::<Vec<_>>(),
                })
            })
            .collect();
        // Not an ordering edge: the replication configuration is apply's link step,
        // after this bucket and its destinations (buckets may replicate to each other).
        let depends_on = Vec::new();
        let replication = match &b.replication {
            None => Value::Null,
            Some(rep) => {
                let mut rules = rep.rules.clone();
                rules.sort_by(|x, y| x.id.cmp(&y.id));
                json!({
                    "role_arn": rep.role_arn,
                    "rules": rules.iter().map(|r| json!({
                        "id": r.id,
                        "prefix": r.prefix,
                        "destination_bucket": t.buckets.get(&r.destination).map(|d| d.name.clone()).unwrap_or_else(|| r.destination.clone()),
                        "storage_class": r.storage_class,
                    })).collect::<Vec<_>>(),
                })
            }
        };
        let encryption = match &b.encryption {
            Some(e) => json!({"algorithm": e.algorithm, "kms_key_id": e.kms_key_id}),
            None => Value::Null,
        };
        out.push(mk(
            Address::block("bucket", &b.label),
            Kind::Bucket,
            Some(&b.site),
            json!({
                "name": b.name,
                "versioning": b.versioning,
                "encryption": encryption,
                "lifecycle_rules": lifecycle,
                "replication": replication,
                "tags": tags(&b.tags),
            }),
            depends_on,
            b.protect,
            &b.source,
        ));
    }

    for z in t.zones.values() {
        out.push(mk(
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
            .find(|tg| tg.site == env.active_site)
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
                out.push(mk(
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
            out.push(mk(
                taddr,
                Kind::DnsRecord,
                None,
                json!({
                    "zone": format!("{}.", d.zone),
                    "name": format!("{}.", d.name),
                    "type": d.record_type,
                    "ttl": d.ttl,
                    "records": tg.records,
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

    out.sort_by(|a, b| a.address.cmp(&b.address));
    out
}

/// `depends_on` names blocks; every resource of the block waits for every resource of
/// the blocks it names. Run over every resource of the project, Kubernetes objects
/// included (they are lowered after the cloud resources, and either side may name the
/// other).
pub fn wire_depends_on(t: &Topology, out: &mut [Resource]) {
    for r in out.iter_mut() {
        let Some(deps) = t.depends_on.get(r.address.root_block().as_str()) else {
            continue;
        };
        r.depends_on
            .extend(deps.iter().map(|d| Address::new(d.clone())));
    }
    let existing: std::collections::BTreeSet<Address> =
        out.iter().map(|r| r.address.clone()).collect();
    let by_block: std::collections::BTreeMap<Address, Vec<Address>> =
        out.iter().fold(Default::default(), |mut m, r| {
            m.entry(r.address.root_block())
                .or_insert_with(Vec::new)
                .push(r.address.clone());
            m
        });
    for r in out.iter_mut() {
        let mut deps: Vec<Address> = Vec::new();
        for d in std::mem::take(&mut r.depends_on) {
            if existing.contains(&d) {
                deps.push(d);
            } else if let Some(all) = by_block.get(&d) {
                deps.extend(all.iter().cloned());
            }
        }
        deps.retain(|d| d != &r.address);
        deps.sort();
        deps.dedup();
        r.depends_on = deps;
    }
}

fn tags(t: &Tags) -> Value {
    json!(t)
}

fn sorted_addrs(net: &Address, subnets: &[String]) -> Vec<Address> {
    let mut v: Vec<Address> = subnets.iter().map(|s| net.child("subnet", s)).collect();
    v.sort();
    v.dedup();
    v
}
