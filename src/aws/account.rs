//! The account guard: an environment that names its AWS account refuses to plan or
//! apply with credentials for any other account (the classic "applied prod to the
//! staging account" mistake).

use super::error::error_message;
use super::{AwsContext, Service};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountGuardError {
    #[error(
        "the AWS credentials in use belong to account {actual}, but this environment is \
         guarded to account {expected}; switch credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID) \
         or correct `account_id` in the environment"
    )]
    Mismatch { expected: String, actual: String },
    #[error("could not determine the AWS account (sts:GetCallerIdentity): {0}")]
    Lookup(String),
}

impl AwsContext {
    /// The account the credentials belong to.
    pub async fn caller_account(&self) -> Result<String, AccountGuardError> {
        let _permit = self.permit(Service::Sts).await;
        let out = self
            .sts()
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AccountGuardError::Lookup(error_message(&e)))?;
        out.account
            .ok_or_else(|| AccountGuardError::Lookup("the response named no account".to_string()))
    }

    /// Checks the credentials' account against the environment's `account_id`.
    /// Without an `account_id` there is nothing to check and no request is made.
    pub async fn check_account(&self, expected: Option<&str>) -> Result<(), AccountGuardError> {
        let Some(expected) = expected else {
            return Ok(());
        };
        let actual = self.caller_account().await?;
        if actual == expected {
            Ok(())
        } else {
            Err(AccountGuardError::Mismatch {
                expected: expected.to_string(),
                actual,
            })
        }
    }
}
