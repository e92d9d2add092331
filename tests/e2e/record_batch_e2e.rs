//! Record upserts batched per hosted zone (issue 7), against moto: a DR flip of many
//! failover records takes a few ChangeResourceRecordSets instead of two requests per
//! record; ownership TXT values written by someone else are kept; a bad record fails
//! only its own address.
//!
//! Route53 requests are counted per operation by an SDK interceptor on the clients
//! apply is given. moto does not check that a DELETE repeats the current value (it
//! accepts any value the name ever had), so the compare-and-swap test has the same
//! interceptor refuse a stale DELETE as Route53 does (InvalidChangeBatch).

use crate::support::moto::MotoServer;
use crate::support::planning::{pending, plan_against};
use aws_config::SdkConfig;
use aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsInput;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::ConfigBag;
use drplan::apply::clients::{Clients, ClientsFromConfig};
use drplan::apply::context::Timeouts;
use drplan::apply::report::Status;
use drplan::apply::{apply, ApplyOptions};
use drplan_core::address::Address;
use drplan_core::marks;
use drplan_core::plan::{Action, Plan, ResourceChange};
use drplan_core::resource::{Kind, Resource};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const STACK: &str = "lanka";
const ZONE: &str = "flip.example.com.";

/// A name whose ownership record someone else rewrites in the middle of an apply.
#[derive(Clone, Debug)]
struct ForeignWrite {
    name: String,
    value: String,
}

#[derive(Debug, Default)]
struct Seen {
    calls: BTreeMap<String, u64>,
    /// The TXT set Route53 holds for the foreign write's name once it happened.
    foreign_live: Option<Vec<String>>,
    refused: u64,
}

/// Counts Route53 operations; optionally performs a [`ForeignWrite`] just before
/// apply's first ChangeResourceRecordSets and then refuses a DELETE of that name's
/// TXT that does not repeat its current value, as Route53 does.
#[derive(Clone, Debug)]
struct Route53Watch {
    seen: Arc<Mutex<Seen>>,
    foreign: Option<(ForeignWrite, String)>,
    config: SdkConfig,
}

impl Route53Watch {
    fn calls(&self, op: &str) -> u64 {
        self.seen
            .lock()
            .expect("seen")
            .calls
            .get(op)
            .copied()
            .unwrap_or(0)
    }

    fn total(&self) -> u64 {
        self.seen.lock().expect("seen").calls.values().sum()
    }

    fn reset(&self) {
        self.seen.lock().expect("seen").calls.clear();
    }
}

impl Intercept for Route53Watch {
    fn name(&self) -> &'static str {
        "Route53Watch"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context
            .input()
            .downcast_ref::<ChangeResourceRecordSetsInput>();
        let op = match (input, cfg.load::<Metadata>()) {
            (Some(_), _) => "ChangeResourceRecordSets".to_string(),
            (None, Some(m)) => m.name().to_string(),
            (None, None) => "other operations".to_string(),
        };
        let mut seen = self.seen.lock().expect("seen");
        *seen.calls.entry(op.clone()).or_default() += 1;
        let (Some((foreign, zone_id)), "ChangeResourceRecordSets") = (&self.foreign, op.as_str())
        else {
            return Ok(());
        };
        if seen.foreign_live.is_none() {
            let (config, foreign, zone_id) =
                (self.config.clone(), foreign.clone(), zone_id.clone());
            // Interceptors are synchronous: write through a runtime of its own.
            let live = std::thread::spawn(move || {
                let rt = tokio::runtime::Runtime::new().expect("runtime");
                rt.block_on(add_foreign_value(&config, &zone_id, &foreign))
            })
            .join()
            .expect("foreign write");
            seen.foreign_live = Some(live);
        }
        let owner = format!("{}{}", marks::DNS_OWNER_PREFIX, foreign.name);
        let stale = input.and_then(|i| i.change_batch()).is_some_and(|batch| {
            batch.changes().iter().any(|c| {
                let set = c.resource_record_set();
                c.action() == &ChangeAction::Delete
                    && set.is_some_and(|s| s.name() == owner && s.r#type() == &RrType::Txt)
                    && set.map(values).as_ref() != seen.foreign_live.as_ref()
            })
        });
        if stale {
            seen.refused += 1;
            return Err(format!("InvalidChangeBatch: Tried to delete resource record set [name='{owner}', type='TXT'] but the values provided do not match the current values").into());
        }
        Ok(())
    }
}

fn values(set: &ResourceRecordSet) -> Vec<String> {
    set.resource_records()
        .iter()
        .map(|r| r.value().to_string())
        .collect()
}

fn route53(config: &SdkConfig) -> aws_sdk_route53::Client {
    aws_sdk_route53::Client::from_conf(
        aws_sdk_route53::config::Builder::from(config)
            .region(aws_types::region::Region::new("us-east-1"))
            .build(),
    )
}

/// The foreign stack's value joins the TXT record; returns the values Route53 now holds.
async fn add_foreign_value(
    config: &SdkConfig,
    zone_id: &str,
    foreign: &ForeignWrite,
) -> Vec<String> {
    let r53 = route53(config);
    let mut now = owner_values(&r53, zone_id, &foreign.name).await;
    now.push(foreign.value.clone());
    let mut set = ResourceRecordSet::builder()
        .name(format!("{}{}", marks::DNS_OWNER_PREFIX, foreign.name))
        .r#type(RrType::Txt)
        .ttl(300);
    for v in &now {
        set = set.resource_records(ResourceRecord::builder().value(v).build().expect("value"));
    }
    let change = Change::builder()
        .action(ChangeAction::Upsert)
        .resource_record_set(set.build().expect("set"))
        .build()
        .expect("change");
    r53.change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(
            ChangeBatch::builder()
                .changes(change)
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("foreign UPSERT");
    now
}

/// Apply's clients, with Route53 watched.
struct WatchedClients {
    inner: ClientsFromConfig,
    watch: Route53Watch,
}

impl Clients for WatchedClients {
    fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        self.inner.ec2(region)
    }
    fn eks(&self, region: &str) -> aws_sdk_eks::Client {
        self.inner.eks(region)
    }
    fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        self.inner.s3(region)
    }
    fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        self.inner.kms(region)
    }
    fn ecr(&self, region: &str) -> aws_sdk_ecr::Client {
        self.inner.ecr(region)
    }
    fn elasticache(&self, region: &str) -> aws_sdk_elasticache::Client {
        self.inner.elasticache(region)
    }
    fn route53(&self) -> aws_sdk_route53::Client {
        let conf = aws_sdk_route53::config::Builder::from(self.inner.config())
            .region(aws_types::region::Region::new("us-east-1"))
            .interceptor(self.watch.clone())
            .build();
        aws_sdk_route53::Client::from_conf(conf)
    }
}

fn watched(moto: &MotoServer, foreign: Option<(ForeignWrite, String)>) -> WatchedClients {
    WatchedClients {
        inner: ClientsFromConfig::new(moto.sdk_config("us-east-1")),
        watch: Route53Watch {
            seen: Arc::default(),
            foreign,
            config: moto.sdk_config("us-east-1"),
        },
    }
}

fn options() -> ApplyOptions {
    ApplyOptions {
        timeouts: Timeouts {
            first_poll_interval: Duration::from_millis(20),
            ..Timeouts::default()
        },
        progress: false,
        ..ApplyOptions::default()
    }
}

fn zone() -> Resource {
    resource(
        "zone.flip",
        Kind::DnsZone,
        json!({"name": ZONE, "comment": "issue 7", "tags": {}}),
        vec![],
    )
}

fn resource(address: &str, kind: Kind, attrs: Value, depends_on: Vec<Address>) -> Resource {
    Resource {
        ignore_changes: Vec::new(),
        address: Address::new(address),
        kind,
        site: None,
        region: None,
        attrs: attrs.as_object().cloned().unwrap_or_default().into(),
        sensitive: vec![],
        depends_on,
        protect: false,
        source: None,
    }
}

/// The failover record of `name` (`app3` → `app3.flip.example.com.`) for `site`.
fn record(name: &str, site: &str, target: &str) -> Resource {
    resource(
        &format!("dns.{name}.target.{site}"),
        Kind::DnsRecord,
        json!({
            "zone": ZONE, "name": format!("{name}.{ZONE}"), "type": "CNAME", "ttl": 60,
            "records": [target], "set_identifier": site,
            "failover": if site == "primary" { "PRIMARY" } else { "SECONDARY" }, "health_check": null
        }),
        vec![Address::new("zone.flip")],
    )
}

fn set_target(r: &mut Resource, target: &str) {
    r.attrs.insert("records".into(), json!([target]));
}

async fn zone_id(r53: &aws_sdk_route53::Client) -> String {
    let zones = r53
        .list_hosted_zones_by_name()
        .dns_name(ZONE)
        .send()
        .await
        .expect("zones");
    let zone = zones
        .hosted_zones()
        .iter()
        .find(|z| z.name() == ZONE)
        .expect("the zone exists");
    zone.id().rsplit('/').next().unwrap_or_default().to_string()
}

async fn record_sets(r53: &aws_sdk_route53::Client, zone_id: &str) -> Vec<ResourceRecordSet> {
    let out = r53
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .max_items(300)
        .send()
        .await
        .expect("list");
    assert!(!out.is_truncated(), "the test zone fits one page");
    out.resource_record_sets().to_vec()
}

async fn owner_values(r53: &aws_sdk_route53::Client, zone_id: &str, name: &str) -> Vec<String> {
    let owner = format!("{}{}", marks::DNS_OWNER_PREFIX, name);
    let sets = record_sets(r53, zone_id).await;
    let mut found: Vec<String> = sets
        .iter()
        .filter(|s| s.name() == owner && s.r#type() == &RrType::Txt)
        .flat_map(values)
        .collect();
    found.sort();
    found
}

fn own_value(name: &str, site: &str) -> String {
    marks::dns_owner_value(
        STACK,
        &format!("dns.{name}.target.{site}"),
        "CNAME",
        Some(site),
    )
}

async fn apply_ok(plan: &Plan, clients: &WatchedClients) {
    let report = apply(plan, clients, &options())
        .await
        .expect("plan accepted");
    assert!(report.succeeded(), "{}", report.render_text());
}

const NAMES: usize = 10;

fn names() -> Vec<String> {
    (0..NAMES).map(|i| format!("app{i}")).collect()
}

#[tokio::test]
async fn a_dns_flip_of_many_records_takes_a_few_requests_and_converges() {
    let moto = MotoServer::start();
    let clients = watched(&moto, None);
    let mut desired = vec![zone()];
    for name in names() {
        desired.push(record(
            &name,
            "primary",
            &format!("{name}.primary.example.net"),
        ));
        desired.push(record(&name, "dr", &format!("{name}.dr.example.net")));
    }
    let created = plan_against(&moto, STACK, &desired).await;
    assert_eq!(
        created.summary().add,
        1 + 2 * NAMES,
        "{:?}",
        pending(&created)
    );
    apply_ok(&created, &clients).await;
    let creates = clients.watch.calls("ChangeResourceRecordSets");
    let route53_calls = clients.watch.total();
    eprintln!(
        "create: {:?}",
        clients.watch.seen.lock().expect("seen").calls
    );
    // Two requests per record before batching (List + Change): 40.
    assert!(
        creates <= 4,
        "{creates} ChangeResourceRecordSets for {} records",
        2 * NAMES
    );
    assert!(
        route53_calls < 2 * NAMES as u64 / 2,
        "{route53_calls} Route53 requests in all"
    );

    let r53 = route53(&moto.sdk_config("us-east-1"));
    let zone_id = zone_id(&r53).await;
    let sets = record_sets(&r53, &zone_id).await;
    for name in names() {
        let fqdn = format!("{name}.{ZONE}");
        for (site, failover) in [("primary", "PRIMARY"), ("dr", "SECONDARY")] {
            let set = sets
                .iter()
                .find(|s| s.name() == fqdn && s.set_identifier() == Some(site))
                .unwrap_or_else(|| panic!("{fqdn} {site} exists"));
            assert_eq!(set.failover().map(|f| f.as_str()), Some(failover));
            assert_eq!(values(set), [format!("{name}.{site}.example.net")]);
        }
        let mut expected = vec![own_value(&name, "dr"), own_value(&name, "primary")];
        expected.sort();
        assert_eq!(
            owner_values(&r53, &zone_id, &fqdn).await,
            expected,
            "one TXT value per record of {fqdn}"
        );
    }
    let replan = plan_against(&moto, STACK, &desired).await;
    assert!(
        pending(&replan).is_empty(),
        "nothing to do after apply, got {:?}",
        pending(&replan)
    );

    // The DR flip: every record changes its target.
    for r in desired.iter_mut().filter(|r| r.kind == Kind::DnsRecord) {
        let site = if r.address.as_str().ends_with(".primary") {
            "dr"
        } else {
            "primary"
        };
        let name = r
            .address
            .as_str()
            .split('.')
            .nth(1)
            .unwrap_or_default()
            .to_string();
        set_target(r, &format!("{name}.{site}.example.net"));
    }
    let flip = plan_against(&moto, STACK, &desired).await;
    assert_eq!(flip.summary().change, 2 * NAMES, "{:?}", pending(&flip));
    clients.watch.reset();
    apply_ok(&flip, &clients).await;
    let flips = clients.watch.calls("ChangeResourceRecordSets");
    eprintln!("flip: {:?}", clients.watch.seen.lock().expect("seen").calls);
    assert!(
        flips <= 3,
        "{flips} ChangeResourceRecordSets for {} updates",
        2 * NAMES
    );
    assert!(
        clients.watch.total() <= 8,
        "{} Route53 requests for the flip",
        clients.watch.total()
    );
    let sets = record_sets(&r53, &zone_id).await;
    let primary = sets
        .iter()
        .find(|s| s.name() == format!("app0.{ZONE}") && s.set_identifier() == Some("primary"));
    assert_eq!(
        primary.map(values),
        Some(vec!["app0.dr.example.net".to_string()])
    );
    let replan = plan_against(&moto, STACK, &desired).await;
    assert!(
        pending(&replan).is_empty(),
        "nothing to do after the flip, got {:?}",
        pending(&replan)
    );
}

#[tokio::test]
async fn an_ownership_value_written_by_someone_else_mid_apply_is_kept() {
    let moto = MotoServer::start();
    let setup = watched(&moto, None);
    let mut desired = vec![zone()];
    for name in names().iter().take(4) {
        desired.push(record(
            name,
            "primary",
            &format!("{name}.primary.example.net"),
        ));
    }
    apply_ok(&plan_against(&moto, STACK, &desired).await, &setup).await;

    // Adding the secondaries rewrites every name's TXT (DELETE old + CREATE new); the
    // foreign stack adds its value to app0's after apply read the zone's TXT records.
    let r53 = route53(&moto.sdk_config("us-east-1"));
    let zone_id = zone_id(&r53).await;
    let foreign = ForeignWrite {
        name: format!("app0.{ZONE}"),
        value: marks::dns_owner_value("other", "dns.app0.extra", "CNAME", Some("blue")),
    };
    let clients = watched(&moto, Some((foreign.clone(), zone_id.clone())));
    for name in names().iter().take(4) {
        desired.push(record(name, "dr", &format!("{name}.dr.example.net")));
    }
    let plan = plan_against(&moto, STACK, &desired).await;
    assert_eq!(plan.summary().add, 4, "{:?}", pending(&plan));
    apply_ok(&plan, &clients).await;
    let refused = clients.watch.seen.lock().expect("seen").refused;
    assert!(refused >= 1, "the stale DELETE was sent and refused");

    for name in names().iter().take(4) {
        let fqdn = format!("{name}.{ZONE}");
        let mut expected = vec![own_value(name, "dr"), own_value(name, "primary")];
        if *name == "app0" {
            expected.push(foreign.value.clone());
        }
        expected.sort();
        assert_eq!(
            owner_values(&r53, &zone_id, &fqdn).await,
            expected,
            "TXT of {fqdn}"
        );
    }
    let replan = plan_against(&moto, STACK, &desired).await;
    assert!(
        pending(&replan).is_empty(),
        "nothing to do after apply, got {:?}",
        pending(&replan)
    );
}

#[tokio::test]
async fn a_bad_record_in_a_batch_fails_only_its_own_address() {
    let moto = MotoServer::start();
    let clients = watched(&moto, None);
    let mut desired = vec![zone()];
    for name in names().iter().take(3) {
        desired.push(record(
            name,
            "primary",
            &format!("{name}.primary.example.net"),
        ));
        desired.push(record(name, "dr", &format!("{name}.dr.example.net")));
    }
    apply_ok(&plan_against(&moto, STACK, &desired).await, &clients).await;

    // A flip in which one record names a host outside the zone.
    let mut plan = plan_against(&moto, STACK, &desired).await;
    let mut changes: Vec<ResourceChange> = Vec::new();
    for r in desired.iter().filter(|r| r.kind == Kind::DnsRecord) {
        let mut after: Map<String, Value> = r.attrs.clone().into();
        after.insert("records".into(), json!(["elsewhere.example.net"]));
        if r.address.as_str() == "dns.app1.target.dr" {
            after.insert("name".into(), json!("app1.not-this-zone.example.org."));
        }
        changes.push(ResourceChange {
            address: r.address.clone(),
            kind: r.kind,
            site: None,
            region: None,
            action: Action::Update,
            before: Some(r.attrs.clone()),
            after: Some(after.into()),
            replace_because: vec![],
            unknown_after: vec![],
            sensitive: vec![],
            sensitive_changed: vec![],
            live_id: None,
            depends_on: r.depends_on.clone(),
            protect: false,
            moved_from: None,
            wait_for: Vec::new(),
            adopt: false,
            import_id: None,
            attr_diff: Default::default(),
        });
    }
    plan.changes = changes;
    clients.watch.reset();
    let report = apply(&plan, &clients, &options())
        .await
        .expect("plan accepted");
    assert!(
        clients.watch.calls("ChangeResourceRecordSets") >= 2,
        "a batch, then the fallback"
    );
    for entry in &report.entries {
        match (entry.address.as_str(), &entry.status) {
            ("dns.app1.target.dr", Status::Failed(e)) => {
                assert!(e.contains("ChangeResourceRecordSets"), "its own error: {e}");
            }
            (address, status) => {
                assert_eq!(status, &Status::Done, "{address}: {}", report.render_text())
            }
        }
    }
    let r53 = route53(&moto.sdk_config("us-east-1"));
    let zone_id = zone_id(&r53).await;
    let sets = record_sets(&r53, &zone_id).await;
    let moved = sets
        .iter()
        .filter(|s| s.r#type() == &RrType::Cname && values(s) == ["elsewhere.example.net"])
        .count();
    assert_eq!(moved, 5, "the five good records were written");
}
