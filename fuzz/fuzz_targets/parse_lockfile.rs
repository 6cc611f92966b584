//! Every lockfile, manifest and SBOM reader of `sluice-lockfile` on
//! arbitrary text: the first byte picks the format.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sluice_lockfile::{FileKind, parse_str};

const KINDS: [FileKind; 14] = [
    FileKind::Requirements,
    FileKind::Pyproject,
    FileKind::PoetryLock,
    FileKind::UvLock,
    FileKind::PipfileLock,
    FileKind::PdmLock,
    FileKind::Pylock,
    FileKind::PackageLock,
    FileKind::YarnLock,
    FileKind::PnpmLock,
    FileKind::BunLock,
    FileKind::CycloneDx,
    FileKind::Spdx,
    FileKind::NpmShrinkwrap,
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let kind = KINDS[usize::from(first) % KINDS.len()];
    let _ = parse_str(Path::new("fuzz"), kind, text);
});
