//! Issue 21, "Secrets": diagnostics quoted the environment-file line that holds a
//! secret (a misspelled variable name, a value of the wrong type).

use crate::spec_support::{write, BASE};
use drplan_core::spec;

const SECRET: &str = "hunter2-Sekret";

const SPEC: &str = r#"
variable "db_password" {
  type      = string
  sensitive = true
  validation {
    condition     = length(var.db_password) >= 20
    error_message = "too short: ${var.db_password}"
  }
}
variable "db_port" {
  type      = number
  sensitive = true
}
"#;

fn rendered(env: &str) -> String {
    let spec = format!("{BASE}{SPEC}");
    let dir = write(&[("specs/main.hcl", &spec), ("environments/test.hcl", env)]);
    match spec::load_project(dir.path(), "test") {
        Ok(_) => panic!("expected diagnostics"),
        Err(d) => format!("{}\n{d}", d.render(false, 100)),
    }
}

#[test]
fn a_misspelled_variable_in_the_environment_file_does_not_quote_its_value() {
    let out = rendered(&format!("stack = \"t\"\nvariables {{\n  db_pasword  = \"{SECRET}\"\n  db_password = \"long-enough-password-here\"\n  db_port     = 5432\n}}\n"));
    assert!(out.contains("db_pasword  = (value not shown)"), "{out}");
    assert!(out.contains("db_password = (sensitive value)"), "{out}");
    assert!(!out.contains(SECRET), "{out}");
}

#[test]
fn a_sensitive_value_of_the_wrong_type_is_not_quoted() {
    let out = rendered(&format!("stack = \"t\"\nvariables {{\n  db_password = \"long-enough-password-here\"\n  db_port     = \"{SECRET}\"\n}}\n"));
    assert!(out.contains("drplan::wrong_type"), "{out}");
    assert!(out.contains("db_port     = (sensitive value)"), "{out}");
    assert!(!out.contains(SECRET), "{out}");
}

#[test]
fn a_failed_validation_of_a_sensitive_variable_shows_neither_line_nor_message() {
    let out = rendered(&format!(
        "stack = \"t\"\nvariables {{\n  db_password = \"{SECRET}\"\n  db_port     = 5432\n}}\n"
    ));
    assert!(out.contains("drplan::variable_validation"), "{out}");
    assert!(!out.contains(SECRET), "{out}");
}
