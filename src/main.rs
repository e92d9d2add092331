//! The `drplan` binary: parse arguments, run one command, map the outcome to an
//! exit code. Each command lives in `commands/<name>.rs`.

use std::process::ExitCode;

fn main() -> ExitCode {
    drplan::log::init();
    let cli = drplan::usage::parse_or_exit();
    let code = drplan::commands::run(cli);
    ExitCode::from(code as u8)
}
