//! Syntax trees flattened into an array, for the Python and JavaScript
//! fact layers.
//!
//! The fact layers ask for kinds, fields, parents and children millions of
//! times per large package. Through tree-sitter's node API each of those is
//! a cursor walk (`Node::kind` also measures and checks a C string); here
//! one cursor pass copies the tree into a pre-order array and every later
//! question is an array read.

use std::sync::LazyLock;

/// "No node / no declaration".
pub const NONE: u32 = u32::MAX;

/// Kind and field names of a grammar, by id, read once: `Node::kind`
/// measures and checks a C string on every call.
pub struct Grammar {
    kinds: Vec<&'static str>,
    /// The kind of error nodes, whose id (`u16::MAX`) is outside the table.
    error: &'static str,
    fields: Vec<Option<&'static str>>,
}

impl Grammar {
    fn of(lang: &tree_sitter::Language) -> Grammar {
        let ids = |n: usize| (0..=n).filter_map(|i| u16::try_from(i).ok());
        Grammar {
            kinds: ids(lang.node_kind_count())
                .map(|i| lang.node_kind_for_id(i).unwrap_or(""))
                .collect(),
            error: lang.node_kind_for_id(u16::MAX).unwrap_or("ERROR"),
            fields: ids(lang.field_count())
                .map(|i| lang.field_name_for_id(i))
                .collect(),
        }
    }

    fn kind(&self, id: u16) -> &'static str {
        self.kinds
            .get(usize::from(id))
            .copied()
            .unwrap_or(self.error)
    }

    fn field(&self, id: u16) -> Option<&'static str> {
        self.fields.get(usize::from(id)).copied().flatten()
    }
}

/// The Python grammar's names.
pub static PYTHON: LazyLock<Grammar> =
    LazyLock::new(|| Grammar::of(&tree_sitter_python::LANGUAGE.into()));
/// The JavaScript grammar's names.
pub static JAVASCRIPT: LazyLock<Grammar> =
    LazyLock::new(|| Grammar::of(&tree_sitter_javascript::LANGUAGE.into()));

/// One syntax node, flattened. Anonymous tokens are dropped unless they
/// carry a field name (the operator of a binary expression).
#[derive(Clone, Debug)]
pub struct Node {
    /// tree-sitter kind.
    pub kind: &'static str,
    /// Field name in the parent, if any.
    pub field: Option<&'static str>,
    /// A named node (not an anonymous token kept for its field).
    pub named: bool,
    /// Parent index (`NONE` for the root).
    pub parent: u32,
    /// First child index.
    pub first: u32,
    /// Next sibling index.
    pub next: u32,
    /// Byte range.
    pub start: u32,
    /// End byte (exclusive).
    pub end: u32,
    /// 0-based row.
    pub row: u32,
    /// 0-based byte column.
    pub col: u32,
}

/// Flatten a tree of `grammar` into a pre-order array (a parent before its
/// children).
pub fn flatten(tree: &tree_sitter::Tree, grammar: &Grammar) -> Vec<Node> {
    // Sized once: growing a vector of a million nodes copies it twenty
    // times over.
    let mut nodes: Vec<Node> = Vec::with_capacity(tree.root_node().descendant_count());
    let mut last_child: Vec<u32> = Vec::new();
    let mut stack: Vec<u32> = Vec::new(); // nearest kept ancestor of each open level
    let mut cursor = tree.walk();
    loop {
        let node = cursor.node();
        let field = cursor.field_id().and_then(|f| grammar.field(u16::from(f)));
        let keep = node.is_named() || field.is_some();
        let parent = stack.last().copied().unwrap_or(NONE);
        let idx = if keep {
            let idx = nodes.len() as u32;
            let sp = node.start_position();
            nodes.push(Node {
                kind: grammar.kind(node.kind_id()),
                field,
                named: node.is_named(),
                parent,
                first: NONE,
                next: NONE,
                start: node.start_byte() as u32,
                end: node.end_byte() as u32,
                row: sp.row as u32,
                col: sp.column as u32,
            });
            last_child.push(NONE);
            if parent != NONE {
                let lc = last_child[parent as usize];
                if lc == NONE {
                    nodes[parent as usize].first = idx;
                } else {
                    nodes[lc as usize].next = idx;
                }
                last_child[parent as usize] = idx;
            }
            idx
        } else {
            NONE
        };
        if cursor.goto_first_child() {
            stack.push(if idx == NONE { parent } else { idx });
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return nodes;
            }
            stack.pop();
        }
    }
}
