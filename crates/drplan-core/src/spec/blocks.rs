//! The top-level blocks of the spec language, in one table: how many labels each
//! takes, the attributes of the object a reference to it reads (`bucket.x.arn`),
//! whether it holds managed objects (an address starts with it: `moved`, `removed`,
//! `--target`), its rank among blocks ready at the same time, the schema its body
//! is decoded with, and how the loader decodes and publishes it. The language's own
//! blocks are here; each family declares its blocks in its `kinds::<family>::decode`
//! (`Block::family`), registered in `kinds::FAMILIES`. The loader, the evaluation
//! order, the reference checks and the address parser all read the table.

use super::body::Schema;
use super::decode::{self, FamilyBlock};
use super::load;
use crate::kinds;
use std::sync::OnceLock;

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
    /// through this table (a family's in its `kinds::<family>::decode`).
    pub schema: Option<&'static Schema>,
    /// Its objects depend on the environment (`enabled`, placements that follow the
    /// active site): an `import` whose `to` it does not make may be meant for
    /// another environment.
    pub varies_by_environment: bool,
    /// Nested blocks decoded once every block is published (`FamilyBlock::LINKS`),
    /// left out of its evaluation order.
    pub links: &'static [&'static str],
    /// How the loader decodes and publishes it; `None` for the blocks it reads on
    /// their own (`variable`, `locals`, and `site`: every site is known before
    /// anything regional).
    pub(super) decode: Option<load::DecodeFn>,
    /// How the loader decodes its `links`.
    pub(super) decode_links: Option<load::LinksFn>,
}

impl Block {
    /// A family's block: managed, referable with `object`'s attributes, decoded into
    /// `B` by `B::decode` and kept in `B::models`.
    pub(crate) const fn family<B: FamilyBlock>(
        name: &'static str,
        object: &'static [&'static str],
        rank: usize,
        schema: &'static Schema,
    ) -> Block {
        Block {
            object: Some(object),
            schema: Some(schema),
            links: B::LINKS,
            decode: Some(load::decode_family::<B>),
            decode_links: match B::LINKS.is_empty() {
                true => None,
                false => Some(load::decode_links::<B>),
            },
            ..block(name, 1, None, true, rank)
        }
    }

    pub(crate) const fn varying_by_environment(self) -> Block {
        Block {
            varies_by_environment: true,
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
        varies_by_environment: false,
        links: &[],
        decode: None,
        decode_links: None,
    }
}

/// The language's own blocks (every top-level block but a family's, and `moved`,
/// `removed` and `import`, read on their own).
const LANGUAGE: &[Block] = &[
    block("variable", 1, None, false, 0),
    block("locals", 0, None, false, 1),
    Block {
        schema: Some(&decode::site::SCHEMA),
        ..block(
            "site",
            1,
            Some(&["name", "region", "role", "active", "address"]),
            false,
            2,
        )
    },
    Block {
        schema: Some(&decode::objectives::SCHEMA),
        decode: Some(load::decode_objectives),
        ..block("objectives", 0, None, false, 10)
    },
];

/// Every top-level block: the language's, then each family's in registry order.
pub fn all() -> impl Iterator<Item = &'static Block> {
    static ALL: OnceLock<Vec<&'static Block>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        LANGUAGE
            .iter()
            .chain(kinds::FAMILIES.iter().flat_map(|f| f.blocks))
            .collect()
    });
    all.iter().copied()
}

pub fn find(name: &str) -> Option<&'static Block> {
    all().find(|b| b.name == name)
}

/// The blocks others may refer to, with their objects' attributes.
pub fn referable() -> impl Iterator<Item = (&'static str, &'static [&'static str])> {
    all().filter_map(|b| b.object.map(|o| (b.name, o)))
}

/// The blocks an address may start with.
pub fn address_roots() -> impl Iterator<Item = &'static str> {
    all().filter(|b| b.managed).map(|b| b.name)
}

/// Every block in rank order (how the language lists them).
pub fn by_rank() -> impl Iterator<Item = &'static Block> {
    let mut all: Vec<&'static Block> = all().collect();
    all.sort_by_key(|b| b.rank);
    all.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_is_named_once_and_every_family_block_is_decoded_by_the_table() {
        let names: Vec<&str> = all().map(|b| b.name).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        for b in kinds::FAMILIES.iter().flat_map(|f| f.blocks) {
            assert!(
                b.managed && b.decode.is_some() && b.schema.is_some(),
                "{}",
                b.name
            );
            assert_eq!(b.decode_links.is_some(), !b.links.is_empty(), "{}", b.name);
        }
    }
}
