//! The test server against real clients, in one test binary (fewer links, less disk):
//! the `kube` client, Debian's `kubectl`, the standalone binary, a throughput check,
//! and the server as an EKS endpoint (HTTPS, STS-token authentication).

mod binary;
mod eks;
mod kube_client;
mod kubectl;
mod throughput;
