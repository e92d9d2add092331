//! `drplan graph`: the resource dependency graph as Graphviz dot or Mermaid, one
//! cluster/subgraph per site (Route53 objects under "global").

use crate::graph::ResourceGraph;
use crate::resource::Resource;
use std::collections::BTreeMap;
use std::fmt::Write;

fn node_id(r: &Resource) -> String {
    r.address
        .as_str()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn by_site<'a>(g: &ResourceGraph<'a>) -> BTreeMap<String, Vec<&'a Resource>> {
    let mut groups: BTreeMap<String, Vec<&Resource>> = BTreeMap::new();
    for r in g.topological_order() {
        groups
            .entry(r.site.clone().unwrap_or_else(|| "global".into()))
            .or_default()
            .push(r);
    }
    for v in groups.values_mut() {
        v.sort_by(|a, b| a.address.cmp(&b.address));
    }
    groups
}

fn group_title(site: &str, members: &[&Resource]) -> String {
    match members.iter().find_map(|r| r.region.as_deref()) {
        Some(region) => format!("{site} ({region})"),
        None => site.to_string(),
    }
}

pub fn dot(g: &ResourceGraph) -> String {
    let mut out = String::from(
        "digraph drplan {\n  rankdir = LR;\n  node [shape = box, fontname = \"Helvetica\"];\n",
    );
    for (i, (site, members)) in by_site(g).iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph cluster_{i} {{\n    label = \"{}\";",
            group_title(site, members)
        );
        for r in members {
            let _ = writeln!(
                out,
                "    {} [label = \"{}\\n{}\"];",
                node_id(r),
                r.address,
                r.kind
            );
        }
        out.push_str("  }\n");
    }
    for (from, to) in g.edges() {
        let _ = writeln!(out, "  {} -> {};", node_id(from), node_id(to));
    }
    for (from, to, what) in g.links() {
        let _ = writeln!(
            out,
            "  {} -> {} [style = dashed, label = \"{what}\"];",
            node_id(from),
            node_id(to)
        );
    }
    out.push_str("}\n");
    out
}

pub fn mermaid(g: &ResourceGraph) -> String {
    let mut out = String::from("flowchart LR\n");
    for (site, members) in by_site(g) {
        let _ = writeln!(
            out,
            "  subgraph site_{}[\"{}\"]",
            site.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            group_title(&site, &members)
        );
        for r in members {
            let _ = writeln!(out, "    {}[\"{}<br/>{}\"]", node_id(r), r.address, r.kind);
        }
        out.push_str("  end\n");
    }
    for (from, to) in g.edges() {
        let _ = writeln!(out, "  {} --> {}", node_id(from), node_id(to));
    }
    for (from, to, what) in g.links() {
        let _ = writeln!(out, "  {} -.->|{what}| {}", node_id(from), node_id(to));
    }
    out
}
