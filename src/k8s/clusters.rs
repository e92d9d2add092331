//! The clusters of a topology, connected as the environment says, and read together
//! into one [`LiveState`].

use super::client::{self, ClientError};
use super::kinds::Kinds;
use super::live::{read_cluster, ClusterRef};
use crate::reach;
use drplan_core::address::Address;
use drplan_core::live::{LiveState, ReachFailure, Unreachable};
use drplan_core::model::{ClusterAccess, Environment, Topology};
use drplan_core::resource::Resource;

/// A cluster drplan can talk to.
pub struct Connected {
    pub label: String,
    pub cluster: ClusterRef,
    pub kinds: Kinds,
}

// One per cluster per run: the size difference to `Absent` costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum Connection {
    Ready(Connected),
    /// The EKS cluster does not exist yet: its objects are all creates.
    Absent,
}

/// Connects to the `cluster` block `label`: through its `cluster_access` entry, else
/// through EKS (`eks`: the cluster's regional EKS client and the SDK configuration).
pub async fn connect(
    topology: &Topology,
    env: &Environment,
    label: &str,
    eks: Option<(&aws_sdk_eks::Client, &aws_types::SdkConfig)>,
) -> Result<Connection, ClientError> {
    let Some(cluster) = topology.clusters.get(label) else {
        return Err(ClientError::Build {
            target: format!("cluster `{label}`"),
            reason: "no such cluster block".into(),
        });
    };
    let access = env
        .cluster_access
        .get(label)
        .cloned()
        .unwrap_or(ClusterAccess::Eks);
    match client::for_cluster(&access, &cluster.name, eks).await {
        Ok(client) => Ok(Connection::Ready(Connected {
            label: label.to_string(),
            cluster: ClusterRef {
                address: Address::block("cluster", label),
                region: topology.sites.get(&cluster.site).map(|s| s.region.clone()),
            },
            kinds: Kinds::new(client),
        })),
        Err(ClientError::ClusterAbsent { .. }) => Ok(Connection::Absent),
        Err(e) => Err(e),
    }
}

/// Reads every connected cluster concurrently, each raced against a probe of its
/// API server: a cluster that does not answer is reported in `unreachable` within
/// [`reach::PROBE_TIMEOUT`], not as one error per kind.
pub async fn read_all(clusters: &[Connected], stack: &str, desired: &[Resource]) -> LiveState {
    let reads = futures::future::join_all(clusters.iter().map(|c| async move {
        let probe = reach::probe(|| probe_cluster(c.kinds.client()));
        let read = reach::race(
            probe,
            read_cluster(&c.kinds, &c.cluster, stack, desired),
            |r| !r.errors.is_empty(),
        )
        .await;
        (c, read)
    }))
    .await;
    let mut live = LiveState::default();
    for (c, read) in reads {
        match read {
            Ok(read) => {
                live.objects.extend(read.objects);
                live.api_calls += read.api_calls;
                live.read_errors.extend(read.errors);
                live.observed.extend(read.observed);
            }
            Err((cause, detail)) => live.unreachable.push(Unreachable {
                site: None,
                region: c.cluster.region.clone(),
                service: "kubernetes".into(),
                cluster: Some(c.cluster.address.clone()),
                cause,
                detail,
            }),
        }
    }
    live
}

/// `GET /version`, bounded: `None` if the server answered anything.
async fn probe_cluster(client: &kube::Client) -> Option<reach::Failure> {
    match tokio::time::timeout(reach::probe_timeout(), client.apiserver_version()).await {
        Err(_) => Some((
            ReachFailure::Timeout,
            format!(
                "no answer within {:.1}s",
                reach::probe_timeout().as_secs_f64()
            ),
        )),
        Ok(Ok(_)) => None,
        Ok(Err(e)) => reach::kube_failure(&e),
    }
}
