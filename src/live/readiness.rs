//! Reads what a failover needs and drplan does not manage
//! (`drplan_core::objectives::readiness`): one DescribeKey per distinct key and region,
//! one GetRole per distinct role, one DescribeInstanceTypeOfferings per DR region, all
//! at once, however many buckets and node groups use them. A region whose probe failed
//! is not tried.

use crate::apply::context::aws_error;
use crate::aws::{AwsContext, Service};
use aws_sdk_ec2::types::{Filter, LocationType};
use aws_sdk_kms::types::KeyState;
use drplan_core::live::Unreachable;
use drplan_core::objectives::readiness::{Answer, Item, Need};
use futures::future::join_all;
use std::collections::{BTreeMap, BTreeSet};

/// The answer for every item, in order.
pub async fn read(
    items: &[Item],
    aws: &AwsContext,
    account: Option<&str>,
    unreachable: &[Unreachable],
) -> Vec<Answer> {
    let lost = |service: Service, region: &str| {
        unreachable.iter().find(|u| {
            u.cluster.is_none()
                && u.service == service.name()
                && u.region.as_deref() == Some(region)
        })
    };
    // One DescribeInstanceTypeOfferings per region, for every type and zone the DR
    // node groups there use.
    let mut wanted: BTreeMap<&str, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for item in items {
        if let Need::InstanceTypes {
            region,
            types,
            zones,
        } = &item.need
        {
            let (t, z) = wanted.entry(region.as_str()).or_default();
            t.extend(types.iter().cloned());
            z.extend(zones.iter().cloned());
        }
    }
    let offered: BTreeMap<&str, Answer> = join_all(wanted.into_iter().map(
        |(region, (types, zones))| async move {
            let answer = match lost(Service::Ec2, region) {
                Some(u) => Answer::NotRead(format!("not tried: {}", u.reason())),
                None => {
                    offerings(
                        aws,
                        region,
                        types.into_iter().collect(),
                        zones.into_iter().collect(),
                    )
                    .await
                }
            };
            (region, answer)
        },
    ))
    .await
    .into_iter()
    .collect();
    let offered = &offered;
    let iam_lost = unreachable
        .iter()
        .find(|u| u.cluster.is_none() && u.region.as_deref() == Some(crate::aws::GLOBAL_REGION));
    join_all(items.iter().map(|item| async move {
        match &item.need {
            Need::KmsKey { key, region } => match lost(Service::S3, region) {
                // KMS is not probed: its region is lost when the region's S3 is.
                Some(u) => Answer::NotRead(format!("not tried: {}", u.reason())),
                None => kms_key(aws, key, region).await,
            },
            Need::IamRole { arn } => match (account, arn_account(arn), iam_lost) {
                (Some(mine), Some(theirs), _) if mine != theirs => Answer::NotRead(format!(
                    "in account {theirs}, not the environment's {mine}: drplan reads its own account only"
                )),
                // IAM answers from us-east-1: with that region lost, a GetRole would only
                // wait out its timeouts, on the plan of a failover.
                (_, _, Some(u)) => Answer::NotRead(format!("not tried: {}", u.reason())),
                _ => iam_role(aws, arn).await,
            },
            Need::InstanceTypes { region, .. } => offered
                .get(region.as_str())
                .cloned()
                .unwrap_or_else(|| Answer::NotRead("not read".into())),
        }
    }))
    .await
}

fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// A read that failed: the thing is missing (the service said so), or unknown.
fn failed(not_found: bool, error: anyhow::Error) -> Answer {
    let message = format!("{error:#}");
    if not_found {
        Answer::Missing(message)
    } else {
        Answer::NotRead(message)
    }
}

async fn kms_key(aws: &AwsContext, key: &str, region: &str) -> Answer {
    let _permit = aws.permit(Service::Kms).await;
    match aws.kms(region).describe_key().key_id(key).send().await {
        Ok(out) => {
            let Some(meta) = out.key_metadata else {
                return Answer::NotRead("DescribeKey answered without key metadata".into());
            };
            match meta.key_state() {
                Some(KeyState::Enabled) | None if meta.enabled() => {
                    Answer::Present("enabled".into())
                }
                state => Answer::Unusable(format!(
                    "key {} is {}: S3 cannot encrypt or decrypt with it",
                    meta.key_id(),
                    state.map(|s| s.as_str()).unwrap_or("disabled")
                )),
            }
        }
        Err(e) => failed(
            e.as_service_error()
                .is_some_and(|s| s.is_not_found_exception()),
            aws_error("DescribeKey")(e),
        ),
    }
}

async fn iam_role(aws: &AwsContext, arn: &str) -> Answer {
    let name = arn.rsplit('/').next().unwrap_or(arn);
    let _permit = aws.permit(Service::Iam).await;
    match aws.iam_for_arn(arn).get_role().role_name(name).send().await {
        Ok(out) => match out.role {
            Some(role) if role.arn() == arn => Answer::Present("exists".into()),
            Some(role) => Answer::Unusable(format!(
                "a role {name} exists as {}, not {arn} (another path)",
                role.arn()
            )),
            None => Answer::NotRead("GetRole answered without the role".into()),
        },
        Err(e) => failed(
            e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()),
            aws_error("GetRole")(e),
        ),
    }
}

async fn offerings(
    aws: &AwsContext,
    region: &str,
    types: Vec<String>,
    zones: Vec<String>,
) -> Answer {
    let _permit = aws.permit(Service::Ec2).await;
    let pages = aws
        .ec2(region)
        .describe_instance_type_offerings()
        .location_type(LocationType::AvailabilityZone)
        .filters(
            Filter::builder()
                .name("instance-type")
                .set_values(Some(types))
                .build(),
        )
        .filters(
            Filter::builder()
                .name("location")
                .set_values(Some(zones))
                .build(),
        )
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let mut pairs = Vec::new();
    for page in pages {
        match page {
            Ok(out) => pairs.extend(out.instance_type_offerings().iter().filter_map(|o| {
                Some((
                    o.instance_type()?.as_str().to_string(),
                    o.location()?.to_string(),
                ))
            })),
            Err(e) => {
                return Answer::NotRead(format!(
                    "{:#}",
                    aws_error("DescribeInstanceTypeOfferings")(e)
                ))
            }
        }
    }
    Answer::Offered(pairs)
}
