//! EKS clusters with a real API server behind them: moto creates the cluster, a
//! kube-testserver stands in for its control plane (HTTPS with its own CA,
//! EKS-style authentication that replays tokens to moto's STS), and the
//! [`FaultProxy`] in front of moto makes DescribeCluster report that server's
//! endpoint and CA instead of moto's made-up ones.

use super::faultproxy::{Exchange, FaultProxy};
use super::moto::MotoServer;
use kube_testserver::{EksAuth, Options, TestServer};
use serde_json::Value;

/// The API server of the EKS cluster `cluster_name`: tokens must be presigned for
/// that name with the credentials the CLI gets from `moto` (moto checks no
/// signatures, so the server checks them), and are confirmed by replaying them to
/// STS through `proxy`.
pub async fn api_server(moto: &MotoServer, proxy: &FaultProxy, cluster_name: &str) -> TestServer {
    api_server_with_secret(
        moto,
        proxy,
        cluster_name,
        &cli_credential(moto, "AWS_SECRET_ACCESS_KEY"),
    )
    .await
}

/// As [`api_server`], but expecting tokens signed with `secret` (to refuse the CLI's).
pub async fn api_server_with_secret(
    moto: &MotoServer,
    proxy: &FaultProxy,
    cluster_name: &str,
    secret: &str,
) -> TestServer {
    let auth = EksAuth::new(cluster_name, proxy.url())
        .with_signing_key(&cli_credential(moto, "AWS_ACCESS_KEY_ID"), secret);
    api_server_with_auth(auth).await
}

/// As [`api_server`], but every token is already too old (a clock far ahead of the
/// CLI's): the expiry path, without waiting 15 minutes.
pub async fn api_server_expiring_every_token(
    moto: &MotoServer,
    proxy: &FaultProxy,
    cluster_name: &str,
) -> TestServer {
    let mut auth = EksAuth::new(cluster_name, proxy.url()).with_signing_key(
        &cli_credential(moto, "AWS_ACCESS_KEY_ID"),
        &cli_credential(moto, "AWS_SECRET_ACCESS_KEY"),
    );
    auth.max_token_age = std::time::Duration::ZERO;
    api_server_with_auth(auth).await
}

async fn api_server_with_auth(auth: EksAuth) -> TestServer {
    TestServer::start_with(Options {
        tls: true,
        eks_auth: Some(auth),
        simulate_rollouts: true,
        ..Options::default()
    })
    .await
}

fn cli_credential(moto: &MotoServer, name: &str) -> String {
    moto.env_for_cli()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

/// From now on, DescribeCluster of `cluster_name` in `region` answers `server`'s
/// endpoint and CA.
pub fn route_cluster_to(proxy: &FaultProxy, region: &str, cluster_name: &str, server: &TestServer) {
    let (region, path) = (region.to_string(), format!("/clusters/{cluster_name}"));
    let (endpoint, ca) = (
        server.url(),
        server.ca_data().unwrap_or_default().to_string(),
    );
    proxy.rewrite_responses(move |exchange: &Exchange, body: &mut Vec<u8>| {
        let describe =
            exchange.service == "eks" && exchange.method == "GET" && exchange.path() == path;
        if !describe || exchange.region != region || exchange.status != 200 {
            return;
        }
        let Ok(mut answer) = serde_json::from_slice::<Value>(body) else {
            return;
        };
        if let Some(cluster) = answer.get_mut("cluster").and_then(Value::as_object_mut) {
            cluster.insert("endpoint".into(), Value::from(endpoint.clone()));
            cluster.insert(
                "certificateAuthority".into(),
                serde_json::json!({ "data": ca }),
            );
            if let Ok(bytes) = serde_json::to_vec(&answer) {
                *body = bytes;
            }
        }
    });
}
