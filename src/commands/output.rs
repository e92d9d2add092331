//! How commands print: colour decisions, stdout writes and the tokio runtime for
//! cloud commands.

use anyhow::Context;
use drplan_core::render::text::TextOptions;
use std::io::{ErrorKind, IsTerminal, Write};

/// Plain text unless stdout is a terminal and `NO_COLOR` is unset.
pub fn stdout_text_options() -> TextOptions {
    let no_color = std::env::var("NO_COLOR").ok();
    TextOptions::for_terminal(std::io::stdout().is_terminal(), no_color.as_deref())
}

/// Writes `text` to stdout; every command's stdout goes through here. A reader that
/// went away (`drplan plan | head`) ends the output quietly: the command carries on
/// (a plan is still saved, an apply still finishes) and exits with the code it would
/// have returned. Any other write error (a full disk) is an error.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => other.context("could not write to stdout"),
    }
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
