//! Finishing what an interrupted create started.
//!
//! Before a create whose marks take a second call (bucket, hosted zone, health check),
//! [`announce`] writes a write-ahead record (`crate::inflight`) next to the lock;
//! [`confirm`] deletes it once the marks are set. A plan that finds the unmarked
//! object a record names plans an update with `adopt` set, and [`mark`] writes the
//! marks before anything else, then deletes the record.
//!
//! Without a lock bucket there is nowhere to keep records: creates run as before, and
//! an object left unmarked by a crash is refused by the next plan.

use super::attrs::{tags_with_marks, Attrs};
use super::context::ApplyContext;
use anyhow::{anyhow, Result};
use drplan_core::address::Address;
use drplan_core::live::InflightCreate;
use drplan_core::plan::ResourceChange;
use drplan_core::resource::identity;

/// Records that `change`'s object is about to be created. A failure stops the create:
/// without the record, a crash before the marks would wedge the stack.
pub async fn announce(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
    let Some(settings) = &ctx.inflight else {
        return Ok(());
    };
    let after = Attrs::after(change)?;
    let create = InflightCreate {
        address: change.address.clone(),
        kind: change.kind,
        identity: identity(
            change.kind,
            change.region.as_deref(),
            &change.address,
            after.map,
        ),
    };
    let s3 = ctx.clients.s3(&settings.region);
    crate::inflight::write(&s3, &settings.bucket, ctx.stack, &create)
        .await
        .map_err(|e| {
            anyhow!(
                "{}: could not record the create before making it: {e:#}",
                change.address
            )
        })
}

/// Forgets the record of `address`: its object is marked. A record that cannot be
/// deleted is harmless (it only ever lets an unmarked object be adopted), so this
/// warns instead of failing the step.
pub async fn confirm(ctx: &ApplyContext<'_>, address: &Address) {
    let Some(settings) = &ctx.inflight else {
        return;
    };
    let s3 = ctx.clients.s3(&settings.region);
    if let Err(e) = crate::inflight::clear(&s3, &settings.bucket, ctx.stack, address).await {
        eprintln!("warning: {address}: could not delete its record of a create in flight: {e:#}");
    }
}

/// Writes both marks (and the spec's tags) on the adopted object of `change`, then
/// forgets its record.
pub async fn mark(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
    let after = Attrs::after(change)?;
    let id = ctx.outputs.get(&change.address).ok_or_else(|| {
        anyhow!(
            "{}: the plan does not say which live object to adopt (no live id)",
            change.address
        )
    })?;
    let tags = tags_with_marks(ctx.stack, &change.address, &after.str_map("tags"));
    super::family::applier(change.kind)
        .mark(ctx, change, &id, tags)
        .await?;
    confirm(ctx, &change.address).await;
    Ok(())
}
