//! PY108 `destruction`: wiping files or stopping the machine.
//!
//! **What it detects.** `shutil.rmtree`/`os.removedirs` of `/`, `~`, the
//! home directory or a drive root; shell commands `rm -rf /`, `rm -rf ~`,
//! `rm -rf /*`, `mkfs`, `dd of=/dev/sd…`, `format c:`, `del /s /q c:\`,
//! fork bombs; `shutdown`, `reboot`, `halt`, `poweroff`, `init 0`.
//!
//! **Why it matters.** Protestware and vandal packages wipe or shut down
//! developer machines (node-ipc 2022; Tencent's report of "恶意关机"
//! packages on PyPI). CWE-1188-style damage with no recovery.
//!
//! **Example.** `os.system("shutdown -h now")`, `shutil.rmtree(os.path.expanduser("~"))`
//!
//! **False positives.** System-administration tools may offer a reboot; in
//! library code this is high/medium rather than critical.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::{Facts, is_proc_sink_name};
use super::{at_call, by_role, command_of};

/// Rule name.
pub const NAME: &str = "destruction";

fn destructive_command(cmd: &str) -> Option<&'static str> {
    let toks: Vec<&str> = cmd
        .split(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == '|')
        .filter(|t| !t.is_empty())
        .collect();
    for w in toks.windows(3) {
        if w[0] == "rm"
            && w[1].starts_with('-')
            && w[1].contains('r')
            && matches!(
                w[2],
                "/" | "/*" | "~" | "~/" | "~/*" | "$home" | "${home}" | "/home" | "/root"
            )
        {
            return Some("recursive delete of a root or home folder");
        }
    }
    if toks
        .first()
        .is_some_and(|t| matches!(*t, "shutdown" | "reboot" | "halt" | "poweroff"))
        || toks.windows(2).any(|w| {
            matches!(w[0], "sudo" | "&&")
                && matches!(w[1], "shutdown" | "reboot" | "halt" | "poweroff")
        })
        || cmd.contains("init 0")
        || cmd.contains("shutdown /s")
        || cmd.contains("shutdown -s")
        || cmd.contains("shutdown /r")
    {
        return Some("shutdown or reboot");
    }
    if cmd.contains("mkfs")
        || (cmd.contains("dd ") && cmd.contains("of=/dev/sd"))
        || cmd.contains("format c:")
        || (cmd.contains("del ") && cmd.contains("/s") && cmd.contains("c:\\"))
        || cmd.contains(":(){ :|:& };:")
    {
        return Some("disk wipe");
    }
    None
}

fn root_or_home(s: &str) -> bool {
    let t = s.trim().trim_end_matches('/');
    matches!(
        t,
        "" | "~" | "$HOME" | "/home" | "/root" | "C:" | "c:" | "C:\\" | "c:\\" | "/Users"
    ) && !s.is_empty()
}

/// Check one file.
#[must_use]
pub fn check(f: &Facts<'_>) -> Vec<Finding> {
    let role = f.file.role;
    let sev = by_role(role, Severity::Critical, Severity::High);
    for c in &f.calls {
        if is_proc_sink_name(&c.target)
            && let Some(what) = destructive_command(&command_of(c))
        {
            return vec![at_call(
                f,
                "PY108",
                NAME,
                sev,
                Confidence::High,
                format!("runs a destructive command ({what})"),
                c,
            )];
        }
        if matches!(c.target.as_str(), "shutil.rmtree" | "os.removedirs") {
            let home = c.text.contains("expanduser(\"~\")")
                || c.text.contains("expanduser('~')")
                || c.text.contains("Path.home()")
                || c.text.contains("environ[\"HOME\"]")
                || c.text.contains("environ['HOME']");
            if home || (c.npos >= 1 && c.strings.first().is_some_and(|s| root_or_home(s))) {
                return vec![at_call(
                    f,
                    "PY108",
                    NAME,
                    sev,
                    Confidence::High,
                    "deletes the home folder or the file-system root",
                    c,
                )];
            }
        }
    }
    Vec::new()
}
