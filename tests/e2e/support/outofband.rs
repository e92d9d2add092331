//! Creating a project's desired resources directly through the AWS SDK, the way a
//! human with the console or Terraform would, marked as drplan marks them.
//!
//! This is deliberately independent of drplan's appliers: a plan that exits 0 after
//! [`create_all`] proves the readers' normalization agrees with the spec lowering, not
//! that apply and read agree with each other. Tests then change single attributes
//! out of band with the `set_*` functions to simulate drift.

use super::moto::MotoServer;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, Tag as Ec2Tag, TagSpecification};
use drplan_core::marks::{dns_owner_value, ADDRESS_KEY, DNS_OWNER_PREFIX, STACK_KEY};
use drplan_core::resource::{Kind, Resource};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Cloud ids of what was created, by address (VPC and subnet ids, zone and health
/// check ids): later out-of-band edits need them.
#[derive(Debug, Default)]
pub struct Created {
    pub ids: HashMap<String, String>,
    pub regions: HashMap<String, String>,
}

/// The CallerReference out-of-band health checks are created with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckReferences {
    /// drplan's own (`drplan::caller_reference`), as its apply makes them.
    Drplan,
    /// What drplan 0.x wrote before references named the stack: `drplan-<33 hex>`.
    OlderDrplan,
}

/// Creates every AWS resource of `resources` (Kubernetes objects are skipped) in
/// dependency order, each carrying `stack`'s ownership marks (none when `stack` is
/// empty: objects made by another tool, for `import`), health checks with drplan's
/// CallerReference when marked.
pub async fn create_all(
    moto: &MotoServer,
    stack: &str,
    resources: &[Resource],
) -> Result<Created, BoxError> {
    create_all_with(moto, stack, resources, CheckReferences::Drplan).await
}

/// [`create_all`] with health checks referenced as `references` says.
pub async fn create_all_with(
    moto: &MotoServer,
    stack: &str,
    resources: &[Resource],
    references: CheckReferences,
) -> Result<Created, BoxError> {
    let mut created = Created::default();
    let of = |kind: Kind| resources.iter().filter(move |r| r.kind == kind);
    for r in of(Kind::Vpc) {
        create_vpc(moto, stack, r, &mut created).await?;
    }
    for r in of(Kind::Subnet) {
        create_subnet(moto, stack, r, &mut created).await?;
    }
    for r in of(Kind::VpcPeering) {
        create_peering(moto, stack, r, &mut created).await?;
    }
    for r in of(Kind::EksCluster) {
        create_cluster(moto, stack, r, &created).await?;
    }
    for r in of(Kind::NodeGroup) {
        create_node_group(moto, stack, r, &created).await?;
    }
    for r in of(Kind::KmsKey) {
        create_kms_key(moto, stack, r, &mut created).await?;
    }
    for r in of(Kind::KmsReplicaKey) {
        create_kms_replica(moto, stack, r, &mut created).await?;
    }
    for r in of(Kind::CacheReplicationGroup) {
        create_cache(moto, stack, r, &created).await?;
    }
    // Every bucket exists (versioned) before any replication points at it.
    let buckets: Vec<&Resource> = of(Kind::Bucket).collect();
    for r in &buckets {
        create_bucket(moto, stack, r).await?;
    }
    let bucket_regions: HashMap<String, String> = buckets
        .iter()
        .filter_map(|r| Some((s(r, "name").ok()?.to_string(), r.region.clone()?)))
        .collect();
    for r in &buckets {
        configure_bucket(moto, r, &created, &bucket_regions).await?;
    }
    create_repositories(moto, stack, &of(Kind::EcrRepository).collect::<Vec<_>>()).await?;
    for r in of(Kind::DnsZone) {
        create_zone(moto, stack, r, &mut created).await?;
    }
    for r in of(Kind::HealthCheck) {
        create_health_check(moto, stack, r, references, &mut created).await?;
    }
    create_records(
        moto,
        stack,
        &of(Kind::DnsRecord).collect::<Vec<_>>(),
        &created,
    )
    .await?;
    Ok(created)
}

/// Creates the node groups of `resources` into the subnets `created` holds, marked
/// for `stack`.
pub async fn create_node_groups(
    moto: &MotoServer,
    stack: &str,
    resources: &[Resource],
    created: &Created,
) -> Result<(), BoxError> {
    for r in resources.iter().filter(|r| r.kind == Kind::NodeGroup) {
        create_node_group(moto, stack, r, created).await?;
    }
    Ok(())
}

fn s<'a>(r: &'a Resource, key: &str) -> Result<&'a str, BoxError> {
    r.attrs.get(key).and_then(Value::as_str).ok_or_else(|| {
        format!(
            "{}: attribute `{key}` is not a string: {:?}",
            r.address,
            r.attrs.get(key)
        )
        .into()
    })
}

fn int(r: &Resource, key: &str) -> Result<i32, BoxError> {
    r.attrs
        .get(key)
        .and_then(Value::as_i64)
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| {
            format!(
                "{}: attribute `{key}` is not a number: {:?}",
                r.address,
                r.attrs.get(key)
            )
            .into()
        })
}

fn strings(r: &Resource, key: &str) -> Vec<String> {
    r.attrs
        .get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn region(r: &Resource) -> Result<&str, BoxError> {
    r.region
        .as_deref()
        .ok_or_else(|| format!("{} has no region", r.address).into())
}

/// The user's tags plus the two ownership marks.
fn tags_with_marks(r: &Resource, stack: &str) -> BTreeMap<String, String> {
    let mut tags: BTreeMap<String, String> = r
        .attrs
        .get("tags")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    if !stack.is_empty() {
        tags.insert(STACK_KEY.into(), stack.into());
        tags.insert(ADDRESS_KEY.into(), r.address.as_str().into());
    }
    tags
}

/// EC2 refuses a tag specification without tags: none then.
fn ec2_tags(
    resource_type: ResourceType,
    tags: &BTreeMap<String, String>,
) -> Option<Vec<TagSpecification>> {
    let mut spec = TagSpecification::builder().resource_type(resource_type);
    for (k, v) in tags {
        spec = spec.tags(Ec2Tag::builder().key(k).value(v).build());
    }
    (!tags.is_empty()).then(|| vec![spec.build()])
}

fn id_of<'a>(created: &'a Created, address: &str) -> Result<&'a str, BoxError> {
    created
        .ids
        .get(address)
        .map(String::as_str)
        .ok_or_else(|| format!("{address} was not created first").into())
}

async fn create_vpc(
    moto: &MotoServer,
    stack: &str,
    r: &Resource,
    created: &mut Created,
) -> Result<(), BoxError> {
    let out = moto
        .ec2(region(r)?)
        .create_vpc()
        .cidr_block(s(r, "cidr_block")?)
        .set_tag_specifications(ec2_tags(ResourceType::Vpc, &tags_with_marks(r, stack)))
        .send()
        .await?;
    let id = out.vpc().and_then(|v| v.vpc_id()).ok_or("no vpc id")?;
    created.ids.insert(r.address.as_str().into(), id.into());
    created
        .regions
        .insert(r.address.as_str().into(), region(r)?.into());
    Ok(())
}

async fn create_subnet(
    moto: &MotoServer,
    stack: &str,
    r: &Resource,
    created: &mut Created,
) -> Result<(), BoxError> {
    let ec2 = moto.ec2(region(r)?);
    let out = ec2
        .create_subnet()
        .vpc_id(id_of(created, s(r, "vpc")?)?)
        .cidr_block(s(r, "cidr_block")?)
        .availability_zone(s(r, "availability_zone")?)
        .set_tag_specifications(ec2_tags(ResourceType::Subnet, &tags_with_marks(r, stack)))
        .send()
        .await?;
    let id = out
        .subnet()
        .and_then(|v| v.subnet_id())
        .ok_or("no subnet id")?
        .to_string();
    if r.attrs.get("public").and_then(Value::as_bool) == Some(true) {
        ec2.modify_subnet_attribute()
            .subnet_id(&id)
            .map_public_ip_on_launch(AttributeBooleanValue::builder().value(true).build())
            .send()
            .await?;
    }
    created.ids.insert(r.address.as_str().into(), id);
    Ok(())
}

/// A VPC peering connection as a person makes one across regions: requested in the
/// requester's region, accepted in the accepter's, and a route to the other CIDR in
/// each VPC's main route table.
async fn create_peering(
    moto: &MotoServer,
    stack: &str,
    r: &Resource,
    created: &mut Created,
) -> Result<(), BoxError> {
    let region = region(r)?;
    let peer_region = s(r, "peer_region")?;
    let vpc = id_of(created, s(r, "vpc")?)?.to_string();
    let peer_vpc = id_of(created, s(r, "peer_vpc")?)?.to_string();
    let out = moto
        .ec2(region)
        .create_vpc_peering_connection()
        .vpc_id(&vpc)
        .peer_vpc_id(&peer_vpc)
        .peer_region(peer_region)
        .set_tag_specifications(ec2_tags(
            ResourceType::VpcPeeringConnection,
            &tags_with_marks(r, stack),
        ))
        .send()
        .await?;
    let id = out
        .vpc_peering_connection()
        .and_then(|c| c.vpc_peering_connection_id())
        .ok_or("no peering connection id")?
        .to_string();
    moto.ec2(peer_region)
        .accept_vpc_peering_connection()
        .vpc_peering_connection_id(&id)
        .send()
        .await?;
    for (side_region, side_vpc, key) in [
        (region, &vpc, "requester_routes"),
        (peer_region, &peer_vpc, "accepter_routes"),
    ] {
        let ec2 = moto.ec2(side_region);
        let tables = ec2
            .describe_route_tables()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("vpc-id")
                    .values(side_vpc)
                    .build(),
            )
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("association.main")
                    .values("true")
                    .build(),
            )
            .send()
            .await?;
        let table = tables
            .route_tables()
            .first()
            .and_then(|t| t.route_table_id())
            .ok_or("no main route table")?
            .to_string();
        for cidr in strings(r, key) {
            ec2.create_route()
                .route_table_id(&table)
                .destination_cidr_block(cidr)
                .vpc_peering_connection_id(&id)
                .send()
                .await?;
        }
    }
    created.ids.insert(r.address.as_str().into(), id);
    created
        .regions
        .insert(r.address.as_str().into(), region.into());
    Ok(())
}

fn subnet_ids(r: &Resource, created: &Created) -> Result<Vec<String>, BoxError> {
    strings(r, "subnets")
        .iter()
        .map(|a| id_of(created, a).map(str::to_string))
        .collect()
}

async fn create_cluster(
    moto: &MotoServer,
    stack: &str,
    r: &Resource,
    created: &Created,
) -> Result<(), BoxError> {
    use aws_sdk_eks::types::VpcConfigRequest;
    let mut request = moto
        .eks(region(r)?)
        .create_cluster()
        .name(s(r, "name")?)
        .version(s(r, "version")?)
        .role_arn(s(r, "role_arn")?)
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .set_subnet_ids(Some(subnet_ids(r, created)?))
                .build(),
        );
    for (k, v) in tags_with_marks(r, stack) {
        request = request.tags(k, v);
    }
    request.send().await?;
    Ok(())
}

/// A cache subnet group named after the replication group, then the group, as a
/// console user would make them (ElastiCache tags are a list of key/value pairs).
async fn create_cache(
    moto: &MotoServer,
    stack: &str,
    r: &Resource,
    created: &Created,
) -> Result<(), BoxError> {
    use aws_sdk_elasticache::types::Tag;
    let client = moto.elasticache(region(r)?);
    let name = s(r, "name")?;
    let tags: Vec<Tag> = tags_with_marks(r, stack)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    client
        .create_cache_subnet_group()
        .cache_subnet_group_name(name)
        .cache_subnet_group_description("made by hand")
        .set_subnet_ids(Some(subnet_ids(r, created)?))
        .set_tags(Some(tags.clone()))
        .send()
        .await?;
    let failover = r.attrs.get("automatic_failover").and_then(Value::as_bool) == Some(true);
    client
        .create_replication_group()
        .replication_group_id(name)
        .replication_group_description(s(r, "description")?)
        .engine(s(r, "engine")?)
        .engine_version(s(r, "engine_version")?)
        .cache_node_type(s(r, "node_type")?)
        .num_cache_clusters(int(r, "num_cache_clusters")?)
        .automatic_failover_enabled(failover)
        .cache_subnet_group_name(name)
        .snapshot_retention_limit(int(r, "snapshot_retention_limit")?)
        .set_snapshot_window(
            r.attrs
                .get("snapshot_window")
                .and_then(Value::as_str)
                .map(str::to_string),
        )
        .set_tags(Some(tags))
        .send()
        .await?;
    Ok(())
}

async fn create_node_group(
    moto: &MotoServer,
    stack: &str,
    r: &Resource,
    created: &Created,
) -> Result<(), BoxError> {
    use aws_sdk_eks::types::{CapacityTypes, NodegroupScalingConfig};
    let mut request = moto
        .eks(region(r)?)
        .create_nodegroup()
        .cluster_name(s(r, "cluster_name")?)
        .nodegroup_name(s(r, "name")?)
        .node_role(s(r, "node_role_arn")?)
        .set_subnets(Some(subnet_ids(r, created)?))
        .set_instance_types(Some(strings(r, "instance_types")))
        .scaling_config(
            NodegroupScalingConfig::builder()
                .min_size(int(r, "min_size")?)
                .desired_size(int(r, "desired_size")?)
                .max_size(int(r, "max_size")?)
                .build(),
        )
        .disk_size(int(r, "disk_size")?)
        .capacity_type(CapacityTypes::from(s(r, "capacity_type")?));
    for (k, v) in r
        .attrs
        .get("labels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        request = request.labels(k, v.as_str().unwrap_or_default());
    }
    for (k, v) in tags_with_marks(r, stack) {
        request = request.tags(k, v);
    }
    request.send().await?;
    Ok(())
}

async fn create_bucket(moto: &MotoServer, stack: &str, r: &Resource) -> Result<(), BoxError> {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
    let region = region(r)?;
    let name = s(r, "name")?;
    let s3 = moto.s3(region);
    let mut request = s3.create_bucket().bucket(name);
    if region != "us-east-1" {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    request.send().await?;
    let tags = tags_with_marks(r, stack);
    if tags.is_empty() {
        return Ok(());
    }
    put_bucket_tags(&s3, name, &tags).await
}

pub async fn put_bucket_tags(
    s3: &aws_sdk_s3::Client,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), BoxError> {
    use aws_sdk_s3::types::{Tag, Tagging};
    let mut tagging = Tagging::builder();
    for (k, v) in tags {
        tagging = tagging.tag_set(Tag::builder().key(k).value(v).build()?);
    }
    s3.put_bucket_tagging()
        .bucket(name)
        .tagging(tagging.build()?)
        .send()
        .await?;
    Ok(())
}

/// ECR repositories as a human would make them: each with its tags and lifecycle
/// policy (pretty-printed JSON, not drplan's layout), then per region one replication
/// configuration with a rule per destination set, a PREFIX_MATCH filter per name.
async fn create_repositories(
    moto: &MotoServer,
    stack: &str,
    repositories: &[&Resource],
) -> Result<(), BoxError> {
    use aws_sdk_ecr::types::*;
    let mut rules: BTreeMap<String, BTreeMap<Vec<String>, Vec<String>>> = BTreeMap::new();
    for r in repositories {
        let region = region(r)?;
        let name = s(r, "name")?;
        let ecr = aws_sdk_ecr::Client::new(&moto.regional_config(region));
        let mut tags = Vec::new();
        for (k, v) in tags_with_marks(r, stack) {
            tags.push(Tag::builder().key(k).value(v).build()?);
        }
        ecr.create_repository()
            .repository_name(name)
            .image_tag_mutability(ImageTagMutability::from(s(r, "image_tag_mutability")?))
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(r.attrs["scan_on_push"] == Value::Bool(true))
                    .build(),
            )
            .set_tags(Some(tags))
            .send()
            .await?;
        if let Some(policy) = r.attrs.get("lifecycle_policy").filter(|p| !p.is_null()) {
            ecr.put_lifecycle_policy()
                .repository_name(name)
                .lifecycle_policy_text(serde_json::to_string_pretty(policy)?)
                .send()
                .await?;
        }
        let destinations: Vec<String> = r.attrs["replicate_to"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        if !destinations.is_empty() {
            rules
                .entry(region.to_string())
                .or_default()
                .entry(destinations)
                .or_default()
                .push(name.to_string());
        }
    }
    for (region, sets) in rules {
        let mut config = ReplicationConfiguration::builder();
        for (destinations, names) in sets {
            let mut rule = ReplicationRule::builder();
            for d in destinations {
                rule = rule.destinations(
                    ReplicationDestination::builder()
                        .region(d)
                        .registry_id("123456789012")
                        .build()?,
                );
            }
            for n in names {
                rule = rule.repository_filters(
                    RepositoryFilter::builder()
                        .filter(n)
                        .filter_type(RepositoryFilterType::PrefixMatch)
                        .build()?,
                );
            }
            config = config.rules(rule.build()?);
        }
        aws_sdk_ecr::Client::new(&moto.regional_config(&region))
            .put_replication_configuration()
            .replication_configuration(config.build()?)
            .send()
            .await?;
    }
    Ok(())
}

/// The KMS key a bucket setting means in `region`: a declared key's address is its
/// copy there (the primary's ARN in that region), as drplan's apply writes it.
fn key_in_region(created: &Created, value: &str, region: &str) -> Result<String, BoxError> {
    match value.strip_prefix("kms_key.") {
        Some(_) => {
            let arn = created
                .ids
                .get(value)
                .ok_or_else(|| format!("{value} was not created"))?;
            drplan_core::kinds::kms::arn_in_region(arn, region)
                .ok_or_else(|| format!("{value}: {arn} is not a key ARN").into())
        }
        None => Ok(value.to_string()),
    }
}

fn kms_tags(tags: BTreeMap<String, String>) -> Result<Vec<aws_sdk_kms::types::Tag>, BoxError> {
    tags.into_iter()
        .map(|(k, v)| {
            aws_sdk_kms::types::Tag::builder()
                .tag_key(k)
                .tag_value(v)
                .build()
                .map_err(Into::into)
        })
        .collect()
}

/// The tags drplan writes on a key: the user's, the marks, the deletion window.
fn key_tags(r: &Resource, stack: &str) -> BTreeMap<String, String> {
    let mut tags = tags_with_marks(r, stack);
    if let Some(days) = r.attrs.get("deletion_window_days").and_then(Value::as_i64) {
        tags.insert(
            drplan_core::kinds::kms::DELETION_WINDOW_TAG.into(),
            days.to_string(),
        );
    }
    tags
}

async fn create_kms_key(
    moto: &MotoServer,
    stack: &str,
    r: &Resource,
    created: &mut Created,
) -> Result<(), BoxError> {
    let region = region(r)?;
    let kms = moto.kms(region);
    let out = kms
        .create_key()
        .description(s(r, "description").unwrap_or_default())
        .multi_region(r.attrs.get("multi_region").and_then(Value::as_bool) == Some(true))
        .set_tags(Some(kms_tags(key_tags(r, stack))?))
        .send()
        .await?;
    let arn = out
        .key_metadata()
        .and_then(|m| m.arn())
        .ok_or("CreateKey returned no ARN")?
        .to_string();
    if r.attrs.get("enable_key_rotation").and_then(Value::as_bool) == Some(true) {
        kms.enable_key_rotation().key_id(&arn).send().await?;
    }
    if let Ok(alias) = s(r, "alias") {
        kms.create_alias()
            .alias_name(alias)
            .target_key_id(&arn)
            .send()
            .await?;
    }
    created.ids.insert(r.address.to_string(), arn);
    created
        .regions
        .insert(r.address.to_string(), region.to_string());
    Ok(())
}

async fn create_kms_replica(
    moto: &MotoServer,
    stack: &str,
    r: &Resource,
    created: &mut Created,
) -> Result<(), BoxError> {
    let region = region(r)?;
    let primary = s(r, "primary_key")?;
    let primary_arn = created
        .ids
        .get(primary)
        .ok_or_else(|| format!("{primary} was not created"))?
        .clone();
    let primary_region = created
        .regions
        .get(primary)
        .ok_or_else(|| format!("{primary} has no region"))?;
    let out = moto
        .kms(primary_region)
        .replicate_key()
        .key_id(primary_arn.rsplit('/').next().unwrap_or(&primary_arn))
        .replica_region(region)
        .description(s(r, "description").unwrap_or_default())
        .set_tags(Some(kms_tags(key_tags(r, stack))?))
        .send()
        .await?;
    let arn = out
        .replica_key_metadata()
        .and_then(|m| m.arn())
        .ok_or("ReplicateKey returned no ARN")?
        .to_string();
    if let Ok(alias) = s(r, "alias") {
        moto.kms(region)
            .create_alias()
            .alias_name(alias)
            .target_key_id(&arn)
            .send()
            .await?;
    }
    created.ids.insert(r.address.to_string(), arn);
    created
        .regions
        .insert(r.address.to_string(), region.to_string());
    Ok(())
}

async fn configure_bucket(
    moto: &MotoServer,
    r: &Resource,
    created: &Created,
    bucket_regions: &HashMap<String, String>,
) -> Result<(), BoxError> {
    use aws_sdk_s3::types::*;
    let name = s(r, "name")?;
    let s3 = moto.s3(region(r)?);
    if r.attrs.get("versioning").and_then(Value::as_bool) == Some(true) {
        s3.put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await?;
    }
    if let Some(encryption) = r.attrs.get("encryption").and_then(Value::as_object) {
        let mut default =
            ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::from(
                encryption
                    .get("algorithm")
                    .and_then(Value::as_str)
                    .unwrap_or("AES256"),
            ));
        if let Some(key) = encryption.get("kms_key_id").and_then(Value::as_str) {
            default = default.kms_master_key_id(key_in_region(created, key, region(r)?)?);
        }
        s3.put_bucket_encryption()
            .bucket(name)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(
                        ServerSideEncryptionRule::builder()
                            .apply_server_side_encryption_by_default(default.build()?)
                            .build(),
                    )
                    .build()?,
            )
            .send()
            .await?;
    }
    let rules = r
        .attrs
        .get("lifecycle_rules")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if !rules.is_empty() {
        put_lifecycle(&s3, name, &rules).await?;
    }
    if let Some(replication) = r.attrs.get("replication").and_then(Value::as_object) {
        put_replication(&s3, name, replication, created, bucket_regions).await?;
    }
    Ok(())
}

/// Writes `rules` (the normalized `lifecycle_rules` form) as the bucket's whole
/// lifecycle configuration.
pub async fn put_lifecycle(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    rules: &[Value],
) -> Result<(), BoxError> {
    use aws_sdk_s3::types::*;
    let days = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_i64)
            .and_then(|n| i32::try_from(n).ok())
    };
    let mut config = BucketLifecycleConfiguration::builder();
    for rule in rules {
        let mut built = LifecycleRule::builder()
            .id(rule.get("id").and_then(Value::as_str).unwrap_or_default())
            .status(ExpirationStatus::Enabled)
            .filter(
                LifecycleRuleFilter::builder()
                    .prefix(rule.get("prefix").and_then(Value::as_str).unwrap_or(""))
                    .build(),
            );
        if let Some(d) = days(rule, "expiration_days") {
            built = built.expiration(LifecycleExpiration::builder().days(d).build());
        }
        if let Some(d) = days(rule, "noncurrent_expiration_days") {
            built = built.noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(d)
                    .build(),
            );
        }
        for t in rule
            .get("transitions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut transition = Transition::builder();
            if let Some(d) = days(t, "days") {
                transition = transition.days(d);
            }
            if let Some(class) = t.get("storage_class").and_then(Value::as_str) {
                transition = transition.storage_class(TransitionStorageClass::from(class));
            }
            built = built.transitions(transition.build());
        }
        config = config.rules(built.build()?);
    }
    s3.put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(config.build()?)
        .send()
        .await?;
    Ok(())
}

async fn put_replication(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    replication: &Map<String, Value>,
    created: &Created,
    bucket_regions: &HashMap<String, String>,
) -> Result<(), BoxError> {
    use aws_sdk_s3::types::*;
    let mut config = ReplicationConfiguration::builder().role(
        replication
            .get("role_arn")
            .and_then(Value::as_str)
            .unwrap_or_default(),
    );
    for (priority, rule) in replication
        .get("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let text = |key: &str| rule.get(key).and_then(Value::as_str);
        let mut destination = Destination::builder().bucket(format!(
            "arn:aws:s3:::{}",
            text("destination_bucket").unwrap_or_default()
        ));
        if let Some(class) = text("storage_class") {
            destination = destination.storage_class(StorageClass::from(class));
        }
        let mut kms_objects = None;
        if let Some(key) = text("replica_kms_key_id") {
            let dest_region = text("destination_bucket")
                .and_then(|b| bucket_regions.get(b))
                .ok_or("the replication destination is not among the buckets")?;
            destination = destination.encryption_configuration(
                EncryptionConfiguration::builder()
                    .replica_kms_key_id(key_in_region(created, key, dest_region)?)
                    .build(),
            );
            kms_objects = Some(
                SourceSelectionCriteria::builder()
                    .sse_kms_encrypted_objects(
                        SseKmsEncryptedObjects::builder()
                            .status(SseKmsEncryptedObjectsStatus::Enabled)
                            .build()?,
                    )
                    .build(),
            );
        }
        config = config.rules(
            ReplicationRule::builder()
                .set_source_selection_criteria(kms_objects)
                .id(text("id").unwrap_or_default())
                .priority(i32::try_from(priority).unwrap_or(0) + 1)
                .status(ReplicationRuleStatus::Enabled)
                .filter(
                    ReplicationRuleFilter::builder()
                        .prefix(text("prefix").unwrap_or(""))
                        .build(),
                )
                .delete_marker_replication(
                    DeleteMarkerReplication::builder()
                        .status(DeleteMarkerReplicationStatus::Disabled)
                        .build(),
                )
                .destination(destination.build()?)
                .build()?,
        );
    }
    s3.put_bucket_replication()
        .bucket(bucket)
        .replication_configuration(config.build()?)
        .send()
        .await?;
    Ok(())
}

async fn create_zone(
    moto: &MotoServer,
    stack: &str,
    r: &Resource,
    created: &mut Created,
) -> Result<(), BoxError> {
    use aws_sdk_route53::types::{HostedZoneConfig, Tag, TagResourceType};
    let r53 = moto.route53();
    let name = s(r, "name")?;
    let mut request = r53
        .create_hosted_zone()
        .name(name)
        .caller_reference(format!("outofband-{name}"));
    if let Some(comment) = r.attrs.get("comment").and_then(Value::as_str) {
        request = request.hosted_zone_config(HostedZoneConfig::builder().comment(comment).build());
    }
    let out = request.send().await?;
    let id = out
        .hosted_zone()
        .ok_or("no zone")?
        .id()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let mut tagging = r53
        .change_tags_for_resource()
        .resource_type(TagResourceType::Hostedzone)
        .resource_id(&id);
    for (k, v) in tags_with_marks(r, stack) {
        tagging = tagging.add_tags(Tag::builder().key(k).value(v).build());
    }
    tagging.send().await?;
    created.ids.insert(r.address.as_str().into(), id);
    Ok(())
}

async fn create_health_check(
    moto: &MotoServer,
    stack: &str,
    r: &Resource,
    references: CheckReferences,
    created: &mut Created,
) -> Result<(), BoxError> {
    use aws_sdk_route53::types::{HealthCheckConfig, HealthCheckType, Tag, TagResourceType};
    use sha2::{Digest, Sha256};
    let r53 = moto.route53();
    let reference = match references {
        _ if stack.is_empty() => format!("outofband-{}", r.address),
        CheckReferences::Drplan => {
            drplan::caller_reference::health_check(stack, &r.address, &r.attrs)
        }
        CheckReferences::OlderDrplan => {
            let digest = hex::encode(Sha256::digest(r.address.as_str()));
            format!("drplan-{}", &digest[..33])
        }
    };
    let out = r53
        .create_health_check()
        .caller_reference(reference)
        .health_check_config(
            HealthCheckConfig::builder()
                .r#type(HealthCheckType::from(s(r, "type")?))
                .fully_qualified_domain_name(s(r, "fqdn")?)
                .port(int(r, "port")?)
                .resource_path(s(r, "resource_path")?)
                .request_interval(int(r, "request_interval")?)
                .failure_threshold(int(r, "failure_threshold")?)
                .build()?,
        )
        .send()
        .await?;
    let id = out
        .health_check()
        .ok_or("no health check")?
        .id()
        .to_string();
    let mut tagging = r53
        .change_tags_for_resource()
        .resource_type(TagResourceType::Healthcheck)
        .resource_id(&id);
    for (k, v) in tags_with_marks(r, stack) {
        tagging = tagging.add_tags(Tag::builder().key(k).value(v).build());
    }
    tagging.send().await?;
    created.ids.insert(r.address.as_str().into(), id);
    Ok(())
}

/// One change batch per zone: the record sets, then per record name one ownership TXT
/// record holding a value for every owned set of that name.
async fn create_records(
    moto: &MotoServer,
    stack: &str,
    records: &[&Resource],
    created: &Created,
) -> Result<(), BoxError> {
    use aws_sdk_route53::types::{
        Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
    };
    let zone_ids: HashMap<String, String> = zone_ids(moto).await?;
    let mut by_zone: BTreeMap<&str, Vec<Change>> = BTreeMap::new();
    let mut owners: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for r in records {
        let zone = s(r, "zone")?;
        let rtype = s(r, "type")?;
        let set_id = r.attrs.get("set_identifier").and_then(Value::as_str);
        let zone_id = zone_ids
            .get(zone)
            .ok_or_else(|| format!("zone {zone} does not exist"))?;
        by_zone.entry(zone).or_default().push(
            Change::builder()
                .action(ChangeAction::Create)
                .resource_record_set(record_set(r, created, zone_id)?)
                .build()?,
        );
        if stack.is_empty() {
            continue;
        }
        owners
            .entry((zone, s(r, "name")?))
            .or_default()
            .push(dns_owner_value(stack, r.address.as_str(), rtype, set_id));
    }
    for ((zone, name), values) in owners {
        let mut txt = ResourceRecordSet::builder()
            .name(format!("{DNS_OWNER_PREFIX}{name}"))
            .r#type(RrType::Txt)
            .ttl(300);
        for v in values {
            txt = txt.resource_records(ResourceRecord::builder().value(v).build()?);
        }
        by_zone.entry(zone).or_default().push(
            Change::builder()
                .action(ChangeAction::Create)
                .resource_record_set(txt.build()?)
                .build()?,
        );
    }
    for (zone, changes) in by_zone {
        let id = zone_ids
            .get(zone)
            .ok_or_else(|| format!("zone {zone} does not exist"))?;
        moto.route53()
            .change_resource_record_sets()
            .hosted_zone_id(id)
            .change_batch(ChangeBatch::builder().set_changes(Some(changes)).build()?)
            .send()
            .await?;
    }
    Ok(())
}

/// The record set a normalized `aws_route53_record` describes, in zone `zone_id`.
pub fn record_set(
    r: &Resource,
    created: &Created,
    zone_id: &str,
) -> Result<aws_sdk_route53::types::ResourceRecordSet, BoxError> {
    use aws_sdk_route53::types::{
        AliasTarget, ResourceRecord, ResourceRecordSet, ResourceRecordSetFailover, RrType,
    };
    let mut set = ResourceRecordSet::builder()
        .name(s(r, "name")?)
        .r#type(RrType::from(s(r, "type")?));
    match r.attrs.get("alias").and_then(Value::as_object) {
        Some(alias) => {
            let text = |k: &str| alias.get(k).and_then(Value::as_str);
            set = set.alias_target(
                AliasTarget::builder()
                    .hosted_zone_id(text("zone_id").unwrap_or(zone_id))
                    .dns_name(text("name").ok_or("alias without a name")?)
                    .evaluate_target_health(
                        alias
                            .get("evaluate_target_health")
                            .and_then(Value::as_bool)
                            .unwrap_or(true),
                    )
                    .build()?,
            );
        }
        None => set = set.ttl(i64::from(int(r, "ttl")?)),
    }
    for value in strings(r, "records") {
        set = set.resource_records(ResourceRecord::builder().value(value).build()?);
    }
    if let Some(id) = r.attrs.get("set_identifier").and_then(Value::as_str) {
        set = set.set_identifier(id);
    }
    if let Some(failover) = r.attrs.get("failover").and_then(Value::as_str) {
        set = set.failover(ResourceRecordSetFailover::from(failover));
    }
    if let Some(check) = r.attrs.get("health_check").and_then(Value::as_str) {
        set = set.health_check_id(id_of(created, check)?);
    }
    Ok(set.build()?)
}

/// Zone name (trailing dot) to bare zone id.
pub async fn zone_ids(moto: &MotoServer) -> Result<HashMap<String, String>, BoxError> {
    let out = moto.route53().list_hosted_zones().send().await?;
    Ok(out
        .hosted_zones()
        .iter()
        .map(|z| {
            (
                z.name().to_string(),
                z.id().rsplit('/').next().unwrap_or_default().to_string(),
            )
        })
        .collect())
}

// Single-attribute edits, as an operator would make them in the console.

pub async fn set_node_group_desired_size(
    moto: &MotoServer,
    r: &Resource,
    desired: i32,
) -> Result<(), BoxError> {
    use aws_sdk_eks::types::NodegroupScalingConfig;
    moto.eks(region(r)?)
        .update_nodegroup_config()
        .cluster_name(s(r, "cluster_name")?)
        .nodegroup_name(s(r, "name")?)
        .scaling_config(
            NodegroupScalingConfig::builder()
                .min_size(int(r, "min_size")?)
                .desired_size(desired)
                .max_size(int(r, "max_size")?)
                .build(),
        )
        .send()
        .await?;
    Ok(())
}

/// Rewrites the bucket's lifecycle with rule `rule_id` expiring after `days`.
pub async fn set_lifecycle_expiration(
    moto: &MotoServer,
    r: &Resource,
    rule_id: &str,
    days: i64,
) -> Result<(), BoxError> {
    let mut rules = r
        .attrs
        .get("lifecycle_rules")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let rule = rules
        .iter_mut()
        .find(|rule| rule.get("id").and_then(Value::as_str) == Some(rule_id))
        .ok_or_else(|| format!("{} has no lifecycle rule {rule_id}", r.address))?;
    rule["expiration_days"] = Value::from(days);
    put_lifecycle(&moto.s3(region(r)?), s(r, "name")?, &rules).await
}

/// UPSERTs the record set with new values (the failover target moved by hand).
pub async fn set_record_values(
    moto: &MotoServer,
    r: &Resource,
    created: &Created,
    values: &[&str],
) -> Result<(), BoxError> {
    use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch};
    let mut edited = r.clone();
    edited.attrs.insert(
        "records".into(),
        Value::from(values.iter().map(|v| v.to_string()).collect::<Vec<_>>()),
    );
    let zone_id = zone_ids(moto)
        .await?
        .remove(s(r, "zone")?)
        .ok_or("zone does not exist")?;
    let set = record_set(&edited, created, &zone_id)?;
    moto.route53()
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Upsert)
                        .resource_record_set(set)
                        .build()?,
                )
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

/// Applies the project's Kubernetes objects straight to the clusters named by the
/// environment's `cluster_access` contexts (namespaces first), as someone with
/// kubectl would: no drplan planning involved.
pub async fn create_k8s(
    kubeconfig: &std::path::Path,
    env: &drplan_core::model::Environment,
    resources: &[Resource],
) -> Result<usize, BoxError> {
    use drplan::k8s::{apply, client, kinds::Kinds};
    use drplan_core::model::ClusterAccess;
    let mut objects: Vec<&Resource> = resources
        .iter()
        .filter(|r| r.kind == Kind::K8sObject)
        .collect();
    objects.sort_by_key(|r| r.attrs.get("kind").and_then(Value::as_str) != Some("Namespace"));
    let mut clusters: HashMap<String, Kinds> = HashMap::new();
    for r in &objects {
        let cluster = r
            .attrs
            .get("cluster")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let label = cluster.trim_start_matches("cluster.");
        if !clusters.contains_key(label) {
            let Some(ClusterAccess::Kubeconfig { context, .. }) = env.cluster_access.get(label)
            else {
                return Err(format!(
                    "environment names no kubeconfig context for cluster `{label}`"
                )
                .into());
            };
            let path = kubeconfig.display().to_string();
            let c = client::from_kubeconfig(Some(&path), context).await?;
            clusters.insert(label.to_string(), Kinds::new(c));
        }
        apply::apply(&clusters[label], r).await?;
    }
    Ok(objects.len())
}

/// A bucket made by hand in `region` (outside us-east-1 S3 needs the location), as
/// another tool would make it: nothing else set.
pub async fn create_bucket_in(s3: &aws_sdk_s3::Client, name: &str, region: &str) {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
    let mut request = s3.create_bucket().bucket(name);
    if region != "us-east-1" {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateBucket {name}: {e:?}"));
}

/// Whether all four settings of `bucket`'s public access block are on.
pub async fn public_access_blocked(s3: &aws_sdk_s3::Client, bucket: &str) -> bool {
    let Ok(out) = s3.get_public_access_block().bucket(bucket).send().await else {
        return false;
    };
    out.public_access_block_configuration().is_some_and(|c| {
        c.block_public_acls() == Some(true)
            && c.ignore_public_acls() == Some(true)
            && c.block_public_policy() == Some(true)
            && c.restrict_public_buckets() == Some(true)
    })
}
