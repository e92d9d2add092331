//! Reading one block body: check its attributes and nested blocks against a schema,
//! evaluate each attribute, and hand typed values to the decoders with their spans.
//! A bad attribute is reported and skipped; the rest of the block is still read.

use super::diagnostic::{did_you_mean, Diagnostics, SourceFile, SpecDiagnostic};
use super::scope::Scope;
use super::taint::{self, Taint};
use hcl::eval::{Context, Evaluate};
use hcl::Value;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::visit_mut::{visit_expr_mut, VisitMut};
use hcl_edit::Span;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

/// Attribute and nested block names a block accepts.
pub struct Schema {
    pub attrs: &'static [&'static str],
    pub blocks: &'static [&'static str],
    /// Attributes kept as source text, not evaluated (a variable's `type`, which is a
    /// type expression, not a value).
    pub raw: &'static [&'static str],
    /// Unlabelled nested blocks that may appear more than once (a lifecycle rule's
    /// `transition`s). Any other unlabelled nested block may appear once: a repeat is
    /// an error, never a silent "last one wins". Labelled blocks are told apart by
    /// their labels, which their decoders check.
    pub repeatable: &'static [&'static str],
}

impl Schema {
    pub const fn new(attrs: &'static [&'static str], blocks: &'static [&'static str]) -> Self {
        Schema {
            attrs,
            blocks,
            raw: &[],
            repeatable: &[],
        }
    }

    pub const fn with_raw(self, raw: &'static [&'static str]) -> Self {
        Schema { raw, ..self }
    }

    pub const fn with_repeatable(self, repeatable: &'static [&'static str]) -> Self {
        Schema { repeatable, ..self }
    }
}

pub struct BlockBody<'a> {
    pub file: &'a SourceFile,
    /// Span of the block's header (type and labels): where "missing attribute" points.
    pub header: Range<usize>,
    /// What the block is called in messages, e.g. `network "primary"`.
    pub what: String,
    attrs: BTreeMap<String, (Value, Range<usize>)>,
    /// Attributes present but not evaluated (already reported, or depending on a
    /// block that failed): not reported again as missing.
    failed: BTreeSet<String>,
    /// Unevaluated attributes (see `Schema::raw`) as written.
    pub raw: BTreeMap<String, (String, Range<usize>)>,
    pub blocks: Vec<&'a Block>,
    /// Sensitivity marks of the attributes derived from sensitive values.
    pub marks: BTreeMap<String, Taint>,
}

pub fn block_header(block: &Block) -> Range<usize> {
    let start = block.ident.span().map(|s| s.start).unwrap_or(0);
    let end = block
        .labels
        .last()
        .and_then(|l| l.span())
        .or_else(|| block.ident.span())
        .map(|s| s.end)
        .unwrap_or(start);
    start..end
}

pub fn block_what(block: &Block) -> String {
    let mut s = block.ident.as_str().to_string();
    for l in &block.labels {
        s.push_str(&format!(" \"{}\"", l.as_str()));
    }
    s
}

pub fn read<'a>(
    file: &'a SourceFile,
    block: &'a Block,
    schema: &Schema,
    scope: &Scope,
    ctx: &Context,
    diags: &mut Diagnostics,
) -> BlockBody<'a> {
    read_block(file, block, schema, &[], scope, ctx, diags)
}

/// A block's body by `schema`, also taking the attributes in `meta`.
fn read_block<'a>(
    file: &'a SourceFile,
    block: &'a Block,
    schema: &Schema,
    meta: &[&str],
    scope: &Scope,
    ctx: &Context,
    diags: &mut Diagnostics,
) -> BlockBody<'a> {
    read_body(
        file,
        &block.body,
        block_header(block),
        block_what(block),
        schema,
        meta,
        scope,
        ctx,
        diags,
    )
}

/// The meta-arguments every block holding managed objects takes besides its own
/// schema, read by the loader rather than the family's decoder (`for_each` repeats the
/// block, the others make it a mirror: `spec::parity`).
pub const META: &[&str] = &["for_each", "mirror_of", "parity", "parity_ignore"];

/// [`read`] for a top-level block holding managed objects: its schema plus [`META`].
/// `for_each` is not evaluated here: the loader has expanded it already.
pub fn read_managed<'a>(
    file: &'a SourceFile,
    block: &'a Block,
    schema: &Schema,
    scope: &Scope,
    ctx: &Context,
    diags: &mut Diagnostics,
) -> BlockBody<'a> {
    read_block(file, block, schema, META, scope, ctx, diags)
}

#[allow(clippy::too_many_arguments)]
pub fn read_body<'a>(
    file: &'a SourceFile,
    body: &'a Body,
    header: Range<usize>,
    what: String,
    schema: &Schema,
    meta: &[&str],
    scope: &Scope,
    ctx: &Context,
    diags: &mut Diagnostics,
) -> BlockBody<'a> {
    let mut out = BlockBody {
        file,
        header,
        what,
        attrs: BTreeMap::new(),
        failed: BTreeSet::new(),
        raw: BTreeMap::new(),
        blocks: Vec::new(),
        marks: BTreeMap::new(),
    };
    let mut seen: BTreeMap<String, Range<usize>> = BTreeMap::new();
    let mut seen_blocks: BTreeMap<String, Range<usize>> = BTreeMap::new();
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attr) => {
                let key = attr.key.as_str().to_string();
                let key_span = attr.key.span().unwrap_or(0..0);
                let is_meta = meta.contains(&key.as_str());
                if !schema.attrs.contains(&key.as_str()) && !is_meta {
                    let mut d = SpecDiagnostic::new(
                        "drplan::unknown_attribute",
                        format!("{} has no attribute `{key}`", out.what),
                    )
                    .at(file, key_span, "unknown attribute");
                    d = d.help(
                        did_you_mean(&key, schema.attrs.iter().copied()).unwrap_or_else(|| {
                            if schema.attrs.is_empty() {
                                "this block takes no attributes".to_string()
                            } else {
                                format!("expected one of: {}", schema.attrs.join(", "))
                            }
                        }),
                    );
                    diags.push(d);
                    continue;
                }
                if let Some(first) = seen.get(&key) {
                    let (line, _) = file.line_col(first.start);
                    diags.push(
                        SpecDiagnostic::new(
                            "drplan::duplicate_attribute",
                            format!("`{key}` is set twice in {}", out.what),
                        )
                        .at(file, key_span, "set again here")
                        .help(format!("the first value is on line {line}; keep one")),
                    );
                    continue;
                }
                seen.insert(key.clone(), key_span);
                if is_meta && key == "for_each" {
                    continue;
                }
                let span = attr.value.span().unwrap_or(0..0);
                if schema.raw.contains(&key.as_str()) {
                    let text = file.slice(span.clone()).unwrap_or("").trim().to_string();
                    out.raw.insert(key, (text, span));
                    continue;
                }
                if !scope.check_references(file, &attr.value, diags) {
                    out.failed.insert(key);
                    continue;
                }
                match evaluate(&attr.value, ctx) {
                    Ok(v) => {
                        let mark = taint::shape_of(&attr.value, scope);
                        let v = if scope.stand_ins() {
                            taint::perturb(&v, &mark)
                        } else {
                            v
                        };
                        if !mark.is_clean() {
                            out.marks.insert(key.clone(), mark);
                        }
                        out.attrs.insert(key, (v, span));
                    }
                    Err(msg) => {
                        diags.push(
                            SpecDiagnostic::new(
                                "drplan::eval",
                                format!("cannot evaluate `{key}`: {msg}"),
                            )
                            .at(file, span, "in this expression")
                            .help("check the functions, operators and types used here"),
                        );
                        out.failed.insert(key);
                    }
                }
            }
            Structure::Block(block) => {
                let ident = block.ident.as_str();
                if !schema.blocks.contains(&ident) {
                    let help =
                        did_you_mean(ident, schema.blocks.iter().copied()).unwrap_or_else(|| {
                            if schema.blocks.is_empty() {
                                "this block takes no nested blocks".to_string()
                            } else {
                                format!("expected one of: {}", schema.blocks.join(", "))
                            }
                        });
                    diags.push(
                        SpecDiagnostic::new(
                            "drplan::unknown_block",
                            format!("{} has no block `{ident}`", out.what),
                        )
                        .at(file, block.ident.span().unwrap_or(0..0), "unknown block")
                        .help(help),
                    );
                    continue;
                }
                if block.labels.is_empty() && !schema.repeatable.contains(&ident) {
                    let header = block_header(block);
                    if let Some(first) = seen_blocks.get(ident) {
                        let (line, _) = file.line_col(first.start);
                        diags.push(
                            SpecDiagnostic::new(
                                "drplan::duplicate_block",
                                format!("{} has two `{ident}` blocks", out.what),
                            )
                            .at(file, header, "again here")
                            .also(first.clone(), "first here")
                            .help(format!(
                                "a {} takes one `{ident}` block (the first is on line {line}); merge them into one",
                                out.what.split(' ').next().unwrap_or("block")
                            )),
                        );
                        continue;
                    }
                    seen_blocks.insert(ident.to_string(), header);
                }
                out.blocks.push(block);
            }
        }
    }
    out
}

/// Evaluates one expression. `can(x)` is resolved first, because hcl-rs evaluates
/// function arguments eagerly and `can` must observe its argument's failure.
pub fn evaluate(expr: &Expression, ctx: &Context) -> Result<Value, String> {
    let mut expr = expr.clone();
    let mut can = CanResolver { ctx };
    can.visit_expr_mut(&mut expr);
    let expr: hcl::Expression = expr.into();
    expr.evaluate(ctx).map_err(|e| e.kind().to_string())
}

struct CanResolver<'c, 'a> {
    ctx: &'c Context<'a>,
}

impl VisitMut for CanResolver<'_, '_> {
    fn visit_expr_mut(&mut self, expr: &mut Expression) {
        visit_expr_mut(self, expr);
        if let Expression::FuncCall(call) = expr {
            if call.name.namespace.is_empty()
                && call.name.name.as_str() == "can"
                && call.args.len() == 1
            {
                let ok = call
                    .args
                    .iter()
                    .next()
                    .map(|a| evaluate(a, self.ctx).is_ok())
                    .unwrap_or(false);
                *expr = Expression::from(ok);
            }
        }
    }
}

/// A JSON-ish description of a value's type for "expected X, got Y".
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

impl<'a> BlockBody<'a> {
    pub fn has(&self, name: &str) -> bool {
        self.attrs.contains_key(name) || self.failed.contains(name)
    }

    pub fn span(&self, name: &str) -> Range<usize> {
        self.attrs
            .get(name)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| self.header.clone())
    }

    pub fn value(&self, name: &str) -> Option<&Value> {
        self.attrs.get(name).map(|(v, _)| v)
    }

    pub fn wrong_type(&mut self, diags: &mut Diagnostics, name: &str, expected: &str) {
        if let Some((v, span)) = self.attrs.remove(name) {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::wrong_type",
                    format!(
                        "`{name}` in {} must be {expected}, not {}",
                        self.what,
                        type_name(&v)
                    ),
                )
                .at(self.file, span, format!("this is {}", type_name(&v)))
                .help(format!("write {expected} here")),
            );
            self.failed.insert(name.to_string());
        }
    }

    /// Reports an invalid value at the attribute's span.
    pub fn invalid(
        &self,
        diags: &mut Diagnostics,
        code: &'static str,
        name: &str,
        message: String,
        help: impl Into<String>,
    ) {
        diags.push(
            SpecDiagnostic::new(code, message)
                .at(self.file, self.span(name), "here")
                .help(help),
        );
    }

    pub fn missing(&self, diags: &mut Diagnostics, name: &str, help: &str) {
        if self.failed.contains(name) {
            return;
        }
        diags.push(
            SpecDiagnostic::new(
                "drplan::missing_attribute",
                format!("{} needs `{name}`", self.what),
            )
            .at(
                self.file,
                self.header.clone(),
                format!("`{name}` is missing"),
            )
            .help(help.to_string()),
        );
    }

    pub fn string(&mut self, diags: &mut Diagnostics, name: &str) -> Option<String> {
        match self.value(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null => None,
            _ => {
                self.wrong_type(diags, name, "a string");
                None
            }
        }
    }

    /// The attribute's string value, or `default` when it is absent; `None` when it
    /// is present but failed (so a broken expression never silently becomes the default).
    pub fn string_or(
        &mut self,
        diags: &mut Diagnostics,
        name: &str,
        default: impl FnOnce() -> String,
    ) -> Option<String> {
        if self.failed.contains(name) {
            return None;
        }
        let v = self.string(diags, name);
        if self.failed.contains(name) {
            return None;
        }
        Some(v.unwrap_or_else(default))
    }

    pub fn required_string(
        &mut self,
        diags: &mut Diagnostics,
        name: &str,
        help: &str,
    ) -> Option<String> {
        if !self.has(name) {
            self.missing(diags, name, help);
            return None;
        }
        self.string(diags, name)
    }

    pub fn bool(&mut self, diags: &mut Diagnostics, name: &str) -> Option<bool> {
        match self.value(name)? {
            Value::Bool(b) => Some(*b),
            Value::Null => None,
            Value::String(s) if s == "true" || s == "false" => Some(s == "true"),
            _ => {
                self.wrong_type(diags, name, "a bool");
                None
            }
        }
    }

    pub fn int(&mut self, diags: &mut Diagnostics, name: &str) -> Option<i64> {
        match self.value(name)? {
            Value::Number(n) if n.as_i64().is_some() => n.as_i64(),
            Value::String(s) if s.trim().parse::<i64>().is_ok() => s.trim().parse().ok(),
            Value::Null => None,
            _ => {
                self.wrong_type(diags, name, "a whole number");
                None
            }
        }
    }

    pub fn string_list(&mut self, diags: &mut Diagnostics, name: &str) -> Option<Vec<String>> {
        let list = match self.value(name)? {
            Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Object(o) => {
                        o.get("address").and_then(Value::as_str).map(str::to_string)
                    }
                    _ => None,
                })
                .collect::<Option<Vec<_>>>(),
            Value::Null => return None,
            _ => None,
        };
        if list.is_none() {
            self.wrong_type(diags, name, "a list of strings");
        }
        list
    }

    pub fn string_map(
        &mut self,
        diags: &mut Diagnostics,
        name: &str,
    ) -> Option<BTreeMap<String, String>> {
        let map = match self.value(name)? {
            Value::Object(o) => o
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Some((k.clone(), s.clone())),
                    Value::Number(n) => Some((k.clone(), n.to_string())),
                    Value::Bool(b) => Some((k.clone(), b.to_string())),
                    _ => None,
                })
                .collect::<Option<BTreeMap<_, _>>>(),
            Value::Null => return None,
            _ => None,
        };
        if map.is_none() {
            self.wrong_type(diags, name, "a map of strings");
        }
        map
    }

    /// An attribute naming another block: a reference (`site.primary`) or its label as
    /// a string (`"primary"`). Returns the label when it names a declared block of
    /// `kind`; reports a wrong kind or an unknown label otherwise.
    pub fn block_ref(
        &mut self,
        diags: &mut Diagnostics,
        scope: &Scope,
        name: &str,
        kind: &str,
    ) -> Option<String> {
        let value = self.value(name)?.clone();
        let span = self.span(name);
        self.ref_label(diags, scope, name, kind, &value, span)
    }

    /// A list of references to blocks of `kind` (`replicas = [site.dr]`): the labels
    /// of those that name a declared block, each wrong item reported at the list.
    pub fn block_ref_list(
        &mut self,
        diags: &mut Diagnostics,
        scope: &Scope,
        name: &str,
        kind: &str,
    ) -> Option<Vec<String>> {
        let items = match self.value(name)? {
            Value::Array(items) => items.clone(),
            Value::Null => return None,
            _ => {
                self.wrong_type(
                    diags,
                    name,
                    &format!("a list of references to {kind} blocks"),
                );
                return None;
            }
        };
        let span = self.span(name);
        let mut out = Vec::new();
        for item in &items {
            out.extend(self.ref_label(diags, scope, name, kind, item, span.clone()));
        }
        Some(out)
    }

    fn ref_label(
        &mut self,
        diags: &mut Diagnostics,
        scope: &Scope,
        name: &str,
        kind: &str,
        value: &Value,
        span: Range<usize>,
    ) -> Option<String> {
        // A string is a label as written here (in a module: its own blocks); an
        // object's address holds the project's label.
        let (ref_kind, label) = match value {
            Value::String(s) => (kind.to_string(), scope.global(kind, s)),
            Value::Object(o) => match o
                .get("address")
                .and_then(Value::as_str)
                .and_then(|a| a.split_once('.'))
            {
                Some((k, l)) => (k.to_string(), l.to_string()),
                None => {
                    self.wrong_type(diags, name, &format!("a reference to a {kind} block"));
                    return None;
                }
            },
            _ => {
                self.wrong_type(diags, name, &format!("a reference to a {kind} block"));
                return None;
            }
        };
        if ref_kind != kind {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::wrong_kind",
                    format!(
                        "`{name}` in {} must name a {kind} block, not {ref_kind}.{label}",
                        self.what
                    ),
                )
                .at(self.file, span, format!("this is a {ref_kind}"))
                .help(format!("refer to a {kind}, e.g. `{name} = {kind}.<label>`")),
            );
            return None;
        }
        if !scope.is_declared(kind, &label) {
            let written = match value {
                Value::String(s) => s.as_str(),
                _ => label.as_str(),
            };
            let help = did_you_mean(written, scope.labels(kind))
                .map(|h| {
                    h.replace('`', "")
                        .replace("did you mean ", &format!("did you mean `{kind}."))
                        .replace('?', "`?")
                })
                .unwrap_or_else(|| {
                    format!("declare a `{kind} \"{written}\"` block or use an existing label")
                });
            diags.push(
                SpecDiagnostic::new(
                    "drplan::unresolved_reference",
                    format!("there is no {kind} \"{written}\""),
                )
                .at(self.file, span, "unknown label")
                .help(help),
            );
            return None;
        }
        Some(label)
    }

    pub fn nested(&self, ident: &str) -> impl Iterator<Item = &'a Block> + '_ {
        let ident = ident.to_string();
        self.blocks
            .iter()
            .copied()
            .filter(move |b| b.ident.as_str() == ident)
    }
}
