//! "No credentials" said as such: which sources the SDK tried and how to provide them,
//! instead of the credential chain's debug dump (an IMDS answer on a laptop).

use aws_credential_types::provider::error::CredentialsError;
use std::error::Error;

/// The user-facing message when `err`'s causes include a failure to load credentials.
pub fn missing_credentials_message(err: &(dyn Error + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<CredentialsError>().is_some() {
            return Some(message(
                std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()),
            ));
        }
        cur = e.source();
    }
    None
}

fn message(profile: Option<String>) -> String {
    let tried = "tried: environment variables (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), the shared \
                 config and credentials files (~/.aws/config, ~/.aws/credentials), web identity \
                 (AWS_WEB_IDENTITY_TOKEN_FILE), the ECS container endpoint and EC2 instance metadata";
    match profile {
        Some(p) => format!(
            "no AWS credentials found for profile `{p}` (AWS_PROFILE): the profile is not in ~/.aws/config or \
             ~/.aws/credentials, or it holds no credentials ({tried}); check the name (`aws configure \
             list-profiles`), or run `aws sso login --profile {p}` for an SSO profile"
        ),
        None => format!(
            "no AWS credentials found ({tried}); provide them with AWS_PROFILE=<profile> (and `aws sso login` for \
             SSO), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_profile_is_named() {
        let m = message(Some("prod-admin".into()));
        assert!(m.contains("profile `prod-admin`"), "{m}");
        assert!(m.contains("aws sso login --profile prod-admin"), "{m}");
        assert!(!message(None).contains("profile `"));
    }
}
