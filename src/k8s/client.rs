//! A `kube::Client` for one cluster, from the environment's `cluster_access`: a
//! kubeconfig context, or (the default for EKS) the endpoint and CA that
//! DescribeCluster reports plus an STS-presigned bearer token.
//!
//! EKS tokens are valid for 15 minutes and an apply can outlast that many times (a
//! restore Job): an EKS client signs a fresh token for its requests as the old one
//! ages (`token_source`).

use super::token_source::TokenSource;
use base64::Engine;
use drplan_core::model::ClusterAccess;
use kube::client::ClientBuilder;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tower::buffer::BufferLayer;
use tower::filter::AsyncFilterLayer;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Lists and applies answer in well under this; a server that accepts connections
/// and never answers fails the request after it (it was 60 s). Requests poll, none
/// watches, so no legitimate answer is silent this long.
const READ_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read kubeconfig {path}: {reason}")]
    Kubeconfig { path: String, reason: String },
    #[error("kubeconfig context `{context}`: {reason}")]
    Context { context: String, reason: String },
    #[error("EKS cluster `{cluster}`: {reason}")]
    Eks { cluster: String, reason: String },
    /// The EKS cluster does not exist (yet): nothing can be read from it, and
    /// everything planned in it is a create.
    #[error("EKS cluster `{cluster}` does not exist")]
    ClusterAbsent { cluster: String },
    #[error("cannot build a Kubernetes client for {target}: {reason}")]
    Build { target: String, reason: String },
    /// The cluster's API (or its region's EKS API) did not answer at all.
    #[error("EKS cluster `{cluster}` did not answer: {} ({detail})", cause.describe())]
    Unreachable {
        cluster: String,
        cause: drplan_core::live::ReachFailure,
        detail: String,
    },
}

/// The client for the cluster named `cluster_name` (the EKS name), reached as
/// `access` says. `eks` (the regional EKS client and the SDK configuration whose
/// credentials sign the token) is needed only for [`ClusterAccess::Eks`].
pub async fn for_cluster(
    access: &ClusterAccess,
    cluster_name: &str,
    eks: Option<(&aws_sdk_eks::Client, &aws_types::SdkConfig)>,
) -> Result<Client, ClientError> {
    match access {
        ClusterAccess::Kubeconfig { path, context } => {
            from_kubeconfig(path.as_deref(), context).await
        }
        ClusterAccess::Eks => match eks {
            Some((eks, sdk)) => from_eks(eks, sdk, cluster_name).await,
            None => Err(ClientError::Eks {
                cluster: cluster_name.to_string(),
                reason: "no AWS EKS client was configured for this region".into(),
            }),
        },
    }
}

/// `path` None means `$KUBECONFIG` or `~/.kube/config`, as kubectl reads it.
pub async fn from_kubeconfig(path: Option<&str>, context: &str) -> Result<Client, ClientError> {
    let (shown, kubeconfig) = match path {
        Some(p) => {
            let full = expand_home(p);
            let shown = full.display().to_string();
            let k = Kubeconfig::read_from(&full).map_err(|e| ClientError::Kubeconfig {
                path: shown.clone(),
                reason: e.to_string(),
            })?;
            (shown, k)
        }
        None => {
            let k = Kubeconfig::read().map_err(|e| ClientError::Kubeconfig {
                path: "$KUBECONFIG or ~/.kube/config".into(),
                reason: e.to_string(),
            })?;
            ("$KUBECONFIG".to_string(), k)
        }
    };
    if !kubeconfig.contexts.iter().any(|c| c.name == context) {
        let known: Vec<&str> = kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        return Err(ClientError::Context {
            context: context.to_string(),
            reason: format!(
                "not found in {shown} (contexts there: {})",
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            ),
        });
    }
    let options = KubeConfigOptions {
        context: Some(context.to_string()),
        ..Default::default()
    };
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| ClientError::Context {
            context: context.to_string(),
            reason: e.to_string(),
        })?;
    with_timeouts(&mut config);
    Client::try_from(config).map_err(|e| ClientError::Build {
        target: format!("context `{context}`"),
        reason: e.to_string(),
    })
}

/// Endpoint + CA from DescribeCluster; a bearer token signed in the EKS client's
/// region with the credentials `sdk` resolves (the EKS client's own configuration
/// does not expose them).
pub async fn from_eks(
    eks: &aws_sdk_eks::Client,
    sdk: &aws_types::SdkConfig,
    cluster_name: &str,
) -> Result<Client, ClientError> {
    let fail = |reason: String| ClientError::Eks {
        cluster: cluster_name.to_string(),
        reason,
    };
    let described = match eks.describe_cluster().name(cluster_name).send().await {
        Ok(d) => d,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            return Err(ClientError::ClusterAbsent {
                cluster: cluster_name.to_string(),
            });
        }
        Err(e) => {
            if let Some((cause, detail)) = crate::reach::sdk_failure(&e) {
                return Err(ClientError::Unreachable {
                    cluster: cluster_name.to_string(),
                    cause,
                    detail: format!("DescribeCluster: {detail}"),
                });
            }
            return Err(fail(format!(
                "DescribeCluster failed: {}",
                aws_sdk_eks::error::DisplayErrorContext(&e)
            )));
        }
    };
    let cluster = described
        .cluster()
        .ok_or_else(|| fail("DescribeCluster returned no cluster".into()))?;
    let endpoint = cluster.endpoint().ok_or_else(|| {
        fail("the cluster has no API endpoint yet (is it still CREATING?)".into())
    })?;
    let ca = cluster
        .certificate_authority()
        .and_then(|c| c.data())
        .ok_or_else(|| fail("the cluster reports no certificate authority".into()))?;
    let region = eks
        .config()
        .region()
        .or(sdk.region())
        .map(|r| r.to_string())
        .ok_or_else(|| fail("the EKS client has no region".into()))?;
    let provider = sdk
        .credentials_provider()
        .ok_or_else(|| fail("no AWS credentials are configured".into()))?;
    let source = Arc::new(TokenSource::new(provider, &region, cluster_name));
    // The first token now, so that credentials that cannot be loaded or signed with
    // are this cluster's error, not a transport error of every request.
    source.bearer().await.map_err(fail)?;
    let config = eks_config(endpoint, ca).map_err(fail)?;
    let builder = ClientBuilder::try_from(config).map_err(|e| ClientError::Build {
        target: format!("EKS cluster `{cluster_name}`"),
        reason: e.to_string(),
    })?;
    // The filter awaits the token before the request goes on, and tower's filter needs
    // a service it can clone: kube's stack is a boxed one, so it goes behind a buffer.
    let client = builder
        .with_layer(&BufferLayer::new(BUFFERED_REQUESTS))
        .with_layer(&AsyncFilterLayer::new(
            move |request: http::Request<kube::client::Body>| {
                let source = source.clone();
                async move { source.authorize(request).await }
            },
        ))
        .build();
    check_access(&client, endpoint, cluster_name).await?;
    Ok(client)
}

/// Requests queued in front of an EKS client while its token is signed; more wait
/// for room. A plan or apply has at most a few dozen in flight per cluster.
const BUFFERED_REQUESTS: usize = 256;

/// One request with the new token before any real work: a refused token (another
/// cluster's, expired, credentials STS does not accept) or an unreachable endpoint is
/// then one clear error for the cluster, not one per kind read or object applied.
async fn check_access(
    client: &Client,
    endpoint: &str,
    cluster_name: &str,
) -> Result<(), ClientError> {
    let fail = |reason: String| ClientError::Eks {
        cluster: cluster_name.to_string(),
        reason,
    };
    let unreachable = |(cause, detail): crate::reach::Failure| ClientError::Unreachable {
        cluster: cluster_name.to_string(),
        cause,
        detail: format!("the API server at {endpoint}: {detail}"),
    };
    let answer =
        tokio::time::timeout(crate::reach::probe_timeout(), client.apiserver_version()).await;
    match answer {
        Err(_) => Err(unreachable((
            drplan_core::live::ReachFailure::Timeout,
            format!(
                "no answer within {:.1}s",
                crate::reach::probe_timeout().as_secs_f64()
            ),
        ))),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(kube::Error::Api(status))) if status.code == 401 || status.code == 403 => {
            Err(fail(format!(
                "the API server at {endpoint} refused drplan's STS token ({} {}): {}",
                status.code, status.reason, status.message
            )))
        }
        Ok(Err(e)) => match crate::reach::kube_failure(&e) {
            Some(failure) => Err(unreachable(failure)),
            None => Err(fail(format!(
                "cannot reach the API server at {endpoint}: {e}"
            ))),
        },
    }
}

/// The client settings for an EKS endpoint: `ca_data` is the base64 PEM bundle
/// DescribeCluster returns. No credentials: the client adds a token per request.
pub fn eks_config(endpoint: &str, ca_data: &str) -> Result<Config, String> {
    let url = endpoint
        .parse()
        .map_err(|e| format!("endpoint `{endpoint}` is not a URL: {e}"))?;
    let pem_text = base64::engine::general_purpose::STANDARD
        .decode(ca_data.trim())
        .map_err(|e| format!("the certificate authority is not base64: {e}"))?;
    let certs = pem::parse_many(&pem_text)
        .map_err(|e| format!("the certificate authority is not PEM: {e}"))?;
    let der: Vec<Vec<u8>> = certs
        .into_iter()
        .filter(|p| p.tag() == "CERTIFICATE")
        .map(|p| p.into_contents())
        .collect();
    if der.is_empty() {
        return Err("the certificate authority holds no certificate".into());
    }
    let mut config = Config::new(url);
    config.root_cert = Some(der);
    with_timeouts(&mut config);
    Ok(config)
}

/// rustls needs a process-wide crypto provider before kube's first TLS client: the
/// same aws-lc-rs the AWS SDK's client uses (one provider in the binary).
fn ensure_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err means another provider is installed already, which serves as well.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}

fn with_timeouts(config: &mut Config) {
    ensure_crypto_provider();
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // PEM framing around certificate-shaped bytes: only the framing is parsed here;
    // rustls checks the DER when it connects.
    const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIBdjCCAR2gAwIBAgIUQ0Vx7t5dVx2sZc2gXn1yqgm3Jw8wCgYIKoZIzj0EAwIw\nETEPMA0GA1UEAwwGZWtzLWNhMB4XDTI2MDEwMTAwMDAwMFoXDTM2MDEwMTAwMDAw\nMFowETEPMA0GA1UEAwwGZWtzLWNhMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END CERTIFICATE-----\n";

    #[test]
    fn eks_config_carries_endpoint_and_ca() {
        let ca = base64::engine::general_purpose::STANDARD.encode(CERT);
        let config =
            eks_config("https://abc.gr7.us-west-2.eks.amazonaws.com", &ca).expect("config");
        assert_eq!(
            config.cluster_url.host(),
            Some("abc.gr7.us-west-2.eks.amazonaws.com")
        );
        assert_eq!(config.root_cert.as_ref().map(Vec::len), Some(1));
        assert!(
            config.auth_info.token.is_none(),
            "the token is added per request, not fixed in the config"
        );
        assert!(
            !format!("{:?}", config.auth_info).contains("k8s-aws-v1.abc"),
            "the token must not show in Debug"
        );
    }

    #[test]
    fn eks_config_rejects_a_bad_ca() {
        assert!(eks_config("https://x", "not base64!")
            .unwrap_err()
            .contains("not base64"));
        let no_cert = base64::engine::general_purpose::STANDARD.encode("hello");
        assert!(eks_config("https://x", &no_cert)
            .unwrap_err()
            .contains("no certificate"));
    }
}
