//! Parsing the command line. A usage error (a mistyped flag in a CI workflow) exits 1,
//! as Terraform does: clap's default, 2, means "changes" or "drift" to drplan's callers.

use crate::cli::Cli;
use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};

/// Exit code of a usage error.
pub const USAGE_ERROR: u8 = 1;

/// The parsed command line, or the process exits: 0 after `--help` / `--version`, 1 on
/// a usage error (with a hint when a Terraform-style single-dash flag was typed).
pub fn parse_or_exit() -> Cli {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ => USAGE_ERROR,
            };
            // clap prints to stdout for help and stderr for errors.
            let _ = e.print();
            if code != 0 {
                if let Some(hint) = single_dash_hint(&args) {
                    eprintln!("\nhint: {hint}");
                }
            }
            std::process::exit(i32::from(code))
        }
    }
}

/// `-auto-approve` or `-var=x` (Terraform's spelling) names the double-dash flag.
pub fn single_dash_hint(args: &[String]) -> Option<String> {
    let longs = long_flags();
    args.iter().skip(1).find_map(|a| {
        let name = a.strip_prefix('-').filter(|n| !n.starts_with('-') && n.len() > 1)?;
        let name = name.split('=').next().unwrap_or(name);
        if matches!(name, "var" | "var-file") {
            return Some(format!(
                "drplan has no `-{name}`: variable values live in environments/<env>.hcl (variables {{ ... }}), chosen with `-e ENV`"
            ));
        }
        longs
            .iter()
            .any(|l| l == name)
            .then(|| format!("drplan's flags take two dashes: write `--{name}` instead of `-{name}`"))
    })
}

fn long_flags() -> Vec<String> {
    fn collect(cmd: &clap::Command, out: &mut Vec<String>) {
        out.extend(
            cmd.get_arguments()
                .filter_map(|a| a.get_long().map(str::to_string)),
        );
        for sub in cmd.get_subcommands() {
            collect(sub, out);
        }
    }
    let mut out = Vec::new();
    collect(&Cli::command(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn terraform_style_single_dash_flags_name_the_double_dash_form() {
        let hint = single_dash_hint(&args(&["drplan", "apply", "-e", "prod", "-auto-approve"]))
            .unwrap_or_default();
        assert!(hint.contains("`--auto-approve`"), "{hint}");
        assert_eq!(
            single_dash_hint(&args(&["drplan", "plan", "-e", "prod"])),
            None
        );
        assert_eq!(
            single_dash_hint(&args(&["drplan", "plan", "-nonsense"])),
            None
        );
    }
}
