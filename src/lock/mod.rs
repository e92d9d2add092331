//! One apply at a time per stack: a lock object in S3, held as a **lease**.
//!
//! - Taking it is a conditional put (`If-None-Match: *`): of two applies racing for
//!   it exactly one wins; S3 (and moto) reject the other with 412.
//! - The holder renews it while it runs (every third of the lease, `If-Match` on the
//!   ETag it last wrote, so a renewal never overwrites another holder: `renew.rs`).
//! - A holder that stops renewing (killed, machine gone) lets the lease lapse: the
//!   next apply takes the lock over with `If-Match` on the lapsed object's ETag, so
//!   of two takers only one wins (`lease.rs` decides, on S3's clock).
//! - Each run writes its own random `run_id` into the body: if the answer to its
//!   PutObject is lost and the SDK's retry meets 412, the run recognises its own lock.
//! - `--lock-timeout` waits for a held lock (polling), naming who holds it.
//!
//! The lock is released explicitly ([`ApplyLock::release`]) however the apply ends;
//! a guard dropped without that spawns a best-effort release. `drplan unlock
//! --force` ([`force_unlock`]) breaks a lock whose holder is gone before its lease
//! lapses. Every lock request has short timeouts of its own ([`fast`]): a lock bucket
//! in a region that does not answer fails the apply in seconds, naming the remedy.

pub mod holder;
pub mod lease;
pub mod process;
mod renew;
mod s3io;

use crate::stop::Stop;
use anyhow::{Context, Result};
use aws_sdk_s3::Client;
use chrono::{DateTime, Utc};
use drplan_core::model::environment::LockSettings;
use lease::{judge, Verdict};
use s3io::{put, read, PutCondition, PutError};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{Duration, Instant};

/// The lock object's body: who holds the lock, for the message the next apply shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockInfo {
    /// `user@host`, or the CI job (`holder::describe`).
    pub holder: String,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    pub stack: String,
    pub env: String,
    /// Random per run: tells this run's own lock from another run's.
    #[serde(default)]
    pub run_id: String,
    /// The holder renews the object at least every third of this; unrenewed for
    /// longer, the lock has lapsed. 0 in locks written before leases existed.
    #[serde(default)]
    pub lease_seconds: u64,
    /// The holder's clock at the last renewal (informational; lapses use S3's clock).
    #[serde(default)]
    pub renewed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub renewals: u64,
    /// Where the holder runs, so that a rerun on the same machine can tell a killed
    /// holder at once instead of waiting out its lease (`process.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<process::ProcessIdentity>,
}

impl LockInfo {
    pub fn for_this_process(stack: &str, env: &str, lease: Duration) -> Self {
        LockInfo {
            holder: holder::this_process(),
            pid: std::process::id(),
            started_at: Utc::now(),
            stack: stack.into(),
            env: env.into(),
            run_id: new_run_id(),
            lease_seconds: lease.as_secs().max(1),
            renewed_at: None,
            renewals: 0,
            process: process::ProcessIdentity::this_process(),
        }
    }

    /// Whether this lock's holder is known to have ended (it ran on this machine).
    fn holder_gone(&self, here: Option<&process::ProcessIdentity>) -> bool {
        self.process
            .as_ref()
            .is_some_and(|p| p.liveness(self.pid, here) == process::Liveness::Gone)
    }

    fn body(&self) -> Result<Vec<u8>> {
        Ok(serde_json::to_vec_pretty(self)?)
    }
}

/// 128 random bits from the standard library's per-process random hash keys.
fn new_run_id() -> String {
    use std::hash::BuildHasher;
    let seed = format!(
        "{:?}",
        (
            std::process::id(),
            std::time::SystemTime::now(),
            Instant::now()
        )
    );
    let part = || std::collections::hash_map::RandomState::new().hash_one(&seed);
    format!("{:016x}{:016x}", part(), part())
}

#[derive(Debug)]
pub enum LockError {
    /// Someone else holds the lock (after waiting `waited`, if --lock-timeout).
    Held {
        info: Option<LockInfo>,
        bucket: String,
        key: String,
        lapses_in: Option<Duration>,
        waited: Option<Duration>,
    },
    /// The lock bucket's region did not answer.
    Unreachable {
        bucket: String,
        region: String,
        cause: String,
        other_regions: Vec<String>,
    },
    Other(anyhow::Error),
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::Held { info: Some(i), bucket, key, lapses_in, waited } => {
                write!(
                    f,
                    "stack {} is locked by {} (pid {}) since {} (environment {}), lock s3://{bucket}/{key}",
                    i.stack,
                    i.holder,
                    i.pid,
                    i.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    i.env,
                )?;
                if let Some(w) = waited {
                    write!(f, "; still held after waiting {}", human(*w))?;
                }
                match lapses_in {
                    Some(d) => write!(
                        f,
                        "; its lease lapses in {} unless its holder renews it: wait with `--lock-timeout DURATION`, \
                         or if that apply is no longer running, break the lock with `drplan unlock -e {} --force`",
                        human(*d),
                        i.env
                    ),
                    None => write!(f, "; if that apply is no longer running, break the lock with `drplan unlock -e {} --force`", i.env),
                }
            }
            LockError::Held { info: None, bucket, key, .. } => write!(
                f,
                "the stack is locked (s3://{bucket}/{key} exists but is not a lock drplan can read, so it never lapses); \
                 if no apply is running, break the lock with `drplan unlock --force`"
            ),
            LockError::Unreachable { bucket, region, cause, other_regions } => {
                write!(f, "cannot reach the lock bucket s3://{bucket} in {region} ({cause}); nothing was changed")?;
                let example = other_regions.first().map(String::as_str).unwrap_or("<a region that stays up>");
                write!(
                    f,
                    ". If {region} is down, keep the lock in a region that survives it: in the environment file set \
                     `lock {{ bucket = \"<a bucket in {example}>\"  region = \"{example}\" }}` (the DR site's region)"
                )
            }
            LockError::Other(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for LockError {}

pub fn lock_key(settings: &LockSettings, stack: &str) -> String {
    settings
        .key
        .clone()
        .unwrap_or_else(|| format!("drplan/locks/{stack}.json"))
}

/// How to take the lock.
#[derive(Clone, Debug, Default)]
pub struct AcquireOptions {
    /// Wait up to this long for a held lock (`--lock-timeout`); zero: fail at once.
    pub timeout: Duration,
    /// Regions the topology uses besides the lock's, for the remedy when the lock's
    /// region does not answer (DR regions first).
    pub other_regions: Vec<String>,
}

/// How often a waiting apply looks at a held lock again.
const WAIT_POLL: Duration = Duration::from_secs(1);

/// A held lock. Call [`ApplyLock::release`] when the apply ends, however it ends.
pub struct ApplyLock {
    s3: Client,
    bucket: String,
    key: String,
    lease: renew::Lease,
    released: bool,
}

impl ApplyLock {
    pub async fn acquire(
        s3: &Client,
        settings: &LockSettings,
        stack: &str,
        env: &str,
        options: &AcquireOptions,
    ) -> Result<ApplyLock, LockError> {
        let key = lock_key(settings, stack);
        let bucket = settings.bucket.clone();
        let info = LockInfo::for_this_process(stack, env, settings.lease);
        let body = info.body().map_err(LockError::Other)?;
        let unreachable = |cause: String| LockError::Unreachable {
            bucket: bucket.clone(),
            region: settings.region.clone(),
            cause,
            other_regions: options.other_regions.clone(),
        };
        let started = Instant::now();
        let mut announced: Option<String> = None;
        loop {
            match put(s3, &bucket, &key, body.clone(), PutCondition::Absent).await {
                Ok(etag) => return Ok(self::ApplyLock::held(s3, &bucket, &key, info, etag)),
                Err(PutError::Conflict) => {}
                Err(PutError::Unreachable(cause)) => return Err(unreachable(cause)),
                Err(PutError::Other(e)) => return Err(LockError::Other(e)),
            }
            let seen = match read(s3, &bucket, &key).await {
                Ok(Some(seen)) => seen,
                // Released between our put and this read: try again.
                Ok(None) => continue,
                Err(PutError::Unreachable(cause)) => return Err(unreachable(cause)),
                Err(e) => return Err(LockError::Other(e.into_anyhow("GetObject (apply lock)"))),
            };
            let gone = seen
                .info
                .as_ref()
                .is_some_and(|i| i.holder_gone(info.process.as_ref()));
            match judge(&seen, &info.run_id, settings.lease, gone) {
                Verdict::Ours => {
                    eprintln!("The answer to this run's lock request was lost, but the lock s3://{bucket}/{key} is this run's: proceeding.");
                    return Ok(ApplyLock::held(s3, &bucket, &key, info, seen.etag));
                }
                verdict @ (Verdict::Lapsed { .. } | Verdict::HolderGone) => match put(
                    s3,
                    &bucket,
                    &key,
                    body.clone(),
                    PutCondition::Matches(seen.etag.clone()),
                )
                .await
                {
                    Ok(etag) => {
                        let who = seen
                            .info
                            .as_ref()
                            .map(|i| format!("{} (pid {})", i.holder, i.pid))
                            .unwrap_or_default();
                        match verdict {
                            Verdict::Lapsed { idle, lease } => eprintln!(
                                "Took over the apply lock s3://{bucket}/{key} from {who}: not renewed for {} (its lease is {}), so that apply is no longer running.",
                                human(idle),
                                human(lease)
                            ),
                            _ => eprintln!(
                                "Took over the apply lock s3://{bucket}/{key} from {who}: that process ran on this machine and is no longer running (killed or crashed)."
                            ),
                        }
                        return Ok(ApplyLock::held(s3, &bucket, &key, info, etag));
                    }
                    // Renewed, released or taken by another apply in between.
                    Err(PutError::Conflict) => continue,
                    Err(PutError::Unreachable(cause)) => return Err(unreachable(cause)),
                    Err(PutError::Other(e)) => return Err(LockError::Other(e)),
                },
                Verdict::Held { lapses_in } => {
                    let waited = started.elapsed();
                    if waited >= options.timeout {
                        let waited = (!options.timeout.is_zero()).then_some(waited);
                        return Err(LockError::Held {
                            info: seen.info,
                            bucket,
                            key,
                            lapses_in,
                            waited,
                        });
                    }
                    let holder_id = seen
                        .info
                        .as_ref()
                        .map(|i| i.run_id.clone())
                        .unwrap_or_default();
                    if announced.as_ref() != Some(&holder_id) {
                        let who = seen
                            .info
                            .as_ref()
                            .map(|i| {
                                format!(
                                    "{} (pid {}, environment {}) since {}",
                                    i.holder,
                                    i.pid,
                                    i.env,
                                    i.started_at.format("%H:%M:%S UTC")
                                )
                            })
                            .unwrap_or_else(|| "an unreadable lock object".into());
                        eprintln!(
                            "Waiting for the apply lock s3://{bucket}/{key}, held by {who}; waiting up to {} (--lock-timeout)...",
                            human(options.timeout)
                        );
                        announced = Some(holder_id);
                    }
                    let left = options.timeout.saturating_sub(waited);
                    tokio::time::sleep(WAIT_POLL.min(left).max(Duration::from_millis(50))).await;
                }
            }
        }
    }

    fn held(s3: &Client, bucket: &str, key: &str, info: LockInfo, etag: String) -> ApplyLock {
        ApplyLock {
            s3: s3.clone(),
            bucket: bucket.to_string(),
            key: key.to_string(),
            lease: renew::Lease::new(info, etag),
            released: false,
        }
    }

    pub fn info(&self) -> LockInfo {
        self.lease.info()
    }

    /// Renews the lease until the lock is released. If it cannot be kept (another
    /// apply took it over or broke it, or renewals failed for a whole lease), asks
    /// `stop` to stop the apply, with `grace` for the changes in flight.
    pub fn keep_renewed(&mut self, stop: Stop, grace: Duration) {
        self.lease
            .start_renewing(&self.s3, &self.bucket, &self.key, stop, grace);
    }

    /// Deletes the lock object if it is still ours (`unlock --force` may have broken
    /// it and another apply taken it since).
    pub async fn release(mut self) -> Result<()> {
        self.released = true;
        self.lease.stop_renewing();
        release_if_ours(&self.s3, &self.bucket, &self.key, &self.lease.info().run_id).await
    }
}

impl Drop for ApplyLock {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        self.lease.stop_renewing();
        let (s3, bucket, key, run_id) = (
            self.s3.clone(),
            self.bucket.clone(),
            self.key.clone(),
            self.lease.info().run_id,
        );
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    if let Err(e) = release_if_ours(&s3, &bucket, &key, &run_id).await {
                        eprintln!("warning: could not release the apply lock s3://{bucket}/{key}: {e:#}");
                    }
                });
            }
            Err(_) => eprintln!(
                "warning: the apply lock s3://{bucket}/{key} was not released; it lapses when its lease ends, or run `drplan unlock --force`"
            ),
        }
    }
}

async fn release_if_ours(s3: &Client, bucket: &str, key: &str, run_id: &str) -> Result<()> {
    let seen = read(s3, bucket, key)
        .await
        .map_err(|e| e.into_anyhow("GetObject (apply lock)"))?;
    match seen {
        Some(seen) if seen.info.as_ref().is_some_and(|i| i.run_id == run_id) => {
            s3.delete_object()
                .bucket(bucket)
                .key(key)
                .customize()
                .config_override(s3io::fast())
                .send()
                .await
                .map_err(crate::apply::context::aws_error(
                    "DeleteObject (apply lock)",
                ))?;
            Ok(())
        }
        Some(seen) => {
            let who = seen
                .info
                .map(|i| format!("{} (pid {})", i.holder, i.pid))
                .unwrap_or_else(|| "an unreadable object".into());
            Err(anyhow::anyhow!(
                "the apply lock was taken over by {who}; leaving it"
            ))
        }
        None => Ok(()),
    }
}

/// The current lock, if any (`None` also when the object is not a readable lock).
pub async fn read_lock(s3: &Client, bucket: &str, key: &str) -> Result<Option<LockInfo>> {
    Ok(read(s3, bucket, key)
        .await
        .map_err(|e| e.into_anyhow("GetObject (apply lock)"))?
        .and_then(|s| s.info))
}

/// What `drplan unlock --force` found and did.
#[derive(Debug, PartialEq)]
pub enum Unlocked {
    /// Deleted the lock this apply held.
    Broke(LockInfo),
    /// Deleted an object at the lock's key that is not a lock drplan can read.
    BrokeUnreadable { reason: String },
    /// There was no lock object; nothing was deleted.
    NotLocked,
}

/// `drplan unlock --force`: deletes the lock whoever holds it, and says what it was.
pub async fn force_unlock(s3: &Client, settings: &LockSettings, stack: &str) -> Result<Unlocked> {
    let key = lock_key(settings, stack);
    let seen = read(s3, &settings.bucket, &key)
        .await
        .map_err(|e| e.into_anyhow("GetObject (apply lock)"))?;
    let Some(seen) = seen else {
        return Ok(Unlocked::NotLocked);
    };
    s3.delete_object()
        .bucket(&settings.bucket)
        .key(&key)
        .customize()
        .config_override(s3io::fast())
        .send()
        .await
        .map_err(crate::apply::context::aws_error(
            "DeleteObject (apply lock)",
        ))
        .context("breaking the lock")?;
    Ok(match seen.info {
        Some(info) => Unlocked::Broke(info),
        None => Unlocked::BrokeUnreadable {
            reason: seen
                .unreadable
                .unwrap_or_else(|| "not a drplan lock".into()),
        },
    })
}

/// `90s` -> `1m30s`; whole seconds.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_error_names_holder_host_start_time_and_lapse() {
        let info = LockInfo {
            holder: "ana@ci-runner-3".into(),
            pid: 4242,
            started_at: DateTime::parse_from_rfc3339("2026-11-21T22:10:05Z")
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or_default(),
            stack: "lanka".into(),
            env: "prod".into(),
            run_id: "r1".into(),
            lease_seconds: 120,
            renewed_at: None,
            renewals: 3,
            process: None,
        };
        let e = LockError::Held {
            info: Some(info),
            bucket: "locks".into(),
            key: "drplan/locks/lanka.json".into(),
            lapses_in: Some(Duration::from_secs(95)),
            waited: Some(Duration::from_secs(30)),
        };
        insta::assert_snapshot!(e.to_string(), @"stack lanka is locked by ana@ci-runner-3 (pid 4242) since 2026-11-21 22:10:05 UTC (environment prod), lock s3://locks/drplan/locks/lanka.json; still held after waiting 30s; its lease lapses in 1m35s unless its holder renews it: wait with `--lock-timeout DURATION`, or if that apply is no longer running, break the lock with `drplan unlock -e prod --force`");
    }

    #[test]
    fn run_ids_differ_between_runs() {
        assert_ne!(new_run_id(), new_run_id());
        assert_eq!(new_run_id().len(), 32);
    }
}
