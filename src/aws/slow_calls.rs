//! Shows what a command is waiting for. A request with no answer after
//! [`NOTICE_AFTER`] gets one stderr line naming service, operation and region; an
//! attempt that times out or cannot connect says so before the SDK retries it.
//! (Every request is bounded: [`super::default_timeout_config`].)

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// Silence this long is worth a line.
pub const NOTICE_AFTER: Duration = Duration::from_secs(5);
/// The same service/operation/region is named at most once per this.
const REPEAT_AFTER: Duration = Duration::from_secs(15);

#[derive(Debug, Default)]
pub(crate) struct SlowCallNotice;

/// The pending notice of the attempt in flight, cancelled when it is answered.
#[derive(Clone, Debug)]
struct PendingNotice(Arc<Mutex<Option<JoinHandle<()>>>>);

impl Storable for PendingNotice {
    type Storer = StoreReplace<Self>;
}

fn describe(cfg: &ConfigBag) -> String {
    let (service, operation) = cfg
        .load::<Metadata>()
        .map(|m| (m.service().to_string(), m.name().to_string()))
        .unwrap_or_default();
    let region = cfg
        .load::<aws_types::region::Region>()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "?".into());
    format!("{service} {operation} in {region}")
}

/// Whether `what` was not named in the last [`REPEAT_AFTER`] (and records it).
fn worth_saying(what: &str) -> bool {
    static SAID: OnceLock<Mutex<HashMap<String, Instant>>> = OnceLock::new();
    let mut said = SAID
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    match said.get(what) {
        Some(at) if at.elapsed() < REPEAT_AFTER => false,
        _ => {
            said.insert(what.to_string(), Instant::now());
            true
        }
    }
}

impl Intercept for SlowCallNotice {
    fn name(&self) -> &'static str {
        "DrplanSlowCallNotice"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return Ok(());
        };
        let what = describe(cfg);
        let attempt = cfg
            .load::<RequestAttempts>()
            .map(|a| a.attempts())
            .unwrap_or(1)
            .max(1);
        let task = handle.spawn(async move {
            tokio::time::sleep(NOTICE_AFTER).await;
            if worth_saying(&what) {
                eprintln!(
                    "Waiting for {what}: no answer after {}s (attempt {attempt})...",
                    NOTICE_AFTER.as_secs()
                );
            }
        });
        cfg.interceptor_state()
            .store_put(PendingNotice(Arc::new(Mutex::new(Some(task)))));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(pending) = cfg.load::<PendingNotice>() {
            if let Some(task) = pending.0.lock().unwrap_or_else(|p| p.into_inner()).take() {
                task.abort();
            }
        }
        if let Some(Err(e)) = context.output_or_error() {
            let connector = e.as_connector_error();
            let reason = if e.is_timeout_error() || connector.is_some_and(|c| c.is_timeout()) {
                Some("timed out")
            } else if connector.is_some_and(|c| c.is_io()) {
                Some("could not connect")
            } else {
                None
            };
            if let Some(reason) = reason {
                let what = describe(cfg);
                let attempt = cfg
                    .load::<RequestAttempts>()
                    .map(|a| a.attempts())
                    .unwrap_or(1)
                    .max(1);
                eprintln!(
                    "{what}: attempt {attempt} {reason}; retrying while attempts and time remain."
                );
            }
        }
        Ok(())
    }
}
