//! Route53 health checks have no name and no server-side filter: the only way to find
//! a stack's own is to list every health check in the account. Their tags say whose
//! they are, but reading tags costs one request per ten checks at Route53's 5 requests
//! per second, so an account with 2,000 other health checks cost ~40 s per plan.
//!
//! The `CallerReference` a health check is created with comes back in the listing
//! itself. drplan's says which stack made it and at which address:
//! `drplan-<stack key>-<address key>-<digest>`, where the stack key is 8 hex of SHA-256
//! over the stack name, the address key 12 hex of SHA-256 over the address, and the
//! digest the request's deterministic token (idempotency). So the listing alone sorts
//! checks into
//! - this stack's at an address the spec has: no request at all, unless the spec gives
//!   the check tags to compare (the reference is the mark, set at creation and never
//!   changed);
//! - this stack's otherwise (an orphan, a `moved` one, or made before references named
//!   the address: `drplan-<stack key>-<digest>`): tags read to get the address;
//! - another stack's or nobody's: skipped, no request;
//! - made by drplan before references named the stack (`drplan-<33 hex>`): tags read.
//!
//! Route53 has no call to change a reference, so a check made by an older version
//! keeps costing its share of a tag request until it is replaced.

use drplan_core::address::Address;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Whose a health check is, from its CallerReference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// Made by drplan for this stack: read its tags.
    ThisStack,
    /// Made by drplan before references named the stack: read its tags to know.
    Unknown,
    /// Another stack's, or not drplan's: never this stack's.
    Other,
}

fn stack_key(stack: &str) -> String {
    hex::encode(&Sha256::digest(stack.as_bytes())[..4])
}

/// 12 hex of SHA-256 over the address: 48 bits, so two of a stack's thousands of
/// checks sharing one is a one-in-millions event, and then both are read by tags.
pub fn address_key(address: &str) -> String {
    hex::encode(&Sha256::digest(address.as_bytes())[..6])
}

/// The address key a reference made by this version carries.
pub fn address_key_of(reference: &str) -> Option<&str> {
    let rest = reference.strip_prefix("drplan-")?;
    let mut parts = rest.split('-');
    let (_stack, key, _digest) = (parts.next()?, parts.next()?, parts.next()?);
    (parts.next().is_none() && key.len() == 12).then_some(key)
}

/// The CallerReference of a health check this stack creates at `address` with
/// `attrs` (deterministic: a rerun after a crash finds its own).
pub fn health_check(stack: &str, address: &Address, attrs: &Map<String, Value>) -> String {
    let canonical = serde_json::to_vec(&(stack, address, attrs)).unwrap_or_default();
    let digest = hex::encode(Sha256::digest(canonical));
    format!(
        "drplan-{}-{}-{}",
        stack_key(stack),
        address_key(address.as_str()),
        &digest[..32]
    )
}

pub fn owner(reference: &str, stack: &str) -> Owner {
    let Some(rest) = reference.strip_prefix("drplan-") else {
        return Owner::Other;
    };
    match rest.split_once('-') {
        Some((key, _)) if key.len() == 8 => {
            if key == stack_key(stack) {
                Owner::ThisStack
            } else {
                Owner::Other
            }
        }
        // `drplan-<33 hex>`: the token of older versions, stack unknown.
        None if rest.len() == 33 && rest.chars().all(|c| c.is_ascii_hexdigit()) => Owner::Unknown,
        _ => Owner::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_says_which_stack_made_the_check() {
        let addr = Address::new("dns.api.target.primary.health_check");
        let attrs = Map::new();
        let ours = health_check("shop", &addr, &attrs);
        assert!(
            ours.len() <= 64,
            "Route53 takes 64 characters at most: {ours}"
        );
        assert_eq!(ours, health_check("shop", &addr, &attrs), "deterministic");
        assert_eq!(owner(&ours, "shop"), Owner::ThisStack);
        assert_eq!(
            address_key_of(&ours),
            Some(address_key("dns.api.target.primary.health_check").as_str())
        );
        let before_address_keys = format!("drplan-{}-{}", stack_key("shop"), "b".repeat(32));
        assert_eq!(owner(&before_address_keys, "shop"), Owner::ThisStack);
        assert_eq!(address_key_of(&before_address_keys), None);
        assert_eq!(owner(&ours, "lanka"), Owner::Other);
        assert_eq!(
            owner(&health_check("lanka", &addr, &attrs), "shop"),
            Owner::Other
        );
        let legacy = format!("drplan-{}", "a".repeat(33));
        assert_eq!(owner(&legacy, "shop"), Owner::Unknown);
        assert_eq!(owner("terraform-20240101", "shop"), Owner::Other);
        assert_eq!(owner("drplan-", "shop"), Owner::Other);
    }
}
