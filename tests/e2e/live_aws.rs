//! Live readers against the AWS emulator (moto): objects are created directly with the
//! SDK, marked and unmarked, then `read_live` must report exactly what a plan needs, in
//! the normalized attribute form, with few requests.

use crate::support::moto::{MotoServer, MOTO_ACCOUNT_ID};
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, Tag as Ec2Tag, TagSpecification};
use drplan::aws::{AccountGuardError, AwsContext};
use drplan::live::{read_live, ReadScope};
use drplan_core::address::Address;
use drplan_core::live::{LiveObject, LiveState};
use drplan_core::marks::{dns_owner_value, ADDRESS_KEY, STACK_KEY};
use drplan_core::resource::{Kind, Resource};
use serde_json::{json, Map, Value};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const STACK: &str = "lanka";

fn scope(regions: &[&str]) -> ReadScope {
    ReadScope {
        stack: STACK.to_string(),
        regions: regions.iter().map(|r| r.to_string()).collect(),
        ..ReadScope::default()
    }
}

fn of_kind(state: &LiveState, kind: Kind) -> Vec<&LiveObject> {
    state.objects.iter().filter(|o| o.kind == kind).collect()
}

fn by_address<'a>(state: &'a LiveState, address: &str) -> &'a LiveObject {
    state
        .objects
        .iter()
        .find(|o| o.address.as_ref().map(Address::as_str) == Some(address))
        .unwrap_or_else(|| {
            panic!(
                "no live object marked {address}; found {:#?}",
                state.objects
            )
        })
}

fn attrs(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn ec2_tags(
    resource: ResourceType,
    address: Option<&str>,
    stack: Option<&str>,
    extra: &[(&str, &str)],
) -> TagSpecification {
    let mut spec = TagSpecification::builder().resource_type(resource);
    let marks = stack
        .map(|s| (STACK_KEY, s))
        .into_iter()
        .chain(address.map(|a| (ADDRESS_KEY, a)));
    for (k, v) in marks.chain(extra.iter().copied()) {
        spec = spec.tags(Ec2Tag::builder().key(k).value(v).build());
    }
    spec.build()
}

async fn create_vpc(
    moto: &MotoServer,
    region: &str,
    cidr: &str,
    spec: TagSpecification,
) -> Result<String, Box<dyn std::error::Error>> {
    let out = moto
        .ec2(region)
        .create_vpc()
        .cidr_block(cidr)
        .tag_specifications(spec)
        .send()
        .await?;
    Ok(out
        .vpc()
        .and_then(|v| v.vpc_id())
        .ok_or("no vpc id")?
        .to_string())
}

async fn create_subnet(
    moto: &MotoServer,
    region: &str,
    vpc: &str,
    cidr: &str,
    az: &str,
    spec: TagSpecification,
) -> Result<String, Box<dyn std::error::Error>> {
    let out = moto
        .ec2(region)
        .create_subnet()
        .vpc_id(vpc)
        .cidr_block(cidr)
        .availability_zone(az)
        .tag_specifications(spec)
        .send()
        .await?;
    Ok(out
        .subnet()
        .and_then(|s| s.subnet_id())
        .ok_or("no subnet id")?
        .to_string())
}

#[tokio::test]
async fn networks_are_read_by_stack_tag_with_one_list_call_per_kind_and_region() -> TestResult {
    let moto = MotoServer::start();
    let west = "us-west-2";
    let east = "us-east-1";
    let vpc = create_vpc(
        &moto,
        west,
        "10.0.0.0/16",
        ec2_tags(
            ResourceType::Vpc,
            Some("network.primary"),
            Some(STACK),
            &[("team", "platform")],
        ),
    )
    .await?;
    for (i, az) in ["us-west-2a", "us-west-2b", "us-west-2c"]
        .iter()
        .enumerate()
    {
        let name = format!("network.primary.subnet.s{i}");
        create_subnet(
            &moto,
            west,
            &vpc,
            &format!("10.0.{i}.0/24"),
            az,
            ec2_tags(ResourceType::Subnet, Some(&name), Some(STACK), &[]),
        )
        .await?;
    }
    let public = create_subnet(
        &moto,
        west,
        &vpc,
        "10.0.10.0/24",
        "us-west-2a",
        ec2_tags(
            ResourceType::Subnet,
            Some("network.primary.subnet.public"),
            Some(STACK),
            &[("tier", "edge")],
        ),
    )
    .await?;
    moto.ec2(west)
        .modify_subnet_attribute()
        .subnet_id(&public)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(true).build())
        .send()
        .await?;
    // Not ours: unmarked, and marked for another stack.
    let foreign = create_vpc(
        &moto,
        west,
        "10.9.0.0/16",
        ec2_tags(ResourceType::Vpc, None, None, &[("team", "x")]),
    )
    .await?;
    create_subnet(
        &moto,
        west,
        &foreign,
        "10.9.0.0/24",
        "us-west-2a",
        ec2_tags(ResourceType::Subnet, None, None, &[("a", "b")]),
    )
    .await?;
    create_vpc(
        &moto,
        west,
        "10.8.0.0/16",
        ec2_tags(
            ResourceType::Vpc,
            Some("network.primary"),
            Some("other"),
            &[],
        ),
    )
    .await?;
    let dr_vpc = create_vpc(
        &moto,
        east,
        "10.1.0.0/16",
        ec2_tags(ResourceType::Vpc, Some("network.dr"), Some(STACK), &[]),
    )
    .await?;
    create_subnet(
        &moto,
        east,
        &dr_vpc,
        "10.1.0.0/24",
        "us-east-1a",
        ec2_tags(
            ResourceType::Subnet,
            Some("network.dr.subnet.a"),
            Some(STACK),
            &[],
        ),
    )
    .await?;

    let ctx = moto.context();
    let state = read_live(&ctx, &scope(&[west, east])).await;

    assert_eq!(
        state.read_errors,
        Vec::<drplan_core::live::ReadError>::new()
    );
    assert_eq!(
        of_kind(&state, Kind::Vpc).len(),
        2,
        "only this stack's VPCs: {:#?}",
        state.objects
    );
    assert_eq!(of_kind(&state, Kind::Subnet).len(), 5);
    let primary = by_address(&state, "network.primary");
    assert_eq!(primary.id, vpc);
    assert_eq!(primary.region.as_deref(), Some(west));
    assert_eq!(primary.stack.as_deref(), Some(STACK));
    assert_eq!(
        primary.attrs,
        attrs(json!({"cidr_block": "10.0.0.0/16", "tags": {"team": "platform"}}))
    );
    // The subnet's VPC id is rewritten into the VPC's address, as the spec writes it.
    assert_eq!(
        by_address(&state, "network.primary.subnet.public").attrs,
        attrs(json!({
            "vpc": "network.primary",
            "cidr_block": "10.0.10.0/24",
            "availability_zone": "us-west-2a",
            "public": true,
            "tags": {"tier": "edge"},
        }))
    );
    assert_eq!(
        by_address(&state, "network.primary.subnet.s1").attrs["public"],
        json!(false)
    );
    assert_eq!(
        by_address(&state, "network.dr.subnet.a").attrs["vpc"],
        json!("network.dr")
    );

    // Bulk: DescribeVpcs + DescribeSubnets + DescribeVpcPeeringConnections (orphans
    // too: read whether or not the spec has a peering), once per region, whatever the
    // count, and a reachability probe (DescribeAvailabilityZones) per region, unless
    // the reads finished before it was sent — at most once per region and reader (the
    // networks' and the peerings'): a probe a finished read dropped before its answer is sent
    // again by the next reader of that region.
    // Retries (a loaded machine's slow answer) are left out.
    let counter = ctx.api_call_counter();
    let ec2 = counter.get(drplan::aws::Service::Ec2) - counter.retries(drplan::aws::Service::Ec2);
    assert!(
        (6..=6 + 2 * 2).contains(&ec2),
        "{ec2} EC2 calls besides {} retries",
        counter.retries(drplan::aws::Service::Ec2)
    );
    assert_eq!(state.api_calls, ctx.api_calls());
    Ok(())
}

#[tokio::test]
async fn clusters_and_node_groups_are_read_for_names_in_the_spec_and_marked_ones() -> TestResult {
    use aws_sdk_eks::types::{CapacityTypes, NodegroupScalingConfig, VpcConfigRequest};
    let moto = MotoServer::start();
    let region = "us-west-2";
    let vpc = create_vpc(
        &moto,
        region,
        "10.0.0.0/16",
        ec2_tags(ResourceType::Vpc, Some("network.primary"), Some(STACK), &[]),
    )
    .await?;
    let mut subnets = Vec::new();
    for (i, az) in ["us-west-2a", "us-west-2b"].iter().enumerate() {
        let address = format!("network.primary.subnet.private-{i}");
        subnets.push(
            create_subnet(
                &moto,
                region,
                &vpc,
                &format!("10.0.{i}.0/24"),
                az,
                ec2_tags(ResourceType::Subnet, Some(&address), Some(STACK), &[]),
            )
            .await?,
        );
    }
    let eks = moto.eks(region);
    let role = "arn:aws:iam::123456789012:role/eks-cluster";
    let node_role = "arn:aws:iam::123456789012:role/eks-node";
    let create_cluster = |name: &str, tags: &[(&str, &str)]| {
        let mut request = eks
            .create_cluster()
            .name(name)
            .version("1.29")
            .role_arn(role)
            .resources_vpc_config(
                VpcConfigRequest::builder()
                    .set_subnet_ids(Some(subnets.clone()))
                    .build(),
            );
        for (k, v) in tags {
            request = request.tags(*k, *v);
        }
        request.send()
    };
    create_cluster(
        "lanka-prod",
        &[
            (STACK_KEY, STACK),
            (ADDRESS_KEY, "cluster.primary"),
            ("env", "prod"),
        ],
    )
    .await?;
    create_cluster(
        "lanka-old",
        &[(STACK_KEY, STACK), (ADDRESS_KEY, "cluster.old")],
    )
    .await?;
    create_cluster("hand-made", &[]).await?;
    create_cluster(
        "someone-else",
        &[(STACK_KEY, "other"), (ADDRESS_KEY, "cluster.primary")],
    )
    .await?;
    eks.create_nodegroup()
        .cluster_name("lanka-prod")
        .nodegroup_name("general")
        .node_role(node_role)
        .subnets(&subnets[1])
        .subnets(&subnets[0])
        .scaling_config(
            NodegroupScalingConfig::builder()
                .min_size(2)
                .desired_size(3)
                .max_size(10)
                .build(),
        )
        .instance_types("m5.large")
        .instance_types("m5a.large")
        .labels("role", "general")
        .labels("tier", "app")
        .tags(STACK_KEY, STACK)
        .tags(ADDRESS_KEY, "cluster.primary.node_group.general")
        .disk_size(50)
        .capacity_type(CapacityTypes::Spot)
        .send()
        .await?;
    eks.create_nodegroup()
        .cluster_name("hand-made")
        .nodegroup_name("default")
        .node_role(node_role)
        .subnets(&subnets[0])
        .send()
        .await?;

    let mut scope = scope(&[region]);
    scope
        .cluster_names
        .entry(region.to_string())
        .or_default()
        .insert("lanka-prod".to_string());
    // Named in the spec but not marked: a name collision the plan must see.
    scope
        .cluster_names
        .entry(region.to_string())
        .or_default()
        .insert("hand-made".to_string());
    let ctx = moto.context();
    let state = read_live(&ctx, &scope).await;

    assert_eq!(
        state.read_errors,
        Vec::<drplan_core::live::ReadError>::new()
    );
    let clusters: Vec<&str> = of_kind(&state, Kind::EksCluster)
        .iter()
        .map(|o| o.id.as_str())
        .collect();
    // `lanka-old` is an orphan (marked, no longer named); `someone-else` is not ours.
    assert_eq!(clusters, ["hand-made", "lanka-old", "lanka-prod"]);
    let prod = by_address(&state, "cluster.primary");
    assert_eq!(prod.id, "lanka-prod");
    assert_eq!(
        prod.attrs,
        attrs(json!({
            "name": "lanka-prod",
            "version": "1.29",
            "role_arn": role,
            "subnets": ["network.primary.subnet.private-0", "network.primary.subnet.private-1"],
            "tags": {"env": "prod"},
        }))
    );
    let general = by_address(&state, "cluster.primary.node_group.general");
    assert_eq!(general.id, "lanka-prod/general");
    assert_eq!(general.region.as_deref(), Some(region));
    assert_eq!(
        general.attrs,
        attrs(json!({
            "cluster_name": "lanka-prod",
            "name": "general",
            "node_role_arn": node_role,
            "instance_types": ["m5.large", "m5a.large"],
            "min_size": 2,
            "max_size": 10,
            "desired_size": 3,
            "disk_size": 50,
            "capacity_type": "SPOT",
            "labels": {"role": "general", "tier": "app"},
            "subnets": ["network.primary.subnet.private-0", "network.primary.subnet.private-1"],
            "tags": {},
        }))
    );
    let unmarked_group = of_kind(&state, Kind::NodeGroup)
        .into_iter()
        .find(|o| o.id == "hand-made/default")
        .ok_or("node group of a cluster named in the spec is read")?;
    assert_eq!(unmarked_group.address, None);
    // moto's defaults for a bare node group (real EKS: the same values).
    assert_eq!(unmarked_group.attrs["instance_types"], json!(["t3.medium"]));
    assert_eq!(unmarked_group.attrs["capacity_type"], json!("ON_DEMAND"));

    // ListClusters 1 + DescribeCluster 4 + (ListNodegroups + DescribeNodegroup) per kept
    // cluster, and at most one reachability probe (ListClusters) for the region.
    let node_groups_read = 3 + 2; // 3 kept clusters listed, 2 node groups described
    let eks = ctx.api_calls_by_service().get("eks").copied().unwrap_or(0);
    assert!(
        (1 + 4 + node_groups_read..=1 + 4 + node_groups_read + 1).contains(&eks),
        "{eks} EKS calls"
    );
    Ok(())
}

async fn create_bucket(
    moto: &MotoServer,
    name: &str,
    region: &str,
    tags: &[(&str, &str)],
) -> TestResult {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration, Tag, Tagging};
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
    if !tags.is_empty() {
        let mut tagging = Tagging::builder();
        for (k, v) in tags {
            tagging = tagging.tag_set(Tag::builder().key(*k).value(*v).build()?);
        }
        s3.put_bucket_tagging()
            .bucket(name)
            .tagging(tagging.build()?)
            .send()
            .await?;
    }
    Ok(())
}

#[tokio::test]
async fn buckets_report_versioning_encryption_lifecycle_and_replication() -> TestResult {
    use aws_sdk_s3::types::*;
    let moto = MotoServer::start();
    let (west, east) = ("us-west-2", "us-east-1");
    create_bucket(
        &moto,
        "lanka-backups",
        west,
        &[
            (STACK_KEY, STACK),
            (ADDRESS_KEY, "bucket.backups"),
            ("team", "sre"),
        ],
    )
    .await?;
    create_bucket(
        &moto,
        "lanka-backups-dr",
        east,
        &[(STACK_KEY, STACK), (ADDRESS_KEY, "bucket.backups_dr")],
    )
    .await?;
    create_bucket(&moto, "lanka-plain", east, &[]).await?;
    create_bucket(
        &moto,
        "lanka-orphan",
        west,
        &[(STACK_KEY, STACK), (ADDRESS_KEY, "bucket.gone")],
    )
    .await?;
    create_bucket(&moto, "unrelated", west, &[("team", "data")]).await?;
    create_bucket(
        &moto,
        "lanka-far-away",
        "eu-west-1",
        &[(STACK_KEY, STACK), (ADDRESS_KEY, "bucket.far")],
    )
    .await?;

    let s3 = moto.s3(west);
    for bucket in ["lanka-backups", "lanka-backups-dr"] {
        moto.s3(if bucket.ends_with("-dr") { east } else { west })
            .put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await?;
    }
    s3.put_bucket_encryption()
        .bucket("lanka-backups")
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::AwsKms)
                                .kms_master_key_id("alias/lanka-backups")
                                .build()?,
                        )
                        .build(),
                )
                .build()?,
        )
        .send()
        .await?;
    // Written out of id order: the reader sorts rules by id.
    let tmp_rule = LifecycleRule::builder()
        .id("tmp")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("tmp/").build())
        .expiration(LifecycleExpiration::builder().days(7).build())
        .noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(1)
                .build(),
        )
        .build()?;
    let archive_rule = LifecycleRule::builder()
        .id("archive")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("neo4j/").build())
        .transitions(
            Transition::builder()
                .days(90)
                .storage_class(TransitionStorageClass::Glacier)
                .build(),
        )
        .transitions(
            Transition::builder()
                .days(30)
                .storage_class(TransitionStorageClass::StandardIa)
                .build(),
        )
        .noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(14)
                .build(),
        )
        .build()?;
    s3.put_bucket_lifecycle_configuration()
        .bucket("lanka-backups")
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(tmp_rule)
                .rules(archive_rule)
                .build()?,
        )
        .send()
        .await?;
    s3.put_bucket_replication()
        .bucket("lanka-backups")
        .replication_configuration(
            ReplicationConfiguration::builder()
                .role("arn:aws:iam::123456789012:role/s3-replication")
                .rules(
                    ReplicationRule::builder()
                        .id("to-dr")
                        .priority(1)
                        .status(ReplicationRuleStatus::Enabled)
                        .filter(ReplicationRuleFilter::builder().prefix("").build())
                        .delete_marker_replication(
                            DeleteMarkerReplication::builder()
                                .status(DeleteMarkerReplicationStatus::Disabled)
                                .build(),
                        )
                        .destination(
                            Destination::builder()
                                .bucket("arn:aws:s3:::lanka-backups-dr")
                                .storage_class(StorageClass::StandardIa)
                                .build()?,
                        )
                        .build()?,
                )
                .build()?,
        )
        .send()
        .await?;

    let mut scope = scope(&[west, east]);
    scope.bucket_names.extend(
        [
            "lanka-backups",
            "lanka-backups-dr",
            "lanka-plain",
            "not-created-yet",
        ]
        .map(String::from),
    );
    let ctx = moto.context();
    let state = read_live(&ctx, &scope).await;

    assert_eq!(
        state.read_errors,
        Vec::<drplan_core::live::ReadError>::new()
    );
    let names: Vec<&str> = of_kind(&state, Kind::Bucket)
        .iter()
        .map(|o| o.id.as_str())
        .collect();
    // The orphan is found by its tags; `unrelated` is not ours; the eu-west-1 bucket
    // is outside the topology's regions.
    assert_eq!(
        names,
        [
            "lanka-backups",
            "lanka-backups-dr",
            "lanka-orphan",
            "lanka-plain"
        ]
    );
    let backups = by_address(&state, "bucket.backups");
    assert_eq!(backups.region.as_deref(), Some(west));
    assert_eq!(
        backups.attrs,
        attrs(json!({
            "name": "lanka-backups",
            "versioning": true,
            "encryption": {"algorithm": "aws:kms", "kms_key_id": "alias/lanka-backups"},
            "lifecycle_rules": [
                {
                    "id": "archive",
                    "prefix": "neo4j/",
                    "expiration_days": null,
                    "noncurrent_expiration_days": 14,
                    "transitions": [
                        {"days": 30, "storage_class": "STANDARD_IA"},
                        {"days": 90, "storage_class": "GLACIER"},
                    ],
                },
                {
                    "id": "tmp",
                    "prefix": "tmp/",
                    "expiration_days": 7,
                    "noncurrent_expiration_days": 1,
                    "transitions": [],
                },
            ],
            "replication": {
                "role_arn": "arn:aws:iam::123456789012:role/s3-replication",
                "rules": [{
                    "id": "to-dr",
                    "prefix": "",
                    "destination_bucket": "lanka-backups-dr",
                    "storage_class": "STANDARD_IA",
                }],
            },
            "tags": {"team": "sre"},
        }))
    );
    // Nothing configured reads as absent, not as an error. moto (unlike AWS since
    // 2023) applies no default SSE-S3 encryption, so `encryption` is null here.
    let plain = of_kind(&state, Kind::Bucket)
        .into_iter()
        .find(|o| o.id == "lanka-plain")
        .ok_or("plain bucket")?;
    // Listed by ListBuckets filtered to us-east-1 (moto's listing names no region).
    assert_eq!(plain.region.as_deref(), Some(east));
    assert_eq!((&plain.address, &plain.stack), (&None, &None));
    assert_eq!(
        plain.attrs,
        attrs(json!({
            "name": "lanka-plain",
            "versioning": false,
            "encryption": null,
            "lifecycle_rules": [],
            "replication": null,
            "tags": {},
        }))
    );
    assert_eq!(
        by_address(&state, "bucket.backups_dr").attrs["versioning"],
        json!(true)
    );

    // ListBuckets 1 + one ListBuckets filtered by `bucket-region` per scope region (2,
    // as moto's listing names no region; it was a GetBucketLocation per bucket, 6) +
    // GetBucketTagging for the 5 in scope regions + 4 configuration reads for each of
    // the 4 kept buckets, and one reachability probe (ListBuckets) at most per region
    // whose buckets are read. No GetBucketLocation: every named bucket is listed.
    // Retries (a loaded machine's slow answer) are left out: once a 32nd call failed it.
    let counter = ctx.api_call_counter();
    let s3 = counter.get(drplan::aws::Service::S3) - counter.retries(drplan::aws::Service::S3);
    assert!(
        (1 + 2 + 5 + 4 * 4..=1 + 2 + 5 + 4 * 4 + 3).contains(&s3),
        "{s3} S3 calls besides {} retries",
        counter.retries(drplan::aws::Service::S3)
    );
    Ok(())
}

async fn create_zone(
    moto: &MotoServer,
    name: &str,
    comment: &str,
    tags: &[(&str, &str)],
) -> Result<String, Box<dyn std::error::Error>> {
    use aws_sdk_route53::types::{HostedZoneConfig, Tag, TagResourceType};
    let r53 = moto.route53();
    let out = r53
        .create_hosted_zone()
        .name(name)
        .caller_reference(format!("test-{name}"))
        .hosted_zone_config(HostedZoneConfig::builder().comment(comment).build())
        .send()
        .await?;
    let id = out
        .hosted_zone()
        .ok_or("no zone")?
        .id()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    if !tags.is_empty() {
        let mut request = r53
            .change_tags_for_resource()
            .resource_type(TagResourceType::Hostedzone)
            .resource_id(&id);
        for (k, v) in tags {
            request = request.add_tags(Tag::builder().key(*k).value(*v).build());
        }
        request.send().await?;
    }
    Ok(id)
}

async fn create_health_check(
    moto: &MotoServer,
    fqdn: &str,
    tags: &[(&str, &str)],
) -> Result<String, Box<dyn std::error::Error>> {
    use aws_sdk_route53::types::{HealthCheckConfig, HealthCheckType, Tag, TagResourceType};
    let r53 = moto.route53();
    let out = r53
        .create_health_check()
        .caller_reference(format!("hc-{fqdn}"))
        .health_check_config(
            HealthCheckConfig::builder()
                .r#type(HealthCheckType::Https)
                .fully_qualified_domain_name(fqdn)
                .port(443)
                .resource_path("/health")
                .request_interval(30)
                .failure_threshold(3)
                .build()?,
        )
        .send()
        .await?;
    let id = out
        .health_check()
        .ok_or("no health check")?
        .id()
        .to_string();
    if !tags.is_empty() {
        let mut request = r53
            .change_tags_for_resource()
            .resource_type(TagResourceType::Healthcheck)
            .resource_id(&id);
        for (k, v) in tags {
            request = request.add_tags(Tag::builder().key(*k).value(*v).build());
        }
        request.send().await?;
    }
    Ok(id)
}

#[tokio::test]
async fn failover_records_carry_the_marks_of_their_owner_txt_record() -> TestResult {
    use aws_sdk_route53::types::*;
    let moto = MotoServer::start();
    let zone = create_zone(
        &moto,
        "lanka-platform.com",
        "public zone",
        &[(STACK_KEY, STACK), (ADDRESS_KEY, "zone.public")],
    )
    .await?;
    create_zone(&moto, "elsewhere.org", "not ours", &[]).await?;
    let check = create_health_check(
        &moto,
        "primary-lb.us-west-2.elb.amazonaws.com",
        &[
            (STACK_KEY, STACK),
            (ADDRESS_KEY, "dns.api.target.primary.health_check"),
            ("team", "sre"),
        ],
    )
    .await?;
    // Twelve checks in all, so their tags take two ListTagsForResources batches.
    for i in 0..10 {
        create_health_check(&moto, &format!("other-{i}.example.net"), &[]).await?;
    }
    create_health_check(
        &moto,
        "theirs.example.net",
        &[(STACK_KEY, "other"), (ADDRESS_KEY, "dns.x")],
    )
    .await?;

    let record = |name: &str, rtype: RrType, values: &[&str]| {
        let mut set = ResourceRecordSet::builder()
            .name(name)
            .r#type(rtype)
            .ttl(60);
        for v in values {
            set = set.resource_records(
                ResourceRecord::builder()
                    .value(*v)
                    .build()
                    .unwrap_or_else(|e| panic!("{e}")),
            );
        }
        set
    };
    let changes = vec![
        record(
            "api.lanka-platform.com",
            RrType::Cname,
            &["primary-lb.us-west-2.elb.amazonaws.com"],
        )
        .set_identifier("primary")
        .failover(ResourceRecordSetFailover::Primary)
        .health_check_id(&check)
        .build()?,
        record(
            "api.lanka-platform.com",
            RrType::Cname,
            &["dr-lb.us-east-1.elb.amazonaws.com"],
        )
        .set_identifier("dr")
        .failover(ResourceRecordSetFailover::Secondary)
        .build()?,
        record(
            "_drplan.api.lanka-platform.com",
            RrType::Txt,
            &[
                &dns_owner_value(STACK, "dns.api.target.primary", "CNAME", Some("primary")),
                &dns_owner_value(STACK, "dns.api.target.dr", "CNAME", Some("dr")),
            ],
        )
        .ttl(300)
        .build()?,
        record("www.lanka-platform.com", RrType::A, &["192.0.2.10"]).build()?,
        // Aliases: to a load balancer (its canonical zone), and to a record of this
        // zone; Route53 sends no TTL and no values for them.
        ResourceRecordSet::builder()
            .name("lanka-platform.com")
            .r#type(RrType::A)
            .alias_target(
                aws_sdk_route53::types::AliasTarget::builder()
                    .hosted_zone_id("Z18D5FSROUN65G")
                    .dns_name("Primary-LB-1a2b.elb.us-west-2.amazonaws.com")
                    .evaluate_target_health(true)
                    .build()?,
            )
            .build()?,
        ResourceRecordSet::builder()
            .name("app.lanka-platform.com")
            .r#type(RrType::A)
            .alias_target(
                aws_sdk_route53::types::AliasTarget::builder()
                    .hosted_zone_id(&zone)
                    .dns_name("www.lanka-platform.com")
                    .evaluate_target_health(false)
                    .build()?,
            )
            .build()?,
    ];
    let mut batch = ChangeBatch::builder();
    for set in changes {
        batch = batch.changes(
            Change::builder()
                .action(ChangeAction::Create)
                .resource_record_set(set)
                .build()?,
        );
    }
    moto.route53()
        .change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(batch.build()?)
        .send()
        .await?;

    let mut scope = scope(&[]);
    scope.zone_names.insert("lanka-platform.com.".to_string());
    // The spec has this health check; it was made by hand (its CallerReference is not
    // drplan's), so it is found by its tags (`caller_reference`).
    scope
        .health_checks
        .insert("dns.api.target.primary.health_check".to_string());
    let ctx = moto.context();
    let state = read_live(&ctx, &scope).await;

    assert_eq!(
        state.read_errors,
        Vec::<drplan_core::live::ReadError>::new()
    );
    let zones = of_kind(&state, Kind::DnsZone);
    assert_eq!(
        zones.len(),
        1,
        "zones outside the spec and unmarked are skipped"
    );
    assert_eq!(zones[0].id, zone);
    assert_eq!(zones[0].address, Some(Address::new("zone.public")));
    assert_eq!(
        zones[0].attrs,
        attrs(json!({"name": "lanka-platform.com.", "comment": "public zone", "tags": {}}))
    );

    let primary = by_address(&state, "dns.api.target.primary");
    assert_eq!(primary.stack.as_deref(), Some(STACK));
    assert_eq!(
        primary.id,
        "lanka-platform.com./api.lanka-platform.com./CNAME/primary"
    );
    assert_eq!(
        primary.attrs,
        attrs(json!({
            "zone": "lanka-platform.com.",
            "name": "api.lanka-platform.com.",
            "type": "CNAME",
            "ttl": 60,
            "records": ["primary-lb.us-west-2.elb.amazonaws.com"],
            "set_identifier": "primary",
            "failover": "PRIMARY",
            // The health check id is rewritten into the check's address.
            "health_check": "dns.api.target.primary.health_check",
            "alias": null,
        }))
    );
    let dr = by_address(&state, "dns.api.target.dr");
    assert_eq!(dr.attrs["failover"], json!("SECONDARY"));
    assert_eq!(dr.attrs["health_check"], Value::Null);
    // An unowned record is reported (a name the spec could collide with), unmarked;
    // the owner TXT record and the zone's NS/SOA are not.
    let records = of_kind(&state, Kind::DnsRecord);
    let ids: Vec<&str> = records.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "lanka-platform.com./api.lanka-platform.com./CNAME/dr",
            "lanka-platform.com./api.lanka-platform.com./CNAME/primary",
            "lanka-platform.com./app.lanka-platform.com./A/",
            "lanka-platform.com./lanka-platform.com./A/",
            "lanka-platform.com./www.lanka-platform.com./A/",
        ]
    );
    assert_eq!(records[4].address, None);
    // The target's name lower case with its final dot; no zone id for a record of the
    // alias's own zone, as the spec writes it.
    let alias = |i: usize| (&records[i].attrs["alias"], &records[i].attrs["ttl"]);
    assert_eq!(
        alias(3),
        (
            &json!({
                "name": "primary-lb-1a2b.elb.us-west-2.amazonaws.com.",
                "zone_id": "Z18D5FSROUN65G",
                "evaluate_target_health": true,
            }),
            &Value::Null
        )
    );
    assert_eq!(
        alias(2).0,
        &json!({
            "name": "www.lanka-platform.com.",
            "zone_id": null,
            "evaluate_target_health": false,
        })
    );
    assert_eq!(records[3].attrs["records"], json!([]));

    let checks = of_kind(&state, Kind::HealthCheck);
    assert_eq!(checks.len(), 1, "only this stack's health checks");
    assert_eq!(checks[0].id, check);
    assert_eq!(
        checks[0].attrs,
        attrs(json!({
            "type": "HTTPS",
            "fqdn": "primary-lb.us-west-2.elb.amazonaws.com",
            "port": 443,
            "resource_path": "/health",
            "request_interval": 30,
            "failure_threshold": 3,
            "tags": {"team": "sre"},
        }))
    );

    // ListHostedZones, zone tags (1 batch), ListResourceRecordSets for the one zone in
    // play, ListHealthChecks, health-check tags (2 batches of at most 10).
    assert_eq!(ctx.api_calls_by_service().get("route53"), Some(&6));
    Ok(())
}

#[tokio::test]
async fn account_guard_accepts_the_right_account_and_refuses_another() -> TestResult {
    let moto = MotoServer::start();
    let ctx = moto.context();
    assert_eq!(ctx.caller_account().await?, MOTO_ACCOUNT_ID);
    ctx.check_account(Some(MOTO_ACCOUNT_ID)).await?;
    let err = ctx
        .check_account(Some("210987654321"))
        .await
        .err()
        .ok_or("a different account must be refused")?;
    assert_eq!(
        err,
        AccountGuardError::Mismatch {
            expected: "210987654321".into(),
            actual: MOTO_ACCOUNT_ID.into()
        }
    );
    assert!(
        err.to_string().contains("belong to account 123456789012"),
        "{err}"
    );
    assert!(
        err.to_string().contains("guarded to account 210987654321"),
        "{err}"
    );

    let calls = ctx.api_calls();
    ctx.check_account(None).await?;
    assert_eq!(ctx.api_calls(), calls, "no account_id, no request");
    Ok(())
}

#[tokio::test]
async fn an_unreachable_endpoint_becomes_read_errors_not_a_panic() {
    // A port nothing listens on: connection refused on every attempt.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9);
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-west-2"))
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("testing", "testing", None, None, "test"),
            ),
        )
        .retry_config(aws_smithy_types::retry::RetryConfig::standard().with_max_attempts(2))
        .timeout_config(drplan::aws::default_timeout_config())
        .build();
    let ctx = AwsContext::new(config);
    let mut scope = scope(&["us-west-2"]);
    scope.zone_names.insert("example.com.".into());
    let state = read_live(&ctx, &scope).await;

    assert!(state.objects.is_empty());
    // The regional services are probed: refused, so the region is unreachable (one
    // entry per service), not a read error per kind.
    use drplan_core::live::ReachFailure::ConnectionRefused;
    let lost: Vec<(&str, drplan_core::live::ReachFailure)> = state
        .unreachable
        .iter()
        .map(|u| (u.service.as_str(), u.cause))
        .collect();
    assert_eq!(
        lost,
        [
            ("ec2", ConnectionRefused),
            ("ecr", ConnectionRefused),
            ("eks", ConnectionRefused),
            ("elasticache", ConnectionRefused)
        ],
        "{:#?}",
        state.unreachable
    );
    assert!(state
        .unreachable
        .iter()
        .all(|u| u.region.as_deref() == Some("us-west-2")));
    // Global services are not probed: their failures stay read errors.
    let shown: Vec<String> = state.read_errors.iter().map(ToString::to_string).collect();
    let kinds: Vec<&str> = shown.iter().filter_map(|e| e.split(' ').next()).collect();
    for kind in [
        "aws_s3_bucket:",
        "aws_route53_zone:",
        "aws_route53_health_check:",
    ] {
        assert!(
            kinds.contains(&kind),
            "{kind} missing from {:#?}",
            state.read_errors
        );
    }
    assert!(
        kinds
            .iter()
            .all(|k| !k.starts_with("aws_vpc") && !k.starts_with("aws_eks")),
        "{:#?}",
        state.read_errors
    );
    assert!(
        shown[0].contains("could not reach AWS"),
        "{:#?}",
        state.read_errors
    );
}

#[test]
fn read_scope_is_derived_from_the_desired_resources() {
    let resource = |kind: Kind, address: &str, region: Option<&str>, attrs: Value| Resource {
        ignore_changes: Vec::new(),
        address: Address::new(address),
        kind,
        site: region.map(|_| "primary".to_string()),
        region: region.map(str::to_string),
        attrs: match attrs {
            Value::Object(m) => m.into(),
            _ => Default::default(),
        },
        sensitive: vec![],
        depends_on: vec![],
        protect: false,
        source: None,
    };
    let resources = [
        resource(Kind::Vpc, "network.primary", Some("us-west-2"), json!({})),
        resource(
            Kind::EksCluster,
            "cluster.primary",
            Some("us-west-2"),
            json!({"name": "lanka-prod"}),
        ),
        resource(
            Kind::Bucket,
            "bucket.dr",
            Some("us-east-1"),
            json!({"name": "lanka-dr"}),
        ),
        resource(
            Kind::DnsZone,
            "zone.public",
            None,
            json!({"name": "Lanka-Platform.com"}),
        ),
        resource(
            Kind::DnsRecord,
            "dns.api.target.primary",
            None,
            json!({"zone": "internal.example.", "name": "api"}),
        ),
    ];
    let scope = ReadScope::from_resources(STACK, &resources);
    assert_eq!(scope.stack, STACK);
    assert_eq!(
        scope.regions.iter().map(String::as_str).collect::<Vec<_>>(),
        ["us-east-1", "us-west-2"]
    );
    assert_eq!(
        scope.cluster_names["us-west-2"].iter().collect::<Vec<_>>(),
        ["lanka-prod"]
    );
    assert_eq!(scope.bucket_names.iter().collect::<Vec<_>>(), ["lanka-dr"]);
    assert_eq!(
        scope.zone_names.iter().collect::<Vec<_>>(),
        ["internal.example.", "lanka-platform.com."]
    );
}

#[test]
fn a_test_server_does_not_outlive_its_test_even_when_the_test_panics() {
    let alive = |pid: u32| std::path::Path::new(&format!("/proc/{pid}")).exists();
    let pid = std::cell::Cell::new(0);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let moto = MotoServer::start();
        pid.set(moto.pid());
        assert!(alive(moto.pid()));
        panic!("a failing test");
    }));
    assert!(outcome.is_err());
    assert!(
        pid.get() != 0 && !alive(pid.get()),
        "moto server {} survived the panic",
        pid.get()
    );
}
