//! A Terraform state file (JSON, version 4) -> `import` blocks and the spec blocks
//! they import into, for the resources drplan manages; the core of
//! `drplan import --from-terraform-state`. What drplan cannot express is listed in
//! [`Conversion::uncovered`], with the reason, never dropped silently.
//!
//! One file per family maps its resource types (docs/spec-reference.md, "Importing
//! an existing object", holds the table): `network` (aws_vpc, aws_subnet), `eks`
//! (aws_eks_cluster, aws_eks_node_group), `kms` (keys, replicas, aliases), `s3`
//! (aws_s3_bucket and its split configuration resources), `ecr` (repositories,
//! their lifecycle policies, the registry's replication), `elasticache`
//! (replication groups and their subnet groups), `route53` (zones, records, health
//! checks), `kubernetes` (kubernetes_manifest). Values Terraform marks sensitive are removed
//! before any mapper sees them (`state::Instance`).

mod ecr;
mod eks;
mod elasticache;
mod kms;
mod kubernetes;
mod network;
mod route53;
mod s3;
mod state;

use super::config::{self, Block};
use super::{label, Adoption};
use crate::address::Address;
use crate::resource::Kind;
use state::{Instance, State};
use std::collections::{BTreeMap, BTreeSet};

/// What a state file converts to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Conversion {
    /// One per imported object, in the order of the spec blocks.
    pub adoptions: Vec<Adoption>,
    /// The spec blocks, formatted (`network`, `cluster`, `cache`, `kms_key`,
    /// `bucket`, `registry`, `zone`, `dns`, `kubernetes`, in that order).
    pub config: String,
    /// Manifest files the `kubernetes` blocks name: (path relative to the project
    /// root, YAML text).
    pub manifests: Vec<(String, String)>,
    /// What was not converted, or converted with a difference, and why.
    pub uncovered: Vec<Uncovered>,
}

/// A resource (or a part of one) the conversion leaves out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uncovered {
    /// The Terraform address (`aws_iam_role.eks`, `data.aws_caller_identity.me`).
    pub source: String,
    pub reason: String,
}

/// A state file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum TfStateError {
    #[error("not a Terraform state file: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a Terraform state file: it has no `version`")]
    NoVersion,
    #[error(
        "Terraform state version {0} is not supported: drplan reads version 4, the format \
         of Terraform 0.12 and later (`terraform state pull` with a current Terraform \
         writes it)"
    )]
    Version(u64),
}

/// Converts a state file. `sites` maps a region to the label of the site block in
/// it (`us-west-2` -> `primary`); a resource in a region no site has is uncovered.
/// The site labelled `primary` (else the first label) is taken to be the
/// primary-role site, for DNS failover targets (see `route53`).
pub fn convert(
    state_json: &str,
    sites: &BTreeMap<String, String>,
) -> Result<Conversion, TfStateError> {
    let head: serde_json::Value = serde_json::from_str(state_json)?;
    match head.get("version").and_then(serde_json::Value::as_u64) {
        Some(4) => {}
        Some(v) => return Err(TfStateError::Version(v)),
        None => return Err(TfStateError::NoVersion),
    }
    let state: State = serde_json::from_value(head)?;

    let mut out = Out::new(sites);
    let mut by_type: BTreeMap<String, Vec<Instance>> = BTreeMap::new();
    for r in &state.resources {
        if r.mode != "managed" {
            out.uncover(r.address(), "data source");
            continue;
        }
        for i in &r.instances {
            by_type
                .entry(r.type_name.clone())
                .or_default()
                .push(Instance::new(r, i));
        }
    }
    let mut take = |t: &str| by_type.remove(t).unwrap_or_default();
    let vpcs = take("aws_vpc");
    let subnets = take("aws_subnet");
    let clusters = take("aws_eks_cluster");
    let node_groups = take("aws_eks_node_group");
    let buckets = s3::Parts {
        buckets: take("aws_s3_bucket"),
        versioning: take("aws_s3_bucket_versioning"),
        public_access: take("aws_s3_bucket_public_access_block"),
        object_lock: take("aws_s3_bucket_object_lock_configuration"),
        encryption: take("aws_s3_bucket_server_side_encryption_configuration"),
        lifecycle: take("aws_s3_bucket_lifecycle_configuration"),
        replication: take("aws_s3_bucket_replication_configuration"),
    };
    let dns = route53::Parts {
        zones: take("aws_route53_zone"),
        records: take("aws_route53_record"),
        health_checks: take("aws_route53_health_check"),
    };
    let keys = kms::Parts {
        keys: take("aws_kms_key"),
        replicas: take("aws_kms_replica_key"),
        aliases: take("aws_kms_alias"),
    };
    let registries = ecr::Parts {
        repositories: take("aws_ecr_repository"),
        lifecycle_policies: take("aws_ecr_lifecycle_policy"),
        replication: take("aws_ecr_replication_configuration"),
    };
    let caches = elasticache::Parts {
        groups: take("aws_elasticache_replication_group"),
        subnet_groups: take("aws_elasticache_subnet_group"),
    };
    let manifests = take("kubernetes_manifest");
    // A `peering` block says what these say together (connection, acceptance, the
    // routes through it), but drplan cannot take over an existing connection yet:
    // its reader finds connections by their marks only.
    for type_name in [
        "aws_vpc_peering_connection",
        "aws_vpc_peering_connection_accepter",
        "aws_route",
    ] {
        for i in take(type_name) {
            out.uncover(
                &i.source,
                format!("{type_name}: write a `peering` block (requester, accepter) instead; drplan creates its own connection and routes, it cannot import an existing one"),
            );
        }
    }

    for i in vpcs
        .iter()
        .chain(&subnets)
        .chain(&clusters)
        .chain(&node_groups)
        .chain(caches.all())
        .chain(keys.all())
        .chain(buckets.all())
        .chain(registries.all())
        .chain(dns.all())
        .chain(&manifests)
    {
        for path in &i.withheld {
            out.uncover(
                &i.source,
                format!("`{path}` is sensitive in the state: it is not written into the spec"),
            );
        }
    }

    let networks = network::convert(&vpcs, &subnets, &mut out);
    let cluster_labels = eks::convert(&clusters, &node_groups, &networks, &mut out);
    elasticache::convert(&caches, &networks, &mut out);
    kms::convert(&keys, &mut out);
    s3::convert(&buckets, &mut out);
    ecr::convert(&registries, &mut out);
    route53::convert(&dns, &mut out);
    kubernetes::convert(&manifests, &cluster_labels, &mut out);

    for (type_name, instances) in by_type {
        for i in instances {
            out.uncover(&i.source, format!("drplan does not manage {type_name}"));
        }
    }
    Ok(out.finish())
}

/// What the mappers write into, and the sites and labels they share.
struct Out<'s> {
    sites: &'s BTreeMap<String, String>,
    adoptions: Vec<Adoption>,
    blocks: Vec<Block>,
    manifests: Vec<(String, String)>,
    uncovered: Vec<Uncovered>,
    labels: BTreeSet<(String, String)>,
}

impl<'s> Out<'s> {
    fn new(sites: &'s BTreeMap<String, String>) -> Self {
        Out {
            sites,
            adoptions: Vec::new(),
            blocks: Vec::new(),
            manifests: Vec::new(),
            uncovered: Vec::new(),
            labels: BTreeSet::new(),
        }
    }

    /// Lists `source` as not converted (or converted with a difference).
    pub fn uncover(&mut self, source: impl Into<String>, reason: impl Into<String>) {
        self.uncovered.push(Uncovered {
            source: source.into(),
            reason: reason.into(),
        });
    }

    /// Records an import.
    pub fn adopt(&mut self, to: Address, kind: Kind, id: impl Into<String>, source: &str) {
        self.adoptions.push(Adoption {
            to,
            kind,
            id: id.into(),
            source: source.to_string(),
        });
    }

    /// Adds a top-level spec block.
    pub fn block(&mut self, block: Block) {
        self.blocks.push(block);
    }

    /// Adds a manifest file.
    pub fn manifest(&mut self, path: String, yaml: String) {
        self.manifests.push((path, yaml));
    }

    /// The site label of `instance`'s region, or why there is none (also listed).
    pub fn site_of(&mut self, i: &Instance) -> Option<String> {
        match i.region() {
            Some(region) => {
                match self.sites.get(&region) {
                    Some(site) => Some(site.clone()),
                    None => {
                        self.uncover(
                        &i.source,
                        format!("no site is in its region {region}: add a `site` block for {region}"),
                    );
                        None
                    }
                }
            }
            None => {
                self.uncover(&i.source, "the state does not say its region");
                None
            }
        }
    }

    /// The site labels, in order.
    pub fn site_labels(&self) -> Vec<String> {
        let mut v: Vec<String> = self.sites.values().cloned().collect();
        v.sort();
        v.dedup();
        v
    }

    /// The regions the sites are in.
    pub fn regions(&self) -> Vec<(String, String)> {
        self.sites
            .iter()
            .map(|(r, s)| (r.clone(), s.clone()))
            .collect()
    }

    /// A label for a new top-level block of `kind`, made from `name`, unique among
    /// that kind's (`_2`, `_3` ... appended on a clash).
    pub fn label(&mut self, kind: &str, name: &str) -> String {
        let base = label(name);
        let mut candidate = base.clone();
        let mut n = 2;
        while self.labels.contains(&(kind.to_string(), candidate.clone())) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        self.labels.insert((kind.to_string(), candidate.clone()));
        candidate
    }

    fn finish(self) -> Conversion {
        Conversion {
            adoptions: self.adoptions,
            config: config::render(&self.blocks),
            manifests: self.manifests,
            uncovered: self.uncovered,
        }
    }
}

/// `tags = { ... }` when there are tags.
pub(super) fn with_tags(block: Block, tags: Vec<(String, String)>) -> Block {
    if tags.is_empty() {
        block
    } else {
        block.attr("tags", config::Value::string_map(tags))
    }
}
