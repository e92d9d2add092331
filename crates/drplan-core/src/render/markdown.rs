//! Markdown drift reports, for a CI job summary (`$GITHUB_STEP_SUMMARY`) or a pull
//! request comment: a heading, a table of counts by cause, then one table per cause.

use crate::plan::drift::{Cause, DriftItem, DriftReport};
use std::fmt::Write;

pub fn drift(report: &DriftReport) -> String {
    let mut out = drift_only(report);
    if let Some(unmanaged) = &report.unmanaged {
        let _ = writeln!(
            out,
            "\n### Unmanaged\n\n{} object{} no drplan stack marks (information, not drift).\n",
            unmanaged.len(),
            plural(unmanaged.len())
        );
        if !unmanaged.is_empty() {
            out.push_str("| type | id | where | region |\n| --- | --- | --- | --- |\n");
            for u in unmanaged {
                let _ = writeln!(
                    out,
                    "| {} | `{}` | {} | {} |",
                    u.kind.type_name(),
                    code_text(&u.id),
                    u.within.as_deref().unwrap_or("-"),
                    u.region.as_deref().unwrap_or("-")
                );
            }
        }
    }
    out
}

fn drift_only(report: &DriftReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## drplan drift: stack `{}`, environment `{}`\n",
        code_text(&report.stack),
        code_text(&report.environment)
    );
    if report.in_sync() {
        out.push_str("**In sync.** The cloud matches the spec.\n");
        return out;
    }
    for u in &report.unreachable {
        let _ = writeln!(out, "**Not read:** {}\n", u.reason());
    }
    let objects = report.drifted.len() + report.missing.len() + report.orphaned.len();
    let _ = writeln!(
        out,
        "**{objects} object{} out of sync, {} conflict{}.**\n",
        plural(objects),
        report.conflicts.len(),
        plural(report.conflicts.len())
    );
    out.push_str("| cause | count | meaning |\n| --- | ---: | --- |\n");
    for cause in Cause::ALL {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            cause.name(),
            report.count(cause),
            cause.description()
        );
    }
    for cause in [Cause::Drifted, Cause::Missing, Cause::Orphaned] {
        let items = report.items(cause);
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### {} ({})\n", title(cause), items.len());
        let what = match cause {
            Cause::Drifted => "what differs (live → spec)",
            _ => "what differs",
        };
        let _ = writeln!(
            out,
            "| address | type | site | {what} |\n| --- | --- | --- | --- |"
        );
        for item in items {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                code(item.address.as_str()),
                code(item.kind.type_name()),
                cell(&site(item)),
                what_differs(cause, item)
            );
        }
    }
    if !report.conflicts.is_empty() {
        let _ = writeln!(out, "\n### Conflicts ({})\n", report.conflicts.len());
        out.push_str("| address | problem | help |\n| --- | --- | --- |\n");
        for error in &report.conflicts {
            let address = if error.address.as_str().is_empty() {
                "-".to_string()
            } else {
                code(error.address.as_str())
            };
            let _ = writeln!(
                out,
                "| {address} | {} | {} |",
                cell(&error.message),
                cell(error.help.as_deref().unwrap_or(""))
            );
        }
    }
    out
}

fn title(cause: Cause) -> &'static str {
    match cause {
        Cause::Drifted => "Drifted",
        Cause::Missing => "Missing",
        Cause::Orphaned => "Orphaned",
        Cause::Conflict => "Conflicts",
    }
}

fn site(item: &DriftItem) -> String {
    match (&item.site, &item.region) {
        (Some(site), Some(region)) => format!("{site} ({region})"),
        (Some(site), None) => site.clone(),
        (None, Some(region)) => region.clone(),
        (None, None) => "global".to_string(),
    }
}

fn what_differs(cause: Cause, item: &DriftItem) -> String {
    match cause {
        Cause::Missing => "not in the cloud: apply creates it".to_string(),
        Cause::Orphaned => match &item.live_id {
            Some(id) => format!("{} is not in the spec: apply deletes it", code(id)),
            None => "not in the spec: apply deletes it".to_string(),
        },
        _ => item
            .differences
            .iter()
            .map(|d| code(&d.summary()))
            .collect::<Vec<_>>()
            .join("<br>"),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Table cells cannot hold a raw `|` or a line break.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', "<br>")
}

/// A code span inside a table cell. A value holding a backtick falls back to plain
/// text: a code span cannot contain its own delimiter in a simple way.
fn code(text: &str) -> String {
    if text.contains('`') {
        cell(text)
    } else {
        format!("`{}`", cell(text))
    }
}

fn code_text(text: &str) -> String {
    text.replace('`', "'")
}
