//! npm dependency files: `package-lock.json` / `npm-shrinkwrap.json`,
//! `yarn.lock` (classic and berry), `pnpm-lock.yaml` and `bun.lock`.

pub(crate) mod bun;
pub(crate) mod package_lock;
pub(crate) mod pnpm;
pub(crate) mod yarn;

use std::path::Path;

use sluice_model::Ecosystem;

use crate::{Dependency, Parsed};

/// Add an npm entry.
pub(crate) fn add<'p>(
    p: &'p mut Parsed,
    path: &Path,
    name: &str,
    version: Option<&str>,
    line: u32,
) -> Option<&'p mut Dependency> {
    p.add(path, Ecosystem::Npm, name, version, line)
}

/// A version that is a registry version (not a URL, path or git spec).
pub(crate) fn is_plain_version(v: &str) -> bool {
    v.starts_with(|c: char| c.is_ascii_digit()) && !v.contains(':') && !v.contains('/')
}
