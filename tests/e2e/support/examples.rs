//! The examples keep their sensitive values out of git: their environment files name
//! where each lives (`secret` blocks: SSM Parameter Store, Secrets Manager, in the DR
//! region), and plan and apply read it there. Tests put the demo values in moto first
//! ([`seed_secrets`]) and load a project in-process with the same values
//! ([`load`]), as the CLI does after reading them.

use super::moto::MotoServer;
use drplan_core::model::environment::VarInputs;
use drplan_core::model::Project;
use std::path::Path;

/// The demo value of every sensitive variable the examples read from a secret store.
pub const DEMO_SECRET: &str = "demo-only-not-a-secret";

/// (variable, SSM parameter) of the examples' `ssm_parameter` secrets.
const SSM: [(&str, &str); 3] = [
    ("postgres_password", "/link-app/prod/postgres-password"),
    ("postgres_password", "/link-app/staging/postgres-password"),
    ("neo4j_password", "/lanka-platform/staging/neo4j-password"),
];

/// (variable, secret name, JSON key) of the examples' Secrets Manager secrets.
const SECRETS_MANAGER: [(&str, &str, &str); 1] =
    [("neo4j_password", "lanka-platform/prod/neo4j", "password")];

/// The secret stores' region in every example environment (the DR site's).
const REGION: &str = "us-east-1";

/// Puts every example secret into `moto` (idempotent).
pub async fn seed_secrets(moto: &MotoServer) {
    let config = moto.sdk_config(REGION);
    let ssm = aws_sdk_ssm::Client::new(&config);
    for (_, name) in SSM {
        ssm.put_parameter()
            .name(name)
            .value(DEMO_SECRET)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutParameter {name}: {e}"));
    }
    let sm = aws_sdk_secretsmanager::Client::new(&config);
    for (_, name, key) in SECRETS_MANAGER {
        let value = serde_json::json!({ key: DEMO_SECRET }).to_string();
        if sm
            .create_secret()
            .name(name)
            .secret_string(&value)
            .send()
            .await
            .is_err()
        {
            sm.put_secret_value()
                .secret_id(name)
                .secret_string(&value)
                .send()
                .await
                .unwrap_or_else(|e| panic!("PutSecretValue {name}: {e}"));
        }
    }
}

/// The project at `root` for `env`, with the demo values of the secrets its
/// environment names (the values [`seed_secrets`] stores).
pub fn load(root: &Path, env: &str) -> Project {
    let secrets = SSM
        .iter()
        .map(|(var, _)| *var)
        .chain(SECRETS_MANAGER.iter().map(|(var, _, _)| *var))
        .map(|var| (var.to_string(), DEMO_SECRET.to_string()))
        .collect();
    let vars = VarInputs {
        secrets,
        ..VarInputs::default()
    };
    drplan_core::spec::load_project_with(root, env, &vars)
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)))
}
