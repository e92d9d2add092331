//! Golden plan folders (issue 15): each folder under `tests/golden/` is a project
//! (`specs/`, `environments/test.hcl`), the live state the plan is made against
//! (`live.json`, a serialized `LiveState`; none: an empty cloud) and the plan as a user
//! reads it (`expected.txt`: the text rendering, no colour). A new case is a folder;
//! `DRPLAN_UPDATE_GOLDEN=1` writes the expected files after a deliberate change.

use drplan_core::live::LiveState;
use drplan_core::plan::diff::DiffContext;
use drplan_core::render::text::{self, TextOptions};
use std::path::{Path, PathBuf};

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn plan_text(dir: &Path) -> String {
    let project = drplan_core::spec::load_project(dir, "test")
        .unwrap_or_else(|d| panic!("{}: {}", dir.display(), d.render(false, 100)));
    let live: LiveState = match std::fs::read_to_string(dir.join("live.json")) {
        Ok(text) => serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}/live.json: {e}", dir.display())),
        Err(_) => LiveState::default(),
    };
    let ctx = DiffContext {
        stack: project.environment.stack.clone(),
        environment: project.env_name.clone(),
        spec_digest: project.digest.clone(),
        imports: project.imports.clone(),
        removed: project.removed.clone(),
        site_regions: project
            .topology
            .sites
            .values()
            .map(|s| (s.region.clone(), s.name.clone()))
            .collect(),
        ..Default::default()
    };
    let plan = drplan_core::plan::failback::diff_project(&project, &live, &ctx);
    text::plan(&plan, &TextOptions { color: false })
}

#[test]
fn golden_plans_render_as_expected() {
    let cases = cases();
    assert!(!cases.is_empty(), "no golden cases");
    let update = std::env::var_os("DRPLAN_UPDATE_GOLDEN").is_some();
    let mut failed = Vec::new();
    for dir in cases {
        let got = plan_text(&dir);
        let file = dir.join("expected.txt");
        if update {
            std::fs::write(&file, &got).expect("write expected.txt");
            continue;
        }
        let want = std::fs::read_to_string(&file).unwrap_or_default();
        if got != want {
            failed.push(format!(
                "{}:\n{}",
                dir.display(),
                similar::TextDiff::from_lines(&want, &got)
                    .unified_diff()
                    .header("expected.txt", "got")
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
