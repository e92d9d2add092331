//! The test server against real clients, in one test binary (fewer links, less disk):
//! the `kube` client, Debian's `kubectl`, the standalone binary, and a throughput check.

mod binary;
mod kube_client;
mod kubectl;
mod throughput;
