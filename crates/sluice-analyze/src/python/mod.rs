//! Python rules (`PY1xx`), on tree-sitter-python syntax trees.
//!
//! Each file is parsed once (tree-sitter tolerates Python 2 and broken
//! code), [`facts`] extracts imports, calls, string constants and the
//! labels of the data flowing between them, and every rule reads those
//! facts. One rule per file; the table is [`RULES`].
//!
//! | code | name | what |
//! | --- | --- | --- |
//! | PY101 | recon-exfiltration | host/user identity gathered and sent out |
//! | PY102 | download-execute | fetched data or a downloaded file executed |
//! | PY103 | credential-theft | SSH/GPG keys, cloud/registry tokens, browser stores read (and sent) |
//! | PY104 | decode-execute | decoded/obfuscated data fed to exec/eval/compile/a shell |
//! | PY105 | encoded-blob | long high-entropy base64/hex literal (decoded and classified) |
//! | PY106 | reverse-shell | socket wired to a shell, `/dev/tcp`, `nc -e` |
//! | PY107 | persistence | shell rc, cron, systemd, Run keys, startup folders, `.pth` writes |
//! | PY108 | destruction | `rm -rf /`, rmtree of home/root, shutdown/reboot |
//! | PY109 | pth-code | `.pth` import lines that run more than an import |
//! | PY110 | install-time-activity | network or process activity in setup.py / cmdclass |
//! | PY111 | silent-process | a process started with every output hidden / detached |
//! | PY112 | api-obfuscation | exec/system/network reached through getattr/`__import__`/`__builtins__` |
//! | PY113 | data-exfiltration | local files, command output, screenshots sent out unasked or to a chat/paste service |
//! | PY114 | packed-code | PyArmor stubs, obfuscator output that executes what it hides |
//! | PY115 | runtime-install | the package's code runs `pip install` / `npm install` itself |
//! | PY116 | credential-store-targets | a target list of browser, Discord, wallet and cloud credential stores |
//! | PY117 | cryptominer | a miner started: miner binary, pool URL, wallet argument |
//! | PY118 | dropped-script | a script the code wrote itself, started in the background or at import |

pub mod facts;
pub mod payload;

mod api_obfuscation;
mod credential_targets;
mod cryptominer;
mod data_exfil;
mod decode_exec;
mod destruction;
mod download_exec;
mod dropped_script;
mod encoded_blob;
mod install_activity;
mod packed_code;
mod persistence;
mod pth_code;
mod recon_exfil;
mod reverse_shell;
mod runtime_install;
mod secret_theft;
mod silent_process;

use sluice_model::{Confidence, Finding, RuleCode, Severity};

use crate::{FileRole, SourceFile};
use facts::{Call, Facts};

/// A rule: its code, its name, and its check.
pub struct Rule {
    /// Stable code (`PY101`).
    pub code: &'static str,
    /// Kebab-case name.
    pub name: &'static str,
    /// The check.
    pub check: fn(&Facts<'_>) -> Vec<Finding>,
}

/// Every Python rule, in code order.
pub const RULES: &[Rule] = &[
    Rule {
        code: "PY101",
        name: recon_exfil::NAME,
        check: recon_exfil::check,
    },
    Rule {
        code: "PY102",
        name: download_exec::NAME,
        check: download_exec::check,
    },
    Rule {
        code: "PY103",
        name: secret_theft::NAME,
        check: secret_theft::check,
    },
    Rule {
        code: "PY104",
        name: decode_exec::NAME,
        check: decode_exec::check,
    },
    Rule {
        code: "PY105",
        name: encoded_blob::NAME,
        check: encoded_blob::check,
    },
    Rule {
        code: "PY106",
        name: reverse_shell::NAME,
        check: reverse_shell::check,
    },
    Rule {
        code: "PY107",
        name: persistence::NAME,
        check: persistence::check,
    },
    Rule {
        code: "PY108",
        name: destruction::NAME,
        check: destruction::check,
    },
    Rule {
        code: "PY109",
        name: pth_code::NAME,
        check: pth_code::check,
    },
    Rule {
        code: "PY110",
        name: install_activity::NAME,
        check: install_activity::check,
    },
    Rule {
        code: "PY111",
        name: silent_process::NAME,
        check: silent_process::check,
    },
    Rule {
        code: "PY112",
        name: api_obfuscation::NAME,
        check: api_obfuscation::check,
    },
    Rule {
        code: "PY113",
        name: data_exfil::NAME,
        check: data_exfil::check,
    },
    Rule {
        code: "PY114",
        name: packed_code::NAME,
        check: packed_code::check,
    },
    Rule {
        code: "PY115",
        name: runtime_install::NAME,
        check: runtime_install::check,
    },
    Rule {
        code: "PY116",
        name: credential_targets::NAME,
        check: credential_targets::check,
    },
    Rule {
        code: "PY117",
        name: cryptominer::NAME,
        check: cryptominer::check,
    },
    Rule {
        code: "PY118",
        name: dropped_script::NAME,
        check: dropped_script::check,
    },
];

/// How deep decoded payloads are re-analysed.
const MAX_NESTING: u8 = 2;

/// Parse a file; `None` when the parser gives up (it rarely does).
#[must_use]
pub fn parse(text: &str) -> Option<tree_sitter::Tree> {
    thread_local! {
        // One parser per thread: large packages hold thousands of small
        // files, and a parser's buffers are worth keeping between them.
        static PARSER: std::cell::RefCell<Option<tree_sitter::Parser>> =
            const { std::cell::RefCell::new(None) };
    }
    PARSER.with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        if slot.is_none() {
            let mut p = tree_sitter::Parser::new();
            p.set_language(&tree_sitter_python::LANGUAGE.into()).ok()?;
            *slot = Some(p);
        }
        // tree-sitter parses in linear time and recovers from any input.
        slot.as_mut()?.parse(text, None)
    })
}

/// Run every Python rule over one file.
#[must_use]
pub fn check(file: &SourceFile<'_>) -> Vec<Finding> {
    check_nested(file, 0)
}

/// Run the rules, at a nesting depth (decoded payloads are depth > 0).
fn check_nested(file: &SourceFile<'_>, depth: u8) -> Vec<Finding> {
    // Python folds identifiers to NFKC: `𝘦𝘹𝘦𝘤` *is* `exec`. Judge the file
    // as Python reads it.
    let folded = packed_code::fold_identifiers(file.text);
    let file = match &folded {
        Some((text, _, _)) => &SourceFile {
            path: file.path,
            text,
            role: file.role,
        },
        None => file,
    };
    let Some(tree) = parse(file.text) else {
        return Vec::new();
    };
    let facts = facts::extract(*file, &tree);
    let mut out = Vec::new();
    if let Some((_, n, line)) = &folded {
        out.extend(packed_code::folded_names_finding(&facts, *n, *line));
    }
    for rule in RULES {
        out.extend((rule.check)(&facts));
    }
    if depth < MAX_NESTING {
        out.extend(payload::nested_findings(&facts, depth));
    }
    if file.role == FileRole::Install && depth == 0 {
        let blocks = maintainer_blocks(file.text);
        if !blocks.is_empty() {
            out.retain(|f| {
                !(MAINTAINER_ACTIVITY.contains(&f.rule.as_str())
                    && f.line
                        .is_some_and(|l| blocks.iter().any(|(a, b)| (*a..=*b).contains(&l))))
            });
        }
    }
    out
}

/// Build and publish activity a maintainer's branch of `setup.py` may run.
const MAINTAINER_ACTIVITY: &[&str] = &["PY110", "PY111", "PY115"];

/// Line ranges of `setup.py` branches that only a maintainer's own command
/// reaches: `if sys.argv[-1] == "publish":`, `if "upload" in sys.argv:`.
/// `pip install` never passes those words, so the build and upload
/// commands inside (`pip install twine`, `twine upload`, `git tag`) are not
/// install-time activity. Anything else in the branch is still judged.
fn maintainer_blocks(text: &str) -> Vec<(u32, u32)> {
    const WORDS: &[&str] = &["publish", "upload", "release", "tag", "bump", "dist"];
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        if !(t.starts_with("if ") || t.starts_with("elif ")) || !t.contains("sys.argv") {
            continue;
        }
        let quoted = |w: &str| t.contains(&format!("\"{w}\"")) || t.contains(&format!("'{w}'"));
        if !WORDS.iter().any(|w| quoted(w)) || t.contains("install") {
            continue;
        }
        let own = indent(l);
        let mut end = i;
        for (j, m) in lines.iter().enumerate().skip(i + 1) {
            if m.trim().is_empty() || m.trim_start().starts_with('#') {
                continue;
            }
            if indent(m) <= own {
                break;
            }
            end = j;
        }
        #[allow(clippy::cast_possible_truncation)]
        out.push(((i + 1) as u32, (end + 1) as u32));
    }
    out
}

/// Run the rules over a decoded payload as if it sat in `file`.
pub(crate) fn check_payload(file: &SourceFile<'_>, depth: u8) -> Vec<Finding> {
    check_nested(file, depth + 1)
}

/// A finding for a rule at a call.
pub(crate) fn at_call(
    facts: &Facts<'_>,
    code: &'static str,
    name: &str,
    sev: Severity,
    conf: Confidence,
    msg: impl Into<String>,
    call: &Call,
) -> Finding {
    Finding::new(RuleCode::new(code), name, sev, conf, msg)
        .at(facts.file.path, call.line, call.col)
        .excerpt(&call.text)
        .install_time(facts.file.role.runs_unasked())
}

/// A finding for a rule at a line.
#[allow(clippy::too_many_arguments)]
pub(crate) fn at_line(
    facts: &Facts<'_>,
    code: &'static str,
    name: &str,
    sev: Severity,
    conf: Confidence,
    msg: impl Into<String>,
    line: u32,
    col: u32,
    excerpt: &str,
) -> Finding {
    Finding::new(RuleCode::new(code), name, sev, conf, msg)
        .at(facts.file.path, line, col)
        .excerpt(excerpt)
        .install_time(facts.file.role.runs_unasked())
}

/// Pick a severity by the file's role: code that runs unasked (install,
/// import) gets `unasked`, the rest `other`.
pub(crate) fn by_role(role: FileRole, unasked: Severity, other: Severity) -> Severity {
    if role.runs_unasked() { unasked } else { other }
}

/// URLs and IP:port literals among strings, for evidence.
pub(crate) fn urls_in<'s>(strings: impl IntoIterator<Item = &'s String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in strings {
        let l = s.to_ascii_lowercase();
        if l.contains("http://") || l.contains("https://") || l.contains("ftp://") {
            let v: String = s.chars().take(120).collect();
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

/// The shell/exec command a process call runs, lower-cased.
pub(crate) fn command_of(c: &Call) -> String {
    c.cmdline().to_ascii_lowercase()
}

/// The command line a process call runs, with list arguments quoted so
/// that `["bash", "-c", "a; b"]` reads as the shell would run it.
pub(crate) fn shell_line(c: &Call) -> String {
    if c.strings.len() <= 1 {
        return c.cmdline();
    }
    c.strings
        .iter()
        .map(|s| {
            if !s.contains(char::is_whitespace) && !s.is_empty() {
                s.clone()
            } else if !s.contains('\'') {
                format!("'{s}'")
            } else {
                format!("\"{}\"", s.replace('"', "\\\""))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_table_is_ordered_and_unique() {
        let codes: Vec<&str> = RULES.iter().map(|r| r.code).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
    }

    #[test]
    fn hostile_shapes_stay_within_the_stack() {
        // Each once overflowed a 2 MiB thread stack or grew quadratically.
        let chain = format!("x = a{}\n", ".m(q)".repeat(5000));
        let nest = format!("x = {}1{}\n", "f(".repeat(3000), ")".repeat(3000));
        let concat = format!("x = {}\nos.system(x)\n", vec!["'ab'"; 5000].join(" + "));
        let grow: String = (0..1000)
            .map(|i| format!("v{} = v{i} + '{}'\n", i + 1, "z".repeat(64)))
            .collect();
        let pats = format!("{} = 1\n", "(".repeat(500) + "a" + &")".repeat(500));
        for src in [chain, nest, concat, grow, pats] {
            let f = SourceFile {
                path: "setup.py",
                text: &src,
                role: FileRole::Install,
            };
            let _ = check(&f);
        }
    }

    #[test]
    fn broken_and_python2_code_does_not_panic() {
        for src in [
            "print 'x'\nexec code in ns\n",
            "def (:\n  ))))\n",
            "\u{0}\u{1}",
            &"(".repeat(5000),
            &format!("x = {}1{}", "[".repeat(3000), "]".repeat(3000)),
        ] {
            let f = SourceFile {
                path: "a.py",
                text: src,
                role: FileRole::Install,
            };
            let _ = check(&f);
        }
    }
}
