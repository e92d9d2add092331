//! Running the real `drplan` binary against the test's emulator.

use super::moto::MotoServer;
use assert_cmd::Command;
use std::path::Path;
use std::process::Output;

/// `drplan -C root args...` with the emulator's (and the test clusters') environment.
pub fn drplan(moto: &MotoServer, root: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("drplan")
        .expect("drplan binary")
        .envs(moto.env_for_cli())
        .env("NO_COLOR", "1")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .expect("run drplan")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Both streams, for assertion messages.
pub fn explain(out: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", stdout(out), stderr(out))
}
