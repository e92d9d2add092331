//! One module per command; each is a thin wrapper that resolves settings and calls
//! into the core or the cloud layers.

use crate::cli::{Cli, Command};

pub mod drift;
pub mod fmt;
pub mod graph;
mod output;
pub mod plan;
pub mod promote;
pub mod show;
pub mod validate;

/// Exit codes (the CLI contract, see README).
pub mod exit {
    pub const OK: i32 = 0;
    pub const ERROR: i32 = 1;
    pub const CHANGES: i32 = 2;
    pub const OBJECTIVE_BREACH: i32 = 3;
}

pub fn run(cli: Cli) -> i32 {
    let result: anyhow::Result<i32> = match cli.command {
        Command::Completions(args) => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(args.shell, &mut cmd, "drplan", &mut std::io::stdout());
            Ok(exit::OK)
        }
        Command::Validate(args) => validate::run(&cli.dir, &args),
        Command::Graph(args) => graph::run(&cli.dir, &args),
        Command::Fmt(args) => fmt::run(&cli.dir, &args),
        Command::Promote(args) => promote::run(&cli.dir, args),
        Command::Plan(args) => plan::run(&cli.dir, &args, cli.verbose),
        Command::Drift(args) => drift::run(&cli.dir, &args, cli.verbose),
        Command::Show(args) => show::run(&args),
        other => Err(anyhow::anyhow!(
            "`drplan {}` is not implemented yet",
            command_name(&other)
        )),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("Error: {err:#}");
            exit::ERROR
        }
    }
}

fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Validate(_) => "validate",
        Command::Plan(_) => "plan",
        Command::Apply(_) => "apply",
        Command::Show(_) => "show",
        Command::Drift(_) => "drift",
        Command::Promote(_) => "promote",
        Command::Graph(_) => "graph",
        Command::Fmt(_) => "fmt",
        Command::Unlock(_) => "unlock",
        Command::Completions(_) => "completions",
    }
}
