//! `import` blocks read with the spec: what they may name in one environment and not
//! in another.

use std::path::Path;

/// Regression: once the loader held the spec's blocks itself, an import's check of
/// whether its block varies by environment read emptied files, so prod-dr (and the
/// RTO check's reload with the DR site active) failed with "`...` is not in the
/// spec" for an import of a primary placement's CronJob that prod keeps.
#[test]
fn an_import_of_a_placement_the_active_site_does_not_make_still_loads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("lanka");
    crate::spec_support::copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lanka-platform"),
        &root,
    );
    let to = "backup.neo4j.placement.primary.cronjob.full";
    std::fs::write(
        root.join("specs/imports.hcl"),
        format!("import {{\n  to = {to}\n  id = \"neo4j-backup-full\"\n}}\n"),
    )
    .expect("write imports");
    let prod = drplan_core::spec::load_project(&root, "prod")
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    assert!(prod.imports.iter().any(|i| i.to.as_str() == to));
    let dr = drplan_core::spec::load_project(&root, "prod-dr")
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    assert!(
        dr.imports.is_empty(),
        "nothing to import where the placement is not made"
    );
}
