//! PY111 `silent-process`: a process started with every output hidden.
//!
//! **What it detects.** `subprocess` launches with stdout *and* stderr
//! sent to `DEVNULL`, Windows `CREATE_NO_WINDOW`/`DETACHED_PROCESS`
//! creation flags, or shell commands backgrounded with `nohup … &` /
//! `start /b`, `pythonw`.
//!
//! **Why it matters.** Droppers hide the process they start so the user
//! sees nothing during `pip install` (GuardDog `silent-process-execution`,
//! MITRE T1564.003).
//!
//! **False positives.** Many tools silence a probe (`git --version`).
//! Low severity: it only counts beside another signal in the same file.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::{Facts, is_proc_sink_name};
use super::{at_call, by_role, command_of};

/// Rule name.
pub const NAME: &str = "silent-process";

/// Check one file.
#[must_use]
pub fn check(f: &Facts<'_>) -> Vec<Finding> {
    let role = f.file.role;
    for c in f.calls.iter().filter(|c| is_proc_sink_name(&c.target)) {
        let quiet = |k: &str| {
            c.kwarg(k)
                .is_some_and(|v| v.contains("DEVNULL") || v.contains("devnull"))
        };
        let hidden_flags = c.kwarg("creationflags").is_some_and(|v| {
            v.contains("CREATE_NO_WINDOW")
                || v.contains("DETACHED_PROCESS")
                || v.contains("0x08000000")
                || v.contains("0x00000008")
        });
        let cmd = command_of(c);
        let bg = (cmd.contains("nohup ") && cmd.trim_end().ends_with('&'))
            || cmd.contains("start /b")
            || cmd.starts_with("pythonw");
        if (quiet("stdout") && quiet("stderr")) || hidden_flags || bg {
            return vec![at_call(
                f,
                "PY111",
                NAME,
                by_role(role, Severity::Medium, Severity::Low),
                Confidence::Medium,
                "starts a process with its output hidden",
                c,
            )];
        }
    }
    Vec::new()
}
