//! npm manifests: package.json.

use sluice_archive::FileTree;

use super::Manifest;

/// Read the package.json at the root of a tree, if there is one.
#[must_use]
pub fn read(tree: &FileTree) -> Option<Manifest> {
    let _ = tree;
    None
}
