//! A project written into a temp dir from (path, text) pairs, loaded with one env.
#![allow(dead_code)]

use drplan_core::model::Project;
use drplan_core::spec::{self, Diagnostics};
use std::path::{Path, PathBuf};

pub const BASE: &str = r#"
site "primary" {
  region = "us-west-2"
}

site "dr" {
  region = "us-east-1"
}
"#;

pub const ENV: &str = "stack = \"test\"\n";

pub fn write(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    dir
}

pub fn load(files: &[(&str, &str)]) -> Result<Project, Diagnostics> {
    let dir = write(files);
    spec::load_project(dir.path(), "test")
}

/// Loads `spec` (as specs/main.hcl, after the two BASE sites) with a minimal env and
/// returns the diagnostic codes.
pub fn codes(spec: &str) -> Vec<&'static str> {
    let text = format!("{BASE}{spec}");
    match load(&[("specs/main.hcl", &text), ("environments/test.hcl", ENV)]) {
        Ok(_) => Vec::new(),
        Err(d) => d.iter().map(|d| d.code).collect(),
    }
}

pub fn rendered(root: &Path, env: &str) -> String {
    match spec::load_project(root, env) {
        Ok(p) => format!("ok: {} resources", p.resources.len()),
        Err(d) => d.render(false, 100),
    }
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

/// A copy of the folder `from` (an example project) at `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let dest = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).expect("copy");
        }
    }
}
