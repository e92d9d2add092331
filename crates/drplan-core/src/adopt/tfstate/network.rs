//! aws_vpc -> `network`, aws_subnet -> its `subnet` blocks (matched by `vpc_id`).
//! Import ids: the VPC id, the subnet id.

use super::state::Instance;
use super::{with_tags, Out};
use crate::address::Address;
use crate::adopt::config::{Block, Value};
use crate::adopt::label;
use crate::resource::Kind;
use ipnet::Ipv4Net;
use std::collections::{BTreeMap, BTreeSet};

/// The networks written, for the clusters that run in them.
#[derive(Default)]
pub(super) struct Networks {
    /// Subnet id -> (network label, subnet label).
    pub subnet: BTreeMap<String, (String, String)>,
    /// Network label -> its subnet labels.
    pub subnets_of: BTreeMap<String, BTreeSet<String>>,
    /// Network label -> its site.
    pub site_of: BTreeMap<String, String>,
}

pub(super) fn convert(vpcs: &[Instance], subnets: &[Instance], out: &mut Out) -> Networks {
    let mut nets = Networks::default();
    let mut placed: BTreeSet<usize> = BTreeSet::new();
    for vpc in vpcs {
        let Some(vpc_id) = vpc.str("id") else {
            out.uncover(&vpc.source, "the state has no VPC id");
            continue;
        };
        let mine: Vec<(usize, &Instance)> = subnets
            .iter()
            .enumerate()
            .filter(|(_, s)| s.str("vpc_id") == Some(vpc_id))
            .collect();
        placed.extend(mine.iter().map(|(n, _)| *n));
        let Some(cidr) = vpc.str("cidr_block") else {
            out.uncover(&vpc.source, "the state has no cidr_block");
            for (_, s) in &mine {
                out.uncover(&s.source, "its VPC is not converted");
            }
            continue;
        };
        let Some(site) = out.site_of(vpc) else {
            for (_, s) in &mine {
                out.uncover(&s.source, "its VPC is not converted");
            }
            continue;
        };
        let net = out.label("network", &vpc.name);
        let address = Address::block("network", &net);
        out.adopt(address.clone(), Kind::Vpc, vpc_id, &vpc.source);
        let mut block = with_tags(
            Block::new("network")
                .label(&net)
                .attr("site", Value::raw(format!("site.{site}")))
                .attr("cidr", cidr),
            vpc.tags(),
        );
        let range: Option<Ipv4Net> = cidr.parse().ok();
        let mut labels = BTreeSet::new();
        for (_, s) in mine {
            let (Some(id), Some(sub_cidr), Some(az)) =
                (s.str("id"), s.str("cidr_block"), s.str("availability_zone"))
            else {
                out.uncover(
                    &s.source,
                    "the state lacks its id, cidr_block or availability_zone",
                );
                continue;
            };
            let inside = match (range, sub_cidr.parse::<Ipv4Net>()) {
                (Some(r), Ok(sn)) => r.contains(&sn),
                _ => false,
            };
            if !inside {
                out.uncover(
                    &s.source,
                    format!(
                        "its range {sub_cidr} is not inside the VPC's primary block {cidr}: \
                         drplan networks have one IPv4 block"
                    ),
                );
                continue;
            }
            let mut sub = label(&s.name);
            let base = sub.clone();
            let mut n = 2;
            while labels.contains(&sub) {
                sub = format!("{base}_{n}");
                n += 1;
            }
            labels.insert(sub.clone());
            out.adopt(address.child("subnet", &sub), Kind::Subnet, id, &s.source);
            let mut b = Block::new("subnet")
                .label(&sub)
                .attr("availability_zone", az)
                .attr("cidr", sub_cidr);
            if s.bool("map_public_ip_on_launch") == Some(true) {
                b.push_attr("public", true);
            }
            block.push_block(with_tags(b, s.tags()));
            nets.subnet
                .insert(id.to_string(), (net.clone(), sub.clone()));
        }
        nets.subnets_of.insert(net.clone(), labels);
        nets.site_of.insert(net.clone(), site);
        out.block(block);
    }
    for (n, s) in subnets.iter().enumerate() {
        if !placed.contains(&n) {
            out.uncover(
                &s.source,
                format!(
                    "its VPC {} is not in the state: a subnet is written inside its network",
                    s.str("vpc_id").unwrap_or("(none)")
                ),
            );
        }
    }
    nets
}
