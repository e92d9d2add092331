//! Saved plans (`drplan plan --out FILE`, read by `apply FILE` and `show FILE`).
//!
//! The file is the [`Plan`] as JSON. It holds no secret: sensitive values were
//! redacted by the diff, and `live_fingerprints` are one-way digests. A plan file from
//! a newer drplan with another major format version is refused rather than
//! half-understood.

use super::{Plan, FORMAT_VERSION};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PlanFileError {
    #[error("could not read the plan file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not write the plan file {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a drplan plan file: {reason}")]
    #[diagnostic(help("create one with `drplan plan -e ENV --out FILE`"))]
    NotAPlan { path: PathBuf, reason: String },
    #[error("{path} uses plan format {found}, but this drplan reads format {supported}.x")]
    #[diagnostic(help("use the drplan version that saved the plan, or plan again with this one"))]
    UnsupportedVersion {
        path: PathBuf,
        found: String,
        supported: String,
    },
}

/// Writes the plan atomically: a crash mid-write leaves the previous file (or none),
/// never a truncated plan that `apply` would then refuse with a confusing error.
pub fn save(plan: &Plan, path: &Path) -> Result<(), PlanFileError> {
    let write_err = |source| PlanFileError::Write {
        path: path.to_path_buf(),
        source,
    };
    let json = serde_json::to_vec_pretty(plan).map_err(|e| write_err(std::io::Error::other(e)))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(write_err)?;
    tmp.write_all(&json).map_err(write_err)?;
    tmp.write_all(b"\n").map_err(write_err)?;
    tmp.as_file().sync_all().map_err(write_err)?;
    tmp.persist(path).map_err(|e| write_err(e.error))?;
    Ok(())
}

pub fn load(path: &Path) -> Result<Plan, PlanFileError> {
    let bytes = std::fs::read(path).map_err(|source| PlanFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let not_a_plan = |reason: String| PlanFileError::NotAPlan {
        path: path.to_path_buf(),
        reason,
    };
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|e| not_a_plan(format!("invalid JSON ({e})")))?;
    let found = value
        .get("format_version")
        .and_then(Value::as_str)
        .ok_or_else(|| not_a_plan("it has no format_version".into()))?;
    if major(found) != major(FORMAT_VERSION) {
        return Err(PlanFileError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: found.to_string(),
            supported: major(FORMAT_VERSION).to_string(),
        });
    }
    let mut plan: Plan = serde_json::from_value(value).map_err(|e| not_a_plan(e.to_string()))?;
    // The attribute diffs are not in the file: computed again, by the same rules.
    plan.refresh_attr_diffs();
    Ok(plan)
}

fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}
