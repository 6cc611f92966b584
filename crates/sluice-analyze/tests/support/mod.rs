//! Shared helpers for the package tests: read a fixture folder into a
//! [`FileTree`] with `std::fs`, build trees inline, summarise reports.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::Path;

use sluice_archive::{ArtifactKind, FileEntry, FileTree};
use sluice_model::Report;

/// Load `tests/fixtures/npm/<name>` (which holds `package/…`).
pub fn load(name: &str) -> FileTree {
    let mut t = load_folder("npm", name, "");
    t.filename = format!("{name}-1.0.0.tgz");
    t
}

/// Read `tests/fixtures/<group>/<name>` into a tree with `std::fs`, every
/// path under `prefix` (the archive reader is not needed for folders laid
/// out like an unpacked artifact).
pub fn load_folder(group: &str, name: &str, prefix: &str) -> FileTree {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(group)
        .join(name);
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push(FileEntry {
                    path: format!("{prefix}{rel}"),
                    data: std::fs::read(&p).unwrap(),
                    mode: None,
                    truncated: false,
                });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    tree(name, files)
}

/// A report in a few lines, for assertion messages.
pub fn summary(r: &Report) -> String {
    format!(
        "{} {}\n{}\n{}",
        r.verdict.level,
        r.verdict.score,
        r.verdict.reasons.join("\n"),
        r.findings
            .iter()
            .map(|f| format!(
                "  {} {:?} {:?} {}:{} {}",
                f.rule,
                f.severity,
                f.confidence,
                f.file.as_deref().unwrap_or("-"),
                f.line.unwrap_or(0),
                f.message
            ))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

/// A tree from (path, text) pairs.
pub fn tree_of(files: &[(&str, &str)]) -> FileTree {
    tree(
        "inline.tgz",
        files
            .iter()
            .map(|(p, t)| FileEntry {
                path: (*p).to_owned(),
                data: t.as_bytes().to_vec(),
                mode: None,
                truncated: false,
            })
            .collect(),
    )
}

fn tree(filename: &str, files: Vec<FileEntry>) -> FileTree {
    FileTree {
        kind: ArtifactKind::NpmTarball,
        filename: filename.to_owned(),
        sha256: None,
        size: files.iter().map(|f| f.data.len() as u64).sum(),
        files,
        anomalies: Vec::new(),
    }
}
