//! ECR repositories. Per region of the topology: DescribeRepositories (paginated, up
//! to 1,000 a page), then — ECR has no tag filter on its listing — one
//! ListTagsForResource per repository listed, to find the stack's (orphans included)
//! and those the spec names; for those, GetLifecyclePolicy each; and, where any was
//! found, one DescribeRegistry for the registry's replication configuration, from
//! which drplan's rules (`drplan_core::kinds::ecr`: every filter a PREFIX_MATCH on
//! exactly the name of one of the stack's repositories there) give each
//! repository's `replicate_to`. Every request of a region goes through its gate, so a
//! lost region costs one probe.

use super::marks::Marked;
use super::reach::Gate;
use super::requests::{collect_pages, send};
use super::{FamilyRead, ReadScope};
use crate::aws::error::{error_code, error_message};
use crate::aws::{AwsContext, Service};
use aws_sdk_ecr::types::{ReplicationConfiguration, Repository};
use drplan_core::kinds::ecr::{
    normalize_lifecycle_policy, replicated_regions, ReplicationRule, RepositoryAttrs,
};
use drplan_core::kinds::into_attrs;
use drplan_core::live::{LiveObject, ReadError};
use drplan_core::resource::{Kind, Resource};
use futures::future::join_all;
use serde_json::Value;
use std::collections::BTreeSet;

const TYPE: &str = "aws_ecr_repository";

/// A repository's name in its region: read even when not marked.
pub(super) fn scope(scope: &mut ReadScope, r: &Resource) {
    if r.kind == Kind::EcrRepository {
        super::add_regional_name(&mut scope.repository_names, r);
    }
}

/// An import block's repository without a spec block: looked for by its name in
/// every site's region.
pub(super) fn generate(scope: &mut ReadScope, kind: Kind, id: &str, regions: &[String]) {
    if kind == Kind::EcrRepository {
        for region in regions {
            scope
                .repository_names
                .entry(region.clone())
                .or_default()
                .insert(id.to_string());
        }
    }
}

pub(super) async fn read(ctx: &AwsContext, scope: &ReadScope, gate: &Gate<'_>) -> FamilyRead {
    join_all(
        scope
            .regions
            .iter()
            .map(|region| gate.read(region, Service::Ecr, read_region(ctx, scope, region))),
    )
    .await
    .into_iter()
    .collect()
}

/// One repository found, before its policy and replication are known.
struct Found {
    repository: Repository,
    marked: Marked,
}

/// Every repository of `region` (DescribeRepositories, paged).
async fn repositories(ctx: &AwsContext, region: &str) -> Result<Vec<Repository>, ReadError> {
    let pages = ctx
        .ecr(region)
        .describe_repositories()
        .max_results(1000)
        .into_paginator()
        .send();
    match collect_pages(ctx, Service::Ecr, pages).await {
        Ok(pages) => Ok(pages
            .into_iter()
            .flat_map(|p| p.repositories.unwrap_or_default())
            .collect()),
        Err(e) => Err(ReadError::new(TYPE, error_message(&e)).in_region(region)),
    }
}

async fn read_region(ctx: &AwsContext, scope: &ReadScope, region: &str) -> FamilyRead {
    let mut read = FamilyRead::default();
    let ecr = ctx.ecr(region);
    let repositories = match repositories(ctx, region).await {
        Ok(repositories) => repositories,
        Err(e) => {
            read.errors.push(e);
            return read;
        }
    };
    let named = scope.repository_names.get(region);
    let tagged = join_all(repositories.into_iter().map(|repository| {
        let ecr = &ecr;
        async move {
            let arn = repository.repository_arn().unwrap_or_default().to_string();
            let tags = send(
                ctx,
                Service::Ecr,
                ecr.list_tags_for_resource().resource_arn(&arn).send(),
            )
            .await;
            (repository, tags)
        }
    }))
    .await;
    let mut found: Vec<Found> = Vec::new();
    for (repository, tags) in tagged {
        let name = repository.repository_name().unwrap_or_default();
        let tags = match tags {
            Ok(out) => out.tags.unwrap_or_default(),
            // Deleted between the listing and this read: gone.
            Err(e) if error_code(&e) == Some("RepositoryNotFoundException") => continue,
            Err(e) => {
                read.errors.push(
                    ReadError::new(TYPE, format!("{name}: {}", error_message(&e)))
                        .in_region(region),
                );
                continue;
            }
        };
        let marked = Marked::from_tags(tags.into_iter().map(|t| (t.key, t.value)));
        if marked.is_for(&scope.stack) || named.is_some_and(|n| n.contains(name)) {
            found.push(Found { repository, marked });
        }
    }
    if found.is_empty() {
        return read;
    }
    let rules = match send(ctx, Service::Ecr, ecr.describe_registry().send()).await {
        Ok(out) => rules_of(out.replication_configuration()),
        Err(e) => {
            read.errors.push(
                ReadError::new("aws_ecr_repository replication", error_message(&e))
                    .in_region(region),
            );
            return read;
        }
    };
    // The stack's repositories here: the only names drplan's rules may filter on.
    let mine: BTreeSet<String> = found
        .iter()
        .filter(|f| f.marked.is_for(&scope.stack))
        .filter_map(|f| f.repository.repository_name().map(str::to_string))
        .collect();
    let policies = join_all(found.iter().map(|f| {
        let ecr = &ecr;
        let name = f
            .repository
            .repository_name()
            .unwrap_or_default()
            .to_string();
        async move {
            send(
                ctx,
                Service::Ecr,
                ecr.get_lifecycle_policy().repository_name(&name).send(),
            )
            .await
        }
    }))
    .await;
    for (f, policy) in found.into_iter().zip(policies) {
        let name = f
            .repository
            .repository_name()
            .unwrap_or_default()
            .to_string();
        let lifecycle_policy = match policy {
            Ok(out) => out.lifecycle_policy_text().map(policy_value),
            Err(e) if error_code(&e) == Some("LifecyclePolicyNotFoundException") => None,
            Err(e) if error_code(&e) == Some("RepositoryNotFoundException") => continue,
            Err(e) => {
                read.errors.push(
                    ReadError::new(TYPE, format!("{name}: {}", error_message(&e)))
                        .in_region(region),
                );
                continue;
            }
        };
        let mut replicate_to = replicated_regions(&rules, &mine, &name);
        replicate_to.sort();
        let attrs = into_attrs(RepositoryAttrs {
            name: name.clone(),
            image_tag_mutability: f
                .repository
                .image_tag_mutability()
                .map(|m| m.as_str().to_string())
                .unwrap_or_else(|| "MUTABLE".into()),
            scan_on_push: f
                .repository
                .image_scanning_configuration()
                .is_some_and(|c| c.scan_on_push()),
            lifecycle_policy,
            replicate_to,
            tags: f.marked.tags,
        });
        read.keep(
            scope,
            LiveObject {
                kind: Kind::EcrRepository,
                id: f
                    .repository
                    .repository_arn()
                    .unwrap_or(name.as_str())
                    .to_string(),
                region: Some(region.to_string()),
                address: f.marked.address,
                stack: f.marked.stack,
                attrs: attrs.into(),
            },
        );
    }
    read
}

/// The policy text ECR holds, in the form the spec's is compared in; text that is not
/// a policy drplan understands is shown as it is (and differs from the spec's).
fn policy_value(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => normalize_lifecycle_policy(&v).unwrap_or(v),
        Err(_) => Value::String(text.to_string()),
    }
}

/// The registry's replication rules, in the core's form.
pub(crate) fn rules_of(config: Option<&ReplicationConfiguration>) -> Vec<ReplicationRule> {
    config
        .map(|c| c.rules())
        .unwrap_or_default()
        .iter()
        .map(|r| ReplicationRule {
            destinations: r
                .destinations()
                .iter()
                .map(|d| (d.region().to_string(), d.registry_id().to_string()))
                .collect(),
            filters: r
                .repository_filters()
                .iter()
                .map(|f| (f.filter().to_string(), f.filter_type().as_str().to_string()))
                .collect(),
        })
        .collect()
}

/// `drift --unmanaged`: the repositories of `region` that no drplan stack marks, by
/// the name an `import` block takes (one ListTagsForResource per repository).
pub(super) async fn unmanaged(ctx: &AwsContext, region: &str) -> super::unmanaged::Found {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let ecr = ctx.ecr(region);
    let repositories = match repositories(ctx, region).await {
        Ok(repositories) => repositories,
        Err(e) => {
            errors.push(e);
            return (found, errors);
        }
    };
    let tagged = join_all(repositories.iter().map(|r| {
        let arn = r.repository_arn().unwrap_or_default().to_string();
        let ecr = &ecr;
        async move {
            send(
                ctx,
                Service::Ecr,
                ecr.list_tags_for_resource().resource_arn(arn).send(),
            )
            .await
        }
    }))
    .await;
    for (repository, tags) in repositories.iter().zip(tagged) {
        let name = repository.repository_name().unwrap_or_default();
        match tags {
            Ok(out) => {
                let tags = out.tags.unwrap_or_default();
                if Marked::from_tags(tags.into_iter().map(|t| (t.key, t.value)))
                    .stack
                    .is_none()
                {
                    found.push(drplan_core::live::Unmanaged {
                        kind: Kind::EcrRepository,
                        id: name.to_string(),
                        region: Some(region.to_string()),
                        within: None,
                    });
                }
            }
            Err(e) if error_code(&e) == Some("RepositoryNotFoundException") => {}
            Err(e) => errors.push(
                ReadError::new(TYPE, format!("{name}: {}", error_message(&e))).in_region(region),
            ),
        }
    }
    (found, errors)
}
