//! Every mistake in a project is reported in one run, at the right place.

use crate::spec_support::*;

#[test]
fn broken_fixture_reports_every_mistake() {
    let out = rendered(&fixture("broken"), "prod");
    insta::assert_snapshot!(out);
    for code in [
        "drplan::unknown_variable",
        "drplan::wrong_type",
        "drplan::node_group_size",
        "drplan::unresolved_reference",
        "drplan::cycle",
        "drplan::wrong_kind",
        "drplan::unknown_block",
        "drplan::required_variable",
        "drplan::unknown_attribute",
        "drplan::subnet_outside_network",
        "drplan::availability_zone",
        "drplan::bucket_name",
        "drplan::replication",
        "drplan::schedule",
        "drplan::retention",
    ] {
        assert!(out.contains(code), "missing {code}");
    }
}

#[test]
fn valid_fixture_loads_for_every_environment() {
    let all = drplan_core::spec::load_all(&fixture("valid")).expect("environments");
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["prod", "prod-dr"]);
    for (env, result) in all {
        let p = result.unwrap_or_else(|d| panic!("{env}: {}", d.render(false, 100)));
        let aws = p
            .resources
            .iter()
            .filter(|r| r.kind != drplan_core::resource::Kind::K8sObject)
            .count();
        assert_eq!(aws, 15, "{env}");
        // The backup policy's CronJobs; under DR activation also its restore Job and
        // the namespace of the `kubernetes` block enabled only then.
        let k8s = p.resources.len() - aws;
        assert_eq!(k8s, if env == "prod" { 2 } else { 4 }, "{env}");
        assert_eq!(p.topology.sites.len(), 2);
    }
}

#[test]
fn missing_environment_lists_the_existing_ones() {
    let out = rendered(&fixture("valid"), "prd");
    assert!(out.contains("drplan::missing_environment"), "{out}");
    assert!(out.contains("did you mean `prod`?"), "{out}");
    assert!(out.contains("prod, prod-dr"), "{out}");
}

#[test]
fn syntax_errors_point_at_the_position() {
    let out = match load(&[
        ("specs/a.hcl", "site \"x\" {\n  region = \n}\n"),
        ("environments/test.hcl", ENV),
    ]) {
        Ok(_) => String::new(),
        Err(d) => d.render(false, 100),
    };
    assert!(out.contains("drplan::syntax"), "{out}");
    assert!(
        out.contains("[specs/a.hcl:3:1]") || out.contains("[specs/a.hcl:2:"),
        "{out}"
    );
}

/// Regression (found by fuzz_loader): a label more than 65,535 columns into a line
/// made miette's renderer panic. Such positions are named instead of drawn.
#[test]
fn labels_far_right_on_a_long_line_render() {
    let spec = format!(
        "locals {{ x = \"{}\" }}\nsit \"x\" {{}}\nlocals {{ y = 1 }} {}bogus {{}}\n",
        "a".repeat(70_000),
        " ".repeat(70_000)
    );
    let d = load(&[("specs/main.hcl", &spec), ("environments/test.hcl", ENV)]).expect_err("errors");
    let out = d.render(false, 100);
    assert!(
        out.contains("drplan::syntax") || out.contains("drplan::unknown_block"),
        "{out}"
    );
    assert!(out.contains("specs/main.hcl:"), "{out}");
}
