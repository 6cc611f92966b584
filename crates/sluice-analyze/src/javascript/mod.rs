//! JavaScript rules (`JS2xx`), on tree-sitter-javascript syntax trees.

use sluice_model::Finding;

use crate::SourceFile;

/// Run every JavaScript rule over one file.
#[must_use]
pub fn check(file: &SourceFile<'_>) -> Vec<Finding> {
    let _ = file;
    Vec::new()
}
