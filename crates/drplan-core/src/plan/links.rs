//! Links: settings of an object that point at other objects which may point back — a
//! bucket's replication rules name their destination buckets, and two buckets may
//! replicate to each other (S3's active/active); its access logging names the bucket
//! that receives its logs (which may log back into it). A link is no ordering edge of the
//! object itself: apply puts it as a step of its own, after the object and what it
//! points at (`src/apply/steps.rs`, `Phase::Link`).

use super::{Action, Plan, ResourceChange};
use crate::address::Address;
use crate::resource::Kind;
use serde_json::{Map, Value};

/// The names of the buckets a bucket's replication rules copy to (`attrs` in the
/// normalized form of `Kind::Bucket`).
pub fn replication_destinations(attrs: &Map<String, Value>) -> impl Iterator<Item = &str> {
    attrs
        .get("replication")
        .and_then(|r| r.get("rules"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|rule| rule.get("destination_bucket").and_then(Value::as_str))
}

/// The attributes of `Kind::Bucket` put in its link step, not with the bucket.
pub const LINK_ATTRS: [&str; 2] = ["replication", "logging"];

/// The names of every bucket a bucket's links point at: replication destinations and
/// the access-log target.
pub fn linked_buckets(attrs: &Map<String, Value>) -> impl Iterator<Item = &str> {
    let log_target = attrs
        .get("logging")
        .and_then(|l| l.get("target_bucket"))
        .and_then(Value::as_str);
    replication_destinations(attrs).chain(log_target)
}

/// The addresses of the changes `change`'s links point at (in its new form), among
/// the plan's changes that are not no-ops.
pub fn targets<'p>(plan: &'p Plan, change: &ResourceChange) -> Vec<&'p Address> {
    let Some(after) = change
        .after
        .as_ref()
        .filter(|_| change.kind == Kind::Bucket)
    else {
        return Vec::new();
    };
    linked_buckets(after)
        .filter_map(|name| {
            plan.changes.iter().find(|c| {
                c.kind == Kind::Bucket
                    && c.action != Action::NoOp
                    && c.address != change.address
                    && c.after
                        .as_ref()
                        .and_then(|a| a.get("name"))
                        .and_then(Value::as_str)
                        == Some(name)
            })
        })
        .map(|c| &c.address)
        .collect()
}
