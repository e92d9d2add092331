//! Environment promotion: carry the values the spec marks `promote = true` from one
//! environment to another by rewriting the target's `variables { }` block.
//!
//! Pure: [`prepare`] takes both loaded projects and the target file's text and returns
//! the rewritten text and its diff; the command reads, writes and re-validates.
//! The rewrite goes through hcl-edit, so everything but the promoted values (comments,
//! blank lines, alignment, other blocks) stays byte for byte.

use crate::model::Project;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, Body, Structure};
use hcl_edit::{Decor, Decorate, Decorated, Ident};
use serde_json::Value;
use std::fmt;

/// One promotable variable whose value differs between the environments.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueChange {
    pub name: String,
    /// The target's current value (from its file, or the variable's default).
    pub before: Value,
    /// The source's value, written into the target.
    pub after: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Promotion {
    pub from: String,
    pub to: String,
    /// `environments/<to>.hcl`, relative to the project root.
    pub target_file: String,
    pub changes: Vec<ValueChange>,
    /// Promotable but sensitive: never copied (a secret belongs to one environment).
    pub skipped_sensitive: Vec<String>,
    /// The target file after the rewrite (equal to the input when nothing changes).
    pub rewritten: String,
    /// Unified diff of the target file, with the values of sensitive variables
    /// replaced by `(sensitive value)` (context lines too); empty when nothing changes.
    pub diff: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PromoteError {
    /// The target environment file does not parse (load_project reports why in detail).
    Parse { file: String, message: String },
    /// A value cannot be written as an HCL expression.
    Value { name: String, message: String },
}

impl fmt::Display for PromoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PromoteError::Parse { file, message } => write!(f, "{file} does not parse: {message}"),
            PromoteError::Value { name, message } => {
                write!(f, "cannot write variable {name}: {message}")
            }
        }
    }
}

impl std::error::Error for PromoteError {}

pub fn target_file(env: &str) -> String {
    format!("environments/{env}.hcl")
}

/// The promotable variables whose values differ, in name order.
pub fn changes(from: &Project, to: &Project) -> (Vec<ValueChange>, Vec<String>) {
    let mut changes = Vec::new();
    let mut skipped = Vec::new();
    for (name, v) in from.topology.variables.iter().filter(|(_, v)| v.promote) {
        if v.sensitive {
            skipped.push(name.clone());
            continue;
        }
        let before = to
            .topology
            .variables
            .get(name)
            .map(|t| t.value.clone())
            .unwrap_or(Value::Null);
        if before != v.value {
            changes.push(ValueChange {
                name: name.clone(),
                before,
                after: v.value.clone(),
            });
        }
    }
    (changes, skipped)
}

/// Environments of one stack whose promotable values differ while neither extends
/// the other: one of them lags (a release promoted to prod but not to prod-dr makes a
/// failover deploy the older one). One message per pair, for `validate`.
pub fn unlinked_differences(envs: &[(&str, &Project)]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, (a, pa)) in envs.iter().enumerate() {
        for (b, pb) in &envs[i + 1..] {
            if pa.environment.stack != pb.environment.stack
                || pa.extends.iter().any(|e| e == b)
                || pb.extends.iter().any(|e| e == a)
            {
                continue;
            }
            let (changes, _) = changes(pa, pb);
            if changes.is_empty() {
                continue;
            }
            let names: Vec<&str> = changes.iter().map(|c| c.name.as_str()).collect();
            out.push(format!(
                "environments {a} and {b} (stack {}) differ in promotable values ({}) and neither extends the other: \
                 one of them lags; write `extends = \"{a}\"` in {} and keep only what differs, or `drplan promote --from {a} --to {b}`",
                pa.environment.stack,
                names.join(", "),
                target_file(b),
            ));
        }
    }
    out
}

/// Everything `drplan promote` shows and writes, from both loaded environments and
/// the target file's current text.
pub fn prepare(from: &Project, to: &Project, target_text: &str) -> Result<Promotion, PromoteError> {
    let (changes, skipped_sensitive) = changes(from, to);
    let file = target_file(&to.env_name);
    let rewritten = if changes.is_empty() {
        target_text.to_string()
    } else {
        rewrite(&file, target_text, &changes)?
    };
    let sensitive: Vec<&str> = from
        .topology
        .variables
        .values()
        .chain(to.topology.variables.values())
        .filter(|v| v.sensitive)
        .map(|v| v.name.as_str())
        .collect();
    let diff = if rewritten == target_text {
        String::new()
    } else {
        unified_diff(
            &file,
            &redact_values(target_text, &sensitive),
            &redact_values(&rewritten, &sensitive),
        )
    };
    Ok(Promotion {
        from: from.env_name.clone(),
        to: to.env_name.clone(),
        target_file: file,
        changes,
        skipped_sensitive,
        rewritten,
        diff,
    })
}

/// Sets each changed variable inside the file's `variables { }` block: an existing
/// attribute keeps its key, spacing and trailing comment; a missing one is appended
/// with its siblings' indentation; a missing block is appended to the file.
pub fn rewrite(file: &str, text: &str, changes: &[ValueChange]) -> Result<String, PromoteError> {
    let mut body: Body = hcl_edit::parser::parse_body(text).map_err(|e| PromoteError::Parse {
        file: file.to_string(),
        message: e.to_string(),
    })?;

    let has_block = body
        .blocks()
        .any(|b| b.has_ident("variables") && b.labels.is_empty());
    if !has_block {
        let mut block = Block::new(Decorated::new(Ident::new("variables")));
        block
            .decor_mut()
            .set_prefix(if text.is_empty() || text.ends_with("\n\n") {
                ""
            } else {
                "\n"
            });
        body.push(block);
    }
    let Some(block) = body
        .blocks_mut()
        .find(|b| b.has_ident("variables") && b.labels.is_empty())
    else {
        return Err(PromoteError::Parse {
            file: file.to_string(),
            message: "no variables block".to_string(),
        });
    };

    let indent = block
        .body
        .attributes()
        .next()
        .and_then(|a| a.key.decor().prefix().map(|p| p.to_string()))
        .filter(|p| p.chars().all(|c| c == ' ' || c == '\t') && !p.is_empty())
        .unwrap_or_else(|| "  ".to_string());

    for c in changes {
        let mut expr = expression(&c.name, &c.after)?;
        match block.body.get_attribute_mut(&c.name) {
            Some(mut attr) => {
                let decor = attr.value_mut().decor().clone();
                *expr.decor_mut() = decor;
                *attr.value_mut() = expr;
            }
            None => {
                expr.decor_mut().set_prefix(" ");
                let mut key = Decorated::new(Ident::new(c.name.clone()));
                key.decor_mut().set_prefix(indent.clone());
                let mut attr = Attribute::new(key, expr);
                *attr.decor_mut() = Decor::default();
                block.body.push(Structure::Attribute(attr));
            }
        }
    }
    Ok(body.to_string())
}

fn expression(name: &str, value: &Value) -> Result<Expression, PromoteError> {
    let err = |message: String| PromoteError::Value {
        name: name.to_string(),
        message,
    };
    let text = one_line(value).map_err(err)?;
    hcl_edit::parser::parse_expr(&text).map_err(|e| err(e.to_string()))
}

/// Environment values are literals; written on one line (`["a", "b"]`, `{ a = 1 }`)
/// so a promoted list replaces exactly one line of the file.
fn one_line(value: &Value) -> Result<String, String> {
    Ok(match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quoted(s)?,
        Value::Array(items) => {
            let items: Result<Vec<String>, String> = items.iter().map(one_line).collect();
            format!("[{}]", items?.join(", "))
        }
        Value::Object(fields) => {
            if fields.is_empty() {
                return Ok("{}".to_string());
            }
            let mut parts = Vec::new();
            for (k, v) in fields {
                let key = if hcl_edit::Ident::try_new(k.clone()).is_ok() {
                    k.clone()
                } else {
                    quoted(k)?
                };
                parts.push(format!("{key} = {}", one_line(v)?));
            }
            format!("{{ {} }}", parts.join(", "))
        }
    })
}

fn quoted(s: &str) -> Result<String, String> {
    // hcl-rs escapes quotes, backslashes and `${`/`%{` so the value stays literal.
    hcl::format::to_string(&hcl::Expression::String(s.to_string())).map_err(|e| e.to_string())
}

/// What a sensitive variable's value is shown as in the promote diff.
pub const REDACTED_VALUE: &str = "(sensitive value)";

/// `text` (an environment file) with the value of every variable named in
/// `sensitive` replaced by [`REDACTED_VALUE`], for display. A file that does not
/// parse shows nothing of its variables.
pub fn redact_values(text: &str, sensitive: &[&str]) -> String {
    let Ok(body) = hcl_edit::parser::parse_body(text) else {
        return "(the file does not parse, so its values are not shown)\n".to_string();
    };
    let mut spans: Vec<std::ops::Range<usize>> = body
        .blocks()
        .filter(|b| b.has_ident("variables") && b.labels.is_empty())
        .flat_map(|b| b.body.attributes())
        .filter(|a| sensitive.contains(&a.key.as_str()))
        .filter_map(|a| hcl_edit::Span::span(&a.value))
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.start));
    let mut out = text.to_string();
    for span in spans {
        if out.is_char_boundary(span.start)
            && span.end <= out.len()
            && out.is_char_boundary(span.end)
        {
            out.replace_range(span, REDACTED_VALUE);
        }
    }
    out
}

/// `--- a/<file>` / `+++ b/<file>` unified diff with three lines of context.
pub fn unified_diff(file: &str, before: &str, after: &str) -> String {
    if before == after {
        return String::new();
    }
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{file}"), &format!("b/{file}"))
        .to_string()
}
