//! Arbitrary bytes as one manifest file (chosen by the first byte) in an
//! otherwise empty package, through `sluice_analyze::analyze`. Any report
//! is fine; a panic or hang is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_archive::{ArtifactKind, FileEntry, FileTree};

const PATHS: [&str; 5] = [
    "pkg-1.0/PKG-INFO",
    "pkg-1.0/setup.py",
    "pkg-1.0/pyproject.toml",
    "pkg-1.0/setup.cfg",
    "package/package.json",
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let path = PATHS[usize::from(first) % PATHS.len()];
    let (kind, filename) = if path.starts_with("package/") {
        (ArtifactKind::NpmTarball, "fuzz-1.0.0.tgz")
    } else {
        (ArtifactKind::Sdist, "pkg-1.0.tar.gz")
    };
    let tree = FileTree {
        kind,
        filename: filename.to_owned(),
        sha256: None,
        size: rest.len() as u64,
        files: vec![FileEntry {
            path: path.to_owned(),
            data: rest.to_vec(),
            mode: Some(0o644),
            truncated: false,
        }],
        anomalies: Vec::new(),
    };
    let _ = sluice_analyze::analyze("fuzz", &tree, &Default::default());
});
