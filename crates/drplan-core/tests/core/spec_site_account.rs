//! Issue 18, `site_account`: the environment block naming a site's account and how to
//! reach it. What a user can write wrong is an error with its place, never a silent
//! choice (a repeated block, an unknown site, a role in another account).

use crate::spec_support::*;
use drplan_core::model::environment::SiteCredentials;

fn env_with(block: &str) -> String {
    format!("{ENV}account_id = \"123456789012\"\n\n{block}")
}

fn load_env(env: &str) -> Result<drplan_core::model::Project, String> {
    load(&[("specs/main.hcl", BASE), ("environments/test.hcl", env)])
        .map_err(|d| d.render(false, 120))
}

#[test]
fn a_site_account_with_a_role_is_the_sites_credentials() {
    let p = load_env(&env_with(
        "site_account \"dr\" {\n  account_id = \"210987654321\"\n  role_arn   = \"arn:aws:iam::210987654321:role/drplan\"\n}\n",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let dr = &p.environment.site_accounts["dr"];
    assert_eq!(dr.account_id, "210987654321");
    assert!(
        matches!(&dr.credentials, SiteCredentials::AssumeRole { role_arn, session_name: None, .. }
            if role_arn == "arn:aws:iam::210987654321:role/drplan"),
        "{dr:?}"
    );
}

#[test]
fn a_site_account_given_twice_is_an_error_not_the_last_one() {
    let block = "site_account \"dr\" {\n  account_id = \"210987654321\"\n}\n";
    let err = load_env(&env_with(&format!("{block}{block}"))).expect_err("refused");
    assert!(
        err.contains("two site_account blocks for site `dr`"),
        "{err}"
    );
    assert!(err.contains("environments/test.hcl:"), "{err}");
}

#[test]
fn a_site_account_for_no_site_a_foreign_role_or_two_ways_in_are_errors() {
    let err = load_env(&env_with(
        "site_account \"dx\" {\n  account_id = \"210987654321\"\n}\n",
    ))
    .expect_err("refused");
    assert!(
        err.contains("site_account \"dx\" names no site of the spec"),
        "{err}"
    );

    let err = load_env(&env_with(
        "site_account \"dr\" {\n  account_id = \"210987654321\"\n  role_arn   = \"arn:aws:iam::111111111111:role/drplan\"\n}\n",
    ))
    .expect_err("refused");
    assert!(
        err.contains("is not the ARN of a role in account 210987654321"),
        "{err}"
    );

    let err = load_env(&env_with(
        "site_account \"dr\" {\n  account_id = \"210987654321\"\n  role_arn   = \"arn:aws:iam::210987654321:role/drplan\"\n  profile    = \"dr\"\n}\n",
    ))
    .expect_err("refused");
    assert!(
        err.contains("a site is reached one way: a role to assume or a profile"),
        "{err}"
    );
}
