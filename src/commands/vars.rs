//! The variable inputs of this run (`--var`, `--var-file`, `DRPLAN_VAR_<name>`;
//! `drplan_core::spec::vars`), resolved once from the command line and the process
//! environment, and read by every command that loads the project
//! (`validate::load_or_report`). `promote` leaves them unset: it compares the
//! environment files as written.

use drplan_core::model::environment::{VarFile, VarInputs};
use std::path::PathBuf;
use std::sync::OnceLock;

static INPUTS: OnceLock<VarInputs> = OnceLock::new();

/// The inputs of this run: `--var-file` paths resolved against the working directory
/// (not `-C`, as a shell would), and the process's `DRPLAN_VAR_` values.
pub fn from_cli(flags: &[String], files: &[PathBuf]) -> VarInputs {
    let cwd = std::env::current_dir().unwrap_or_default();
    VarInputs {
        files: files
            .iter()
            .map(|p| VarFile {
                shown: p.display().to_string(),
                path: cwd.join(p),
            })
            .collect(),
        flags: flags.to_vec(),
        process: VarInputs::from_process(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        ),
    }
}

pub fn set(inputs: VarInputs) {
    let _ = INPUTS.set(inputs);
}

/// The inputs of this run; none before [`set`] (and in `promote`).
pub fn get() -> VarInputs {
    INPUTS.get().cloned().unwrap_or_default()
}
