//! Saved plans: round trip, atomic writes, refusal of unknown formats, no secrets.

use crate::plan_fixture::{rich_plan, SECRET_DESIRED, SECRET_LIVE};
use drplan_core::plan::file::{load, save, PlanFileError};

#[test]
fn a_saved_plan_loads_back_identical() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("prod.plan");
    let plan = rich_plan();
    save(&plan, &path).expect("save");
    assert_eq!(load(&path).expect("load"), plan);

    // Overwriting leaves exactly the plan file: the temporary file was renamed.
    save(&plan, &path).expect("save again");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("prod.plan")]);
}

#[test]
fn a_saved_plan_holds_no_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("prod.plan");
    save(&rich_plan(), &path).expect("save");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(!text.contains(SECRET_LIVE) && !text.contains(SECRET_DESIRED));
    assert!(text.contains("\"format_version\": \"1.0\""));
}

#[test]
fn a_newer_minor_version_is_read_and_a_newer_major_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.json");
    let mut value = serde_json::to_value(rich_plan()).expect("to value");

    value["format_version"] = "1.7".into();
    std::fs::write(&path, value.to_string()).expect("write");
    assert!(load(&path).is_ok());

    value["format_version"] = "2.0".into();
    std::fs::write(&path, value.to_string()).expect("write");
    let err = load(&path).expect_err("major 2 refused");
    assert!(matches!(err, PlanFileError::UnsupportedVersion { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "{} uses plan format 2.0, but this drplan reads format 1.x",
            path.display()
        )
    );
}

#[test]
fn other_files_are_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "hello").expect("write");
    let err = load(&path).expect_err("not JSON");
    assert!(err.to_string().starts_with(&format!(
        "{} is not a drplan plan file: invalid JSON",
        path.display()
    )));

    std::fs::write(&path, "{\"stack\": \"x\"}").expect("write");
    let err = load(&path).expect_err("no version");
    assert_eq!(
        err.to_string(),
        format!(
            "{} is not a drplan plan file: it has no format_version",
            path.display()
        )
    );

    let missing = dir.path().join("missing.plan");
    let err = load(&missing).expect_err("missing");
    assert_eq!(
        err.to_string(),
        format!("could not read the plan file {}", missing.display())
    );
}

#[test]
fn saving_into_a_missing_folder_fails_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("no/such/dir/prod.plan");
    let err = save(&rich_plan(), &path).expect_err("no folder");
    assert!(matches!(err, PlanFileError::Write { .. }));
}
