//! Keeping a held lease: a task renews the lock object every third of the lease,
//! `If-Match` on the ETag this run last wrote. If another apply took the lock over
//! (the lease lapsed, or `unlock --force` broke it), or renewals fail for a whole
//! lease, the apply is told to stop: two holders must never both be changing things.

use super::s3io::{put, read, PutCondition, PutError};
use super::LockInfo;
use crate::stop::Stop;
use aws_sdk_s3::Client;
use chrono::Utc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

#[derive(Clone, Debug)]
struct State {
    info: LockInfo,
    etag: String,
}

pub struct Lease {
    state: Arc<Mutex<State>>,
    task: Option<JoinHandle<()>>,
}

impl Lease {
    pub fn new(info: LockInfo, etag: String) -> Self {
        Lease {
            state: Arc::new(Mutex::new(State { info, etag })),
            task: None,
        }
    }

    pub fn info(&self) -> LockInfo {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .info
            .clone()
    }

    pub fn start_renewing(
        &mut self,
        s3: &Client,
        bucket: &str,
        key: &str,
        stop: Stop,
        grace: Duration,
    ) {
        if self.task.is_some() {
            return;
        }
        let (s3, bucket, key, state) = (
            s3.clone(),
            bucket.to_string(),
            key.to_string(),
            self.state.clone(),
        );
        self.task = Some(tokio::spawn(async move {
            renew_until_lost(&s3, &bucket, &key, &state, &stop, grace).await
        }));
    }

    pub fn stop_renewing(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.stop_renewing();
    }
}

async fn renew_until_lost(
    s3: &Client,
    bucket: &str,
    key: &str,
    state: &Mutex<State>,
    stop: &Stop,
    grace: Duration,
) {
    let lease = Duration::from_secs(
        state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .info
            .lease_seconds
            .max(1),
    );
    let every = (lease / 3).max(Duration::from_millis(500));
    let mut last_renewed = Instant::now();
    loop {
        tokio::time::sleep(every).await;
        let current = state.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut next = current.info.clone();
        next.renewals += 1;
        next.renewed_at = Some(Utc::now());
        let Ok(body) = serde_json::to_vec_pretty(&next) else {
            continue;
        };
        let lost = match put(
            s3,
            bucket,
            key,
            body,
            PutCondition::Matches(current.etag.clone()),
        )
        .await
        {
            Ok(etag) => {
                *state.lock().unwrap_or_else(|p| p.into_inner()) = State { info: next, etag };
                last_renewed = Instant::now();
                None
            }
            // Our own earlier renewal may have landed with its answer lost: the
            // object is then still ours, under an ETag we did not see.
            Err(PutError::Conflict) => match read(s3, bucket, key).await {
                Ok(Some(seen))
                    if seen
                        .info
                        .as_ref()
                        .is_some_and(|i| i.run_id == current.info.run_id) =>
                {
                    if let Some(info) = seen.info {
                        *state.lock().unwrap_or_else(|p| p.into_inner()) = State {
                            info,
                            etag: seen.etag,
                        };
                    }
                    None
                }
                Ok(Some(seen)) => Some(format!(
                    "the apply lock s3://{bucket}/{key} was taken over by {}",
                    seen.info
                        .map(|i| format!("{} (pid {})", i.holder, i.pid))
                        .unwrap_or_else(|| "an unreadable object".into())
                )),
                Ok(None) => Some(format!(
                    "the apply lock s3://{bucket}/{key} was broken (`drplan unlock --force`?)"
                )),
                Err(_) => None,
            },
            Err(e) => {
                let cause = e.into_anyhow("PutObject (apply lock renewal)");
                if last_renewed.elapsed() >= lease {
                    Some(format!("the apply lock could not be renewed for a whole lease ({cause:#}); another apply may take it"))
                } else {
                    eprintln!(
                        "Warning: could not renew the apply lock ({cause:#}); trying again in {}s.",
                        every.as_secs()
                    );
                    None
                }
            }
        };
        if let Some(why) = lost {
            eprintln!("Error: {why}: stopping this apply (no new changes start).");
            stop.request(why, grace);
            return;
        }
    }
}
