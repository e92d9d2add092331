//! A writer of spec blocks: build a [`Block`] (type, labels, attributes in order,
//! nested blocks, comment lines above it) and [`render`] a list of them as canonical
//! drplan HCL — the layout `drplan fmt` writes (two-space indentation, the `=` of a
//! run of one-line attributes aligned, one blank line between blocks).
//!
//! Used by the Terraform state conversion (`adopt::tfstate`) and by anything that
//! writes spec blocks for objects found in the cloud. Values are data ([`Value`]):
//! strings are quoted and escaped (`${` and `%{` included, so nothing written is
//! ever evaluated), references to other blocks are [`Value::Raw`] and written as
//! given.
//!
//! ```
//! use drplan_core::adopt::config::{render, Block, Value};
//!
//! let network = Block::new("network")
//!     .label("main")
//!     .attr("site", Value::raw("site.primary"))
//!     .attr("cidr", "10.0.0.0/16")
//!     .block(
//!         Block::new("subnet")
//!             .label("a")
//!             .attr("availability_zone", "us-west-2a")
//!             .attr("cidr", "10.0.0.0/20"),
//!     );
//! assert_eq!(
//!     render(&[network]),
//!     "network \"main\" {\n  site = site.primary\n  cidr = \"10.0.0.0/16\"\n\n  \
//!      subnet \"a\" {\n    availability_zone = \"us-west-2a\"\n    cidr              = \
//!      \"10.0.0.0/20\"\n  }\n}\n"
//! );
//! ```

use std::fmt::Write;

/// A value of an attribute.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string, written quoted and escaped.
    String(String),
    /// A number, written as given by `serde_json` (`3`, `2.5`).
    Number(serde_json::Number),
    Bool(bool),
    /// `[a, b]`; written on one line unless an element spans several.
    List(Vec<Value>),
    /// `{ key = value }`, keys in the given order, one per line with `=` aligned.
    /// A key that is not an identifier (`kubernetes.io/role`) is quoted.
    Map(Vec<(String, Value)>),
    /// An expression written verbatim: a reference (`site.primary`,
    /// `cluster.app`). The caller vouches that it is valid HCL.
    Raw(String),
}

impl Value {
    /// A reference or other expression, written unquoted.
    pub fn raw(expr: impl Into<String>) -> Value {
        Value::Raw(expr.into())
    }

    /// A list of strings.
    pub fn strings<I, S>(items: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Value::List(items.into_iter().map(|s| Value::String(s.into())).collect())
    }

    /// A map of string values, in the iterator's order.
    pub fn string_map<I, K, V>(items: I) -> Value
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Value::Map(
            items
                .into_iter()
                .map(|(k, v)| (k.into(), Value::String(v.into())))
                .collect(),
        )
    }

    /// Converts JSON data: objects become maps (keys in their order), `null` is
    /// `None` (HCL has `null`, but a spec block omits what it does not set).
    pub fn from_json(v: &serde_json::Value) -> Option<Value> {
        Some(match v {
            serde_json::Value::Null => return None,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.clone()),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(a) => {
                Value::List(a.iter().filter_map(Value::from_json).collect())
            }
            serde_json::Value::Object(o) => Value::Map(
                o.iter()
                    .filter_map(|(k, v)| Some((k.clone(), Value::from_json(v)?)))
                    .collect(),
            ),
        })
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n.into())
    }
}

impl From<serde_json::Number> for Value {
    fn from(n: serde_json::Number) -> Self {
        Value::Number(n)
    }
}

/// One item of a block's body.
#[derive(Clone, Debug, PartialEq)]
enum Item {
    Attribute(String, Value),
    Block(Block),
}

/// A spec block: `type "label" { attributes  nested blocks }`, with optional
/// comment lines written above it. Attributes are written first, in the order they
/// were added, then the nested blocks, each after a blank line.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    kind: String,
    labels: Vec<String>,
    comments: Vec<String>,
    items: Vec<Item>,
}

impl Block {
    /// An empty block of this type (`network`, `import`, `target`).
    pub fn new(kind: impl Into<String>) -> Self {
        Block {
            kind: kind.into(),
            labels: Vec::new(),
            comments: Vec::new(),
            items: Vec::new(),
        }
    }

    /// Adds a label (written quoted).
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.labels.push(label.into());
        self
    }

    /// Adds a `# text` line above the block (one per call; line breaks in `text`
    /// become further comment lines).
    pub fn comment(mut self, text: impl Into<String>) -> Self {
        self.comments
            .extend(text.into().lines().map(str::to_string));
        self
    }

    /// Sets an attribute (after those set before).
    pub fn attr(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.push_attr(key, value);
        self
    }

    /// Sets an attribute when `value` is `Some`.
    pub fn attr_opt(mut self, key: impl Into<String>, value: Option<impl Into<Value>>) -> Self {
        if let Some(v) = value {
            self.push_attr(key, v);
        }
        self
    }

    /// Adds a nested block.
    pub fn block(mut self, block: Block) -> Self {
        self.push_block(block);
        self
    }

    /// Sets an attribute, in place.
    pub fn push_attr(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        self.items.push(Item::Attribute(key.into(), value.into()));
    }

    /// Adds a nested block, in place.
    pub fn push_block(&mut self, block: Block) {
        self.items.push(Item::Block(block));
    }

    /// The block type.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The labels.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The value of an attribute set on this block.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.items.iter().find_map(|i| match i {
            Item::Attribute(k, v) if k == key => Some(v),
            _ => None,
        })
    }

    /// The nested blocks, in order.
    pub fn blocks(&self) -> impl Iterator<Item = &Block> {
        self.items.iter().filter_map(|i| match i {
            Item::Block(b) => Some(b),
            Item::Attribute(..) => None,
        })
    }

    /// The nested blocks, mutable (to add to a block already built).
    pub fn blocks_mut(&mut self) -> impl Iterator<Item = &mut Block> {
        self.items.iter_mut().filter_map(|i| match i {
            Item::Block(b) => Some(b),
            Item::Attribute(..) => None,
        })
    }

    fn write(&self, out: &mut String, depth: usize) {
        let indent = "  ".repeat(depth);
        for c in &self.comments {
            let _ = writeln!(out, "{indent}# {c}");
        }
        out.push_str(&indent);
        out.push_str(&self.kind);
        for l in &self.labels {
            out.push(' ');
            out.push_str(&quote(l));
        }
        if self.items.is_empty() {
            // As `drplan fmt` writes an empty block.
            out.push_str(" {\n");
            out.push_str(&indent);
            out.push_str("}\n");
            return;
        }
        out.push_str(" {\n");
        let attrs: Vec<(&String, &Value)> = self
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Attribute(k, v) => Some((k, v)),
                Item::Block(_) => None,
            })
            .collect();
        write_attributes(out, &attrs, depth + 1);
        let mut first = attrs.is_empty();
        for b in self.blocks() {
            if !first {
                out.push('\n');
            }
            first = false;
            b.write(out, depth + 1);
        }
        out.push_str(&indent);
        out.push_str("}\n");
    }
}

/// Renders blocks as a spec file's text: one blank line between blocks, in the
/// canonical layout of `drplan fmt` (the result is passed through
/// [`crate::spec::format::format_source`], so the two cannot disagree).
pub fn render(blocks: &[Block]) -> String {
    let mut out = String::new();
    for (i, b) in blocks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        b.write(&mut out, 0);
    }
    // What this module writes always parses; should it not, the text as written
    // is still the best answer (and the spec loader will point at the problem).
    crate::spec::format::format_source(&out).unwrap_or(out)
}

/// Attributes with the `=` of each run of one-line values aligned; a multi-line
/// value ends a run (as in `drplan fmt`).
fn write_attributes(out: &mut String, attrs: &[(&String, &Value)], depth: usize) {
    let indent = "  ".repeat(depth);
    let rendered: Vec<String> = attrs.iter().map(|(_, v)| expr(v, depth)).collect();
    let mut widths = vec![0usize; attrs.len()];
    let mut start = 0;
    for i in 0..=attrs.len() {
        let ends_run = i == attrs.len() || rendered[i].contains('\n');
        if ends_run {
            let w = (start..i).map(|j| attrs[j].0.chars().count()).max();
            for width in widths.iter_mut().take(i).skip(start) {
                *width = w.unwrap_or(0);
            }
            if i < attrs.len() {
                widths[i] = attrs[i].0.chars().count();
            }
            start = i + 1;
        }
    }
    for (i, (k, _)) in attrs.iter().enumerate() {
        let pad = widths[i].saturating_sub(k.chars().count());
        let _ = writeln!(out, "{indent}{k}{} = {}", " ".repeat(pad), rendered[i]);
    }
}

/// The expression text of a value whose attribute sits at `depth`.
fn expr(v: &Value, depth: usize) -> String {
    match v {
        Value::String(s) => quote(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Raw(r) => r.clone(),
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(|i| expr(i, depth + 1)).collect();
            if parts.iter().any(|p| p.contains('\n')) {
                let inner = "  ".repeat(depth + 1);
                let mut s = String::from("[\n");
                for p in parts {
                    let _ = writeln!(s, "{inner}{p},");
                }
                s.push_str(&"  ".repeat(depth));
                s.push(']');
                s
            } else {
                format!("[{}]", parts.join(", "))
            }
        }
        Value::Map(entries) if entries.is_empty() => "{}".to_string(),
        Value::Map(entries) => {
            let keys: Vec<String> = entries.iter().map(|(k, _)| map_key(k)).collect();
            let values: Vec<String> = entries.iter().map(|(_, v)| expr(v, depth + 1)).collect();
            let width = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0);
            let inner = "  ".repeat(depth + 1);
            let mut s = String::from("{\n");
            for (k, v) in keys.iter().zip(values) {
                let pad = width - k.chars().count();
                let _ = writeln!(s, "{inner}{k}{} = {v}", " ".repeat(pad));
            }
            s.push_str(&"  ".repeat(depth));
            s.push('}');
            s
        }
    }
}

/// A map key: bare when it is an identifier, else quoted.
fn map_key(k: &str) -> String {
    let ident = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ident {
        k.to_string()
    } else {
        quote(k)
    }
}

/// An HCL string literal: quotes, backslashes and control characters escaped, and
/// `${` / `%{` doubled so that no template is evaluated.
pub fn quote(s: &str) -> String {
    format!("\"{}\"", crate::spec::vars::escape(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_align_and_quote_keys_and_strings_escape_templates() {
        let b = Block::new("bucket")
            .label("logs")
            .attr("name", "a-${b}")
            .attr(
                "tags",
                Value::string_map([("team", "x"), ("kubernetes.io/role", "y\"z")]),
            )
            .attr("versioning", false)
            .attr("list", Value::List(vec![1i64.into(), Value::raw("site.a")]));
        let text = render(&[b]);
        assert_eq!(
            text,
            "bucket \"logs\" {\n  name = \"a-$${b}\"\n  tags = {\n    team                 = \"x\"\n    \"kubernetes.io/role\" = \"y\\\"z\"\n  }\n  versioning = false\n  list       = [1, site.a]\n}\n"
        );
        assert_eq!(crate::spec::format::format_source(&text), Ok(text.clone()));
    }

    #[test]
    fn comments_go_above_and_empty_blocks_close_on_their_own_line() {
        let text = render(&[
            Block::new("import").comment("from aws_vpc.main"),
            Block::new("x").block(Block::new("y").attr("a", 1i64)),
        ]);
        assert_eq!(
            text,
            "# from aws_vpc.main\nimport {\n}\n\nx {\n  y {\n    a = 1\n  }\n}\n"
        );
    }
}
