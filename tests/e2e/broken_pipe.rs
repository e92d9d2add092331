//! Regression (issue 21): `drplan plan | head` panicked on the broken pipe and exited
//! 101. A reader that goes away ends the output quietly: the command carries on (a plan
//! is still saved) and exits with the code it would have returned.
//!
//! Each run's stdout (or stderr) is a pipe whose read end is closed before the binary
//! starts, so its first write fails with EPIPE every time.

use crate::support::moto::MotoServer;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Clone, Copy)]
enum Closed {
    Stdout,
    Stderr,
}

struct Run {
    code: Option<i32>,
    /// What the binary wrote on the stream left open.
    other: String,
}

fn run_with_closed(closed: Closed, moto: Option<&MotoServer>, root: &Path, args: &[&str]) -> Run {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("drplan"));
    if let Some(moto) = moto {
        cmd.envs(moto.env_for_cli());
    }
    cmd.env("NO_COLOR", "1")
        .arg("-C")
        .arg(root)
        .args(args)
        .stdin(Stdio::null());
    match closed {
        Closed::Stdout => cmd.stdout(Stdio::from(writer)).stderr(Stdio::piped()),
        Closed::Stderr => cmd.stderr(Stdio::from(writer)).stdout(Stdio::piped()),
    };
    let mut child = cmd.spawn().expect("run drplan");
    let mut other = String::new();
    let stream: Option<&mut dyn Read> = match closed {
        Closed::Stdout => child.stderr.as_mut().map(|s| s as &mut dyn Read),
        Closed::Stderr => child.stdout.as_mut().map(|s| s as &mut dyn Read),
    };
    stream
        .expect("the open stream")
        .read_to_string(&mut other)
        .expect("read");
    let code = child.wait().expect("wait").code();
    Run { code, other }
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn assert_quiet_exit(run: &Run, code: i32, what: &str) {
    assert!(
        !run.other.contains("panicked"),
        "{what} panicked:\n{}",
        run.other
    );
    assert!(
        !run.other.contains("Broken pipe"),
        "{what} reported the closed pipe:\n{}",
        run.other
    );
    assert_eq!(run.code, Some(code), "{what}:\n{}", run.other);
}

#[test]
fn plan_piped_into_head_ends_quietly_with_the_plan_exit_code() {
    // An empty cloud: everything is to create, so --detailed-exitcode says 2.
    let moto = MotoServer::start();
    let root = repo_root();
    let dir = tempfile::tempdir().expect("temp dir");
    let saved = dir.path().join("prod.plan");
    let saved_arg = saved.display().to_string();

    let run = run_with_closed(
        Closed::Stdout,
        Some(&moto),
        &root,
        &[
            "plan",
            "-e",
            "prod",
            "--detailed-exitcode",
            "--out",
            &saved_arg,
        ],
    );
    assert_quiet_exit(&run, 2, "plan --detailed-exitcode | head");
    assert!(
        saved.exists(),
        "the plan was not saved after stdout closed:\n{}",
        run.other
    );
    let run = run_with_closed(
        Closed::Stdout,
        Some(&moto),
        &root,
        &["plan", "-e", "prod", "--json"],
    );
    assert_quiet_exit(&run, 0, "plan --json | head");

    for args in [vec!["show", &saved_arg], vec!["show", "--json", &saved_arg]] {
        let run = run_with_closed(Closed::Stdout, None, &root, &args);
        assert_quiet_exit(&run, 0, &args.join(" "));
    }
    for args in [
        vec!["validate"],
        vec!["graph", "-e", "prod"],
        vec!["completions", "bash"],
    ] {
        let run = run_with_closed(Closed::Stdout, None, &root, &args);
        assert_quiet_exit(&run, 0, &args.join(" "));
    }
}

#[test]
fn a_closed_stderr_does_not_panic() {
    // Diagnostics go to stderr; the command still fails with its own code, 1.
    let run = run_with_closed(
        Closed::Stderr,
        None,
        &repo_root(),
        &["validate", "-e", "no-such-env"],
    );
    assert_eq!(run.code, Some(1), "{}", run.other);
}
