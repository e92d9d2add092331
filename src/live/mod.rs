//! Live readers: what exists in AWS for the objects a spec manages.
//!
//! [`read_live`] reads every family (EC2 networks and peerings, EKS, KMS, S3, ECR, ElastiCache, Route53) at once, each in
//! bulk: one paginated list per (region, service, kind), with tag filters where the
//! API has them, and per-object calls only where AWS offers no list (S3 bucket
//! configuration, EKS describe). Requests go through [`AwsContext::permit`], so the
//! per-service limits hold however many regions are read concurrently.
//!
//! **Architecture invariant:** readers produce `LiveObject`s in exactly the normalized
//! attribute form documented on `drplan_core::resource::Kind`; the diff trusts it.
//! A family or region that fails to read is reported in `LiveState::read_errors`, the
//! other families are still returned.

mod ec2;
pub(crate) mod ecr;
mod eks;
mod elasticache;
mod kms;
mod marks;
pub(crate) mod peering;
mod reach;
pub mod readiness;
pub mod recovery_points;
mod requests;
pub(crate) mod route53;
mod s3;
pub mod unmanaged;

use crate::aws::AwsContext;
use drplan_core::live::{DesiredMaps, LiveObject, LiveState, Unreachable};
use drplan_core::resource::{Kind, Resource};
use reach::Gate;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What to look at: derived from the desired resources, so a plan reads only the
/// regions, names and zones in play (plus whatever is marked for the stack there).
#[derive(Clone, Debug, Default)]
pub struct ReadScope {
    /// Written in every mark; objects marked for it are read even when the spec no
    /// longer names them (orphans).
    pub stack: String,
    /// The spec's attribute maps, which what is read equal to them shares.
    pub desired: DesiredMaps,
    /// Regions searched for networks, clusters and (orphan) buckets.
    pub regions: BTreeSet<String>,
    /// EKS cluster names in the spec, per region.
    pub cluster_names: BTreeMap<String, BTreeSet<String>>,
    /// Per `(region, cluster name)`, the optional settings its spec says
    /// (`kinds::eks::OPTIONAL_CLUSTER_ATTRS`): only those are reported.
    pub cluster_settings: BTreeMap<(String, String), BTreeSet<String>>,
    /// ElastiCache replication group ids in the spec, per region.
    pub cache_names: BTreeMap<String, BTreeSet<String>>,
    /// S3 bucket names in the spec (any region: bucket names are global).
    pub bucket_names: BTreeSet<String>,
    /// ECR repository names in the spec, per region: read even when not marked (a
    /// repository that exists already).
    pub repository_names: BTreeMap<String, BTreeSet<String>>,
    /// Route53 zone names in the spec, with trailing dot: `zone` blocks and the zones
    /// `dns` records live in.
    pub zone_names: BTreeSet<String>,
    /// Addresses of the spec's health checks: when one is not found among the checks
    /// drplan's CallerReference marks as this stack's, the others' tags are read too
    /// (`caller_reference`).
    pub health_checks: BTreeSet<String>,
    /// Those of them the spec gives tags: their tags are read to compare. The others
    /// are found by their CallerReference alone (`caller_reference`).
    pub tagged_health_checks: BTreeSet<String>,
    /// Ids `import` blocks name for the kinds found by their mark alone: VPCs and
    /// subnets per region, health checks. Such an object carries no mark yet, so it
    /// is read by its id (`drplan_core::spec` import).
    pub imported_ec2: BTreeMap<String, BTreeSet<String>>,
    pub imported_health_checks: BTreeSet<String>,
    /// Per bucket name, the settings its spec manages beyond the always-read ones
    /// (each costs a request per bucket, so it is read only where declared).
    pub bucket_settings: BTreeMap<String, BucketSettings>,
    /// The spec declares KMS keys: keys are read in every region (`live::kms`).
    pub kms: bool,
    /// The aliases the spec's keys have: the one a key is read with, among its own.
    pub kms_aliases: BTreeSet<String>,
    /// Key ids `import` blocks name, per region: such a key carries no mark yet, so it
    /// is read by its id (`live::kms`).
    pub imported_kms: BTreeMap<String, BTreeSet<String>>,
}

/// The optional bucket settings a spec declares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BucketSettings {
    pub public_access_block: bool,
    pub object_lock: bool,
    /// Its access logging (GetBucketLogging).
    pub logging: bool,
    /// Its bucket policy's log delivery statement (GetBucketPolicy): a log target.
    pub log_delivery: bool,
}

impl ReadScope {
    /// The scope of `resources`: their regions, then what each family adds for its
    /// kinds (`FAMILIES`).
    pub fn from_resources(stack: &str, resources: &[Resource]) -> Self {
        let mut scope = ReadScope {
            stack: stack.to_string(),
            desired: DesiredMaps::new(resources),
            ..ReadScope::default()
        };
        for r in resources {
            if r.kind.is_regional() {
                if let Some(region) = &r.region {
                    scope.regions.insert(region.clone());
                }
            }
            for family in &FAMILIES {
                (family.scope)(&mut scope, r);
            }
        }
        scope
    }

    /// Adds the ids of `imports` whose kind is found by its mark alone (each family
    /// says which of its kinds are).
    pub fn with_imports(
        mut self,
        imports: &[drplan_core::model::Import],
        resources: &[Resource],
    ) -> Self {
        for import in imports {
            let Some(r) = resources.iter().find(|r| r.address == import.to) else {
                continue;
            };
            for family in &FAMILIES {
                (family.import)(&mut self, r, &import.id);
            }
        }
        self
    }

    /// Adds what reading the live object of an import block without a spec block
    /// needs (`import --generate-config-out`): `id` names an object of `kind`, looked
    /// for in `regions` where no block says its region.
    pub fn add_unwritten_import(&mut self, kind: Kind, id: &str, regions: &[String]) {
        for family in &FAMILIES {
            (family.generate)(self, kind, id, regions);
        }
    }

    fn wants_cache(&self, region: &str, name: &str) -> bool {
        self.cache_names
            .get(region)
            .is_some_and(|names| names.contains(name))
    }

    fn wants_cluster(&self, region: &str, name: &str) -> bool {
        self.cluster_names
            .get(region)
            .is_some_and(|names| names.contains(name))
    }
}

/// Lower-case name with exactly one trailing dot, the form Route53 returns.
pub(crate) fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.').to_ascii_lowercase())
}

/// What one family's reader found.
#[derive(Debug, Default)]
pub(crate) struct FamilyRead {
    pub objects: Vec<LiveObject>,
    pub errors: Vec<drplan_core::live::ReadError>,
    /// Where the probe found no answer: nothing of that place is in `objects`.
    pub unreachable: Vec<Unreachable>,
    /// `LiveState::observed` entries.
    pub observed: Vec<(String, Value)>,
}

impl FamilyRead {
    /// Adds an object read, holding the spec's map instead of its own where they are
    /// equal (`DesiredMaps::share`): its copy is freed now, not when the read ends.
    pub fn keep(&mut self, scope: &ReadScope, object: LiveObject) {
        self.objects.push(scope.desired.shared(object));
    }

    /// [`FamilyRead::keep`] for each of `objects`.
    pub fn keep_all(&mut self, scope: &ReadScope, objects: impl IntoIterator<Item = LiveObject>) {
        for object in objects {
            self.keep(scope, object);
        }
    }

    fn merge(&mut self, other: FamilyRead) {
        self.objects.extend(other.objects);
        self.errors.extend(other.errors);
        self.unreachable.extend(other.unreachable);
        self.observed.extend(other.observed);
    }
}

impl FromIterator<FamilyRead> for FamilyRead {
    fn from_iter<I: IntoIterator<Item = FamilyRead>>(iter: I) -> Self {
        let mut all = FamilyRead::default();
        for part in iter {
            all.merge(part);
        }
        all
    }
}

/// One family's bulk reader.
type Reader = for<'a> fn(&'a AwsContext, &'a ReadScope, &'a Gate<'a>) -> ReadFuture<'a>;
type ReadFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = FamilyRead> + Send + 'a>>;

/// One family of the read registry: its bulk reader, what the spec's resources of
/// its kinds add to the [`ReadScope`], and what an `import` block naming one does.
struct Family {
    read: Reader,
    scope: fn(&mut ReadScope, &Resource),
    import: fn(&mut ReadScope, &Resource, &str),
    /// What reading an import block's object for `--generate-config-out` needs.
    generate: fn(&mut ReadScope, Kind, &str, &[String]),
}

/// For the families whose imported objects need no scope of their own.
fn no_import(_: &mut ReadScope, _: &Resource, _: &str) {}

/// A regional resource's region and `name` attribute (a cluster's, a repository's, a
/// replication group's), for the scope's per-region name sets.
fn regional_name(r: &Resource) -> Option<(String, String)> {
    let name = r.attrs.get("name").and_then(Value::as_str)?;
    Some((r.region.clone()?, name.to_string()))
}

/// Adds `r`'s name to `names` under its region.
fn add_regional_name(names: &mut BTreeMap<String, BTreeSet<String>>, r: &Resource) {
    if let Some((region, name)) = regional_name(r) {
        names.entry(region).or_default().insert(name);
    }
}

/// For the families `--generate-config-out` does not write.
fn no_generate(_: &mut ReadScope, _: Kind, _: &str, _: &[String]) {}

/// The cloud side's read registry: every family's bulk reader (one request pattern
/// per family and region, `BENCHMARKS.md` section 8), run concurrently by
/// [`read_live`], and its part of the read scope. A new family adds its line; nothing
/// else here names a family.
const FAMILIES: [Family; 8] = [
    Family {
        read: |c, s, g| Box::pin(ec2::read(c, s, g)),
        scope: ec2::scope,
        import: ec2::import,
        generate: ec2::generate,
    },
    Family {
        read: |c, s, g| Box::pin(peering::read(c, s, g)),
        scope: peering::scope,
        import: no_import,
        generate: no_generate,
    },
    Family {
        read: |c, s, g| Box::pin(eks::read(c, s, g)),
        scope: eks::scope,
        import: no_import,
        generate: eks::generate,
    },
    Family {
        read: |c, s, g| Box::pin(kms::read(c, s, g)),
        scope: kms::scope,
        import: kms::import,
        generate: kms::generate,
    },
    Family {
        read: |c, s, g| Box::pin(s3::read(c, s, g)),
        scope: s3::scope,
        import: no_import,
        generate: s3::generate,
    },
    Family {
        read: |c, s, g| Box::pin(ecr::read(c, s, g)),
        scope: ecr::scope,
        import: no_import,
        generate: ecr::generate,
    },
    Family {
        read: |c, s, g| Box::pin(elasticache::read(c, s, g)),
        scope: elasticache::scope,
        import: no_import,
        generate: elasticache::generate,
    },
    // Route53 is global: no region to probe.
    Family {
        read: |c, s, _| Box::pin(route53::read(c, s)),
        scope: route53::scope,
        import: route53::import,
        generate: route53::generate,
    },
];

/// Reads every managed kind in scope, concurrently across families and regions.
/// `api_calls` counts the requests this read made (retries included).
pub async fn read_live(ctx: &AwsContext, scope: &ReadScope) -> LiveState {
    let calls_before = ctx.api_calls();
    let gate = Gate::new(ctx);
    let all: FamilyRead =
        futures::future::join_all(FAMILIES.iter().map(|f| (f.read)(ctx, scope, &gate)))
            .await
            .into_iter()
            .collect();
    let mut objects = all.objects;
    // Deterministic order, so plans and snapshots do not depend on response timing.
    objects.sort_by(|a, b| (a.kind, a.identity(), &a.id).cmp(&(b.kind, b.identity(), &b.id)));
    let mut errors = all.errors;
    errors.sort();
    let mut unreachable = all.unreachable;
    unreachable.sort();
    unreachable.dedup();
    let mut state = LiveState {
        objects,
        api_calls: ctx.api_calls().saturating_sub(calls_before),
        read_errors: errors,
        unreachable,
        observed: all.observed.into_iter().collect(),
        ..LiveState::default()
    };
    state.resolve_ids();
    state
}
