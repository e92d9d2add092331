//! The cloud side of each resource kind: one [`Applier`] per kind, registered in
//! [`applier`] — the one table apply dispatches through, so no other apply code
//! matches on every kind. Each implementation lives with its family (`network.rs`,
//! `peering.rs`,
//! `eks.rs`, `kms.rs`, `s3.rs`, `ecr.rs`, `elasticache.rs`, `route53.rs`, `kubernetes.rs`); the kind's static facts
//! (references, identity, protection) are its `drplan_core::kinds::KindInfo`.

use super::context::ApplyContext;
use super::{ecr, eks, elasticache, kms, kubernetes, network, peering, route53, s3};
use anyhow::{bail, Result};
use async_trait::async_trait;
use drplan_core::plan::ResourceChange;
use drplan_core::resource::Kind;
use std::collections::BTreeMap;

#[async_trait]
pub trait Applier: Sync {
    /// Creates the object (or finds the one an interrupted create left); returns its
    /// cloud id.
    async fn create(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String>;

    /// Makes the attributes in `changed` (keys whose values differ) what the plan says.
    async fn update(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        changed: &[String],
    ) -> Result<()>;

    async fn delete(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()>;

    /// The link step (`steps::Phase::Link`): settings pointing at objects that may
    /// point back. Only kinds with links have one.
    async fn link(&self, _ctx: &ApplyContext<'_>, _change: &ResourceChange) -> Result<()> {
        Ok(())
    }

    /// Writes drplan's marks (`tags`: the user's tags and the marks) on the existing
    /// object `id` an import or an interrupted create adopts.
    async fn mark(
        &self,
        _ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        _id: &str,
        _tags: BTreeMap<String, String>,
    ) -> Result<()> {
        bail!("{}: a {} cannot be adopted", change.address, change.kind)
    }

    /// Moves the address mark of a renamed block's object (`id`) to its new address.
    /// Kinds whose update writes the mark anyway need nothing here.
    async fn remark(
        &self,
        _ctx: &ApplyContext<'_>,
        _change: &ResourceChange,
        _id: &str,
    ) -> Result<()> {
        Ok(())
    }

    /// Drops drplan's marks from the object `id` and keeps it (`Action::Forget`).
    async fn forget(
        &self,
        _ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        _id: &str,
    ) -> Result<()> {
        bail!(
            "{}: drplan cannot keep a {} it stops managing yet (refused at plan time)",
            change.address,
            change.kind
        )
    }
}

/// The registry: the applier of `kind`.
pub fn applier(kind: Kind) -> &'static dyn Applier {
    match kind {
        Kind::Vpc => &network::NetworkApplier { vpc: true },
        Kind::Subnet => &network::NetworkApplier { vpc: false },
        Kind::VpcPeering => &peering::PeeringApplier,
        Kind::EksCluster => &eks::EksApplier { cluster: true },
        Kind::NodeGroup => &eks::EksApplier { cluster: false },
        Kind::KmsKey => &kms::KeyApplier { replica: false },
        Kind::KmsReplicaKey => &kms::KeyApplier { replica: true },
        Kind::Bucket => &s3::BucketApplier,
        Kind::EcrRepository => &ecr::RepositoryApplier,
        Kind::CacheReplicationGroup => &elasticache::ReplicationGroupApplier,
        Kind::DnsZone => &route53::TaggedApplier { zone: true },
        Kind::DnsRecord => &route53::RecordApplier,
        Kind::HealthCheck => &route53::TaggedApplier { zone: false },
        Kind::K8sObject => &kubernetes::ObjectApplier,
    }
}

/// The drplan marks a forget removes.
pub const MARKS: [&str; 2] = [
    drplan_core::marks::STACK_KEY,
    drplan_core::marks::ADDRESS_KEY,
];

/// The live object a change acts on: created earlier in this apply, or read by the
/// plan (`Outputs` is seeded from the plan's live ids).
pub fn live_id(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
    ctx.outputs.get(&change.address).ok_or_else(|| {
        anyhow::anyhow!(
            "{}: the plan does not say which live object to change (no live id)",
            change.address
        )
    })
}
