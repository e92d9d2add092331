//! What the user typed: clap types only. `main` turns them into calls to
//! `commands::*`, which resolve settings and act.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "drplan",
    version,
    about = "Disaster-recovery plans as code: plan and apply a primary/DR topology on AWS",
    long_about = "drplan reads a topology (specs/*.hcl) and an environment \
                  (environments/<env>.hcl), compares it with the live cloud in every region, \
                  and shows or applies the difference. Exit codes: 0 no changes / in sync, \
                  2 changes or drift, 1 error, 3 objective breach."
)]
pub struct Cli {
    /// Project root (the folder holding specs/ and environments/).
    #[arg(
        short = 'C',
        long = "directory",
        global = true,
        default_value = ".",
        value_name = "DIR"
    )]
    pub dir: PathBuf,

    /// Print more about what drplan does (API call counts, timings) on stderr.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Set a variable, overriding the environment file (repeatable; list, map and
    /// object values as HCL: --var 'zones=["a","b"]'). Also DRPLAN_VAR_<name>.
    #[arg(long = "var", global = true, value_name = "NAME=VALUE")]
    pub vars: Vec<String>,

    /// Read variable values from FILE (`name = value` lines; repeatable, later files
    /// win; --var wins over any file).
    #[arg(long = "var-file", global = true, value_name = "FILE")]
    pub var_files: Vec<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check the spec and an environment without touching the cloud.
    Validate(ValidateArgs),
    /// Compare the spec with the live cloud and show what apply would do.
    Plan(PlanArgs),
    /// Make the live cloud match the spec (or apply a saved plan).
    Apply(ApplyArgs),
    /// Render a saved plan.
    Show(ShowArgs),
    /// Report drift between the spec and the live cloud (read-only, for CI).
    Drift(DriftArgs),
    /// Carry promotable values from one environment to another. The source must meet
    /// its objectives (else exit 3) and match its live cloud (else exit 1).
    Promote(PromoteArgs),
    /// Print the dependency graph the planner walks.
    Graph(GraphArgs),
    /// Rewrite spec and environment files in canonical format.
    Fmt(FmtArgs),
    /// Break an apply lock left by a dead run.
    Unlock(UnlockArgs),
    /// Create what drplan itself needs in the account (the lock bucket), idempotently.
    Bootstrap(BootstrapArgs),
    /// Write the failover runbook (markdown) generated from the spec; --check compares
    /// it with a committed copy.
    Runbook(RunbookArgs),
    /// Restore drill in the DR site: restore the newest backups into an isolated
    /// namespace, verify them, time every step, tear everything down.
    Drill(DrillArgs),
    /// Bring what a team already runs under drplan: convert a Terraform state file into
    /// `import` blocks (stdout) and, with --generate-config-out, the spec blocks they
    /// import into; or, with --generate-config-out alone, write the spec blocks of the
    /// spec's import blocks that have none, from the live objects they name.
    Import(ImportArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// A Terraform state file (JSON, version 4: `terraform state pull` writes one):
    /// import blocks for every object of a kind drplan manages; the rest is listed on
    /// stderr with the reason.
    #[arg(long, value_name = "FILE")]
    pub from_terraform_state: Option<std::path::PathBuf>,
    /// Write the spec blocks the imported objects become (formatted, ready to edit)
    /// to FILE, relative to the project (and, from a state, the manifests of
    /// `kubernetes` blocks beside the specs). Without --from-terraform-state: the
    /// blocks of the spec's `import` blocks that no spec block makes, read from the
    /// live objects they name. Never overwrites a file.
    #[arg(long, value_name = "FILE")]
    pub generate_config_out: Option<std::path::PathBuf>,
}

#[derive(Args, Debug)]
pub struct EnvArg {
    /// Environment name: loads environments/<ENV>.hcl.
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub env: String,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Environment to validate with; without it, every environment is validated.
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub env: Option<String>,
    /// Report failing objectives as warnings instead of failing (exit 3).
    #[arg(long)]
    pub allow_objective_breach: bool,
    /// Print the result as JSON (diagnostics with file, line and column; each
    /// environment's objectives) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Save the plan to FILE for `drplan apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the plan as JSON (docs/plan-json.md) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Print the plan in Terraform's plan JSON shape, for policy tools that read
    /// Terraform plans (checkov --framework terraform_plan, terraform-compliance).
    #[arg(long, conflicts_with = "json")]
    pub terraform_json: bool,
    /// Exit 2 when the plan has changes, 0 when it has none.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Report failing objectives as warnings instead of failing (exit 3).
    #[arg(long)]
    pub allow_objective_breach: bool,
    /// Allow deleting or replacing this protected object (repeatable).
    #[arg(long = "allow-destroy", value_name = "ADDRESS")]
    pub allow_destroy: Vec<String>,
    /// Plan only ADDRESS (a block or one object: `dns.api`, `cluster.dr`) and what it
    /// depends on, leaving every other change for later (repeatable). For incidents;
    /// the plan says it is partial.
    #[arg(long = "target", value_name = "ADDRESS")]
    pub target: Vec<String>,
    /// Destroy and create ADDRESS again even if it matches the spec (a wedged node
    /// group, a failed restore Job; repeatable).
    #[arg(long = "replace", value_name = "ADDRESS")]
    pub replace: Vec<String>,
    /// Judge the objectives on the spec and the plan's own diff only: skip the reads
    /// of recovery points, drill records and DR readiness (a least-privilege run;
    /// benchmarks compare the two).
    #[arg(long)]
    pub skip_evidence: bool,
}

#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// Environment to plan and apply (omit when applying a saved plan FILE).
    #[arg(
        short = 'e',
        long = "env",
        value_name = "ENV",
        conflicts_with = "plan_file"
    )]
    pub env: Option<String>,
    /// A plan saved with `drplan plan --out FILE`.
    #[arg(value_name = "FILE")]
    pub plan_file: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Allow deleting or replacing this protected object (repeatable).
    #[arg(long = "allow-destroy", value_name = "ADDRESS")]
    pub allow_destroy: Vec<String>,
    /// Plan only ADDRESS (a block or one object: `dns.api`, `cluster.dr`) and what it
    /// depends on, leaving every other change for later (repeatable). For incidents;
    /// the plan says it is partial.
    #[arg(long = "target", value_name = "ADDRESS", conflicts_with = "plan_file")]
    pub target: Vec<String>,
    /// Destroy and create ADDRESS again even if it matches the spec (a wedged node
    /// group, a failed restore Job; repeatable).
    #[arg(long = "replace", value_name = "ADDRESS")]
    pub replace: Vec<String>,
    /// At most N changes in flight at once.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub parallelism: usize,
    /// Report failing objectives as warnings instead of failing.
    #[arg(long)]
    pub allow_objective_breach: bool,
    /// Wait up to DURATION (e.g. 30s, 10m) for a lock another apply holds, instead
    /// of failing at once.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    drplan_core::spec::duration::parse_duration(s)
        .map_err(|e| format!("{e}: write a number and a unit: s, m or h (e.g. 90s, 5m)"))
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// A plan saved with `drplan plan --out FILE`.
    pub plan_file: PathBuf,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Args, Debug)]
pub struct DriftArgs {
    #[command(flatten)]
    pub env: EnvArg,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Report failing objectives as warnings instead of failing (exit 3).
    #[arg(long)]
    pub allow_objective_breach: bool,
    /// Judge the objectives on the spec and the plan's own diff only: skip the reads
    /// of recovery points, drill records and DR readiness (a least-privilege run;
    /// benchmarks compare the two).
    #[arg(long)]
    pub skip_evidence: bool,
    /// Also list objects of the kinds drplan manages, in the sites' regions and in
    /// Route53, that no drplan stack marks (driftctl's "unmanaged"; information, not
    /// drift). Lists every VPC, subnet, EKS cluster, bucket, zone and health check
    /// there: more requests than a drift run needs.
    #[arg(long)]
    pub unmanaged: bool,
}

#[derive(Args, Debug)]
pub struct PromoteArgs {
    /// Source environment.
    #[arg(long, value_name = "ENV")]
    pub from: String,
    /// Target environment (its file is the one rewritten).
    #[arg(long, value_name = "ENV")]
    pub to: String,
    /// Rewrite the target environment file (comments and layout are kept).
    #[arg(long)]
    pub write: bool,
    /// Promote even if the source has drift or a failing objective (its live cloud
    /// is then not read at all).
    #[arg(long)]
    pub force: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Args, Debug)]
pub struct GraphArgs {
    #[command(flatten)]
    pub env: EnvArg,
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

#[derive(Args, Debug)]
pub struct FmtArgs {
    /// Do not write; exit 1 and list the files that are not formatted.
    #[arg(long)]
    pub check: bool,
}

#[derive(Args, Debug)]
pub struct UnlockArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Required: confirms the lock holder is really gone.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct BootstrapArgs {
    #[command(flatten)]
    pub env: EnvArg,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct RunbookArgs {
    /// The DR activation environment (e.g. prod-dr).
    #[command(flatten)]
    pub env: EnvArg,
    /// The environment that fails back (default: the one the activation extends).
    #[arg(long, value_name = "ENV")]
    pub failback_env: Option<String>,
    /// Compare with FILE instead of printing: exit 1 with a diff when it is stale.
    #[arg(long, value_name = "FILE")]
    pub check: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DrillArgs {
    #[command(subcommand)]
    pub action: Option<DrillAction>,
    /// The environment of normal operation (e.g. prod): the drill runs in its DR site.
    #[arg(short = 'e', long = "env", value_name = "ENV", global = true)]
    pub env: Option<String>,
    /// Drill only these components (or backup policy labels); default: every policy
    /// placed in the DR site.
    #[arg(long = "component", value_name = "NAME")]
    pub components: Vec<String>,
    /// Output format of the drill record on stdout.
    #[arg(long, value_enum, default_value_t = DrillFormat::Text, global = true)]
    pub format: DrillFormat,
    /// Drill even though the DR site looks active (a real failover may be running).
    #[arg(long)]
    pub force: bool,
    /// How long to wait for the stack's lock.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration, global = true)]
    pub lock_timeout: std::time::Duration,
}

#[derive(Subcommand, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrillAction {
    /// Remove what a crashed or killed drill left behind (found by its marks).
    Cleanup,
    /// List the recorded drills.
    History,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrillFormat {
    Text,
    Json,
}
