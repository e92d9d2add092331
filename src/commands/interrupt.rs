//! SIGINT and SIGTERM during `apply`. The first stops the apply from starting new
//! changes: before any change (planning, the approval prompt, waiting for the lock)
//! it ends the run at once; during the walk, the changes in flight get [`GRACE`] to
//! finish. A second signal gives up waiting for them. Either way the lock is
//! released and what was done is reported (`commands::locked`).
//! SIGKILL cannot be caught: the lock's lease lapses instead (`lock`).

use crate::stop::Stop;
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};
use tokio::task::JoinHandle;

/// How long changes in flight may take to finish after a stop.
pub const GRACE: Duration = Duration::from_secs(30);

/// Signal handling for the life of the value (the handler task ends on drop).
pub struct Signals(JoinHandle<()>);

impl Drop for Signals {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// From now on SIGINT and SIGTERM request `stop` instead of killing the process.
/// Call inside the runtime.
pub fn watch(stop: &Stop) -> std::io::Result<Signals> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let stop = stop.clone();
    Ok(Signals(tokio::spawn(async move {
        loop {
            let name = tokio::select! {
                Some(()) = interrupt.recv() => "SIGINT",
                Some(()) = terminate.recv() => "SIGTERM",
                else => return,
            };
            if !stop.request(name, GRACE) {
                eprintln!("\n{name} again: no longer waiting for the changes in flight.");
            } else if stop.is_committed() {
                eprintln!(
                    "\n{name}: no new changes start; waiting up to {}s for the changes in flight to finish (send it again to stop waiting)...",
                    GRACE.as_secs()
                );
            } else {
                eprintln!("\n{name}: stopping; no change has been made.");
            }
        }
    })))
}
