use crate::model::{Network, Subnet, Topology};
use crate::spec::body::{self, BlockBody, Schema};
use crate::spec::decode::{check_tags, label_of, object, source_ref, Cx, SpanTable};
use crate::spec::diagnostic::{Diagnostics, SpecDiagnostic};
use hcl::Value;
use ipnet::Ipv4Net;
use std::collections::BTreeMap;

pub const SCHEMA: Schema = Schema::new(&["site", "cidr", "tags", "depends_on"], &["subnet"]);

/// The `network` block in the table of blocks (registered in `kinds::FAMILIES`).
pub const BLOCK: crate::spec::blocks::Block = crate::spec::blocks::Block::family::<Network>(
    "network",
    &["name", "site", "region", "cidr", "address"],
    3,
    &SCHEMA,
);

impl crate::spec::decode::FamilyBlock for Network {
    fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Self> {
        decode(label, b, cx)
    }

    fn object(&self, sites: &BTreeMap<String, crate::model::Site>) -> Value {
        network_object(self, &crate::spec::decode::region_in(sites, &self.site))
    }

    fn models(t: &mut crate::model::Topology) -> &mut BTreeMap<String, Self> {
        &mut t.networks
    }
}
const SUBNET: Schema = Schema::new(&["availability_zone", "cidr", "public", "tags"], &[]);

pub fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Network> {
    let address = format!("network.{label}");
    let site = b.block_ref(cx.diags, cx.scope, "site", "site");
    if !b.has("site") {
        b.missing(
            cx.diags,
            "site",
            "name the site this network is in: site = site.primary",
        );
    }
    let cidr = b.required_string(
        cx.diags,
        "cidr",
        "the VPC's IPv4 range, e.g. cidr = \"10.0.0.0/16\"",
    );
    let net = cidr.as_deref().and_then(|c| parse_cidr(b, cx, "cidr", c));
    if let Some(n) = net {
        if !(16..=28).contains(&n.prefix_len()) {
            b.invalid(
                cx.diags,
                "drplan::invalid_cidr",
                "cidr",
                format!("a VPC's prefix must be /16 to /28, not /{}", n.prefix_len()),
                "AWS accepts VPC blocks from /16 to /28",
            );
        }
    }
    cx.spans.record(&address, "cidr", b);
    let tags = b.string_map(cx.diags, "tags").unwrap_or_default();
    check_tags(b, cx.diags, &tags);
    let region = site
        .as_ref()
        .and_then(|s| cx.sites.get(s))
        .map(|s| s.region.clone());

    let mut subnets: BTreeMap<String, Subnet> = BTreeMap::new();
    let mut placed: Vec<(String, Ipv4Net, std::ops::Range<usize>)> = Vec::new();
    for block in b.nested("subnet").collect::<Vec<_>>() {
        let Some(sub_label) = label_of(block) else {
            cx.diags.push(
                SpecDiagnostic::new("drplan::missing_label", "subnet needs a label")
                    .at(b.file, body::block_header(block), "no label")
                    .help("write subnet \"private-a\" { ... }"),
            );
            continue;
        };
        let mut s = body::read(b.file, block, &SUBNET, cx.scope, cx.ctx, cx.diags);
        if subnets.contains_key(&sub_label) {
            cx.diags.push(
                SpecDiagnostic::new(
                    "drplan::duplicate_label",
                    format!("subnet \"{sub_label}\" is declared twice in network \"{label}\""),
                )
                .at(b.file, s.header.clone(), "again here")
                .help("give each subnet its own label"),
            );
            continue;
        }
        let az = s.required_string(
            cx.diags,
            "availability_zone",
            "e.g. availability_zone = \"us-west-2a\"",
        );
        if let (Some(az), Some(region)) = (&az, &region) {
            let ok = az.strip_prefix(region.as_str()).is_some_and(|rest| {
                rest.len() == 1 && rest.chars().all(|c| c.is_ascii_lowercase())
            });
            if !ok {
                s.invalid(
                    cx.diags,
                    "drplan::availability_zone",
                    "availability_zone",
                    format!("availability zone `{az}` is not in the site's region {region}"),
                    format!("use a zone of {region}, e.g. {region}a"),
                );
            }
        }
        let sub_cidr = s.required_string(
            cx.diags,
            "cidr",
            "the subnet's range inside the network's cidr",
        );
        if let Some(sn) = sub_cidr
            .as_deref()
            .and_then(|c| parse_cidr(&s, cx, "cidr", c))
        {
            if let Some(n) = net {
                if !n.contains(&sn) {
                    s.invalid(
                        cx.diags,
                        "drplan::subnet_outside_network",
                        "cidr",
                        format!("subnet {sn} is outside network {n}"),
                        format!("choose a range inside {n}, e.g. cidrsubnet(\"{n}\", 4, 0)"),
                    );
                }
            }
            if let Some((other, _, _)) = placed
                .iter()
                .find(|(_, o, _)| o.contains(&sn.network()) || sn.contains(&o.network()))
            {
                s.invalid(
                    cx.diags,
                    "drplan::cidr_overlap",
                    "cidr",
                    format!("subnet \"{sub_label}\" ({sn}) overlaps subnet \"{other}\""),
                    "subnets of one network must not overlap",
                );
            }
            placed.push((sub_label.clone(), sn, s.span("cidr")));
        }
        let public = s.bool(cx.diags, "public").unwrap_or(false);
        let sub_tags = s.string_map(cx.diags, "tags").unwrap_or_default();
        check_tags(&s, cx.diags, &sub_tags);
        if let (Some(az), Some(c)) = (az, sub_cidr) {
            subnets.insert(
                sub_label.clone(),
                Subnet {
                    name: sub_label,
                    availability_zone: az,
                    cidr: c,
                    public,
                    tags: sub_tags,
                    source: source_ref(&s),
                },
            );
        }
    }
    Some(Network {
        name: label.to_string(),
        site: site?,
        cidr: net?.to_string(),
        subnets,
        tags,
        source: source_ref(b),
    })
}

pub fn network_object(n: &Network, region: &str) -> Value {
    object(&[
        ("name", Value::from(n.name.clone())),
        ("site", Value::from(n.site.clone())),
        ("region", Value::from(region)),
        ("cidr", Value::from(n.cidr.clone())),
        ("address", Value::from(format!("network.{}", n.name))),
    ])
}

fn parse_cidr(b: &BlockBody, cx: &mut Cx, attr: &str, c: &str) -> Option<Ipv4Net> {
    match c.parse::<Ipv4Net>() {
        Ok(n) if n.network() == n.addr() => Some(n),
        Ok(n) => {
            b.invalid(
                cx.diags,
                "drplan::invalid_cidr",
                attr,
                format!("`{c}` has host bits set"),
                format!("did you mean `{}`?", n.trunc()),
            );
            None
        }
        Err(_) => {
            b.invalid(
                cx.diags,
                "drplan::invalid_cidr",
                attr,
                format!("`{c}` is not an IPv4 CIDR block"),
                "write an address and a prefix length, e.g. \"10.0.0.0/16\"",
            );
            None
        }
    }
}

/// Across blocks: the networks of one site do not overlap.
pub fn check(t: &Topology, spans: &SpanTable, diags: &mut Diagnostics) {
    let mut by_site: BTreeMap<&str, Vec<(&str, Ipv4Net)>> = BTreeMap::new();
    for n in t.networks.values() {
        let Ok(cidr) = n.cidr.parse::<Ipv4Net>() else {
            continue;
        };
        let list = by_site.entry(n.site.as_str()).or_default();
        if let Some((other, ocidr)) = list
            .iter()
            .find(|(_, o)| o.contains(&cidr.network()) || cidr.contains(&o.network()))
        {
            let d = SpecDiagnostic::new(
                "drplan::cidr_overlap",
                format!(
                    "network \"{}\" ({cidr}) overlaps network \"{other}\" ({ocidr}) in site \"{}\"",
                    n.name, n.site
                ),
            )
            .help("networks of one site must not overlap (they may be peered)");
            diags.push(spans.at(
                &format!("network.{}", n.name),
                "cidr",
                d,
                "overlapping range",
            ));
        }
        list.push((n.name.as_str(), cidr));
    }
}
