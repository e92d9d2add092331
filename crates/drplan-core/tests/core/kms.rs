//! The `kms_key` block (issue 17): its lowering (a key, a replica per DR site, the
//! alias as an attribute of each), its checks with their spans, buckets naming a
//! declared key (ordered after its copy in their region, read back from the ARN), and
//! the diff of a key that left the spec (refused, saying what deletion means). What
//! moto cannot show — a replica in another account, a primary region that does not
//! answer while the replica's does — is covered here.

use crate::plan_fixture::ctx;
use crate::spec_support::*;
use drplan_core::address::Address;
use drplan_core::kinds::kms::{arn_in_region, resolve_bucket_keys};
use drplan_core::live::{LiveObject, LiveState};
use drplan_core::plan::diff::diff;
use drplan_core::plan::Action;
use drplan_core::resource::{Kind, Resource};
use serde_json::{json, Value};

const KEY: &str = r#"
kms_key "backups" {
  site                 = site.primary
  replicas             = [site.dr]
  alias                = "alias/backups"
  description          = "backups"
  deletion_window_days = 14
}
"#;

const BUCKETS: &str = r#"
bucket "backups" {
  site = site.primary
  name = "core-backups"
  encryption {
    algorithm  = "aws:kms"
    kms_key_id = kms_key.backups
  }
  replication {
    role_arn           = "arn:aws:iam::123456789012:role/s3-replication"
    destination        = bucket.backups_dr
    replica_kms_key_id = kms_key.backups
  }
}

bucket "backups_dr" {
  site = site.dr
  name = "core-backups-dr"
  encryption {
    algorithm  = "aws:kms"
    kms_key_id = kms_key.backups
  }
}
"#;

const PRIMARY_ARN: &str = "arn:aws:kms:us-west-2:123456789012:key/mrk-0123456789abcdef";
const REPLICA_ARN: &str = "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef";

fn project(spec: &str) -> drplan_core::model::Project {
    let text = format!("{BASE}{spec}");
    load(&[("specs/main.hcl", &text), ("environments/test.hcl", ENV)])
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)))
}

fn rendered_errors(spec: &str, env: &str) -> String {
    let text = format!("{BASE}{spec}");
    match load(&[("specs/main.hcl", &text), ("environments/test.hcl", env)]) {
        Ok(_) => panic!("expected errors"),
        Err(d) => d.render(false, 200),
    }
}

fn resource<'p>(p: &'p drplan_core::model::Project, address: &str) -> &'p Resource {
    p.resources
        .iter()
        .find(|r| r.address.as_str() == address)
        .unwrap_or_else(|| panic!("no {address}"))
}

#[test]
fn a_multi_region_key_lowers_to_the_key_and_a_replica_in_each_dr_site() {
    let p = project(KEY);
    let key = resource(&p, "kms_key.backups");
    assert_eq!(key.kind, Kind::KmsKey);
    assert_eq!(key.region.as_deref(), Some("us-west-2"));
    assert_eq!(
        Value::Object(key.attrs.clone().into_map()),
        json!({
            "description": "backups",
            "multi_region": true,
            "enabled": true,
            "enable_key_rotation": true,
            "alias": "alias/backups",
            "deletion_window_days": 14,
            "tags": {},
        })
    );
    let replica = resource(&p, "kms_key.backups.replica.dr");
    assert_eq!(replica.kind, Kind::KmsReplicaKey);
    assert_eq!(replica.region.as_deref(), Some("us-east-1"));
    assert_eq!(
        Value::Object(replica.attrs.clone().into_map()),
        json!({
            "primary_key": "kms_key.backups",
            "description": "backups",
            "enabled": true,
            "alias": "alias/backups",
            "deletion_window_days": 14,
            "tags": {},
        })
    );
    // The replica is made after its primary (and deleted before it).
    let refs = drplan_core::kinds::referenced(
        replica.kind,
        replica.region.as_deref(),
        &replica.attrs,
        |_, _| None,
    );
    assert_eq!(refs, [Address::new("kms_key.backups")]);
    assert!(Kind::KmsKey.is_stateful() && Kind::KmsReplicaKey.is_stateful());
    assert!(key.protect && replica.protect);
}

#[test]
fn buckets_name_the_key_and_wait_for_its_copy_in_their_region() {
    let p = project(&format!("{KEY}{BUCKETS}"));
    let primary = resource(&p, "bucket.backups");
    assert_eq!(
        primary.attrs["encryption"],
        json!({"algorithm": "aws:kms", "kms_key_id": "kms_key.backups"})
    );
    assert_eq!(
        primary.attrs["replication"]["rules"][0]["replica_kms_key_id"],
        json!("kms_key.backups")
    );
    // Its own key, and the replica its rule re-encrypts with.
    assert!(primary
        .depends_on
        .contains(&Address::new("kms_key.backups")));
    assert!(primary
        .depends_on
        .contains(&Address::new("kms_key.backups.replica.dr")));
    let dr = resource(&p, "bucket.backups_dr");
    // Both mirrors name the one multi-region key: parity holds.
    assert_eq!(dr.attrs["encryption"], primary.attrs["encryption"]);
    assert_eq!(dr.depends_on, [Address::new("kms_key.backups.replica.dr")]);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn the_block_s_mistakes_are_reported_at_their_values() {
    let spec = r#"
kms_key "bad" {
  site                 = site.primary
  multi_region         = false
  replicas             = [site.dr, site.primary]
  alias                = "alias/aws/mine"
  deletion_window_days = 3
}
"#;
    let err = rendered_errors(spec, ENV);
    for part in [
        "only a multi-region key has replicas",
        "site \"primary\" holds the primary key",
        "`alias/aws/mine` is not a valid KMS alias",
        "7 to 30 days, not 3",
    ] {
        assert!(err.contains(part), "{part} in:\n{err}");
    }
    let text = format!("{BASE}{spec}");
    for (needle, value) in [
        ("replicas", "[site.dr"),
        ("alias", "\"alias/aws"),
        ("deletion_window_days", "3"),
    ] {
        let (line, l) = text
            .lines()
            .enumerate()
            .find(|(_, l)| l.trim_start().starts_with(needle))
            .expect("line");
        let at = format!(
            "specs/main.hcl:{}:{}",
            line + 1,
            l.find(value).expect("value") + 1
        );
        assert!(err.contains(&at), "{at} in:\n{err}");
    }
    assert!(codes(
        r#"
kms_key "k" {
  site     = site.primary
  replicas = [site.dr, site.dr]
}
"#
    )
    .contains(&"drplan::invalid_value"));
    assert!(codes("kms_key \"k\" {\n  site = site.nowhere\n}\n")
        .contains(&"drplan::unresolved_reference"));
    assert!(
        codes("kms_key \"k\" {\n  site = site.primary\n  alias = \"backups\"\n}\n")
            .contains(&"drplan::invalid_value")
    );
}

#[test]
fn a_replica_in_another_account_is_refused() {
    let env = "stack = \"test\"\n\nsite_account \"dr\" {\n  account_id = \"210987654321\"\n  role_arn   = \"arn:aws:iam::210987654321:role/drplan\"\n}\n";
    let err = rendered_errors(KEY, env);
    assert!(
        err.contains("drplan::kms_replica_account")
            && err.contains("replicated only within its account"),
        "{err}"
    );
}

#[test]
fn a_bucket_where_the_key_has_no_copy_is_refused() {
    let single = KEY.replace("  replicas             = [site.dr]\n", "");
    let err = rendered_errors(&format!("{single}{BUCKETS}"), ENV);
    assert!(
        err.contains("bucket.backups_dr uses kms_key.backups in site \"dr\"")
            && err.contains("drplan::kms_key_region"),
        "{err}"
    );
    // The replication rule's key is judged in the destination's site.
    assert!(
        err.contains("bucket.backups uses kms_key.backups in site \"dr\""),
        "{err}"
    );
    // A literal ARN, alias or id is passed on unchecked, as before.
    let literal = BUCKETS
        .replace(
            "replica_kms_key_id = kms_key.backups",
            &format!("replica_kms_key_id = \"{REPLICA_ARN}\""),
        )
        .replace(
            "kms_key_id = kms_key.backups",
            "kms_key_id = \"alias/backups\"",
        );
    let p = project(&literal);
    assert_eq!(
        resource(&p, "bucket.backups_dr").attrs["encryption"]["kms_key_id"],
        json!("alias/backups")
    );
    assert!(codes(&BUCKETS.replace(
        "replica_kms_key_id = kms_key.backups",
        "replica_kms_key_id = \"alias/x\""
    ))
    .contains(&"drplan::invalid_value"));
}

fn live(kind: Kind, arn: &str, region: &str, address: &str, attrs: Value) -> LiveObject {
    LiveObject {
        kind,
        id: arn.into(),
        region: Some(region.into()),
        address: Some(Address::new(address)),
        stack: Some(crate::plan_fixture::STACK.into()),
        attrs: match attrs {
            Value::Object(m) => m.into(),
            _ => Default::default(),
        },
    }
}

#[test]
fn the_arns_read_from_buckets_are_the_key_s_address_in_either_region() {
    assert_eq!(
        arn_in_region(PRIMARY_ARN, "us-east-1").as_deref(),
        Some(REPLICA_ARN)
    );
    assert_eq!(arn_in_region("alias/backups", "us-east-1"), None);
    let bucket = |arn: &str| {
        live(
            Kind::Bucket,
            "b",
            "us-east-1",
            "bucket.b",
            json!({"encryption": {"algorithm": "aws:kms", "kms_key_id": arn},
                   "replication": {"role_arn": "r", "rules": [{"replica_kms_key_id": arn}]}}),
        )
    };
    let replica = live(
        Kind::KmsReplicaKey,
        REPLICA_ARN,
        "us-east-1",
        "kms_key.backups.replica.dr",
        json!({}),
    );
    // Only the replica's region answered (the primary's did not): still resolved.
    let mut objects = vec![
        replica.clone(),
        bucket(REPLICA_ARN),
        bucket("arn:aws:kms:us-east-1:123456789012:key/other"),
    ];
    resolve_bucket_keys(&mut objects);
    assert_eq!(
        objects[1].attrs["encryption"]["kms_key_id"],
        json!("kms_key.backups")
    );
    assert_eq!(
        objects[1].attrs["replication"]["rules"][0]["replica_kms_key_id"],
        json!("kms_key.backups")
    );
    // A key drplan does not manage stays as read (a difference where the spec names one).
    assert_eq!(
        objects[2].attrs["encryption"]["kms_key_id"],
        json!("arn:aws:kms:us-east-1:123456789012:key/other")
    );
    // resolve_ids: the replica's primary, read as an ARN, is the key's address.
    let mut state = LiveState {
        objects: vec![
            live(
                Kind::KmsKey,
                PRIMARY_ARN,
                "us-west-2",
                "kms_key.backups",
                json!({}),
            ),
            live(
                Kind::KmsReplicaKey,
                REPLICA_ARN,
                "us-east-1",
                "kms_key.backups.replica.dr",
                json!({"primary_key": PRIMARY_ARN}),
            ),
        ],
        ..LiveState::default()
    };
    state.resolve_ids();
    assert_eq!(
        state.objects[1].attrs["primary_key"],
        json!("kms_key.backups")
    );
}

#[test]
fn a_key_that_left_the_spec_is_refused_saying_what_deletion_means() {
    let p = project(KEY);
    let key = resource(&p, "kms_key.backups");
    let state = LiveState {
        objects: vec![live(
            Kind::KmsKey,
            PRIMARY_ARN,
            "us-west-2",
            "kms_key.backups",
            Value::Object(key.attrs.clone().into_map()),
        )],
        ..LiveState::default()
    };
    let plan = diff(&[], &state, &ctx());
    assert_eq!(plan.errors.len(), 1, "{:?}", plan.errors);
    let e = &plan.errors[0];
    assert!(
        e.message.contains("schedules its deletion")
            && e.message.contains("7-30 days")
            && e.message.contains("unreadable for good"),
        "{}",
        e.message
    );
    assert_eq!(
        e.help.as_deref(),
        Some("pass --allow-destroy kms_key.backups to allow it")
    );
    let mut allowed = ctx();
    allowed.allow_destroy = vec![Address::new("kms_key.backups")];
    let plan = diff(&[], &state, &allowed);
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    assert_eq!(plan.changes[0].action, Action::Delete);
    // Its window travels with the change, for the deletion to schedule.
    assert_eq!(
        plan.changes[0]
            .before
            .as_ref()
            .map(|b| b["deletion_window_days"].clone()),
        Some(json!(14))
    );
}

#[test]
fn a_key_disabled_out_of_band_is_an_update_not_a_replacement() {
    let p = project(KEY);
    let key = resource(&p, "kms_key.backups");
    let mut attrs = key.attrs.clone().into_map();
    attrs.insert("enabled".into(), json!(false));
    attrs.insert("alias".into(), Value::Null);
    let state = LiveState {
        objects: vec![live(
            Kind::KmsKey,
            PRIMARY_ARN,
            "us-west-2",
            "kms_key.backups",
            Value::Object(attrs),
        )],
        ..LiveState::default()
    };
    let plan = diff(std::slice::from_ref(key), &state, &ctx());
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    assert_eq!(plan.changes[0].action, Action::Update);
    // multi_region cannot change in place: a replacement, refused for a key.
    let mut attrs = key.attrs.clone().into_map();
    attrs.insert("multi_region".into(), json!(false));
    let state = LiveState {
        objects: vec![live(
            Kind::KmsKey,
            PRIMARY_ARN,
            "us-west-2",
            "kms_key.backups",
            Value::Object(attrs),
        )],
        ..LiveState::default()
    };
    let plan = diff(std::slice::from_ref(key), &state, &ctx());
    assert!(!plan.errors.is_empty(), "{:?}", plan.changes);
}

/// Issue 20: `import` blocks naming a multi-region key by its key id (which every copy
/// shares) adopt the key and the replica in the replica's own region — not a copy of
/// it elsewhere — and the replica's primary, read as the unmarked key's ARN, counts
/// as the key's address, so nothing is replaced.
#[test]
fn imports_by_key_id_adopt_each_copy_in_its_region() {
    let p = project(KEY);
    let key = resource(&p, "kms_key.backups");
    let replica = resource(&p, "kms_key.backups.replica.dr");
    let unmarked = |kind, arn: &str, region: &str, attrs: Value| {
        let mut o = live(kind, arn, region, "-", attrs);
        o.address = None;
        o.stack = None;
        o
    };
    let mut key_attrs = key.attrs.clone().into_map();
    // Another tool's key: no alias, no window tag.
    key_attrs.insert("alias".into(), Value::Null);
    key_attrs.insert("deletion_window_days".into(), Value::Null);
    let mut replica_attrs = replica.attrs.clone().into_map();
    replica_attrs.insert("primary_key".into(), json!(PRIMARY_ARN));
    let elsewhere = "arn:aws:kms:us-east-2:123456789012:key/mrk-0123456789abcdef";
    let mut state = LiveState {
        objects: vec![
            unmarked(
                Kind::KmsReplicaKey,
                elsewhere,
                "us-east-2",
                Value::Object(replica_attrs.clone()),
            ),
            unmarked(
                Kind::KmsReplicaKey,
                REPLICA_ARN,
                "us-east-1",
                Value::Object(replica_attrs),
            ),
            unmarked(
                Kind::KmsKey,
                PRIMARY_ARN,
                "us-west-2",
                Value::Object(key_attrs),
            ),
        ],
        ..LiveState::default()
    };
    let imports: Vec<drplan_core::model::Import> =
        ["kms_key.backups", "kms_key.backups.replica.dr"]
            .into_iter()
            .map(|to| drplan_core::model::Import {
                to: Address::new(to),
                id: "mrk-0123456789abcdef".into(),
            })
            .collect();
    state.resolve_ids();
    state.resolve_imported_ids(&imports);
    let mut with_imports = ctx();
    with_imports.imports = imports;
    let plan = diff(&[key.clone(), replica.clone()], &state, &with_imports);
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    let change = |address: &str| {
        plan.changes
            .iter()
            .find(|c| c.address.as_str() == address)
            .unwrap_or_else(|| panic!("no change of {address}: {:?}", plan.changes))
    };
    let k = change("kms_key.backups");
    assert_eq!(k.action, Action::Update);
    assert!(k.adopt);
    assert_eq!(k.live_id.as_deref(), Some(PRIMARY_ARN));
    let r = change("kms_key.backups.replica.dr");
    assert!(r.adopt);
    assert_eq!(r.live_id.as_deref(), Some(REPLICA_ARN));
    assert_eq!(
        r.before.as_ref().map(|b| b["primary_key"].clone()),
        Some(json!("kms_key.backups"))
    );
    assert_eq!(r.action, Action::Update, "{:?}", r.replace_because);
    // The copy in a region no site has is not this stack's: no change names it.
    assert_eq!(plan.changes.len(), 2, "{:?}", plan.changes);
}
