//! `drplan unlock -e ENV --force`: break the apply lock of a run that is gone (its
//! lease would lapse by itself; this is for not waiting). Checks the account guard
//! first, and says exactly what it deleted.

use super::exit;
use super::output::runtime;
use super::validate::load_or_report;
use crate::aws::AwsContext;
use crate::cli::UnlockArgs;
use crate::lock::{force_unlock, lock_key, Unlocked};
use anyhow::{anyhow, bail};
use std::path::Path;

pub fn run(root: &Path, args: &UnlockArgs) -> anyhow::Result<i32> {
    if !args.force {
        bail!("breaking a lock needs --force: make sure no apply is still running for this stack");
    }
    let env = &args.env.env;
    let Some(project) = load_or_report(root, env) else {
        return Ok(exit::ERROR);
    };
    let settings = project
        .environment
        .lock
        .clone()
        .ok_or_else(|| anyhow!("environment `{env}` names no lock bucket"))?;
    let stack = project.environment.stack.clone();
    let where_ = format!("s3://{}/{}", settings.bucket, lock_key(&settings, &stack));
    runtime()?.block_on(async {
        let aws = AwsContext::for_project(&project).await;
        aws.check_account(project.environment.account_id.as_deref()).await?;
        let s3 = aws.s3(&settings.region);
        match force_unlock(&s3, &settings, &stack).await? {
            Unlocked::Broke(info) => eprintln!(
                "Broke the lock {where_} held by {} (pid {}, environment {}) since {}.",
                info.holder,
                info.pid,
                info.env,
                info.started_at.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            Unlocked::BrokeUnreadable { reason } => {
                eprintln!("Deleted {where_}: it was not a lock drplan could read ({reason}), so its holder is unknown.")
            }
            Unlocked::NotLocked => eprintln!("The stack was not locked: there is no {where_}; nothing was deleted."),
        }
        Ok(exit::OK)
    })
}
