use super::{label_of, source_ref, Cx};
use crate::model::{Component, Objectives};
use crate::objectives::estimates;
use crate::spec::body::{self, BlockBody, Schema};
use crate::spec::diagnostic::SpecDiagnostic;
use crate::spec::duration::{parse_duration, DURATION_HELP};
use std::collections::BTreeMap;
use std::time::Duration;

pub const SCHEMA: Schema = Schema::new(&["rto", "rpo"], &["component", "estimates"]);
const COMPONENT: Schema = Schema::new(&["rto", "rpo", "resources"], &[]);
const ESTIMATES: Schema = Schema::new(estimates::KEYS, &[]);

pub fn decode(b: &mut BlockBody, cx: &mut Cx) -> Objectives {
    let rto = duration(b, cx, "rto");
    let rpo = duration(b, cx, "rpo");
    let mut components = BTreeMap::new();
    for cb in b.nested("component").collect::<Vec<_>>() {
        let mut c = body::read(b.file, cb, &COMPONENT, cx.scope, cx.ctx, cx.diags);
        let Some(name) = label_of(cb) else {
            cx.diags.push(
                SpecDiagnostic::new("drplan::missing_label", "component needs a name")
                    .at(b.file, c.header.clone(), "no label")
                    .help("write component \"neo4j\" { rto = \"1h\" }"),
            );
            continue;
        };
        if components.contains_key(&name) {
            cx.diags.push(
                SpecDiagnostic::new(
                    "drplan::duplicate_label",
                    format!("component \"{name}\" is declared twice"),
                )
                .at(b.file, c.header.clone(), "again here")
                .help("one component block per name"),
            );
            continue;
        }
        let crto = duration(&mut c, cx, "rto");
        let crpo = duration(&mut c, cx, "rpo");
        let resources = c.string_list(cx.diags, "resources").unwrap_or_default();
        for r in &resources {
            let known = r
                .split_once('.')
                .is_some_and(|(k, l)| cx.scope.is_declared(k, l));
            if !known {
                c.invalid(
                    cx.diags,
                    "drplan::unresolved_reference",
                    "resources",
                    format!("`{r}` is not a block in this spec"),
                    "list references such as backup.neo4j or cluster.dr",
                );
            }
        }
        components.insert(
            name.clone(),
            Component {
                name,
                rto: crto,
                rpo: crpo,
                resources,
                source: source_ref(&c),
            },
        );
    }
    let mut estimates = BTreeMap::new();
    for eb in b.nested("estimates").collect::<Vec<_>>() {
        let mut e = body::read(b.file, eb, &ESTIMATES, cx.scope, cx.ctx, cx.diags);
        for key in estimates::KEYS {
            if let Some(d) = duration(&mut e, cx, key) {
                estimates.insert((*key).to_string(), d);
            }
        }
    }
    Objectives {
        rto,
        rpo,
        components,
        estimates,
        source: Some(source_ref(b)),
    }
}

fn duration(b: &mut BlockBody, cx: &mut Cx, attr: &str) -> Option<Duration> {
    let s = b.string(cx.diags, attr)?;
    match parse_duration(&s) {
        Ok(d) => Some(d),
        Err(e) => {
            b.invalid(cx.diags, "drplan::duration", attr, e, DURATION_HELP);
            None
        }
    }
}
