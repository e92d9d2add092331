//! One apply at a time per stack: a lock object in S3 created with a conditional put
//! (`If-None-Match: *`), so of two applies racing for it exactly one wins — S3 (and
//! moto, which honours the header on PutObject) rejects the second with 412.
//!
//! The lock is released explicitly ([`ApplyLock::release`]) on success and failure.
//! If the guard is dropped without that (an early return, a panic), a best-effort
//! release is spawned on the running runtime. A crash or kill leaves the lock in
//! place; `drplan unlock --force` ([`force_unlock`]) breaks it.

use anyhow::{anyhow, Context, Result};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use chrono::{DateTime, Utc};
use drplan_core::model::environment::LockSettings;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The lock object's body: who holds the lock, for the error the next apply shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockInfo {
    /// `user@host`.
    pub holder: String,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    pub stack: String,
    pub env: String,
}

impl LockInfo {
    pub fn for_this_process(stack: &str, env: &str) -> Self {
        let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into());
        let host = hostname::get().map(|h| h.to_string_lossy().into_owned()).unwrap_or_else(|_| "unknown-host".into());
        LockInfo { holder: format!("{user}@{host}"), pid: std::process::id(), started_at: Utc::now(), stack: stack.into(), env: env.into() }
    }
}

#[derive(Debug)]
pub enum LockError {
    /// Someone else holds the lock.
    Held { info: Option<LockInfo>, bucket: String, key: String },
    Other(anyhow::Error),
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::Held { info: Some(i), bucket, key } => write!(
                f,
                "stack {} is locked by {} (pid {}) since {} (environment {}), lock s3://{bucket}/{key}; \
                 if that apply is no longer running, break the lock with `drplan unlock -e {} --force`",
                i.stack,
                i.holder,
                i.pid,
                i.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
                i.env,
                i.env
            ),
            LockError::Held { info: None, bucket, key } => write!(
                f,
                "the stack is locked (s3://{bucket}/{key} exists but cannot be read); if no apply is running, \
                 break the lock with `drplan unlock --force`"
            ),
            LockError::Other(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for LockError {}

pub fn lock_key(settings: &LockSettings, stack: &str) -> String {
    settings.key.clone().unwrap_or_else(|| format!("drplan/locks/{stack}.json"))
}

/// A held lock. Call [`ApplyLock::release`] when the apply ends, however it ends.
pub struct ApplyLock {
    s3: Client,
    bucket: String,
    key: String,
    info: LockInfo,
    released: bool,
}

impl ApplyLock {
    pub async fn acquire(s3: &Client, settings: &LockSettings, stack: &str, env: &str) -> Result<ApplyLock, LockError> {
        let key = lock_key(settings, stack);
        let info = LockInfo::for_this_process(stack, env);
        let body = serde_json::to_vec_pretty(&info).map_err(|e| LockError::Other(e.into()))?;
        let put = s3
            .put_object()
            .bucket(&settings.bucket)
            .key(&key)
            .if_none_match("*")
            .content_type("application/json")
            .body(ByteStream::from(body))
            .send()
            .await;
        match put {
            Ok(_) => Ok(ApplyLock { s3: s3.clone(), bucket: settings.bucket.clone(), key, info, released: false }),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                // 412: the object exists. 409: a concurrent conditional write is in progress.
                if matches!(status, Some(412) | Some(409)) {
                    let info = read_lock(s3, &settings.bucket, &key).await.ok().flatten();
                    Err(LockError::Held { info, bucket: settings.bucket.clone(), key })
                } else {
                    Err(LockError::Other(crate::apply::context::aws_error("PutObject (apply lock)")(e)))
                }
            }
        }
    }

    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    /// Deletes the lock object if it is still ours (`unlock --force` may have broken
    /// it and another apply taken it since).
    pub async fn release(mut self) -> Result<()> {
        self.released = true;
        release_if_ours(&self.s3, &self.bucket, &self.key, &self.info).await
    }
}

impl Drop for ApplyLock {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let (s3, bucket, key, info) = (self.s3.clone(), self.bucket.clone(), self.key.clone(), self.info.clone());
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    if let Err(e) = release_if_ours(&s3, &bucket, &key, &info).await {
                        eprintln!("warning: could not release the apply lock s3://{bucket}/{key}: {e:#}");
                    }
                });
            }
            Err(_) => eprintln!(
                "warning: the apply lock s3://{bucket}/{key} was not released; run `drplan unlock --force` if no apply is running"
            ),
        }
    }
}

async fn release_if_ours(s3: &Client, bucket: &str, key: &str, info: &LockInfo) -> Result<()> {
    match read_lock(s3, bucket, key).await? {
        Some(current) if &current == info => {
            s3.delete_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(crate::apply::context::aws_error("DeleteObject (apply lock)"))?;
            Ok(())
        }
        Some(other) => Err(anyhow!("the apply lock was taken over by {} (pid {}); leaving it", other.holder, other.pid)),
        None => Ok(()),
    }
}

/// The current lock, if any.
pub async fn read_lock(s3: &Client, bucket: &str, key: &str) -> Result<Option<LockInfo>> {
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => {
            let bytes = out.body.collect().await.context("reading the apply lock")?.into_bytes();
            let info = serde_json::from_slice(&bytes).with_context(|| format!("s3://{bucket}/{key} is not a drplan lock"))?;
            Ok(Some(info))
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
        Err(e) => Err(crate::apply::context::aws_error("GetObject (apply lock)")(e)),
    }
}

/// `drplan unlock --force`: deletes the lock whoever holds it; returns who held it.
pub async fn force_unlock(s3: &Client, settings: &LockSettings, stack: &str) -> Result<Option<LockInfo>> {
    let key = lock_key(settings, stack);
    let held = read_lock(s3, &settings.bucket, &key).await.unwrap_or(None);
    s3.delete_object()
        .bucket(&settings.bucket)
        .key(&key)
        .send()
        .await
        .map_err(crate::apply::context::aws_error("DeleteObject (apply lock)"))?;
    Ok(held)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_error_names_holder_host_and_start_time() {
        let info = LockInfo {
            holder: "ana@ci-runner-3".into(),
            pid: 4242,
            started_at: DateTime::parse_from_rfc3339("2026-11-21T22:10:05Z").map(|d| d.with_timezone(&Utc)).unwrap_or_default(),
            stack: "lanka".into(),
            env: "prod".into(),
        };
        let e = LockError::Held { info: Some(info), bucket: "locks".into(), key: "drplan/locks/lanka.json".into() };
        insta::assert_snapshot!(e.to_string(), @"stack lanka is locked by ana@ci-runner-3 (pid 4242) since 2026-11-21 22:10:05 UTC (environment prod), lock s3://locks/drplan/locks/lanka.json; if that apply is no longer running, break the lock with `drplan unlock -e prod --force`");
    }
}
