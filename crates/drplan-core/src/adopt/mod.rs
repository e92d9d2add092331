//! Taking over objects that exist already: what to import (`Adoption`), the
//! `import` blocks that say so, a writer of spec blocks (`config`) and the
//! conversion of a Terraform state file (`tfstate`), the core of
//! `drplan import --from-terraform-state`.
//!
//! **Architecture invariant:** pure text in, text out; the command reads and writes
//! the files.

pub mod config;
pub mod live;
pub mod tfstate;

use crate::address::Address;
use crate::resource::Kind;
use config::{Block, Value};

/// One existing object to bring under a spec block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adoption {
    /// The spec address it becomes (`bucket.backups`).
    pub to: Address,
    pub kind: Kind,
    /// Its import id (docs/spec-reference.md, "Importing an existing object").
    pub id: String,
    /// Where it was found: the Terraform address (`aws_s3_bucket.backups`).
    pub source: String,
}

/// The `import { to  id }` block of each adoption, with a `# from <source>` line
/// above it, in the canonical layout.
pub fn import_blocks(adoptions: &[Adoption]) -> String {
    let blocks: Vec<Block> = adoptions.iter().map(import_block).collect();
    config::render(&blocks)
}

/// One adoption's `import` block.
pub fn import_block(a: &Adoption) -> Block {
    Block::new("import")
        .comment(format!("from {}", a.source))
        .attr("to", Value::raw(a.to.as_str()))
        .attr("id", a.id.as_str())
}

/// A block label made from any name: characters outside letters, digits, `_` and
/// `-` become `_`, and `r_` goes in front of one that does not start with a letter
/// (`0` -> `r_0`, `web.a` -> `web_a`).
pub fn label(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !s.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        s.insert_str(0, "r_");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_label_rules() {
        assert_eq!(label("main"), "main");
        assert_eq!(label("web.a b"), "web_a_b");
        assert_eq!(label("0"), "r_0");
        assert_eq!(label("_x"), "r__x");
    }

    #[test]
    fn import_blocks_name_their_source() {
        let text = import_blocks(&[Adoption {
            to: Address::new("bucket.backups"),
            kind: Kind::Bucket,
            id: "lanka-backups".into(),
            source: "aws_s3_bucket.backups".into(),
        }]);
        assert_eq!(
            text,
            "# from aws_s3_bucket.backups\nimport {\n  to = bucket.backups\n  id = \"lanka-backups\"\n}\n"
        );
    }
}
