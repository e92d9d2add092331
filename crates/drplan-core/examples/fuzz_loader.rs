//! Mutation fuzzing of the spec loader and formatter, in process:
//! `cargo run --release -p drplan-core --example fuzz_loader -- --seconds 600`.
//!
//! Seeds are the fixture projects' specs; mutations are byte flips, token splices,
//! truncations and deep nesting. A panic is recorded under `target/fuzz-crashes/` and makes
//! the run exit 1. (A stack overflow aborts the process, which also fails the run.)

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// xorshift64*: reproducible from `--seed`, no dependency needed for a driver.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "=",
    "\"",
    "${",
    "%{",
    "<<EOF\n",
    "\nEOF\n",
    "#",
    "//",
    "/*",
    "*/",
    ",",
    ".",
    "*",
    "site.primary",
    "var.",
    "local.",
    "network.",
    "bucket.",
    "cluster.",
    "for x in",
    ":",
    "?",
    "!",
    "&&",
    "==",
    "cidrsubnet(",
    "format(",
    "can(",
    "regex(",
    "\n",
    "\u{0}",
    "\u{feff}",
    "é",
    "1e999",
    "-1",
    "9999999999999999999",
    "depends_on = [",
    "subnet \"x\" {",
    "node_group \"g\" {",
    "placement \"dr\" {",
    "null",
    "true",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    for _ in 0..=rng.below(4) {
        match rng.below(7) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 => {
                let at = rng.below(data.len() + 1);
                let tok = TOKENS[rng.below(TOKENS.len())].as_bytes();
                data.splice(at..at, tok.iter().copied());
            }
            2 if !data.is_empty() => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = (a + rng.below(200)).min(other.len());
                    let at = rng.below(data.len() + 1);
                    data.splice(at..at, other[a..b].iter().copied());
                }
            }
            3 if !data.is_empty() => {
                let a = rng.below(data.len());
                let b = (a + rng.below(64)).min(data.len());
                data.drain(a..b);
            }
            4 => {
                let depth = [10, 63, 64, 65, 1000, 100_000][rng.below(6)];
                let (open, close) = [
                    ("[", "]"),
                    ("{a=", "}"),
                    ("(", ")"),
                    ("f(", ")"),
                    ("\"${", "}\""),
                ][rng.below(5)];
                let mut s = String::from("\nlocals {\n  deep = ");
                s.push_str(&open.repeat(depth));
                s.push('1');
                s.push_str(&close.repeat(depth));
                s.push_str("\n}\n");
                data.extend_from_slice(s.as_bytes());
            }
            5 if !data.is_empty() => {
                let len = rng.below(data.len());
                data.truncate(len);
            }
            _ => {
                let depth = [5, 64, 200, 5000][rng.below(4)];
                let mut s = String::new();
                for _ in 0..depth {
                    s.push_str("b {\n");
                }
                s.push_str(&"}\n".repeat(depth));
                data.extend_from_slice(s.as_bytes());
            }
        }
    }
    data
}

fn seeds(root: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for fixture in [
        "tests/fixtures/valid/specs",
        "tests/fixtures/broken/specs",
        "examples",
    ] {
        collect(&root.join(fixture), &mut out);
    }
    if out.is_empty() {
        out.push(b"site \"primary\" {\n  region = \"us-west-2\"\n}\n".to_vec());
    }
    out
}

fn collect(dir: &Path, out: &mut Vec<Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "hcl") {
            if let Ok(b) = std::fs::read(&p) {
                out.push(b);
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let seconds = arg("--seconds").unwrap_or(60);
    let mut rng = Rng(arg("--seed").unwrap_or(0x9E37_79B9_7F4A_7C15) | 1);
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let seeds = seeds(&repo);
    let crashes = repo.join("target/fuzz-crashes");

    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot create a temp dir: {e}");
            std::process::exit(2);
        }
    };
    let root = dir.path();
    let setup = std::fs::create_dir_all(root.join("specs"))
        .and_then(|_| std::fs::create_dir_all(root.join("environments")));
    let env = "stack = \"fuzz\"\nvariables {\n  environment = \"prod\"\n}\n";
    if let Err(e) = setup.and_then(|_| std::fs::write(root.join("environments/prod.hcl"), env)) {
        eprintln!("cannot write the project: {e}");
        std::process::exit(2);
    }
    std::panic::set_hook(Box::new(|_| {}));

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut iterations, mut panics, mut diagnostics) = (0u64, 0u64, 0u64);
    while Instant::now() < deadline {
        let input = mutate(&mut rng, &seeds);
        if std::fs::write(root.join("specs/main.hcl"), &input).is_err() {
            continue;
        }
        let result = catch_unwind(AssertUnwindSafe(|| {
            let loaded = drplan_core::spec::load_project(root, "prod");
            if let Err(d) = &loaded {
                let _ = d.render(false, 80);
            }
            if let Ok(text) = std::str::from_utf8(&input) {
                if let Ok(formatted) = drplan_core::spec::format::format_source(text) {
                    // The formatter must produce HCL that parses again.
                    assert!(
                        hcl_edit::parser::parse_body(&formatted).is_ok(),
                        "fmt produced unparseable output"
                    );
                }
            }
            loaded.is_err()
        }));
        iterations += 1;
        match result {
            Ok(true) => diagnostics += 1,
            Ok(false) => {}
            Err(_) => {
                panics += 1;
                let _ = std::fs::create_dir_all(&crashes);
                let path = crashes.join(format!("crash-{iterations}.hcl"));
                let _ = std::fs::write(&path, &input);
                eprintln!("panic on input saved to {}", path.display());
            }
        }
    }
    println!("fuzz_loader: {iterations} iterations in {seconds} s, {diagnostics} rejected with diagnostics, {panics} panics");
    if panics > 0 {
        std::process::exit(1);
    }
}
