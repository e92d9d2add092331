//! The lock's S3 requests: conditional puts and reads, each with short timeouts of
//! its own, and the server's clock captured from the answer.

use super::lease::Observed;
use super::LockInfo;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A lock request gives up after this: a lock bucket whose region is down fails the
/// apply in seconds instead of the minutes of a normal request's retries.
pub const LOCK_REQUEST_BOUND: Duration = Duration::from_secs(10);

/// Timeouts and retries of every lock request (layered over the client's).
pub fn fast() -> aws_sdk_s3::config::Builder {
    aws_sdk_s3::config::Builder::default()
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .read_timeout(Duration::from_secs(4))
                .operation_attempt_timeout(Duration::from_secs(4))
                .operation_timeout(LOCK_REQUEST_BOUND)
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(200)),
        )
}

#[derive(Debug)]
pub enum PutError {
    /// 412/409: the condition failed (or the object went away under `If-Match`).
    Conflict,
    /// No answer: timeouts, refused or dropped connections.
    Unreachable(String),
    Other(anyhow::Error),
}

impl PutError {
    pub fn into_anyhow(self, operation: &str) -> anyhow::Error {
        match self {
            PutError::Conflict => {
                anyhow::anyhow!("{operation}: the lock changed while it was read")
            }
            PutError::Unreachable(cause) => anyhow::anyhow!("{operation}: {cause}"),
            PutError::Other(e) => e,
        }
    }
}

fn classify<E>(operation: &'static str, e: SdkError<E, HttpResponse>) -> PutError
where
    E: std::error::Error
        + aws_smithy_types::error::metadata::ProvideErrorMetadata
        + Send
        + Sync
        + 'static,
{
    match &e {
        SdkError::TimeoutError(_) => PutError::Unreachable(format!(
            "{operation}: no answer within {}s",
            LOCK_REQUEST_BOUND.as_secs()
        )),
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            PutError::Unreachable(format!(
                "{operation}: {}",
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            ))
        }
        _ => {
            let missing_bucket = aws_smithy_types::error::metadata::ProvideErrorMetadata::code(&e)
                == Some("NoSuchBucket");
            let err = crate::apply::context::aws_error(operation)(e);
            if missing_bucket {
                // The first apply of a new stack: say what creates it.
                PutError::Other(err.context(
                    "the lock bucket does not exist: create it with `drplan bootstrap -e ENV` \
                     (versioned, encrypted, public access blocked), then apply again",
                ))
            } else {
                PutError::Other(err)
            }
        }
    }
}

pub enum PutCondition {
    /// `If-None-Match: *`: only if there is no lock.
    Absent,
    /// `If-Match: etag`: only if the lock is still exactly this object.
    Matches(String),
}

/// Writes the lock object under `condition`; returns its new ETag.
pub async fn put(
    s3: &Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    condition: PutCondition,
) -> Result<String, PutError> {
    let mut request = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/json")
        .body(ByteStream::from(body));
    request = match condition {
        PutCondition::Absent => request.if_none_match("*"),
        PutCondition::Matches(etag) => request.if_match(etag),
    };
    match request.customize().config_override(fast()).send().await {
        Ok(out) => Ok(out.e_tag().unwrap_or_default().to_string()),
        Err(e) => match e.raw_response().map(|r| r.status().as_u16()) {
            // 412: the condition failed. 409: a concurrent conditional write. 404:
            // `If-Match` on an object that is gone (released in between).
            Some(412) | Some(409) | Some(404) => Err(PutError::Conflict),
            _ => Err(classify("PutObject (apply lock)", e)),
        },
    }
}

/// The lock object, if there is one.
pub async fn read(s3: &Client, bucket: &str, key: &str) -> Result<Option<Observed>, PutError> {
    let date = ServerDate::default();
    let got = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .customize()
        .config_override(fast())
        .interceptor(date.clone())
        .send()
        .await;
    let out = match got {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
        Err(e) => return Err(classify("GetObject (apply lock)", e)),
    };
    let etag = out.e_tag().unwrap_or_default().to_string();
    let last_modified = out
        .last_modified()
        .and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()));
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| PutError::Unreachable(format!("reading the apply lock: {e}")))?
        .into_bytes();
    let (info, unreadable) = match serde_json::from_slice::<LockInfo>(&bytes) {
        Ok(info) => (Some(info), None),
        Err(e) => (
            None,
            Some(format!("s3://{bucket}/{key} is not a drplan lock: {e}")),
        ),
    };
    let now = date.get().unwrap_or_else(Utc::now);
    Ok(Some(Observed {
        info,
        etag,
        last_modified,
        now,
        unreadable,
    }))
}

/// Captures the HTTP `Date` of an answer: S3's clock, against which the object's
/// `LastModified` is compared.
#[derive(Clone, Debug, Default)]
struct ServerDate(Arc<Mutex<Option<DateTime<Utc>>>>);

impl ServerDate {
    fn get(&self) -> Option<DateTime<Utc>> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Intercept for ServerDate {
    fn name(&self) -> &'static str {
        "DrplanLockServerDate"
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(date) = context.response().headers().get("date") {
            if let Ok(t) = DateTime::parse_from_rfc2822(date) {
                *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(t.with_timezone(&Utc));
            }
        }
        Ok(())
    }
}
