//! The variable inputs of this run (`--var`, `--var-file`, `DRPLAN_VAR_<name>`;
//! `drplan_core::spec::vars`), resolved once from the command line and the process
//! environment, and read by every command that loads the project
//! (`validate::load_or_report`). `promote` leaves them unset: it compares the
//! environment files as written.

use drplan_core::model::environment::{VarFile, VarInputs};
use std::path::PathBuf;
use std::sync::OnceLock;

static INPUTS: OnceLock<Inputs> = OnceLock::new();

#[derive(Clone, Default)]
struct Inputs {
    vars: VarInputs,
    /// Read the environment's `secret` blocks from their stores (plan, apply, drift);
    /// the other commands load with stand-ins and never touch a secret store.
    read_secrets: bool,
}

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
        secrets: Vec::new(),
        process: VarInputs::from_process(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        ),
    }
}

pub fn set(vars: VarInputs, read_secrets: bool) {
    let _ = INPUTS.set(Inputs { vars, read_secrets });
}

/// The inputs of this run; none before [`set`] (and in `promote`).
pub fn get() -> VarInputs {
    INPUTS.get().map(|i| i.vars.clone()).unwrap_or_default()
}

/// The inputs for loading environment `env` of the project at `root`: with the values
/// of its `secret` blocks read from their stores when this command reads the cloud.
pub fn for_environment(
    sources: &drplan_core::spec::files::Sources,
    env: &str,
) -> anyhow::Result<VarInputs> {
    let Some(inputs) = INPUTS.get() else {
        return Ok(VarInputs::default());
    };
    let mut vars = inputs.vars.clone();
    if !inputs.read_secrets {
        return Ok(vars);
    }
    let refs = drplan_core::spec::secret_references_in(sources, env);
    if refs.is_empty() {
        return Ok(vars);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    vars.secrets = runtime.block_on(async {
        let aws = crate::aws::AwsContext::from_env().await;
        crate::aws::secrets::read_all(&aws, &refs).await
    })?;
    Ok(vars)
}
