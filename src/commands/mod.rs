//! One module per command; each is a thin wrapper that resolves settings and calls
//! into the core or the cloud layers.

use crate::cli::{Cli, Command};

pub mod apply;
pub mod bootstrap;
pub mod drift;
pub mod drill;
pub mod fmt;
pub mod graph;
pub mod import;
pub mod interrupt;
pub mod locked;
mod output;
pub mod plan;
pub mod promote;
pub mod runbook;
pub mod show;
pub mod unlock;
pub mod validate;
pub mod vars;

/// Exit codes (the CLI contract, see README).
pub mod exit {
    pub const OK: i32 = 0;
    pub const ERROR: i32 = 1;
    pub const CHANGES: i32 = 2;
    pub const OBJECTIVE_BREACH: i32 = 3;

    /// The one precedence every command follows (README, docs/objectives.md): an
    /// error, then an objective breach, then changes or drift.
    pub fn outcome(error: bool, breached: bool, changes: bool) -> i32 {
        if error {
            ERROR
        } else if breached {
            OBJECTIVE_BREACH
        } else if changes {
            CHANGES
        } else {
            OK
        }
    }
}

pub fn run(cli: Cli) -> i32 {
    let explicit = !cli.vars.is_empty() || !cli.var_files.is_empty();
    match &cli.command {
        Command::Promote(_) | Command::Fmt(_) | Command::Show(_) | Command::Completions(_)
            if explicit =>
        {
            eprintln!(
                "Error: --var and --var-file apply to validate, plan, apply, drift, graph, unlock and bootstrap; \
                 promote compares the environment files as written"
            );
            return exit::ERROR;
        }
        Command::Promote(_) => {}
        command => {
            let reads_cloud = matches!(
                command,
                Command::Plan(_) | Command::Apply(_) | Command::Drift(_) | Command::Drill(_)
            );
            vars::set(vars::from_cli(&cli.vars, &cli.var_files), reads_cloud)
        }
    }
    let result: anyhow::Result<i32> = match cli.command {
        Command::Completions(args) => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut cmd, "drplan", &mut script);
            output::print_stdout(&String::from_utf8_lossy(&script)).map(|()| exit::OK)
        }
        Command::Validate(args) => validate::run(&cli.dir, &args),
        Command::Graph(args) => graph::run(&cli.dir, &args),
        Command::Fmt(args) => fmt::run(&cli.dir, &args),
        Command::Promote(args) => promote::run(&cli.dir, args),
        Command::Plan(args) => plan::run(&cli.dir, &args, cli.verbose),
        Command::Drift(args) => drift::run(&cli.dir, &args, cli.verbose),
        Command::Show(args) => show::run(&args),
        Command::Apply(args) => apply::run(&cli.dir, &args, cli.verbose),
        Command::Unlock(args) => unlock::run(&cli.dir, &args),
        Command::Bootstrap(args) => bootstrap::run(&cli.dir, &args),
        Command::Runbook(args) => runbook::run(&cli.dir, &args),
        Command::Drill(args) => drill::run(&cli.dir, &args),
        Command::Import(args) => import::run(&cli.dir, &args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("Error: {err:#}");
            exit::ERROR
        }
    }
}
