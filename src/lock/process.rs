//! Is the process that holds a lock still running? Answered only when it ran in the
//! same pid namespace of the same booted kernel as this one — a kill on this machine
//! (or in this container), followed by a rerun there. Anywhere else the answer is
//! "cannot tell", and the lease decides.
//!
//! A pid alone is not enough: pids are reused, and another container on the same
//! host numbers its processes from 1 again. So the lock records, besides the pid,
//! the kernel's boot id, the pid namespace and the process's start time (clock ticks
//! since boot, `/proc/<pid>/stat` field 22): a live process with the same pid but
//! another start time is someone else.

use serde::{Deserialize, Serialize};

/// Where and when the lock holder's process was started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessIdentity {
    /// `/proc/sys/kernel/random/boot_id`: one per boot of a kernel.
    pub boot_id: String,
    /// `readlink /proc/self/ns/pid`, e.g. `pid:[4026531836]`.
    pub pid_namespace: String,
    /// Start time of the process, clock ticks after boot.
    pub start_ticks: u64,
}

/// What this machine can say about a lock holder's process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    Running,
    /// Same kernel boot and pid namespace, and no process with that pid and start
    /// time: it ended (killed, crashed) without releasing its lock.
    Gone,
    /// Another machine, container or boot (or not Linux): only the lease can tell.
    Unknown,
}

impl ProcessIdentity {
    /// This process, on Linux; `None` elsewhere or when /proc is not readable.
    pub fn this_process() -> Option<ProcessIdentity> {
        Some(ProcessIdentity {
            boot_id: boot_id()?,
            pid_namespace: pid_namespace()?,
            start_ticks: start_ticks(std::process::id())?,
        })
    }

    /// Whether the process `pid` with this identity is still running, as seen from
    /// `here` (this process's identity).
    pub fn liveness(&self, pid: u32, here: Option<&ProcessIdentity>) -> Liveness {
        judge(self, pid, here, start_ticks)
    }
}

fn judge(
    holder: &ProcessIdentity,
    pid: u32,
    here: Option<&ProcessIdentity>,
    start_of: impl Fn(u32) -> Option<u64>,
) -> Liveness {
    let Some(here) = here else {
        return Liveness::Unknown;
    };
    if holder.boot_id != here.boot_id || holder.pid_namespace != here.pid_namespace {
        return Liveness::Unknown;
    }
    match start_of(pid) {
        Some(t) if t == holder.start_ticks => Liveness::Running,
        _ => Liveness::Gone,
    }
}

fn boot_id() -> Option<String> {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let id = id.trim();
    (!id.is_empty()).then(|| id.to_string())
}

fn pid_namespace() -> Option<String> {
    let link = std::fs::read_link("/proc/self/ns/pid").ok()?;
    Some(link.to_string_lossy().into_owned())
}

/// Field 22 of `/proc/<pid>/stat`. The command name (field 2) is in parentheses and
/// may hold spaces or parentheses itself, so fields are counted after the last `)`.
fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_ticks(&stat)
}

fn parse_start_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the name: field 3 (state) is the first; field 22 is the 20th.
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(boot: &str, ns: &str, ticks: u64) -> ProcessIdentity {
        ProcessIdentity {
            boot_id: boot.into(),
            pid_namespace: ns.into(),
            start_ticks: ticks,
        }
    }

    #[test]
    fn start_time_is_read_after_a_command_name_with_spaces_and_parens() {
        let stat =
            "4242 (drplan (x) y) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 100 10";
        assert_eq!(parse_start_ticks(stat), Some(987654));
        assert_eq!(parse_start_ticks("garbage"), None);
    }

    #[test]
    fn a_holder_is_gone_only_when_it_ran_in_this_kernel_boot_and_pid_namespace() {
        let here = id("boot-a", "pid:[1]", 5);
        let holder = id("boot-a", "pid:[1]", 100);
        assert_eq!(judge(&holder, 7, Some(&here), |_| None), Liveness::Gone);
        assert_eq!(
            judge(&holder, 7, Some(&here), |_| Some(100)),
            Liveness::Running
        );
        // The pid was reused by a process started later.
        assert_eq!(
            judge(&holder, 7, Some(&here), |_| Some(300)),
            Liveness::Gone
        );
        // Another container (pid namespace), another boot, or no /proc here.
        let other_ns = id("boot-a", "pid:[2]", 100);
        assert_eq!(
            judge(&other_ns, 7, Some(&here), |_| None),
            Liveness::Unknown
        );
        let other_boot = id("boot-b", "pid:[1]", 100);
        assert_eq!(
            judge(&other_boot, 7, Some(&here), |_| None),
            Liveness::Unknown
        );
        assert_eq!(judge(&holder, 7, None, |_| None), Liveness::Unknown);
    }

    #[test]
    fn this_process_is_running() {
        if let Some(me) = ProcessIdentity::this_process() {
            assert_eq!(
                me.liveness(std::process::id(), Some(&me)),
                Liveness::Running
            );
        }
    }
}
