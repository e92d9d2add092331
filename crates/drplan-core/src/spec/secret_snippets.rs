//! Diagnostics quote the line they point at, and in an environment file that line can
//! hold a password (`db_pasword = "..."` misspelled, a value of the wrong type). Before
//! diagnostics leave the loader, [`SecretSpans::redact`] replaces in their source
//! snippets every value that may be secret:
//!
//! - values of variables the spec declares `sensitive = true`, in the environment file
//!   and as the declaration's `default`;
//! - values the environment file sets for variables the spec does not declare (a
//!   misspelled name may be a secret's; the diagnostic is about the name), shown as
//!   `(value not shown)`.

use super::diagnostic::{Diagnostics, SourceFile};
use super::files::ParsedFile;
use hcl_edit::expr::Expression;
use hcl_edit::structure::Body;
use hcl_edit::Span;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

const SENSITIVE: &str = "(sensitive value)";
/// For a variable the spec does not declare: perhaps a misspelled secret.
const UNDECLARED: &str = "(value not shown)";

/// Byte ranges of possibly secret values with what replaces them, per file path.
#[derive(Default)]
pub struct SecretSpans(BTreeMap<String, Vec<(Range<usize>, &'static str)>>);

impl SecretSpans {
    /// `sources`: where variable values come from (`spec::vars`): the environment
    /// file first (values in its `variables` block), then var files and `--var` /
    /// `DRPLAN_VAR_` values (top-level attributes).
    pub fn collect(specs: &[ParsedFile], sources: &[ParsedFile]) -> Self {
        let mut out = SecretSpans::default();
        let mut declared = BTreeSet::new();
        let mut sensitive = BTreeSet::new();
        for file in specs {
            for block in file.body.blocks().filter(|b| b.has_ident("variable")) {
                let Some(label) = block.labels.first().map(|l| l.as_str().to_string()) else {
                    continue;
                };
                declared.insert(label.clone());
                if is_true(&block.body, "sensitive") {
                    if let Some(span) = block
                        .body
                        .get_attribute("default")
                        .and_then(|a| a.value.span())
                    {
                        out.add(&file.source, span, SENSITIVE);
                    }
                    sensitive.insert(label);
                }
            }
        }
        for (i, file) in sources.iter().enumerate() {
            let environment_file = i == 0 || file.source.path.starts_with("environments/");
            let bodies: Vec<&Body> = if environment_file {
                file.body
                    .blocks()
                    .filter(|b| b.has_ident("variables"))
                    .map(|b| &b.body)
                    .collect()
            } else {
                vec![&file.body]
            };
            for body in bodies {
                for attr in body.attributes() {
                    let name = attr.key.as_str();
                    let from_store = file.source.path.starts_with(super::vars::SECRET_SOURCE);
                    let replacement = match (
                        sensitive.contains(name) || from_store,
                        declared.contains(name),
                    ) {
                        (true, _) => SENSITIVE,
                        (false, false) => UNDECLARED,
                        (false, true) => continue,
                    };
                    if let Some(span) = attr.value.span() {
                        out.add(&file.source, span, replacement);
                    }
                }
            }
        }
        out
    }

    /// `span` is in `file`'s terms (a view of one part of a spec file).
    fn add(&mut self, file: &SourceFile, span: Range<usize>, replacement: &'static str) {
        self.0
            .entry(file.path.clone())
            .or_default()
            .push((file.absolute(span), replacement));
    }

    /// `diags` with every secret value in their source snippets replaced, and their
    /// spans moved to match.
    pub fn redact(&self, mut diags: Diagnostics) -> Diagnostics {
        if self.0.is_empty() {
            return diags;
        }
        let mut redacted: BTreeMap<String, Redacted> = BTreeMap::new();
        for d in &mut diags.0 {
            let Some((file, span)) = &mut d.location else {
                continue;
            };
            let Some(spans) = self.0.get(&file.path) else {
                continue;
            };
            let r = redacted
                .entry(file.path.clone())
                .or_insert_with(|| Redacted::new(file, spans));
            *span = r.map(span.start, false)..r.map(span.end, true);
            *file = r.file.clone();
        }
        diags
    }
}

fn is_true(body: &Body, name: &str) -> bool {
    match body.get_attribute(name).map(|a| &a.value) {
        Some(Expression::Bool(b)) => *b.value(),
        Some(Expression::String(s)) => s.as_str() == "true",
        _ => false,
    }
}

/// One file's text with its secret values replaced, and how offsets moved.
struct Redacted {
    file: SourceFile,
    /// (original range, redacted range), in file order.
    moves: Vec<(Range<usize>, Range<usize>)>,
}

impl Redacted {
    fn new(file: &SourceFile, spans: &[(Range<usize>, &'static str)]) -> Self {
        let text = file.text.as_str();
        let mut spans: Vec<(Range<usize>, &str)> = spans
            .iter()
            .filter(|(s, _)| {
                s.start <= s.end
                    && s.end <= text.len()
                    && text.is_char_boundary(s.start)
                    && text.is_char_boundary(s.end)
            })
            .cloned()
            .collect();
        spans.sort_by_key(|(s, _)| s.start);
        let mut out = String::with_capacity(text.len());
        let mut moves = Vec::new();
        let mut at = 0;
        for (s, replacement) in spans {
            if s.start < at {
                continue;
            }
            out.push_str(&text[at..s.start]);
            let start = out.len();
            out.push_str(replacement);
            moves.push((s.clone(), start..out.len()));
            at = s.end;
        }
        out.push_str(&text[at..]);
        Redacted {
            file: SourceFile::new(file.path.clone(), out),
            moves,
        }
    }

    /// Where `offset` lands in the redacted text; an offset inside a secret lands on
    /// the replacement's start (or, for a span's end, its end).
    fn map(&self, offset: usize, is_end: bool) -> usize {
        let mut shift: isize = 0;
        for (from, to) in &self.moves {
            let before = if is_end {
                offset <= from.start
            } else {
                offset < from.start
            };
            if before {
                break;
            }
            let inside = if is_end {
                offset <= from.end
            } else {
                offset < from.end
            };
            if inside {
                return if is_end { to.end } else { to.start };
            }
            shift = to.end as isize - from.end as isize;
        }
        offset.saturating_add_signed(shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_move_with_the_replacement() {
        let file = SourceFile::new("environments/x.hcl", "a = \"hunter2\"\nb = 1\n".to_string());
        let r = Redacted::new(&file, &[(4..13, SENSITIVE)]);
        assert_eq!(r.file.text.as_str(), "a = (sensitive value)\nb = 1\n");
        assert_eq!(r.map(0, false), 0);
        assert_eq!(r.map(4, true), 4);
        assert_eq!(r.map(4, false), 4);
        assert_eq!(r.map(13, true), 21);
        assert_eq!(r.map(14, false), 22);
        assert_eq!(&r.file.text[r.map(14, false)..r.map(15, true)], "b");
    }
}
