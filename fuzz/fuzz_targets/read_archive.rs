//! Arbitrary bytes into `sluice_archive::read_bytes`, under a file name
//! chosen by the first byte. Any error is fine; a panic, hang, or a tree
//! that breaks the crate's promises (unsafe paths, oversize files) is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_archive::{Limits, read_bytes};

const NAMES: [&str; 5] = ["x.tar.gz", "x.zip", "x.whl", "x.tgz", "x.tar.bz2"];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(first) % NAMES.len()];
    // Smaller than the defaults so each run stays fast; the ratio limit
    // stays at its default.
    let limits = Limits {
        max_archive_bytes: 1 << 20,
        max_total_bytes: 16 << 20,
        max_file_bytes: 1 << 20,
        max_entries: 2000,
        ..Limits::default()
    };
    let Ok(tree) = read_bytes(name, rest, &limits) else {
        return;
    };
    let mut seen = std::collections::HashSet::new();
    for f in &tree.files {
        assert!(!f.path.is_empty());
        assert!(!f.path.starts_with('/'), "{}", f.path);
        assert!(!f.path.contains('\\'), "{}", f.path);
        assert!(
            f.path
                .split('/')
                .all(|p| !p.is_empty() && p != "." && p != ".."),
            "{}",
            f.path
        );
        assert!(f.path.split('/').count() <= limits.max_depth);
        assert!(f.data.len() as u64 <= limits.max_file_bytes);
        assert!(seen.insert(f.path.as_str()), "duplicate kept: {}", f.path);
    }
    assert!(tree.unpacked_bytes() <= limits.max_total_bytes);
    assert_eq!(tree.size, rest.len() as u64);
});
