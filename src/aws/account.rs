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
    #[error(
        "site `{site}` is guarded to account {expected} (site_account), but its credentials \
         belong to account {actual}; correct the site's role_arn or profile, or its account_id"
    )]
    SiteMismatch {
        site: String,
        expected: String,
        actual: String,
    },
    #[error("could not reach site `{site}`'s account {expected} (site_account): {cause}")]
    SiteLookup {
        site: String,
        expected: String,
        cause: String,
    },
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
    /// each site account's credentials against its `account_id` (a role assumed here
    /// for the first time), and returns who the environment's credentials are.
    /// Without an `account_id` nothing is checked for the environment and no request
    /// is made for it (`None`).
    pub async fn check_account(
        &self,
        expected: Option<&str>,
    ) -> Result<Option<CallerIdentity>, AccountGuardError> {
        for (region, site) in self.site_configs() {
            let sts = aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(&site.config)
                    .region(aws_config::Region::new(region.to_string()))
                    .interceptor(self.api_call_counter().interceptor(Service::Sts))
                    .build(),
            );
            let _permit = self.permit(Service::Sts).await;
            let out = sts.get_caller_identity().send().await.map_err(|e| {
                AccountGuardError::SiteLookup {
                    site: site.site.clone(),
                    expected: site.account_id.clone(),
                    cause: error_message(&e),
                }
            })?;
            let actual = out.account.unwrap_or_default();
            if actual != site.account_id {
                return Err(AccountGuardError::SiteMismatch {
                    site: site.site.clone(),
                    expected: site.account_id.clone(),
                    actual,
                });
            }
        }
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
