//! `for_each` on a top-level block (docs/spec-reference.md "Repeating a block"):
//! one instance per key of a map, string of a list, or site (`for_each = site`), each
//! decoded with `each.key` and `each.value` in scope. A `for_each` block takes no
//! label: each instance's label is its key, so `network { for_each = site }` makes
//! `network.primary` and `network.dr` — the addresses written into ownership marks
//! stay the ones a block per site had.
//!
//! This module reads the `for_each` expression into instances; the loader declares,
//! decodes and publishes them (`load.rs`, `Loader::expand`), and `spec::parity`
//! compares them as mirrors of each other.

use super::blocks;
use super::body::{self, block_header};
use super::diagnostic::{Diagnostics, SourceFile, SpecDiagnostic};
use super::refs;
use super::scope::{Scope, EACH};
use super::taint;
use hcl::Value;
use hcl_edit::structure::{Attribute, Block};
use hcl_edit::Span;
use std::collections::BTreeSet;

/// The `for_each` attribute of a top-level block, if it has one.
pub(super) fn attribute(block: &Block) -> Option<&Attribute> {
    block
        .body
        .attributes()
        .find(|a| a.key.as_str() == "for_each")
}

/// Whether a block of `kind` with `for_each` may be repeated; reports it when not
/// (a site, a variable, locals, objectives), or when it also has a label.
pub(super) fn check_block(
    kind: &str,
    file: &SourceFile,
    block: &Block,
    attr: &Attribute,
    diags: &mut Diagnostics,
) -> bool {
    let managed = blocks::find(kind).is_some_and(|b| b.managed);
    if !managed {
        let repeatable: Vec<&str> = blocks::address_roots().collect();
        diags.push(
            SpecDiagnostic::new(
                "drplan::for_each",
                format!("a `{kind}` block cannot be repeated with for_each"),
            )
            .at(file, attr.key.span().unwrap_or(0..0), "not repeatable")
            .help(format!(
                "for_each repeats the blocks that hold managed objects: {}; write each `{kind}` out",
                repeatable.join(", ")
            )),
        );
        return false;
    }
    if let Some(label) = block.labels.first() {
        diags.push(
            SpecDiagnostic::new(
                "drplan::for_each",
                format!("a `{kind}` block with for_each takes no label"),
            )
            .at(file, block_header(block), "labelled")
            .help(format!(
                "each instance is labelled by its key ({kind}.<key>): write `{kind} {{ for_each = ... }}`; \
                 to put `{}` in front of the keys, for_each = {{ for k, v in <collection> : \"{}_${{k}}\" => v }}",
                label.as_str(),
                label.as_str()
            )),
        );
        return false;
    }
    true
}

/// The keys a `for_each` makes, when they are known before anything is evaluated:
/// `site` (every site's label), a literal list or map, or an expression over
/// variables alone (their values are final by then). The evaluation order reads
/// them so that a reference to `network.dr` waits only for the blocks that may make
/// it; `None` (keys computed from locals or blocks) makes it wait for every
/// `for_each` block of the kind.
pub(super) fn known_keys(attr: &Attribute, scope: &Scope) -> Option<Vec<String>> {
    use hcl_edit::expr::{Expression, ObjectKey};
    match &attr.value {
        Expression::Variable(v) if v.as_str() == "site" => {
            return Some(scope.labels("site").map(str::to_string).collect())
        }
        Expression::Array(items) => {
            return items
                .iter()
                .map(|e| match e {
                    Expression::String(s) => Some(s.value().to_string()),
                    _ => None,
                })
                .collect();
        }
        Expression::Object(object) => {
            return object
                .iter()
                .map(|(k, _)| match k {
                    ObjectKey::Ident(id) => Some(id.as_str().to_string()),
                    ObjectKey::Expression(Expression::String(s)) => Some(s.value().to_string()),
                    ObjectKey::Expression(_) => None,
                })
                .collect();
        }
        _ => {}
    }
    let references = refs::collect(&attr.value);
    if references.is_empty() || references.iter().any(|r| r.root != "var") {
        return None;
    }
    let value = body::evaluate(&attr.value, &scope.context_for(&references)).ok()?;
    match value {
        Value::Object(map) => Some(map.keys().cloned().collect()),
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// The instances `for_each` makes, in key order: (key, `each.value`). `None` when
/// the expression cannot be used (reported).
pub(super) fn instances(
    kind: &str,
    file: &SourceFile,
    attr: &Attribute,
    scope: &Scope,
    diags: &mut Diagnostics,
) -> Option<Vec<(String, Value)>> {
    let span = attr.value.span().unwrap_or(0..0);
    let references = refs::collect(&attr.value);
    if let Some(r) = references.iter().find(|r| r.root == EACH) {
        diags.push(
            SpecDiagnostic::new("drplan::for_each", "for_each cannot refer to `each`")
                .at(file, r.span.clone(), "each is made from this expression")
                .help("for_each names the collection to repeat over: a list, a map, or site"),
        );
        return None;
    }
    if !scope.check_references(file, &attr.value, diags) {
        return None;
    }
    let ctx = scope.context_for(&references);
    let value = match body::evaluate(&attr.value, &ctx) {
        Ok(v) => v,
        Err(msg) => {
            diags.push(
                SpecDiagnostic::new("drplan::eval", format!("cannot evaluate `for_each`: {msg}"))
                    .at(file, span, "in this expression")
                    .help("check the functions, operators and types used here"),
            );
            return None;
        }
    };
    // As Terraform: the keys become addresses, which are printed and written into
    // marks, so they cannot come from a secret.
    if !taint::shape_of(&attr.value, scope).is_clean() {
        diags.push(
            SpecDiagnostic::new("drplan::for_each", "for_each cannot use a sensitive value")
                .at(file, span, "sensitive")
                .help("the keys become addresses, which are shown and written into marks; repeat over values that are not secret"),
        );
        return None;
    }
    let pairs: Vec<(String, Value)> = match value {
        Value::Object(map) => map.into_iter().collect(),
        Value::Array(items) => {
            let mut seen = BTreeSet::new();
            let mut pairs = Vec::new();
            for item in items {
                let Value::String(key) = item else {
                    diags.push(
                        SpecDiagnostic::new(
                            "drplan::for_each",
                            format!(
                                "for_each over a list takes strings, not {}",
                                body::type_name(&item)
                            ),
                        )
                        .at(file, span.clone(), "a list with a non-string item")
                        .help("repeat over a list of strings or a map: for_each = { name = value, ... }"),
                    );
                    return None;
                };
                if !seen.insert(key.clone()) {
                    diags.push(
                        SpecDiagnostic::new(
                            "drplan::for_each",
                            format!("for_each has the key \"{key}\" twice"),
                        )
                        .at(file, span.clone(), "duplicate key")
                        .help("each key names one instance (its address); list each once"),
                    );
                    continue;
                }
                pairs.push((key.clone(), Value::String(key)));
            }
            pairs
        }
        other => {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::for_each",
                    format!(
                        "for_each must be a list of strings, a map or site, not {}",
                        body::type_name(&other)
                    ),
                )
                .at(file, span, format!("this is {}", body::type_name(&other)))
                .help(
                    "e.g. for_each = site (one per site), [\"a\", \"b\"], or { a = ..., b = ... }",
                ),
            );
            return None;
        }
    };
    let mut out = Vec::new();
    for (key, value) in pairs {
        if !super::load::is_label(&key) {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::for_each",
                    format!("for_each key \"{key}\" cannot label a {kind}"),
                )
                .at(file, span.clone(), "this key is the instance's label")
                .help(format!(
                    "the key becomes the address {kind}.<key>: letters, digits, `_` and `-`, starting with a letter"
                )),
            );
            continue;
        }
        out.push((key, value));
    }
    Some(out)
}
