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

/// Who the credentials are (sts:GetCallerIdentity).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerIdentity {
    pub arn: String,
    pub account: String,
}

impl std::fmt::Display for CallerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (account {})", self.arn, self.account)
    }
}

impl AwsContext {
    /// Who the credentials belong to.
    pub async fn caller_identity(&self) -> Result<CallerIdentity, AccountGuardError> {
        let _permit = self.permit(Service::Sts).await;
        let out = self
            .sts()
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AccountGuardError::Lookup(error_message(&e)))?;
        let account = out.account.ok_or_else(|| {
            AccountGuardError::Lookup("the response named no account".to_string())
        })?;
        Ok(CallerIdentity {
            arn: out.arn.unwrap_or_default(),
            account,
        })
    }

    /// The account the credentials belong to.
    pub async fn caller_account(&self) -> Result<String, AccountGuardError> {
        Ok(self.caller_identity().await?.account)
    }

    /// Checks the credentials' account against the environment's `account_id`, and
    /// returns who they are. Without an `account_id` there is nothing to check and no
    /// request is made (`None`).
    pub async fn check_account(
        &self,
        expected: Option<&str>,
    ) -> Result<Option<CallerIdentity>, AccountGuardError> {
        let Some(expected) = expected else {
            return Ok(None);
        };
        let caller = self.caller_identity().await?;
        if caller.account == expected {
            Ok(Some(caller))
        } else {
            Err(AccountGuardError::Mismatch {
                expected: expected.to_string(),
                actual: caller.account,
            })
        }
    }
}
