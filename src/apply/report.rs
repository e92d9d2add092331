//! What an apply did, rendered for humans on stderr.

use drplan_core::address::Address;
use drplan_core::plan::Action;
use drplan_core::resource::Kind;
use std::fmt::Write;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    Done,
    /// With the error as the user should read it (AWS operation, code and message).
    Failed(String),
    NotStarted,
    /// A change it depends on (`because`) failed.
    Skipped {
        because: String,
    },
    /// In flight when a stopped apply gave up waiting: it may or may not have taken
    /// effect; the next plan shows which.
    Interrupted,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReportEntry {
    pub address: Address,
    pub kind: Kind,
    /// Create, Update or Delete (a replace appears as a Delete and a Create).
    pub action: Action,
    pub status: Status,
    pub elapsed: Option<Duration>,
    /// When it finished, counted from the start of the apply (a DR activation's
    /// record: start to DNS flip).
    pub finished_after: Option<Duration>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApplyReport {
    pub entries: Vec<ReportEntry>,
    pub wall_time: Duration,
    /// Why the apply stopped starting changes (a signal, a lost lock), if it did.
    pub stopped: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub added: usize,
    pub changed: usize,
    pub destroyed: usize,
    pub forgotten: usize,
    pub failed: usize,
    pub skipped: usize,
    pub not_started: usize,
    pub interrupted: usize,
}

impl ApplyReport {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for e in &self.entries {
            match (&e.status, e.action) {
                (Status::Done, Action::Create) => c.added += 1,
                (Status::Done, Action::Update) => c.changed += 1,
                (Status::Done, Action::Delete) => c.destroyed += 1,
                (Status::Done, Action::Forget) => c.forgotten += 1,
                (Status::Done, _) => {}
                (Status::Failed(_), _) => c.failed += 1,
                (Status::Skipped { .. }, _) => c.skipped += 1,
                (Status::NotStarted, _) => c.not_started += 1,
                (Status::Interrupted, _) => c.interrupted += 1,
            }
        }
        c
    }

    pub fn succeeded(&self) -> bool {
        self.entries.iter().all(|e| e.status == Status::Done)
    }

    /// The final summary line.
    pub fn summary(&self) -> String {
        let c = self.counts();
        let forgotten = match c.forgotten {
            0 => String::new(),
            n => format!(", {n} forgotten"),
        };
        let resources = format!(
            "{} added, {} changed, {} destroyed{forgotten}",
            c.added, c.changed, c.destroyed
        );
        if self.succeeded() {
            return format!("Apply complete! Resources: {resources}.");
        }
        let mut parts = vec![format!("{} change(s) failed", c.failed)];
        if c.skipped > 0 {
            parts.push(format!(
                "{} skipped because a change they depend on failed",
                c.skipped
            ));
        }
        parts.push(format!("{} not started", c.not_started));
        if c.interrupted > 0 {
            parts.push(format!("{} interrupted in flight", c.interrupted));
        }
        let head = match &self.stopped {
            Some(cause) => format!("Apply stopped ({cause})"),
            None => "Apply failed".to_string(),
        };
        format!("{head}: {}. Done: {resources}.", parts.join(", "))
    }

    /// The whole report: what was done, what failed and why, what did not run, then the
    /// summary. Rerunning `drplan apply` after fixing the cause continues from here.
    pub fn render_text(&self) -> String {
        let mut out = self.render_details();
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&self.summary());
        out.push('\n');
        out
    }

    /// The report without its summary line (which `drplan apply` prints on stdout, so a
    /// terminal shows it once).
    pub fn render_details(&self) -> String {
        let mut out = String::new();
        let section = |out: &mut String, title: &str, lines: Vec<String>| {
            if !lines.is_empty() {
                let _ = writeln!(out, "{title}:");
                for l in lines {
                    let _ = writeln!(out, "  {l}");
                }
            }
        };
        let done = |action: Action| {
            self.entries
                .iter()
                .filter(|e| e.status == Status::Done && e.action == action)
                .map(|e| format!("{}{}", e.address, elapsed(e.elapsed)))
                .collect::<Vec<_>>()
        };
        section(&mut out, "Created", done(Action::Create));
        section(&mut out, "Changed", done(Action::Update));
        section(&mut out, "Destroyed", done(Action::Delete));
        let failed = self
            .entries
            .iter()
            .filter_map(|e| match &e.status {
                Status::Failed(msg) => Some(format!("{} ({}): {msg}", e.address, verb(e.action))),
                _ => None,
            })
            .collect();
        section(&mut out, "Failed", failed);
        let lines = |pick: &dyn Fn(&Status) -> Option<String>| -> Vec<String> {
            self.entries
                .iter()
                .filter_map(|e| {
                    pick(&e.status).map(|why| format!("{} ({}){why}", e.address, verb(e.action)))
                })
                .collect()
        };
        let skipped = lines(&|s| match s {
            Status::Skipped { because } => Some(format!(": skipped because {because} failed")),
            _ => None,
        });
        section(&mut out, "Skipped", skipped);
        let interrupted = lines(&|s| {
            (*s == Status::Interrupted).then(|| {
                ": in flight when the apply stopped waiting; the next plan shows its state"
                    .to_string()
            })
        });
        section(&mut out, "Interrupted", interrupted);
        let not_started = lines(&|s| (*s == Status::NotStarted).then(String::new));
        section(&mut out, "Not started", not_started);
        out
    }
}

fn elapsed(d: Option<Duration>) -> String {
    d.map(|d| format!(" ({:.1}s)", d.as_secs_f64()))
        .unwrap_or_default()
}

fn verb(a: Action) -> &'static str {
    match a {
        Action::Create => "create",
        Action::Update => "update",
        Action::Delete => "delete",
        Action::Replace => "replace",
        Action::Forget => "forget",
        Action::NoOp => "no-op",
    }
}

/// Progress line wording, Terraform-familiar.
pub fn verb_ing(a: Action) -> &'static str {
    match a {
        Action::Create => "Creating",
        Action::Update => "Modifying",
        Action::Delete => "Destroying",
        Action::Replace => "Replacing",
        Action::Forget => "Forgetting",
        Action::NoOp => "Reading",
    }
}

pub fn verb_done(a: Action) -> &'static str {
    match a {
        Action::Create => "Creation complete",
        Action::Update => "Modifications complete",
        Action::Delete => "Destruction complete",
        Action::Replace => "Replacement complete",
        Action::Forget => "Forgotten (kept, marks dropped)",
        Action::NoOp => "Read complete",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(address: &str, action: Action, status: Status, ms: Option<u64>) -> ReportEntry {
        ReportEntry {
            address: Address::new(address),
            kind: Kind::Vpc,
            action,
            status,
            elapsed: ms.map(Duration::from_millis),
            finished_after: None,
        }
    }

    #[test]
    fn a_successful_apply_ends_with_terraforms_summary_line() {
        let r = ApplyReport {
            entries: vec![
                entry("network.main", Action::Create, Status::Done, Some(1200)),
                entry("bucket.backups", Action::Update, Status::Done, Some(300)),
                entry("network.old", Action::Delete, Status::Done, Some(120)),
            ],
            wall_time: Duration::from_secs(2),
            stopped: None,
        };
        assert!(r.succeeded());
        insta::assert_snapshot!(r.render_text(), @r"
        Created:
          network.main (1.2s)
        Changed:
          bucket.backups (0.3s)
        Destroyed:
          network.old (0.1s)

        Apply complete! Resources: 1 added, 1 changed, 1 destroyed.
        ");
    }

    #[test]
    fn a_failed_apply_names_the_error_and_what_did_not_run() {
        let r = ApplyReport {
            entries: vec![
                entry("network.main", Action::Create, Status::Done, Some(1000)),
                entry(
                    "cluster.app",
                    Action::Create,
                    Status::Failed(
                        "CreateCluster: InvalidParameterException: role not found".into(),
                    ),
                    Some(400),
                ),
                entry(
                    "cluster.app.node_group.general",
                    Action::Create,
                    Status::Skipped {
                        because: "cluster.app".into(),
                    },
                    None,
                ),
                entry("bucket.logs", Action::Create, Status::NotStarted, None),
            ],
            wall_time: Duration::from_secs(2),
            stopped: None,
        };
        assert!(!r.succeeded());
        insta::assert_snapshot!(r.render_text(), @r"
        Created:
          network.main (1.0s)
        Failed:
          cluster.app (create): CreateCluster: InvalidParameterException: role not found
        Skipped:
          cluster.app.node_group.general (create): skipped because cluster.app failed
        Not started:
          bucket.logs (create)

        Apply failed: 1 change(s) failed, 1 skipped because a change they depend on failed, 1 not started. Done: 1 added, 0 changed, 0 destroyed.
        ");
    }

    #[test]
    fn a_stopped_apply_says_why_and_what_was_in_flight() {
        let r = ApplyReport {
            entries: vec![
                entry("network.main", Action::Create, Status::Done, Some(1000)),
                entry("cluster.app", Action::Create, Status::Interrupted, None),
                entry("bucket.logs", Action::Create, Status::NotStarted, None),
            ],
            wall_time: Duration::from_secs(2),
            stopped: Some("SIGTERM".into()),
        };
        insta::assert_snapshot!(r.render_text(), @r"
        Created:
          network.main (1.0s)
        Interrupted:
          cluster.app (create): in flight when the apply stopped waiting; the next plan shows its state
        Not started:
          bucket.logs (create)

        Apply stopped (SIGTERM): 0 change(s) failed, 1 not started, 1 interrupted in flight. Done: 1 added, 0 changed, 0 destroyed.
        ");
    }
}
