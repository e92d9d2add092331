//! `moved { from = X  to = Y }`: Terraform's answer to renaming a block whose objects
//! drplan finds only by their mark (networks, subnets, health checks). The diff
//! matches the object marked `from` (or under it) to the resource at `to` (or under
//! it), and apply moves the mark.
//!
//! Read in two steps: the shape of each block as the files are collected (so syntax
//! problems are reported with the rest), and against the resources once they are
//! lowered (`to` must exist, `from` must not).

use super::body::block_header;
use super::diagnostic::{Diagnostics, SourceFile, SpecDiagnostic};
use super::files::ParsedFile;
use crate::address::Address;
use crate::model::Moved;
use crate::resource::Resource;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Structure};
use hcl_edit::Span;
use std::collections::BTreeMap;
use std::ops::Range;

/// One well-formed `moved` block, with where it was written.
pub(super) struct MovedBlock {
    file: usize,
    from: (Address, Range<usize>),
    to: (Address, Range<usize>),
}

/// Reads the shape of one `moved` block of `specs[file]`: no label, exactly `from`
/// and `to`, each an address (`network.primary`, or quoted when a label holds `-`).
pub(super) fn read(
    specs: &[ParsedFile],
    file: usize,
    block: &Block,
    diags: &mut Diagnostics,
) -> Option<MovedBlock> {
    let src = &specs[file].source;
    if !block.labels.is_empty() {
        diags.push(
            SpecDiagnostic::new("drplan::missing_label", "`moved` takes no label")
                .at(src, block_header(block), "here")
                .help("write moved { from = bucket.old  to = bucket.new }"),
        );
        return None;
    }
    let mut found: BTreeMap<&str, (Option<Address>, Range<usize>)> = BTreeMap::new();
    let mut ok = true;
    for structure in block.body.iter() {
        let attr = match structure {
            Structure::Attribute(a) => a,
            Structure::Block(b) => {
                diags.push(
                    SpecDiagnostic::new(
                        "drplan::unknown_block",
                        format!("`moved` holds no `{}` block", b.ident.as_str()),
                    )
                    .at(src, b.ident.span().unwrap_or(0..0), "unexpected block")
                    .help("a moved block sets `from` and `to` only"),
                );
                ok = false;
                continue;
            }
        };
        let key = attr.key.as_str();
        let key_span = attr.key.span().unwrap_or(0..0);
        let name = match key {
            "from" => "from",
            "to" => "to",
            other => {
                diags.push(
                    SpecDiagnostic::new(
                        "drplan::unknown_attribute",
                        format!("`moved` has no attribute `{other}`"),
                    )
                    .at(src, key_span, "unknown attribute")
                    .help("a moved block sets `from` and `to` only"),
                );
                ok = false;
                continue;
            }
        };
        if found.contains_key(name) {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::duplicate_attribute",
                    format!("`{name}` is set twice"),
                )
                .at(src, key_span, "set again here")
                .help("keep one"),
            );
            ok = false;
            continue;
        }
        let span = attr.value.span().unwrap_or(0..0);
        let address = address_of(&attr.value, src.slice(span.clone()).unwrap_or(""));
        if address.is_none() {
            diags.push(
                SpecDiagnostic::new("drplan::invalid_value", format!("`{name}` must be a resource address"))
                    .at(src, span.clone(), "not an address")
                    .help(format!(
                        "write a block address such as `bucket.backups` or `network.primary.subnet.a`; \
                         quote it when a label holds `-` (\"network.primary.subnet.private-a\"); it starts with one of: {}",
                        super::blocks::address_roots().collect::<Vec<_>>().join(", ")
                    )),
            );
            ok = false;
        }
        found.insert(name, (address, span));
    }
    for name in ["from", "to"] {
        if !found.contains_key(name) {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::missing_attribute",
                    format!("`moved` needs `{name}`"),
                )
                .at(src, block_header(block), "this block")
                .help("write moved { from = bucket.old  to = bucket.new }"),
            );
            ok = false;
        }
    }
    let (Some((Some(from), from_span)), Some((Some(to), to_span))) =
        (found.remove("from"), found.remove("to"))
    else {
        return None;
    };
    if !ok {
        return None;
    }
    if from == to {
        diags.push(
            SpecDiagnostic::new(
                "drplan::invalid_value",
                "`from` and `to` are the same address",
            )
            .at(src, to_span, "same as `from`")
            .help("a moved block records a rename; remove it if nothing moved"),
        );
        return None;
    }
    Some(MovedBlock {
        file,
        from: (from, from_span),
        to: (to, to_span),
    })
}

/// A traversal (`bucket.backups`) or a string (`"network.main.subnet.private-a"`),
/// as an address: dot-separated labels, starting with a block kind.
pub(super) fn address_of(value: &Expression, text: &str) -> Option<Address> {
    let written = match value {
        Expression::String(s) => s.value().to_string(),
        _ => text.trim().to_string(),
    };
    let raw = Address::from_user(&written).0;
    let parts: Vec<&str> = raw.split('.').collect();
    let well_formed = parts.len() >= 2
        && super::blocks::address_roots().any(|r| r == parts[0])
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
    well_formed.then(|| Address::new(raw))
}

/// Whether `address` is `root` or lies under it (`network.a.subnet.x` under `network.a`).
pub(super) fn is_under(address: &Address, root: &Address) -> bool {
    address == root
        || address
            .as_str()
            .strip_prefix(root.as_str())
            .is_some_and(|rest| rest.starts_with('.'))
}

/// Checks the blocks against the lowered resources and returns the moves: `to` must
/// name a resource (or a block holding some), `from` must name none, and no address
/// moves twice.
pub(super) fn resolve(
    blocks: Vec<MovedBlock>,
    files: &[SourceFile],
    resources: &[Resource],
    diags: &mut Diagnostics,
) -> Vec<Moved> {
    let mut moves = Vec::new();
    let mut seen: BTreeMap<Address, ()> = BTreeMap::new();
    for b in blocks {
        let src = &files[b.file];
        let (from, from_span) = b.from;
        let (to, to_span) = b.to;
        let mut ok = true;
        if !resources.iter().any(|r| is_under(&r.address, &to)) {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::unresolved_reference",
                    format!("`{to}` is not in the spec"),
                )
                .at(src, to_span.clone(), "nothing has this address")
                .help("`to` names the block's new address, as the spec now writes it"),
            );
            ok = false;
        }
        if let Some(still) = resources.iter().find(|r| is_under(&r.address, &from)) {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::invalid_value",
                    format!("`{from}` is still in the spec"),
                )
                .at(
                    src,
                    from_span.clone(),
                    format!("{} still has this address", still.address),
                )
                .help("`from` names the old address, which no block may use any more"),
            );
            ok = false;
        }
        if seen.contains_key(&from) {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::duplicate_block",
                    format!("`{from}` is moved twice"),
                )
                .at(src, from_span.clone(), "moved again here")
                .help("an address can move to one place only; keep one of the moved blocks"),
            );
            ok = false;
        }
        seen.insert(from.clone(), ());
        if ok {
            moves.push(Moved { from, to });
        }
    }
    moves
}
