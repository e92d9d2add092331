//! Who holds a lock, as the next apply shows it: `user@host` at a desk; in CI, the
//! job (`$USER` is usually unset there, which once showed as `unknown@vm`).

/// Describes this process from its environment (`var`) and host name.
pub fn describe(var: impl Fn(&str) -> Option<String>, host: &str) -> String {
    let get = |k: &str| var(k).filter(|v| !v.trim().is_empty());
    if get("GITHUB_ACTIONS").is_some() {
        let repo = get("GITHUB_REPOSITORY").unwrap_or_else(|| "?".into());
        let mut s = format!("GitHub Actions {repo}");
        if let Some(workflow) = get("GITHUB_WORKFLOW") {
            s.push_str(&format!(" workflow \"{workflow}\""));
        }
        if let Some(job) = get("GITHUB_JOB") {
            s.push_str(&format!(" job {job}"));
        }
        if let (Some(server), Some(run)) = (get("GITHUB_SERVER_URL"), get("GITHUB_RUN_ID")) {
            s.push_str(&format!(" ({server}/{repo}/actions/runs/{run})"));
        }
        if let Some(actor) = get("GITHUB_ACTOR") {
            s.push_str(&format!(" started by {actor}"));
        }
        return format!("{s} on {host}");
    }
    if get("GITLAB_CI").is_some() {
        let project = get("CI_PROJECT_PATH").unwrap_or_else(|| "?".into());
        let mut s = format!("GitLab CI {project}");
        if let Some(job) = get("CI_JOB_NAME") {
            s.push_str(&format!(" job {job}"));
        }
        if let Some(url) = get("CI_JOB_URL") {
            s.push_str(&format!(" ({url})"));
        }
        if let Some(user) = get("GITLAB_USER_LOGIN") {
            s.push_str(&format!(" started by {user}"));
        }
        return format!("{s} on {host}");
    }
    if get("CI").is_some() {
        let url = [
            "BUILD_URL",
            "BUILDKITE_BUILD_URL",
            "CIRCLE_BUILD_URL",
            "CI_JOB_URL",
        ]
        .iter()
        .find_map(|k| get(k));
        let job = ["CI_JOB_NAME", "JOB_NAME", "BUILDKITE_LABEL", "CIRCLE_JOB"]
            .iter()
            .find_map(|k| get(k));
        let mut s = "a CI job".to_string();
        if let Some(job) = job {
            s.push_str(&format!(" {job}"));
        }
        if let Some(url) = url {
            s.push_str(&format!(" ({url})"));
        }
        return format!("{s} on {host}");
    }
    match get("USER")
        .or_else(|| get("USERNAME"))
        .or_else(|| get("LOGNAME"))
    {
        Some(user) => format!("{user}@{host}"),
        None => format!("a process on {host} ($USER unset)"),
    }
}

/// This process, from the real environment.
pub fn this_process() -> String {
    let host = hostname::get()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "an unnamed host".into());
    describe(|k| std::env::var(k).ok(), &host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> String {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        describe(|k| map.get(k).cloned(), "vm")
    }

    #[test]
    fn the_lock_holder_is_named_by_its_ci_job_or_host_when_user_is_unset() {
        assert_eq!(with(&[("USER", "ana")]), "ana@vm");
        assert_eq!(with(&[]), "a process on vm ($USER unset)");
        assert_eq!(
            with(&[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_REPOSITORY", "lanka/infra"),
                ("GITHUB_WORKFLOW", "failover"),
                ("GITHUB_JOB", "apply"),
                ("GITHUB_SERVER_URL", "https://github.com"),
                ("GITHUB_RUN_ID", "42"),
                ("GITHUB_ACTOR", "ana"),
            ]),
            "GitHub Actions lanka/infra workflow \"failover\" job apply (https://github.com/lanka/infra/actions/runs/42) started by ana on vm"
        );
        assert_eq!(
            with(&[
                ("GITLAB_CI", "true"),
                ("CI_PROJECT_PATH", "ops/dr"),
                ("CI_JOB_NAME", "apply"),
                ("CI_JOB_URL", "https://gitlab.example/ops/dr/-/jobs/7")
            ]),
            "GitLab CI ops/dr job apply (https://gitlab.example/ops/dr/-/jobs/7) on vm"
        );
        assert_eq!(
            with(&[("CI", "true"), ("BUILD_URL", "https://jenkins/job/dr/3/")]),
            "a CI job (https://jenkins/job/dr/3/) on vm"
        );
    }
}
