//! PyPI manifests: PKG-INFO / METADATA, setup.cfg, pyproject.toml, setup.py.

use sluice_archive::FileTree;

use super::Manifest;

/// Read the PyPI manifests of a tree, if it looks like a Python package.
#[must_use]
pub fn read(tree: &FileTree) -> Option<Manifest> {
    let _ = tree;
    None
}
