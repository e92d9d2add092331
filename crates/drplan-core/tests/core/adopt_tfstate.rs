//! A Terraform state file converted to import and spec blocks
//! (`drplan_core::adopt::tfstate`), and the result loaded by the real spec loader.

use crate::spec_support::write;
use drplan_core::adopt::tfstate::{convert, Conversion, TfStateError};
use drplan_core::adopt::{import_blocks, Adoption};
use drplan_core::model::Project;
use drplan_core::resource::Kind;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const FIXTURE: &str = include_str!("tfstate_fixture/terraform.tfstate");

fn one_site() -> BTreeMap<String, String> {
    BTreeMap::from([("us-west-2".to_string(), "primary".to_string())])
}

fn two_sites() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("us-west-2".to_string(), "primary".to_string()),
        ("us-east-1".to_string(), "dr".to_string()),
    ])
}

fn converted(state: &str, sites: &BTreeMap<String, String>) -> Conversion {
    convert(state, sites).unwrap_or_else(|e| panic!("{e}"))
}

/// The conversion as a reviewer reads it: import blocks, spec blocks, manifests,
/// what was left out.
fn report(c: &Conversion) -> String {
    let mut s = format!(
        "## imports.hcl\n{}\n## adopted.hcl\n{}",
        import_blocks(&c.adoptions),
        c.config
    );
    for (path, yaml) in &c.manifests {
        s.push_str(&format!("\n## {path}\n{yaml}"));
    }
    s.push_str("\n## uncovered\n");
    for u in &c.uncovered {
        s.push_str(&format!("{}: {}\n", u.source, u.reason));
    }
    s
}

/// Writes the conversion into a project beside `sites` and loads it.
fn load(c: &Conversion, sites: &str) -> Project {
    let imports = import_blocks(&c.adoptions);
    let mut files: Vec<(&str, &str)> = vec![
        ("specs/sites.hcl", sites),
        ("specs/adopted.hcl", &c.config),
        ("specs/imports.hcl", &imports),
        ("environments/test.hcl", "stack = \"test\"\n"),
    ];
    for (path, yaml) in &c.manifests {
        files.push((path, yaml));
    }
    let dir = write(&files);
    drplan_core::spec::load_project(dir.path(), "test").unwrap_or_else(|d| {
        panic!(
            "the converted project does not load:\n{}\n\n{}",
            d.render(false, 100),
            report(c)
        )
    })
}

fn addresses(adoptions: &[Adoption]) -> BTreeSet<String> {
    adoptions.iter().map(|a| a.to.to_string()).collect()
}

/// Every lowered resource is imported, under the address the conversion named, and
/// the loader read every import block with its id.
fn assert_imports_match(p: &Project, c: &Conversion) {
    let lowered: BTreeSet<String> = p.resources.iter().map(|r| r.address.to_string()).collect();
    assert_eq!(lowered, addresses(&c.adoptions));
    let loaded: BTreeSet<(String, String)> = p
        .imports
        .iter()
        .map(|i| (i.to.to_string(), i.id.clone()))
        .collect();
    let written: BTreeSet<(String, String)> = c
        .adoptions
        .iter()
        .map(|a| (a.to.to_string(), a.id.clone()))
        .collect();
    assert_eq!(loaded, written);
    for a in &c.adoptions {
        let r = p
            .resources
            .iter()
            .find(|r| r.address == a.to)
            .unwrap_or_else(|| panic!("{}", a.to));
        assert_eq!(r.kind, a.kind, "{}", a.to);
    }
}

#[test]
fn the_fixture_converts_to_import_and_spec_blocks() {
    let c = converted(FIXTURE, &one_site());
    insta::assert_snapshot!(report(&c));
}

#[test]
fn the_fixture_loads_and_its_imports_name_the_lowered_resources() {
    let c = converted(FIXTURE, &one_site());
    let p = load(&c, "site \"primary\" {\n  region = \"us-west-2\"\n}\n");
    assert_imports_match(&p, &c);
    let attrs = |a: &str| {
        p.resources
            .iter()
            .find(|r| r.address.as_str() == a)
            .map(|r| serde_json::Value::Object(r.attrs.clone().into()))
            .unwrap_or_else(|| panic!("{a}"))
    };
    // What the plan after import compares with the objects Terraform made.
    assert_eq!(
        attrs("bucket.backups")["encryption"],
        json!({"algorithm": "AES256", "kms_key_id": null})
    );
    assert_eq!(attrs("bucket.backups")["versioning"], json!(true));
    assert_eq!(
        attrs("network.main")["tags"],
        json!({"Name": "lanka-main", "managed-by": "terraform"})
    );
    assert_eq!(
        attrs("network.main.subnet.private_b")["public"],
        json!(true)
    );
    assert_eq!(
        attrs("zone.public")["comment"],
        json!("Managed by Terraform")
    );
    let www = attrs("dns.www.target.primary");
    assert_eq!(
        (
            &www["name"],
            &www["type"],
            &www["ttl"],
            &www["set_identifier"]
        ),
        (
            &json!("www.lanka-platform.com."),
            &json!("CNAME"),
            &json!(300),
            &json!(null)
        )
    );
}

#[test]
fn the_fixture_lists_what_drplan_does_not_manage() {
    let c = converted(FIXTURE, &one_site());
    let uncovered: Vec<(&str, &str)> = c
        .uncovered
        .iter()
        .map(|u| (u.source.as_str(), u.reason.as_str()))
        .collect();
    assert_eq!(
        uncovered,
        vec![
            ("data.aws_caller_identity.current", "data source"),
            (
                "aws_iam_role.eks_cluster",
                "drplan does not manage aws_iam_role"
            ),
        ]
    );
}

#[test]
fn a_version_3_state_is_refused_by_name() {
    let e = convert(r#"{"version": 3, "serial": 1, "modules": []}"#, &one_site());
    assert!(matches!(e, Err(TfStateError::Version(3))));
    let text = e
        .map(|_| ())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        text.contains("version 3 is not supported") && text.contains("reads version 4"),
        "{text}"
    );
    assert!(matches!(
        convert("{}", &one_site()),
        Err(TfStateError::NoVersion)
    ));
    assert!(matches!(
        convert("not json", &one_site()),
        Err(TfStateError::Json(_))
    ));
}

fn resource(type_name: &str, name: &str, attributes: serde_json::Value) -> serde_json::Value {
    json!({
        "mode": "managed", "type": type_name, "name": name,
        "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
        "instances": [{"schema_version": 0, "attributes": attributes, "sensitive_attributes": []}]
    })
}

fn state(resources: Vec<serde_json::Value>) -> String {
    json!({"version": 4, "terraform_version": "1.9.8", "serial": 3, "lineage": "x",
           "outputs": {}, "resources": resources})
    .to_string()
}

fn vpc(name: &str, id: &str, region: &str, cidr: &str) -> serde_json::Value {
    resource(
        "aws_vpc",
        name,
        json!({"id": id, "arn": format!("arn:aws:ec2:{region}:123456789012:vpc/{id}"),
               "cidr_block": cidr, "tags": {}, "tags_all": {}}),
    )
}

fn subnet(name: &str, id: &str, vpc: &str, az: &str, cidr: &str) -> serde_json::Value {
    resource(
        "aws_subnet",
        name,
        json!({"id": id, "vpc_id": vpc, "availability_zone": az, "cidr_block": cidr,
               "map_public_ip_on_launch": false, "tags": null}),
    )
}

#[test]
fn a_sensitive_attribute_is_never_written() {
    let mut secret = resource(
        "kubernetes_manifest",
        "db_password",
        json!({"manifest": {"type": ["object", {}], "value": {
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "app"},
            "data": {"password": "c3VwZXItc2VjcmV0LXZhbHVl"}}},
            "object": null}),
    );
    secret["instances"][0]["sensitive_attributes"] = json!([[
        {"type": "get_attr", "value": "manifest"},
        {"type": "get_attr", "value": "value"},
        {"type": "get_attr", "value": "data"}
    ]]);
    let mut tagged = vpc("main", "vpc-0aaa", "us-west-2", "10.1.0.0/16");
    tagged["instances"][0]["attributes"]["tags_all"] = json!({"token": "hunter2-tag-secret"});
    tagged["instances"][0]["sensitive_attributes"] =
        json!([{"type": "get_attr", "value": "tags_all"}]);
    let text = state(vec![
        tagged,
        subnet("a", "subnet-0aaa", "vpc-0aaa", "us-west-2a", "10.1.0.0/20"),
        resource(
            "aws_eks_cluster",
            "app",
            json!({"name": "app", "version": "1.29",
                   "arn": "arn:aws:eks:us-west-2:123456789012:cluster/app",
                   "role_arn": "arn:aws:iam::123456789012:role/eks",
                   "vpc_config": [{"subnet_ids": ["subnet-0aaa"]}], "tags_all": {}}),
        ),
        secret,
    ]);
    let c = converted(&text, &one_site());
    let everything = report(&c);
    assert!(
        !everything.contains("c3VwZXItc2VjcmV0LXZhbHVl"),
        "{everything}"
    );
    assert!(!everything.contains("hunter2"), "{everything}");
    let reasons: Vec<String> = c
        .uncovered
        .iter()
        .map(|u| format!("{}: {}", u.source, u.reason))
        .collect();
    assert_eq!(
        reasons,
        vec![
            "aws_vpc.main: `tags_all` is sensitive in the state: it is not written into the spec",
            "kubernetes_manifest.db_password: `manifest.value.data` is sensitive in the state: it is not written into the spec",
        ]
    );
    assert_eq!(c.manifests.len(), 1);
    let p = load(&c, "site \"primary\" {\n  region = \"us-west-2\"\n}\n");
    assert_imports_match(&p, &c);
}

/// Two sites, failover DNS with a health check, a node group, lifecycle and
/// cross-site replication, a Kubernetes manifest: every block the conversion
/// writes, loaded.
#[test]
fn a_two_site_state_converts_every_family_and_loads() {
    let mut manifest = resource(
        "kubernetes_manifest",
        "app_config",
        json!({"manifest": {"type": ["object", {}], "value": {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "app-config", "namespace": "app", "labels": null},
            "data": {"mode": "primary"}}}}),
    );
    manifest["provider"] = json!("provider[\"registry.terraform.io/hashicorp/kubernetes\"]");
    let instances: Vec<serde_json::Value> = [0, 1]
        .iter()
        .map(|n| {
            json!({
                "index_key": n,
                "attributes": {"id": format!("subnet-0p{n}"), "vpc_id": "vpc-0p",
                    "availability_zone": if *n == 0 { "us-west-2a" } else { "us-west-2b" },
                    "cidr_block": format!("10.0.{}.0/20", n * 16),
                    "map_public_ip_on_launch": false, "tags_all": {}},
                "sensitive_attributes": []
            })
        })
        .collect();
    let mut subnets = json!({
        "mode": "managed", "type": "aws_subnet", "name": "private",
        "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
        "instances": instances
    });
    subnets["module"] = json!("module.net");
    let record = |name: &str, role: &str, set: &str, target: &str, hc: &str| {
        resource(
            "aws_route53_record",
            name,
            json!({"zone_id": "Z1", "name": "api", "fqdn": "api.example.com", "type": "CNAME",
                   "ttl": 60, "records": [target], "set_identifier": set,
                   "failover_routing_policy": [{"type": role}], "health_check_id": hc,
                   "alias": [], "weighted_routing_policy": []}),
        )
    };
    let text = state(vec![
        vpc("primary", "vpc-0p", "us-west-2", "10.0.0.0/16"),
        subnets,
        vpc("dr", "vpc-0d", "us-east-1", "10.1.0.0/16"),
        subnet("dr_a", "subnet-0d0", "vpc-0d", "us-east-1a", "10.1.0.0/20"),
        resource(
            "aws_eks_cluster",
            "primary",
            json!({"name": "lanka-prod", "version": "1.29",
                   "arn": "arn:aws:eks:us-west-2:123456789012:cluster/lanka-prod",
                   "role_arn": "arn:aws:iam::123456789012:role/eks",
                   "vpc_config": [{"subnet_ids": ["subnet-0p1", "subnet-0p0"]}],
                   "tags_all": {"team": "platform"}}),
        ),
        resource(
            "aws_eks_node_group",
            "general",
            json!({"cluster_name": "lanka-prod", "node_group_name": "general",
                   "node_role_arn": "arn:aws:iam::123456789012:role/eks-node",
                   "instance_types": ["m5.large"], "disk_size": 50, "capacity_type": "ON_DEMAND",
                   "scaling_config": [{"min_size": 1, "desired_size": 2, "max_size": 4}],
                   "subnet_ids": ["subnet-0p0"], "labels": {"role": "general"},
                   "launch_template": [], "taint": [], "tags_all": {}}),
        ),
        resource(
            "aws_s3_bucket",
            "backups",
            json!({"bucket": "lanka-backups", "region": "us-west-2", "tags_all": {}}),
        ),
        resource(
            "aws_s3_bucket",
            "backups_dr",
            json!({"bucket": "lanka-backups-dr", "region": "us-east-1", "tags_all": {},
                   "versioning": [{"enabled": true, "mfa_delete": false}]}),
        ),
        resource(
            "aws_s3_bucket_versioning",
            "backups",
            json!({"bucket": "lanka-backups", "versioning_configuration": [{"status": "Enabled"}]}),
        ),
        resource(
            "aws_s3_bucket_server_side_encryption_configuration",
            "backups",
            json!({"bucket": "lanka-backups", "rule": [{"bucket_key_enabled": false,
                "apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms",
                    "kms_master_key_id": "alias/lanka-backups"}]}]}),
        ),
        resource(
            "aws_s3_bucket_lifecycle_configuration",
            "backups",
            json!({"bucket": "lanka-backups", "rule": [
                {"id": "tmp", "status": "Enabled", "filter": [{"prefix": "tmp/", "tag": [], "and": []}],
                 "expiration": [{"days": 7, "date": null, "expired_object_delete_marker": false}],
                 "noncurrent_version_expiration": [{"noncurrent_days": 1}],
                 "transition": [{"days": 30, "date": null, "storage_class": "GLACIER"}]},
                {"id": "tagged", "status": "Enabled",
                 "filter": [{"prefix": "", "tag": [{"key": "k", "value": "v"}], "and": []}],
                 "expiration": [{"days": 3}]}
            ]}),
        ),
        resource(
            "aws_s3_bucket_replication_configuration",
            "backups",
            json!({"bucket": "lanka-backups", "role": "arn:aws:iam::123456789012:role/s3-replication",
                   "rule": [{"id": "drplan-replication", "status": "Enabled",
                             "filter": [{"prefix": ""}],
                             "delete_marker_replication": [{"status": "Disabled"}],
                             "source_selection_criteria": [{
                                 "sse_kms_encrypted_objects": [{"status": "Enabled"}],
                                 "replica_modifications": []}],
                             "destination": [{"bucket": "arn:aws:s3:::lanka-backups-dr",
                                              "storage_class": "STANDARD_IA",
                                              "encryption_configuration": [{
                                                  "replica_kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/k2"}]}]}]}),
        ),
        resource(
            "aws_route53_zone",
            "example",
            json!({"name": "example.com", "zone_id": "Z1", "comment": "public", "vpc": [],
                   "tags_all": {}}),
        ),
        record(
            "api_primary",
            "PRIMARY",
            "primary",
            "lb.us-west-2.elb.amazonaws.com",
            "hc-1111",
        ),
        record(
            "api_secondary",
            "SECONDARY",
            "dr",
            "lb.us-east-1.elb.amazonaws.com",
            "",
        ),
        resource(
            "aws_route53_record",
            "txt",
            json!({"zone_id": "Z1", "name": "example.com", "type": "TXT", "ttl": 300,
                   "records": ["v=spf1 -all"], "alias": []}),
        ),
        resource(
            "aws_route53_record",
            "apex",
            json!({"zone_id": "Z1", "name": "www", "type": "A", "ttl": null,
                   "records": null, "alias": [{"name": "d1.cloudfront.net", "zone_id": "Z2",
                   "evaluate_target_health": false}]}),
        ),
        resource(
            "aws_route53_health_check",
            "api",
            json!({"id": "hc-1111", "type": "HTTPS", "fqdn": "lb.us-west-2.elb.amazonaws.com",
                   "port": 443, "resource_path": "/health", "request_interval": 30,
                   "failure_threshold": 3, "regions": [], "search_string": "",
                   "invert_healthcheck": false, "tags_all": {"Name": "api"}}),
        ),
        manifest,
        resource(
            "aws_iam_role",
            "eks",
            json!({"name": "eks", "arn": "arn:aws:iam::123456789012:role/eks"}),
        ),
    ]);
    let c = converted(&text, &two_sites());
    insta::assert_snapshot!(report(&c));
    let p = load(
        &c,
        "site \"primary\" {\n  region = \"us-west-2\"\n}\n\nsite \"dr\" {\n  region = \"us-east-1\"\n}\n",
    );
    assert_imports_match(&p, &c);
    let failover: BTreeMap<String, serde_json::Value> = p
        .resources
        .iter()
        .filter(|r| r.kind == Kind::DnsRecord && r.address.as_str().starts_with("dns.api."))
        .map(|r| (r.address.to_string(), r.attrs["failover"].clone()))
        .collect();
    assert_eq!(
        failover,
        BTreeMap::from([
            ("dns.api.target.dr".to_string(), json!("SECONDARY")),
            ("dns.api.target.primary".to_string(), json!("PRIMARY")),
        ])
    );
}

#[test]
fn the_written_spec_is_already_formatted() {
    let c = converted(FIXTURE, &one_site());
    for text in [c.config.clone(), import_blocks(&c.adoptions)] {
        assert_eq!(
            drplan_core::spec::format::format_source(&text).as_deref(),
            Ok(text.as_str())
        );
    }
    assert!(Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/core/tfstate_fixture/terraform.tfstate")
        .exists());
}

/// A vault bucket's public access block and Object Lock configuration (split
/// resources, as the AWS provider writes them) become `block_public_access` and an
/// `object_lock` block, and the lowered bucket carries both.
#[test]
fn a_vault_buckets_public_access_block_and_object_lock_are_converted() {
    let resource = |t: &str, attrs: serde_json::Value| {
        json!({"mode": "managed", "type": t, "name": "vault",
               "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
               "instances": [{"attributes": attrs, "sensitive_attributes": []}]})
    };
    let state = json!({"version": 4, "terraform_version": "1.9.0", "resources": [
        resource("aws_s3_bucket", json!({"bucket": "lanka-vault", "id": "lanka-vault",
            "region": "us-west-2", "tags_all": {}})),
        resource("aws_s3_bucket_versioning", json!({"bucket": "lanka-vault",
            "versioning_configuration": [{"status": "Enabled", "mfa_delete": ""}]})),
        resource("aws_s3_bucket_public_access_block", json!({"bucket": "lanka-vault",
            "block_public_acls": true, "ignore_public_acls": true,
            "block_public_policy": true, "restrict_public_buckets": true})),
        resource("aws_s3_bucket_object_lock_configuration", json!({"bucket": "lanka-vault",
            "object_lock_enabled": "Enabled",
            "rule": [{"default_retention": [{"mode": "COMPLIANCE", "days": 0, "years": 7}]}]})),
    ]});
    let c = converted(&state.to_string(), &one_site());
    assert!(c.uncovered.is_empty(), "{}", report(&c));
    assert!(
        c.config.contains("block_public_access = true"),
        "{}",
        c.config
    );
    assert!(c.config.contains("retention = \"7y\""), "{}", c.config);
    let p = load(&c, "site \"primary\" {\n  region = \"us-west-2\"\n}\n");
    let bucket = &p.resources[0];
    assert_eq!(bucket.attrs["public_access_block"], json!(true));
    assert_eq!(
        bucket.attrs["object_lock"],
        json!({"mode": "COMPLIANCE", "days": 2555})
    );
}

/// Issue 20's newer kinds: a multi-region key with its replica and alias, an ECR
/// repository with its lifecycle policy and the registry's replication rule, and a
/// Redis replication group in the private subnets of a network of the state, each
/// converted to its block and import and loaded by the real loader with every import
/// matched; what the blocks cannot say (a key that is not symmetric, an alias of a
/// second name, a replica whose key is not in the state, a replication rule of
/// another form, a Memcached cluster group) is listed with the reason.
#[test]
fn keys_repositories_and_caches_convert_and_load() {
    let key_arn = "arn:aws:kms:us-west-2:123456789012:key/mrk-1";
    let text = state(vec![
        vpc("primary", "vpc-0p", "us-west-2", "10.0.0.0/16"),
        subnet("a", "subnet-0a", "vpc-0p", "us-west-2a", "10.0.0.0/20"),
        subnet("b", "subnet-0b", "vpc-0p", "us-west-2b", "10.0.16.0/20"),
        resource(
            "aws_kms_key",
            "backups",
            json!({"id": "mrk-1", "key_id": "mrk-1", "arn": key_arn, "multi_region": true,
                   "description": "backups", "deletion_window_in_days": 14,
                   "enable_key_rotation": true, "is_enabled": true,
                   "key_usage": "ENCRYPT_DECRYPT", "customer_master_key_spec": "SYMMETRIC_DEFAULT",
                   "tags_all": {"data": "backups"}}),
        ),
        resource(
            "aws_kms_replica_key",
            "backups_dr",
            json!({"id": "mrk-1", "key_id": "mrk-1",
                   "arn": "arn:aws:kms:us-east-1:123456789012:key/mrk-1",
                   "primary_key_arn": key_arn, "description": "backups", "enabled": true,
                   "tags_all": {}}),
        ),
        resource(
            "aws_kms_alias",
            "backups",
            json!({"name": "alias/backups", "target_key_id": "mrk-1",
                   "target_key_arn": key_arn, "arn": "arn:aws:kms:us-west-2:123456789012:alias/backups"}),
        ),
        resource(
            "aws_kms_alias",
            "backups_old",
            json!({"name": "alias/old", "target_key_id": "mrk-1",
                   "arn": "arn:aws:kms:us-west-2:123456789012:alias/old"}),
        ),
        resource(
            "aws_kms_key",
            "signing",
            json!({"id": "k-2", "key_id": "k-2", "arn": "arn:aws:kms:us-west-2:123456789012:key/k-2",
                   "key_usage": "SIGN_VERIFY", "customer_master_key_spec": "RSA_2048"}),
        ),
        resource(
            "aws_kms_replica_key",
            "orphan",
            json!({"id": "mrk-9", "arn": "arn:aws:kms:us-east-1:123456789012:key/mrk-9",
                   "primary_key_arn": "arn:aws:kms:us-west-2:123456789012:key/mrk-9"}),
        ),
        resource(
            "aws_ecr_repository",
            "api",
            json!({"id": "shop/api", "name": "shop/api",
                   "arn": "arn:aws:ecr:us-west-2:123456789012:repository/shop/api",
                   "image_tag_mutability": "IMMUTABLE",
                   "image_scanning_configuration": [{"scan_on_push": true}],
                   "encryption_configuration": [{"encryption_type": "AES256", "kms_key": ""}],
                   "tags_all": {"team": "platform"}}),
        ),
        resource(
            "aws_ecr_lifecycle_policy",
            "api",
            json!({"repository": "shop/api", "registry_id": "123456789012",
                   "policy": "{\"rules\":[{\"rulePriority\":1,\"selection\":{\"tagStatus\":\"any\",\"countType\":\"sinceImagePushed\",\"countUnit\":\"days\",\"countNumber\":30},\"action\":{\"type\":\"expire\"}}]}"}),
        ),
        resource(
            "aws_ecr_replication_configuration",
            "registry",
            json!({"registry_id": "123456789012", "replication_configuration": [{"rule": [
                {"destination": [{"region": "us-east-1", "registry_id": "123456789012"}],
                 "repository_filter": [{"filter": "shop/api", "filter_type": "PREFIX_MATCH"}]},
                {"destination": [{"region": "us-east-1", "registry_id": "123456789012"}],
                 "repository_filter": [{"filter": "shop", "filter_type": "PREFIX_MATCH"}]}
            ]}]}),
        ),
        resource(
            "aws_elasticache_subnet_group",
            "sessions",
            json!({"name": "sessions", "subnet_ids": ["subnet-0b", "subnet-0a"]}),
        ),
        resource(
            "aws_elasticache_replication_group",
            "sessions",
            json!({"id": "sessions", "replication_group_id": "sessions",
                   "arn": "arn:aws:elasticache:us-west-2:123456789012:replicationgroup:sessions",
                   "description": "sessions", "engine": "redis", "engine_version": "7.1",
                   "engine_version_actual": "7.1.0", "node_type": "cache.r6g.large",
                   "num_cache_clusters": 2, "automatic_failover_enabled": true,
                   "subnet_group_name": "sessions", "snapshot_retention_limit": 7,
                   "snapshot_window": "03:00-05:00", "num_node_groups": 1,
                   "at_rest_encryption_enabled": false, "transit_encryption_enabled": false,
                   "tags_all": {"team": "platform"}}),
        ),
        resource(
            "aws_elasticache_replication_group",
            "memcached",
            json!({"id": "mc", "replication_group_id": "mc", "engine": "memcached",
                   "arn": "arn:aws:elasticache:us-west-2:123456789012:replicationgroup:mc"}),
        ),
    ]);
    let c = converted(&text, &two_sites());
    insta::assert_snapshot!(report(&c));
    let p = load(
        &c,
        "site \"primary\" {\n  region = \"us-west-2\"\n}\n\nsite \"dr\" {\n  region = \"us-east-1\"\n}\n",
    );
    assert_imports_match(&p, &c);
    let attrs = |address: &str| {
        p.resources
            .iter()
            .find(|r| r.address.as_str() == address)
            .unwrap_or_else(|| panic!("no {address}"))
            .attrs
            .clone()
    };
    let key = attrs("kms_key.backups");
    assert_eq!(key["alias"], json!("alias/backups"));
    assert_eq!(key["deletion_window_days"], json!(14));
    let replica = attrs("kms_key.backups.replica.dr");
    assert_eq!(replica["primary_key"], json!("kms_key.backups"));
    let repository = attrs("registry.api");
    assert_eq!(repository["replicate_to"], json!(["us-east-1"]));
    assert_eq!(repository["image_tag_mutability"], json!("IMMUTABLE"));
    assert!(repository["lifecycle_policy"].is_object(), "{repository:?}");
    let cache = attrs("cache.sessions");
    assert_eq!(
        cache["subnets"],
        json!(["network.primary.subnet.a", "network.primary.subnet.b"])
    );
    assert_eq!(cache["engine_version"], json!("7.1"));
    assert_eq!(cache["snapshot_retention_limit"], json!(7));
    let uncovered: Vec<&str> = c.uncovered.iter().map(|u| u.source.as_str()).collect();
    for source in [
        "aws_kms_key.signing",
        "aws_kms_replica_key.orphan",
        "aws_kms_alias.backups_old",
        "aws_ecr_replication_configuration.registry rule 1",
        "aws_elasticache_replication_group.memcached",
    ] {
        assert!(uncovered.contains(&source), "{source} in {uncovered:?}");
    }
}
