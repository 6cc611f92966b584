//! JS208 `destruction`: recursive deletion of the home or root folder.
//!
//! **What it detects.** `fs.rmSync`/`rm`/`rmdir` with `recursive`,
//! `fs-extra.remove`, `rimraf` or `del` of `os.homedir()`, `$HOME`,
//! `/`, `~`, `C:\`; and command lines such as `rm -rf ~`, `rm -rf /`,
//! `rd /s /q C:\`, `mkfs /dev/…`.
//!
//! **Why it matters.** Protestware and wipers: `node-ipc` (2022,
//! CVE-2022-23812) overwrote files on machines in chosen countries; the
//! Tencent seed lists 恶意关机 / destruction among observed payloads.
//! CWE-506, MITRE T1485.
//!
//! **Example.** `fs.rmSync(os.homedir(), { recursive: true, force: true })`
//!
//! **False positives.** Deleting a folder *under* home (a cache) does not
//! match: the target must be the home or root folder itself.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::{Facts, NONE};
use super::js202_download_exec::command_strings;
use super::{Ctx, api, shell};

pub(super) fn check(ctx: &Ctx<'_, '_>) -> Vec<Finding> {
    let f = ctx.facts;
    let mut out = Vec::new();
    for c in &f.calls {
        let path = c.path.as_deref().unwrap_or("");
        if api::is_remove(path) {
            let Some(&target) = c.args.first() else {
                continue;
            };
            let method = path.rsplit('.').next().unwrap_or(path);
            let always_recursive = matches!(
                method,
                "remove"
                    | "removeSync"
                    | "emptyDir"
                    | "emptyDirSync"
                    | "rimraf"
                    | "sync"
                    | "rimrafSync"
                    | "del"
                    | "deleteSync"
            );
            let recursive = always_recursive
                || c.args
                    .get(1)
                    .is_some_and(|&o| f.text(o).contains("recursive"));
            if recursive && let Some(what) = home_or_root(f, target, 0) {
                out.push(
                    ctx.finding(
                        c.node,
                        "JS208",
                        "destruction",
                        Severity::Critical,
                        Confidence::High,
                        format!("recursively deletes {what}"),
                    )
                    .evidence(format!("via: {path}")),
                );
            }
        } else if api::is_process(path)
            && let Some(cmd) = command_strings(ctx, c)
                .into_iter()
                .find_map(|s| shell::classify(&s).destroy)
        {
            out.push(
                ctx.finding(
                    c.node,
                    "JS208",
                    "destruction",
                    Severity::Critical,
                    Confidence::High,
                    "a command line deletes the home or root folder",
                )
                .evidence(format!("command: {cmd}")),
            );
        }
    }
    out.truncate(3);
    out
}

/// The home or root folder itself, not a path under it.
fn home_or_root(f: &Facts<'_>, i: u32, depth: usize) -> Option<&'static str> {
    if depth > 4 || i == NONE {
        return None;
    }
    if let Some(c) = f.call_at(i) {
        return (c.path.as_deref() == Some("os.homedir")).then_some("the home folder");
    }
    match f.kind(i) {
        "member_expression" | "subscript_expression" => {
            let p = f.resolve_path(i, 0)?;
            matches!(p.as_str(), "process.env.HOME" | "process.env.USERPROFILE")
                .then_some("the home folder")
        }
        "identifier" => {
            let d = f.decl_of(i)?;
            if d.reassigned {
                return None;
            }
            home_or_root(f, d.init, depth + 1)
        }
        "string" | "template_string" => {
            let s = f.const_string(i, 0)?;
            match s.trim() {
                "~" | "~/" | "$HOME" | "${HOME}" | "/home" | "/home/" | "/Users" => {
                    Some("the home folder")
                }
                "/" | "/*" | "C:\\" | "C:/" | "/root" | "/etc" | "/usr" => Some("the root folder"),
                _ => None,
            }
        }
        _ => None,
    }
}
