//! `lifecycle { ignore_changes = [...] }` in a node group or a `kubernetes` block, as
//! Terraform's: what another controller owns (a node group's desired size under the
//! cluster autoscaler, a Deployment's replicas under an HPA) is not drift, and apply
//! leaves it as it is (`plan::ignore`).

use super::Cx;
use crate::spec::body::{self, BlockBody, Schema};

pub const LIFECYCLE: Schema = Schema::new(&["ignore_changes"], &[]);

/// The `ignore_changes` of `b`'s `lifecycle` block (none without one), each checked by
/// `check` (an error names the entry and why).
pub fn ignore_changes(
    b: &BlockBody,
    cx: &mut Cx,
    check: impl Fn(&str) -> Result<(), String>,
    help: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    for block in b.nested("lifecycle").collect::<Vec<_>>() {
        let mut l = body::read(b.file, block, &LIFECYCLE, cx.scope, cx.ctx, cx.diags);
        let paths = l
            .string_list(cx.diags, "ignore_changes")
            .unwrap_or_default();
        for p in paths {
            match check(&p) {
                Ok(()) => out.push(p),
                Err(why) => l.invalid(
                    cx.diags,
                    "drplan::invalid_value",
                    "ignore_changes",
                    format!("ignore_changes cannot name `{p}`: {why}"),
                    help,
                ),
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
