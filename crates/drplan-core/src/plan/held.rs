//! Conflicts that hold one change instead of the whole plan. A protected object the
//! plan would destroy (an orphan, or a replacement) is reported as an error, but the
//! plan's other changes can still be applied: apply holds the protected change, and
//! whatever depends on it, and makes the rest — a protected orphan no longer blocks
//! every other repair. Any other error (a cloud that could not be read, an object of
//! another stack, two blocks naming one object) still refuses the whole plan.

use super::{Action, Plan};
use crate::address::Address;
use std::collections::BTreeMap;

/// The changes to hold and why, when every error of `plan` can be held; `None` when
/// some error refuses the whole plan. Empty when the plan has no errors.
pub fn held(plan: &Plan) -> Option<BTreeMap<Address, String>> {
    let mut out = BTreeMap::new();
    for e in &plan.errors {
        let holdable = plan.changes.iter().any(|c| {
            c.address == e.address
                && c.protect
                && matches!(c.action, Action::Delete | Action::Replace)
        });
        if !holdable {
            return None;
        }
        out.insert(e.address.clone(), e.message.clone());
    }
    Some(out)
}
