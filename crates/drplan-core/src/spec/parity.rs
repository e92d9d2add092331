//! Parity between mirrors (docs/spec-reference.md "Mirrors and parity"): a DR site
//! mirrors the primary, and a mirror that drifts from it (a DR cluster left on 1.29
//! when the primary runs 1.30) is a failed failover waiting to happen.
//!
//! Mirrors are the instances of one `for_each` block that lie in different sites
//! (`for_each = site`), and blocks that say `mirror_of = <block>`. Once lowered, each
//! mirror's resources are compared with those of the mirror in the primary site
//! (else the block it names) on what a failover depends on: every object there, and
//! the attributes its kind lists (`KindInfo::parity`: a cluster's version, a node
//! group's instance types, ...). A difference is a warning, an error with
//! `parity = "error"`, nothing with `parity = "off"` or where `parity_ignore` lists it.
//! Generic: it reads the kinds' table, never matches on a kind.

use super::body::{block_header, BlockBody};
use super::diagnostic::{Diagnostics, SourceFile, SpecDiagnostic};
use super::files::ParsedFile;
use super::scope::Scope;
use crate::address::Address;
use crate::model::{Site, SiteRole};
use crate::resource::Resource;
use hcl_edit::structure::Block;
use hcl_edit::Span;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Warn,
    Error,
    Off,
}

/// A block in a mirror set: an instance of a `for_each` block, or a block with
/// `mirror_of`.
pub(super) struct Member {
    address: Address,
    /// The mirror set it belongs to by construction: the instances of one `for_each`
    /// block, or one block in the instances of a repeated module.
    group: Option<String>,
    mirror_of: Option<Address>,
    level: Option<Level>,
    ignore: Vec<String>,
    file: SourceFile,
    header: Range<usize>,
}

/// Reads a block's `mirror_of`, `parity` and `parity_ignore`; the block is a member
/// when it is an instance of a `for_each` block or names what it mirrors.
pub(super) fn member(
    kind: &str,
    label: &str,
    group: Option<String>,
    b: &mut BlockBody,
    scope: &Scope,
    diags: &mut Diagnostics,
) -> Option<Member> {
    let mirror_of = match b.has("mirror_of") {
        true => b.block_ref(diags, scope, "mirror_of", kind),
        false => None,
    };
    if mirror_of.as_deref() == Some(label) {
        b.invalid(
            diags,
            "drplan::parity",
            "mirror_of",
            format!("{kind}.{label} cannot mirror itself"),
            format!("name the {kind} this one mirrors, e.g. mirror_of = {kind}.primary"),
        );
        return None;
    }
    let level = match b.string(diags, "parity").as_deref() {
        None => None,
        Some("warn") => Some(Level::Warn),
        Some("error") => Some(Level::Error),
        Some("off") => Some(Level::Off),
        Some(other) => {
            b.invalid(
                diags,
                "drplan::invalid_value",
                "parity",
                format!("parity `{other}` is not known"),
                "use \"warn\" (the default), \"error\" or \"off\"",
            );
            None
        }
    };
    let ignore = b.string_list(diags, "parity_ignore").unwrap_or_default();
    let is_member = group.is_some() || mirror_of.is_some();
    if !is_member && !b.has("mirror_of") {
        for attr in ["parity", "parity_ignore"] {
            if b.has(attr) {
                b.invalid(
                    diags,
                    "drplan::parity",
                    attr,
                    format!("`{attr}` applies to mirrors, and {kind}.{label} mirrors nothing"),
                    format!("set mirror_of = {kind}.<label> here, or repeat the block with for_each over the sites"),
                );
            }
        }
    }
    is_member.then(|| Member {
        address: Address::block(kind, label),
        group,
        mirror_of: mirror_of.map(|m| Address::block(kind, &m)),
        level,
        ignore,
        file: b.file.clone(),
        header: b.header.clone(),
    })
}

/// Compares the mirrors' resources; returns the warnings and adds the errors
/// (`parity = "error"`) to `errors`.
pub(super) fn check(
    members: &[Member],
    specs: &[ParsedFile],
    resources: &[Resource],
    sites: &BTreeMap<String, Site>,
    errors: &mut Diagnostics,
) -> Diagnostics {
    let mut warnings = Diagnostics::default();
    if members.is_empty() {
        return warnings;
    }
    let by_block = resources_by_block(resources);
    let site_of = |a: &Address| {
        by_block
            .get(a)
            .and_then(|rs| rs.iter().find_map(|r| r.site.clone()))
    };
    let member_of: BTreeMap<&Address, &Member> = members.iter().map(|m| (&m.address, m)).collect();
    for set in mirror_sets(members, &site_of) {
        let primary = set.iter().find(|a| {
            site_of(a)
                .and_then(|s| sites.get(&s))
                .is_some_and(|s| s.role == SiteRole::Primary)
        });
        let named = set.iter().find(|a| {
            members
                .iter()
                .any(|m| m.mirror_of.as_ref() == Some(*a) && set.contains(&m.address))
        });
        let Some(reference) = primary.or(named).or(set.first()) else {
            continue;
        };
        for mirror in set.iter().filter(|a| *a != reference) {
            let (m, r) = (member_of.get(mirror), member_of.get(reference));
            let level = m
                .and_then(|m| m.level)
                .or_else(|| r.and_then(|r| r.level))
                .unwrap_or(Level::Warn);
            if level == Level::Off {
                continue;
            }
            let ignore: BTreeSet<&str> = [m, r]
                .into_iter()
                .flatten()
                .flat_map(|x| x.ignore.iter().map(String::as_str))
                .collect();
            let empty = Vec::new();
            let ours = by_block.get(mirror).unwrap_or(&empty);
            let theirs = by_block.get(reference).unwrap_or(&empty);
            for d in differences(mirror, ours, reference, theirs, &ignore) {
                let diag = report(&d, m.copied(), r.copied(), specs, level);
                match level {
                    Level::Error => errors.push(diag),
                    _ => warnings.push(diag.warning()),
                }
            }
        }
    }
    warnings.sort();
    warnings
}

/// The resources of each top-level block, by its address.
fn resources_by_block(resources: &[Resource]) -> BTreeMap<Address, Vec<&Resource>> {
    let mut out: BTreeMap<Address, Vec<&Resource>> = BTreeMap::new();
    for r in resources {
        out.entry(r.address.root_block()).or_default().push(r);
    }
    out
}

/// The sets of mirrors, each sorted: the instances of one `for_each` block when they
/// lie in different sites, joined with the blocks `mirror_of` links.
fn mirror_sets(
    members: &[Member],
    site_of: &dyn Fn(&Address) -> Option<String>,
) -> Vec<Vec<Address>> {
    let mut parent: BTreeMap<Address, Address> = BTreeMap::new();
    fn find(parent: &mut BTreeMap<Address, Address>, a: &Address) -> Address {
        let p = parent.entry(a.clone()).or_insert_with(|| a.clone()).clone();
        if &p == a {
            return p;
        }
        let root = find(parent, &p);
        parent.insert(a.clone(), root.clone());
        root
    }
    let union = |parent: &mut BTreeMap<Address, Address>, a: &Address, b: &Address| {
        let (ra, rb) = (find(parent, a), find(parent, b));
        if ra != rb {
            parent.insert(ra, rb);
        }
    };
    let mut groups: BTreeMap<&str, Vec<&Address>> = BTreeMap::new();
    for m in members {
        find(&mut parent, &m.address);
        if let Some(g) = &m.group {
            groups.entry(g.as_str()).or_default().push(&m.address);
        }
        if let Some(target) = &m.mirror_of {
            union(&mut parent, &m.address, target);
        }
    }
    for instances in groups.values() {
        // Repetition within one site (a bucket per app) is not a mirror.
        let sites: Vec<Option<String>> = instances.iter().map(|a| site_of(a)).collect();
        let distinct: BTreeSet<&String> = sites.iter().flatten().collect();
        if sites.iter().any(Option::is_none) || distinct.len() != sites.len() {
            continue;
        }
        for pair in instances.windows(2) {
            union(&mut parent, pair[0], pair[1]);
        }
    }
    let mut sets: BTreeMap<Address, Vec<Address>> = BTreeMap::new();
    let all: Vec<Address> = parent.keys().cloned().collect();
    for a in all {
        let root = find(&mut parent, &a);
        sets.entry(root).or_default().push(a);
    }
    sets.into_values().filter(|s| s.len() > 1).collect()
}

/// One way a mirror differs from the block it is compared with.
struct Difference {
    mirror: Address,
    reference: Address,
    /// The object, relative to its block (`node_group.general`; empty for the block's own).
    path: String,
    what: Differs,
}

enum Differs {
    /// An attribute's values: the mirror's, the reference's (as quoted).
    Attr(String, String, String),
    /// The mirror lacks the object.
    Lacks,
    /// The mirror has an object the reference lacks.
    Extra,
}

impl Difference {
    fn attr(&self) -> Option<&str> {
        match &self.what {
            Differs::Attr(a, _, _) => Some(a),
            _ => None,
        }
    }

    /// What `parity_ignore` lists to accept it: `version`, `node_group.data.max_size`,
    /// `subnet.public-c`.
    fn entry(&self) -> String {
        match (self.path.is_empty(), self.attr()) {
            (true, Some(a)) => a.to_string(),
            (false, Some(a)) => format!("{}.{a}", self.path),
            (_, None) => self.path.clone(),
        }
    }
}

fn relative(block: &Address, r: &Resource) -> String {
    r.address
        .as_str()
        .strip_prefix(block.as_str())
        .map(|rest| rest.trim_start_matches('.').to_string())
        .unwrap_or_default()
}

fn differences(
    mirror: &Address,
    ours: &[&Resource],
    reference: &Address,
    theirs: &[&Resource],
    ignore: &BTreeSet<&str>,
) -> Vec<Difference> {
    let compared = |r: &&&Resource| r.kind.info().parity.is_some();
    let ours: BTreeMap<String, &Resource> = ours
        .iter()
        .filter(compared)
        .map(|r| (relative(mirror, r), *r))
        .collect();
    let theirs: BTreeMap<String, &Resource> = theirs
        .iter()
        .filter(compared)
        .map(|r| (relative(reference, r), *r))
        .collect();
    let difference = |path: &str, what| Difference {
        mirror: mirror.clone(),
        reference: reference.clone(),
        path: path.to_string(),
        what,
    };
    // An attribute name alone ignores it in every object of the block.
    let kept = |d: &Difference| {
        !ignore.contains(d.entry().as_str()) && !d.attr().is_some_and(|a| ignore.contains(a))
    };
    let mut out = Vec::new();
    for (path, theirs_r) in &theirs {
        let Some(ours_r) = ours.get(path) else {
            out.push(difference(path, Differs::Lacks));
            continue;
        };
        for attr in theirs_r.kind.info().parity.unwrap_or_default() {
            let (a, b) = (ours_r.attrs.get(*attr), theirs_r.attrs.get(*attr));
            if a != b {
                let what = Differs::Attr(
                    attr.to_string(),
                    shown(ours_r, attr, a),
                    shown(theirs_r, attr, b),
                );
                out.push(difference(path, what));
            }
        }
    }
    for path in ours.keys().filter(|p| !theirs.contains_key(*p)) {
        out.push(difference(path, Differs::Extra));
    }
    out.retain(kept);
    out
}

/// A value as the warning quotes it; never a sensitive one.
fn shown(r: &Resource, attr: &str, v: Option<&Value>) -> String {
    if r.sensitive.iter().any(|s| s == attr) {
        return "(sensitive value)".to_string();
    }
    match v {
        None | Some(Value::Null) => "not set".to_string(),
        Some(v) => serde_json::to_string(v).unwrap_or_default(),
    }
}

fn report(
    d: &Difference,
    mirror: Option<&Member>,
    reference: Option<&Member>,
    specs: &[ParsedFile],
    level: Level,
) -> SpecDiagnostic {
    let what = d.entry();
    let message = match &d.what {
        Differs::Attr(_, ours, theirs) => format!(
            "{} differs from its mirror {} in `{what}`: {ours} here, {theirs} in {}",
            d.mirror, d.reference, d.reference
        ),
        Differs::Lacks => format!(
            "{} lacks {what}, which its mirror {} has",
            d.mirror, d.reference
        ),
        Differs::Extra => format!(
            "{} has {what}, which its mirror {} lacks",
            d.mirror, d.reference
        ),
    };
    let attr = d.attr();
    let place = |m: Option<&Member>, address: &Address| {
        let (file, block) = match m {
            Some(m) => (m.file.clone(), find_block(specs, &m.file, &m.header)?),
            None => find_labelled(specs, address)?,
        };
        Some((file, span_of(block, &d.path, attr)))
    };
    let same_block = mirror
        .zip(reference)
        .is_some_and(|(m, r)| m.group.is_some() && m.group == r.group);
    let ours = place(mirror, &d.mirror);
    let theirs = place(reference, &d.reference);
    let mut diag = SpecDiagnostic::new("drplan::parity", message);
    if let Some((file, span)) = &ours {
        let label = match same_block {
            true => format!(
                "differs between the instances {} and {}",
                d.mirror, d.reference
            ),
            false => format!("{}'s", d.mirror),
        };
        diag = diag.at(file, span.clone(), label);
        if let Some((other, span)) = &theirs {
            if !same_block && other.path == file.path {
                diag = diag.also(span.clone(), format!("{}'s", d.reference));
            }
        }
    } else if let Some((file, span)) = &theirs {
        diag = diag.at(file, span.clone(), format!("{}'s", d.reference));
    }
    let ignore_entry = d.entry();
    let on = match same_block {
        true => "the for_each block".to_string(),
        false => d.mirror.to_string(),
    };
    let help = match level {
        Level::Error => format!(
            "a failover onto {} depends on it (parity = \"error\"); make the mirrors match",
            d.mirror
        ),
        _ => format!(
            "a failover onto {} depends on it; make the mirrors match, or, when the difference is intended, parity_ignore = [\"{ignore_entry}\"] on {on}",
            d.mirror
        ),
    };
    diag.help(help)
}

/// The top-level block of `file` whose header is `header`.
fn find_block<'a>(
    specs: &'a [ParsedFile],
    file: &SourceFile,
    header: &Range<usize>,
) -> Option<&'a Block> {
    // A spec file is read in parts (`spec::parts`), each with its own view.
    let parsed = specs
        .iter()
        .find(|p| p.source.path == file.path && p.source.base() == file.base())?;
    parsed.body.blocks().find(|b| &block_header(b) == header)
}

/// The block `kind "label"` an address names (a block in no mirror set of its own:
/// what a `mirror_of` names).
fn find_labelled<'a>(
    specs: &'a [ParsedFile],
    address: &Address,
) -> Option<(SourceFile, &'a Block)> {
    let (kind, label) = address.as_str().split_once('.')?;
    specs.iter().find_map(|p| {
        p.body
            .blocks()
            .find(|b| {
                b.ident.as_str() == kind && b.labels.first().map(|l| l.as_str()) == Some(label)
            })
            .map(|b| (p.source.clone(), b))
    })
}

/// Where an attribute of an object of a block is written: the attribute in the
/// nested block the path names (`node_group.general`), else that block's header,
/// else the block's.
fn span_of(block: &Block, path: &str, attr: Option<&str>) -> Range<usize> {
    let mut current = block;
    let parts: Vec<&str> = if path.is_empty() {
        Vec::new()
    } else {
        path.split('.').collect()
    };
    for pair in parts.chunks(2) {
        let found = current.body.blocks().find(|b| {
            b.ident.as_str() == pair[0]
                && b.labels.first().map(|l| l.as_str()) == pair.get(1).copied()
        });
        match found {
            Some(b) => current = b,
            None => return block_header(current),
        }
    }
    attr.and_then(|a| {
        current
            .body
            .attributes()
            .find(|x| x.key.as_str() == a)
            .and_then(|x| x.value.span())
    })
    .unwrap_or_else(|| block_header(current))
}
