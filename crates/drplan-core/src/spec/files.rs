//! Reading and parsing the project's files. Unreadable or unparseable files become
//! diagnostics; the loader carries on with the others.

use super::diagnostic::{Diagnostics, SourceFile, SpecDiagnostic};
use hcl_edit::structure::Body;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Specs beyond this size are refused rather than parsed: a DR topology is small, and
/// a runaway generated file should not eat the machine.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Clone)]
pub struct ParsedFile {
    /// The file, or the view of the part parsed (`spec::parts`).
    pub source: SourceFile,
    pub body: Body,
    /// For a part holding a family's block whose body was dropped once read
    /// (`spec::parts`): the block's references, for the evaluation order. The body is
    /// parsed again from `source` when the block is evaluated.
    pub deferred: Option<Vec<super::refs::Reference>>,
}

/// The project's files, each read from disk once: every spec, environment, manifest
/// and `--var-file` a load reads comes through here. The second evaluation the RTO
/// check makes (`reload_with_active_site`) reads no file again, and the spec digest
/// covers exactly the bytes that were lowered (a manifest changed between two reads
/// can no longer be hashed in one form and lowered in another).
pub struct Sources {
    root: PathBuf,
    files: Mutex<BTreeMap<PathBuf, Arc<Vec<u8>>>>,
    disk_reads: AtomicUsize,
}

impl Sources {
    pub fn new(root: &Path) -> Arc<Sources> {
        Arc::new(Sources {
            root: root.to_path_buf(),
            files: Mutex::new(BTreeMap::new()),
            disk_reads: AtomicUsize::new(0),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The bytes of `path` (relative to the root, or absolute), read once.
    pub fn bytes(&self, path: &Path) -> std::io::Result<Arc<Vec<u8>>> {
        let full = self.root.join(path);
        if let Some(b) = self.lock().get(&full) {
            return Ok(b.clone());
        }
        let bytes = Arc::new(std::fs::read(&full)?);
        self.disk_reads.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(full, bytes.clone());
        Ok(bytes)
    }

    /// How many files were read from disk (each once).
    pub fn disk_reads(&self) -> usize {
        self.disk_reads.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<PathBuf, Arc<Vec<u8>>>> {
        self.files.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources")
            .field("root", &self.root)
            .field("files", &self.lock().len())
            .finish()
    }
}

/// Every file read, for `Project.digest`.
#[derive(Default)]
pub struct DigestInputs(Vec<(String, Arc<Vec<u8>>)>);

impl DigestInputs {
    pub fn add(&mut self, path: &str, bytes: &[u8]) {
        self.add_shared(path, Arc::new(bytes.to_vec()));
    }

    /// A file as `Sources` holds it: hashed from the one copy read, not a second.
    pub fn add_shared(&mut self, path: &str, bytes: Arc<Vec<u8>>) {
        self.0.push((path.to_string(), bytes));
    }

    pub fn finish(mut self) -> String {
        self.0.sort_by(|a, b| a.0.cmp(&b.0));
        let mut h = Sha256::new();
        for (path, bytes) in &self.0 {
            h.update(path.as_bytes());
            h.update([0]);
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes.as_slice());
        }
        hex::encode(h.finalize())
    }
}

/// `*.hcl` files directly in `root/dir`, sorted by name.
pub fn hcl_files_in(root: &Path, dir: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".hcl"))
        .collect();
    names.sort();
    names.into_iter().map(|n| format!("{dir}/{n}")).collect()
}

/// Editors on Windows start UTF-8 files with a byte-order mark; it is not HCL.
pub fn strip_bom(text: String) -> String {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

/// Reads one file (path relative to `root`) as UTF-8 text.
pub fn read_text(
    sources: &Sources,
    rel: &str,
    diags: &mut Diagnostics,
    digest: &mut DigestInputs,
) -> Option<SourceFile> {
    let path = sources.root().join(rel);
    let too_big = std::fs::metadata(&path)
        .map(|m| m.len() > MAX_FILE_BYTES)
        .unwrap_or(false);
    if too_big {
        diags.push(
            SpecDiagnostic::new(
                "drplan::file",
                format!("{rel} is larger than {} MiB", MAX_FILE_BYTES / 1024 / 1024),
            )
            .help("split the spec or remove generated content"),
        );
        return None;
    }
    let bytes = match sources.bytes(Path::new(rel)) {
        Ok(b) => b,
        Err(e) => {
            diags.push(
                SpecDiagnostic::new("drplan::file", format!("cannot read {rel}: {e}"))
                    .help("check the path and permissions"),
            );
            return None;
        }
    };
    digest.add_shared(rel, bytes.clone());
    let bytes = bytes.to_vec();
    match String::from_utf8(bytes) {
        Ok(text) => Some(SourceFile::new(rel, strip_bom(text))),
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let file = SourceFile::new(rel, lossy);
            let start = file
                .text
                .char_indices()
                .nth(
                    file.text
                        .get(..offset)
                        .map(|s| s.chars().count())
                        .unwrap_or(0),
                )
                .map(|(i, _)| i)
                .unwrap_or(0);
            diags.push(
                SpecDiagnostic::new("drplan::syntax", format!("{rel} is not UTF-8 text"))
                    .at(&file, start..start, "invalid byte here")
                    .help("spec files must be UTF-8 encoded HCL"),
            );
            None
        }
    }
}

pub fn parse(source: SourceFile, diags: &mut Diagnostics) -> Option<ParsedFile> {
    let text = source.part();
    match hcl_edit::parser::parse_body(text) {
        Ok(body) => Some(ParsedFile {
            source,
            body,
            deferred: None,
        }),
        Err(e) => {
            let mut at = e.location().offset().min(text.len());
            while at > 0 && !text.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = at;
            if let Some(c) = text.get(at..).and_then(|s| s.chars().next()) {
                end = at + c.len_utf8();
            }
            let message = e
                .message()
                .lines()
                .next()
                .unwrap_or("invalid HCL")
                .to_string();
            diags.push(
                SpecDiagnostic::new(
                    "drplan::syntax",
                    format!("invalid HCL in {}: {message}", source.path),
                )
                .at(&source, at..end, "here")
                .help("fix the syntax; nesting deeper than 64 levels is refused"),
            );
            None
        }
    }
}
