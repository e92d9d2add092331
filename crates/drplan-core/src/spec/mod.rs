//! Loading a project: HCL files -> evaluated, validated [`crate::model::Project`].
//!
//! Parsing is hcl-edit (it keeps spans, so every problem points at file, line and
//! column); evaluation is `hcl::eval` over contexts holding only what each block
//! refers to. The stages, in order: `files` (read + parse), `load` (collect blocks,
//! variables, evaluation order from `refs`/`order`, decoding each block through its
//! entry in `blocks`: the language's in `decode`, a family's in
//! `kinds::<family>::decode`), `checks` (across blocks), `backup_policy`, `lower`
//! (resources).
//!
//! **Architecture invariant:** the loader reads files under the project root and
//! nothing else; every problem becomes a [`Diagnostic`](diagnostic::SpecDiagnostic),
//! none panics or stops the load early.

pub mod backup_policy;
pub(crate) mod blocks;
pub(crate) mod body;
mod checks;
pub mod decode;
pub mod diagnostic;
pub mod duration;
pub(crate) mod environment;
mod extends;
pub mod files;
mod for_each;
mod functions;
mod import;
mod load;
pub mod lower;
mod modules;
mod moved;
mod order;
mod parity;
mod parts;
pub mod refs;
pub mod removed;
mod scope;
mod secret_snippets;
mod sensitivity;
mod split;
mod taint;
pub mod vars;

pub use diagnostic::{Diagnostics, Severity, SourceFile, SpecDiagnostic};
pub use load::{
    environment_names, load_all, load_all_with, load_project, load_project_from,
    load_project_generating, load_project_with, load_project_with_active_site,
    reload_with_active_site, secret_references, secret_references_in,
};
pub mod format;
