//! The end-to-end tests of the `drplan` binary, in one test binary.
//!
//! Each module below was once its own file under `tests/`; they share one binary so the
//! AWS SDK is linked once instead of eight times (a debug link of it is ~120 MB).
//! Run one group with `cargo test --test e2e plan_e2e::`.

mod support;

mod allocator;
mod apply_e2e;
mod apply_moto;
mod bootstrap_e2e;
mod broken_pipe;
mod bucket_security_e2e;
mod cli_validate;
mod cluster_security_e2e;
mod converge_e2e;
mod drift_e2e;
mod drill_e2e;
mod ecr_e2e;
mod eks_access;
mod elasticache_e2e;
mod failback_e2e;
mod gating_e2e;
mod ignore_changes_e2e;
mod import_e2e;
mod k8s_roundtrip;
mod kms_e2e;
mod live_aws;
mod lock_lease;
mod moved_e2e;
mod newuser_e2e;
mod objectives_e2e;
mod outage_e2e;
mod peering_e2e;
mod plan_e2e;
mod policy_tools_e2e;
mod promote_cli;
mod proxy_e2e;
mod record_batch_e2e;
mod route53_calls;
mod saved_plan_tamper;
mod secrets_e2e;
mod site_accounts_e2e;
mod target_e2e;
mod vars_e2e;
