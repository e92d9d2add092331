//! Project copies on disk: tests edit a copy of an example, never the repository.

use std::path::Path;

/// Copies the tree `from` into `to` (created if missing).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    for entry in std::fs::read_dir(from)
        .unwrap_or_else(|e| panic!("read {}: {e}", from.display()))
        .flatten()
    {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copy {}: {e}", entry.path().display()));
        }
    }
}

/// Two sites (us-west-2 primary, us-east-1 dr) with a network each (10.10.0.0/16 and
/// 10.20.0.0/16): the smallest two-region topology the family tests build on.
pub const TWO_SITES_TWO_NETWORKS: &str = r#"
site "primary" {
  region = "us-west-2"
}

site "dr" {
  region = "us-east-1"
  role   = "dr"
}

network "primary" {
  site = site.primary
  cidr = "10.10.0.0/16"
}

network "dr" {
  site = site.dr
  cidr = "10.20.0.0/16"
}
"#;

/// Writes a one-file project under `root`: `spec` as specs/main.hcl and `environment`
/// as environments/prod.hcl.
pub fn write_project(root: &Path, spec: &str, environment: &str) {
    for sub in ["specs", "environments"] {
        std::fs::create_dir_all(root.join(sub)).unwrap_or_else(|e| panic!("create {sub}: {e}"));
    }
    std::fs::write(root.join("specs/main.hcl"), spec).expect("write specs/main.hcl");
    std::fs::write(root.join("environments/prod.hcl"), environment)
        .expect("write environments/prod.hcl");
}
