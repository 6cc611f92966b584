//! A small document tree shared by the JSON, YAML and TOML readers: every
//! node keeps the 1-based line it starts on, so a dependency can point at
//! the line of its entry without rescanning the file per entry.

/// A parsed value with the line it starts on.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    /// 1-based line of the value (for an object member, of its key).
    pub line: u32,
    /// The value.
    pub val: Val,
}

/// The value of a [`Node`]. Objects keep their members in file order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    /// A number, kept as written (versions are never numbers we compute on).
    Num(String),
    Str(String),
    Arr(Vec<Node>),
    Obj(Vec<(String, Node)>),
}

impl Node {
    pub(crate) fn new(line: u32, val: Val) -> Self {
        Self { line, val }
    }

    /// Member `key` of an object.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match &self.val {
            Val::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string value, also for numbers and booleans written bare (a
    /// YAML `version: 1.0` or TOML `version = 2`).
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.val {
            Val::Str(s) | Val::Num(s) => Some(s),
            _ => None,
        }
    }

    /// Member `key` as a string.
    pub(crate) fn str_of(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Node::as_str)
    }

    /// Member `key` as a boolean (false when absent).
    pub(crate) fn flag(&self, key: &str) -> bool {
        matches!(self.get(key).map(|n| &n.val), Some(Val::Bool(true)))
    }

    /// Object members (empty for anything else).
    pub(crate) fn entries(&self) -> &[(String, Node)] {
        match &self.val {
            Val::Obj(m) => m,
            _ => &[],
        }
    }

    /// Array items (empty for anything else).
    pub(crate) fn items(&self) -> &[Node] {
        match &self.val {
            Val::Arr(v) => v,
            _ => &[],
        }
    }
}

/// Byte offset → 1-based line, by binary search over line starts (built
/// once per file).
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Self { starts }
    }

    /// The 1-based line holding byte `offset`.
    pub(crate) fn line(&self, offset: usize) -> u32 {
        let i = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        u32::try_from(i + 1).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index() {
        let idx = LineIndex::new("a\nbc\n\nd");
        assert_eq!(idx.line(0), 1);
        assert_eq!(idx.line(1), 1);
        assert_eq!(idx.line(2), 2);
        assert_eq!(idx.line(5), 3);
        assert_eq!(idx.line(6), 4);
        assert_eq!(idx.line(100), 4);
    }
}
