//! Route53 as an apply shares it, below `context`, `record_batch` and `route53` (which
//! all use it and none of which it uses): the account's request rate, one lock per
//! DNS name for the read-merge-write of its ownership TXT record, the zone ids looked
//! up once — and the requests that read and write ownership records.

use crate::aws::error::aws_error;
use crate::aws::RateLimiter;
use crate::live::route53::decode_name;
use anyhow::{anyhow, Result};
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use drplan_core::marks;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// TTL of the ownership TXT records.
const OWNER_TTL: i64 = 300;

/// One async lock per (zone, record name) for the ownership TXT read-merge-write.
type OwnerRecordLocks = HashMap<(String, String), Arc<tokio::sync::Mutex<()>>>;

pub struct Route53Session {
    /// Every Route53 request of the apply takes a turn here: the account's 5 requests
    /// per second are shared by everyone, and exceeding them throttles all callers.
    rate: RateLimiter,
    /// Ownership TXT records are shared by every record set of one name (failover
    /// primary + secondary), so their read-merge-write must not interleave: one lock
    /// per zone and name (one lock for all names made a DR flip of many names serial).
    owner_locks: Mutex<OwnerRecordLocks>,
    /// Hosted zone ids by zone name, looked up once.
    pub zone_ids: tokio::sync::Mutex<HashMap<String, String>>,
}

impl Route53Session {
    pub fn new(requests_per_second: u32) -> Self {
        Route53Session {
            rate: RateLimiter::per_second(requests_per_second),
            owner_locks: Mutex::new(HashMap::new()),
            zone_ids: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The request rate (`apply --route53-requests-per-second`).
    pub fn set_rate(&mut self, requests_per_second: u32) {
        self.rate = RateLimiter::per_second(requests_per_second);
    }

    /// Waits until one more Route53 request fits in the rate.
    pub async fn turn(&self) {
        self.rate.wait().await;
    }

    /// Holds the ownership records of one DNS name while its guard lives.
    pub async fn lock_owner_records(
        &self,
        zone: &str,
        name: &str,
    ) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self
                .owner_locks
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            locks
                .entry((zone.to_string(), name.trim_end_matches('.').to_string()))
                .or_default()
                .clone()
        };
        lock.lock_owned().await
    }
}

/// A Route53 client and the apply's session: what every request needs.
#[derive(Clone)]
pub struct Route53Access<'a> {
    pub client: aws_sdk_route53::Client,
    pub session: &'a Route53Session,
}

pub(super) fn build_err(
    what: &'static str,
) -> impl FnOnce(aws_smithy_types::error::operation::BuildError) -> anyhow::Error {
    move |e| anyhow!("invalid {what}: {e}")
}

pub(super) fn with_dot(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

fn owner_name(name: &str) -> String {
    format!("{}{}", marks::DNS_OWNER_PREFIX, with_dot(name))
}

/// How the ownership TXT record of record name `name` is known in a zone snapshot
/// (DNS names are case-insensitive).
pub fn owner_key(name: &str) -> String {
    owner_name(name).to_ascii_lowercase()
}

fn is_owner_set_of(set: &ResourceRecordSet, key: &str) -> bool {
    set.r#type() == &RrType::Txt && decode_name(set.name()).to_ascii_lowercase() == key
}

/// The ownership TXT record of `name`, exactly as Route53 holds it.
pub async fn owner_set_of(
    r53: &Route53Access<'_>,
    zone_id: &str,
    name: &str,
) -> Result<Option<ResourceRecordSet>> {
    let key = owner_key(name);
    r53.session.turn().await;
    let out = r53
        .client
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .start_record_name(owner_name(name))
        .start_record_type(RrType::Txt)
        .max_items(1)
        .send()
        .await
        .map_err(aws_error("ListResourceRecordSets"))?;
    Ok(out
        .resource_record_sets()
        .iter()
        .find(|s| is_owner_set_of(s, &key))
        .cloned())
}

/// ListResourceRecordSets pages hold at most 300 record sets.
const RECORD_PAGE: i32 = 300;

/// Every ownership TXT record of a zone, by [`owner_key`]: one paginated listing
/// (ownership names are spread over the zone's DNS order, not contiguous).
pub async fn list_owner_sets(
    r53: &Route53Access<'_>,
    zone_id: &str,
) -> Result<HashMap<String, ResourceRecordSet>> {
    let mut found = HashMap::new();
    let mut next: Option<(String, Option<RrType>, Option<String>)> = None;
    loop {
        let mut request = r53
            .client
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .max_items(RECORD_PAGE);
        if let Some((name, rtype, set_id)) = next.clone() {
            request = request
                .start_record_name(name)
                .set_start_record_type(rtype)
                .set_start_record_identifier(set_id);
        }
        r53.session.turn().await;
        let page = request
            .send()
            .await
            .map_err(aws_error("ListResourceRecordSets"))?;
        for set in page.resource_record_sets() {
            let key = decode_name(set.name()).to_ascii_lowercase();
            if set.r#type() == &RrType::Txt && key.starts_with(marks::DNS_OWNER_PREFIX) {
                found.insert(key, set.clone());
            }
        }
        match (page.is_truncated(), page.next_record_name()) {
            (true, Some(name)) => {
                let following = Some((
                    name.to_string(),
                    page.next_record_type().cloned(),
                    page.next_record_identifier().map(str::to_string),
                ));
                // A server that ignores the start name would hand back the same page
                // forever.
                if following == next {
                    return Err(anyhow!(
                        "listing the record sets of zone {zone_id} did not advance past {name}"
                    ));
                }
                next = following;
            }
            _ => return Ok(found),
        }
    }
}

/// The ownership TXT record set of `name` holding `values`.
pub fn owner_record_set(name: &str, values: &[String]) -> Result<ResourceRecordSet> {
    let mut set = ResourceRecordSet::builder()
        .name(owner_name(name))
        .r#type(RrType::Txt)
        .ttl(OWNER_TTL);
    for v in values {
        set = set.resource_records(
            ResourceRecord::builder()
                .value(v)
                .build()
                .map_err(build_err("TXT value"))?,
        );
    }
    set.build().map_err(build_err("TXT record"))
}

pub fn change_of(action: ChangeAction, set: ResourceRecordSet) -> Result<Change> {
    Change::builder()
        .action(action)
        .resource_record_set(set)
        .build()
        .map_err(build_err("change"))
}

/// One atomic ChangeResourceRecordSets, on apply's Route53 request budget.
pub async fn send_changes(
    r53: &Route53Access<'_>,
    zone_id: &str,
    changes: Vec<Change>,
) -> Result<()> {
    let batch = ChangeBatch::builder()
        .set_changes(Some(changes))
        .build()
        .map_err(build_err("change batch"))?;
    r53.session.turn().await;
    r53.client
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(batch)
        .send()
        .await
        .map_err(aws_error("ChangeResourceRecordSets"))?;
    Ok(())
}
