//! Issue 17, VPC peering between the networks of two sites: a connection requested
//! from us-west-2 and accepted in us-east-1, with a route to the other network's CIDR
//! in each VPC's main route table, applied to moto and read back through the SDK; the
//! next plan exits 0; a route deleted by hand is drift that apply restores; the
//! connection's removal from the spec deletes it with its routes; overlapping CIDRs
//! are refused by validate at the accepter's line and column.
//!
//! moto implements every call used (cross-region CreateVpcPeeringConnection with
//! PeerRegion, AcceptVpcPeeringConnection in the accepter's region, Create/Replace/
//! DeleteRoute, DescribeRouteTables filters), with gaps drplan does not paper over:
//! DescribeVpcPeeringConnections ignores `Filters` (drplan checks the marks on the
//! answer), one connection object is listed in both regions with one set of tags,
//! deleted connections stay listed, and a route's state is always `active` (never
//! `blackhole`), so replacing a dead route is exercised through a deleted connection
//! only. A lost accepter region is covered by the core's `peering` tests.

use crate::support::cli::{drplan, explain, stderr, stdout};
use crate::support::files::{write_project, TWO_SITES_TWO_NETWORKS};
use crate::support::moto::MotoServer;
use aws_sdk_ec2::types::{Filter, RouteTable, VpcPeeringConnection};
use std::path::Path;

const PEERING: &str = r#"
peering "primary_dr" {
  requester = network.primary
  accepter  = network.dr
  tags      = { purpose = "replication" }
}
"#;

fn project(root: &Path, specs: &[&str]) {
    write_project(
        root,
        &specs.concat(),
        "stack      = \"peered\"\naccount_id = \"123456789012\"\n",
    );
}

async fn vpc_id(moto: &MotoServer, region: &str, address: &str) -> String {
    let out = moto
        .ec2(region)
        .describe_vpcs()
        .filters(
            Filter::builder()
                .name("tag:drplan:address")
                .values(address)
                .build(),
        )
        .send()
        .await
        .expect("DescribeVpcs");
    out.vpcs()
        .first()
        .and_then(|v| v.vpc_id())
        .unwrap_or_else(|| panic!("no VPC {address} in {region}"))
        .to_string()
}

/// The connections marked as drplan's in `region` that still exist (moto keeps
/// deleted ones listed, as EC2 does for a while).
async fn connections(moto: &MotoServer, region: &str) -> Vec<VpcPeeringConnection> {
    let out = moto
        .ec2(region)
        .describe_vpc_peering_connections()
        .send()
        .await
        .expect("DescribeVpcPeeringConnections");
    out.vpc_peering_connections()
        .iter()
        .filter(|c| {
            c.tags().iter().any(|t| {
                t.key() == Some("drplan:address") && t.value() == Some("peering.primary_dr")
            })
        })
        .filter(|c| c.status().and_then(|s| s.code()).map(|c| c.as_str()) != Some("deleted"))
        .cloned()
        .collect()
}

async fn main_table(moto: &MotoServer, region: &str, vpc: &str) -> RouteTable {
    let out = moto
        .ec2(region)
        .describe_route_tables()
        .filters(Filter::builder().name("vpc-id").values(vpc).build())
        .filters(
            Filter::builder()
                .name("association.main")
                .values("true")
                .build(),
        )
        .send()
        .await
        .expect("DescribeRouteTables");
    out.route_tables()
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no main route table for {vpc}"))
}

/// The destination CIDRs `table` routes through `pcx`.
fn routes_through(table: &RouteTable, pcx: &str) -> Vec<String> {
    table
        .routes()
        .iter()
        .filter(|r| r.vpc_peering_connection_id() == Some(pcx))
        .filter_map(|r| r.destination_cidr_block().map(str::to_string))
        .collect()
}

fn assert_exit(out: &std::process::Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}\n{}", explain(out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sites_are_peered_with_routes_both_ways_and_a_deleted_route_is_restored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    project(root, &[TWO_SITES_TWO_NETWORKS, PEERING]);
    let moto = MotoServer::start();

    let out = drplan(&moto, root, &["plan", "-e", "prod"]);
    assert_exit(&out, 0, "plan");
    let text = stdout(&out);
    assert!(
        text.contains("+ peering.primary_dr") && text.contains("aws_vpc_peering_connection"),
        "{text}"
    );

    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply");

    // Read back through the SDK, not through drplan.
    let primary_vpc = vpc_id(&moto, "us-west-2", "network.primary").await;
    let dr_vpc = vpc_id(&moto, "us-east-1", "network.dr").await;
    let found = connections(&moto, "us-west-2").await;
    assert_eq!(found.len(), 1, "{found:#?}");
    let pcx = &found[0];
    let pcx_id = pcx.vpc_peering_connection_id().expect("id").to_string();
    assert_eq!(
        pcx.status().and_then(|s| s.code()).map(|c| c.as_str()),
        Some("active")
    );
    let requester = pcx.requester_vpc_info().expect("requester");
    let accepter = pcx.accepter_vpc_info().expect("accepter");
    assert_eq!(requester.vpc_id(), Some(primary_vpc.as_str()));
    assert_eq!(requester.region(), Some("us-west-2"));
    assert_eq!(accepter.vpc_id(), Some(dr_vpc.as_str()));
    assert_eq!(accepter.region(), Some("us-east-1"));
    assert!(
        pcx.tags()
            .iter()
            .any(|t| t.key() == Some("purpose") && t.value() == Some("replication")),
        "{:?}",
        pcx.tags()
    );
    let primary_table = main_table(&moto, "us-west-2", &primary_vpc).await;
    assert_eq!(routes_through(&primary_table, &pcx_id), ["10.20.0.0/16"]);
    let dr_table = main_table(&moto, "us-east-1", &dr_vpc).await;
    assert_eq!(routes_through(&dr_table, &pcx_id), ["10.10.0.0/16"]);

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan after apply");

    // A route deleted by hand in the accepter's region is drift; apply puts it back.
    moto.ec2("us-east-1")
        .delete_route()
        .route_table_id(dr_table.route_table_id().expect("table id"))
        .destination_cidr_block("10.10.0.0/16")
        .send()
        .await
        .expect("DeleteRoute");
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 2, "plan after a route was deleted by hand");
    let text = stdout(&out);
    assert!(
        text.contains("~ peering.primary_dr") && text.contains("accepter_routes"),
        "{text}"
    );
    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply restores the route");
    let dr_table = main_table(&moto, "us-east-1", &dr_vpc).await;
    assert_eq!(routes_through(&dr_table, &pcx_id), ["10.10.0.0/16"]);
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan after the route was restored");

    // The connection deleted by hand is created again, its dead routes replaced.
    moto.ec2("us-west-2")
        .delete_vpc_peering_connection()
        .vpc_peering_connection_id(&pcx_id)
        .send()
        .await
        .expect("DeleteVpcPeeringConnection");
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 2, "plan after the connection was deleted by hand");
    assert!(
        stdout(&out).contains("+ peering.primary_dr"),
        "{}",
        explain(&out)
    );
    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply creates the connection again");
    let found = connections(&moto, "us-west-2").await;
    assert_eq!(found.len(), 1, "{found:#?}");
    let new_id = found[0]
        .vpc_peering_connection_id()
        .expect("id")
        .to_string();
    assert_ne!(new_id, pcx_id);
    let primary_table = main_table(&moto, "us-west-2", &primary_vpc).await;
    assert_eq!(routes_through(&primary_table, &new_id), ["10.20.0.0/16"]);
    let dr_table = main_table(&moto, "us-east-1", &dr_vpc).await;
    assert_eq!(routes_through(&dr_table, &new_id), ["10.10.0.0/16"]);
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan after the connection was restored");

    // Out of the spec: an orphan, deleted with its routes.
    project(root, &[TWO_SITES_TWO_NETWORKS]);
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 2, "plan without the peering block");
    assert!(
        stdout(&out).contains("- peering.primary_dr"),
        "{}",
        explain(&out)
    );
    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply deletes the orphan");
    assert!(connections(&moto, "us-west-2").await.is_empty());
    let primary_table = main_table(&moto, "us-west-2", &primary_vpc).await;
    assert!(routes_through(&primary_table, &new_id).is_empty());
    let dr_table = main_table(&moto, "us-east-1", &dr_vpc).await;
    assert!(routes_through(&dr_table, &new_id).is_empty());
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan after the orphan went");
}

#[test]
fn overlapping_networks_are_refused_by_validate_at_the_accepter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let overlapping = TWO_SITES_TWO_NETWORKS.replace("10.20.0.0/16", "10.10.128.0/17");
    project(root, &[&overlapping, PEERING]);
    let out = assert_cmd::Command::cargo_bin("drplan")
        .expect("binary")
        .arg("-C")
        .arg(root)
        .args(["validate", "-e", "prod"])
        .env("NO_COLOR", "1")
        .output()
        .expect("drplan validate");
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let err = stderr(&out);
    assert!(
        err.contains("10.10.0.0/16") && err.contains("10.10.128.0/17"),
        "the error names both CIDRs:\n{err}"
    );
    // file:line:col of the accepter's value.
    let spec = [overlapping.as_str(), PEERING].concat();
    let (line, text) = spec
        .lines()
        .enumerate()
        .find(|(_, l)| l.trim_start().starts_with("accepter"))
        .expect("an accepter line");
    let column = text.find("network.dr").expect("the value") + 1;
    let at = format!("specs/main.hcl:{}:{column}", line + 1);
    assert!(err.contains(&at), "the error points at {at}:\n{err}");
}
