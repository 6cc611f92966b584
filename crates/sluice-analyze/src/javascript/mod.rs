//! JavaScript rules (`JS2xx`), on tree-sitter-javascript syntax trees.
//!
//! Each file is parsed once into [`facts::Facts`] (bindings, resolved call
//! names, constant strings, labels), then every rule reads those facts. One
//! rule per file; each rule's doc comment says what it detects, why it
//! matters, an example and its known false positives. Rules look for
//! *chains* (data gathered **and** sent, fetched **and** run, decoded **and**
//! run), not single API calls, because a single call says little about
//! intent and is everywhere in benign code.
//!
//! | code | name | strongest form |
//! | --- | --- | --- |
//! | JS201 | recon-exfiltration | hostname/user/interfaces/whole env sent by HTTP, socket or built DNS name |
//! | JS202 | download-execute | network data into `eval`/`Function`/`vm`/shell; `curl … \| sh` executed |
//! | JS203 | secret-theft | `.npmrc`, `.ssh`, `.aws`, browser profiles, Discord/Telegram stores, wallets, cloud metadata read and sent |
//! | JS204 | decode-execute | `atob`/base64/hex/char codes into `eval`/`Function`/`vm`/`require`/process |
//! | JS205 | obfuscated-code | obfuscator.io `_0x` names; long high-entropy literals (weak) |
//! | JS206 | reverse-shell | a shell piped to a socket; `/dev/tcp`, `nc -e` command lines |
//! | JS207 | persistence | writes to shell rc files, cron, Startup, LaunchAgents, systemd |
//! | JS208 | destruction | recursive delete of home or `/`; `rm -rf ~` |
//! | JS209 | install-script-activity | network or processes in an install script (weak) |
//! | JS210 | hidden-code | code pushed off-screen by a wall of whitespace |
//! | JS211 | data-exfiltration | file contents, command output, screenshots, clipboard sent unasked or to a webhook/paste/catcher |
//! | JS212 | runtime-install | `npm install <pkg>`/`yarn add`/`pip install` run by package code, from a URL or git |
//! | JS213 | clipboard-hijack | clipboard read, matched against wallet-address patterns and written back |
//! | JS214 | bundled-binary-exec | install code starting a file shipped in the package; an ELF/PE/Mach-O one raises it |
//!
//! Severity rises to critical where the file runs unasked (install scripts,
//! the package's `main`); flows through minified bundles are capped.

pub mod api;
pub mod facts;
pub mod shell;

mod js201_recon_exfil;
mod js202_download_exec;
mod js203_secret_theft;
mod js204_decode_exec;
mod js205_obfuscation;
mod js206_reverse_shell;
mod js207_persistence;
mod js208_destruction;
mod js209_install_activity;
mod js210_hidden_code;
mod js211_data_exfil;
pub mod js212_runtime_install;
mod js213_clipboard_hijack;
pub mod js214_bundled_binary;

use sluice_model::{Confidence, Finding, RuleCode, Severity};

use crate::SourceFile;
use facts::{Call, Facts};

/// What a rule sees.
pub struct Ctx<'f, 'a> {
    /// The file.
    pub file: &'f SourceFile<'a>,
    /// Its facts.
    pub facts: &'f Facts<'a>,
}

type Rule = fn(&Ctx<'_, '_>) -> Vec<Finding>;

/// Every rule, by code.
pub const RULES: &[(&str, Rule)] = &[
    ("JS201", js201_recon_exfil::check),
    ("JS202", js202_download_exec::check),
    ("JS203", js203_secret_theft::check),
    ("JS204", js204_decode_exec::check),
    ("JS205", js205_obfuscation::check),
    ("JS206", js206_reverse_shell::check),
    ("JS207", js207_persistence::check),
    ("JS208", js208_destruction::check),
    ("JS209", js209_install_activity::check),
    ("JS210", js210_hidden_code::check),
    ("JS211", js211_data_exfil::check),
    ("JS212", js212_runtime_install::check),
    ("JS213", js213_clipboard_hijack::check),
    ("JS214", js214_bundled_binary::check),
];

/// Run every JavaScript rule over one file.
#[must_use]
pub fn check(file: &SourceFile<'_>) -> Vec<Finding> {
    let Some(facts) = Facts::build(file.text) else {
        return Vec::new();
    };
    let ctx = Ctx {
        file,
        facts: &facts,
    };
    let mut out = Vec::new();
    for (_, rule) in RULES {
        out.extend(rule(&ctx));
    }
    out
}

impl Ctx<'_, '_> {
    /// A finding at node `node`, with its excerpt and install-time flag.
    #[must_use]
    pub fn finding(
        &self,
        node: u32,
        code: &'static str,
        name: &str,
        severity: Severity,
        confidence: Confidence,
        message: impl Into<String>,
    ) -> Finding {
        let (line, col) = self.facts.line_col(node);
        Finding::new(RuleCode::new(code), name, severity, confidence, message)
            .at(self.file.path, line, col)
            .excerpt(self.facts.text(node))
            .install_time(self.file.role.runs_unasked())
    }

    /// Calls whose resolved name satisfies `pred`.
    pub fn calls_where<'s>(
        &'s self,
        pred: impl Fn(&str) -> bool + 's,
    ) -> impl Iterator<Item = &'s Call<'s>> + 's {
        self.facts
            .calls
            .iter()
            .filter(move |c| c.path.as_deref().is_some_and(&pred))
    }

    /// True when the file's role makes code run without being called
    /// (install scripts, the package's `main`).
    #[must_use]
    pub fn unasked(&self) -> bool {
        self.file.role.runs_unasked()
    }

    /// True when the code at `node` runs as the file loads: anywhere in an
    /// install script; elsewhere at top level, in an IIFE, in a function
    /// called at load, or in a callback passed to a call made at load.
    /// Library functions the package's `main` only defines do not.
    #[must_use]
    pub fn runs_at_load(&self, node: u32) -> bool {
        let budget = std::cell::Cell::new(AT_LOAD_BUDGET);
        self.file.role == crate::FileRole::Install || self.at_load(node, 0, &budget)
    }

    fn at_load(&self, node: u32, depth: usize, budget: &std::cell::Cell<u32>) -> bool {
        let f = self.facts;
        // Bounded work: names called from many places, nested, must not
        // multiply into a search of the whole call graph.
        let left = budget.get();
        if depth > 6 || left == 0 {
            return false;
        }
        budget.set(left - 1);
        let mut func = f.parent(node);
        while func != facts::NONE && !facts::is_function(f.kind(func)) {
            func = f.parent(func);
        }
        if func == facts::NONE {
            return true;
        }
        let mut up = f.parent(func);
        while f.kind(up) == "parenthesized_expression" {
            up = f.parent(up);
        }
        match f.kind(up) {
            // `(() => { … })()`
            "call_expression" => self.at_load(up, depth + 1, budget),
            // `https.get(u, res => { … })` at load.
            "arguments" => self.at_load(f.parent(up), depth + 1, budget),
            _ => {
                let name = match f.kind(func) {
                    "function_declaration" | "generator_function_declaration" => {
                        f.text(f.field(func, "name"))
                    }
                    _ if f.kind(up) == "variable_declarator" => f.text(f.field(up, "name")),
                    _ => return false,
                };
                if name.is_empty() {
                    return false;
                }
                f.calls.iter().take(50_000).any(|c| {
                    c.method.is_none()
                        && f.text(f.field(c.node, "function")) == name
                        && !(f.nodes[func as usize].start <= f.nodes[c.node as usize].start
                            && f.nodes[c.node as usize].end <= f.nodes[func as usize].end)
                        && self.at_load(c.node, depth + 1, budget)
                })
            }
        }
    }

    /// `where`: line numbers of up to three nodes, for evidence.
    #[must_use]
    pub fn lines_of(&self, nodes: &[u32]) -> String {
        nodes
            .iter()
            .take(3)
            .map(|&n| self.facts.line_col(n).0.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Steps one [`Ctx::runs_at_load`] question may take.
const AT_LOAD_BUDGET: u32 = 64;

/// Network sinks of a file: calls whose arguments leave the machine, and
/// the argument nodes that do. `X.write(d)`/`X.end(d)`/`X.send(d)` count
/// when `X` came from a network call.
#[must_use]
pub fn network_sinks<'s>(f: &'s Facts<'_>) -> Vec<(&'s Call<'s>, u32)> {
    let mut out = Vec::new();
    for c in &f.calls {
        let p = c.path.as_deref().unwrap_or("");
        let is_sink = api::is_network(p)
            || api::is_dns(p)
            || (matches!(
                c.method,
                Some("write" | "end" | "send" | "connect" | "post" | "put")
            ) && c.receiver != facts::NONE
                && f.label(c.receiver) & facts::label::NET != 0);
        if is_sink {
            out.push((c, f.arg_labels(c)));
        }
    }
    out
}
