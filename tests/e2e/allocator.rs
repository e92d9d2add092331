//! The `drplan` binary runs on jemalloc, told to give freed pages back at once
//! (`src/allocator.rs`; BENCHMARKS.md, section 11). Without the options a plan of 10,000
//! resources held 10 MB more at its peak. jemalloc prints the options it runs with when
//! asked to print its statistics at exit.

#![cfg(not(target_env = "msvc"))]

use std::process::Command;

#[test]
fn the_binary_runs_on_jemalloc_with_pages_given_back_at_once() {
    let out = Command::new(assert_cmd::cargo::cargo_bin("drplan"))
        .arg("--version")
        .env("_RJEM_MALLOC_CONF", "stats_print:true")
        .output()
        .expect("run drplan");
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("___ Begin jemalloc statistics ___"),
        "drplan does not run on jemalloc:\n{stderr}"
    );
    for option in ["opt.dirty_decay_ms: 0 ", "opt.muzzy_decay_ms: 0 "] {
        assert!(
            stderr.contains(option),
            "jemalloc runs without `{option}`:\n{stderr}"
        );
    }
}
