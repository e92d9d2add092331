//! The "Objectives" section printed after a plan (and by validate/drift). Plain text,
//! no colour: it reads the same in a terminal, a CI log or a pull-request comment.

use super::rto::render_path;
use super::{human_duration, Check, ObjectivesReport, Verdict};
use std::fmt::Write;
use std::time::Duration;

/// `allow_breach`: the run was given `--allow-objective-breach`, failures are shown
/// as allowed.
pub fn render(report: &ObjectivesReport, allow_breach: bool) -> String {
    let mut out = String::new();
    let mut heading = "Objectives".to_string();
    let overall: Vec<String> = [("RTO", report.rto_seconds), ("RPO", report.rpo_seconds)]
        .into_iter()
        .filter_map(|(n, s)| s.map(|s| format!("{n} {}", human_duration(Duration::from_secs(s)))))
        .collect();
    if !overall.is_empty() {
        let _ = write!(heading, " ({})", overall.join(", "));
    }
    let _ = writeln!(out, "{heading}:");
    if report.checks.is_empty() {
        let _ = writeln!(
            out,
            "  nothing to check: no objectives block and no backup policies"
        );
        return out;
    }
    let _ = writeln!(out);

    let name_w = report
        .checks
        .iter()
        .map(|c| c.name.as_str().len())
        .max()
        .unwrap_or(0);
    let comp_w = report
        .checks
        .iter()
        .map(|c| component(c).len())
        .max()
        .unwrap_or(0);
    let indent = " ".repeat(2 + 4 + 2 + name_w + 2 + comp_w + 2);
    for c in &report.checks {
        let _ = writeln!(
            out,
            "  {:<4}  {:<name_w$}  {:<comp_w$}  {}",
            verdict_word(c.verdict),
            c.name.as_str(),
            component(c),
            c.numbers
        );
        if !c.path.is_empty() {
            let _ = writeln!(out, "{indent}critical path: {}", render_path(&c.path));
        }
        for d in &c.details {
            let _ = writeln!(out, "{indent}{d}");
        }
        if c.verdict != Verdict::Pass {
            if let Some(s) = &c.source {
                let _ = writeln!(out, "{indent}at {}:{}:{}", s.file, s.line, s.column);
            }
        }
    }

    let count = |v: Verdict| report.checks.iter().filter(|c| c.verdict == v).count();
    let (fail, warn, pass) = (
        count(Verdict::Fail),
        count(Verdict::Warn),
        count(Verdict::Pass),
    );
    let _ = writeln!(out);
    let mut summary = format!(
        "Objectives: {fail} breached, {warn} {}, {pass} met.",
        if warn == 1 { "warning" } else { "warnings" }
    );
    if fail > 0 && allow_breach {
        summary.push_str(" Breaches allowed for this run (--allow-objective-breach).");
    }
    let _ = writeln!(out, "{summary}");
    out
}

pub(super) fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "ok",
        Verdict::Warn => "WARN",
        Verdict::Fail => "FAIL",
    }
}

fn component(c: &Check) -> &str {
    c.component.as_deref().unwrap_or("(overall)")
}

/// The same report as a markdown section (drift's `--format markdown`): a table, one
/// row per check, with the critical path and details under it.
pub fn markdown(report: &ObjectivesReport, allow_breach: bool) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = String::from("### Objectives\n\n");
    if report.checks.is_empty() {
        out.push_str("Nothing to check: no objectives block and no backup policies.\n");
        return out;
    }
    out.push_str(
        "| verdict | check | component | measured | where |\n| --- | --- | --- | --- | --- |\n",
    );
    for c in &report.checks {
        let mut numbers = cell(&c.numbers);
        if !c.path.is_empty() {
            numbers.push_str(&format!(
                "<br>critical path: {}",
                cell(&render_path(&c.path))
            ));
        }
        for d in &c.details {
            numbers.push_str(&format!("<br>{}", cell(d)));
        }
        let at = match (&c.source, c.verdict) {
            (Some(s), v) if v != Verdict::Pass => format!("`{}:{}:{}`", s.file, s.line, s.column),
            _ => String::new(),
        };
        let verdict = match c.verdict {
            Verdict::Pass => "ok",
            Verdict::Warn => "**WARN**",
            Verdict::Fail => "**FAIL**",
        };
        let _ = writeln!(
            out,
            "| {verdict} | {} | {} | {numbers} | {at} |",
            c.name.as_str(),
            cell(component(c))
        );
    }
    let fail = report
        .checks
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .count();
    let _ = writeln!(
        out,
        "\n{fail} breached{}.",
        if fail > 0 && allow_breach {
            " (allowed for this run: --allow-objective-breach)"
        } else {
            ""
        }
    );
    out
}
