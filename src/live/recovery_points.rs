//! Reads the recovery points the backup Jobs record (`drplan_core::objectives::
//! recovery_points`): one GetObject per (policy, bucket, kind), all at once, however
//! long the backup history. A region whose S3 did not answer the probe is not tried.

use crate::apply::context::aws_error;
use crate::aws::{AwsContext, Service};
use drplan_core::live::Unreachable;
use drplan_core::model::Project;
use drplan_core::objectives::recovery_points::{places, Found, Place, RecoveryPoint};
use futures::future::join_all;

/// What lies at every place `project` keeps recovery points.
pub async fn read(
    project: &Project,
    aws: &AwsContext,
    unreachable: &[Unreachable],
) -> Vec<(Place, Found)> {
    let reads = places(project).into_iter().map(|place| async move {
        let lost = unreachable.iter().find(|u| {
            u.cluster.is_none()
                && u.service == Service::S3.name()
                && u.region.as_deref() == Some(place.region.as_str())
        });
        let found = match lost {
            Some(u) => Found::NotRead(format!("not tried: {}", u.reason())),
            None => read_one(aws, &place).await,
        };
        (place, found)
    });
    join_all(reads).await
}

async fn read_one(aws: &AwsContext, place: &Place) -> Found {
    let s3 = aws.s3(&place.region);
    let _permit = aws.permit(Service::S3).await;
    let out = s3
        .get_object()
        .bucket(&place.bucket_name)
        .key(&place.key)
        .send()
        .await;
    let out = match out {
        Ok(out) => out,
        Err(e) => {
            let code = e.as_service_error().and_then(|s| {
                use aws_sdk_s3::error::ProvideErrorMetadata;
                s.code().map(str::to_string)
            });
            return match code.as_deref() {
                // No backup yet, or no bucket yet (the plan creates it).
                Some("NoSuchKey") | Some("NoSuchBucket") => Found::Absent,
                _ => Found::NotRead(format!("{:#}", aws_error("GetObject")(e))),
            };
        }
    };
    let bytes = match out.body.collect().await {
        Ok(b) => b.into_bytes(),
        Err(e) => return Found::NotRead(format!("reading the body: {e}")),
    };
    match serde_json::from_slice::<RecoveryPoint>(&bytes) {
        Ok(point) => Found::Point(point),
        Err(e) => Found::NotRead(format!(
            "s3://{}/{} is not a recovery point drplan can read: {e}",
            place.bucket_name, place.key
        )),
    }
}
