//! `environments/<env>.hcl`: stack, account guard, active site, variable values, lock
//! and cluster access. Not a spec: only these blocks and attributes.

use super::body::{self, Schema};
use super::diagnostic::{Diagnostics, SpecDiagnostic};
use super::duration::{parse_duration, DURATION_HELP};
use super::files::ParsedFile;
use super::scope::Scope;
use crate::model::environment::DEFAULT_LOCK_LEASE;
use crate::model::environment::{SecretRef, SecretStore};
use crate::model::environment::{SiteAccount, SiteCredentials};
use crate::model::{ClusterAccess, LockSettings};
use hcl::Value;
use std::collections::BTreeMap;
use std::ops::Range;

const TOP: Schema = Schema::new(
    &["stack", "account_id", "active_site", "extends"],
    &[
        "variables",
        "lock",
        "cluster_access",
        "secret",
        "site_account",
    ],
);
const SITE_ACCOUNT: Schema = Schema::new(
    &[
        "account_id",
        "role_arn",
        "session_name",
        "external_id",
        "profile",
    ],
    &[],
);
const SECRET: Schema = Schema::new(
    &["ssm_parameter", "secrets_manager", "region", "json_key"],
    &[],
);
const LOCK: Schema = Schema::new(&["bucket", "region", "key", "lease"], &[]);
const ACCESS: Schema = Schema::new(&["kubeconfig", "context"], &[]);

/// A variable's value as given: by the environment file, a `--var-file`, `--var` or
/// `DRPLAN_VAR_<name>` (`spec::vars`).
#[derive(Clone, Debug)]
pub struct EnvVar {
    pub value: Value,
    /// Span of the name in `file`.
    pub span: Range<usize>,
    /// Which file of the load's variable sources: 0 is the environment file.
    pub file: usize,
    /// Given as text on the command line or in the process environment: taken as a
    /// string for a `string` variable and parsed as an HCL expression otherwise, as
    /// Terraform takes `-var` and `TF_VAR_`.
    pub raw: bool,
}

/// The environment file as written, before it is checked against the spec.
#[derive(Default)]
pub struct EnvSettings {
    pub stack: Option<String>,
    pub account_id: Option<String>,
    pub active_site: Option<(String, Range<usize>)>,
    /// Which variable source (`spec::vars`) holds `active_site`: 0, or an environment
    /// it `extends` (`spec::extends`).
    pub active_site_file: usize,
    /// `extends = "<env>"`: the environment this one overrides, and the value's span.
    pub extends: Option<(String, Range<usize>)>,
    /// name -> value, with the environment file's values overridden by the
    /// command line's (`spec::vars`).
    pub variables: BTreeMap<String, EnvVar>,
    pub lock: Option<LockSettings>,
    /// cluster label -> (access, span of the label)
    pub cluster_access: BTreeMap<String, (ClusterAccess, Range<usize>)>,
    /// cluster label -> which variable source holds its `cluster_access` block.
    pub cluster_access_file: BTreeMap<String, usize>,
    /// variable -> where its value lives (`secret "<variable>" { ... }`), the span of
    /// the block's label and which variable source holds the block.
    pub secrets: BTreeMap<String, (SecretRef, Range<usize>, usize)>,
    /// site label -> (account, span of the label, which variable source holds it).
    pub site_accounts: BTreeMap<String, (SiteAccount, Range<usize>, usize)>,
}

pub fn decode(file: &ParsedFile, scope: &Scope, diags: &mut Diagnostics) -> EnvSettings {
    let src = &file.source;
    let ctx = scope.functions_only();
    let what = format!("environment file {}", src.path);
    let mut top = body::read_body(src, &file.body, 0..0, what, &TOP, &[], scope, &ctx, diags);
    let extends = top
        .string(diags, "extends")
        .map(|name| (name, top.span("extends")));
    // An environment that extends another may take its stack from there.
    let stack = match extends {
        Some(_) => top.string(diags, "stack"),
        None => top.required_string(
            diags,
            "stack",
            "name the stack, e.g. stack = \"my-platform\"",
        ),
    };
    let mut out = EnvSettings {
        stack,
        extends,
        account_id: top.string(diags, "account_id"),
        ..EnvSettings::default()
    };
    if let Some(stack) = &out.stack {
        if stack.is_empty()
            || !stack
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            top.invalid(
                diags,
                "drplan::invalid_value",
                "stack",
                format!("stack `{stack}` is not a valid name"),
                "use letters, digits, `-` and `_`",
            );
            out.stack = None;
        }
    }
    if let Some(id) = &out.account_id {
        if !is_account_id(id) {
            top.invalid(
                diags,
                "drplan::invalid_value",
                "account_id",
                format!("`{id}` is not an AWS account id"),
                "an account id is 12 digits",
            );
        }
    }
    if let Some(s) = top.string(diags, "active_site") {
        out.active_site = Some((s, top.span("active_site")));
    }
    // A repeated `variables` or `lock` block is reported (and skipped) by `read_body`.
    for block in top.blocks.clone() {
        let header = body::block_header(block);
        match block.ident.as_str() {
            "variables" => {
                variable_values(file, &block.body, 0, scope, diags, &mut out.variables);
                for nested in block.body.blocks() {
                    diags.push(
                        SpecDiagnostic::new(
                            "drplan::unknown_block",
                            format!("`variables` has no block `{}`", nested.ident.as_str()),
                        )
                        .at(src, body::block_header(nested), "unexpected block")
                        .help("write variable values as attributes: name = value"),
                    );
                }
            }
            "lock" => {
                let mut b = body::read(src, block, &LOCK, scope, &ctx, diags);
                let bucket =
                    b.required_string(diags, "bucket", "the S3 bucket holding the lock object");
                let region = b.required_string(diags, "region", "the bucket's region");
                let key = b.string(diags, "key");
                let lease = match b.string(diags, "lease") {
                    None => Some(DEFAULT_LOCK_LEASE),
                    Some(text) => match parse_duration(&text) {
                        Ok(d) if d.as_secs() >= 1 => Some(d),
                        Ok(_) => {
                            b.invalid(
                                diags,
                                "drplan::invalid_value",
                                "lease",
                                "a lock lease of 0s would lapse at once".into(),
                                DURATION_HELP,
                            );
                            None
                        }
                        Err(e) => {
                            b.invalid(diags, "drplan::invalid_value", "lease", e, DURATION_HELP);
                            None
                        }
                    },
                };
                if let (Some(bucket), Some(region), Some(lease)) = (bucket, region, lease) {
                    out.lock = Some(LockSettings {
                        bucket,
                        region,
                        key,
                        lease,
                    });
                }
            }
            "secret" => {
                let Some(label) = block.labels.first() else {
                    diags.push(
                        SpecDiagnostic::new(
                            "drplan::missing_label",
                            "a secret block needs the variable's name",
                        )
                        .at(src, header, "no label")
                        .help("write secret \"db_password\" { ssm_parameter = \"/shop/prod/db\"  region = \"us-east-1\" }"),
                    );
                    continue;
                };
                let variable = label.as_str().to_string();
                let span = hcl_edit::Span::span(label).unwrap_or(header.clone());
                let mut b = body::read(src, block, &SECRET, scope, &ctx, diags);
                let ssm = b.string(diags, "ssm_parameter");
                let sm = b.string(diags, "secrets_manager");
                let region = b.required_string(
                    diags,
                    "region",
                    "the region to read it from: one that survives the outage you plan for",
                );
                let json_key = b.string(diags, "json_key");
                let (store, id) = match (ssm, sm) {
                    (Some(id), None) => (SecretStore::SsmParameter, id),
                    (None, Some(id)) => (SecretStore::SecretsManager, id),
                    (Some(_), Some(_)) => {
                        b.invalid(
                            diags,
                            "drplan::invalid_value",
                            "secrets_manager",
                            "a secret comes from one store: ssm_parameter or secrets_manager"
                                .into(),
                            "keep one of the two",
                        );
                        continue;
                    }
                    (None, None) => {
                        b.missing(
                            diags,
                            "ssm_parameter",
                            "name the SSM parameter (ssm_parameter = \"/path\") or the Secrets Manager secret (secrets_manager = \"name\")",
                        );
                        continue;
                    }
                };
                if json_key.is_some() && store == SecretStore::SsmParameter {
                    b.invalid(
                        diags,
                        "drplan::invalid_value",
                        "json_key",
                        "json_key applies to Secrets Manager secrets".into(),
                        "remove json_key, or read the secret from Secrets Manager",
                    );
                    continue;
                }
                if out.secrets.contains_key(&variable) {
                    diags.push(
                        SpecDiagnostic::new(
                            "drplan::duplicate",
                            format!("two secret blocks for variable `{variable}`"),
                        )
                        .at(src, span, "second one")
                        .help("a variable takes its value from one `secret` block"),
                    );
                    continue;
                }
                let Some(region) = region else { continue };
                out.secrets.insert(
                    variable.clone(),
                    (
                        SecretRef {
                            variable,
                            store,
                            id,
                            region,
                            json_key,
                        },
                        span,
                        0,
                    ),
                );
            }
            "site_account" => site_account(file, block, scope, diags, &mut out),
            "cluster_access" => {
                let Some(label) = block.labels.first() else {
                    diags.push(
                        SpecDiagnostic::new(
                            "drplan::missing_label",
                            "cluster_access needs the cluster block's label",
                        )
                        .at(src, header, "no label")
                        .help("write cluster_access \"primary\" { ... }"),
                    );
                    continue;
                };
                let mut b = body::read(src, block, &ACCESS, scope, &ctx, diags);
                let path = b.string(diags, "kubeconfig");
                let access = match b.string(diags, "context") {
                    Some(context) => ClusterAccess::Kubeconfig { path, context },
                    None if path.is_some() => {
                        b.missing(diags, "context", "name the kubeconfig context to use");
                        continue;
                    }
                    None => ClusterAccess::Eks,
                };
                out.cluster_access_file
                    .insert(label.as_str().to_string(), 0);
                out.cluster_access.insert(
                    label.as_str().to_string(),
                    (access, hcl_edit::Span::span(label).unwrap_or(header)),
                );
            }
            _ => {}
        }
    }
    for (name, (_, span, _)) in &out.secrets {
        if out.variables.contains_key(name) {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::duplicate",
                    format!("variable `{name}` is set in `variables` and by a `secret` block"),
                )
                .at(src, span.clone(), "secret block")
                .help("keep one: the value in git, or the reference to the secret store"),
            );
        }
    }
    out
}

fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.chars().all(|c| c.is_ascii_digit())
}

/// `site_account "<site>" { account_id = "..."  role_arn = "..." }` (or `profile`).
fn site_account(
    file: &ParsedFile,
    block: &hcl_edit::structure::Block,
    scope: &Scope,
    diags: &mut Diagnostics,
    out: &mut EnvSettings,
) {
    let src = &file.source;
    let ctx = scope.functions_only();
    let header = body::block_header(block);
    let Some(label) = block.labels.first() else {
        diags.push(
            SpecDiagnostic::new(
                "drplan::missing_label",
                "site_account needs the site block's label",
            )
            .at(src, header, "no label")
            .help("write site_account \"dr\" { account_id = \"210987654321\"  role_arn = \"arn:aws:iam::210987654321:role/drplan\" }"),
        );
        return;
    };
    let site = label.as_str().to_string();
    let span = hcl_edit::Span::span(label).unwrap_or(header);
    let mut b = body::read(src, block, &SITE_ACCOUNT, scope, &ctx, diags);
    let account_id =
        b.required_string(diags, "account_id", "the site's AWS account id (12 digits)");
    let role_arn = b.string(diags, "role_arn");
    let session_name = b.string(diags, "session_name");
    let external_id = b.string(diags, "external_id");
    let profile = b.string(diags, "profile");
    let Some(account_id) = account_id else { return };
    if !is_account_id(&account_id) {
        b.invalid(
            diags,
            "drplan::invalid_value",
            "account_id",
            format!("`{account_id}` is not an AWS account id"),
            "an account id is 12 digits",
        );
        return;
    }
    if role_arn.is_none() && (session_name.is_some() || external_id.is_some()) {
        b.invalid(
            diags,
            "drplan::invalid_value",
            if session_name.is_some() {
                "session_name"
            } else {
                "external_id"
            },
            "session_name and external_id go with role_arn".into(),
            "add the role to assume, or remove them",
        );
        return;
    }
    let credentials = match (role_arn, profile) {
        (Some(_), Some(_)) => {
            b.invalid(
                diags,
                "drplan::invalid_value",
                "profile",
                "a site is reached one way: a role to assume or a profile".into(),
                "keep role_arn or profile",
            );
            return;
        }
        (Some(role_arn), None) => {
            let in_account = role_arn.split(':').nth(4).is_some_and(|a| a == account_id);
            if !role_arn.starts_with("arn:") || !role_arn.contains(":role/") || !in_account {
                b.invalid(
                    diags,
                    "drplan::invalid_value",
                    "role_arn",
                    format!("`{role_arn}` is not the ARN of a role in account {account_id}"),
                    "write arn:aws:iam::<account_id>:role/<name>",
                );
                return;
            }
            SiteCredentials::AssumeRole {
                role_arn,
                session_name,
                external_id,
            }
        }
        (None, Some(profile)) => SiteCredentials::Profile(profile),
        (None, None) => SiteCredentials::Default,
    };
    if out.site_accounts.contains_key(&site) {
        diags.push(
            SpecDiagnostic::new(
                "drplan::duplicate",
                format!("two site_account blocks for site `{site}`"),
            )
            .at(src, span, "second one")
            .help("a site lives in one account: keep one block"),
        );
        return;
    }
    out.site_accounts.insert(
        site,
        (
            SiteAccount {
                account_id,
                credentials,
            },
            span,
            0,
        ),
    );
}

/// The `name = value` attributes of `body` (a `variables` block, or a whole
/// `--var-file`) into `out`, overriding what is there: `file` is the body's index among
/// the load's variable sources.
pub fn variable_values(
    file: &ParsedFile,
    body: &hcl_edit::structure::Body,
    index: usize,
    scope: &Scope,
    diags: &mut Diagnostics,
    out: &mut BTreeMap<String, EnvVar>,
) {
    let src = &file.source;
    let ctx = scope.functions_only();
    for attr in body.attributes() {
        let name = attr.key.as_str().to_string();
        let span = hcl_edit::Span::span(&attr.key).unwrap_or(0..0);
        if !scope.check_references(src, &attr.value, diags) {
            continue;
        }
        match body::evaluate(&attr.value, &ctx) {
            Ok(value) => {
                out.insert(
                    name,
                    EnvVar {
                        value,
                        span,
                        file: index,
                        raw: false,
                    },
                );
            }
            Err(msg) => diags.push(
                SpecDiagnostic::new(
                    "drplan::eval",
                    format!("cannot evaluate variable `{name}`: {msg}"),
                )
                .at(
                    src,
                    hcl_edit::Span::span(&attr.value).unwrap_or(span),
                    "in this expression",
                )
                .help("variable values are literals or function calls"),
            ),
        }
    }
}
