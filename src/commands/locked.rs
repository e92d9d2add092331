//! Running `apply` under the stack's lock with signals handled: the account guard is
//! checked before anything is written, the lock is taken (waiting up to
//! `--lock-timeout`), renewed while the work runs, and released however it ends —
//! errors, SIGINT/SIGTERM (`interrupt`), a lost lock.

use super::exit;
use super::interrupt::GRACE;
use crate::aws::AwsContext;
use crate::lock::{human, lock_key, AcquireOptions, ApplyLock};
use crate::stop::Stop;
use drplan_core::model::topology::SiteRole;
use drplan_core::model::{LockSettings, Project};
use std::future::Future;
use std::time::Duration;

/// What the lock needs from the project, taken before the project moves on.
pub struct Guard {
    account_id: Option<String>,
    lock: Option<LockSettings>,
    stack: String,
    env: String,
    /// The topology's other regions, DR sites first: the remedy when the lock's
    /// region does not answer.
    other_regions: Vec<String>,
}

impl Guard {
    pub fn for_project(project: &Project, env: &str) -> Guard {
        let lock = project.environment.lock.clone();
        let lock_region = lock.as_ref().map(|l| l.region.clone()).unwrap_or_default();
        let mut sites: Vec<_> = project.topology.sites.values().collect();
        sites.sort_by_key(|s| s.role != SiteRole::Dr);
        let mut other_regions: Vec<String> = Vec::new();
        for s in sites {
            if s.region != lock_region && !other_regions.contains(&s.region) {
                other_regions.push(s.region.clone());
            }
        }
        Guard {
            account_id: project.environment.account_id.clone(),
            lock,
            stack: project.environment.stack.clone(),
            env: env.to_string(),
            other_regions,
        }
    }
}

/// Runs `work` (plan, confirm, apply) holding the lock. A stop requested before the
/// work commits to changes (`Stop::commit`) ends it at once; after that, the work
/// itself winds down (the walk) and reports.
pub async fn run(
    aws: &AwsContext,
    guard: &Guard,
    lock_timeout: Duration,
    stop: &Stop,
    work: impl Future<Output = anyhow::Result<i32>>,
) -> anyhow::Result<i32> {
    let stopped = |when: &str| {
        eprintln!(
            "Stopped ({}) {when}; no change was made.",
            stop.cause().unwrap_or_default()
        );
        Ok(exit::ERROR)
    };
    // Before any write: with another account's credentials, not even the lock object.
    tokio::select! {
        r = aws.check_account(guard.account_id.as_deref()) => { r?; }
        _ = stop.stopping() => return stopped("while checking the AWS account"),
    }
    let mut lock = match &guard.lock {
        Some(settings) => {
            let s3 = aws.s3(&settings.region);
            let options = AcquireOptions {
                timeout: lock_timeout,
                other_regions: guard.other_regions.clone(),
            };
            let lock = tokio::select! {
                r = ApplyLock::acquire(&s3, settings, &guard.stack, &guard.env, &options) => r?,
                _ = stop.stopping() => return stopped("while waiting for the apply lock"),
            };
            eprintln!(
                "Acquired the apply lock s3://{}/{} (a {} lease, renewed while this apply runs).",
                settings.bucket,
                lock_key(settings, &guard.stack),
                human(settings.lease)
            );
            Some(lock)
        }
        None => {
            eprintln!("Warning: environment `{}` names no lock bucket; concurrent applies are not prevented.", guard.env);
            None
        }
    };
    if let Some(lock) = lock.as_mut() {
        lock.keep_renewed(stop.clone(), GRACE);
    }
    let before_changes = async {
        stop.stopping().await;
        if stop.is_committed() {
            std::future::pending::<()>().await;
        }
    };
    let result = tokio::select! {
        biased;
        r = work => r,
        _ = before_changes => stopped("before any change"),
    };
    if let Some(lock) = lock.take() {
        match lock.release().await {
            Ok(()) => eprintln!("Released the apply lock."),
            Err(e) => eprintln!("Warning: could not release the apply lock: {e:#}; it lapses when its lease ends, or break it with `drplan unlock -e {} --force`", guard.env),
        }
    }
    result
}
