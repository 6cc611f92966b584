//! PY112 `api-obfuscation`: dangerous functions reached indirectly.
//!
//! **What it detects.** `exec`, `eval`, `os.system`, `subprocess`, or a
//! network call reached through `getattr(module, "na"+"me")`,
//! `__import__("o"+"s").system`, `importlib.import_module(…)`,
//! `__builtins__.__dict__["exec"]` or `globals()["eval"]` — names built
//! from constants so a text search misses them.
//!
//! **Why it matters.** Plain code calls `os.system` directly; spelling it
//! indirectly serves only to defeat scanners (GuardDog `api-obfuscation`,
//! CWE-506).
//!
//! **Example.** `getattr(__import__("o"+"s"), "sys"+"tem")("id")`
//!
//! **False positives.** Compatibility shims that pick `exec` from
//! `builtins` on Python 2/3 (`six`-style `exec_ = getattr(builtins, "exec")`):
//! medium alone; high only where the file runs unasked.

use sluice_model::{Confidence, Finding, Severity};

use super::facts::{Caps, Facts, is_code_sink_name, is_proc_sink_name};
use super::{at_call, by_role};

/// Rule name.
pub const NAME: &str = "api-obfuscation";

/// Check one file.
#[must_use]
pub fn check(f: &Facts<'_>) -> Vec<Finding> {
    let role = f.file.role;
    for c in f.calls.iter().filter(|c| c.indirect) {
        let dangerous = is_proc_sink_name(&c.target)
            || matches!(c.target.as_str(), "exec" | "eval" | "compile" | "execfile")
            || c.caps.has(Caps::NET);
        if !dangerous || (is_code_sink_name(&c.target) && c.npos == 0) {
            continue;
        }
        return vec![at_call(
            f,
            "PY112",
            NAME,
            by_role(role, Severity::High, Severity::Medium),
            Confidence::High,
            format!(
                "reaches `{}` indirectly, hiding the call from text search",
                c.target
            ),
            c,
        )];
    }
    Vec::new()
}
