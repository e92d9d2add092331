//! Turning SDK errors into one-line messages for users: the service's error code and
//! message, never the request (which carries signed headers).

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::error::Error;

/// Turns an SDK error into one line a user can act on: operation, AWS error code and
/// message (the SDK's own Display is only "service error").
pub fn aws_error<E>(operation: &'static str) -> impl FnOnce(E) -> anyhow::Error
where
    E: Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    move |e| match (e.code(), e.message()) {
        (Some(code), Some(msg)) => anyhow::anyhow!("{operation}: {code}: {msg}"),
        (Some(code), None) => anyhow::anyhow!("{operation}: {code}"),
        _ => anyhow::anyhow!("{operation}: {}", DisplayErrorContext(&e)),
    }
}

pub fn error_message<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            match (e.code(), e.message()) {
                (Some(code), Some(msg)) => format!("{code}: {msg}"),
                (Some(code), None) => code.to_string(),
                _ => DisplayErrorContext(e).to_string(),
            }
        }
        SdkError::TimeoutError(_) => "request timed out".to_string(),
        SdkError::DispatchFailure(_) => match err
            .source()
            .and_then(super::credentials::missing_credentials_message)
        {
            Some(m) => m,
            None => format!("could not reach AWS: {}", DisplayErrorContext(err)),
        },
        _ => DisplayErrorContext(err).to_string(),
    }
}

/// The service error code, for callers that treat some codes as "not configured".
pub fn error_code<E, R>(err: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}
