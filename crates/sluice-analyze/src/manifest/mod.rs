//! Package manifests read statically: which package this is, what it
//! declares, and which of its files run at install time or on import.
//!
//! - [`pypi`]: PKG-INFO / METADATA, setup.cfg, pyproject.toml, setup.py
//!   (never executed: cmdclass overrides, entry_points, URL requirements).
//! - [`npm`]: package.json (scripts, bin, main, dependencies, repository,
//!   author).

pub mod npm;
pub mod pypi;

use std::collections::BTreeMap;

use sluice_archive::FileTree;
use sluice_model::{Ecosystem, Finding, Metadata};

use crate::FileRole;

/// What the manifests of one artifact say.
#[derive(Clone, Debug, Default)]
pub struct Manifest {
    /// The ecosystem, when the tree has a recognisable manifest.
    pub ecosystem: Option<Ecosystem>,
    /// Declared metadata.
    pub metadata: Metadata,
    /// `PKG3xx` findings about the manifest itself (install hooks,
    /// URL dependencies, entry-point hijacks, malformed files).
    pub findings: Vec<Finding>,
    /// Role of files whose role is not [`FileRole::Library`], by path inside
    /// the tree.
    pub roles: BTreeMap<String, FileRole>,
}

impl Manifest {
    /// The role of a file in this package.
    #[must_use]
    pub fn role_of(&self, path: &str) -> FileRole {
        if let Some(r) = self.roles.get(path) {
            return *r;
        }
        if is_auxiliary(path) || in_committed_environment(path) {
            FileRole::Auxiliary
        } else if path.ends_with(".pth") {
            // `.pth` lines starting with `import` run at every interpreter start.
            FileRole::Install
        } else {
            FileRole::Library
        }
    }
}

/// A file of a virtual environment or installed tree committed into a
/// source tree (`venv/lib/python3.14/site-packages/…`, `.venv/bin/pip`):
/// pip installs the package, not the folder, so these files never run on
/// the user's machine. A wheel's own `.pth` sits at its root, never under
/// `site-packages/`. (npm's bundled `node_modules` are installed, so they
/// are not counted here.)
#[must_use]
pub fn in_committed_environment(path: &str) -> bool {
    let mut parts = path.split('/');
    // the first component is the archive's top folder
    parts.next();
    let rest: Vec<&str> = parts.collect();
    rest.len() > 1
        && rest[..rest.len() - 1]
            .iter()
            .any(|c| matches!(*c, "site-packages" | "dist-packages"))
        || rest.len() > 2
            && matches!(rest[0], "venv" | ".venv" | "env" | ".env" | "virtualenv")
            && matches!(
                rest[1],
                "lib" | "Lib" | "bin" | "Scripts" | "lib64" | "include"
            )
}

/// Tests, examples, docs and build tooling: shipped, rarely run by users.
#[must_use]
pub fn is_auxiliary(path: &str) -> bool {
    path.split('/').any(|c| {
        matches!(
            c,
            "test"
                | "tests"
                | "testing"
                | "__tests__"
                | "spec"
                | "example"
                | "examples"
                | "doc"
                | "docs"
                | "benchmark"
                | "benchmarks"
                | "bench"
                | "scripts"
                | "tools"
                | "fixtures"
                | "e2e"
                | "tasks"
        )
    })
}

/// Read whichever manifest the tree has (npm wins when a package.json sits at
/// the package root, PyPI otherwise).
#[must_use]
pub fn read(tree: &FileTree) -> Manifest {
    if let Some(m) = npm::read(tree) {
        return m;
    }
    pypi::read(tree).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::in_committed_environment;

    #[test]
    fn committed_environments_are_recognised() {
        assert!(in_committed_environment(
            "py_vapid-1.9.5/venv/lib/python3.14/site-packages/a1_coverage.pth"
        ));
        assert!(in_committed_environment("pkg-1.0/.venv/bin/pip"));
        assert!(in_committed_environment(
            "pkg-1.0/vendor/site-packages/x.dist-info/entry_points.txt"
        ));
        // the package's own files and a wheel's root .pth are not
        assert!(!in_committed_environment("pkg-1.0/pkg/env.py"));
        assert!(!in_committed_environment("pkg-1.0/env/config.py"));
        assert!(!in_committed_environment("a1_coverage.pth"));
        assert!(!in_committed_environment(
            "pkg-1.0/pkg.dist-info/entry_points.txt"
        ));
    }
}
