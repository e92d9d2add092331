//! DR-site readiness (issue 12): what a failover needs that drplan does not manage,
//! checked where the failover will need it. Anchored on Route53 ARC's plan
//! evaluation (permissions, resource configuration, capacity), for the whole topology.
//!
//! One `dr_readiness` check per dr-role site, and one [`Finding`] per prerequisite:
//!
//! - **KMS keys** a bucket's encryption names and the spec does not declare (a
//!   `kms_key` block is planned like any managed object), in that bucket's region (DescribeKey:
//!   present and enabled);
//! - **IAM roles** the spec references (cluster, node group, replication), in the
//!   account the environment pins (GetRole);
//! - **instance types** of the DR node groups, offered in the availability zones of
//!   their subnets (DescribeInstanceTypeOfferings);
//! - **the DR cluster** ACTIVE when normal operation keeps it running (read by the
//!   plan), or created by the activation;
//! - **the DR node groups**: present, and what the activation scales them to;
//! - **the lock**: a lock bucket in the primary region is a warning — a failover apply
//!   could not take it with the region lost;
//! - **container images** in ECR of the workloads that run in the DR site (under DR
//!   activation or always): pulled from the DR region's registry, from a repository a
//!   `registry` block replicates there; an image pulled from another region fails with
//!   that region (`image_findings`, from the spec alone).
//!
//! [`items`] lists what to read (pure); `drplan::live::readiness` reads it; [`apply`]
//! folds the answers and what the plan read into the report. [`spec_check`] is what
//! `validate` can say without the cloud.

use super::{Basis, Check, CheckName, ObjectivesReport, Verdict};
use crate::live::LiveState;
use crate::model::{Project, SiteRole, Topology};
use crate::resource::{Kind, SourceRef};
use serde::{Deserialize, Serialize};

/// One prerequisite of a failover, and what was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The dr-role site whose activation needs it.
    pub site: String,
    /// `kms_key`, `iam_role`, `instance_type`, `cluster`, `node_group`, `lock`.
    pub what: String,
    /// What it is, where: `alias/shop-backups in us-west-2`.
    pub subject: String,
    pub verdict: Verdict,
    /// What was found: `enabled`, `not found: ...`.
    pub detail: String,
    /// How to make it ready, when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// The spec location that needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
    pub basis: Basis,
}

/// Something to read from the cloud.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Need {
    /// `key` (id, ARN, `alias/...` or alias ARN) in `region`.
    KmsKey { key: String, region: String },
    /// The role `arn` (IAM is global).
    IamRole { arn: String },
    /// Which of `types` are offered in which of `zones` of `region`.
    InstanceTypes {
        region: String,
        types: Vec<String>,
        zones: Vec<String>,
    },
}

/// A [`Need`] and who needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub need: Need,
    pub site: String,
    /// The blocks that use it: `bucket.dr_backups`, `cluster.dr`.
    pub used_by: Vec<String>,
    pub source: SourceRef,
}

/// What the cloud said about one [`Item`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// There and usable: a short description (`enabled`, the role's ARN).
    Present(String),
    /// Not there: what the service said.
    Missing(String),
    /// There, not usable (a disabled key, one pending deletion).
    Unusable(String),
    /// The (instance type, zone) pairs offered.
    Offered(Vec<(String, String)>),
    /// Could not be read: why.
    NotRead(String),
}

/// A readiness check is made for a topology with a dr-role site.
pub fn wanted(t: &Topology) -> bool {
    t.sites.values().any(|s| s.role == SiteRole::Dr)
}

fn dr_site(t: &Topology) -> Option<&crate::model::Site> {
    t.sites.values().find(|s| s.role == SiteRole::Dr)
}

/// What to read for `project`'s failover: from the activated evaluation when there is
/// one (its node groups are the ones the failover scales), else the project itself.
pub fn items(project: &Project, activated: Option<&Project>) -> Vec<Item> {
    let t = &activated.unwrap_or(project).topology;
    let Some(dr) = dr_site(t) else {
        return Vec::new();
    };
    let site_of = |label: &str| {
        t.sites
            .get(label)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    };
    let region_of = |label: &str| t.sites.get(label).map(|s| s.region.clone());
    let mut out: Vec<Item> = Vec::new();
    let mut role = |arn: &str, site: String, user: String, source: &SourceRef| {
        if arn.is_empty() || !arn.contains(":role/") {
            return;
        }
        if let Some(item) = out
            .iter_mut()
            .find(|i| matches!(&i.need, Need::IamRole { arn: a } if a == arn))
        {
            if !item.used_by.contains(&user) {
                item.used_by.push(user);
            }
            return;
        }
        out.push(Item {
            need: Need::IamRole {
                arn: arn.to_string(),
            },
            site,
            used_by: vec![user],
            source: source.clone(),
        });
    };
    for c in t.clusters.values() {
        role(
            &c.role_arn,
            site_of(&c.site),
            format!("cluster.{}", c.label),
            &c.source,
        );
        for (label, g) in &c.node_groups {
            role(
                &g.node_role_arn,
                site_of(&c.site),
                format!("cluster.{}.node_group.{label}", c.label),
                &g.source,
            );
        }
    }
    for b in t.buckets.values() {
        if let Some(r) = &b.replication {
            role(
                &r.role_arn,
                site_of(&b.site),
                format!("bucket.{}", b.label),
                &b.source,
            );
        }
    }
    for b in t.buckets.values() {
        let Some(key) = b.encryption.as_ref().and_then(|e| e.kms_key_id.as_ref()) else {
            continue;
        };
        // A declared key (`kms_key` block) is drplan's to make: the plan creates it.
        if crate::kinds::kms::declared(t, key).is_some() {
            continue;
        }
        let Some(region) = region_of(&b.site) else {
            continue;
        };
        let need = Need::KmsKey {
            key: key.clone(),
            region,
        };
        let user = format!("bucket.{}", b.label);
        // One read per key and region, however many buckets use it.
        match out.iter_mut().find(|i| i.need == need) {
            Some(item) => item.used_by.push(user),
            None => out.push(Item {
                need,
                site: site_of(&b.site),
                used_by: vec![user],
                source: b.source.clone(),
            }),
        }
    }
    for c in t.clusters.values().filter(|c| c.site == dr.name) {
        let Some(network) = t.networks.get(&c.network) else {
            continue;
        };
        for (label, g) in &c.node_groups {
            // The node group's subnets, else the cluster's, else the whole network's.
            let named = [&g.subnets, &c.subnets].into_iter().find(|s| !s.is_empty());
            let mut zones: Vec<String> = network
                .subnets
                .iter()
                .filter(|(label, _)| named.is_none_or(|n| n.contains(label)))
                .map(|(_, s)| s.availability_zone.clone())
                .collect();
            zones.sort();
            zones.dedup();
            if zones.is_empty() || g.instance_types.is_empty() {
                continue;
            }
            out.push(Item {
                need: Need::InstanceTypes {
                    region: dr.region.clone(),
                    types: g.instance_types.clone(),
                    zones,
                },
                site: dr.name.clone(),
                used_by: vec![format!("cluster.{}.node_group.{label}", c.label)],
                source: g.source.clone(),
            });
        }
    }
    out
}

/// The readiness check `validate` can make without the cloud: the lock's region,
/// and that the activation loads at all (`activation`: why it does not). The rest
/// is read by plan and drift. The check, and its findings for the report.
pub fn spec_check(
    project: &Project,
    activated: Option<&Project>,
    activation: Option<&str>,
) -> Option<(Check, Vec<Finding>)> {
    let t = &project.topology;
    let dr = dr_site(t)?;
    let mut findings = Vec::new();
    if let Some(why) = activation {
        findings.push(Finding {
            site: dr.name.clone(),
            what: "activation".into(),
            subject: format!("activating site {}", dr.name),
            verdict: Verdict::Fail,
            detail: why.to_string(),
            fix: Some("fix the spec so the environment loads with the DR site active".into()),
            source: Some(dr.source.clone()),
            basis: Basis::Spec,
        });
    }
    findings.extend(lock_finding(project, &dr.name));
    findings.extend(image_findings(project, activated, dr));
    Some((summarize(dr, &findings, Basis::Spec, true), findings))
}

/// The ECR images of the workloads that run in the DR site — under DR activation
/// (`activated`) or always (`project`) — each judged by where the bring-up pulls it:
/// from the DR region's registry, where a `registry` block replicates the repository
/// (pass), or from another region, which the failover may have lost (fail). Images
/// outside ECR are not judged.
pub fn image_findings(
    project: &Project,
    activated: Option<&Project>,
    dr: &crate::model::Site,
) -> Vec<Finding> {
    use crate::kinds::ecr::parse_image;
    let t = &activated.unwrap_or(project).topology;
    let region_of = |site: &str| t.sites.get(site).map(|s| s.region.as_str());
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut out = Vec::new();
    let resources = activated
        .into_iter()
        .chain([project])
        .flat_map(|p| p.resources.iter())
        .filter(|r| r.kind == Kind::K8sObject && r.site.as_deref() == Some(dr.name.as_str()));
    for r in resources {
        let mut images = Vec::new();
        if let Some(manifest) = r.attrs.get("manifest") {
            container_images(manifest, &mut images);
        }
        for image in images {
            let key = (r.address.to_string(), image.clone());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let Some(ecr) = parse_image(&image) else {
                continue;
            };
            let named = |reg: &&crate::model::Registry| reg.name == ecr.repository;
            // A block replicating the repository into the DR region.
            let replicated = t.registries.values().filter(named).find(|reg| {
                reg.replicate_to
                    .iter()
                    .any(|s| region_of(s) == Some(dr.region.as_str()))
            });
            let in_dr = t
                .registries
                .values()
                .filter(named)
                .find(|reg| region_of(&reg.site) == Some(dr.region.as_str()));
            let dr_image = format!(
                "{}.dkr.ecr.{}.amazonaws.com/{}",
                ecr.account, dr.region, ecr.repository
            );
            let (verdict, detail, fix) = if ecr.region == dr.region {
                match (replicated, in_dr) {
                    (Some(reg), _) => (
                        Verdict::Pass,
                        format!(
                            "pulled from {}, where registry.{} replicates it from {}",
                            dr.region,
                            reg.label,
                            region_of(&reg.site).unwrap_or_default()
                        ),
                        None,
                    ),
                    (None, Some(reg)) => (
                        Verdict::Pass,
                        format!("pulled from registry.{} in {}", reg.label, dr.region),
                        None,
                    ),
                    (None, None) => (
                        Verdict::Warn,
                        format!(
                            "pulled from {}, but no registry block holds or replicates {} there: drplan cannot tell the images are there",
                            dr.region, ecr.repository
                        ),
                        Some(format!(
                            "declare the repository where images are pushed with replicate_to = [site.{}]: registry \"x\" {{ name = \"{}\"  site = site.<primary>  replicate_to = [site.{}] }}",
                            dr.name, ecr.repository, dr.name
                        )),
                    ),
                }
            } else {
                match replicated {
                    Some(reg) => (
                        Verdict::Fail,
                        format!(
                            "pulled from {}: with that region lost the pull fails, although registry.{} replicates the repository to {}",
                            ecr.region, reg.label, dr.region
                        ),
                        Some(format!("point the image at the replica, {dr_image}")),
                    ),
                    None => {
                        let source = t
                            .registries
                            .values()
                            .filter(named)
                            .find(|reg| region_of(&reg.site) == Some(ecr.region.as_str()));
                        let add = match source {
                            Some(reg) => format!(
                                "add replicate_to = [site.{}] to registry.{}",
                                dr.name, reg.label
                            ),
                            None => format!(
                                "declare registry \"x\" {{ name = \"{}\"  site = <the site in {}>  replicate_to = [site.{}] }}",
                                ecr.repository, ecr.region, dr.name
                            ),
                        };
                        (
                            Verdict::Fail,
                            format!(
                                "pulled from {}, and no registry block replicates {} to {}: with {} lost the bring-up cannot pull it",
                                ecr.region, ecr.repository, dr.region, ecr.region
                            ),
                            Some(format!("{add}, and point the image at {dr_image}")),
                        )
                    }
                }
            };
            out.push(Finding {
                site: dr.name.clone(),
                what: "image".into(),
                subject: format!("image {image} of {}", r.address),
                verdict,
                detail,
                fix,
                source: r.source.clone(),
                basis: Basis::Spec,
            });
        }
    }
    out
}

/// Every `image` of a container or init container in a manifest (pods, pod templates,
/// job templates: wherever `containers` lists are).
fn container_images(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                if matches!(k.as_str(), "containers" | "initContainers") {
                    for c in v.as_array().into_iter().flatten() {
                        if let Some(image) = c.get("image").and_then(|i| i.as_str()) {
                            out.push(image.to_string());
                        }
                    }
                } else {
                    container_images(v, out);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| container_images(i, out)),
        _ => {}
    }
}

fn lock_finding(project: &Project, dr: &str) -> Option<Finding> {
    let t = &project.topology;
    let lock = project.environment.lock.as_ref()?;
    let primary = t.sites.values().find(|s| s.role == SiteRole::Primary)?;
    let file = format!("environments/{}.hcl", project.env_name);
    let subject = format!("lock bucket s3://{} in {}", lock.bucket, lock.region);
    Some(if lock.region == primary.region {
        Finding {
            site: dr.to_string(),
            what: "lock".into(),
            subject,
            verdict: Verdict::Warn,
            detail: format!(
                "the lock lives in the primary region ({}): with that region lost, a failover apply cannot take it",
                primary.region
            ),
            fix: Some(format!(
                "move `lock {{ region }}` in {file} to the DR region or a third one, and run `drplan bootstrap`"
            )),
            source: Some(SourceRef {
                file,
                line: 1,
                column: 1,
            }),
            basis: Basis::Spec,
        }
    } else {
        Finding {
            site: dr.to_string(),
            what: "lock".into(),
            subject,
            verdict: Verdict::Pass,
            detail: "outside the primary region".into(),
            fix: None,
            source: None,
            basis: Basis::Spec,
        }
    })
}

/// The readiness check with what the cloud said: `answers` line up with [`items`];
/// the cluster and node groups come from what the plan read (`live`). `normal` and
/// `activated` are the environment evaluated in normal operation and under DR
/// activation (one of them is the project planned).
pub fn apply(
    report: &mut ObjectivesReport,
    normal: &Project,
    activated: Option<&Project>,
    items: &[Item],
    answers: &[Answer],
    live: &LiveState,
) {
    let Some(dr) = dr_site(&normal.topology) else {
        return;
    };
    let mut findings: Vec<Finding> = report
        .readiness
        .iter()
        .filter(|f| f.site == dr.name && f.basis == Basis::Spec)
        .cloned()
        .collect();
    for (item, answer) in items.iter().zip(answers) {
        findings.extend(judge(item, answer));
    }
    findings.extend(cluster_findings(normal, activated, live, dr));
    report.readiness.retain(|f| f.site != dr.name);
    report.checks.retain(|c| c.name != CheckName::DrReadiness);
    report
        .checks
        .push(summarize(dr, &findings, Basis::Live, false));
    report.readiness.extend(findings);
}

fn judge(item: &Item, answer: &Answer) -> Vec<Finding> {
    let used = match item.used_by.as_slice() {
        [a, b, c, _, rest @ ..] => format!("{a}, {b}, {c} and {} more", rest.len() + 1),
        all => all.join(", "),
    };
    let finding =
        |what: &str, subject: String, verdict, detail: String, fix: Option<String>| Finding {
            site: item.site.clone(),
            what: what.into(),
            subject,
            verdict,
            detail,
            fix,
            source: Some(item.source.clone()),
            basis: if matches!(answer, Answer::NotRead(_)) {
                Basis::LiveNotRead
            } else {
                Basis::Live
            },
        };
    // KMS keys and IAM roles: there or not.
    let present_or_not = |what: &str, subject: String, missing_fix: String, unusable_fix| {
        let (verdict, detail, fix) = match answer {
            Answer::Present(d) => (Verdict::Pass, d.clone(), None),
            Answer::Missing(d) => (Verdict::Fail, format!("not found: {d}"), Some(missing_fix)),
            Answer::Unusable(d) => (Verdict::Fail, d.clone(), Some(unusable_fix)),
            Answer::NotRead(d) => (Verdict::Warn, format!("not read: {d}"), None),
            Answer::Offered(_) => (Verdict::Warn, "no answer drplan can judge".into(), None),
        };
        vec![finding(what, subject, verdict, detail, fix)]
    };
    match &item.need {
        Need::KmsKey { key, region } => {
            let alias = key
                .strip_prefix("alias/")
                .map(|a| {
                    format!(
                        " and `aws kms create-alias --alias-name alias/{a} --target-key-id <key-id> --region {region}`"
                    )
                })
                .unwrap_or_default();
            present_or_not(
                "kms_key",
                format!("KMS key {key} in {region} (used by {used})"),
                format!(
                    "create it in {region} (`aws kms create-key --region {region}`{alias}), or point `encryption {{ kms_key_id }}` at a key that exists there"
                ),
                format!("enable the key in {region} (`aws kms enable-key`, or `aws kms cancel-key-deletion`)"),
            )
        }
        Need::IamRole { arn } => {
            let name = arn.rsplit('/').next().unwrap_or(arn);
            present_or_not(
                "iam_role",
                format!("IAM role {name} (used by {used})"),
                format!(
                    "create the role {name} (`aws iam create-role --role-name {name} ...`) with the permissions {used} needs, or reference one that exists"
                ),
                format!("repair the role {name}"),
            )
        }
        Need::InstanceTypes {
            region,
            types,
            zones,
        } => {
            let Answer::Offered(pairs) = answer else {
                let detail = match answer {
                    Answer::NotRead(d) => format!("not read: {d}"),
                    Answer::Missing(d) | Answer::Unusable(d) | Answer::Present(d) => d.clone(),
                    Answer::Offered(_) => String::new(),
                };
                return vec![finding(
                    "instance_type",
                    format!("{} in {region} (used by {used})", types.join(", ")),
                    Verdict::Warn,
                    detail,
                    None,
                )];
            };
            let list = |v: &[&String]| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
            types
                .iter()
                .map(|ty| {
                    let offered: Vec<&String> = zones
                        .iter()
                        .filter(|z| pairs.iter().any(|(t, pz)| t == ty && pz == *z))
                        .collect();
                    let missing: Vec<&String> =
                        zones.iter().filter(|z| !offered.contains(z)).collect();
                    let subject = format!("instance type {ty} in {region} (used by {used})");
                    if missing.is_empty() {
                        finding(
                            "instance_type",
                            subject,
                            Verdict::Pass,
                            format!("offered in {}", list(&offered)),
                            None,
                        )
                    } else if offered.is_empty() {
                        finding(
                            "instance_type",
                            subject,
                            Verdict::Fail,
                            format!("offered in none of the node group's zones ({})", list(&missing)),
                            Some(format!(
                                "choose a type offered there (`aws ec2 describe-instance-type-offerings --location-type availability-zone --region {region}`), or subnets in zones that offer {ty}"
                            )),
                        )
                    } else {
                        finding(
                            "instance_type",
                            subject,
                            Verdict::Warn,
                            format!(
                                "offered in {} but not in {}: nodes cannot launch there",
                                list(&offered),
                                list(&missing)
                            ),
                            Some(format!(
                                "add a type offered in {}, or drop those zones' subnets from the node group",
                                list(&missing)
                            )),
                        )
                    }
                })
                .collect()
        }
    }
}

/// The DR cluster and its node groups, from what the plan read.
fn cluster_findings(
    normal: &Project,
    activated: Option<&Project>,
    live: &LiveState,
    dr: &crate::model::Site,
) -> Vec<Finding> {
    let act = &activated.unwrap_or(normal).topology;
    let live_object = |kind: Kind, id: &str| {
        live.objects.iter().find(|o| {
            o.kind == kind && o.id == id && o.region.as_deref() == Some(dr.region.as_str())
        })
    };
    let live_attrs = |kind: Kind, id: &str| live_object(kind, id).map(|o| &o.attrs);
    // Normal operation keeps it: it must be there before any failover.
    let kept = |kind: Kind, id: &str| {
        normal.resources.iter().any(|r| {
            r.kind == kind
                && match kind {
                    Kind::NodeGroup => {
                        let attr =
                            |k: &str| r.attrs.get(k).and_then(|v| v.as_str()).unwrap_or_default();
                        format!("{}/{}", attr("cluster_name"), attr("name")) == id
                    }
                    _ => r.attrs.get("name").and_then(|v| v.as_str()) == Some(id),
                }
        })
    };
    let eks_lost = live.unreachable.iter().any(|u| {
        u.cluster.is_none() && u.service == "eks" && u.region.as_deref() == Some(dr.region.as_str())
    });
    let apply_creates = Some(format!("`drplan apply -e {}` creates it", normal.env_name));
    let mut out = Vec::new();
    for c in act.clusters.values().filter(|c| c.site == dr.name) {
        let finding = |what: &str,
                       subject: String,
                       verdict,
                       detail: String,
                       fix: Option<String>,
                       source: &SourceRef| Finding {
            site: dr.name.clone(),
            what: what.into(),
            subject,
            verdict,
            detail,
            fix,
            source: Some(source.clone()),
            basis: if eks_lost {
                Basis::LiveNotRead
            } else {
                Basis::Live
            },
        };
        let subject = format!("EKS cluster {} in {}", c.name, dr.region);
        if eks_lost {
            out.push(finding(
                "cluster",
                subject,
                Verdict::Warn,
                format!("not read: EKS in {} did not answer", dr.region),
                None,
                &c.source,
            ));
            continue;
        }
        let Some(object) = live_object(Kind::EksCluster, &c.name) else {
            out.push(if kept(Kind::EksCluster, &c.name) {
                // The plan creates it (a first apply, or it was deleted): until then a
                // failover would have to create it first.
                finding(
                    "cluster",
                    subject,
                    Verdict::Warn,
                    "missing: normal operation keeps it running; this plan creates it".into(),
                    apply_creates.clone(),
                    &c.source,
                )
            } else {
                finding(
                    "cluster",
                    subject,
                    Verdict::Pass,
                    "created by the activation (on the RTO's critical path)".into(),
                    None,
                    &c.source,
                )
            });
            continue;
        };
        let status = live
            .observed_of(object)
            .and_then(|o| o.get("status"))
            .and_then(|v| v.as_str())
            .unwrap_or("unknown");
        out.push(if status == "ACTIVE" {
            finding("cluster", subject, Verdict::Pass, "ACTIVE".into(), None, &c.source)
        } else {
            finding(
                "cluster",
                subject,
                Verdict::Fail,
                format!("status {status}, not ACTIVE: an activation cannot run workloads on it"),
                Some(format!(
                    "wait for it to become ACTIVE, or repair it (`aws eks describe-cluster --name {} --region {}`)",
                    c.name, dr.region
                )),
                &c.source,
            )
        });
        for g in c.node_groups.values() {
            let id = format!("{}/{}", c.name, g.name);
            let subject = format!("node group {id} in {}", dr.region);
            out.push(match live_attrs(Kind::NodeGroup, &id) {
                Some(ng) => {
                    let raise = match ng.get("max_size").and_then(|v| v.as_i64()) {
                        Some(m) if m < g.desired_size => {
                            format!(
                                "; the activation raises its max size from {m} to {}",
                                g.max_size
                            )
                        }
                        _ => String::new(),
                    };
                    finding(
                        "node_group",
                        subject,
                        Verdict::Pass,
                        format!(
                            "present; the activation runs {} node(s) (max {}){raise}",
                            g.desired_size, g.max_size
                        ),
                        None,
                        &g.source,
                    )
                }
                None if kept(Kind::NodeGroup, &id) => finding(
                    "node_group",
                    subject,
                    Verdict::Warn,
                    "missing: normal operation keeps it; this plan creates it".into(),
                    apply_creates.clone(),
                    &g.source,
                ),
                None => finding(
                    "node_group",
                    subject,
                    Verdict::Pass,
                    format!("created by the activation with {} node(s)", g.desired_size),
                    None,
                    &g.source,
                ),
            });
        }
    }
    out
}

fn summarize(
    dr: &crate::model::Site,
    findings: &[Finding],
    basis: Basis,
    spec_only: bool,
) -> Check {
    let verdict = findings
        .iter()
        .map(|f| f.verdict)
        .max()
        .unwrap_or(Verdict::Pass);
    let not_ready = findings
        .iter()
        .filter(|f| f.verdict != Verdict::Pass)
        .count();
    let numbers = if spec_only {
        format!(
            "failover to site {}: {} from the spec; KMS keys, IAM roles, instance types and the DR cluster are read by plan and drift",
            dr.name,
            if not_ready == 0 { "nothing missing" } else { "not ready" }
        )
    } else if not_ready == 0 {
        format!(
            "failover to site {}: all {} prerequisites in place",
            dr.name,
            findings.len()
        )
    } else {
        format!(
            "failover to site {}: {not_ready} of {} prerequisites not ready",
            dr.name,
            findings.len()
        )
    };
    // What is not ready first, with its fix and spec location; then what is.
    let mut ordered: Vec<&Finding> = findings.iter().collect();
    ordered.sort_by_key(|f| std::cmp::Reverse(f.verdict));
    let details: Vec<String> = ordered
        .into_iter()
        .map(|f| {
            let mut line = format!(
                "{} {}: {}",
                super::text::verdict_word(f.verdict),
                f.subject,
                f.detail
            );
            if f.verdict != Verdict::Pass {
                if let Some(fix) = &f.fix {
                    line.push_str(&format!(" — fix: {fix}"));
                }
                if let Some(s) = &f.source {
                    line.push_str(&format!(" (at {}:{}:{})", s.file, s.line, s.column));
                }
            }
            line
        })
        .collect();
    Check {
        name: CheckName::DrReadiness,
        component: None,
        verdict,
        numbers,
        measured_seconds: None,
        limit_seconds: None,
        details,
        path: Vec::new(),
        source: findings
            .iter()
            .find(|f| f.verdict == verdict && verdict != Verdict::Pass)
            .and_then(|f| f.source.clone())
            .or_else(|| Some(dr.source.clone())),
        basis,
        policy: None,
        store: None,
    }
}
