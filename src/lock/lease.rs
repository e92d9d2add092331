//! The lease decision, without IO: given the lock object as just read, is it this
//! run's own, held by a live apply, or lapsed (its holder stopped renewing it)?
//!
//! Time is S3's: the object's `LastModified` against the `Date` of the answer that
//! returned it, so clock skew between machines does not move a lapse.

use super::LockInfo;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The lock object as read.
#[derive(Clone, Debug)]
pub struct Observed {
    /// `None`: the object is not a drplan lock (or not one this version reads).
    pub info: Option<LockInfo>,
    pub etag: String,
    pub last_modified: Option<DateTime<Utc>>,
    /// The server's clock when it answered (HTTP `Date`), else this machine's.
    pub now: DateTime<Utc>,
    /// Why `info` is `None`.
    pub unreadable: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// This run's own lock: its PutObject was applied but the answer was lost.
    Ours,
    /// Held and renewed within its lease. `lapses_in` is `None` when it never lapses
    /// by itself (an object drplan cannot read).
    Held { lapses_in: Option<Duration> },
    /// Not renewed for longer than its lease: the next apply takes it over (with
    /// `If-Match` on the lapsed object's ETag, so of two takers only one wins).
    Lapsed { idle: Duration, lease: Duration },
    /// Its holder ran on this machine and is no longer running (killed, crashed):
    /// taken over at once, as a lapsed lock is (`process.rs` decides).
    HolderGone,
}

/// `fallback_lease` applies to locks written before leases existed (no
/// `lease_seconds` in the body). `holder_gone`: the holder's process is known to have
/// ended (it ran on this machine; `process.rs`).
pub fn judge(
    seen: &Observed,
    run_id: &str,
    fallback_lease: Duration,
    holder_gone: bool,
) -> Verdict {
    let Some(info) = &seen.info else {
        return Verdict::Held { lapses_in: None };
    };
    if !info.run_id.is_empty() && info.run_id == run_id {
        return Verdict::Ours;
    }
    if holder_gone {
        return Verdict::HolderGone;
    }
    let Some(modified) = seen.last_modified else {
        return Verdict::Held { lapses_in: None };
    };
    let lease = if info.lease_seconds > 0 {
        Duration::from_secs(info.lease_seconds)
    } else {
        fallback_lease
    };
    let idle = (seen.now - modified).to_std().unwrap_or(Duration::ZERO);
    if idle > lease {
        Verdict::Lapsed { idle, lease }
    } else {
        Verdict::Held {
            lapses_in: Some(lease - idle),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn info(run_id: &str, lease_seconds: u64) -> LockInfo {
        LockInfo {
            holder: "ana@desk".into(),
            pid: 7,
            started_at: at("2026-12-03T08:00:00Z"),
            stack: "shop".into(),
            env: "prod".into(),
            run_id: run_id.into(),
            lease_seconds,
            renewed_at: None,
            renewals: 0,
            process: None,
        }
    }

    fn seen(info: Option<LockInfo>, modified: &str, now: &str) -> Observed {
        Observed {
            info,
            etag: "\"e1\"".into(),
            last_modified: Some(at(modified)),
            now: at(now),
            unreadable: None,
        }
    }

    #[test]
    fn a_lost_put_answer_leaves_a_lock_this_run_recognises_as_its_own() {
        let s = seen(
            Some(info("run-a", 120)),
            "2026-12-03T08:00:00Z",
            "2026-12-03T08:00:01Z",
        );
        assert_eq!(
            judge(&s, "run-a", Duration::from_secs(120), false),
            Verdict::Ours
        );
        assert_eq!(
            judge(&s, "run-b", Duration::from_secs(120), false),
            Verdict::Held {
                lapses_in: Some(Duration::from_secs(119))
            }
        );
    }

    #[test]
    fn a_lock_not_renewed_for_its_lease_has_lapsed() {
        let s = seen(
            Some(info("run-a", 60)),
            "2026-12-03T08:00:00Z",
            "2026-12-03T08:01:01Z",
        );
        assert_eq!(
            judge(&s, "run-b", Duration::from_secs(120), false),
            Verdict::Lapsed {
                idle: Duration::from_secs(61),
                lease: Duration::from_secs(60)
            }
        );
        // Exactly at the lease it is still held: renewals happen well before.
        let s = seen(
            Some(info("run-a", 60)),
            "2026-12-03T08:00:00Z",
            "2026-12-03T08:01:00Z",
        );
        assert_eq!(
            judge(&s, "run-b", Duration::from_secs(120), false),
            Verdict::Held {
                lapses_in: Some(Duration::ZERO)
            }
        );
    }

    #[test]
    fn old_locks_use_the_configured_lease_and_unreadable_ones_never_lapse() {
        let s = seen(
            Some(info("", 0)),
            "2026-12-03T08:00:00Z",
            "2026-12-03T08:03:00Z",
        );
        assert!(matches!(
            judge(&s, "", Duration::from_secs(120), false),
            Verdict::Lapsed { .. }
        ));
        let s = seen(None, "2026-12-03T08:00:00Z", "2027-12-03T08:00:00Z");
        assert_eq!(
            judge(&s, "run-b", Duration::from_secs(120), false),
            Verdict::Held { lapses_in: None }
        );
    }

    #[test]
    fn a_lock_whose_holder_process_ended_on_this_machine_is_taken_over_at_once() {
        let s = seen(
            Some(info("run-a", 120)),
            "2026-12-03T08:00:00Z",
            "2026-12-03T08:00:01Z",
        );
        assert_eq!(
            judge(&s, "run-b", Duration::from_secs(120), true),
            Verdict::HolderGone
        );
        // An unreadable lock is never judged by a process.
        let s = seen(None, "2026-12-03T08:00:00Z", "2026-12-03T08:00:01Z");
        assert_eq!(
            judge(&s, "run-b", Duration::from_secs(120), true),
            Verdict::Held { lapses_in: None }
        );
    }

    #[test]
    fn a_server_clock_behind_the_object_does_not_make_it_lapse() {
        let s = seen(
            Some(info("run-a", 60)),
            "2026-12-03T08:00:10Z",
            "2026-12-03T08:00:00Z",
        );
        assert_eq!(
            judge(&s, "run-b", Duration::from_secs(120), false),
            Verdict::Held {
                lapses_in: Some(Duration::from_secs(60))
            }
        );
    }
}
