//! Moving drplan's address mark to a renamed block's new address (`moved_from` on an
//! update). Only the `drplan:address` mark is written: the other tags are the update's
//! business, and an object already marked with the new address is left as it is, so a
//! rerun after a crash converges. Each kind's applier writes its own mark
//! (`family::Applier::remark`); Kubernetes objects and DNS records need nothing here —
//! the manifest carries the new address annotation, and a record's upsert swaps its
//! ownership TXT entry in the same write.

use super::context::ApplyContext;
use super::family;
use anyhow::{anyhow, Result};
use drplan_core::plan::ResourceChange;

/// Rewrites the address mark of the live object `change` acts on. A no-op when the
/// change did not move.
pub async fn remark(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
    if change.moved_from.is_none() {
        return Ok(());
    }
    let id = ctx
        .outputs
        .get(&change.address)
        .or_else(|| change.live_id.clone())
        .ok_or_else(|| {
            anyhow!(
                "{}: the plan does not say which live object to re-mark (no live id)",
                change.address
            )
        })?;
    family::applier(change.kind).remark(ctx, change, &id).await
}
