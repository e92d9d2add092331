//! Kubernetes object changes: server-side apply into the cluster the object names.
//!
//! Clusters are connected lazily, when their first object is applied: by then the
//! walk has created the cluster and its node groups (objects depend on them), so an
//! EKS cluster that did not exist at plan time can be reached.

use crate::aws::AwsContext;
use crate::k8s::apply as k8s_apply;
use crate::k8s::clusters::{self, Connection};
use crate::k8s::kinds::Kinds;
use anyhow::{anyhow, Result};
use drplan_core::model::{Environment, Topology};
use drplan_core::plan::ResourceChange;
use drplan_core::resource::Resource;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;

/// How apply reaches the clusters of one project.
pub struct Clusters<'a> {
    topology: &'a Topology,
    environment: &'a Environment,
    aws: &'a AwsContext,
    connected: Mutex<HashMap<String, Arc<Kinds>>>,
}

impl<'a> Clusters<'a> {
    pub fn new(topology: &'a Topology, environment: &'a Environment, aws: &'a AwsContext) -> Self {
        Clusters {
            topology,
            environment,
            aws,
            connected: Mutex::new(HashMap::new()),
        }
    }

    /// The connection to the cluster at `cluster_address` (`cluster.<label>`), made once.
    pub async fn kinds(&self, cluster_address: &str) -> Result<Arc<Kinds>> {
        let label = cluster_address
            .strip_prefix("cluster.")
            .ok_or_else(|| anyhow!("`{cluster_address}` is not a cluster address"))?;
        let mut cache = self.connected.lock().await;
        if let Some(k) = cache.get(label) {
            return Ok(k.clone());
        }
        let region = self
            .topology
            .clusters
            .get(label)
            .and_then(|c| self.topology.sites.get(&c.site))
            .map(|s| s.region.clone())
            .ok_or_else(|| anyhow!("no cluster block `{label}` with a site region in the spec"))?;
        let eks = self.aws.eks(&region);
        let connection = clusters::connect(
            self.topology,
            self.environment,
            label,
            Some((&eks, self.aws.sdk_config_for(&region))),
        )
        .await
        .map_err(|e| anyhow!("cannot reach cluster `{label}`: {e}"))?;
        let Connection::Ready(connected) = connection else {
            return Err(anyhow!(
                "cluster `{label}` does not exist (yet): its EKS cluster was not found"
            ));
        };
        let kinds = Arc::new(connected.kinds);
        cache.insert(label.to_string(), kinds.clone());
        Ok(kinds)
    }

    /// Applies `change`; with `ready`, returns only once a workload has rolled out
    /// (another change of the plan waits for it: `ResourceChange::wait_for`).
    pub async fn apply(&self, change: &ResourceChange, ready: bool) -> Result<()> {
        let attrs = change
            .after
            .clone()
            .ok_or_else(|| anyhow!("{}: no desired state to apply", change.address))?;
        let kinds = self.kinds(cluster_of(&attrs)?).await?;
        let resource = Resource {
            ignore_changes: Vec::new(),
            address: change.address.clone(),
            kind: change.kind,
            site: change.site.clone(),
            region: change.region.clone(),
            attrs,
            sensitive: change.sensitive.clone(),
            depends_on: change.depends_on.clone(),
            protect: change.protect,
            source: None,
        };
        k8s_apply::apply(&kinds, &resource).await?;
        if ready {
            crate::k8s::rollout::wait_rolled_out(&kinds, &resource.attrs)
                .await
                .map_err(|e| anyhow!("{}: waiting for the rollout failed: {e}", change.address))?;
        }
        Ok(())
    }

    pub async fn delete(&self, change: &ResourceChange) -> Result<()> {
        let attrs = change
            .before
            .as_ref()
            .ok_or_else(|| anyhow!("{}: the plan has no live state to delete", change.address))?;
        let kinds = self.kinds(cluster_of(attrs)?).await?;
        k8s_apply::delete(&kinds, change.address.as_str(), attrs).await?;
        Ok(())
    }
}

fn cluster_of(attrs: &serde_json::Map<String, serde_json::Value>) -> Result<&str> {
    attrs
        .get("cluster")
        .and_then(|v| v.as_str())
        .ok_or_else(|| anyhow!("the object names no cluster"))
}

/// The clusters of this apply, or the error of an apply set up without them.
fn clusters<'c>(
    ctx: &'c super::context::ApplyContext<'_>,
    change: &ResourceChange,
) -> Result<&'c Clusters<'c>> {
    ctx.k8s.ok_or_else(|| {
        anyhow!(
            "{}: no cluster connections were set up for this apply",
            change.address
        )
    })
}

/// Kubernetes objects: server-side apply (create and update alike), waited for when
/// another change is ordered after them; their marks are in the manifest itself.
pub struct ObjectApplier;

#[async_trait::async_trait]
impl super::family::Applier for ObjectApplier {
    async fn create(
        &self,
        ctx: &super::context::ApplyContext<'_>,
        change: &ResourceChange,
    ) -> Result<String> {
        let awaited = ctx.awaited.contains(&change.address);
        clusters(ctx, change)?.apply(change, awaited).await?;
        Ok(change.address.to_string())
    }

    async fn update(
        &self,
        ctx: &super::context::ApplyContext<'_>,
        change: &ResourceChange,
        _changed: &[String],
    ) -> Result<()> {
        let awaited = ctx.awaited.contains(&change.address);
        clusters(ctx, change)?.apply(change, awaited).await
    }

    async fn delete(
        &self,
        ctx: &super::context::ApplyContext<'_>,
        change: &ResourceChange,
    ) -> Result<()> {
        clusters(ctx, change)?.delete(change).await
    }

    /// An imported object's marks are labels and annotations of its manifest: the
    /// server-side apply of the update that follows writes them with the rest.
    async fn mark(
        &self,
        _ctx: &super::context::ApplyContext<'_>,
        _change: &ResourceChange,
        _id: &str,
        _tags: std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        Ok(())
    }
}
