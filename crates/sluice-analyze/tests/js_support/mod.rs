//! Shared helpers for the npm tests: read a fixture folder into a
//! [`FileTree`] with `std::fs` (the archive reader is not needed for
//! folders laid out like an unpacked npm tarball).

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::Path;

use sluice_archive::{ArtifactKind, FileEntry, FileTree};

/// Load `tests/fixtures/npm/<name>` (which holds `package/…`).
pub fn load(name: &str) -> FileTree {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/npm")).join(name);
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
                    path: rel,
                    data: std::fs::read(&p).unwrap(),
                    mode: None,
                    truncated: false,
                });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    tree(&format!("{name}-1.0.0.tgz"), files)
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
