//! Reading the values of an environment's `secret` blocks (`SecretRef`) from SSM
//! Parameter Store and Secrets Manager, in each reference's own region, at plan and
//! apply time. The values go into the load as `VarInputs::secrets` and are never
//! printed or stored (the variables must be `sensitive`, the spec checks it).

use super::AwsContext;
use anyhow::{anyhow, Result};
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_types::region::Region;
use drplan_core::model::environment::{SecretRef, SecretStore};

/// (variable, value) for every reference, or one error naming every reference that
/// could not be read and why.
pub async fn read_all(aws: &AwsContext, refs: &[SecretRef]) -> Result<Vec<(String, String)>> {
    let reads = refs.iter().map(|r| async move { (r, read(aws, r).await) });
    let mut values = Vec::new();
    let mut failed = Vec::new();
    for (r, result) in futures::future::join_all(reads).await {
        match result {
            Ok(v) => values.push((r.variable.clone(), v)),
            Err(why) => failed.push(format!("variable `{}` from {r}: {why}", r.variable)),
        }
    }
    if failed.is_empty() {
        Ok(values)
    } else {
        Err(anyhow!(
            "cannot read {} secret(s), so nothing was planned:\n  {}",
            failed.len(),
            failed.join("\n  ")
        ))
    }
}

async fn read(aws: &AwsContext, r: &SecretRef) -> Result<String, String> {
    let config = aws.sdk_config_for(&r.region);
    let region = Region::new(r.region.clone());
    match r.store {
        SecretStore::SsmParameter => {
            let client = aws_sdk_ssm::Client::from_conf(
                aws_sdk_ssm::config::Builder::from(config)
                    .region(region)
                    .build(),
            );
            let out = client
                .get_parameter()
                .name(&r.id)
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| reason(&DisplayErrorContext(&e).to_string()))?;
            out.parameter()
                .and_then(|p| p.value())
                .map(str::to_string)
                .ok_or_else(|| "the parameter has no value".to_string())
        }
        SecretStore::SecretsManager => {
            let client = aws_sdk_secretsmanager::Client::from_conf(
                aws_sdk_secretsmanager::config::Builder::from(config)
                    .region(region)
                    .build(),
            );
            let out = client
                .get_secret_value()
                .secret_id(&r.id)
                .send()
                .await
                .map_err(|e| reason(&DisplayErrorContext(&e).to_string()))?;
            let text = out.secret_string().ok_or_else(|| {
                "the secret has no string value (binary secrets are not supported)".to_string()
            })?;
            match &r.json_key {
                None => Ok(text.to_string()),
                Some(key) => {
                    let json: serde_json::Value = serde_json::from_str(text)
                        .map_err(|_| format!("the secret is not JSON, so it has no key `{key}`"))?;
                    match json.get(key) {
                        Some(serde_json::Value::String(s)) => Ok(s.clone()),
                        Some(v) if !v.is_null() => Ok(v.to_string()),
                        _ => Err(format!("the secret's JSON has no key `{key}`")),
                    }
                }
            }
        }
    }
}

/// The cause of a failed read, short: not found, access denied, or the SDK's words.
/// Never the value (a failed read has none).
fn reason(error: &str) -> String {
    if error.contains("ParameterNotFound") || error.contains("ResourceNotFoundException") {
        "not found".into()
    } else if error.contains("AccessDenied") || error.contains("not authorized") {
        format!("access denied ({})", first_line(error))
    } else {
        first_line(error)
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).chars().take(300).collect()
}
