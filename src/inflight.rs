//! Write-ahead records of creates in flight, kept next to the apply lock.
//!
//! Some objects are made by one call and marked by another (an S3 bucket, a Route53
//! hosted zone or health check). Between the two the object exists unmarked; an apply
//! that stops there (killed, Ctrl-C, a tagging call refused) leaves an object the
//! next plan would refuse as "not managed by this stack". So apply writes a record
//! before such a create and deletes it once the marks are set; the next plan reads
//! the records ([`read`]) and adopts the unmarked object a record names, instead of
//! refusing it. An unmarked object no record names is still refused.
//!
//! One S3 object per create, `drplan/inflight/<stack>/<address>.json` in the lock
//! bucket: creates run concurrently, and writing or deleting an object of its own
//! needs no read-modify-write.

use crate::apply::context::aws_error;
use anyhow::{Context, Result};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use chrono::{DateTime, Utc};
use drplan_core::address::Address;
use drplan_core::live::InflightCreate;
use serde::{Deserialize, Serialize};

/// Where the records of `stack` live in the lock bucket.
pub fn prefix(stack: &str) -> String {
    format!("drplan/inflight/{stack}/")
}

fn key(stack: &str, address: &Address) -> String {
    format!("{}{address}.json", prefix(stack))
}

/// The stored form: the record and, for a person looking at the bucket, who wrote it when.
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    create: InflightCreate,
    started_at: DateTime<Utc>,
    pid: u32,
}

/// Records that `create` is about to be made. Written before the create call.
pub async fn write(s3: &Client, bucket: &str, stack: &str, create: &InflightCreate) -> Result<()> {
    let stored = Stored {
        create: create.clone(),
        started_at: Utc::now(),
        pid: std::process::id(),
    };
    let body = serde_json::to_vec_pretty(&stored)?;
    s3.put_object()
        .bucket(bucket)
        .key(key(stack, &create.address))
        .content_type("application/json")
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(aws_error("PutObject (create in flight)"))?;
    Ok(())
}

/// Forgets the record of `address`: its object is marked.
pub async fn clear(s3: &Client, bucket: &str, stack: &str, address: &Address) -> Result<()> {
    s3.delete_object()
        .bucket(bucket)
        .key(key(stack, address))
        .send()
        .await
        .map_err(aws_error("DeleteObject (create in flight)"))?;
    Ok(())
}

/// Every record of `stack`. Usually none: one list request.
pub async fn read(s3: &Client, bucket: &str, stack: &str) -> Result<Vec<InflightCreate>> {
    let keys = crate::aws::objects::list_keys(
        s3,
        bucket,
        &prefix(stack),
        "ListObjectsV2 (creates in flight)",
    )
    .await?;
    let mut records = Vec::new();
    for key in keys {
        // None: cleared since the list, its create finished.
        let Some(bytes) =
            crate::aws::objects::get_bytes(s3, bucket, &key, "GetObject (create in flight)")
                .await?
        else {
            continue;
        };
        let stored: Stored = serde_json::from_slice(&bytes)
            .with_context(|| format!("s3://{bucket}/{key} is not a drplan record"))?;
        records.push(stored.create);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use drplan_core::resource::Kind;

    #[test]
    fn a_record_is_keyed_by_stack_and_address_and_round_trips() {
        assert_eq!(
            key("lanka", &Address::new("bucket.backups")),
            "drplan/inflight/lanka/bucket.backups.json"
        );
        let stored = Stored {
            create: InflightCreate {
                address: Address::new("zone.main"),
                kind: Kind::DnsZone,
                identity: "example.com.".into(),
            },
            started_at: Utc::now(),
            pid: 7,
        };
        let json = serde_json::to_vec(&stored).unwrap_or_default();
        let back: Stored = serde_json::from_slice(&json).expect("round trip");
        assert_eq!(back.create, stored.create);
    }
}
