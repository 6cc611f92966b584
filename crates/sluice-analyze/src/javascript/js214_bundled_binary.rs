//! JS214 `bundled-binary-exec`: code that runs unasked starts a file the
//! package ships, and the file is a native executable.
//!
//! **What it detects.** Two parts, one rule:
//! - per file ([`check`]): a process start (`spawn`, `execFile`, `exec`,
//!   execa…) of a path inside the package — `'./bin/x.exe'`,
//!   `path.join(__dirname, 'lib', 'update')`, `` `${__dirname}/x` `` — not
//!   a script run by an interpreter. On its own this says little (Low in an
//!   install script or at load, Info in library code);
//! - with the file tree ([`link`], called by [`crate::analyze`]): when the
//!   started path is a file in the package whose bytes begin with ELF
//!   (`\x7fELF`), PE (`MZ`) or Mach-O magic, the finding rises; a binary
//!   disguised under a data or script extension (`.png`, `.txt`, `.js`)
//!   rises further. A lifecycle script (`preinstall`/`install`/
//!   `postinstall`) that starts a shipped native binary directly
//!   (`"postinstall": "./payload"`) is reported at package.json.
//!
//! **Why it matters.** A dropper that ships its payload inside the tarball
//! needs no network at install time: the install script only starts it.
//! Compiled payloads cannot be read by reviewers or by source rules
//! (MITRE T1204.002, T1027.009).
//!
//! **Example.**
//! ```js
//! // postinstall: node setup.js
//! require('child_process').spawn(path.join(__dirname, 'lib', 'update'), { detached: true });
//! ```
//!
//! **False positives.** Packages that bundle prebuilt tools (ripgrep,
//! 7-Zip, esbuild's platform packages) start them from library code: Low
//! there. Install scripts that run a bundled binary to check it works are
//! the look-alike: High with medium confidence, never Critical unless the
//! binary hides under a non-executable extension. Paths that resolve to
//! JavaScript or text files never rise.

use sluice_archive::FileTree;
use sluice_model::{Confidence, Finding, RuleCode, Severity};

use super::facts::{Call, Facts, NONE};
use super::{Ctx, api};
use crate::FileRole;
use crate::source::join_path;

/// Rule code.
pub const CODE: &str = "JS214";
/// Rule name.
pub const NAME: &str = "bundled-binary-exec";
/// Evidence prefix carrying the started path to [`link`].
const STARTS: &str = "starts the package's file ";

/// Interpreters and tools: `node x.js` runs JavaScript the rules read.
const TOOLS: [&str; 14] = [
    "node",
    "npm",
    "npx",
    "yarn",
    "pnpm",
    "sh",
    "bash",
    "cmd",
    "powershell",
    "python",
    "python3",
    "git",
    "make",
    "cmake",
];

/// Script and data extensions a process path would not normally have.
const SCRIPT_EXT: [&str; 8] = [".js", ".cjs", ".mjs", ".ts", ".py", ".sh", ".cmd", ".bat"];

/// The package path a process call starts: (`__dirname` or `cwd`, path).
fn started_path(f: &Facts<'_>, c: &Call<'_>) -> Option<(&'static str, String)> {
    let &a = c.args.first()?;
    let a = follow(f, a);
    // `path.join(__dirname, 'lib', 'update')`
    if let Some(inner) = f.call_at(a)
        && matches!(
            inner.path.as_deref(),
            Some("path.join" | "path.resolve" | "path.posix.join" | "path.win32.join")
        )
    {
        let first = *inner.args.first()?;
        if f.text(first) != "__dirname" {
            return None;
        }
        let rest: Option<Vec<String>> = inner.args[1..]
            .iter()
            .map(|&x| f.const_string(follow(f, x), 0).filter(|s| !s.contains('…')))
            .collect();
        return Some(("__dirname", rest?.join("/")));
    }
    let s = f.const_string(a, 0)?;
    let shell = api::is_shell_exec(c.path.as_deref().unwrap_or(""));
    // `__dirname + '/bin/x'`, `${__dirname}/bin/x`
    if let Some(rest) = s.strip_prefix('…') {
        if !f.text(a).contains("__dirname")
            && !f
                .decl_of(a)
                .is_some_and(|d| f.text(d.init).contains("__dirname"))
        {
            return None;
        }
        let rest = if shell {
            rest.split_whitespace().next().unwrap_or("")
        } else {
            rest
        };
        let rest = rest.trim_matches(['"', '\'']);
        return (!rest.contains('…') && !rest.is_empty()).then(|| ("__dirname", rest.to_owned()));
    }
    let word = if shell {
        s.split_whitespace().next()?.to_owned()
    } else {
        s
    };
    let word = word.trim_matches(['"', '\'']);
    if word.contains('…') {
        return None;
    }
    let relative = word.starts_with("./") || word.starts_with("../") || word.starts_with(".\\");
    relative.then(|| ("cwd", word.to_owned()))
}

fn follow(f: &Facts<'_>, a: u32) -> u32 {
    if f.kind(a) == "identifier"
        && let Some(d) = f.decl_of(a)
        && d.init != NONE
        && !d.reassigned
    {
        return d.init;
    }
    a
}

fn is_candidate(p: &str) -> bool {
    let l = p.to_ascii_lowercase();
    let base = l.rsplit(['/', '\\']).next().unwrap_or(&l);
    let stem = base.strip_suffix(".exe").unwrap_or(base);
    !base.is_empty() && !TOOLS.contains(&stem) && !SCRIPT_EXT.iter().any(|e| base.ends_with(e))
}

pub(super) fn check(ctx: &Ctx<'_, '_>) -> Vec<Finding> {
    let f = ctx.facts;
    let mut out = Vec::new();
    for c in ctx.calls_where(api::is_process) {
        let Some((base, rel)) = started_path(f, c) else {
            continue;
        };
        if !is_candidate(&rel) {
            continue;
        }
        let (sev, conf) = if ctx.unasked() && ctx.runs_at_load(c.node) {
            (Severity::Low, Confidence::Low)
        } else {
            (Severity::Info, Confidence::Low)
        };
        out.push(
            ctx.finding(
                c.node,
                CODE,
                NAME,
                sev,
                conf,
                "starts a program shipped inside the package",
            )
            .evidence(format!("{STARTS}{base}:{rel}")),
        );
        if out.len() >= 4 {
            break;
        }
    }
    out
}

/// What kind of native executable `data` is, from its magic bytes.
#[must_use]
pub fn native_kind(data: &[u8]) -> Option<&'static str> {
    match data {
        [0x7f, b'E', b'L', b'F', ..] => Some("ELF"),
        [b'M', b'Z', ..] if data.len() >= 64 => Some("PE (Windows)"),
        [0xfe, 0xed, 0xfa, 0xce | 0xcf, ..] | [0xce | 0xcf, 0xfa, 0xed, 0xfe, ..] => Some("Mach-O"),
        _ => None,
    }
}

/// An extension that says "not a program".
fn disguised(path: &str) -> bool {
    let l = path.to_ascii_lowercase();
    let base = l.rsplit('/').next().unwrap_or(&l);
    [
        ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".txt", ".md", ".json", ".dat", ".db",
        ".css", ".html", ".woff", ".woff2", ".ttf", ".map", ".log", ".js", ".cjs", ".mjs", ".ts",
    ]
    .iter()
    .any(|e| base.ends_with(e))
}

fn dir_of(p: &str) -> &str {
    p.rsplit_once('/').map_or("", |(d, _)| d)
}

/// The native executable in `tree` a path names, with `.exe` tried too.
fn lookup(tree: &FileTree, path: &str) -> Option<(String, &'static str)> {
    for cand in [path.to_owned(), format!("{path}.exe")] {
        if let Some(e) = tree.get(&cand)
            && let Some(k) = native_kind(&e.data)
        {
            return Some((cand, k));
        }
    }
    None
}

/// The folder holding the package's package.json ("" or "package").
fn package_root(tree: &FileTree) -> String {
    tree.files
        .iter()
        .filter(|e| e.path == "package.json" || e.path.ends_with("/package.json"))
        .map(|e| dir_of(&e.path).to_owned())
        .min_by_key(|d| d.matches('/').count() + usize::from(!d.is_empty()))
        .unwrap_or_default()
}

/// With the file tree: raise the per-file JS214 findings whose started path
/// is a shipped native executable, and report lifecycle scripts that start
/// one directly. `hooks` are the package's lifecycle scripts by name.
pub fn link(
    findings: &mut Vec<Finding>,
    tree: &FileTree,
    hooks: &std::collections::BTreeMap<String, String>,
    role_of: impl Fn(&str) -> FileRole,
) {
    let root = package_root(tree);
    for fi in findings.iter_mut().filter(|f| f.rule.as_str() == CODE) {
        let Some(file) = fi.file.clone() else {
            continue;
        };
        let Some((base, rel)) = fi
            .evidence
            .iter()
            .find_map(|e| e.strip_prefix(STARTS))
            .and_then(|e| e.split_once(':'))
            .map(|(b, r)| (b.to_owned(), r.to_owned()))
        else {
            continue;
        };
        let dirs = if base == "__dirname" {
            vec![dir_of(&file).to_owned()]
        } else {
            vec![root.clone(), dir_of(&file).to_owned()]
        };
        let Some((path, kind)) = dirs
            .iter()
            .filter_map(|d| join_path(d, &rel))
            .find_map(|p| lookup(tree, &p))
        else {
            continue;
        };
        let hidden = disguised(&path);
        let role = role_of(&file);
        let (sev, conf) = match (role.runs_unasked() && fi.severity >= Severity::Low, hidden) {
            (true, true) => (Severity::Critical, Confidence::High),
            (true, false) if role == FileRole::Install => (Severity::High, Confidence::Medium),
            (true, false) => (Severity::Medium, Confidence::Medium),
            (false, true) => (Severity::High, Confidence::Medium),
            (false, false) => (Severity::Low, Confidence::Medium),
        };
        fi.severity = sev;
        fi.confidence = conf;
        fi.message = format!("starts a {kind} executable shipped inside the package");
        fi.evidence.push(format!("{path} is a {kind} executable"));
        if hidden {
            fi.evidence
                .push("its file name says it is not a program".to_owned());
        }
    }
    // `"postinstall": "./payload --quiet"`
    for (name, cmd) in hooks {
        if !matches!(name.as_str(), "preinstall" | "install" | "postinstall") {
            continue;
        }
        for seg in cmd.split(['&', ';', '|']) {
            let toks: Vec<&str> = seg
                .split_whitespace()
                .skip_while(|t| t.contains('=') && !t.starts_with('-'))
                .collect();
            let Some(first) = toks.first().map(|t| t.trim_matches(['"', '\''])) else {
                continue;
            };
            let Some((path, kind)) = join_path(&root, first).and_then(|p| lookup(tree, &p)) else {
                continue;
            };
            let hidden = disguised(&path);
            let mut fi = Finding::new(
                RuleCode::new(CODE),
                NAME,
                if hidden {
                    Severity::Critical
                } else {
                    Severity::High
                },
                if hidden {
                    Confidence::High
                } else {
                    Confidence::Medium
                },
                format!(
                    "the `{name}` script starts a {kind} executable shipped inside the package"
                ),
            )
            .at(&join_path(&root, "package.json").unwrap_or_default(), 0, 0)
            .excerpt(cmd)
            .evidence(format!("{path} is a {kind} executable"))
            .install_time(true);
            if hidden {
                fi = fi.evidence("its file name says it is not a program");
            }
            findings.push(fi);
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic() {
        assert_eq!(native_kind(b"\x7fELF\x02\x01"), Some("ELF"));
        assert_eq!(native_kind(&[0xcf, 0xfa, 0xed, 0xfe, 7]), Some("Mach-O"));
        assert_eq!(native_kind(b"MZ"), None);
        assert_eq!(native_kind(b"#!/usr/bin/env node"), None);
        assert_eq!(
            join_path("package/lib", "../bin/x").as_deref(),
            Some("package/bin/x")
        );
        assert_eq!(join_path("", "./payload").as_deref(), Some("payload"));
        assert!(!is_candidate("scripts/build.js"));
        assert!(!is_candidate("node"));
        assert!(is_candidate("bin/update"));
    }
}
