//! Group commit of record upserts, per hosted zone.
//!
//! Route53 allows 5 requests per second per account, and a DR flip changes every
//! failover record at once. Record upserts therefore do not send their own request:
//! each submits its change to its zone's queue and awaits the outcome. The first
//! submitter becomes the zone's leader and sends at once; whatever arrives while that
//! ChangeResourceRecordSets is in flight queues, and the next leader (the first queued
//! submitter) sends all of it in the next request. No timers: a lone change is never
//! held back.
//!
//! Ownership TXT records (`_drplan.<name>`) are read once per zone and apply (one
//! paginated listing) instead of once per record, and the snapshot follows what this
//! apply writes. A TXT is rewritten as DELETE(the exact value in the snapshot) +
//! CREATE(new value): Route53 applies a batch atomically and rejects it when the
//! DELETE does not match, so a value someone else wrote since the snapshot is never
//! overwritten. When a batch fails for any reason, every record in it falls back to
//! the per-record path (lock the name, read its TXT, UPSERT), so a bad record fails
//! only its own step and a stale snapshot converges.
//!
//! **Architecture invariant:** only holders of a name's lock
//! (`Route53Session::lock_owner_records`) change that name's TXT or its snapshot
//! entry; a leader takes the locks of its batch's names in sorted order, and never
//! waits for a name lock while it holds the snapshot.

use super::dns_owner::{
    change_of, list_owner_sets, owner_key, owner_record_set, owner_set_of, send_changes,
    Route53Access,
};
use anyhow::{anyhow, Result};
use aws_sdk_route53::types::{Change, ChangeAction, ResourceRecordSet};
use drplan_core::address::Address;
use drplan_core::marks;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::oneshot;

/// Route53's bounds on one ChangeResourceRecordSets: 1,000 ResourceRecord elements and
/// 32,000 characters of values, where the values of an UPSERT count twice.
pub const MAX_BATCH_RECORDS: usize = 1_000;
pub const MAX_BATCH_CHARS: usize = 32_000;

/// One record upsert waiting for its zone's next request.
#[derive(Clone, Debug)]
pub struct RecordUpsert {
    pub address: Address,
    /// The record's name, with its final dot.
    pub name: String,
    pub record: ResourceRecordSet,
    /// This record's value in its name's ownership TXT record.
    pub owner_value: String,
    /// The address this record had before its block was renamed: its ownership entry
    /// goes in the same write that adds the new one, so the record never has two owners.
    pub moved_from: Option<Address>,
}

impl RecordUpsert {
    /// Whether `value` (one value of the name's TXT record) is this record's entry, under
    /// its address or the one it moved from.
    pub fn owns(&self, value: &str) -> bool {
        marks::parse_dns_owner_value(value).is_some_and(|(_, a, _, _)| {
            a == self.address.as_str() || self.moved_from.as_ref().is_some_and(|m| a == m.as_str())
        })
    }
}

#[derive(Debug)]
pub enum Committed {
    Written,
    /// Not written by a batch: the caller writes it alone (and reports that error if
    /// writing alone fails too).
    FallBack(anyhow::Error),
}

enum Reply {
    Done(Committed),
    /// The previous leader is done: lead the next request, starting with this change.
    Lead(Box<RecordUpsert>),
}

struct Pending {
    upsert: RecordUpsert,
    reply: oneshot::Sender<Reply>,
}

#[derive(Default)]
struct Queue {
    pending: Vec<Pending>,
    leading: bool,
}

/// The zone's ownership TXT record sets by [`owner_key`], as this apply last saw or
/// wrote them; a `stale` name is re-read before it is next written.
#[derive(Default)]
struct OwnerSnapshot {
    sets: HashMap<String, ResourceRecordSet>,
    stale: HashSet<String>,
}

#[derive(Default)]
struct ZoneBatcher {
    queue: Mutex<Queue>,
    owners: tokio::sync::Mutex<Option<OwnerSnapshot>>,
}

/// The per-zone batchers of one apply, by hosted zone id.
#[derive(Default)]
pub struct RecordBatches {
    zones: Mutex<HashMap<String, Arc<ZoneBatcher>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl RecordBatches {
    fn zone(&self, zone_id: &str) -> Arc<ZoneBatcher> {
        lock(&self.zones)
            .entry(zone_id.to_string())
            .or_default()
            .clone()
    }

    /// Writes `upsert` in its zone's next ChangeResourceRecordSets.
    pub async fn submit(
        &self,
        r53: &Route53Access<'_>,
        zone_id: &str,
        upsert: RecordUpsert,
    ) -> Committed {
        let zone = self.zone(zone_id);
        let (reply, answer) = oneshot::channel();
        let lead_now = {
            let mut queue = lock(&zone.queue);
            if queue.leading {
                queue.pending.push(Pending { upsert, reply });
                None
            } else {
                queue.leading = true;
                Some(upsert)
            }
        };
        let mine = match lead_now {
            Some(upsert) => upsert,
            None => match answer.await {
                Ok(Reply::Done(committed)) => return committed,
                Ok(Reply::Lead(upsert)) => *upsert,
                Err(_) => {
                    return Committed::FallBack(anyhow!(
                        "the batch carrying this record was abandoned"
                    ))
                }
            },
        };
        zone.lead(r53, zone_id, mine).await
    }

    /// After the per-record path (or a delete) wrote `name`'s TXT, under its lock:
    /// `Some(set)` is what Route53 now holds, `None` that it holds none; with `written
    /// == false` the write failed and what Route53 holds is unknown.
    pub async fn note_owner_set(
        &self,
        zone_id: &str,
        name: &str,
        now: Option<ResourceRecordSet>,
        written: bool,
    ) {
        let zone = self.zone(zone_id);
        let mut owners = zone.owners.lock().await;
        let Some(snapshot) = owners.as_mut() else {
            return;
        };
        let key = owner_key(name);
        snapshot.stale.remove(&key);
        match (written, now) {
            (false, _) => {
                snapshot.sets.remove(&key);
                snapshot.stale.insert(key);
            }
            (true, Some(set)) => {
                snapshot.sets.insert(key, set);
            }
            (true, None) => {
                snapshot.sets.remove(&key);
            }
        }
    }
}

impl ZoneBatcher {
    async fn lead(&self, r53: &Route53Access<'_>, zone_id: &str, mine: RecordUpsert) -> Committed {
        let queued = std::mem::take(&mut lock(&self.queue).pending);
        let mut items = vec![mine];
        let mut replies = Vec::with_capacity(queued.len());
        for p in queued {
            items.push(p.upsert);
            replies.push(p.reply);
        }
        let mut results = self.commit(r53, zone_id, &items).await.into_iter();
        let own = results
            .next()
            .unwrap_or_else(|| Committed::FallBack(anyhow!("the batch lost this record")));
        for (reply, result) in replies.into_iter().zip(results) {
            // A submitter that went away needs no answer.
            let _ = reply.send(Reply::Done(result));
        }
        self.hand_over();
        own
    }

    fn hand_over(&self) {
        let mut queue = lock(&self.queue);
        while !queue.pending.is_empty() {
            let next = queue.pending.remove(0);
            if next.reply.send(Reply::Lead(Box::new(next.upsert))).is_ok() {
                return;
            }
        }
        queue.leading = false;
    }

    /// One outcome per item, in order.
    async fn commit(
        &self,
        r53: &Route53Access<'_>,
        zone_id: &str,
        items: &[RecordUpsert],
    ) -> Vec<Committed> {
        let all_fall_back = |e: &anyhow::Error| {
            items
                .iter()
                .map(|_| Committed::FallBack(anyhow!("{e:#}")))
                .collect::<Vec<_>>()
        };
        {
            let mut owners = self.owners.lock().await;
            if owners.is_none() {
                match list_owner_sets(r53, zone_id).await {
                    Ok(sets) => {
                        *owners = Some(OwnerSnapshot {
                            sets,
                            stale: HashSet::new(),
                        })
                    }
                    Err(e) => {
                        return all_fall_back(&e.context("reading the zone's ownership records"))
                    }
                }
            }
        }

        let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, item) in items.iter().enumerate() {
            by_name.entry(item.name.as_str()).or_default().push(i);
        }
        let mut _name_guards = Vec::with_capacity(by_name.len());
        for name in by_name.keys() {
            _name_guards.push(r53.session.lock_owner_records(zone_id, name).await);
        }

        let mut results: Vec<Option<Committed>> = items.iter().map(|_| None).collect();
        let mut groups = Vec::new();
        {
            let mut owners = self.owners.lock().await;
            let Some(snapshot) = owners.as_mut() else {
                return all_fall_back(&anyhow!("the zone's ownership records were not read"));
            };
            for (name, indices) in &by_name {
                let key = owner_key(name);
                if snapshot.stale.contains(&key) {
                    match owner_set_of(r53, zone_id, name).await {
                        Ok(set) => {
                            snapshot.stale.remove(&key);
                            match set {
                                Some(set) => snapshot.sets.insert(key.clone(), set),
                                None => snapshot.sets.remove(&key),
                            };
                        }
                        Err(e) => {
                            for &i in indices {
                                results[i] = Some(Committed::FallBack(anyhow!("{e:#}")));
                            }
                            continue;
                        }
                    }
                }
                let members: Vec<&RecordUpsert> = indices.iter().map(|&i| &items[i]).collect();
                match name_group(name, &members, snapshot.sets.get(&key)) {
                    Ok(group) => groups.push((key, indices.clone(), group)),
                    Err(e) => {
                        for &i in indices {
                            results[i] = Some(Committed::FallBack(anyhow!("{e:#}")));
                        }
                    }
                }
            }
        }

        let weights: Vec<(usize, usize)> =
            groups.iter().map(|(_, _, g)| weight(&g.changes)).collect();
        for request in pack(&weights) {
            let changes: Vec<Change> = request
                .iter()
                .flat_map(|&g| groups[g].2.changes.iter().cloned())
                .collect();
            let sent = send_changes(r53, zone_id, changes).await;
            let mut owners = self.owners.lock().await;
            for &g in &request {
                let (key, indices, group) = &groups[g];
                if let Some(snapshot) = owners.as_mut() {
                    match (&sent, &group.owner_after) {
                        (Ok(()), Some(set)) => {
                            snapshot.sets.insert(key.clone(), set.clone());
                        }
                        (Ok(()), None) => {}
                        (Err(_), _) => {
                            snapshot.sets.remove(key);
                            snapshot.stale.insert(key.clone());
                        }
                    }
                }
                for &i in indices {
                    results[i] = Some(match &sent {
                        Ok(()) => Committed::Written,
                        Err(e) => Committed::FallBack(anyhow!("{e:#}")),
                    });
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Committed::FallBack(anyhow!("not part of any batch"))))
            .collect()
    }
}

/// The changes of one name, which must travel in one request: its records' UPSERTs and
/// the compare-and-swap of its ownership TXT record.
#[derive(Debug)]
struct NameGroup {
    changes: Vec<Change>,
    /// The TXT set after the changes, when they rewrite it.
    owner_after: Option<ResourceRecordSet>,
}

fn name_group(
    name: &str,
    members: &[&RecordUpsert],
    current: Option<&ResourceRecordSet>,
) -> Result<NameGroup> {
    let current_values: Vec<String> = current
        .map(|s| {
            s.resource_records()
                .iter()
                .map(|r| r.value().to_string())
                .collect()
        })
        .unwrap_or_default();
    let mut values: Vec<String> = current_values
        .iter()
        .filter(|v| !members.iter().any(|m| m.owns(v)))
        .cloned()
        .chain(members.iter().map(|m| m.owner_value.clone()))
        .collect();
    values.sort();
    values.dedup();

    let mut changes = Vec::with_capacity(members.len() + 2);
    for m in members {
        changes.push(change_of(ChangeAction::Upsert, m.record.clone())?);
    }
    let mut unchanged = current_values.clone();
    unchanged.sort();
    let owner_after = if current.is_some() && unchanged == values {
        None
    } else {
        if let Some(old) = current {
            changes.push(change_of(ChangeAction::Delete, old.clone())?);
        }
        let new = owner_record_set(name, &values)?;
        changes.push(change_of(ChangeAction::Create, new.clone())?);
        Some(new)
    };
    Ok(NameGroup {
        changes,
        owner_after,
    })
}

/// What a list of changes costs against Route53's per-request bounds: (ResourceRecord
/// elements, characters of values), UPSERTs counted twice.
fn weight(changes: &[Change]) -> (usize, usize) {
    changes.iter().fold((0, 0), |(records, chars), c| {
        let factor = if c.action() == &ChangeAction::Upsert {
            2
        } else {
            1
        };
        let values = c
            .resource_record_set()
            .map(|s| s.resource_records())
            .unwrap_or_default();
        let len: usize = values.iter().map(|r| r.value().len()).sum();
        (records + factor * values.len().max(1), chars + factor * len)
    })
}

/// Groups (by index) into requests, in order, each within Route53's bounds; a group
/// over the bounds on its own goes alone (Route53 will refuse it, and its records fall
/// back to the per-record path, which reports why).
fn pack(weights: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut requests: Vec<Vec<usize>> = Vec::new();
    let (mut records, mut chars) = (0, 0);
    for (i, &(r, c)) in weights.iter().enumerate() {
        let fits = records + r <= MAX_BATCH_RECORDS && chars + c <= MAX_BATCH_CHARS;
        match requests.last_mut() {
            Some(current) if fits => current.push(i),
            _ => {
                requests.push(vec![i]);
                (records, chars) = (0, 0);
            }
        }
        records += r;
        chars += c;
    }
    requests
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_route53::types::{ResourceRecord, ResourceRecordSetFailover, RrType};

    fn record(name: &str, set: &str, value: &str) -> ResourceRecordSet {
        ResourceRecordSet::builder()
            .name(name)
            .r#type(RrType::Cname)
            .ttl(60)
            .set_identifier(set)
            .failover(if set == "primary" {
                ResourceRecordSetFailover::Primary
            } else {
                ResourceRecordSetFailover::Secondary
            })
            .resource_records(
                ResourceRecord::builder()
                    .value(value)
                    .build()
                    .expect("value"),
            )
            .build()
            .expect("record")
    }

    fn upsert(address: &str, name: &str, set: &str) -> RecordUpsert {
        RecordUpsert {
            address: Address::new(address),
            name: name.into(),
            record: record(name, set, "target.example.com"),
            owner_value: marks::dns_owner_value("s", address, "CNAME", Some(set)),
            moved_from: None,
        }
    }

    fn actions(g: &NameGroup) -> Vec<String> {
        g.changes
            .iter()
            .map(|c| {
                let set = c.resource_record_set().expect("set");
                let values: Vec<&str> = set.resource_records().iter().map(|r| r.value()).collect();
                format!(
                    "{} {} {} {}",
                    c.action().as_str(),
                    set.name(),
                    set.r#type().as_str(),
                    values.join(" | ")
                )
            })
            .collect()
    }

    #[test]
    fn primary_and_secondary_of_one_name_share_one_txt_create() {
        let a = upsert("dns.api.primary", "api.example.com.", "primary");
        let b = upsert("dns.api.dr", "api.example.com.", "dr");
        let g = name_group("api.example.com.", &[&a, &b], None).expect("group");
        assert_eq!(
            actions(&g),
            [
                "UPSERT api.example.com. CNAME target.example.com",
                "UPSERT api.example.com. CNAME target.example.com",
                "CREATE _drplan.api.example.com. TXT \"drplan stack=s address=dns.api.dr type=CNAME set=dr\" | \"drplan stack=s address=dns.api.primary type=CNAME set=primary\"",
            ]
        );
    }

    #[test]
    fn a_txt_is_swapped_from_its_exact_snapshot_value_keeping_foreign_values() {
        let foreign = "\"drplan stack=other address=dns.x type=CNAME set=x\"".to_string();
        let current =
            owner_record_set("api.example.com.", std::slice::from_ref(&foreign)).expect("txt");
        let a = upsert("dns.api.primary", "api.example.com.", "primary");
        let g = name_group("api.example.com.", &[&a], Some(&current)).expect("group");
        let acts = actions(&g);
        assert_eq!(
            acts[1],
            format!("DELETE _drplan.api.example.com. TXT {foreign}")
        );
        assert_eq!(
            acts[2],
            format!("CREATE _drplan.api.example.com. TXT {foreign} | \"drplan stack=s address=dns.api.primary type=CNAME set=primary\"")
        );
    }

    #[test]
    fn a_renamed_record_swaps_its_old_entry_for_its_new_one_keeping_its_neighbour() {
        let old = marks::dns_owner_value("s", "dns.api.primary", "CNAME", Some("primary"));
        let neighbour = marks::dns_owner_value("s", "dns.api.dr", "CNAME", Some("dr"));
        let current =
            owner_record_set("api.example.com.", &[neighbour.clone(), old.clone()]).expect("txt");
        let mut moved = upsert("dns.public.primary", "api.example.com.", "primary");
        moved.moved_from = Some(Address::new("dns.api.primary"));
        let g = name_group("api.example.com.", &[&moved], Some(&current)).expect("group");
        let acts = actions(&g);
        assert_eq!(
            acts[1],
            format!("DELETE _drplan.api.example.com. TXT {neighbour} | {old}")
        );
        assert_eq!(
            acts[2],
            format!(
                "CREATE _drplan.api.example.com. TXT {neighbour} | {}",
                moved.owner_value
            )
        );
        assert!(moved.owns(&old) && moved.owns(&moved.owner_value) && !moved.owns(&neighbour));
    }

    #[test]
    fn a_txt_that_already_holds_our_values_is_not_rewritten() {
        let a = upsert("dns.api.primary", "api.example.com.", "primary");
        let current = owner_record_set("api.example.com.", std::slice::from_ref(&a.owner_value))
            .expect("txt");
        let g = name_group("api.example.com.", &[&a], Some(&current)).expect("group");
        assert_eq!(actions(&g).len(), 1, "only the record's UPSERT");
        assert!(g.owner_after.is_none());
    }

    #[test]
    fn requests_are_split_at_routes53_bounds() {
        // 3 changes of 2 UPSERT records (4 elements) + a TXT create of 2 values.
        let per_name = (3 * 2 * 2 + 2, 300);
        assert_eq!(pack(&[per_name; 10]).len(), 1);
        let sizes: Vec<usize> = pack(&[per_name; 100]).iter().map(Vec::len).collect();
        assert_eq!(sizes, [71, 29], "1,000 elements hold 71 names of 14");
        let by_chars: Vec<usize> = pack(&[(4, 10_000); 7]).iter().map(Vec::len).collect();
        assert_eq!(by_chars, [3, 3, 1]);
        assert_eq!(
            pack(&[(2_000, 10), (1, 1)]),
            [vec![0], vec![1]],
            "an oversized group goes alone"
        );
    }
}
