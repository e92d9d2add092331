//! What makes a rerun after a crash converge instead of duplicating: deterministic
//! request tokens, per-attempt markers with look-before-retry for creates that take
//! no token, and a failpoint to prove it.

use super::context::aws_error;
use anyhow::Result;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use drplan_core::address::Address;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A token that is the same for the same object and desired attributes, so a retried
/// or rerun create is recognised by services that honour tokens (EKS
/// `clientRequestToken`, Route53 `CallerReference`). 40 hex chars fits both limits.
pub fn request_token(stack: &str, address: &Address, attrs: &Map<String, Value>) -> String {
    let canonical = serde_json::to_vec(&(stack, address, attrs)).unwrap_or_default();
    let digest = hex::encode(Sha256::digest(canonical));
    format!("drplan-{}", &digest[..33])
}

/// A value no other create attempt has: written on the object with its create (a tag
/// `drplan:attempt`), so that after a failure that may have taken effect the object
/// can be looked up before the create is sent again.
pub fn attempt_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let digest = hex::encode(Sha256::digest(format!(
        "{}-{nanos}-{n}",
        std::process::id()
    )));
    digest[..24].to_string()
}

/// Tag key of the per-attempt marker.
pub const ATTEMPT_KEY: &str = "drplan:attempt";

const CREATE_ATTEMPTS: u32 = 5;

/// Whether a failed call may be tried again, and whether it may have taken effect
/// (the request was sent and its answer lost or unreadable).
fn classify<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> (bool, bool) {
    const THROTTLED: [&str; 7] = [
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "SlowDown",
        "RequestThrottled",
        "TooManyRequestsException",
        "PriorRequestNotComplete",
    ];
    match e {
        SdkError::ConstructionFailure(_) => (false, false),
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            (true, true)
        }
        SdkError::ServiceError(s) => {
            let server = s.raw().status().as_u16() >= 500;
            let throttled = e.code().is_some_and(|c| THROTTLED.contains(&c));
            (server || throttled, server)
        }
        _ => (true, true),
    }
}

/// Creates an object through a call that takes no idempotency token the service
/// honours (EC2 CreateVpc/CreateSubnet; Route53 CallerReference, which emulators
/// ignore). `create` must send the request with the SDK's retries off and a
/// per-attempt marker on the object; after a failure that may have taken effect,
/// `look` searches for that marker before the next try, so a lost answer never
/// becomes a second object.
pub async fn create_once<T, E, C, CF, L, LF>(
    operation: &'static str,
    mut create: C,
    mut look: L,
) -> Result<T>
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    C: FnMut() -> CF,
    CF: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    L: FnMut() -> LF,
    LF: Future<Output = Result<Option<T>>>,
{
    let mut delay = Duration::from_millis(50);
    let mut attempt = 1;
    loop {
        let e = match create().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let (retry, maybe_done) = classify(&e);
        if maybe_done {
            if let Some(found) = look().await? {
                return Ok(found);
            }
        }
        if !retry || attempt >= CREATE_ATTEMPTS {
            return Err(aws_error(operation)(e));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
        attempt += 1;
    }
}

/// The SDK retry policy for one create sent through [`create_once`]: none.
pub fn no_retries() -> aws_smithy_types::retry::RetryConfig {
    aws_smithy_types::retry::RetryConfig::disabled()
}

/// Where a failpoint can fire around an object's change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailpointPhase {
    Before,
    /// Right after the create call returned, before the object is marked (for kinds
    /// marked in the create call itself, before anything else is done to it).
    Created,
    After,
}

pub const FAILPOINT_ENV: &str = "DRPLAN_FAILPOINT";

/// `DRPLAN_FAILPOINT=<address>:<before|created|after>` aborts the whole process just before or
/// just after the cloud call(s) for that address, as a crash would: no unwinding, no
/// lock release, no report. Crash tests use it; nothing else should. Compiled into
/// debug builds only (the tests' profile): a release binary ignores the variable, so an
/// environment cannot make a production apply abort.
pub fn failpoint(address: &Address, phase: FailpointPhase) {
    if !cfg!(debug_assertions) {
        return;
    }
    let Ok(spec) = std::env::var(FAILPOINT_ENV) else {
        return;
    };
    if failpoint_matches(&spec, address, phase) {
        eprintln!("drplan: failpoint {spec} reached, aborting");
        std::process::abort();
    }
}

fn failpoint_matches(spec: &str, address: &Address, phase: FailpointPhase) -> bool {
    let Some((addr, when)) = spec.rsplit_once(':') else {
        return false;
    };
    let wanted = match when {
        "before" => FailpointPhase::Before,
        "created" => FailpointPhase::Created,
        "after" => FailpointPhase::After,
        _ => return false,
    };
    addr == address.as_str() && wanted == phase
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_are_stable_and_depend_on_everything_they_hash() {
        let a = json!({"name": "app", "version": "1.31"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let b = json!({"name": "app", "version": "1.32"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let addr = Address::new("cluster.app");
        let t = request_token("lanka", &addr, &a);
        assert_eq!(t, request_token("lanka", &addr, &a));
        assert_ne!(t, request_token("lanka", &addr, &b));
        assert_ne!(t, request_token("other", &addr, &a));
        assert_eq!(t.len(), 40);
    }

    #[test]
    fn failpoint_spec_names_an_address_and_a_phase() {
        let addr = Address::new("network.main.subnet.a");
        assert!(failpoint_matches(
            "network.main.subnet.a:after",
            &addr,
            FailpointPhase::After
        ));
        assert!(!failpoint_matches(
            "network.main.subnet.a:after",
            &addr,
            FailpointPhase::Before
        ));
        assert!(!failpoint_matches(
            "network.main:before",
            &addr,
            FailpointPhase::Before
        ));
        assert!(!failpoint_matches("garbage", &addr, FailpointPhase::Before));
        assert!(failpoint_matches(
            "network.main.subnet.a:created",
            &addr,
            FailpointPhase::Created
        ));
    }
}
