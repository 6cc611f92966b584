//! JS204 `decode-execute`: decoded data run as code.
//!
//! **What it detects.** The result of `atob`, `Buffer.from(x, 'base64' |
//! 'hex')`, `String.fromCharCode`, `unescape`, `decodeURIComponent`,
//! `zlib` inflation or a decipher reaching `eval`, `Function`,
//! `vm.runIn*Context`, `vm.Script`, `Module._compile`, a shell
//! `child_process.exec`, or `require`/`exec` of a file that decoded data
//! was just written to.
//!
//! **Why it matters.** Hiding the payload from reviewers and scanners is
//! the point: GuardDog's `npm-exec-base64` and the 2018 `event-stream`
//! (`flatmap-stream`) payload decoded and evaluated an encrypted blob.
//! CWE-506, MITRE T1027 + T1059.007.
//!
//! **Example.**
//! ```js
//! eval(Buffer.from('Y29uc29sZS5sb2coMSk=', 'base64').toString());
//! ```
//!
//! **False positives.** Rare: bundlers `eval` source with source maps but
//! never decode it first. Dean Edwards' packer (`eval(function(p,a,c,k,e,d)
//! {…})`) survives in old jQuery plugins and Sphinx themes, so that form is
//! Medium in library code and High only where code runs unasked. `new Function` over `decodeURIComponent` output
//! in templating code would match; none seen in the top npm packages.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::label;
use super::{Ctx, api};

pub(super) fn check(ctx: &Ctx<'_, '_>) -> Vec<Finding> {
    let f = ctx.facts;
    let sev = if ctx.unasked() {
        Severity::Critical
    } else {
        Severity::High
    };
    let mut out = Vec::new();
    for c in &f.calls {
        let path = c.path.as_deref().unwrap_or("");
        let runs = api::is_eval(c)
            || api::is_process(path)
            || (path == "require" && c.args.first().is_some_and(|&a| f.string_value(a).is_none()));
        // For processes only the command counts (a decoded URL passed as an
        // argument to `open` is not code), except `node -e <decoded>`.
        let decoded = if api::is_process(path) {
            let arg = |k: usize| c.args.get(k).map_or(0, |&a| f.label(a));
            let node = c.args.first().is_some_and(|&a| {
                let t = f.text(a);
                t.contains("node") || t.contains("execPath")
            });
            arg(0) & label::DECODED != 0 || (node && arg(1) & label::DECODED != 0)
        } else {
            f.arg_labels(c) & label::DECODED != 0
        };
        if runs && decoded && f.arg_labels(c) & label::NET == 0 {
            // Strong when the argument *is* a decode (or a constant bound to
            // one, or an array holding one: `['-e', atob(…)]`); a longer
            // label flow is weaker, since labels spread in minified code.
            let direct = c.args.iter().take(2).any(|&a| {
                direct_decode(f, a, 0)
                    || (f.kind(a) == "array" && f.children(a).any(|x| direct_decode(f, x, 0)))
            });
            let (sev, conf) = if direct {
                (sev, Confidence::High)
            } else {
                (Severity::Medium, Confidence::Low)
            };
            out.push(
                ctx.finding(
                    c.node,
                    "JS204",
                    "decode-execute",
                    sev,
                    conf,
                    "decoded data is executed as code",
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
        }
    }
    // `global[atob('ZXZhbA==')](x)`: a function chosen by a decoded name.
    // The index must *be* a decode (or a constant holding one): labels
    // spread too far through minified code to be trusted here.
    for c in &f.calls {
        let callee = f.field(c.node, if c.is_new { "constructor" } else { "function" });
        if f.kind(callee) == "subscript_expression" && direct_decode(f, f.field(callee, "index"), 0)
        {
            out.push(
                ctx.finding(
                    c.node,
                    "JS204",
                    "decode-execute",
                    sev,
                    Confidence::High,
                    "a function whose name is decoded at run time is called",
                )
                .evidence(format!(
                    "callee: {}",
                    f.text(callee).chars().take(120).collect::<String>()
                )),
            );
        }
    }
    // `eval(function(p,a,c,k,e,d){…}(…))`: a packer's self-decoding function.
    for c in f.calls.iter().filter(|c| api::is_eval(c)) {
        let Some(&a) = c.args.first() else { continue };
        if f.kind(a) != "call_expression" {
            continue;
        }
        let callee = f.field(a, "function");
        let callee = if f.kind(callee) == "parenthesized_expression" {
            f.children(callee).next().unwrap_or(callee)
        } else {
            callee
        };
        if matches!(f.kind(callee), "function_expression" | "arrow_function") {
            out.push(
                ctx.finding(
                    c.node,
                    "JS204",
                    "decode-execute",
                    // Old jQuery plugins still ship Dean Edwards' packer:
                    // worth a look where it runs unasked, weak elsewhere.
                    if ctx.unasked() {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    Confidence::Medium,
                    "the result of a self-decoding function is executed as code",
                )
                .evidence("eval of an immediately invoked function (packer style)"),
            );
        }
    }
    // Decoded data written to a file that is then required or run.
    for w in f
        .calls
        .iter()
        .filter(|c| c.path.as_deref().is_some_and(api::is_fs_write))
    {
        let (Some(&target), Some(&data)) = (w.args.first(), w.args.get(1)) else {
            continue;
        };
        if f.label(data) & label::DECODED == 0 {
            continue;
        }
        let t = f.text(target);
        if let Some(run) = f.calls.iter().find(|c| {
            let p = c.path.as_deref().unwrap_or("");
            (p == "require" || api::is_process(p))
                && c.args.first().is_some_and(|&a| {
                    f.text(a) == t || f.text(a).contains(t) && f.string_value(a).is_none()
                })
        }) {
            out.push(
                ctx.finding(
                    run.node,
                    "JS204",
                    "decode-execute",
                    sev,
                    Confidence::High,
                    "decoded data is written to a file that is then loaded or run",
                )
                .evidence(format!("written at line {}", f.line_col(w.node).0)),
            );
        }
    }
    out.truncate(8);
    out
}

/// `atob(…)`, `Buffer.from(…, 'base64')(.toString())`,
/// `String.fromCharCode(…)`, `unescape(…)`, or a constant bound to one.
fn direct_decode(f: &super::facts::Facts<'_>, i: u32, depth: usize) -> bool {
    if depth > 3 {
        return false;
    }
    match f.kind(i) {
        "parenthesized_expression" => f
            .children(i)
            .next()
            .is_some_and(|c| direct_decode(f, c, depth + 1)),
        "identifier" => f.decl_of(i).is_some_and(|d| {
            !d.reassigned && d.init != super::facts::NONE && direct_decode(f, d.init, depth + 1)
        }),
        "call_expression" => {
            let Some(c) = f.call_at(i) else { return false };
            let p = c.path.as_deref().unwrap_or("");
            if matches!(p, "atob" | "unescape" | "String.fromCharCode")
                || p.starts_with("String.fromCharCode.")
            {
                return true;
            }
            if matches!(p, "Buffer.from" | "Buffer") {
                return api::call_labels(f, c) & label::DECODED != 0;
            }
            c.method == Some("toString")
                && c.receiver != super::facts::NONE
                && direct_decode(f, c.receiver, depth + 1)
        }
        _ => false,
    }
}
