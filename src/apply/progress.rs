//! Apply progress on stderr: a line per change as it starts and ends, or, on a
//! terminal, a live spinner per change in flight with its elapsed time (the finished
//! lines scroll above the spinners).

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

pub enum Progress {
    Off,
    Lines,
    Live(MultiProgress),
}

impl Progress {
    /// Live on an interactive stderr (not `TERM=dumb`), plain lines otherwise.
    pub fn for_stderr(enabled: bool) -> Progress {
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        match (enabled, std::io::stderr().is_terminal() && !dumb) {
            (false, _) => Progress::Off,
            (true, false) => Progress::Lines,
            (true, true) => {
                Progress::Live(MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
            }
        }
    }

    /// `what` reads like "cluster.dr: Creating".
    pub fn start(&self, what: String) -> Running {
        let bar = match self {
            Progress::Off => None,
            Progress::Lines => {
                eprintln!("{what}...");
                None
            }
            Progress::Live(multi) => {
                let bar = multi.add(ProgressBar::new_spinner());
                let style = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner());
                bar.set_style(style);
                bar.set_message(what);
                bar.enable_steady_tick(Duration::from_millis(120));
                Some((multi.clone(), bar))
            }
        };
        Running {
            bar,
            enabled: !matches!(self, Progress::Off),
            started: Instant::now(),
        }
    }
}

pub struct Running {
    bar: Option<(MultiProgress, ProgressBar)>,
    enabled: bool,
    started: Instant,
}

impl Running {
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Prints the finished line (`line`) and removes the spinner.
    pub fn finish(mut self, line: String) {
        match self.bar.take() {
            Some((multi, bar)) => {
                bar.finish_and_clear();
                multi.remove(&bar);
                let _ = multi.println(line);
            }
            None if self.enabled => eprintln!("{line}"),
            None => {}
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A failed step leaves no spinner behind; the report says what happened.
        if let Some((multi, bar)) = &self.bar {
            bar.finish_and_clear();
            multi.remove(bar);
        }
    }
}
