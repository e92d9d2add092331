//! The `drplan` crate: the command line and everything that talks to the outside
//! (AWS, Kubernetes, the terminal). Decisions live in `drplan-core`.

// stdout goes through `commands::output::print_stdout`, which ends quietly when the
// reader is gone (`drplan plan | head`); std's `print!` would panic there.
#![cfg_attr(not(test), deny(clippy::print_stdout))]

/// std's `eprint!`/`eprintln!` panic when stderr is gone (`drplan apply 2>&1 | head`),
/// which would stop an apply half way with its lock held. Progress and notes on stderr
/// are best effort, so these shadow std's for the whole crate and drop write errors.
macro_rules! eprint {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

macro_rules! eprintln {
    () => { eprint!("\n") };
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod allocator;
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

pub mod apply;
pub mod aws;
pub mod caller_reference;
pub mod cli;
pub mod commands;
pub mod drill;
pub mod inflight;
pub mod k8s;
pub mod live;
pub mod lock;
pub mod log;
pub mod planning;
pub mod reach;
pub mod stop;
pub mod usage;
