//! `removed { from = X  lifecycle { destroy = false } }`: Terraform's way to stop
//! managing an object without destroying it. The diff turns the orphan marked `from`
//! (or under it) into a `forget`: apply drops drplan's marks and keeps the object.
//! With `destroy = true` the orphan is deleted as usual, protected or not — the block
//! is the reviewed consent `--allow-destroy` otherwise gives.
//!
//! Read like `moved`: the shape as the files are collected, then against the lowered
//! resources (`from` must no longer be in the spec).

use super::body::block_header;
use super::diagnostic::{Diagnostics, SourceFile, SpecDiagnostic};
use super::files::ParsedFile;
use super::moved::{address_of, is_under};
use crate::address::Address;
use crate::model::Removed;
use crate::resource::Resource;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Structure};
use hcl_edit::Span;
use std::collections::BTreeSet;
use std::ops::Range;

const USAGE: &str = "write removed { from = bucket.old  lifecycle { destroy = false } }";

/// One well-formed `removed` block, with where it was written.
pub(super) struct RemovedBlock {
    file: usize,
    from: (Address, Range<usize>),
    destroy: bool,
}

/// Reads the shape of one `removed` block of `specs[file]`: no label, `from` an
/// address, and a `lifecycle` block saying `destroy = true` or `false` (no default:
/// what happens to the object is written down).
pub(super) fn read(
    specs: &[ParsedFile],
    file: usize,
    block: &Block,
    diags: &mut Diagnostics,
) -> Option<RemovedBlock> {
    let src = &specs[file].source;
    let mut ok = true;
    if !block.labels.is_empty() {
        diags.push(
            SpecDiagnostic::new("drplan::missing_label", "`removed` takes no label")
                .at(src, block_header(block), "here")
                .help(USAGE),
        );
        ok = false;
    }
    let mut from: Option<(Option<Address>, Range<usize>)> = None;
    let mut destroy: Option<bool> = None;
    let mut lifecycle_seen = false;
    for structure in block.body.iter() {
        match structure {
            Structure::Attribute(a) if a.key.as_str() == "from" => {
                let span = a.value.span().unwrap_or(0..0);
                if from.is_some() {
                    diags.push(
                        SpecDiagnostic::new("drplan::duplicate_attribute", "`from` is set twice")
                            .at(src, a.key.span().unwrap_or(0..0), "set again here")
                            .help("keep one"),
                    );
                    ok = false;
                    continue;
                }
                let address = address_of(&a.value, src.slice(span.clone()).unwrap_or(""));
                if address.is_none() {
                    diags.push(
                        SpecDiagnostic::new("drplan::invalid_value", "`from` must be a resource address")
                            .at(src, span.clone(), "not an address")
                            .help(format!(
                                "write a block address such as `bucket.backups`; it starts with one of: {}",
                                super::blocks::address_roots().collect::<Vec<_>>().join(", ")
                            )),
                    );
                    ok = false;
                }
                from = Some((address, span));
            }
            Structure::Attribute(a) => {
                diags.push(
                    SpecDiagnostic::new(
                        "drplan::unknown_attribute",
                        format!("`removed` has no attribute `{}`", a.key.as_str()),
                    )
                    .at(src, a.key.span().unwrap_or(0..0), "unknown attribute")
                    .help(USAGE),
                );
                ok = false;
            }
            Structure::Block(b) if b.ident.as_str() == "lifecycle" => {
                if lifecycle_seen {
                    diags.push(
                        SpecDiagnostic::new(
                            "drplan::duplicate_block",
                            "`removed` has two `lifecycle` blocks",
                        )
                        .at(src, block_header(b), "again here")
                        .help("keep one"),
                    );
                    ok = false;
                    continue;
                }
                lifecycle_seen = true;
                ok &= read_lifecycle(src, b, &mut destroy, diags);
            }
            Structure::Block(b) => {
                diags.push(
                    SpecDiagnostic::new(
                        "drplan::unknown_block",
                        format!("`removed` holds no `{}` block", b.ident.as_str()),
                    )
                    .at(src, b.ident.span().unwrap_or(0..0), "unexpected block")
                    .help(USAGE),
                );
                ok = false;
            }
        }
    }
    if from.is_none() {
        diags.push(
            SpecDiagnostic::new("drplan::missing_attribute", "`removed` needs `from`")
                .at(src, block_header(block), "this block")
                .help(USAGE),
        );
        ok = false;
    }
    if destroy.is_none() && ok {
        diags.push(
            SpecDiagnostic::new(
                "drplan::missing_attribute",
                "`removed` needs lifecycle { destroy = ... }",
            )
            .at(src, block_header(block), "this block")
            .help("destroy = false keeps the object and drops drplan's marks; destroy = true deletes it"),
        );
        ok = false;
    }
    let (Some((Some(from), from_span)), Some(destroy)) = (from, destroy) else {
        return None;
    };
    ok.then_some(RemovedBlock {
        file,
        from: (from, from_span),
        destroy,
    })
}

fn read_lifecycle(
    src: &super::diagnostic::SourceFile,
    block: &Block,
    destroy: &mut Option<bool>,
    diags: &mut Diagnostics,
) -> bool {
    let mut ok = true;
    for structure in block.body.iter() {
        let (key, span, value) = match structure {
            Structure::Attribute(a) => {
                (a.key.as_str(), a.key.span().unwrap_or(0..0), Some(&a.value))
            }
            Structure::Block(b) => (b.ident.as_str(), block_header(b), None),
        };
        if key != "destroy" {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::unknown_attribute",
                    format!("a removed block's lifecycle has no `{key}`"),
                )
                .at(src, span, "unknown here")
                .help("lifecycle { destroy = false }"),
            );
            ok = false;
            continue;
        }
        match value {
            Some(Expression::Bool(b)) => *destroy = Some(*b.value()),
            Some(v) => {
                diags.push(
                    SpecDiagnostic::new("drplan::wrong_type", "`destroy` must be true or false")
                        .at(src, v.span().unwrap_or(0..0), "not a bool literal")
                        .help("lifecycle { destroy = false }"),
                );
                ok = false;
            }
            None => ok = false,
        }
    }
    ok
}

/// Checks the blocks against the lowered resources: `from` must name nothing the spec
/// still declares, and no address is removed twice.
pub(super) fn resolve(
    blocks: Vec<RemovedBlock>,
    files: &[SourceFile],
    resources: &[Resource],
    diags: &mut Diagnostics,
) -> Vec<Removed> {
    let mut out = Vec::new();
    let mut seen: BTreeSet<Address> = BTreeSet::new();
    for b in blocks {
        let src = &files[b.file];
        let (from, span) = b.from;
        if let Some(still) = resources.iter().find(|r| is_under(&r.address, &from)) {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::invalid_value",
                    format!("`{from}` is still in the spec"),
                )
                .at(
                    src,
                    span,
                    format!("{} still has this address", still.address),
                )
                .help("remove the block from the spec as well, or remove the `removed` block"),
            );
            continue;
        }
        if !seen.insert(from.clone()) {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::duplicate_block",
                    format!("`{from}` is removed twice"),
                )
                .at(src, span, "removed again here")
                .help("keep one of the removed blocks"),
            );
            continue;
        }
        out.push(Removed {
            from,
            destroy: b.destroy,
        });
    }
    out
}

/// The `removed` entry that covers `address` (it, or a block holding it).
pub fn covering<'r>(removed: &'r [Removed], address: &Address) -> Option<&'r Removed> {
    removed.iter().find(|r| is_under(address, &r.from))
}
