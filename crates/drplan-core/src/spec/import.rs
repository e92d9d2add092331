//! `import { to = bucket.backups  id = "lanka-platform-backups" }`: bring an object
//! that already exists, and carries no drplan mark, under this stack (Terraform's
//! `import` block). The plan shows it "will be imported" with any attribute
//! differences; apply writes drplan's marks first (tags), then makes the other
//! changes; the next plan finds it as this stack's. An object another stack marks is
//! refused as before, and a protected kind stays protected: nothing is recreated.
//!
//! Kinds and ids (docs/spec-reference.md): `bucket` — the bucket name; `zone` — the
//! zone name; `cluster` — the EKS cluster name; a node group
//! (`cluster.<label>.node_group.<name>`) — `<cluster name>/<node group name>`; a
//! network or subnet — its VPC or subnet id; a health check — its id; a DNS record
//! (`dns.<label>.target.<name>`) — `<zone>/<record name>/<TYPE>[/<set identifier>]`;
//! a Kubernetes object — `<namespace>/<name>` (cluster-scoped: `<name>`).

use super::body::block_header;
use super::diagnostic::{Diagnostics, SourceFile, SpecDiagnostic};
use super::files::ParsedFile;
use super::load::Top;
use crate::address::Address;
use crate::model::Import;
use crate::resource::Resource;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Structure};
use hcl_edit::Span;
use std::collections::BTreeMap;
use std::ops::Range;

/// One well-formed `import` block, with where it was written.
pub(super) struct ImportBlock {
    file: usize,
    to: (Address, Range<usize>),
    id: (String, Range<usize>),
    /// `to` lies in a block whose objects depend on the environment
    /// (`varies_by_environment`), decided while the spec's syntax trees are at hand.
    varies: bool,
}

const HELP: &str = "write import { to = bucket.backups  id = \"my-existing-bucket\" }";

/// Reads the shape of one `import` block of `specs[file]`: no label, `to` (an
/// address) and `id` (a string).
pub(super) fn read(
    specs: &[ParsedFile],
    shared: &[Vec<Top>],
    file: usize,
    block: &Block,
    diags: &mut Diagnostics,
) -> Option<ImportBlock> {
    let src = &specs[file].source;
    if !block.labels.is_empty() {
        diags.push(
            SpecDiagnostic::new("drplan::missing_label", "`import` takes no label")
                .at(src, block_header(block), "here")
                .help(HELP),
        );
        return None;
    }
    let mut to = None;
    let mut id = None;
    let mut ok = true;
    for structure in block.body.iter() {
        let attr = match structure {
            Structure::Attribute(a) => a,
            Structure::Block(b) => {
                diags.push(
                    SpecDiagnostic::new(
                        "drplan::unknown_block",
                        format!("`import` holds no `{}` block", b.ident.as_str()),
                    )
                    .at(src, b.ident.span().unwrap_or(0..0), "unexpected block")
                    .help(HELP),
                );
                ok = false;
                continue;
            }
        };
        let key_span = attr.key.span().unwrap_or(0..0);
        let span = attr.value.span().unwrap_or(0..0);
        let text = src.slice(span.clone()).unwrap_or("").trim().to_string();
        let slot = match attr.key.as_str() {
            "to" => &mut to,
            "id" => &mut id,
            other => {
                diags.push(
                    SpecDiagnostic::new(
                        "drplan::unknown_attribute",
                        format!("`import` has no attribute `{other}`"),
                    )
                    .at(src, key_span, "unknown attribute")
                    .help(HELP),
                );
                ok = false;
                continue;
            }
        };
        if slot.is_some() {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::duplicate_attribute",
                    format!("`{}` is set twice", attr.key.as_str()),
                )
                .at(src, key_span, "set again here")
                .help("keep one"),
            );
            ok = false;
            continue;
        }
        let value = match &attr.value {
            Expression::String(s) => s.value().to_string(),
            _ => text,
        };
        *slot = Some((value, span, matches!(attr.value, Expression::String(_))));
    }
    let (Some((to, to_span, _)), Some((id, id_span, quoted))) = (to, id) else {
        diags.push(
            SpecDiagnostic::new("drplan::missing_attribute", "`import` needs `to` and `id`")
                .at(src, block_header(block), "this block")
                .help(HELP),
        );
        return None;
    };
    if !quoted || id.is_empty() {
        diags.push(
            SpecDiagnostic::new("drplan::invalid_value", "`id` must be a non-empty string")
                .at(src, id_span.clone(), "not a string")
                .help("the cloud id of the existing object, quoted: id = \"my-bucket\""),
        );
        ok = false;
    }
    let address_ok = to.split('.').count() >= 2
        && to.split('.').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
    if !address_ok {
        diags.push(
            SpecDiagnostic::new("drplan::invalid_value", "`to` must be a resource address")
                .at(src, to_span.clone(), "not an address")
                .help("the address of the spec's block, e.g. to = bucket.backups"),
        );
        ok = false;
    }
    let to = Address::from_user(&to);
    ok.then(|| ImportBlock {
        file,
        varies: varies_by_environment(shared, &to),
        to: (to, to_span),
        id: (id, id_span),
    })
}

/// Checks the blocks against the lowered resources: `to` must name a resource, once.
/// With `generating` (`drplan import --generate-config-out`), the blocks whose `to`
/// no spec block makes are returned second instead of reported.
pub(super) fn resolve(
    blocks: Vec<ImportBlock>,
    files: &[SourceFile],
    resources: &[Resource],
    generating: bool,
    diags: &mut Diagnostics,
) -> (Vec<Import>, Vec<Import>) {
    let mut out = Vec::new();
    let mut unwritten = Vec::new();
    let mut seen: BTreeMap<Address, ()> = BTreeMap::new();
    for b in blocks {
        let src = &files[b.file];
        let (to, to_span) = b.to;
        let (id, _) = b.id;
        if !resources.iter().any(|r| r.address == to) {
            if b.varies {
                // The block is there but makes no such object in this environment
                // (disabled, or a placement of the site that is not active): nothing
                // to import here, and prod-dr must load with the import blocks prod
                // keeps.
                continue;
            }
            if generating {
                unwritten.push(Import { to, id });
                continue;
            }
            diags.push(
                SpecDiagnostic::new(
                    "drplan::unresolved_reference",
                    format!("`{to}` is not in the spec"),
                )
                .at(src, to_span, "nothing has this address")
                .help(
                    "`to` names the spec block the existing object becomes; write that block, or let `drplan import -e ENV --generate-config-out FILE` write it from the live object",
                ),
            );
            continue;
        };
        if seen.insert(to.clone(), ()).is_some() {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::duplicate_block",
                    format!("`{to}` is imported twice"),
                )
                .at(src, to_span, "imported again here")
                .help("one import block per address"),
            );
            continue;
        }
        out.push(Import { to, id });
    }
    (out, unwritten)
}

/// Whether `to` lies in a block whose objects depend on the environment
/// (`Block::varies_by_environment`: a `kubernetes` block's `enabled`, a `backup`
/// block's placements that follow the active site) written in the spec (`kubernetes.primary` for
/// `kubernetes.primary.Deployment.shop.api`). Every other block makes the same objects
/// in every environment, so a `to` it does not make is a mistake.
/// `shared`: every spec file's top-level blocks, as the loader holds them.
fn varies_by_environment(shared: &[Vec<Top>], to: &Address) -> bool {
    let mut parts = to.as_str().splitn(3, '.');
    let (Some(kind), Some(label)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !super::blocks::find(kind).is_some_and(|b| b.varies_by_environment) {
        return false;
    }
    shared.iter().flatten().any(|s| match s {
        Top::Block(b) => {
            b.ident.as_str() == kind && b.labels.first().map(|l| l.as_str()) == Some(label)
        }
        Top::Attribute(_) => false,
    })
}
