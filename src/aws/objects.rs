//! Small S3 object helpers shared by the state drplan keeps beside the lock (records
//! of creates in flight, drill records, drill node-group sizes).

use crate::apply::context::aws_error;
use anyhow::{Context, Result};
use aws_sdk_s3::Client;

/// Every key under `prefix`, all pages. `what` names the objects in errors.
pub async fn list_keys(
    s3: &Client,
    bucket: &str,
    prefix: &str,
    what: &'static str,
) -> Result<Vec<String>> {
    let mut keys = Vec::new();
    let mut token = None;
    loop {
        let out = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(aws_error(what))?;
        keys.extend(
            out.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
        match out.next_continuation_token() {
            Some(next) if out.is_truncated() == Some(true) => token = Some(next.to_string()),
            _ => break,
        }
    }
    Ok(keys)
}

/// The body of `key`, or None when it is gone (deleted since a listing).
pub async fn get_bytes(
    s3: &Client,
    bucket: &str,
    key: &str,
    what: &'static str,
) -> Result<Option<Vec<u8>>> {
    let out = match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
        Err(e) => return Err(aws_error(what)(e)),
    };
    let bytes = out
        .body
        .collect()
        .await
        .with_context(|| format!("reading s3://{bucket}/{key}"))?
        .into_bytes();
    Ok(Some(bytes.to_vec()))
}
