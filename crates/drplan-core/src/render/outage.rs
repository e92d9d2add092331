//! What a plan says about sites that did not answer (docs/outage.md): a banner
//! naming them before the changes, the deferred objects after them. Text only; the
//! JSON renderer writes the same two lists (`unreachable`, `deferred`).

use crate::plan::drift::DriftReport;
use crate::plan::{Deferred, Plan};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The lines that open the plan when a place did not answer; empty otherwise.
/// `warn` paints the first word.
pub fn banner(plan: &Plan, warn: impl Fn(&str) -> String) -> String {
    if plan.unreachable.is_empty() {
        return String::new();
    }
    let sites = plan.unreachable_sites();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} {} did not answer; nothing there was read:",
        warn("Unreachable:"),
        if sites.len() == 1 { "site" } else { "sites" },
        sites.join(", ")
    );
    for u in &plan.unreachable {
        let _ = writeln!(out, "  - {}", u.reason());
    }
    if plan.errors.is_empty() {
        let _ = writeln!(
            out,
            "This plan changes only what answered: {} objects of the spec there are deferred (listed below) \
             and nothing is created or deleted there.",
            plan.deferred.len()
        );
    }
    out.push('\n');
    out
}

/// The deferred objects, one section per site and reason, and a count line; empty
/// when nothing was deferred. `heading` paints section titles.
pub fn deferred(plan: &Plan, heading: impl Fn(&str) -> String) -> String {
    if plan.deferred.is_empty() {
        return String::new();
    }
    let mut groups: BTreeMap<(String, &str), Vec<&Deferred>> = BTreeMap::new();
    for d in &plan.deferred {
        let site = match (&d.site, &d.region) {
            (Some(site), Some(region)) => format!("site {site} ({region})"),
            (Some(site), None) => format!("site {site}"),
            (None, Some(region)) => format!("region {region}"),
            (None, None) => "global".to_string(),
        };
        groups.entry((site, d.reason.as_str())).or_default().push(d);
    }
    let mut out = String::new();
    for ((site, reason), items) in groups {
        let _ = write!(
            out,
            "\n{}\n",
            heading(&format!("# {site}: deferred, not read ({reason})"))
        );
        for d in items {
            let _ = writeln!(
                out,
                "  ? {} ({}) not read; left alone until it answers",
                d.address, d.kind
            );
        }
    }
    let _ = write!(
        out,
        "\nDeferred: {} objects in {}, which did not answer; plan again once it does.\n",
        plan.deferred.len(),
        plan.unreachable_sites().join(", ")
    );
    out
}

/// The drift report's opening lines when a place did not answer: what was not
/// compared, so that no one reads the rest as the whole truth.
pub fn not_read(report: &DriftReport, warn: impl Fn(&str) -> String) -> String {
    if report.unreachable.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} objects of the spec were not compared, because these did not answer:",
        warn("Not read:"),
        report.not_read
    );
    for u in &report.unreachable {
        let _ = writeln!(out, "  - {}", u.reason());
    }
    out.push('\n');
    out
}

/// The line under the objectives when a site did not answer: they are computed from
/// the spec, and nothing live was read from that site. Empty otherwise.
pub fn objectives_note(plan: &Plan) -> String {
    if plan.unreachable.is_empty() {
        return String::new();
    }
    format!(
        "Objectives not checked against live evidence from {} (did not answer); the checks above read the spec only.\n",
        plan.unreachable_sites().join(", ")
    )
}
