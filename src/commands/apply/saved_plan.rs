//! `apply FILE`: the plan executed is the one the spec and live state produce now; the
//! file only approves it. A file that says anything else — an edited attribute, an
//! added delete, a protection turned off — is refused, naming each difference.

use anyhow::bail;
use drplan_core::plan::approve::differences;
use drplan_core::plan::Plan;

/// Differences listed before the rest are only counted.
const SHOWN_DIFFERENCES: usize = 20;

/// The fresh plan, when `saved` approves exactly it. Errors recorded in the file still
/// stop the apply when the fresh plan has none of its own.
pub fn approved(saved: Plan, fresh: Plan) -> anyhow::Result<Plan> {
    let found = differences(&saved, &fresh);
    if !found.is_empty() {
        let mut lines: Vec<String> = found
            .iter()
            .take(SHOWN_DIFFERENCES)
            .map(|d| format!("  {d}"))
            .collect();
        if found.len() > SHOWN_DIFFERENCES {
            lines.push(format!("  … and {} more", found.len() - SHOWN_DIFFERENCES));
        }
        bail!(
            "the saved plan differs from the plan the spec and live state produce now, so nothing was applied \
             (a plan file approves a plan; it cannot change one):\n{}\nrun `drplan plan -e {} --out FILE` again, review it, and apply that file",
            lines.join("\n"),
            fresh.environment
        );
    }
    let mut plan = fresh;
    if plan.errors.is_empty() {
        plan.errors = saved.errors;
    }
    Ok(plan)
}
