//! PY109 `pth-code`: executable lines in `.pth` files.
//!
//! **What it detects.** Lines of a `.pth` file that start with `import`:
//! Python's `site` module executes them at *every* interpreter start, for
//! every program, once the package is installed. Lines that only import
//! or call a shim are low; lines that decode, execute, spawn processes or
//! touch the network are high.
//!
//! **Why it matters.** A `.pth` payload runs without the package ever
//! being imported; it is a known persistence and install-time execution
//! trick (the 2024 `ultralytics`-style and many stealer packages; MITRE
//! T1546.018 "Python startup hooks").
//!
//! **Example.** `import os;exec(__import__('base64').b64decode('…'))`
//!
//! **False positives.** setuptools' `distutils-precedence.pth` and
//! coverage/editable-install hooks import a module and call one function:
//! reported as info, never decisive.

use sluice_model::{Confidence, Finding, Severity};

use super::at_line;
use super::facts::Facts;

/// Rule name.
pub const NAME: &str = "pth-code";

// `exec` of a readable constant is how coverage's hook is written; what
// matters is decoding, the network and processes.
const DANGEROUS: &[&str] = &[
    "b64decode",
    "base64",
    "marshal",
    "zlib",
    "urlopen",
    "urllib",
    "requests",
    "socket",
    "subprocess",
    "os.system",
    "popen",
    "http",
    "codecs.decode",
    "fromhex",
    "chr(",
];

/// Check one file.
#[must_use]
pub fn check(f: &Facts<'_>) -> Vec<Finding> {
    if !f.file.path.to_ascii_lowercase().ends_with(".pth") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, line) in f.file.text.lines().enumerate() {
        let t = line.trim_start();
        if !(t.starts_with("import ") || t.starts_with("import\t")) {
            continue;
        }
        let lno = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let hits: Vec<&str> = DANGEROUS
            .iter()
            .copied()
            .filter(|d| t.contains(d))
            .collect();
        let fd = if hits.is_empty() {
            // `import x` alone or a single shim call.
            if !t.contains(';') && !t.contains('(') {
                continue;
            }
            at_line(
                f,
                "PY109",
                NAME,
                if t.contains("exec(") || t.contains("eval(") {
                    Severity::Low
                } else {
                    Severity::Info
                },
                Confidence::Medium,
                "`.pth` line runs code at every interpreter start",
                lno,
                1,
                t,
            )
        } else {
            at_line(
                f,
                "PY109",
                NAME,
                Severity::High,
                Confidence::High,
                "`.pth` line decodes, executes or reaches out at every interpreter start",
                lno,
                1,
                t,
            )
            .evidence(format!("uses: {}", hits.join(", ")))
        };
        out.push(fd.install_time(true));
        if out.len() >= 3 {
            break;
        }
    }
    out
}
