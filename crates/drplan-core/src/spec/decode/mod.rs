//! Decoding blocks: evaluated attributes -> typed model, with the checks that need
//! only the block itself (and the sites). A resource family's blocks are decoded in its
//! folder (`kinds::<family>::decode`: `network`, `peering`, `cluster`, `kms_key`,
//! `bucket`, `registry`, `cache`, `zone`/`dns`, `kubernetes`/`backup`); here are the
//! blocks that lower to no kind of their own (`site`, `variable`, `objectives`), the
//! `lifecycle` block several families share, and the helpers every decoder uses
//! (`Cx`, `SpanTable`, `source_ref`, `object`, `check_tags`, `check_arn`), and
//! `FamilyBlock`, what a family's block gives the loader. Cross-block checks are a
//! family's `decode::check`, and in `spec::checks` what no one family holds.

pub mod lifecycle;
pub mod objectives;
pub mod site;
pub mod variable;

use super::body::BlockBody;
use super::diagnostic::{Diagnostics, SourceFile, SpecDiagnostic};
use super::scope::Scope;
use crate::model::{Site, Topology};
use crate::resource::SourceRef;
use hcl::eval::Context;
use hcl::{Map, Value};
use std::collections::BTreeMap;
use std::ops::Range;

/// Where each checked attribute was written, keyed by (address, attribute), so that
/// cross-block checks can point at the exact span.
#[derive(Default)]
pub struct SpanTable(BTreeMap<(String, String), (SourceFile, Range<usize>)>);

impl SpanTable {
    pub fn record(&mut self, address: &str, attr: &str, b: &BlockBody) {
        self.0.insert(
            (address.to_string(), attr.to_string()),
            (b.file.clone(), b.span(attr)),
        );
    }

    /// Records the span of `attr` under another key (`replication.destination`).
    pub fn record_as(&mut self, address: &str, key: &str, b: &BlockBody, attr: &str) {
        self.0.insert(
            (address.to_string(), key.to_string()),
            (b.file.clone(), b.span(attr)),
        );
    }

    pub fn get(&self, address: &str, attr: &str) -> Option<&(SourceFile, Range<usize>)> {
        self.0.get(&(address.to_string(), attr.to_string()))
    }

    /// `d` pointing at where `attr` of `address` was written, when that was recorded.
    pub fn at(&self, address: &str, attr: &str, d: SpecDiagnostic, label: &str) -> SpecDiagnostic {
        match self.get(address, attr) {
            Some((f, span)) => d.at(f, span.clone(), label),
            None => d,
        }
    }
}

/// A family's top-level block as the loader decodes it: the typed model its body
/// decodes into (the trait is implemented on the model), where the topology keeps the
/// models, and the object a reference to one reads. Its entry in the table of blocks
/// is `spec::blocks::Block::family`, in the family's `decode.rs`; the loader calls
/// these through that entry and names no family.
pub trait FamilyBlock: Sized + 'static {
    /// Nested blocks decoded once every block is published, and left out of the
    /// block's evaluation order: settings that may point at blocks that point back
    /// (a bucket's `replication`).
    const LINKS: &'static [&'static str] = &[];

    /// The block's body -> its model, with the block's own checks (`None` when the
    /// body cannot make one; the problems are in `cx.diags`).
    fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Self>;

    /// The object other blocks read (`network.primary.cidr`); `sites` gives a site's
    /// region.
    fn object(&self, sites: &BTreeMap<String, Site>) -> Value;

    /// The topology's models of this block, by label.
    fn models(t: &mut Topology) -> &mut BTreeMap<String, Self>;

    /// Decodes the `LINKS` blocks present in the block (at least one) into the model;
    /// `address` is the block's.
    fn decode_links(
        &mut self,
        _address: &str,
        _file: &SourceFile,
        _blocks: &[&hcl_edit::structure::Block],
        _cx: &mut Cx,
    ) {
    }
}

/// The region of `site`, or "" when the site is not declared (its reference is
/// reported where it is written).
pub fn region_in(sites: &BTreeMap<String, Site>, site: &str) -> String {
    sites
        .get(site)
        .map(|s| s.region.clone())
        .unwrap_or_default()
}

pub struct Cx<'a> {
    pub scope: &'a Scope,
    pub ctx: &'a Context<'static>,
    pub sites: &'a BTreeMap<String, Site>,
    pub diags: &'a mut Diagnostics,
    pub spans: &'a mut SpanTable,
}

/// The block's `site = site.<label>`: required (`help` says what to write when it is
/// missing), and a reference to a declared site.
pub fn site_of(b: &mut BlockBody, cx: &mut Cx, help: &str) -> Option<String> {
    if !b.has("site") {
        b.missing(cx.diags, "site", help);
    }
    b.block_ref(cx.diags, cx.scope, "site", "site")
}

pub fn source_ref(b: &BlockBody) -> SourceRef {
    let (line, column) = b.file.line_col(b.header.start);
    SourceRef {
        file: b.file.path.clone(),
        line,
        column,
    }
}

/// The object a block contributes to the evaluation context.
pub fn object(pairs: &[(&str, Value)]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert((*k).to_string(), v.clone());
    }
    Value::Object(m)
}

pub fn label_of(block: &hcl_edit::structure::Block) -> Option<String> {
    block.labels.first().map(|l| l.as_str().to_string())
}

/// `drplan:` tag keys are written by drplan itself.
pub fn check_tags(b: &BlockBody, diags: &mut Diagnostics, tags: &BTreeMap<String, String>) {
    if let Some(k) = tags.keys().find(|k| k.starts_with("drplan:")) {
        b.invalid(
            diags,
            "drplan::reserved_tag",
            "tags",
            format!("tag `{k}` uses the reserved `drplan:` prefix"),
            "drplan writes drplan:stack and drplan:address itself; choose another key",
        );
    }
}

/// An ARN-valued attribute (a role, a key) has the ARN form.
pub fn check_arn(b: &BlockBody, cx: &mut Cx, attr: &str, arn: Option<&str>) {
    if let Some(a) = arn {
        if !a.starts_with("arn:") || a.split(':').count() < 6 {
            b.invalid(
                cx.diags,
                "drplan::invalid_value",
                attr,
                format!("`{a}` is not an ARN"),
                "write arn:aws:iam::<account>:role/<name>",
            );
        }
    }
}
