//! Why a change has its action, beyond the attributes that differ: OpenTofu's
//! `action_reason`. Derived from the change (not stored), so it costs no memory and
//! a saved plan file reads back with the same reason.

use super::diff::REPLACE_REQUESTED;
use super::{Action, ResourceChange};

/// The one reason a change is shown with; the first that applies, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionReason {
    /// `--replace` asked for it (OpenTofu's `replace_by_request`).
    ReplaceByRequest,
    /// A force-new attribute differs (OpenTofu's `replace_because_cannot_update`).
    ReplaceBecauseCannotUpdate,
    /// An existing object is brought under drplan by an `import` block.
    Imported,
    /// An object created by an interrupted apply of this stack, not marked yet.
    Adopted,
    /// A renamed block: the object's mark moves to the new address.
    Moved,
}

impl ActionReason {
    /// The reason of one change, if its action needs one.
    pub fn of(change: &ResourceChange) -> Option<Self> {
        let requested = change
            .replace_because
            .iter()
            .any(|a| a == REPLACE_REQUESTED);
        if change.action == Action::Replace || requested {
            return Some(if requested {
                ActionReason::ReplaceByRequest
            } else {
                ActionReason::ReplaceBecauseCannotUpdate
            });
        }
        if change.import_id.is_some() {
            Some(ActionReason::Imported)
        } else if change.adopt {
            Some(ActionReason::Adopted)
        } else if change.moved_from.is_some() {
            Some(ActionReason::Moved)
        } else {
            None
        }
    }

    /// The name plan JSON gives it (`action_reason`). Only the reason the JSON has
    /// always carried is named there; the others are shown by the text renderer's
    /// own comment lines and the change's fields (`importing`, `previous_address`).
    pub fn json_name(self) -> Option<&'static str> {
        match self {
            ActionReason::ReplaceByRequest => Some("replace_by_request"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_requested_replace_is_replace_by_request() {
        assert_eq!(
            ActionReason::ReplaceByRequest.json_name(),
            Some("replace_by_request")
        );
        assert_eq!(ActionReason::Moved.json_name(), None);
    }
}
