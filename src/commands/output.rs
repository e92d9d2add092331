//! How commands print: colour decisions and the tokio runtime for cloud commands.

use drplan_core::render::text::TextOptions;
use std::io::IsTerminal;

/// Plain text unless stdout is a terminal and `NO_COLOR` is unset.
pub fn stdout_text_options() -> TextOptions {
    let no_color = std::env::var("NO_COLOR").ok();
    TextOptions::for_terminal(std::io::stdout().is_terminal(), no_color.as_deref())
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}
