//! Spec problems as data: every check pushes a [`SpecDiagnostic`] and carries on, so
//! one run reports everything that is wrong.

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan,
};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

mod escape;
pub use escape::escape_controls;

/// One file as read, shared by every diagnostic that points into it; or a view of
/// one part of it (`view`): a spec file's top-level block parsed alone
/// (`spec::split`), whose spans count from the part's start. Every method takes spans
/// in the view's terms; `text` is the whole file's.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path relative to the project root, `/`-separated.
    pub path: String,
    pub text: Arc<String>,
    /// Byte offset of each line's start: positions are looked up for every block, so
    /// they must not rescan the file.
    line_starts: Arc<Vec<usize>>,
    /// Where the view starts in `text`, and its length (the whole file: 0, its length).
    base: usize,
    len: usize,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            path: path.into(),
            len: text.len(),
            text: Arc::new(text),
            line_starts: Arc::new(line_starts),
            base: 0,
        }
    }

    /// The part `range` (in this view's terms) as a view of its own.
    pub fn view(&self, range: Range<usize>) -> SourceFile {
        SourceFile {
            base: self.base + range.start,
            len: range.len(),
            ..self.clone()
        }
    }

    /// The whole file this is a view of.
    pub fn whole(&self) -> SourceFile {
        SourceFile {
            base: 0,
            len: self.text.len(),
            ..self.clone()
        }
    }

    /// The text of the view.
    pub fn part(&self) -> &str {
        self.text.get(self.base..self.base + self.len).unwrap_or("")
    }

    /// Where the view starts in the whole file.
    pub fn base(&self) -> usize {
        self.base
    }

    /// `span` (in the view's terms) in the whole file's.
    pub fn absolute(&self, span: Range<usize>) -> Range<usize> {
        span.start + self.base..span.end + self.base
    }

    /// The text at `span` (in the view's terms).
    pub fn slice(&self, span: Range<usize>) -> Option<&str> {
        self.text.get(self.absolute(span))
    }

    /// Whether `offset` lies too far into its line for a drawn label.
    pub fn column_far_right(&self, offset: usize) -> bool {
        let offset = (offset + self.base).min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        offset - self.line_starts[line - 1] > 4000
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = (offset + self.base).min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let line_start = self.line_starts[line - 1];
        let column = self
            .text
            .get(line_start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        (line, column)
    }
}

/// An error stops the load; a warning is reported with a loaded project
/// (`Project::warnings`: a mirror that differs from its primary, `spec::parity`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Severity {
    #[default]
    Error,
    Warning,
}

/// One problem in a project.
#[derive(Clone, Debug)]
pub struct SpecDiagnostic {
    /// e.g. `drplan::unknown_attribute`.
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    /// The file and span the problem is in; `None` for project-level problems
    /// (a missing environment file).
    pub location: Option<(SourceFile, Range<usize>)>,
    pub label: String,
    /// More labelled spans in the same file (the first of two repeated blocks).
    pub related: Vec<(Range<usize>, String)>,
    /// Where the view `at` was given starts in its file: `also` takes spans in the
    /// same terms.
    base: usize,
}

impl SpecDiagnostic {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        SpecDiagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            help: None,
            location: None,
            label: String::new(),
            related: Vec::new(),
            base: 0,
        }
    }

    /// This diagnostic as a warning: reported, but the project loads.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// Labels another span of the same file (set `at` first).
    pub fn also(mut self, span: Range<usize>, label: impl Into<String>) -> Self {
        self.related
            .push((span.start + self.base..span.end + self.base, label.into()));
        self
    }

    pub fn at(mut self, file: &SourceFile, span: Range<usize>, label: impl Into<String>) -> Self {
        // Kept in the whole file's terms, so every reader of `location` needs no view.
        self.location = Some((file.whole(), file.absolute(span)));
        self.base = file.base;
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// This diagnostic as shown: control characters from the input escaped in the
    /// message, help, label, path and source snippet (the span follows the escapes).
    pub fn shown(&self) -> SpecDiagnostic {
        let escaped = self
            .location
            .as_ref()
            .and_then(|(f, _)| escape::EscapedSource::new(&f.text));
        let span_of = |span: &Range<usize>| {
            escaped
                .as_ref()
                .map_or_else(|| span.clone(), |e| e.span(span))
        };
        let location = self.location.as_ref().map(|(f, span)| {
            let file = match &escaped {
                Some(e) => SourceFile::new(escape_controls(&f.path), e.text.clone()),
                None => SourceFile {
                    path: escape_controls(&f.path).into_owned(),
                    ..f.clone()
                },
            };
            (file, span_of(span))
        });
        SpecDiagnostic {
            code: self.code,
            severity: self.severity,
            message: escape_controls(&self.message).into_owned(),
            help: self
                .help
                .as_deref()
                .map(|h| escape_controls(h).into_owned()),
            location,
            label: escape_controls(&self.label).into_owned(),
            related: self
                .related
                .iter()
                .map(|(span, label)| (span_of(span), escape_controls(label).into_owned()))
                .collect(),
            base: 0,
        }
    }

    /// This diagnostic as data (`drplan validate --json`, docs/spec-reference.md):
    /// code, message, help and, when it has a place, file, line and column of the
    /// start and end of the span (1-based), with the related spans likewise.
    pub fn to_json(&self) -> serde_json::Value {
        let place = |f: &SourceFile, span: &Range<usize>| {
            let (line, column) = f.line_col(span.start);
            let (end_line, end_column) = f.line_col(span.end);
            serde_json::json!({
                "line": line, "column": column, "end_line": end_line, "end_column": end_column,
            })
        };
        let mut out = serde_json::json!({
            "code": self.code,
            "severity": match self.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            "message": self.message,
            "help": self.help,
        });
        if let Some((f, span)) = &self.location {
            out["file"] = serde_json::Value::from(f.path.clone());
            if let (Some(o), serde_json::Value::Object(p)) = (out.as_object_mut(), place(f, span)) {
                o.extend(p);
            }
            out["label"] = serde_json::Value::from(self.label.clone());
            out["related"] = self
                .related
                .iter()
                .map(|(span, label)| {
                    let mut r = place(f, span);
                    r["label"] = serde_json::Value::from(label.clone());
                    r
                })
                .collect();
        }
        out
    }

    /// `file:line:col` of the label, for sorting and plain listings.
    pub fn position(&self) -> Option<(String, usize, usize)> {
        self.location.as_ref().map(|(f, span)| {
            let (l, c) = f.line_col(span.start);
            (f.path.clone(), l, c)
        })
    }
}

impl fmt::Display for SpecDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape_controls(&self.message))
    }
}

impl std::error::Error for SpecDiagnostic {}

impl Diagnostic for SpecDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.location
            .as_ref()
            .map(|(f, _)| &f.text as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (_, span) = self.location.as_ref()?;
        let len = span.end.saturating_sub(span.start);
        let label = (!self.label.is_empty()).then(|| self.label.clone());
        let related = self.related.iter().map(|(s, l)| {
            LabeledSpan::new_with_span(
                Some(l.clone()),
                SourceSpan::new(s.start.into(), s.end.saturating_sub(s.start)),
            )
        });
        Some(Box::new(
            std::iter::once(LabeledSpan::new_primary_with_span(
                label,
                SourceSpan::new(span.start.into(), len),
            ))
            .chain(related),
        ))
    }
}

/// Every problem found in one load, in file/line order.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics(pub Vec<SpecDiagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: SpecDiagnostic) {
        self.0.push(d);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &SpecDiagnostic> {
        self.0.iter()
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Stable order for output: by file, then position, then code.
    pub fn sort(&mut self) {
        self.0.sort_by_key(|d| {
            let (file, start) = match &d.location {
                Some((f, span)) => (f.path.clone(), span.start),
                None => (String::new(), 0),
            };
            (file, start, d.code, d.message.clone())
        });
        self.0.dedup_by(|a, b| {
            a.code == b.code && a.message == b.message && a.position() == b.position()
        });
    }

    /// Renders every diagnostic with miette's graphical handler. `color` follows the
    /// caller's terminal decision (NO_COLOR, TTY); tests use `None` width for a fixed 100.
    pub fn render(&self, color: bool, width: usize) -> String {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(width)
            .with_links(false);
        let mut out = String::new();
        for d in &self.0 {
            let d = &d.shown();
            let named;
            let plain;
            let report: &dyn Diagnostic = match &d.location {
                // miette cannot draw labels far right on a line (format widths are
                // limited to u16): name the position instead of drawing the snippet.
                Some((f, span))
                    if f.column_far_right(span.start) || f.column_far_right(span.end) =>
                {
                    let (line, col) = f.line_col(span.start);
                    plain = SpecDiagnostic {
                        location: None,
                        message: format!("{} ({}:{line}:{col})", d.message, f.path),
                        ..d.clone()
                    };
                    &plain
                }
                Some((f, _)) => {
                    named = Named {
                        inner: d,
                        source: NamedSource::new(&f.path, f.text.clone()),
                    };
                    &named
                }
                None => d,
            };
            if handler.render_report(&mut out, report).is_err() {
                out.push_str(&format!("{}: {}\n", d.code, d.message));
            }
            out.push('\n');
        }
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            let message = escape_controls(&d.message);
            let message = match d.severity {
                Severity::Error => message,
                Severity::Warning => format!("warning: {message}").into(),
            };
            match d.position() {
                Some((file, l, c)) => writeln!(
                    f,
                    "{}:{l}:{c}: {message} [{}]",
                    escape_controls(&file),
                    d.code
                )?,
                None => writeln!(f, "{message} [{}]", d.code)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// A diagnostic paired with a named source so miette prints `[file:line:col]`.
struct Named<'a> {
    inner: &'a SpecDiagnostic,
    source: NamedSource<Arc<String>>,
}

impl fmt::Debug for Named<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.inner, f)
    }
}

impl fmt::Display for Named<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.inner, f)
    }
}

impl std::error::Error for Named<'_> {}

impl Diagnostic for Named<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.inner.code()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Diagnostic::help(self.inner)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Diagnostic::severity(self.inner)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.inner.labels()
    }
}

/// "did you mean `x`?" for a misspelt name, when one candidate is close enough.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}
