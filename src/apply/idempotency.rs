//! What makes a rerun after a crash converge instead of duplicating: deterministic
//! request tokens, and a failpoint to prove it.

use drplan_core::address::Address;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// A token that is the same for the same object and desired attributes, so a retried
/// or rerun create is recognised by services that honour tokens (EKS
/// `clientRequestToken`, Route53 `CallerReference`). 40 hex chars fits both limits.
pub fn request_token(stack: &str, address: &Address, attrs: &Map<String, Value>) -> String {
    let canonical = serde_json::to_vec(&(stack, address, attrs)).unwrap_or_default();
    let digest = hex::encode(Sha256::digest(canonical));
    format!("drplan-{}", &digest[..33])
}

/// Where a failpoint can fire around an object's change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailpointPhase {
    Before,
    After,
}

pub const FAILPOINT_ENV: &str = "DRPLAN_FAILPOINT";

/// `DRPLAN_FAILPOINT=<address>:<before|after>` aborts the whole process just before or
/// just after the cloud call(s) for that address, as a crash would: no unwinding, no
/// lock release, no report. Crash tests use it; nothing else should.
pub fn failpoint(address: &Address, phase: FailpointPhase) {
    let Ok(spec) = std::env::var(FAILPOINT_ENV) else { return };
    if failpoint_matches(&spec, address, phase) {
        eprintln!("drplan: failpoint {spec} reached, aborting");
        std::process::abort();
    }
}

fn failpoint_matches(spec: &str, address: &Address, phase: FailpointPhase) -> bool {
    let Some((addr, when)) = spec.rsplit_once(':') else { return false };
    let wanted = match when {
        "before" => FailpointPhase::Before,
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
        let a = json!({"name": "app", "version": "1.31"}).as_object().cloned().unwrap_or_default();
        let b = json!({"name": "app", "version": "1.32"}).as_object().cloned().unwrap_or_default();
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
        assert!(failpoint_matches("network.main.subnet.a:after", &addr, FailpointPhase::After));
        assert!(!failpoint_matches("network.main.subnet.a:after", &addr, FailpointPhase::Before));
        assert!(!failpoint_matches("network.main:before", &addr, FailpointPhase::Before));
        assert!(!failpoint_matches("garbage", &addr, FailpointPhase::Before));
    }
}
