//! Human text: plans in Terraform's familiar shape (`+ ~ - -/+`, attribute-level
//! changes, a summary line), and drift reports.
//!
//! Reads the same [`Plan`] as the JSON renderer and never looks at anything else, so
//! the two cannot disagree. The attribute lines of an update or replace print the
//! change's attribute diff (`plan::attrdiff`), the tree the drift report lists: this
//! file compares no values, it only prints whole ones (a created object, a value added
//! or removed, redacted by the change's sensitive paths) and the lines of changed
//! multi-line text. ANSI colour only when asked for: the caller decides from
//! `NO_COLOR` and whether stdout is a terminal.

use super::outage;
use crate::address::Address;
use crate::kinds::MarkPlace;
use crate::marks;
use crate::plan::attrdiff::{AttrChange, AttrDiff, Change};
use crate::plan::drift::{Cause, DriftItem, DriftReport};
use crate::plan::reason::ActionReason;
use crate::plan::redact::{is_sensitive_path, without_indices};
use crate::plan::{Action, Plan, PlanError, ResourceChange};
use crate::resource::Kind;
use serde_json::{Map, Value};
use similar::{ChangeTag, TextDiff};
use std::collections::BTreeSet;
use std::fmt::Write;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// Emit ANSI colours.
    pub color: bool,
}

impl TextOptions {
    /// Colour on a terminal unless `NO_COLOR` is set to anything non-empty
    /// (<https://no-color.org>).
    pub fn for_terminal(is_tty: bool, no_color: Option<&str>) -> Self {
        TextOptions {
            color: is_tty && no_color.is_none_or(str::is_empty),
        }
    }
}

const INDENT: usize = 4;
/// Attribute lines start here, under the address of the header line.
const ATTR_INDENT: usize = 6;

pub fn plan(plan: &Plan, opts: &TextOptions) -> String {
    let p = Painter(opts.color);
    let mut out = outage::banner(plan, |t| p.error(t));
    if let Some(partial) = crate::plan::target::banner(plan) {
        let _ = writeln!(out, "{}\n", p.error(&partial));
    }
    if !plan.has_changes() {
        // With errors, "matches the spec" would be untrue: the errors say what doesn't.
        if plan.errors.is_empty() && plan.deferred.is_empty() {
            out.push_str("No changes. Your infrastructure matches the spec.\n");
        } else if plan.errors.is_empty() {
            out.push_str("No changes in what answered.\n");
        }
    } else {
        let _ = writeln!(
            out,
            "drplan will perform the following actions (stack {}, environment {}):",
            plan.stack, plan.environment
        );
        let mut section: Option<String> = None;
        for change in plan.changes.iter().filter(|c| c.action != Action::NoOp) {
            let title = section_title(change);
            if section.as_ref() != Some(&title) {
                let _ = write!(out, "\n{}\n", p.bold(&format!("# {title}")));
                section = Some(title);
            }
            render_change(&mut out, change, &p);
        }
        let s = plan.summary();
        let forget = match s.forget {
            0 => String::new(),
            n => format!(", {n} to forget"),
        };
        let _ = write!(
            out,
            "\n{} {} to add, {} to change, {} to destroy{forget}.\n",
            p.bold("Plan:"),
            s.add,
            s.change,
            s.destroy
        );
    }
    out.push_str(&outage::deferred(plan, |t| p.bold(t)));
    let held = crate::plan::held::held(plan);
    render_errors(&mut out, &plan.errors, held.as_ref(), &p);
    out
}

/// The heading a change is listed under: its site, the global (Route53) objects, or
/// the region of an orphan no site of the spec covers any more.
fn section_title(change: &ResourceChange) -> String {
    match (&change.site, &change.region) {
        (Some(site), Some(region)) => format!("site {site} ({region})"),
        (Some(site), None) => format!("site {site}"),
        (None, Some(region)) if change.kind.is_regional() || change.kind.info().in_cluster => {
            format!("region {region} (no site in the spec)")
        }
        (None, _) => "global (route53)".to_string(),
    }
}

fn render_change(out: &mut String, change: &ResourceChange, p: &Painter) {
    let (symbol, verb) = match change.action {
        Action::Create => ("+", "will be created"),
        Action::Update => ("~", "will be updated in place"),
        Action::Replace => ("-/+", "must be replaced"),
        Action::Delete => ("-", "will be destroyed"),
        Action::Forget => (".", "will no longer be managed by drplan (a removed block: the object is kept, its marks are dropped)"),
        Action::NoOp => return,
    };
    if let Some(from) = &change.moved_from {
        let _ = writeln!(
            out,
            "  {}",
            p.dim(&format!("# {} has moved from {from}", change.address))
        );
    }
    if let Some(id) = &change.import_id {
        let _ = writeln!(
            out,
            "  {}",
            p.dim(&format!(
                "# {} will be imported (id {id}): apply writes drplan's marks, then the changes shown",
                change.address
            ))
        );
    } else if change.adopt {
        let _ = writeln!(
            out,
            "  {}",
            p.dim(&format!(
                "# {} was created by an interrupted apply of this stack and is not marked yet: drplan adopts it",
                change.address
            ))
        );
    }
    let only_mark = if change.only_mark_changes() {
        ": only drplan's mark changes"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "{}{} {} ({}) {verb}{only_mark}",
        " ".repeat(3 - symbol.len()),
        p.symbol(symbol),
        p.bold(change.address.as_str()),
        change.kind
    );
    // What differs, computed with the plan: this renderer only prints it.
    let attr_diff = change.attr_changes();
    let reason = attr_diff.as_ref().and_then(|d| d.reason);
    if reason == Some(ActionReason::ReplaceByRequest) {
        let _ = writeln!(
            out,
            "{}{}",
            " ".repeat(ATTR_INDENT),
            p.dim("# replaced because --replace asked for it")
        );
    }
    if !change.wait_for.is_empty() {
        let list: Vec<&str> = change.wait_for.iter().map(Address::as_str).collect();
        let _ = writeln!(
            out,
            "{}{}",
            " ".repeat(ATTR_INDENT),
            p.dim(&format!("# starts after: {}", list.join(", ")))
        );
    }
    let empty = Map::new();
    let after = change.after.as_deref().unwrap_or(&empty);
    let mut lines = Lines::new(p, change);
    match change.action {
        Action::Create => {
            // As in Terraform, a created object lists what it sets, not what it leaves unset.
            let keys: BTreeSet<&str> = after
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, _)| k.as_str())
                .chain(change.unknown_after.iter().map(String::as_str))
                .collect();
            let width = keys.iter().map(|k| key_text(k).len()).max().unwrap_or(0);
            for key in keys {
                match after.get(key) {
                    Some(value) => {
                        lines.value("+", ATTR_INDENT, Slot::Key(key, width), value, key, "")
                    }
                    None => lines.unknown("+", ATTR_INDENT, key, width, None),
                }
            }
        }
        Action::Update | Action::Replace => {
            if let Some(diff) = &attr_diff {
                lines.attributes(diff, change);
            }
        }
        Action::Delete | Action::Forget | Action::NoOp => {}
    }
    for line in lines.done() {
        out.push_str(&line);
        out.push('\n');
    }
}

/// Where each kind keeps its address mark, as a user would look for it.
fn mark_name(kind: Kind) -> String {
    match kind.info().mark {
        MarkPlace::Annotation => format!("(annotation {})", marks::K8S_ADDRESS_ANNOTATION),
        MarkPlace::OwnerTxt => format!("(address in TXT {}<name>)", marks::DNS_OWNER_PREFIX),
        MarkPlace::Tags => format!("(tag {})", marks::ADDRESS_KEY),
    }
}

/// Where a rendered value sits: under a map key, or as a list element.
#[derive(Clone, Copy)]
enum Slot<'a> {
    Key(&'a str, usize),
    Element,
}

/// Builds the attribute lines of one change.
struct Lines<'a> {
    p: &'a Painter,
    change: &'a ResourceChange,
    out: Vec<String>,
}

impl<'a> Lines<'a> {
    fn new(p: &'a Painter, change: &'a ResourceChange) -> Self {
        Lines {
            p,
            change,
            out: Vec::new(),
        }
    }

    fn done(self) -> Vec<String> {
        self.out
    }

    fn push(&mut self, line: String) {
        self.out.push(line);
    }

    fn sensitive(&self, path: &str) -> bool {
        is_sensitive_path(path, &self.change.sensitive)
    }

    fn lead(&self, symbol: &str, indent: usize, slot: Slot) -> String {
        let sym = self.p.symbol(symbol);
        match slot {
            Slot::Key(key, width) => {
                format!("{}{sym} {:<width$} = ", " ".repeat(indent), key_text(key))
            }
            Slot::Element => format!("{}{sym} ", " ".repeat(indent)),
        }
    }

    fn unknown(
        &mut self,
        symbol: &str,
        indent: usize,
        key: &str,
        width: usize,
        old: Option<&Value>,
    ) {
        let lead = self.lead(symbol, indent, Slot::Key(key, width));
        let known_after = self.p.dim("(known after apply)");
        match old {
            Some(old) => self.push(format!("{lead}{} -> {known_after}", scalar(old))),
            None => self.push(format!("{lead}{known_after}")),
        }
    }

    fn hidden(&mut self, indent: usize, count: usize, noun: &str) {
        if count > 0 {
            let plural = if count == 1 { "" } else { "s" };
            let text = format!("({count} unchanged {noun}{plural} hidden)");
            self.push(format!("{}{}", " ".repeat(indent + 2), self.p.dim(&text)));
        }
    }

    /// A whole value, every line under the same symbol (created, destroyed or added).
    fn value(
        &mut self,
        symbol: &str,
        indent: usize,
        slot: Slot,
        value: &Value,
        path: &str,
        note: &str,
    ) {
        let comma = if matches!(slot, Slot::Element) {
            ","
        } else {
            ""
        };
        let lead = self.lead(symbol, indent, slot);
        if self.sensitive(path) && value.is_string() {
            self.push(format!(
                "{lead}{}{comma}{note}",
                self.p.dim("(sensitive value)")
            ));
            return;
        }
        match value {
            Value::Object(map) if !map.is_empty() => {
                self.push(format!("{lead}{{{note}"));
                let entries: Vec<(&str, &Value)> = sorted(map)
                    .into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .collect();
                let width = entries
                    .iter()
                    .map(|(k, _)| key_text(k).len())
                    .max()
                    .unwrap_or(0);
                for (key, child) in entries {
                    let child_path = format!("{path}.{key}");
                    self.value(
                        symbol,
                        indent + INDENT,
                        Slot::Key(key, width),
                        child,
                        &child_path,
                        "",
                    );
                }
                self.push(format!("{}}}{comma}", " ".repeat(indent + 2)));
            }
            Value::Array(items) if !items.is_empty() => {
                self.push(format!("{lead}[{note}"));
                for item in items {
                    self.value(symbol, indent + INDENT, Slot::Element, item, path, "");
                }
                self.push(format!("{}]{comma}", " ".repeat(indent + 2)));
            }
            Value::String(s) if s.contains('\n') => {
                self.push(format!("{lead}<<-EOT{note}"));
                for line in s.lines() {
                    self.push(
                        format!("{}{line}", " ".repeat(indent + INDENT))
                            .trim_end()
                            .to_string(),
                    );
                }
                self.push(format!("{}EOT{comma}", " ".repeat(indent + 2)));
            }
            _ => self.push(format!("{lead}{}{comma}{note}", scalar(value))),
        }
    }

    /// The attribute lines of an update or replace, from its attribute diff: the
    /// changed attributes by name, those known only after apply, the mark a renamed
    /// block moves, and how many attributes match.
    fn attributes(&mut self, diff: &AttrDiff, change: &ResourceChange) {
        let (mut changed, unknown): (Vec<&AttrChange>, Vec<&AttrChange>) = diff
            .attrs
            .iter()
            .partition(|a| !matches!(a.change, Change::Unknown { .. }));
        changed.sort_by(|a, b| a.key().cmp(&b.key()));
        let width = diff
            .attrs
            .iter()
            .filter_map(AttrChange::key)
            .map(|k| key_text(k).len())
            .max()
            .unwrap_or(0);
        for attr in changed {
            let key = attr.key().unwrap_or_default();
            if let Change::Region { to } = &attr.change {
                let region = to.as_deref().unwrap_or("");
                self.push(format!(
                    "{}{} {:<width$} = (another region) -> {} {}",
                    " ".repeat(ATTR_INDENT),
                    self.p.symbol("~"),
                    "region",
                    quoted(region),
                    self.p.dim("# forces replacement")
                ));
                continue;
            }
            self.node(ATTR_INDENT, Slot::Key(key, width), attr, true);
        }
        for attr in unknown {
            if let Change::Unknown { before } = &attr.change {
                let key = attr.key().unwrap_or_default();
                self.unknown("~", ATTR_INDENT, key, width, before.as_ref());
            }
        }
        // A replaced object is created with its marks: only an update moves one.
        if let (Some(mark), Action::Update) = (&diff.mark, change.action) {
            self.push(format!(
                "{}{} {} = {} -> {}",
                " ".repeat(ATTR_INDENT),
                self.p.symbol("~"),
                mark_name(change.kind),
                quoted(mark.from.as_str()),
                quoted(mark.to.as_str())
            ));
        }
        self.hidden(ATTR_INDENT, diff.unchanged, "attribute");
    }

    /// One node of the attribute diff, its children under it.
    fn node(&mut self, indent: usize, slot: Slot, node: &AttrChange, top: bool) {
        let note = if top && node.forces_replacement {
            format!(" {}", self.p.dim("# forces replacement"))
        } else {
            String::new()
        };
        match &node.change {
            Change::Sensitive { before, after } => {
                let symbol = match (before, after) {
                    (None, Some(_)) => "+",
                    (Some(_), None) if !top => "-",
                    _ => "~",
                };
                let shown = match after {
                    Some(_) => self.p.dim("(sensitive value)"),
                    None => "null".to_string(),
                };
                let lead = self.lead(symbol, indent, slot);
                self.push(format!("{lead}{shown}{}{note}", element_comma(slot)));
            }
            Change::SecretChanged => {
                let lead = self.lead("~", indent, slot);
                let shown = self.p.dim("(sensitive value)");
                self.push(format!("{lead}{shown}{}{note}", element_comma(slot)));
            }
            Change::Added(a) => {
                let path = without_indices(&node.path);
                self.value("+", indent, slot, a, &path, &note)
            }
            Change::Removed(b) if !top => {
                let path = without_indices(&node.path);
                self.value("-", indent, slot, b, &path, &note)
            }
            Change::Removed(b) => {
                let lead = self.lead("~", indent, slot);
                self.push(format!("{lead}{} -> null{note}", scalar_or_shape(b)));
            }
            Change::Map {
                children,
                unchanged,
            } => {
                let lead = self.lead("~", indent, slot);
                self.push(format!("{lead}{{{note}"));
                let mut children: Vec<&AttrChange> = children.iter().collect();
                children.sort_by(|a, b| a.key().cmp(&b.key()));
                let width = children
                    .iter()
                    .filter_map(|c| c.key())
                    .map(|k| key_text(k).len())
                    .max()
                    .unwrap_or(0);
                for child in children {
                    let key = child.key().unwrap_or_default();
                    self.node(indent + INDENT, Slot::Key(key, width), child, false);
                }
                self.hidden(indent + INDENT, *unchanged, "element");
                self.push(format!(
                    "{}}}{}",
                    " ".repeat(indent + 2),
                    element_comma(slot)
                ));
            }
            Change::List {
                children,
                unchanged,
                secrets_changed,
            } => {
                let lead = self.lead("~", indent, slot);
                self.push(format!("{lead}[{note}"));
                for child in children {
                    match &child.change {
                        // Elements replaced position for position read as a removal and
                        // an addition; maps and lists read as in-place edits inside.
                        Change::Modified { before, after } => {
                            let path = without_indices(&child.path);
                            self.value("-", indent + INDENT, Slot::Element, before, &path, "");
                            self.value("+", indent + INDENT, Slot::Element, after, &path, "");
                        }
                        _ => self.node(indent + INDENT, Slot::Element, child, false),
                    }
                }
                if !secrets_changed.is_empty() {
                    // Redacted elements look alike; the diff saw a secret inside change.
                    let line = format!(
                        "{}{} {}",
                        " ".repeat(indent + INDENT),
                        self.p.symbol("~"),
                        self.p.dim("(sensitive value)")
                    );
                    self.push(line);
                }
                self.hidden(indent + INDENT, *unchanged, "element");
                self.push(format!(
                    "{}]{}",
                    " ".repeat(indent + 2),
                    element_comma(slot)
                ));
            }
            Change::Modified {
                before: Value::String(b),
                after: Value::String(a),
            } if b.contains('\n') || a.contains('\n') => {
                let lead = self.lead("~", indent, slot);
                self.push(format!("{lead}<<-EOT{note}"));
                let text = TextDiff::from_lines(b.as_str(), a.as_str());
                let body = " ".repeat(indent + INDENT);
                for (i, group) in text.grouped_ops(2).iter().enumerate() {
                    if i > 0 {
                        self.push(format!("{body}  {}", self.p.dim("...")));
                    }
                    for op in group {
                        for change in text.iter_changes(op) {
                            let line = change.value().trim_end_matches(['\n', '\r']);
                            let mark = match change.tag() {
                                ChangeTag::Equal => " ".to_string(),
                                ChangeTag::Delete => self.p.symbol("-"),
                                ChangeTag::Insert => self.p.symbol("+"),
                            };
                            self.push(format!("{body}{mark} {line}").trim_end().to_string());
                        }
                    }
                }
                self.push(format!("{}EOT", " ".repeat(indent + 2)));
            }
            Change::Modified { before, after } => {
                let lead = self.lead("~", indent, slot);
                self.push(format!(
                    "{lead}{} -> {}{note}",
                    scalar_or_shape(before),
                    scalar_or_shape(after)
                ));
            }
            // Only attributes are unknown or move regions; `attributes` prints them.
            Change::Unknown { .. } | Change::Region { .. } => {}
        }
    }
}

fn element_comma(slot: Slot) -> &'static str {
    match slot {
        Slot::Element => ",",
        Slot::Key(..) => "",
    }
}

/// Map keys that are not plain identifiers are quoted, as in HCL.
fn key_text(key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        key.to_string()
    } else {
        quoted(key)
    }
}

fn quoted(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

fn scalar(value: &Value) -> String {
    value.to_string()
}

/// One-line form of a value whose kind changed (a list became a string, ...).
fn scalar_or_shape(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    } else {
        text
    }
}

fn sorted(map: &Map<String, Value>) -> Vec<(&str, &Value)> {
    let mut entries: Vec<(&str, &Value)> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

fn render_errors(
    out: &mut String,
    errors: &[PlanError],
    held: Option<&std::collections::BTreeMap<crate::address::Address, String>>,
    p: &Painter,
) {
    if errors.is_empty() {
        return;
    }
    for (i, error) in errors.iter().enumerate() {
        if i > 0 || !out.is_empty() {
            out.push('\n');
        }
        if error.address.as_str().is_empty() {
            let _ = writeln!(out, "{} {}", p.error("Error:"), error.message);
        } else {
            let _ = writeln!(
                out,
                "{} {}: {}",
                p.error("Error:"),
                p.bold(error.address.as_str()),
                error.message
            );
        }
        if let Some(help) = &error.help {
            let _ = writeln!(out, "  {} {help}", p.help("help:"));
        }
    }
    let n = errors.len();
    if !errors.is_empty() && held.is_some() {
        let _ = write!(
            out,
            "\napply holds {} and what depends on {}, and makes the other changes; fix {} to apply everything.\n",
            if n == 1 { "this change".to_string() } else { format!("these {n} changes") },
            if n == 1 { "it" } else { "them" },
            if n == 1 { "it" } else { "them" },
        );
        return;
    }
    let _ = write!(
        out,
        "\ndrplan cannot apply this plan: fix the {} above and plan again.\n",
        if n == 1 {
            "error".to_string()
        } else {
            format!("{n} errors")
        }
    );
}

/// A drift report for a terminal or a CI log.
pub fn drift(report: &DriftReport, opts: &TextOptions) -> String {
    let mut out = drift_only(report, opts);
    if let Some(unmanaged) = &report.unmanaged {
        let p = Painter(opts.color);
        let _ = write!(
            out,
            "\n{} ({} object{} no drplan stack marks; information, not drift — an `import` block takes one over):\n",
            p.bold("Unmanaged"),
            unmanaged.len(),
            if unmanaged.len() == 1 { "" } else { "s" }
        );
        for u in unmanaged {
            let place: String = [u.within.as_deref(), u.region.as_deref()]
                .into_iter()
                .flatten()
                .map(|p| format!(", {p}"))
                .collect();
            let _ = writeln!(out, "  {} ({}{place})", p.bold(&u.id), u.kind.type_name());
        }
    }
    out
}

fn drift_only(report: &DriftReport, opts: &TextOptions) -> String {
    let p = Painter(opts.color);
    let mut out = String::new();
    if report.in_sync() {
        let _ = writeln!(
            out,
            "No drift: the cloud matches the spec (stack {}, environment {}).",
            report.stack, report.environment
        );
        return out;
    }
    let counts: Vec<String> = Cause::ALL
        .iter()
        .map(|&c| format!("{} {}", report.count(c), c.name()))
        .collect();
    out.push_str(&outage::not_read(report, |t| p.error(t)));
    let _ = writeln!(
        out,
        "Drift in stack {}, environment {}: {}.",
        report.stack,
        report.environment,
        counts.join(", ")
    );
    for cause in [Cause::Drifted, Cause::Missing, Cause::Orphaned] {
        let items = report.items(cause);
        if items.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "\n{} ({}):\n",
            p.bold(&capitalized(cause.name())),
            cause.description()
        );
        for item in items {
            render_drift_item(&mut out, item, &p);
        }
    }
    if !report.conflicts.is_empty() {
        let _ = write!(
            out,
            "\n{} ({}):\n",
            p.bold("Conflicts"),
            Cause::Conflict.description()
        );
        for error in &report.conflicts {
            let address = if error.address.as_str().is_empty() {
                "-"
            } else {
                error.address.as_str()
            };
            let _ = writeln!(
                out,
                "  {} {}: {}",
                p.error("!"),
                p.bold(address),
                error.message
            );
            if let Some(help) = &error.help {
                let _ = writeln!(out, "      {} {help}", p.help("help:"));
            }
        }
    }
    out
}

fn render_drift_item(out: &mut String, item: &DriftItem, p: &Painter) {
    let mut place = vec![item.kind.type_name().to_string()];
    if let Some(site) = &item.site {
        place.push(format!("site {site}"));
    }
    if let Some(region) = &item.region {
        place.push(region.clone());
    }
    if let Some(id) = &item.live_id {
        place.push(format!("id {id}"));
    }
    let _ = writeln!(
        out,
        "  {} ({})",
        p.bold(item.address.as_str()),
        place.join(", ")
    );
    for difference in &item.differences {
        let _ = writeln!(out, "      {}", difference.summary());
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// ANSI styling that disappears when colour is off.
struct Painter(bool);

impl Painter {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn symbol(&self, symbol: &str) -> String {
        match symbol {
            "+" => self.paint("32", "+"),
            "-" => self.paint("31", "-"),
            "~" => self.paint("33", "~"),
            "-/+" => format!("{}/{}", self.paint("31", "-"), self.paint("32", "+")),
            other => other.to_string(),
        }
    }

    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    fn error(&self, text: &str) -> String {
        self.paint("1;31", text)
    }

    fn help(&self, text: &str) -> String {
        self.paint("36", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_wins_over_a_terminal() {
        assert!(TextOptions::for_terminal(true, None).color);
        assert!(TextOptions::for_terminal(true, Some("")).color);
        assert!(!TextOptions::for_terminal(true, Some("1")).color);
        assert!(!TextOptions::for_terminal(false, None).color);
    }
}
