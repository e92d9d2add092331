//! A spec file as the loader reads it: one part per top-level structure
//! (`spec::split`), each parsed alone with a view of the file for its spans, and each
//! family block's body dropped as soon as its references are known: the loader parses
//! it again when it evaluates the block. A large spec's syntax trees, 30 times its
//! size, are so never all held at once (BENCHMARKS.md, section 9); parsing a block
//! twice costs less than parsing the file whole once (its tree is built and freed
//! while in cache).

use super::blocks;
use super::diagnostic::{Diagnostics, SourceFile};
use super::files::{self, ParsedFile};
use super::for_each;
use super::load::order_refs;
use super::split;
use hcl_edit::structure::{Block, Body, Structure};

/// The parts of a spec file, or the file whole when it cannot be cut (the whole
/// parse then reports any syntax error exactly as before); nothing when it does not
/// parse.
pub(super) fn parse_spec(source: SourceFile, diags: &mut Diagnostics) -> Vec<ParsedFile> {
    let Some(ranges) = split::top_level(source.part()) else {
        return files::parse(source, diags).into_iter().collect();
    };
    let mut out = Vec::with_capacity(ranges.len());
    for range in ranges {
        let view = source.view(range);
        match hcl_edit::parser::parse_body(view.part()) {
            Ok(body) if body.is_empty() => {}
            Ok(body) if body.len() == 1 => out.push(defer(ParsedFile {
                source: view,
                body,
                deferred: None,
            })),
            // Not one structure, or not parseable alone: the cut was wrong.
            _ => return files::parse(source, diags).into_iter().collect(),
        }
    }
    out
}

/// A part holding a family's block (without `for_each`, whose keys the loader reads
/// before evaluating) with the block's body replaced by its references.
fn defer(mut part: ParsedFile) -> ParsedFile {
    let Some(Structure::Block(block)) = part.body.iter().next() else {
        return part;
    };
    let Some(kind) = blocks::find(block.ident.as_str())
        .filter(|b| b.managed && b.schema.is_some())
        .map(|b| b.name)
    else {
        return part;
    };
    if for_each::attribute(block).is_some() {
        return part;
    }
    let refs = order_refs(kind, &block.body);
    let mut header = Block::new(block.ident.clone());
    header.labels = block.labels.clone();
    part.body = Body::from_iter([header]);
    part.deferred = Some(refs);
    part
}

/// The block of a deferred part, parsed again (`None` if it no longer parses, which
/// cannot happen to text that parsed once).
pub(super) fn reparse_block(part: &ParsedFile) -> Option<Block> {
    let body = hcl_edit::parser::parse_body(part.source.part()).ok()?;
    body.into_iter().find_map(|s| match s {
        Structure::Block(b) => Some(b),
        Structure::Attribute(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl_edit::Span;

    #[test]
    fn a_family_block_is_kept_as_its_header_and_references_with_spans_in_its_part() {
        let text = "site \"p\" {\n  region = \"us-east-1\"\n}\nnetwork \"n\" {\n  site = site.p\n  cidr = \"10.0.0.0/16\"\n}\n";
        let parts = parse_spec(
            SourceFile::new("specs/a.hcl", text.into()),
            &mut Diagnostics::default(),
        );
        assert_eq!(parts.len(), 2);
        assert!(parts[0].deferred.is_none(), "a site is read whole");
        let net = &parts[1];
        let refs = net.deferred.as_ref().expect("deferred");
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].root, "site");
        let block = net.body.blocks().next().expect("header");
        assert!(block.body.is_empty());
        // Its spans count from the part's start; the view maps them to the file.
        let span = block.ident.span().expect("span");
        assert_eq!(net.source.slice(span.clone()), Some("network"));
        assert_eq!(net.source.line_col(span.start), (4, 1));
        let full = reparse_block(net).expect("parses again");
        assert_eq!(full.body.len(), 2);
    }

    #[test]
    fn a_file_that_cannot_be_cut_is_parsed_whole() {
        let text = "network \"n\" {\n  cidr = \"10.0.0.0/16\"\n";
        let mut diags = Diagnostics::default();
        assert!(parse_spec(SourceFile::new("specs/a.hcl", text.into()), &mut diags).is_empty());
        assert_eq!(diags.0.len(), 1, "the whole parse reports the syntax error");
    }
}
