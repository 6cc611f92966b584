//! PY118 `dropped-script`: code writes a script or program and starts it
//! in the background, or starts a second interpreter at import time.
//!
//! **What it detects.**
//! - A file opened for writing under a script or program name
//!   (`/tmp/.tmp.py`, `%TEMP%\svc.bat`, `x.vbs`, `x.exe`) and the same path
//!   started by a process call in the same file (`python3 /tmp/.tmp.py &`,
//!   `bash /tmp/x.sh`, `os.startfile(x)`), read through [`crate::shell`].
//! - Code that runs unasked (`__init__.py`, `setup.py`) starting another
//!   Python in the background on code of its own: `Popen(["python3", "-c",
//!   "from helper import run"])`, `os.system("pythonw deps.pyw")`; and
//!   module-level code of any module (it runs on import) starting a Python
//!   detached from the importer (`DETACHED_PROCESS`, `os.setpgrp`,
//!   `start_new_session=True`).
//!
//! **Why it matters.** Stagers hide their second stage from a reader of
//! the package and from the importing process: the `hexcolured` and
//! `pyfilget` families write a Python stage to `/tmp` and start it with
//! `&`; the `splib`/`secbg` family starts `python3 -c "from seccache
//! import …"` on import so the stealer outlives the import (MITRE T1059.006,
//! T1564).
//!
//! **Example.**
//! ```python
//! with open("/tmp/.tmp.py", "w") as f:
//!     f.write(STAGE)
//! subprocess.call("python3 /tmp/.tmp.py >/dev/null 2>&1 &", shell=True)
//! ```
//!
//! **False positives.** Build helpers write and run scripts in the
//! foreground (configure probes, code generators): a dropped script run in
//! the foreground from library code is medium; background, temp-folder
//! or unasked runs are high, and critical where the code runs unasked.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::{Call, Caps, Facts, is_proc_sink_name};
use super::{at_call, shell_line};

/// Rule name.
pub const NAME: &str = "dropped-script";

const SCRIPT_EXT: &[&str] = &[
    ".py", ".pyw", ".sh", ".bat", ".cmd", ".ps1", ".vbs", ".js", ".exe", ".scr", ".hta",
];

fn is_script_path(p: &str) -> bool {
    let l = p.trim().to_ascii_lowercase();
    l.len() < 260 && !l.contains('\n') && SCRIPT_EXT.iter().any(|e| l.ends_with(e))
}

fn in_temp(p: &str) -> bool {
    let l = p.to_ascii_lowercase().replace('\\', "/");
    l.starts_with("/tmp/")
        || l.starts_with("/var/tmp/")
        || l.starts_with("/dev/shm/")
        || l.contains("%temp%")
        || l.contains("appdata/local/temp")
}

/// Started without waiting: `Popen`, a trailing `&`, `nohup`, `start`,
/// `pythonw`, or detached creation flags.
fn in_background(c: &Call) -> bool {
    let cmd = shell_line(c);
    let t = cmd.trim_end();
    // A parent that pipes the child's output reads it and waits.
    let piped = ["stdout", "stderr"]
        .iter()
        .any(|k| c.kwarg(k).is_some_and(|v| v.contains("PIPE")));
    (c.target == "subprocess.Popen" && !piped)
        || c.target == "os.startfile"
        || (t.ends_with('&') && !t.ends_with("&&"))
        || t.contains("nohup ")
        || t.to_ascii_lowercase().starts_with("start ")
        || t.to_ascii_lowercase().contains("pythonw")
        || c.kwarg("creationflags")
            .is_some_and(|v| v.contains("DETACHED"))
        || c.kwarg("start_new_session").is_some_and(|v| v == "True")
}

/// Check one file.
#[must_use]
pub fn check(f: &Facts<'_>) -> Vec<Finding> {
    let role = f.file.role;
    let procs: Vec<&Call> = f
        .calls
        .iter()
        .filter(|c| c.caps.has(Caps::PROC) || is_proc_sink_name(&c.target))
        .collect();
    if procs.is_empty() {
        return Vec::new();
    }
    // Paths opened for writing under a script or program name.
    let written: Vec<&str> = f
        .calls
        .iter()
        .filter(|c| matches!(c.target.as_str(), "open" | "io.open" | "codecs.open"))
        .filter(|c| {
            c.strings
                .iter()
                .skip(1)
                .any(|m| m.contains('w') || m.contains('a'))
                || c.kwarg("mode")
                    .is_some_and(|m| m.contains('w') || m.contains('a'))
        })
        .filter_map(|c| c.strings.first().map(String::as_str))
        .filter(|p| is_script_path(p))
        .collect();
    // Only real process starts: a local helper's arguments are not a
    // command line.
    for r in procs.iter().filter(|r| is_proc_sink_name(&r.target)) {
        let sh = crate::shell::analyse(&shell_line(r));
        let started = written.iter().find(|p| {
            sh.runs_path(p) || (r.target == "os.startfile" && r.strings.iter().any(|s| s == *p))
        });
        let Some(path) = started else { continue };
        let bg = in_background(r);
        let sev = if role.runs_unasked() {
            Severity::Critical
        } else if bg || in_temp(path) {
            Severity::High
        } else {
            Severity::Medium
        };
        let mut fd = at_call(
            f,
            "PY118",
            NAME,
            sev,
            Confidence::High,
            "writes a script and starts it",
            r,
        )
        .evidence(format!("script: {path}"));
        if bg {
            fd = fd.evidence("started in the background");
        }
        return vec![fd];
    }
    // A second interpreter started in the background by code that runs
    // unasked, on code of the package's own — or, from any module, at
    // module level (it runs when the module is imported) and detached
    // from the importing process.
    for r in procs.iter().filter(|r| is_proc_sink_name(&r.target)) {
        let detached = r
            .kwarg("creationflags")
            .is_some_and(|v| v.contains("DETACHED"))
            || r.kwarg("preexec_fn")
                .is_some_and(|v| v.contains("setpgrp") || v.contains("setsid"))
            || r.kwarg("start_new_session").is_some_and(|v| v == "True");
        if !(role.runs_unasked() || (r.scope.is_none() && detached)) {
            continue;
        }
        let exe = r
            .strings
            .first()
            .and_then(|first| first.split_whitespace().next())
            .map(crate::shell::command_name)
            .unwrap_or_default();
        let python = exe.starts_with("python") || exe == "py" || r.text.contains("sys.executable");
        if !python || !in_background(r) {
            continue;
        }
        let line = shell_line(r);
        let imports_code =
            line.contains(" -c ") && (line.contains("import ") || line.contains("exec("));
        let own_script = r.strings.iter().any(|s| {
            let l = s.to_ascii_lowercase();
            l.ends_with(".py") || l.ends_with(".pyw")
        }) || line.to_ascii_lowercase().contains(".pyw")
            || (detached && r.npos > 0 && !r.text.contains("-m"));
        if !(imports_code || own_script) {
            continue;
        }
        return vec![
            at_call(
                f,
                "PY118",
                NAME,
                Severity::High,
                Confidence::Medium,
                if role.runs_unasked() {
                    "starts another Python in the background from code that runs unasked"
                } else {
                    "starts another Python detached from the importing process, at module level"
                },
                r,
            )
            .evidence(format!(
                "command: {}",
                line.chars().take(120).collect::<String>()
            )),
        ];
    }
    Vec::new()
}
