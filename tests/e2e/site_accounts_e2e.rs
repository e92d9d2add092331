//! Issue 18, per-site credentials: a DR site kept in a second AWS account, reached by
//! assuming a role there. Apply makes the DR site's objects in that account (moto keeps
//! one state per account, by the access key of the assumed role), plans it again with
//! no change, and the guard refuses credentials of the wrong account before any read.

use crate::support::cli::{drplan, explain, stdout};
use crate::support::files::{write_project, TWO_SITES_TWO_NETWORKS};
use crate::support::moto::MotoServer;

const DR_ACCOUNT: &str = "210987654321";

fn spec() -> String {
    format!(
        r#"{TWO_SITES_TWO_NETWORKS}
bucket "backups" {{
  site = site.primary
  name = "accounts-backups-primary"
}}

bucket "backups_dr" {{
  site = site.dr
  name = "accounts-backups-dr"
}}
"#
    )
}

fn project(env: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write_project(dir.path(), &spec(), env);
    dir
}

/// Clients for the DR account: the role assumed straight through moto's STS.
async fn dr_account(moto: &MotoServer) -> aws_config::SdkConfig {
    let out = moto
        .sts()
        .assume_role()
        .role_arn(format!("arn:aws:iam::{DR_ACCOUNT}:role/drplan"))
        .role_session_name("test")
        .send()
        .await
        .expect("AssumeRole");
    let c = out.credentials().expect("credentials");
    let mut config =
        moto.sdk_config_with_credentials("us-east-1", c.access_key_id(), c.secret_access_key());
    config = config
        .to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(
                    c.access_key_id(),
                    c.secret_access_key(),
                    Some(c.session_token().to_string()),
                    None,
                    "assumed",
                ),
            ),
        )
        .build();
    config
}

async fn vpc_cidrs(ec2: &aws_sdk_ec2::Client) -> Vec<String> {
    ec2.describe_vpcs()
        .send()
        .await
        .expect("DescribeVpcs")
        .vpcs()
        .iter()
        .filter(|v| v.is_default() != Some(true))
        .filter_map(|v| v.cidr_block().map(str::to_string))
        .collect()
}

async fn bucket_names(s3: &aws_sdk_s3::Client) -> Vec<String> {
    s3.list_buckets()
        .send()
        .await
        .expect("ListBuckets")
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dr_site_in_a_second_account_is_applied_there_with_its_assumed_role() {
    let dir = project(&format!(
        "stack      = \"accounts\"\naccount_id = \"123456789012\"\n\n\
         site_account \"dr\" {{\n  account_id = \"{DR_ACCOUNT}\"\n  \
         role_arn   = \"arn:aws:iam::{DR_ACCOUNT}:role/drplan\"\n}}\n"
    ));
    let root = dir.path();
    let moto = MotoServer::start();

    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    // The DR site's network and bucket are in the DR account, the primary's in the
    // environment's; neither account holds the other's.
    let dr = dr_account(&moto).await;
    let dr_ec2 = aws_sdk_ec2::Client::new(&dr);
    let dr_s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&dr)
            .force_path_style(true)
            .build(),
    );
    let who = aws_sdk_sts::Client::new(&dr)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(
        who.account(),
        Some(DR_ACCOUNT),
        "moto answers as the DR account"
    );
    assert_eq!(vpc_cidrs(&dr_ec2).await, vec!["10.20.0.0/16".to_string()]);
    assert_eq!(
        vpc_cidrs(&moto.ec2("us-east-1")).await,
        Vec::<String>::new()
    );
    assert_eq!(
        vpc_cidrs(&moto.ec2("us-west-2")).await,
        vec!["10.10.0.0/16".to_string()]
    );
    assert_eq!(bucket_names(&dr_s3).await, vec!["accounts-backups-dr"]);
    assert_eq!(
        bucket_names(&moto.s3("us-east-1")).await,
        vec!["accounts-backups-primary"]
    );

    // Read back from both accounts: nothing to change.
    let again = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", explain(&again));
    assert!(
        stdout(&again).starts_with("No changes."),
        "{}",
        stdout(&again)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_account_the_credentials_do_not_reach_is_refused_before_any_read() {
    // No role: the site is reached with the environment's credentials, which belong
    // to 123456789012, not to the account the site names.
    let dir = project(&format!(
        "stack      = \"accounts\"\naccount_id = \"123456789012\"\n\n\
         site_account \"dr\" {{\n  account_id = \"{DR_ACCOUNT}\"\n}}\n"
    ));
    let moto = MotoServer::start();
    let out = drplan(&moto, dir.path(), &["plan", "-e", "prod"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "site `dr` is guarded to account {DR_ACCOUNT} (site_account), but its credentials \
             belong to account 123456789012"
        )),
        "{err}"
    );
    let apply = drplan(
        &moto,
        dir.path(),
        &["apply", "-e", "prod", "--auto-approve"],
    );
    assert_eq!(apply.status.code(), Some(1), "{}", explain(&apply));
    assert_eq!(
        vpc_cidrs(&moto.ec2("us-east-1")).await,
        Vec::<String>::new()
    );
    assert_eq!(
        vpc_cidrs(&moto.ec2("us-west-2")).await,
        Vec::<String>::new()
    );
}
