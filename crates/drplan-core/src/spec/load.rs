//! The loader: files -> blocks -> dependency order -> evaluated, decoded, checked
//! topology -> resources. Every stage records problems and carries on.

use super::backup_policy;
use super::blocks;
use super::body::{self, block_header, Schema};
use super::checks;
use super::decode::{self, variable, Cx, FamilyBlock, SpanTable};
use super::diagnostic::{did_you_mean, Diagnostics, SourceFile, SpecDiagnostic};
use super::environment::{self, EnvSettings};
use super::extends;
use super::files::{self, DigestInputs, ParsedFile, Sources};
use super::for_each;
use super::import;
use super::lower;
use super::modules::{self, Namespace, Tree};
use super::moved;
use super::order::{self, Node};
use super::parity;
use super::parts;
use super::refs::{self, Reference};
use super::removed;
use super::scope::{Scope, EACH};
use super::secret_snippets::SecretSpans;
use super::sensitivity;
use super::taint::{self, Taint};
use super::vars::{self, VarInputs};
use crate::model::{Environment, Project, SiteRole, Topology, Variable};
use hcl::{Map, Value};
use hcl_edit::structure::{Attribute, Block, Body, Structure};
use hcl_edit::Span;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

/// Environment names found in `environments/`, sorted.
pub fn environment_names(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = files::hcl_files_in(root, "environments")
        .into_iter()
        .filter_map(|p| {
            p.strip_prefix("environments/")
                .and_then(|n| n.strip_suffix(".hcl"))
                .map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

/// One environment's name and what loading the project with it gave.
pub type EnvironmentLoad = (String, Result<Project, Diagnostics>);

/// Loads every environment (for `drplan validate` without `-e`).
pub fn load_all(root: &Path) -> Result<Vec<EnvironmentLoad>, Diagnostics> {
    load_all_with(root, &VarInputs::default())
}

/// [`load_all`] with variable values from the command line and process (`spec::vars`).
pub fn load_all_with(root: &Path, vars: &VarInputs) -> Result<Vec<EnvironmentLoad>, Diagnostics> {
    let names = environment_names(root);
    if names.is_empty() {
        let mut d = Diagnostics::default();
        d.push(
            SpecDiagnostic::new(
                "drplan::missing_environment",
                format!("no environments in {}", root.join("environments").display()),
            )
            .help("create environments/<env>.hcl with at least stack = \"<name>\""),
        );
        return Err(d);
    }
    Ok(names
        .into_iter()
        .map(|n| {
            let r = load_project_with(root, &n, vars);
            (n, r)
        })
        .collect())
}

pub fn load_project(root: &Path, env: &str) -> Result<Project, Diagnostics> {
    load(&Sources::new(root), env, None, &VarInputs::default())
}

/// [`load_project`] with variable values from the command line and the process
/// environment (`spec::vars`).
pub fn load_project_with(root: &Path, env: &str, vars: &VarInputs) -> Result<Project, Diagnostics> {
    load(&Sources::new(root), env, None, vars)
}

/// [`load_project_with`] over files already read (`Sources`): the binary reads the
/// project once per run, for the secret references and the load alike.
pub fn load_project_from(
    sources: &Arc<Sources>,
    env: &str,
    vars: &VarInputs,
) -> Result<Project, Diagnostics> {
    load(sources, env, None, vars)
}

/// `project` loaded again as if its environment's `active_site` were `site`, with the
/// same variable inputs.
pub fn reload_with_active_site(project: &Project, site: &str) -> Result<Project, Diagnostics> {
    // The files as this load read them: no file is read again.
    load(
        &project.sources,
        &project.env_name,
        Some(site),
        &project.vars,
    )
}

/// The environment evaluated as if its `active_site` were `site`: the RTO check
/// compares an environment in normal operation with the same one under DR activation
/// (`site.dr.active`), and one of the two is not what the file says.
pub fn load_project_with_active_site(
    root: &Path,
    env: &str,
    site: &str,
) -> Result<Project, Diagnostics> {
    load(&Sources::new(root), env, Some(site), &VarInputs::default())
}

/// The `secret` blocks of environment `env` (and the environments it extends): what
/// the binary reads from secret stores before [`load_project_with`]
/// (`VarInputs::secrets`). Problems are reported by the load itself, so this returns
/// what it could read.
pub fn secret_references(root: &Path, env: &str) -> Vec<crate::model::environment::SecretRef> {
    secret_references_in(&Sources::new(root), env)
}

/// [`secret_references`] over files already read.
pub fn secret_references_in(
    sources: &Sources,
    env: &str,
) -> Vec<crate::model::environment::SecretRef> {
    let mut diags = Diagnostics::default();
    let mut digest = DigestInputs::default();
    let Some(file) = read_environment(sources, env, &mut diags, &mut digest) else {
        return Vec::new();
    };
    let mut settings = environment::decode(&file, &Scope::new(), &mut diags);
    extends::resolve(
        sources,
        env,
        &file,
        &mut settings,
        1,
        &mut diags,
        &mut digest,
    );
    settings.secrets.into_values().map(|(r, _, _)| r).collect()
}

/// Loads the project; the diagnostics never quote a value that may be secret
/// (`secret_snippets`).
fn load(
    sources: &Arc<Sources>,
    env: &str,
    active_site: Option<&str>,
    vars: &VarInputs,
) -> Result<Project, Diagnostics> {
    let mut secrets = SecretSpans::default();
    match load_unredacted(sources, env, active_site, vars, false, &mut secrets) {
        Ok(mut p) => {
            p.warnings = secrets.redact(std::mem::take(&mut p.warnings));
            Ok(p)
        }
        Err(d) => Err(secrets.redact(d)),
    }
}

/// [`load_project_with`] for `drplan import --generate-config-out`: an `import`
/// block whose `to` no spec block makes is not an error but kept in
/// `Project::unwritten_imports`, the spec blocks to write.
pub fn load_project_generating(
    sources: &Arc<Sources>,
    env: &str,
    vars: &VarInputs,
) -> Result<Project, Diagnostics> {
    let mut secrets = SecretSpans::default();
    load_unredacted(sources, env, None, vars, true, &mut secrets).map_err(|d| secrets.redact(d))
}

fn load_unredacted(
    sources: &Arc<Sources>,
    env: &str,
    active_site: Option<&str>,
    vars: &VarInputs,
    generating: bool,
    secrets: &mut SecretSpans,
) -> Result<Project, Diagnostics> {
    let root = sources.root();
    let mut diags = Diagnostics::default();
    let mut digest = DigestInputs::default();
    if !root.is_dir() {
        diags.push(
            SpecDiagnostic::new(
                "drplan::no_project",
                format!("the project directory {} does not exist", root.display()),
            )
            .help("-C names the project root: the folder holding specs/ and environments/"),
        );
        return Err(diags);
    }

    let spec_paths = files::hcl_files_in(root, "specs");
    if spec_paths.is_empty() {
        diags.push(
            SpecDiagnostic::new(
                "drplan::no_specs",
                format!("no spec files in {}", root.join("specs").display()),
            )
            .help("write the topology in specs/*.hcl, or point -C at the project root"),
        );
    }
    let mut specs: Vec<ParsedFile> = Vec::new();
    for p in &spec_paths {
        if let Some(text) = files::read_text(sources, p, &mut diags, &mut digest) {
            specs.extend(parts::parse_spec(text, &mut diags));
        }
    }

    crate::probe::stage("parsed");
    let tree = modules::read_tree(sources, &mut specs, &mut diags, &mut digest);

    let env_file = read_environment(sources, env, &mut diags, &mut digest);
    // Without its environment file nothing else can be judged: every variable would
    // be reported as having no value, burying the one error that matters.
    let Some(env_parsed) = &env_file else {
        *secrets = SecretSpans::collect(&specs, &[]);
        diags.sort();
        return Err(diags);
    };
    let mut env_settings = environment::decode(env_parsed, &Scope::new(), &mut diags);
    let bases = extends::resolve(
        sources,
        env,
        env_parsed,
        &mut env_settings,
        1,
        &mut diags,
        &mut digest,
    );
    let extends: Vec<String> = bases
        .iter()
        .filter_map(|b| {
            b.source
                .path
                .strip_prefix("environments/")
                .and_then(|n| n.strip_suffix(".hcl"))
                .map(str::to_string)
        })
        .collect();
    let var_sources = vars::apply(
        sources,
        vars,
        env_parsed,
        bases,
        &mut env_settings,
        &mut diags,
        &mut digest,
    );
    *secrets = SecretSpans::collect(&specs, &var_sources);
    if let Some(site) = active_site {
        let span = env_settings
            .active_site
            .take()
            .map(|(_, span)| span)
            .unwrap_or(0..0);
        env_settings.active_site = Some((site.to_string(), span));
    }

    crate::probe::stage("before loader");
    let mut loader = Loader::new(Scope::new(), diags, env);
    // The trees move into the items, which free each block once it is evaluated: a
    // large spec's trees are most of the load's memory (BENCHMARKS.md, section 9).
    let shared = share_blocks(&mut specs);
    let mut items = loader.collect_items(&specs, &shared, &tree);
    loader.variables(&items, &env_settings, &var_sources);
    loader.instantiate(&specs, &shared, &tree, &mut items);
    drop(shared);
    crate::probe::stage("before evaluate");
    let active_site = loader.evaluate(
        &mut items,
        &env_settings,
        var_sources.get(env_settings.active_site_file),
    );
    drop(items);

    crate::probe::stage("evaluated");
    let Loader {
        scope,
        mut diags,
        spans,
        mut topology,
        moved: moved_blocks,
        removed: removed_blocks,
        imports: import_blocks,
        mirrors,
        ..
    } = loader;
    checks::run(
        sources,
        &topology,
        &spans,
        &env_settings,
        &var_sources,
        &mut diags,
        &mut digest,
    );
    drop(spans);

    let Some(stack) = env_settings.stack.clone() else {
        diags.sort();
        if diags.is_empty() {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::missing_environment",
                    "the environment has no stack",
                )
                .help("set stack = \"<name>\""),
            );
        }
        return Err(diags);
    };
    if !diags.is_empty() {
        diags.sort();
        return Err(diags);
    }
    let environment = Environment {
        stack,
        account_id: env_settings.account_id.clone(),
        active_site: active_site.unwrap_or_default(),
        lock: env_settings.lock.clone(),
        cluster_access: env_settings
            .cluster_access
            .iter()
            .map(|(k, (a, _))| (k.clone(), a.clone()))
            .collect(),
        site_accounts: env_settings
            .site_accounts
            .iter()
            .map(|(site, (a, _, _))| (site.clone(), a.clone()))
            .collect(),
    };
    let stand_ins = scope.has_taint().then(|| {
        stand_in_resources(
            sources,
            env,
            reparse(&specs),
            &tree,
            &env_settings,
            &var_sources,
            &environment,
        )
    });
    let roots = scope.published_json(&["var", "local", "env"]);
    // Lowering needs none of the syntax trees nor the evaluation's scope, and of a
    // large spec they are most of the load's memory (BENCHMARKS.md, section 1): only
    // the files stay, for the diagnostics below.
    let (files, mirrored): (Vec<SourceFile>, Option<Vec<ParsedFile>>) = if mirrors.is_empty() {
        (specs.into_iter().map(|f| f.source).collect(), None)
    } else {
        (
            specs.iter().map(|f| f.source.clone()).collect(),
            Some(reparse(&specs)),
        )
    };
    drop(scope);
    crate::probe::stage("scope dropped");
    backup_policy::compile(&mut topology);
    let mut resources = lower::lower(&topology, &environment);
    match crate::kubernetes::lower(&topology, &environment, sources, &roots) {
        Ok(objects) => {
            resources.extend(objects);
            lower::wire_depends_on(&topology, &mut resources);
        }
        Err(errors) => {
            for e in errors {
                let mut d = SpecDiagnostic::new("drplan::kubernetes", e.headline());
                if let Some(help) = &e.help {
                    d = d.help(help.clone());
                }
                diags.push(d);
            }
            return Err(diags);
        }
    }
    if let Some(stand_ins) = stand_ins {
        sensitivity::mark(&mut resources, &stand_ins, &mut diags);
    }
    // Mirrors are compared after lowering, with their attributes' places in the trees
    // kept for them alone (a spec without mirrors frees its trees before lowering).
    let warnings = match &mirrored {
        Some(specs) => parity::check(&mirrors, specs, &resources, &topology.sites, &mut diags),
        None => Diagnostics::default(),
    };
    drop(mirrored);
    let moved = moved::resolve(moved_blocks, &files, &resources, &mut diags);
    let (imports, unwritten_imports) =
        import::resolve(import_blocks, &files, &resources, generating, &mut diags);
    let removed = removed::resolve(removed_blocks, &files, &resources, &mut diags);
    if !diags.is_empty() {
        diags.sort();
        return Err(diags);
    }
    Ok(Project {
        vars: vars.clone(),
        extends,
        imports,
        unwritten_imports,
        moved,
        removed,
        root: root.to_path_buf(),
        sources: sources.clone(),
        env_name: env.to_string(),
        environment,
        topology,
        resources,
        digest: digest.finish(),
        warnings,
    })
}

/// The resources the project lowers to with every value derived from a sensitive one
/// replaced by a stand-in (`spec::taint`), for `spec::sensitivity` to compare with the
/// real ones. Problems the stand-ins cause are not the user's: they are ignored, and
/// whatever they leave out is treated as sensitive as a whole.
fn stand_in_resources(
    sources: &Sources,
    env: &str,
    mut specs: Vec<ParsedFile>,
    tree: &Tree,
    env_settings: &EnvSettings,
    var_sources: &[ParsedFile],
    environment: &Environment,
) -> Vec<crate::resource::Resource> {
    let shared = share_blocks(&mut specs);
    let mut loader = Loader::new(Scope::with_stand_ins(), Diagnostics::default(), env);
    let mut items = loader.collect_items(&specs, &shared, tree);
    loader.variables(&items, env_settings, var_sources);
    loader.instantiate(&specs, &shared, tree, &mut items);
    drop(shared);
    loader.evaluate(
        &mut items,
        env_settings,
        var_sources.get(env_settings.active_site_file),
    );
    let mut topology = loader.topology;
    backup_policy::compile(&mut topology);
    let mut resources = lower::lower(&topology, environment);
    let roots = loader.scope.published_json(&["var", "local", "env"]);
    if let Ok(objects) = crate::kubernetes::lower(&topology, environment, sources, &roots) {
        resources.extend(objects);
    }
    resources
}

/// A spec file's top-level structure, its blocks shared by the items made of them.
pub(super) enum Top {
    Attribute(Box<Attribute>),
    Block(Rc<Block>),
}

/// Moves every spec file's trees out of `specs` (whose bodies are left empty), for the
/// loader's items to hold and free.
fn share_blocks(specs: &mut [ParsedFile]) -> Vec<Vec<Top>> {
    specs
        .iter_mut()
        .map(|f| {
            std::mem::take(&mut f.body)
                .into_iter()
                .map(|s| match s {
                    Structure::Attribute(a) => Top::Attribute(Box::new(a)),
                    Structure::Block(b) => Top::Block(Rc::new(b)),
                })
                .collect()
        })
        .collect()
}

/// `specs` parsed again, for what reads the trees after the loader freed them (the
/// stand-in evaluation of a spec with sensitive values, the mirrors' comparison). Each
/// parsed once already: a failure cannot happen, and would leave that file empty.
fn reparse(specs: &[ParsedFile]) -> Vec<ParsedFile> {
    specs
        .iter()
        .map(|f| {
            files::parse(f.source.clone(), &mut Diagnostics::default()).unwrap_or_else(|| {
                ParsedFile {
                    source: f.source.clone(),
                    body: Body::new(),
                    deferred: None,
                }
            })
        })
        .collect()
}

fn read_environment(
    sources: &Sources,
    env: &str,
    diags: &mut Diagnostics,
    digest: &mut DigestInputs,
) -> Option<ParsedFile> {
    let root = sources.root();
    let valid = !env.is_empty()
        && env
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && !env.starts_with('.');
    let rel = format!("environments/{env}.hcl");
    if !valid || !root.join(&rel).is_file() {
        let existing = environment_names(root);
        let help = if existing.is_empty() {
            format!("create {rel} with at least stack = \"<name>\"")
        } else {
            let mut h = format!("environments here: {}", existing.join(", "));
            if let Some(d) = did_you_mean(env, existing.iter().map(String::as_str)) {
                h = format!("{d} ({h})");
            }
            h
        };
        diags.push(
            SpecDiagnostic::new(
                "drplan::missing_environment",
                format!("environment `{env}` not found: there is no {rel}"),
            )
            .help(help),
        );
        return None;
    }
    let source = files::read_text(sources, &rel, diags, digest)?;
    files::parse(source, diags)
}

#[derive(Clone)]
pub(crate) struct Item<'a> {
    pub kind: &'static str,
    /// Empty for a `for_each` block: its instances are labelled by their keys.
    pub label: String,
    pub file: &'a ParsedFile,
    /// Shared by the instances of a module; once evaluated, cut down to what is still
    /// read (`Loader::release`), so a large spec's syntax trees are freed as it is
    /// evaluated.
    pub block: Rc<Block>,
    /// A `for_each` block, expanded into instances when it is evaluated.
    pub for_each: bool,
    /// For an instance of a `for_each` block: the block's index among the items.
    pub instance_of: Option<usize>,
    /// The namespace it is written in: 0 for the project, else a module instance
    /// (`Loader::namespaces`). `label` is the project's label (`app_main`).
    pub ns: usize,
}

/// One instance of a `for_each` block: the block, its key, its label (the key, with a
/// module's prefix) and `each.value`.
struct Instance {
    item: usize,
    key: String,
    label: String,
    value: Value,
}

/// A namespace: the project's (index 0), or an instance of a module (`spec::modules`).
struct ModuleInstance {
    ns: Namespace,
    /// `module.app`, `module.app.module.db`; empty for the project.
    path: String,
    /// The `module` item that made it.
    call: Option<usize>,
    /// Its key, when that call has `for_each`.
    key: Option<String>,
    /// The call with `for_each` this is an instance of (or lies in one of), and its
    /// path below that instance: its blocks mirror those of the other instances.
    repeated: Option<(usize, String)>,
}

pub(super) struct Loader {
    scope: Scope,
    diags: Diagnostics,
    spans: SpanTable,
    topology: Topology,
    env_name: String,
    /// `moved` blocks, checked against the resources once they are lowered.
    moved: Vec<moved::MovedBlock>,
    /// `removed` blocks, likewise.
    removed: Vec<removed::RemovedBlock>,
    /// `import` blocks, likewise.
    imports: Vec<import::ImportBlock>,
    /// Where each (kind, label) was first declared (path, line): a block, or an
    /// instance of a `for_each` block.
    declared_at: BTreeMap<(String, String), (String, usize)>,
    /// The instances of `for_each` blocks, in evaluation order.
    instances: Vec<Instance>,
    /// Blocks that are mirrors (instances of one `for_each`, `mirror_of`), checked
    /// once lowered (`spec::parity`).
    mirrors: Vec<parity::Member>,
    /// The project's namespace, then every module instance.
    namespaces: Vec<ModuleInstance>,
    /// The evaluated `for_each` of a repeated module call (by its item): key ->
    /// `each.value`.
    module_each: BTreeMap<usize, BTreeMap<String, Value>>,
}

impl Loader {
    fn new(scope: Scope, diags: Diagnostics, env: &str) -> Self {
        Loader {
            scope,
            diags,
            spans: SpanTable::default(),
            topology: Topology::default(),
            env_name: env.to_string(),
            moved: Vec::new(),
            removed: Vec::new(),
            imports: Vec::new(),
            declared_at: BTreeMap::new(),
            instances: Vec::new(),
            mirrors: Vec::new(),
            namespaces: vec![ModuleInstance {
                ns: Namespace::default(),
                path: String::new(),
                call: None,
                key: None,
                repeated: None,
            }],
            module_each: BTreeMap::new(),
        }
    }

    fn collect_items<'a>(
        &mut self,
        specs: &'a [ParsedFile],
        shared: &[Vec<Top>],
        tree: &Tree,
    ) -> Vec<Item<'a>> {
        let mut items: Vec<Item<'a>> = Vec::new();
        for file_index in 0..tree.root_files.min(specs.len()) {
            self.collect_file(specs, shared, file_index, 0, &mut items);
        }
        self.declare_items(&items);
        items
    }

    /// The blocks of `specs[file_index]` as items of namespace `ns` (0: the project;
    /// else a module instance, `spec::modules`).
    fn collect_file<'a>(
        &mut self,
        specs: &'a [ParsedFile],
        shared: &[Vec<Top>],
        file_index: usize,
        ns: usize,
        items: &mut Vec<Item<'a>>,
    ) {
        let namespace = self.namespaces[ns].ns.clone();
        {
            let file = &specs[file_index];
            let src = &file.source;
            for top in &shared[file_index] {
                let block = match top {
                    Top::Attribute(a) => {
                        self.diags.push(
                            SpecDiagnostic::new("drplan::unknown_attribute", format!("`{}` cannot be set at the top level of a spec", a.key.as_str()))
                                .at(src, a.key.span().unwrap_or(0..0), "top-level attribute")
                                .help("spec files hold blocks; put values in a `locals` block or a `variable`"),
                        );
                        continue;
                    }
                    Top::Block(b) => b,
                };
                let ident = block.ident.as_str();
                if ns != 0 && ["site", "objectives", "moved", "removed", "import"].contains(&ident)
                {
                    self.diags.push(
                        SpecDiagnostic::new(
                            "drplan::module",
                            format!("a module cannot hold `{ident}` blocks"),
                        )
                        .at(src, block.ident.span().unwrap_or(0..0), "in a module folder")
                        .help(match ident {
                            "site" => "sites are the project's: declare them in specs/ and use site.<label> in the module, or pass one as an input",
                            "objectives" => "objectives are the project's: write them in specs/; their resources may name a module's blocks (bucket.app_backups)",
                            _ => "write it in specs/ with the block's project address (network.app_main, or module.app.network.main)",
                        }),
                    );
                    continue;
                }
                if ident == "module" {
                    self.module_call(file, block.clone(), ns, items);
                    continue;
                }
                if ident == "moved" {
                    if let Some(m) = moved::read(specs, file_index, block, &mut self.diags) {
                        self.moved.push(m);
                    }
                    continue;
                }
                if ident == "removed" {
                    if let Some(r) = removed::read(specs, file_index, block, &mut self.diags) {
                        self.removed.push(r);
                    }
                    continue;
                }
                if ident == "import" {
                    if let Some(i) = import::read(specs, shared, file_index, block, &mut self.diags)
                    {
                        self.imports.push(i);
                    }
                    continue;
                }
                let Some((kind, nlabels)) = blocks::find(ident).map(|b| (b.name, b.labels)) else {
                    let help = did_you_mean(ident, blocks::by_rank().map(|b| b.name))
                        .unwrap_or_else(|| {
                            format!(
                                "spec blocks are: {}",
                                blocks::by_rank()
                                    .map(|b| b.name)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        });
                    self.diags.push(
                        SpecDiagnostic::new(
                            "drplan::unknown_block",
                            format!("unknown block type `{ident}`"),
                        )
                        .at(src, block.ident.span().unwrap_or(0..0), "unknown block")
                        .help(help),
                    );
                    continue;
                };
                if let Some(attr) = for_each::attribute(block) {
                    if for_each::check_block(kind, src, block, attr, &mut self.diags) {
                        items.push(Item {
                            kind,
                            label: String::new(),
                            file,
                            block: block.clone(),
                            for_each: true,
                            instance_of: None,
                            ns,
                        });
                    } else if let Some(label) = block.labels.first() {
                        // Reported: what refers to it is not reported again.
                        self.scope
                            .declare(kind, &namespace.global(kind, label.as_str()));
                    }
                    continue;
                }
                if block.labels.len() != nlabels {
                    let (msg, help) = if nlabels == 0 {
                        (
                            format!("`{kind}` takes no label"),
                            format!("write {kind} {{ ... }}"),
                        )
                    } else {
                        (
                            format!("`{kind}` needs exactly one label"),
                            match blocks::find(kind).is_some_and(|b| b.managed) {
                                true => format!("write {kind} \"name\" {{ ... }}, or {kind} {{ for_each = ... }} for one per key"),
                                false => format!("write {kind} \"name\" {{ ... }}"),
                            },
                        )
                    };
                    self.diags.push(
                        SpecDiagnostic::new("drplan::missing_label", msg)
                            .at(src, block_header(block), "here")
                            .help(help),
                    );
                    continue;
                }
                let written = block
                    .labels
                    .first()
                    .map(|l| l.as_str().to_string())
                    .unwrap_or_default();
                if nlabels == 1 && !is_label(&written) {
                    let label = written;
                    self.diags.push(
                        SpecDiagnostic::new(
                            "drplan::invalid_label",
                            format!("`{label}` is not a valid {kind} label"),
                        )
                        .at(src, block_header(block), "here")
                        .help("labels are letters, digits, `_` and `-`, starting with a letter"),
                    );
                    continue;
                }
                let label = match nlabels {
                    0 => written.clone(),
                    _ => namespace.global(if kind == "variable" { "var" } else { kind }, &written),
                };
                if kind != "locals" {
                    let key = (kind.to_string(), label.clone());
                    if let Some((f, line)) = self.declared_at.get(&key) {
                        let what = if nlabels == 0 {
                            format!("`{kind}`")
                        } else if ns != 0 {
                            format!(
                                "{kind} \"{label}\" ({kind} \"{written}\" of {})",
                                self.namespaces[ns].path
                            )
                        } else {
                            format!("{kind} \"{label}\"")
                        };
                        self.diags.push(
                            SpecDiagnostic::new(
                                "drplan::duplicate_label",
                                format!("{what} is declared twice"),
                            )
                            .at(src, block_header(block), "declared again here")
                            .help(format!(
                                "first declared at {f}:{line}; rename or remove one"
                            )),
                        );
                        continue;
                    }
                    let (line, _) = src.line_col(block.ident.span().map(|s| s.start).unwrap_or(0));
                    self.declared_at.insert(key, (src.path.clone(), line));
                }
                items.push(Item {
                    kind,
                    label,
                    file,
                    block: block.clone(),
                    for_each: false,
                    instance_of: None,
                    ns,
                });
            }
        }
    }

    /// Declares every name of `items` (the project's, or a module instance's) before
    /// anything is evaluated, so references can be checked whatever the file order.
    fn declare_items(&mut self, items: &[Item]) {
        let mut locals: BTreeMap<String, (String, usize)> = BTreeMap::new();
        for item in items {
            let namespace = &self.namespaces[item.ns].ns;
            match item.kind {
                "variable" => self.scope.declare("var", &item.label),
                "module" => {}
                "locals" => {
                    for attr in item.block.body.attributes() {
                        let name = namespace.global("local", attr.key.as_str());
                        let (line, _) = item
                            .file
                            .source
                            .line_col(attr.key.span().map(|s| s.start).unwrap_or(0));
                        if let Some((f, l)) = locals.get(&name) {
                            self.diags.push(
                                SpecDiagnostic::new(
                                    "drplan::duplicate_label",
                                    format!("local value `{}` is defined twice", attr.key.as_str()),
                                )
                                .at(
                                    &item.file.source,
                                    attr.key.span().unwrap_or(0..0),
                                    "defined again here",
                                )
                                .help(format!("first defined at {f}:{l}")),
                            );
                            continue;
                        }
                        locals.insert(name.clone(), (item.file.source.path.clone(), line));
                        self.scope.declare("local", &name);
                    }
                }
                "objectives" => {}
                _ if item.for_each => {}
                kind => self.scope.declare(kind, &item.label),
            }
        }
    }

    /// A `module` block in namespace `ns`: an item, instantiated once the variables
    /// are known (`instantiate`).
    fn module_call<'a>(
        &mut self,
        file: &'a ParsedFile,
        block: Rc<Block>,
        ns: usize,
        items: &mut Vec<Item<'a>>,
    ) {
        let src = &file.source;
        let for_each = for_each::attribute(&block).is_some();
        let label = block.labels.first().map(|l| l.as_str().to_string());
        match (for_each, &label, block.labels.len()) {
            (true, Some(label), _) => {
                self.diags.push(
                    SpecDiagnostic::new("drplan::for_each", "a `module` block with for_each takes no label")
                        .at(src, block_header(&block), "labelled")
                        .help(format!(
                            "each instance is named by its key (module.<key>): write `module {{ for_each = ... }}`; \
                             to put `{label}` in front of the keys, for_each = {{ for k, v in <collection> : \"{label}_${{k}}\" => v }}"
                        )),
                );
                return;
            }
            (false, _, n) if n != 1 => {
                self.diags.push(
                    SpecDiagnostic::new("drplan::missing_label", "`module` needs exactly one label")
                        .at(src, block_header(&block), "here")
                        .help("write module \"name\" { source = \"./modules/<dir>\" ... }, or module { for_each = ... } for one per key"),
                );
                return;
            }
            (false, Some(l), _) if !is_label(l) => {
                self.diags.push(
                    SpecDiagnostic::new("drplan::invalid_label", format!("`{l}` is not a valid module name"))
                        .at(src, block_header(&block), "here")
                        .help("module names are letters, digits, `_` and `-`, starting with a letter: they prefix the labels of the module's blocks"),
                );
                return;
            }
            _ => {}
        }
        for nested in block.body.blocks() {
            self.diags.push(
                SpecDiagnostic::new(
                    "drplan::unknown_block",
                    format!("a `module` block holds no `{}` block", nested.ident.as_str()),
                )
                .at(src, nested.ident.span().unwrap_or(0..0), "unexpected block")
                .help("a module block sets `source`, optionally `for_each`, and its inputs as attributes: name = value"),
            );
        }
        items.push(Item {
            kind: "module",
            label: label.unwrap_or_default(),
            file,
            block,
            for_each,
            instance_of: None,
            ns,
        });
    }

    /// Makes the instances of every `module` item, theirs included: one per block, or
    /// per key of its `for_each` (known before evaluation: `site`, a literal list or
    /// map, or an expression over the project's variables).
    fn instantiate<'a>(
        &mut self,
        specs: &'a [ParsedFile],
        shared: &[Vec<Top>],
        tree: &Tree,
        items: &mut Vec<Item<'a>>,
    ) {
        let mut i = 0;
        while i < items.len() {
            if items[i].kind == "module" {
                self.instances_of(i, specs, shared, tree, items);
            }
            i += 1;
        }
    }

    fn instances_of<'a>(
        &mut self,
        call: usize,
        specs: &'a [ParsedFile],
        shared: &[Vec<Top>],
        tree: &Tree,
        items: &mut Vec<Item<'a>>,
    ) {
        let (file, block, parent, name, repeated_call) = {
            let it = &items[call];
            (
                it.file,
                it.block.clone(),
                it.ns,
                it.label.clone(),
                it.for_each,
            )
        };
        let block = &*block;
        let src = &file.source;
        let Some(file_index) = specs.iter().position(|p| std::ptr::eq(p, file)) else {
            return;
        };
        // A source that could not be read was reported by `modules::read_tree`.
        let Some(folder) = tree.folder_of(file_index, block) else {
            return;
        };
        self.check_inputs(src, block, specs, shared, &folder.files, &folder.dir);
        let keys: Vec<Option<String>> = match for_each::attribute(block) {
            Some(attr) => {
                let caller = self.scope.enter(self.namespaces[parent].ns.clone());
                let known = for_each::known_keys(attr, &self.scope);
                self.scope.enter(caller);
                let Some(keys) = known else {
                    self.diags.push(
                        SpecDiagnostic::new(
                            "drplan::for_each",
                            "a module's for_each must be known before the spec is evaluated",
                        )
                        .at(src, attr.value.span().unwrap_or(0..0), "computed")
                        .help("repeat a module over site, a literal list or map, or an expression over the project's variables: its instances' blocks are made before anything else is evaluated"),
                    );
                    return;
                };
                // A key that cannot name an instance is reported with its evaluation.
                keys.into_iter().filter(|k| is_label(k)).map(Some).collect()
            }
            None => vec![None],
        };
        for key in keys {
            let instance = key.clone().unwrap_or_else(|| name.clone());
            let (parent_ns, parent_repeated) = {
                let p = &self.namespaces[parent];
                (p.ns.clone(), p.repeated.clone())
            };
            let global = format!("{}{instance}", parent_ns.label_prefix);
            let path = format!("{}module.{instance}", parent_ns.name_prefix);
            let declared = ("module".to_string(), global.clone());
            let (line, _) = src.line_col(block_header(block).start);
            if let Some((f, l)) = self.declared_at.get(&declared) {
                self.diags.push(
                    SpecDiagnostic::new(
                        "drplan::duplicate_label",
                        format!("{path} is declared twice"),
                    )
                    .at(src, block_header(block), "declared again here")
                    .help(format!(
                        "first declared at {f}:{l}; module names prefix their blocks' labels ({global}_<label>), so they must be unique"
                    )),
                );
                continue;
            }
            self.declared_at.insert(declared, (src.path.clone(), line));
            let repeated = match (parent_repeated, repeated_call) {
                (Some((c, rel)), _) => Some((c, format!("{rel}module.{instance}."))),
                (None, true) => Some((call, String::new())),
                (None, false) => None,
            };
            let index = self.namespaces.len();
            self.namespaces.push(ModuleInstance {
                ns: Namespace {
                    label_prefix: format!("{global}_"),
                    name_prefix: format!("{path}."),
                },
                path,
                call: Some(call),
                key,
                repeated,
            });
            let start = items.len();
            for &f in &folder.files {
                self.collect_file(specs, shared, f, index, items);
            }
            self.declare_items(&items[start..]);
        }
    }

    /// A module block's inputs against the module's `variable`s: each input declared,
    /// each variable without a default given.
    fn check_inputs(
        &mut self,
        src: &super::diagnostic::SourceFile,
        block: &Block,
        specs: &[ParsedFile],
        shared: &[Vec<Top>],
        files: &[usize],
        dir: &str,
    ) {
        let mut declared: BTreeMap<String, (bool, &ParsedFile, &Block)> = BTreeMap::new();
        for &f in files {
            for v in shared[f]
                .iter()
                .filter_map(|t| match t {
                    Top::Block(b) => Some(&**b),
                    Top::Attribute(_) => None,
                })
                .filter(|b| b.ident.as_str() == "variable")
            {
                if let Some(l) = v.labels.first() {
                    let has_default = v.body.attributes().any(|a| a.key.as_str() == "default");
                    declared.insert(l.as_str().to_string(), (has_default, &specs[f], v));
                }
            }
        }
        for (name, (_, file, v)) in &declared {
            if modules::META.contains(&name.as_str()) {
                self.diags.push(
                    SpecDiagnostic::new(
                        "drplan::module",
                        format!("a module cannot declare variable \"{name}\""),
                    )
                    .at(&file.source, block_header(v), "reserved name")
                    .help("`source` and `for_each` of a module block are not inputs; rename the variable"),
                );
            }
        }
        let given: Vec<&str> = block.body.attributes().map(|a| a.key.as_str()).collect();
        for attr in block.body.attributes() {
            let key = attr.key.as_str();
            if modules::META.contains(&key) || declared.contains_key(key) {
                continue;
            }
            let help =
                did_you_mean(key, declared.keys().map(String::as_str)).unwrap_or_else(|| {
                    match declared.is_empty() {
                        true => format!(
                        "{dir} declares no variable; add variable \"{key}\" {{ type = ... }} there"
                    ),
                        false => format!(
                            "its inputs are the variables {dir} declares: {}",
                            declared.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    }
                });
            self.diags.push(
                SpecDiagnostic::new(
                    "drplan::unknown_attribute",
                    format!("module `{dir}` has no input `{key}`"),
                )
                .at(
                    src,
                    attr.key.span().unwrap_or(0..0),
                    "not a variable of the module",
                )
                .help(help),
            );
        }
        for (name, (has_default, file, v)) in &declared {
            if *has_default
                || given.contains(&name.as_str())
                || modules::META.contains(&name.as_str())
            {
                continue;
            }
            let (line, _) = file.source.line_col(block_header(v).start);
            self.diags.push(
                SpecDiagnostic::new(
                    "drplan::required_variable",
                    format!("the module needs input `{name}`: variable \"{name}\" has no default"),
                )
                .at(src, block_header(block), format!("`{name}` is not set"))
                .help(format!(
                    "set it in this block: {name} = ... (declared at {}:{line})",
                    file.source.path
                )),
            );
        }
    }

    /// `sources`: where values come from (`spec::vars`); 0 is the environment file.
    fn variables(&mut self, items: &[Item], env: &EnvSettings, sources: &[ParsedFile]) {
        let ctx = self.scope.functions_only();
        let mut validations: Vec<(&Item, String)> = Vec::new();
        for item in items.iter().filter(|i| i.kind == "variable") {
            let src = &item.file.source;
            let mut b = body::read(
                src,
                &item.block,
                &variable::SCHEMA,
                &self.scope,
                &ctx,
                &mut self.diags,
            );
            let ty = variable::declared_type(&b, &mut self.diags);
            let name = item.label.clone();
            let sensitive = b.bool(&mut self.diags, "sensitive").unwrap_or(false);
            let promote = b.bool(&mut self.diags, "promote").unwrap_or(false);
            let description = b.string(&mut self.diags, "description");
            let default = b.value("default").cloned();
            let (value, from_env) = match (env.variables.get(&name), default) {
                (Some(v), _) => match self.given_value(v, &ty, sources) {
                    Some(value) => (Some(value), Some(v)),
                    None => continue,
                },
                (None, Some(d)) => (Some(d), None),
                (None, None) => {
                    if !b.has("default") {
                        self.diags.push(
                            SpecDiagnostic::new("drplan::required_variable", format!("variable \"{name}\" has no default and environment `{}` does not set it", self.env_name))
                                .at(src, b.header.clone(), "required variable")
                                .help(format!("set it in environments/{}.hcl: variables {{ {name} = ... }}", self.env_name)),
                        );
                    }
                    (None, None)
                }
            };
            let Some(value) = value else { continue };
            let value = match ty.convert(&value) {
                Ok(v) => v,
                Err(why) => {
                    let d = SpecDiagnostic::new(
                        "drplan::wrong_type",
                        format!("variable \"{name}\": {why}"),
                    );
                    let d = match from_env.and_then(|v| Some((v, sources.get(v.file)?))) {
                        Some((v, f)) => d.at(&f.source, v.span.clone(), "value set here"),
                        None => d.at(src, b.span("default"), "default value"),
                    };
                    self.diags.push(d.help(format!(
                        "the variable is declared as `{}`",
                        b.raw.get("type").map(|t| t.0.as_str()).unwrap_or("any")
                    )));
                    continue;
                }
            };
            let value = if sensitive {
                self.scope.mark("var", &name, Taint::Whole);
                if self.scope.stand_ins() {
                    taint::perturb(&value, &Taint::Whole)
                } else {
                    value
                }
            } else {
                value
            };
            self.scope.publish("var", &name, value.clone());
            self.topology.variables.insert(
                name.clone(),
                Variable {
                    name: name.clone(),
                    value: variable::to_json(&value),
                    sensitive,
                    promote,
                    description,
                    source: decode::source_ref(&b),
                },
            );
            if b.nested("validation").next().is_some() {
                validations.push((item, name));
            }
        }
        {
            for (name, v) in &env.variables {
                let Some(f) = sources.get(v.file) else {
                    continue;
                };
                let span = &v.span;
                // As Terraform does with TF_VAR_: the process environment may carry
                // values for other projects.
                let from_process = f.source.path.starts_with(vars::PROCESS_PREFIX);
                let from_store = f.source.path.starts_with(vars::SECRET_SOURCE);
                if from_store && self.scope.is_declared("var", name) {
                    let sensitive = self
                        .topology
                        .variables
                        .get(name)
                        .is_some_and(|v| v.sensitive);
                    if !sensitive {
                        let (file, span) = env
                            .secrets
                            .get(name)
                            .and_then(|(_, span, i)| Some((sources.get(*i)?, span.clone())))
                            .unwrap_or((f, span.clone()));
                        self.diags.push(
                            SpecDiagnostic::new(
                                "drplan::secret_not_sensitive",
                                format!("variable `{name}` is read from a secret store but is not declared sensitive"),
                            )
                            .at(&file.source, span, "read from a secret store")
                            .help(format!("declare it with sensitive = true: variable \"{name}\" {{ type = string  sensitive = true }}")),
                        );
                    }
                }
                if !from_process && !self.scope.is_declared("var", name) {
                    self.diags.push(
                        SpecDiagnostic::new(
                            "drplan::unknown_variable",
                            format!("environment sets `{name}`, which the spec does not declare"),
                        )
                        .at(&f.source, span.clone(), "not declared")
                        .help(
                            did_you_mean(name, self.scope.labels("var")).unwrap_or_else(|| {
                                format!(
                                    "declare it in specs/: variable \"{name}\" {{ type = string }}"
                                )
                            }),
                        ),
                    );
                }
            }
        }
        for (item, name) in validations {
            let given = env
                .variables
                .get(&name)
                .and_then(|g| Some((sources.get(g.file)?.source.clone(), g.span.clone())));
            self.validate_variable(item, &name, given);
        }
    }

    /// A given value as the variable's type wants it: text from `--var` or
    /// `DRPLAN_VAR_` is parsed as an HCL expression for a list, map or object.
    fn given_value(
        &mut self,
        given: &environment::EnvVar,
        ty: &variable::VarType,
        sources: &[ParsedFile],
    ) -> Option<Value> {
        use variable::VarType;
        let complex = matches!(ty, VarType::List(_) | VarType::Map(_) | VarType::Object);
        let (true, true, Value::String(text)) = (given.raw, complex, &given.value) else {
            return Some(given.value.clone());
        };
        let parsed = hcl_edit::parser::parse_expr(text)
            .map_err(|e| {
                e.message()
                    .lines()
                    .next()
                    .unwrap_or("invalid HCL")
                    .to_string()
            })
            .and_then(|expr| body::evaluate(&expr, &self.scope.functions_only()));
        match parsed {
            Ok(v) => Some(v),
            Err(why) => {
                let mut d = SpecDiagnostic::new(
                    "drplan::eval",
                    format!(
                        "cannot read the value given for a list, map or object variable: {why}"
                    ),
                );
                if let Some(f) = sources.get(given.file) {
                    d = d.at(&f.source, given.span.clone(), "value given here");
                }
                self.diags.push(
                    d.help("give it as an HCL expression, e.g. --var 'zones=[\"a\", \"b\"]'"),
                );
                None
            }
        }
    }

    /// `given`: where the value was given (an environment, a var file, a module
    /// block), if it was.
    fn validate_variable(
        &mut self,
        item: &Item,
        name: &str,
        given: Option<(super::diagnostic::SourceFile, std::ops::Range<usize>)>,
    ) {
        let src = &item.file.source;
        for block in item
            .block
            .body
            .blocks()
            .filter(|b| b.ident.as_str() == "validation")
        {
            let refs = body_refs(&block.body);
            let ctx = self.scope.context_for(&refs);
            let mut v = body::read(
                src,
                block,
                &variable::VALIDATION,
                &self.scope,
                &ctx,
                &mut self.diags,
            );
            let message = match v.marks.contains_key("error_message") {
                // Terraform's rule too: a message made from a secret would show it.
                true => format!("variable \"{name}\" is invalid (its error_message uses a sensitive value, so it is not shown)"),
                false => v
                    .string(&mut self.diags, "error_message")
                    .unwrap_or_else(|| format!("variable \"{name}\" is invalid")),
            };
            if !v.has("condition") {
                v.missing(
                    &mut self.diags,
                    "condition",
                    "a bool expression over var.<name>",
                );
                continue;
            }
            match v.bool(&mut self.diags, "condition") {
                Some(true) | None => {}
                Some(false) => {
                    let d = SpecDiagnostic::new("drplan::variable_validation", message);
                    let d = match &given {
                        Some((f, span)) => d.at(f, span.clone(), "this value fails the validation"),
                        None => d.at(src, v.span("condition"), "this condition is false"),
                    };
                    let (line, _) = src.line_col(v.header.start);
                    self.diags.push(d.help(format!(
                        "see the validation of variable \"{name}\" at {}:{line}",
                        src.path
                    )));
                }
            }
        }
    }

    /// Evaluates locals and blocks in dependency order. Returns the active site.
    fn evaluate(
        &mut self,
        items: &mut [Item],
        env: &EnvSettings,
        env_file: Option<&ParsedFile>,
    ) -> Option<String> {
        let mut env_obj = Map::new();
        env_obj.insert("name".to_string(), Value::from(self.env_name.clone()));
        env_obj.insert(
            "stack".to_string(),
            Value::from(env.stack.clone().unwrap_or_default()),
        );
        self.publish_env(&env_obj);

        let mut nodes: Vec<Node> = Vec::new();
        let mut node_src: Vec<NodeSource> = Vec::new();
        // Per node: its references as written, and the namespace they are written in.
        let mut written: Vec<(Vec<Reference>, usize)> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let ns = self.namespaces[item.ns].ns.clone();
            let path = match item.ns {
                0 => String::new(),
                n => format!("{}.", self.namespaces[n].path),
            };
            let (line, _) = item.file.source.line_col(block_header(&item.block).start);
            match item.kind {
                "variable" if item.ns == 0 => {}
                "variable" => {
                    let Some(call) = self.namespaces[item.ns].call else {
                        continue;
                    };
                    let caller = &items[call];
                    let name = item.block.labels.first().map_or("", |l| l.as_str());
                    let refs: Vec<Reference> = caller
                        .block
                        .body
                        .attributes()
                        .find(|a| a.key.as_str() == name)
                        .map(|a| refs::collect(&a.value))
                        .unwrap_or_default();
                    let caller_ns = self.namespaces[caller.ns].ns.clone();
                    let mut ordered = global_refs(&refs, &caller_ns);
                    if caller.for_each {
                        ordered.push(Reference {
                            root: "module".to_string(),
                            label: Some(format!("#{call}")),
                            attr: None,
                            span: 0..0,
                        });
                    }
                    nodes.push(Node {
                        id: format!("{path}var.{name}"),
                        key: format!("var.{}", item.label),
                        root: "var",
                        rank: 0,
                        refs: ordered,
                        expands: false,
                        makes: None,
                        file: item.file.source.clone(),
                        span: block_header(&item.block),
                    });
                    node_src.push(NodeSource::Input(i));
                    written.push((refs, caller.ns));
                }
                "module" if item.for_each => {
                    let refs = for_each::attribute(&item.block)
                        .map(|a| refs::collect(&a.value))
                        .unwrap_or_default();
                    nodes.push(Node {
                        id: format!(
                            "{path}module (for_each at {}:{line})",
                            item.file.source.path
                        ),
                        key: format!("module.#{i}"),
                        root: "module",
                        rank: 0,
                        refs: global_refs(&refs, &ns),
                        expands: false,
                        makes: None,
                        file: item.file.source.clone(),
                        span: block_header(&item.block),
                    });
                    node_src.push(NodeSource::ModuleForEach(i));
                    written.push((refs, item.ns));
                }
                "module" => {}
                "locals" => {
                    for attr in item.block.body.attributes() {
                        let name = attr.key.as_str().to_string();
                        let refs = refs::collect(&attr.value);
                        nodes.push(Node {
                            id: format!("{path}local.{name}"),
                            key: format!("local.{}", ns.global("local", &name)),
                            root: "local",
                            rank: 0,
                            refs: global_refs(&refs, &ns),
                            expands: false,
                            makes: None,
                            file: item.file.source.clone(),
                            span: attr.key.span().unwrap_or(0..0),
                        });
                        node_src.push(NodeSource::Local(i, name));
                        written.push((refs, item.ns));
                    }
                }
                kind => {
                    let rank = blocks::find(kind).map_or(0, |b| b.rank);
                    let id = if kind == "objectives" {
                        "objectives".to_string()
                    } else if item.for_each {
                        format!("{kind} (for_each at {}:{line})", item.file.source.path)
                    } else {
                        format!("{kind}.{}", item.label)
                    };
                    let caller = self.scope.enter(ns.clone());
                    let makes = for_each::attribute(&item.block)
                        .filter(|_| item.for_each)
                        .and_then(|a| for_each::known_keys(a, &self.scope))
                        .map(|keys| keys.iter().map(|k| ns.global(kind, k)).collect());
                    self.scope.enter(caller);
                    let refs = match &item.file.deferred {
                        Some(refs) => refs.clone(),
                        None => order_refs(kind, &item.block.body),
                    };
                    nodes.push(Node {
                        key: id.clone(),
                        id,
                        root: kind,
                        rank,
                        refs: global_refs(&refs, &ns),
                        expands: item.for_each,
                        makes,
                        file: item.file.source.clone(),
                        span: block_header(&item.block),
                    });
                    node_src.push(NodeSource::Block(i));
                    written.push((refs, item.ns));
                }
            }
        }
        crate::probe::stage("nodes built");
        let plan = order::plan(&nodes, &mut self.diags);
        let mut sites_left = plan
            .order
            .iter()
            .filter(|&&n| nodes[n].root == "site")
            .count();
        let mut sites_pending: Vec<crate::model::Site> = Vec::new();
        let mut active_site = None;
        if sites_left == 0 {
            active_site = self.finalize_sites(Vec::new(), env, env_file, &mut env_obj);
        }
        // What sits in or behind a cycle is evaluated last, for its other mistakes;
        // only once every site is known (everything regional needs them).
        let blocked: Vec<usize> = match plan.blocked.iter().any(|&n| nodes[n].root == "site") {
            true => Vec::new(),
            false => plan.blocked.clone(),
        };
        for &n in plan.order.iter().chain(&blocked) {
            let (refs, ns) = &written[n];
            self.scope.enter(self.namespaces[*ns].ns.clone());
            let ctx = self.scope.context_for(refs);
            match &node_src[n] {
                NodeSource::Input(i) => self.input(items, *i),
                NodeSource::ModuleForEach(i) => {
                    let item = &items[*i];
                    let Some(attr) = for_each::attribute(&item.block) else {
                        continue;
                    };
                    if let Some(instances) = for_each::instances(
                        "module",
                        &item.file.source,
                        attr,
                        &self.scope,
                        &mut self.diags,
                    ) {
                        self.module_each.insert(*i, instances.into_iter().collect());
                    }
                }
                NodeSource::Local(i, name) => {
                    let item = &items[*i];
                    let Some(attr) = item
                        .block
                        .body
                        .attributes()
                        .find(|a| a.key.as_str() == name)
                    else {
                        continue;
                    };
                    if !self
                        .scope
                        .check_references(&item.file.source, &attr.value, &mut self.diags)
                    {
                        continue;
                    }
                    match body::evaluate(&attr.value, &ctx) {
                        Ok(v) => {
                            let mark = taint::shape_of(&attr.value, &self.scope);
                            let v = if self.scope.stand_ins() {
                                taint::perturb(&v, &mark)
                            } else {
                                v
                            };
                            let global = self.scope.global("local", name);
                            self.scope.mark("local", &global, mark);
                            self.scope.publish("local", &global, v);
                        }
                        Err(msg) => self.diags.push(
                            SpecDiagnostic::new(
                                "drplan::eval",
                                format!("cannot evaluate local `{name}`: {msg}"),
                            )
                            .at(
                                &item.file.source,
                                attr.value.span().unwrap_or(0..0),
                                "in this expression",
                            )
                            .help("check the functions, operators and types used here"),
                        ),
                    }
                }
                NodeSource::Block(i) => {
                    materialize(&mut items[*i]);
                    let item = &items[*i];
                    if item.kind == "site" {
                        if let Some(s) = self.decode_block(item, &ctx, decode::site::decode) {
                            sites_pending.push(s);
                        }
                        sites_left -= 1;
                        if sites_left == 0 {
                            active_site = self.finalize_sites(
                                std::mem::take(&mut sites_pending),
                                env,
                                env_file,
                                &mut env_obj,
                            );
                        }
                        continue;
                    }
                    if item.for_each {
                        self.expand(*i, item, refs);
                    } else {
                        self.decode_other(item, &ctx);
                    }
                    release(&mut items[*i]);
                }
            }
        }
        crate::probe::stage("blocks decoded");
        // Links, once every block is published.
        for item in items.iter().filter(|i| !i.for_each) {
            let Some(decode_links) = blocks::find(item.kind).and_then(|b| b.decode_links) else {
                continue;
            };
            self.scope.enter(self.namespaces[item.ns].ns.clone());
            decode_links(self, item);
        }
        for n in 0..self.instances.len() {
            let (index, key, label, value) = {
                let i = &self.instances[n];
                (i.item, i.key.clone(), i.label.clone(), i.value.clone())
            };
            let item = &items[index];
            let Some(decode_links) = blocks::find(item.kind).and_then(|b| b.decode_links) else {
                continue;
            };
            self.scope.enter(self.namespaces[item.ns].ns.clone());
            self.publish_each(&key, value);
            decode_links(
                self,
                &Item {
                    label,
                    for_each: false,
                    instance_of: Some(index),
                    ..item.clone()
                },
            );
            self.scope.unpublish(EACH);
        }
        self.scope.enter(Namespace::default());
        active_site
    }

    /// A module's input: the variable as the module declares it, its value from the
    /// module block, evaluated where the block is written (with `each` of a repeated
    /// module), else its default; published under the module's path.
    fn input(&mut self, items: &[Item], i: usize) {
        let item = &items[i];
        let (call, key, module_ns, path) = {
            let inst = &self.namespaces[item.ns];
            let Some(call) = inst.call else { return };
            (call, inst.key.clone(), inst.ns.clone(), inst.path.clone())
        };
        let caller = &items[call];
        let caller_ns = self.namespaces[caller.ns].ns.clone();
        let name = item.block.labels.first().map_or("", |l| l.as_str());
        let src = &item.file.source;
        self.scope.enter(module_ns.clone());
        let mut b = body::read(
            src,
            &item.block,
            &variable::SCHEMA,
            &self.scope,
            &self.scope.functions_only(),
            &mut self.diags,
        );
        let ty = variable::declared_type(&b, &mut self.diags);
        let sensitive = b.bool(&mut self.diags, "sensitive").unwrap_or(false);
        let _ = b.bool(&mut self.diags, "promote");
        let _ = b.string(&mut self.diags, "description");
        let default = b.value("default").cloned();
        let given = caller
            .block
            .body
            .attributes()
            .find(|a| a.key.as_str() == name);
        self.scope.enter(caller_ns);
        let mut mark = Taint::Clean;
        let value = match given {
            Some(attr) => {
                if let Some(key) = &key {
                    // Its for_each failed (reported there): nothing to evaluate.
                    let Some(v) = self.module_each.get(&call).and_then(|m| m.get(key)) else {
                        self.scope.enter(Namespace::default());
                        return;
                    };
                    self.publish_each(key, v.clone());
                }
                let mut value = None;
                if self
                    .scope
                    .check_references(&caller.file.source, &attr.value, &mut self.diags)
                {
                    let ctx = self.scope.context_for(&refs::collect(&attr.value));
                    match body::evaluate(&attr.value, &ctx) {
                        Ok(v) => {
                            mark = taint::shape_of(&attr.value, &self.scope);
                            value = Some(v);
                        }
                        Err(msg) => self.diags.push(
                            SpecDiagnostic::new(
                                "drplan::eval",
                                format!("cannot evaluate input `{name}` of {path}: {msg}"),
                            )
                            .at(
                                &caller.file.source,
                                attr.value.span().unwrap_or(0..0),
                                "in this expression",
                            )
                            .help("check the functions, operators and types used here"),
                        ),
                    }
                }
                self.scope.unpublish(EACH);
                value
            }
            // Without a default it was reported with the module block.
            None => default,
        };
        self.scope.enter(Namespace::default());
        let Some(value) = value else { return };
        let value = match ty.convert(&value) {
            Ok(v) => v,
            Err(why) => {
                let d = SpecDiagnostic::new(
                    "drplan::wrong_type",
                    format!("input `{name}` of {path}: {why}"),
                );
                let d = match given {
                    Some(a) => d.at(
                        &caller.file.source,
                        a.value.span().unwrap_or(0..0),
                        "value given here",
                    ),
                    None => d.at(src, b.span("default"), "default value"),
                };
                self.diags.push(d.help(format!(
                    "the module declares it as `{}`",
                    b.raw.get("type").map(|t| t.0.as_str()).unwrap_or("any")
                )));
                return;
            }
        };
        if sensitive {
            mark = Taint::Whole;
        }
        let value = match self.scope.stand_ins() && !mark.is_clean() {
            true => taint::perturb(&value, &mark),
            false => value,
        };
        self.scope.mark("var", &item.label, mark);
        self.scope.publish("var", &item.label, value);
        if b.nested("validation").next().is_some() {
            self.scope.enter(module_ns);
            let at = given.map(|a| (caller.file.source.clone(), a.value.span().unwrap_or(0..0)));
            self.validate_variable(item, name, at);
            self.scope.enter(Namespace::default());
        }
    }

    /// A `for_each` block: one instance per key, each declared (its key is its
    /// label), decoded with `each` in scope and published like a block of its own.
    fn expand(&mut self, index: usize, item: &Item, refs: &[Reference]) {
        let Some(attr) = for_each::attribute(&item.block) else {
            return;
        };
        let src = &item.file.source;
        let Some(instances) =
            for_each::instances(item.kind, src, attr, &self.scope, &mut self.diags)
        else {
            return;
        };
        let span = attr.value.span().unwrap_or(0..0);
        let (line, _) = src.line_col(span.start);
        // Its instances are made together: none can read another's object.
        let own = refs.iter().find(|r| {
            r.root == item.kind
                && r.label
                    .as_ref()
                    .is_some_and(|l| instances.iter().any(|(k, _)| k == l))
        });
        if let Some(r) = own {
            self.diags.push(
                SpecDiagnostic::new(
                    "drplan::for_each",
                    format!(
                        "a for_each block cannot refer to its own instance {}.{}",
                        item.kind,
                        r.label.as_deref().unwrap_or_default()
                    ),
                )
                .at(src, r.span.clone(), "made by this block")
                .help("its instances are made from one body; use each.key and each.value, or write the block apart"),
            );
            return;
        }
        for (key, value) in instances {
            let label = self.scope.global(item.kind, &key);
            let declared = (item.kind.to_string(), label.clone());
            if let Some((f, l)) = self.declared_at.get(&declared) {
                self.diags.push(
                    SpecDiagnostic::new(
                        "drplan::duplicate_label",
                        format!("{} \"{label}\" is declared twice", item.kind),
                    )
                    .at(src, span.clone(), format!("for_each makes {}.{label} again", item.kind))
                    .help(format!(
                        "first declared at {f}:{l}; every instance of a for_each block is labelled by its key, so keys must not repeat labels of the same kind"
                    )),
                );
                continue;
            }
            self.declared_at.insert(declared, (src.path.clone(), line));
            self.scope.declare(item.kind, &label);
            self.publish_each(&key, value.clone());
            let ctx = self.scope.context_for(refs);
            self.decode_other(
                &Item {
                    label: label.clone(),
                    for_each: false,
                    instance_of: Some(index),
                    ..item.clone()
                },
                &ctx,
            );
            self.scope.unpublish(EACH);
            self.instances.push(Instance {
                item: index,
                key,
                label,
                value,
            });
        }
    }

    /// The mirror set a block belongs to by construction (`spec::parity`): the
    /// instances of one `for_each` block; in a repeated module, the same block (and
    /// `for_each` key) in each of the module's instances.
    fn mirror_group(&self, item: &Item) -> Option<String> {
        let inst = &self.namespaces[item.ns];
        match (&inst.repeated, item.instance_of) {
            (Some((call, below)), inner) => {
                let key = match inner {
                    Some(_) => item
                        .label
                        .strip_prefix(inst.ns.label_prefix.as_str())
                        .unwrap_or(&item.label),
                    None => "",
                };
                Some(format!(
                    "module #{call} {below} {} {} {key}",
                    item.file.source.path,
                    item.file.source.absolute(block_header(&item.block)).start
                ))
            }
            (None, Some(index)) => Some(format!("for_each #{index}")),
            (None, None) => None,
        }
    }

    fn publish_each(&mut self, key: &str, value: Value) {
        self.scope.publish(EACH, "key", Value::from(key));
        self.scope.publish(EACH, "value", value);
    }

    fn publish_env(&mut self, env_obj: &Map<String, Value>) {
        for (k, v) in env_obj {
            self.scope.publish("env", k, v.clone());
        }
    }

    /// Every site is known: pick the active one, mark it, publish sites and `env`.
    fn finalize_sites(
        &mut self,
        sites: Vec<crate::model::Site>,
        env: &EnvSettings,
        env_file: Option<&ParsedFile>,
        env_obj: &mut Map<String, Value>,
    ) -> Option<String> {
        let primaries: Vec<&crate::model::Site> = sites
            .iter()
            .filter(|s| s.role == SiteRole::Primary)
            .collect();
        if sites.is_empty() && !self.scope.labels("site").any(|_| true) {
            self.diags.push(
                SpecDiagnostic::new("drplan::primary_site", "the spec declares no site")
                    .help("declare site \"primary\" { region = \"us-west-2\" } and a DR site"),
            );
        } else if primaries.is_empty() && !sites.is_empty() {
            let first = &sites[0];
            let d = SpecDiagnostic::new("drplan::primary_site", "no site has role = \"primary\"");
            let d = match self.spans.get(&format!("site.{}", first.name), "role") {
                Some((f, span)) => d.at(f, span.clone(), "every site is dr"),
                None => d,
            };
            self.diags
                .push(d.help("exactly one site has role = \"primary\""));
        } else if primaries.len() > 1 {
            for extra in &primaries[1..] {
                let d = SpecDiagnostic::new(
                    "drplan::primary_site",
                    format!(
                        "sites \"{}\" and \"{}\" are both primary",
                        primaries[0].name, extra.name
                    ),
                );
                let d = match self.spans.get(&format!("site.{}", extra.name), "role") {
                    Some((f, span)) => d.at(f, span.clone(), "second primary"),
                    None => d,
                };
                self.diags.push(d.help(
                    "exactly one site has role = \"primary\"; set role = \"dr\" on the others",
                ));
            }
        }
        let active = match &env.active_site {
            Some((name, span)) => {
                if !self.scope.is_declared("site", name) {
                    if let Some(f) = env_file {
                        self.diags.push(
                            SpecDiagnostic::new(
                                "drplan::unresolved_reference",
                                format!("active_site `{name}` is not a site of the spec"),
                            )
                            .at(&f.source, span.clone(), "unknown site")
                            .help(
                                did_you_mean(name, self.scope.labels("site")).unwrap_or_else(
                                    || {
                                        format!(
                                            "sites: {}",
                                            self.scope
                                                .labels("site")
                                                .collect::<Vec<_>>()
                                                .join(", ")
                                        )
                                    },
                                ),
                            ),
                        );
                    }
                }
                let vault = sites
                    .iter()
                    .any(|s| &s.name == name && s.role == SiteRole::Vault);
                if let (true, Some(f)) = (vault, env_file) {
                    self.diags.push(
                        SpecDiagnostic::new(
                            "drplan::vault_site",
                            format!("active_site `{name}` is a vault: it holds backup copies only and is never activated"),
                        )
                        .at(&f.source, span.clone(), "vault site")
                        .help("activate the primary or a dr site; restore from the vault's copies into it"),
                    );
                }
                Some(name.clone())
            }
            None => primaries.first().map(|s| s.name.clone()),
        };
        for mut site in sites {
            site.active = active.as_deref() == Some(site.name.as_str());
            self.scope
                .publish("site", &site.name, decode::site::site_object(&site));
            self.topology.sites.insert(site.name.clone(), site);
        }
        if let Some(a) = &active {
            env_obj.insert("active_site".to_string(), Value::from(a.clone()));
            self.publish_env(env_obj);
        }
        active
    }

    /// Reads a block's body with its schema and decodes it with `f`; records its
    /// taint mark, its mirror group and its `depends_on`.
    fn decode_block<T>(
        &mut self,
        item: &Item,
        ctx: &hcl::eval::Context<'static>,
        f: impl FnOnce(&str, &mut body::BlockBody, &mut Cx) -> Option<T>,
    ) -> Option<T> {
        let schema: &Schema = schema_of(item.kind)?;
        let managed = blocks::find(item.kind).is_some_and(|b| b.managed);
        let read = if managed {
            body::read_managed
        } else {
            body::read
        };
        let mut b = read(
            &item.file.source,
            &item.block,
            schema,
            &self.scope,
            ctx,
            &mut self.diags,
        );
        let mut cx = Cx {
            scope: &self.scope,
            ctx,
            sites: &self.topology.sites,
            diags: &mut self.diags,
            spans: &mut self.spans,
        };
        let out = f(&item.label, &mut b, &mut cx);
        self.scope
            .mark(item.kind, &item.label, block_mark(&b.marks));
        if managed {
            if let Some(member) = parity::member(
                item.kind,
                &item.label,
                self.mirror_group(item),
                &mut b,
                &self.scope,
                &mut self.diags,
            ) {
                self.mirrors.push(member);
            }
        }
        if let Some(deps) = b.value("depends_on").cloned() {
            let ok = deps.as_array().is_some_and(|a| {
                a.iter().all(|v| {
                    v.as_object()
                        .and_then(|o| o.get("address"))
                        .and_then(Value::as_str)
                        .is_some()
                })
            });
            if ok {
                let addrs = deps
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| {
                        v.as_object()
                            .and_then(|o| o.get("address"))
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .collect();
                self.topology
                    .depends_on
                    .insert(format!("{}.{}", item.kind, item.label), addrs);
            } else {
                b.wrong_type(
                    &mut self.diags,
                    "depends_on",
                    "a list of block references (e.g. [cluster.primary])",
                );
            }
        }
        out
    }

    /// Decodes and publishes a block other than a site, through its entry in the
    /// table of blocks.
    fn decode_other(&mut self, item: &Item, ctx: &hcl::eval::Context<'static>) {
        if let Some(decode) = blocks::find(item.kind).and_then(|b| b.decode) {
            decode(self, item, ctx);
        }
    }
}

/// How the loader decodes and publishes a block (`blocks::Block::decode`).
pub(super) type DecodeFn = fn(&mut Loader, &Item, &hcl::eval::Context<'static>);

/// How the loader decodes a block's links (`blocks::Block::decode_links`).
pub(super) type LinksFn = fn(&mut Loader, &Item);

/// A family's block: decoded into its model, whose object is published for the
/// blocks that refer to it and which the topology keeps under its label.
pub(super) fn decode_family<B: FamilyBlock>(
    l: &mut Loader,
    item: &Item,
    ctx: &hcl::eval::Context<'static>,
) {
    let Some(model) = l.decode_block(item, ctx, B::decode) else {
        return;
    };
    let object = model.object(&l.topology.sites);
    l.scope.publish(item.kind, &item.label, object);
    B::models(&mut l.topology).insert(item.label.clone(), model);
}

/// A decoded block's links (`FamilyBlock::LINKS`), once every block is published.
pub(super) fn decode_links<B: FamilyBlock>(l: &mut Loader, item: &Item) {
    let blocks: Vec<&Block> = item
        .block
        .body
        .blocks()
        .filter(|b| B::LINKS.contains(&b.ident.as_str()))
        .collect();
    if blocks.is_empty() {
        return;
    }
    // Out of the topology while its links are decoded: they read the sites.
    let Some(mut model) = B::models(&mut l.topology).remove(&item.label) else {
        return;
    };
    let refs: Vec<_> = blocks.iter().flat_map(|b| body_refs(&b.body)).collect();
    let ctx = l.scope.context_for(&refs);
    let mut cx = Cx {
        scope: &l.scope,
        ctx: &ctx,
        sites: &l.topology.sites,
        diags: &mut l.diags,
        spans: &mut l.spans,
    };
    let address = format!("{}.{}", item.kind, item.label);
    model.decode_links(&address, &item.file.source, &blocks, &mut cx);
    B::models(&mut l.topology).insert(item.label.clone(), model);
}

/// The `objectives` block: one per project.
pub(super) fn decode_objectives(l: &mut Loader, item: &Item, ctx: &hcl::eval::Context<'static>) {
    if let Some(o) = l.decode_block(item, ctx, |_, b, cx| {
        Some(decode::objectives::decode(b, cx))
    }) {
        l.topology.objectives = Some(o);
    }
}

/// A deferred item's block (`spec::parts`) parsed again, to be evaluated.
fn materialize(item: &mut Item) {
    if item.file.deferred.is_none() || !item.block.body.is_empty() {
        return;
    }
    if let Some(block) = parts::reparse_block(item.file) {
        item.block = Rc::new(block);
    }
}

/// Cuts an evaluated item's block down to what is read after it is decoded: its
/// header, for diagnostics, and its `links` blocks, decoded once every block is
/// published. The rest of its tree is freed (unless a module's other instances still
/// hold it).
fn release(item: &mut Item) {
    let links = blocks::find(item.kind).map_or(&[][..], |b| b.links);
    let mut kept = Block::new(item.block.ident.clone());
    kept.labels = item.block.labels.clone();
    kept.body = item
        .block
        .body
        .blocks()
        .filter(|b| links.contains(&b.ident.as_str()))
        .cloned()
        .collect();
    item.block = Rc::new(kept);
}

enum NodeSource {
    Local(usize, String),
    Block(usize),
    /// A module's `variable`, given by its module block.
    Input(usize),
    /// A `module` block with `for_each`.
    ModuleForEach(usize),
}

/// References as the project names them (`network.app_main`), for the evaluation
/// order, from references written in `ns`.
fn global_refs(refs: &[Reference], ns: &Namespace) -> Vec<Reference> {
    refs.iter()
        .map(|r| Reference {
            label: r.label.as_ref().map(|l| ns.global(&r.root, l)),
            ..r.clone()
        })
        .collect()
}

fn schema_of(kind: &str) -> Option<&'static Schema> {
    blocks::find(kind)?.schema
}

/// The mark of a block's object in the evaluation context, from its attributes' marks:
/// its fields are named after the attributes they come from (`arn` and `fqdn` are
/// made from `name`).
fn block_mark(marks: &BTreeMap<String, Taint>) -> Taint {
    let mut fields = marks.clone();
    if let Some(name) = marks.get("name") {
        for derived in ["arn", "fqdn"] {
            fields
                .entry(derived.to_string())
                .or_insert_with(|| name.flattened());
        }
    }
    Taint::from_fields(fields)
}

/// Every reference in a body, nested blocks included (hcl-edit bounds their depth).
/// The references that order a block's evaluation: all of them, except inside a
/// block's links (a bucket's `replication` blocks), which are decoded after every
/// block.
pub(super) fn order_refs(kind: &str, body: &Body) -> Vec<Reference> {
    let links = blocks::find(kind).map_or(&[][..], |b| b.links);
    if links.is_empty() {
        return body_refs(body);
    }
    let mut out = Vec::new();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => out.extend(refs::collect(&a.value)),
            Structure::Block(b) if links.contains(&b.ident.as_str()) => {}
            Structure::Block(b) => out.extend(body_refs(&b.body)),
        }
    }
    out
}

pub(crate) fn body_refs(body: &Body) -> Vec<Reference> {
    let mut out = Vec::new();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => out.extend(refs::collect(&a.value)),
            Structure::Block(b) => out.extend(body_refs(&b.body)),
        }
    }
    out
}

pub(super) fn is_label(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
