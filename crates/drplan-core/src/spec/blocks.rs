//! The top-level blocks of the spec language, in one table: how many labels each
//! takes, the attributes of the object a reference to it reads (`bucket.x.arn`),
//! whether it holds managed objects (an address starts with it: `moved`, `removed`,
//! `--target`), its rank among blocks ready at the same time, and the schema its body
//! is decoded with. The loader, the evaluation order, the reference checks and the
//! address parser all read it.

use super::body::Schema;
use super::decode;
use crate::kinds;

pub struct Block {
    pub name: &'static str,
    pub labels: usize,
    /// The attributes of its published object, when other blocks may refer to it.
    pub object: Option<&'static [&'static str]>,
    /// Holds managed objects: an address starts with its name.
    pub managed: bool,
    /// Tie-break among blocks ready at the same time in evaluation: lower first, so
    /// that string references such as `network = "primary"` find their target
    /// already decoded.
    pub rank: usize,
    /// The schema its body is decoded with, for the blocks the loader decodes
    /// generically (a family's in its `kinds::<family>::decode`).
    pub schema: Option<&'static Schema>,
}

impl Block {
    const fn with_schema(self, schema: &'static Schema) -> Block {
        Block {
            schema: Some(schema),
            ..self
        }
    }
}

const fn block(
    name: &'static str,
    labels: usize,
    object: Option<&'static [&'static str]>,
    managed: bool,
    rank: usize,
) -> Block {
    Block {
        name,
        labels,
        object,
        managed,
        rank,
        schema: None,
    }
}

/// Every top-level block but `moved`, `removed` and `import` (read on their own).
pub const BLOCKS: &[Block] = &[
    block("variable", 1, None, false, 0),
    block("locals", 0, None, false, 1),
    block(
        "site",
        1,
        Some(&["name", "region", "role", "active", "address"]),
        false,
        2,
    )
    .with_schema(&decode::site::SCHEMA),
    block(
        "network",
        1,
        Some(&["name", "site", "region", "cidr", "address"]),
        true,
        3,
    )
    .with_schema(&kinds::network::decode::SCHEMA),
    block(
        "peering",
        1,
        Some(&["name", "requester", "accepter", "address"]),
        true,
        4,
    )
    .with_schema(&kinds::peering::decode::SCHEMA),
    block(
        "cluster",
        1,
        Some(&["name", "site", "region", "version", "address"]),
        true,
        5,
    )
    .with_schema(&kinds::eks::decode::SCHEMA),
    block(
        "kms_key",
        1,
        Some(&["name", "site", "region", "alias", "replicas", "address"]),
        true,
        5,
    )
    .with_schema(&kinds::kms::decode::SCHEMA),
    block(
        "bucket",
        1,
        Some(&["name", "arn", "site", "region", "address"]),
        true,
        6,
    )
    .with_schema(&kinds::s3::decode::SCHEMA),
    block(
        "registry",
        1,
        Some(&["name", "site", "region", "address"]),
        true,
        6,
    )
    .with_schema(&kinds::ecr::decode::SCHEMA),
    block(
        "cache",
        1,
        Some(&["name", "site", "region", "component", "address"]),
        true,
        6,
    )
    .with_schema(&kinds::elasticache::decode::SCHEMA),
    block("zone", 1, Some(&["name", "address"]), true, 4)
        .with_schema(&kinds::route53::decode::ZONE_SCHEMA),
    block("dns", 1, Some(&["name", "fqdn", "address"]), true, 7)
        .with_schema(&kinds::route53::decode::DNS_SCHEMA),
    block(
        "kubernetes",
        1,
        Some(&["name", "cluster", "address"]),
        true,
        8,
    )
    .with_schema(&kinds::kubernetes::decode::KUBERNETES_SCHEMA),
    block(
        "backup",
        1,
        Some(&["name", "engine", "component", "address"]),
        true,
        9,
    )
    .with_schema(&kinds::kubernetes::decode::BACKUP_SCHEMA),
    block("objectives", 0, None, false, 10).with_schema(&decode::objectives::SCHEMA),
];

pub fn find(name: &str) -> Option<&'static Block> {
    BLOCKS.iter().find(|b| b.name == name)
}

/// The blocks others may refer to, with their objects' attributes.
pub fn referable() -> impl Iterator<Item = (&'static str, &'static [&'static str])> {
    BLOCKS.iter().filter_map(|b| b.object.map(|o| (b.name, o)))
}

/// The blocks an address may start with.
pub fn address_roots() -> impl Iterator<Item = &'static str> {
    BLOCKS.iter().filter(|b| b.managed).map(|b| b.name)
}

/// Every block in rank order (how the language lists them).
pub fn by_rank() -> impl Iterator<Item = &'static Block> {
    let mut all: Vec<&'static Block> = BLOCKS.iter().collect();
    all.sort_by_key(|b| b.rank);
    all.into_iter()
}
