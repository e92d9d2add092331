//! The tests' names for the one test proxy (`crates/testproxy`): in front of moto it
//! injects seeded faults and latency, intercepts, hangs or rewrites chosen requests,
//! takes regions down, and routes presigned requests to the right moto service.
//! Point the SDK at [`FaultProxy::url`] as its endpoint.

#![allow(unused_imports)]

pub use testproxy::{
    Config as FaultConfig, Counters, Exchange, Fault, Intercept, Outage, Proxy as FaultProxy,
};
