//! Modules (docs/spec-reference.md "Modules"): `module "app" { source = "./modules/app"
//! <input> = <expr> }` instantiates the blocks of a folder with inputs, as Terraform's
//! local modules do.
//!
//! Two steps. Before anything is evaluated, [`read_tree`] follows the `source` of every
//! `module` block (a literal path, relative to the file that declares it) and reads
//! each folder's `*.hcl` files once, into the same list as the project's specs: the
//! folders count in the spec digest, and diagnostics point into them like into any
//! spec. A missing folder, a path outside the project and a cycle of modules are
//! reported here. Then the loader makes the instances (`Loader::instantiate`): one per
//! `module` block, or per key of its `for_each`, each a [`Namespace`] of its own.
//!
//! **Addresses.** A module's blocks join the project's under a flattened label:
//! `network "main"` in `module "app"` is `network.app_main` (nested: `app_db_main`),
//! so addresses stay two dotted labels with no brackets or quotes, as ownership marks
//! need, and everything that reads an address works unchanged. `moved`, `removed`,
//! `import` and `--target` also take Terraform's form, `module.app.network.main`
//! ([`crate::address::Address::from_module_path`]).
//!
//! **Scope.** Inside a module: its inputs (`var.*`), its locals, its own blocks (and
//! those of the modules it calls, by their flattened labels), plus what is global:
//! sites and `env`. The caller's variables, locals and blocks reach it only as inputs.

use super::body::block_header;
use super::diagnostic::{Diagnostics, SpecDiagnostic};
use super::files::{self, DigestInputs, ParsedFile, Sources};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block};
use hcl_edit::Span;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Component, Path};

pub(super) use super::scope::Namespace;

/// The attributes of a `module` block that are not inputs.
pub(super) const META: &[&str] = &["source", "for_each"];

/// Modules may call modules; deeper than this is refused (a generated spec gone wrong).
const MAX_DEPTH: usize = 16;

/// A module folder, read once however many blocks call it.
pub(super) struct Folder {
    /// Relative to the project root: `specs/modules/app`.
    pub dir: String,
    /// Its files, as indices into the specs.
    pub files: Vec<usize>,
}

/// Every module folder the project reaches, and which folder each `module` block calls.
#[derive(Default)]
pub(super) struct Tree {
    /// The project's own spec files come first among the specs: this many.
    pub root_files: usize,
    pub folders: Vec<Folder>,
    by_dir: BTreeMap<String, usize>,
    /// (file index, start of the block's header) -> folder.
    calls: BTreeMap<(usize, usize), usize>,
}

impl Tree {
    /// The folder the `module` block `block` of `specs[file]` calls; `None` when its
    /// `source` was reported.
    pub fn folder_of(&self, file: usize, block: &Block) -> Option<&Folder> {
        let ix = self.calls.get(&(file, block_header(block).start))?;
        self.folders.get(*ix)
    }
}

/// Reads the folders the `module` blocks of `specs` call, recursively, appending their
/// files to `specs`.
pub(super) fn read_tree(
    sources: &Sources,
    specs: &mut Vec<ParsedFile>,
    diags: &mut Diagnostics,
    digest: &mut DigestInputs,
) -> Tree {
    let mut tree = Tree {
        root_files: specs.len(),
        ..Tree::default()
    };
    let root_files: Vec<usize> = (0..specs.len()).collect();
    let mut stack = vec!["specs".to_string()];
    walk(
        &root_files,
        sources,
        specs,
        &mut tree,
        &mut stack,
        diags,
        digest,
    );
    tree
}

fn walk(
    files: &[usize],
    sources: &Sources,
    specs: &mut Vec<ParsedFile>,
    tree: &mut Tree,
    stack: &mut Vec<String>,
    diags: &mut Diagnostics,
    digest: &mut DigestInputs,
) {
    for &f in files {
        // Each call: the start of its block, and its source with the source's span.
        type Call = (usize, Option<(String, Range<usize>)>);
        let calls: Vec<Call> = specs[f]
            .body
            .blocks()
            .filter(|b| b.ident.as_str() == "module")
            .map(|b| (block_header(b).start, source_of(&specs[f], b, diags)))
            .collect();
        for (start, source) in calls {
            let Some((rel, span)) = source else { continue };
            let file = specs[f].source.clone();
            let dir = match resolve(sources.root(), &file.path, &rel) {
                Ok(dir) => dir,
                Err(why) => {
                    diags.push(
                        SpecDiagnostic::new("drplan::module", why.0)
                            .at(&file, span, why.1)
                            .help(why.2),
                    );
                    continue;
                }
            };
            if let Some(at) = stack.iter().position(|d| *d == dir) {
                let mut chain: Vec<&str> = stack[at..].iter().map(String::as_str).collect();
                chain.push(&dir);
                diags.push(
                    SpecDiagnostic::new(
                        "drplan::cycle",
                        format!("module cycle: {}", chain.join(" -> ")),
                    )
                    .at(&file, span, "calls a folder that calls this one")
                    .help("a module cannot contain itself, directly or through other modules"),
                );
                continue;
            }
            if stack.len() > MAX_DEPTH {
                diags.push(
                    SpecDiagnostic::new(
                        "drplan::module",
                        format!("modules nest deeper than {MAX_DEPTH} levels"),
                    )
                    .at(&file, span, "one level too many")
                    .help("flatten the module tree"),
                );
                continue;
            }
            if let Some(&ix) = tree.by_dir.get(&dir) {
                tree.calls.insert((f, start), ix);
                continue;
            }
            let paths = files::hcl_files_in(sources.root(), &dir);
            if paths.is_empty() {
                diags.push(
                    SpecDiagnostic::new(
                        "drplan::module",
                        format!("module folder `{dir}` holds no .hcl files"),
                    )
                    .at(&file, span, "this folder")
                    .help(
                        "a module is a folder of .hcl files: variable, locals and resource blocks",
                    ),
                );
                continue;
            }
            let mut own = Vec::new();
            for p in &paths {
                if let Some(text) = files::read_text(sources, p, diags, digest) {
                    for part in super::parts::parse_spec(text, diags) {
                        specs.push(part);
                        own.push(specs.len() - 1);
                    }
                }
            }
            let ix = tree.folders.len();
            tree.folders.push(Folder {
                dir: dir.clone(),
                files: own.clone(),
            });
            tree.by_dir.insert(dir.clone(), ix);
            tree.calls.insert((f, start), ix);
            stack.push(dir);
            walk(&own, sources, specs, tree, stack, diags, digest);
            stack.pop();
        }
    }
}

/// The `source` attribute of a `module` block: a literal string (as in Terraform,
/// so the folders are known before anything is evaluated).
fn source_of(
    file: &ParsedFile,
    block: &Block,
    diags: &mut Diagnostics,
) -> Option<(String, Range<usize>)> {
    let Some(attr) = source_attribute(block) else {
        diags.push(
            SpecDiagnostic::new("drplan::missing_attribute", "`module` needs `source`")
                .at(&file.source, block_header(block), "`source` is missing")
                .help("name the module's folder: source = \"./modules/<name>\""),
        );
        return None;
    };
    let span = attr.value.span().unwrap_or(0..0);
    match &attr.value {
        Expression::String(s) => Some((s.value().to_string(), span)),
        _ => {
            diags.push(
                SpecDiagnostic::new("drplan::module", "a module's `source` must be a literal string")
                    .at(&file.source, span, "not a literal string")
                    .help("the folder is read before anything is evaluated: source = \"./modules/<name>\", without references or ${...}"),
            );
            None
        }
    }
}

fn source_attribute(block: &Block) -> Option<&Attribute> {
    block.body.attributes().find(|a| a.key.as_str() == "source")
}

/// (message, label, help)
struct Why(String, &'static str, String);

/// The folder `source` names, relative to the project root: resolved against the
/// folder of the file that declares the module, and required to stay in the project.
fn resolve(root: &Path, declaring_file: &str, source: &str) -> Result<String, Why> {
    if !(source.starts_with("./") || source.starts_with("../")) {
        return Err(Why(
            format!("module source `{source}` is not a local folder"),
            "not ./ or ../",
            "a module is a folder of the project, named relative to this file: \"./modules/<name>\"; registry and git sources are not supported".into(),
        ));
    }
    let mut parts: Vec<String> = Path::new(declaring_file)
        .parent()
        .map(|p| {
            p.components()
                .filter_map(|c| match c {
                    Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    for c in Path::new(source).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(outside(source));
                }
            }
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            _ => return Err(outside(source)),
        }
    }
    let dir = parts.join("/");
    let full = root.join(&dir);
    if !full.is_dir() {
        return Err(Why(
            format!("module folder `{dir}` does not exist"),
            "no such folder",
            format!(
                "`source` is relative to the folder of this file; create {dir}/ with the module's .hcl files"
            ),
        ));
    }
    // A symlink out of the project is outside it too: the loader reads the project only.
    let inside = match (full.canonicalize(), root.canonicalize()) {
        (Ok(f), Ok(r)) => f.starts_with(r),
        _ => true,
    };
    if dir.is_empty() || !inside {
        return Err(outside(source));
    }
    Ok(dir)
}

fn outside(source: &str) -> Why {
    Why(
        format!("module source `{source}` is outside the project"),
        "outside the project",
        "modules live in the project, e.g. specs/modules/<name> or modules/<name>".into(),
    )
}
