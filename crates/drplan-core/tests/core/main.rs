//! The core's tests, in one test binary (one link instead of ten; CI disk is short).
//! Run one group with `cargo test -p drplan-core --test core spec_rules::`.

mod plan_fixture;
mod spec_support;

mod adopt_tfstate;
mod dr_order;
mod ecr;
mod elasticache;
mod golden;
mod kms;
mod objectives_checks;
mod objectives_examples;
mod objectives_images;
mod objectives_readiness;
mod peering;
mod plan_approve;
mod plan_converge;
mod plan_diff;
mod plan_file;
mod plan_moved;
mod plan_outage;
mod plan_props;
mod promote_rewrite;
mod render_attrdiff;
mod render_plan;
mod secrets_follow_values;
mod secrets_in_diagnostics;
mod secrets_in_fingerprints;
mod spec_bucket_logging;
mod spec_control_chars;
mod spec_diagnostics;
mod spec_dns_alias;
mod spec_extends;
mod spec_for_each;
mod spec_import;
mod spec_lowering;
mod spec_modules;
mod spec_newuser;
mod spec_rules;
mod spec_site_account;
mod spec_vars;
mod spec_vault_site;
