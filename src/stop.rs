//! Stopping a run part-way, in two steps: first nothing new starts ("stopping"), then
//! what is still in flight is abandoned ("abandoned": after a grace period, or at
//! once on a second request). Signals and a lost lock request it
//! (`commands::interrupt`, `lock`); the apply walk obeys it (`apply::walk`).

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Running,
    Stopping,
    Abandoned,
}

#[derive(Clone, Debug)]
pub struct Stop {
    level: Arc<watch::Sender<Level>>,
    cause: Arc<Mutex<Option<String>>>,
    /// Set once changes have begun: from then on a stop lets work in flight end.
    committed: Arc<std::sync::atomic::AtomicBool>,
}

impl Default for Stop {
    fn default() -> Self {
        Stop::new()
    }
}

impl Stop {
    pub fn new() -> Self {
        Stop {
            level: Arc::new(watch::channel(Level::Running).0),
            cause: Arc::default(),
            committed: Arc::default(),
        }
    }

    /// Stop starting new work because of `cause` (the first cause is kept); what is
    /// in flight is abandoned after `grace`. A second request abandons it at once.
    /// Returns whether this was the first request.
    pub fn request(&self, cause: impl Into<String>, grace: Duration) -> bool {
        let first = {
            let mut c = self.cause.lock().unwrap_or_else(|p| p.into_inner());
            let first = c.is_none();
            if first {
                *c = Some(cause.into());
            }
            first
        };
        if !first {
            self.abandon();
            return false;
        }
        self.raise(Level::Stopping);
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                let me = self.clone();
                handle.spawn(async move {
                    tokio::time::sleep(grace).await;
                    me.abandon();
                });
            }
            Err(_) => self.abandon(),
        }
        true
    }

    /// Give up on work in flight now.
    pub fn abandon(&self) {
        self.raise(Level::Abandoned);
    }

    fn raise(&self, to: Level) {
        self.level.send_if_modified(|l| {
            let up = *l < to;
            if up {
                *l = to;
            }
            up
        });
    }

    pub fn is_stopping(&self) -> bool {
        *self.level.borrow() >= Level::Stopping
    }

    pub fn is_abandoned(&self) -> bool {
        *self.level.borrow() >= Level::Abandoned
    }

    /// Why the run is stopping, once it is.
    pub fn cause(&self) -> Option<String> {
        self.cause.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Resolves once a stop was requested.
    pub async fn stopping(&self) {
        self.reached(Level::Stopping).await
    }

    /// Resolves once work in flight is to be abandoned.
    pub async fn abandoned(&self) {
        self.reached(Level::Abandoned).await
    }

    async fn reached(&self, level: Level) {
        let mut rx = self.level.subscribe();
        if rx.wait_for(|l| *l >= level).await.is_err() {
            std::future::pending::<()>().await
        }
    }

    /// Changes have begun (the walk started).
    pub fn commit(&self) {
        self.committed
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn is_committed(&self) -> bool {
        self.committed.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stop_abandons_after_its_grace_or_at_a_second_request() {
        let stop = Stop::new();
        assert!(!stop.is_stopping());
        assert!(stop.request("SIGINT", Duration::from_millis(50)));
        assert!(stop.is_stopping() && !stop.is_abandoned());
        tokio::time::timeout(Duration::from_secs(2), stop.abandoned())
            .await
            .expect("abandoned after the grace");
        assert_eq!(stop.cause().as_deref(), Some("SIGINT"));

        let stop = Stop::new();
        stop.request("SIGTERM", Duration::from_secs(3600));
        assert!(!stop.request("SIGINT", Duration::from_secs(3600)));
        assert!(stop.is_abandoned());
        assert_eq!(stop.cause().as_deref(), Some("SIGTERM"));
    }
}
