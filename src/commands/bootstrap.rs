//! `drplan bootstrap -e ENV`: creates what drplan itself needs in the account before
//! the first apply — the lock bucket of the environment's `lock` block, versioned,
//! encrypted (SSE-S3) and with every public access blocked. Idempotent: on an existing
//! bucket it only makes sure of those three settings.

use super::exit;
use super::output::runtime;
use super::validate::load_or_report;
use crate::apply::context::aws_error;
use crate::aws::AwsContext;
use crate::cli::BootstrapArgs;
use anyhow::{anyhow, bail, Result};
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};
use aws_sdk_s3::Client;
use std::path::Path;

pub fn run(root: &Path, args: &BootstrapArgs) -> Result<i32> {
    let Some(project) = load_or_report(root, &args.env.env) else {
        return Ok(exit::ERROR);
    };
    let env = &project.environment;
    let lock = env.lock.clone().ok_or_else(|| {
        anyhow!(
            "environment `{}` has no lock block: add lock {{ bucket = \"...\"  region = \"...\" }} (keep it in the DR \
             region, so a failover can take the lock with the primary region down)",
            args.env.env
        )
    })?;
    runtime()?.block_on(async {
        let aws = AwsContext::for_project(&project).await;
        // The account guard first: nothing is created in the wrong account.
        aws.check_account(env.account_id.as_deref()).await?;
        let s3 = aws.s3(&lock.region);
        let created = ensure_bucket(&s3, &lock.bucket, &lock.region).await?;
        harden(&s3, &lock.bucket).await?;
        let what = if created { "Created" } else { "Checked" };
        eprintln!(
            "{what} the lock bucket s3://{} in {}: versioning on, SSE-S3 encryption, public access blocked.",
            lock.bucket, lock.region
        );
        Ok(exit::OK)
    })
}

/// Creates the bucket unless it exists; `true` when it was created.
async fn ensure_bucket(s3: &Client, bucket: &str, region: &str) -> Result<bool> {
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => return Ok(false),
        Err(e) => match e.raw_response().map(|r| r.status().as_u16()) {
            Some(404) => {}
            Some(403) => bail!(
                "the lock bucket {bucket} exists but these credentials cannot use it (another account's bucket? \
                 S3 names are global): choose another name in the environment's lock block"
            ),
            _ => return Err(aws_error("HeadBucket (lock bucket)")(e)),
        },
    }
    let mut create = s3.create_bucket().bucket(bucket);
    if region != "us-east-1" {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    match create.send().await {
        Ok(_) => Ok(true),
        // A concurrent bootstrap, or a retry after a lost answer, made it: ours.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_bucket_already_owned_by_you()) =>
        {
            Ok(false)
        }
        Err(e) => Err(aws_error("CreateBucket (lock bucket)")(e)),
    }
}

async fn harden(s3: &Client, bucket: &str) -> Result<()> {
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .map_err(aws_error("PutBucketVersioning (lock bucket)"))?;
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()
                .map_err(|e| anyhow!("encryption rule: {e}"))?,
        )
        .build();
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .map_err(|e| anyhow!("encryption configuration: {e}"))?,
        )
        .send()
        .await
        .map_err(aws_error("PutBucketEncryption (lock bucket)"))?;
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(aws_error("PutPublicAccessBlock (lock bucket)"))?;
    Ok(())
}
